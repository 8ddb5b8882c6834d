#include "admission/admission_review.h"

#include <gtest/gtest.h>

#include <string>

namespace remedy::admission {
namespace {

std::string review(const std::string& object) {
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{)"
         R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002",)"
         R"("kind":{"group":"remedy.dev","version":"v1alpha1","kind":"Approval"},)"
         R"("resource":{"group":"remedy.dev","version":"v1alpha1","resource":"approvals"},)"
         R"("name":"a","namespace":"shop","operation":"CREATE",)"
         R"("userInfo":{"username":"alice","groups":["sre"]},"object":)" +
         object + "}}";
}

TEST(AdmissionReview, AReviewIsRead) {
  auto parsed = parseAdmissionReview(review(R"({"spec":{"decision":"Approve"}})"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->userInfo.username, "alice");
  EXPECT_EQ(parsed->object["spec"]["decision"], "Approve");
}

// The webhook's port takes a body from whoever connects before anything
// says who sent it; a hostile nesting is refused before it is parsed.
TEST(AdmissionReview, ABodyNestedPastTheLimitIsRefusedBeforeItIsParsed) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto parsed = parseAdmissionReview(review(R"({"spec":)" + deep + "}"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), 400);
  EXPECT_EQ(parsed.status().message(),
            "the body is not an AdmissionReview: arrays and objects nested more than 1000 levels "
            "deep");
}

}  // namespace
}  // namespace remedy::admission
