// API errors decoded from metav1.Status, and the predicates callers branch on.
#include "kube/status.h"

#include <gtest/gtest.h>

namespace remedy::kube {
namespace {

TEST(Status, DecodesMetav1StatusWithCauses) {
  std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1",
    "reason":"Invalid","code":422,
    "details":{"name":"web","group":"apps","kind":"Deployment",
      "causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1","field":"spec.replicas"}]}})";
  Status s = Status::fromHttp(422, body);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), 422);
  EXPECT_TRUE(isInvalid(s));
  ASSERT_EQ(s.causes().size(), 1u);
  EXPECT_EQ(s.causes()[0].field, "spec.replicas");
  EXPECT_TRUE(hasStatusCause(s, "FieldValueInvalid"));
}

TEST(Status, PredicatesFollowTheReason) {
  EXPECT_TRUE(
      isNotFound(Status::fromHttp(404, R"({"kind":"Status","reason":"NotFound","code":404})")));
  EXPECT_TRUE(
      isConflict(Status::fromHttp(409, R"({"kind":"Status","reason":"Conflict","code":409})")));
  EXPECT_TRUE(isAlreadyExists(
      Status::fromHttp(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})")));
  EXPECT_FALSE(isConflict(
      Status::fromHttp(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})")));
  Status expired = Status::fromHttp(410, R"({"kind":"Status","reason":"Expired","code":410})");
  EXPECT_TRUE(isResourceExpired(expired));
  EXPECT_TRUE(isExpired(expired));
  EXPECT_TRUE(isGone(Status::fromHttp(410, "")));
  EXPECT_TRUE(isForbidden(Status::fromHttp(403, "forbidden")));
  EXPECT_TRUE(isUnauthorized(Status::fromHttp(401, "")));
  EXPECT_TRUE(isInternalError(Status::fromHttp(500, "boom")));
  EXPECT_TRUE(isServiceUnavailable(Status::fromHttp(503, "")));
  EXPECT_TRUE(isTimeout(Status::fromHttp(504, "")));
  EXPECT_TRUE(isUnsupportedMediaType(Status::fromHttp(415, "")));
  EXPECT_TRUE(isMethodNotSupported(Status::fromHttp(405, "")));
  EXPECT_TRUE(isBadRequest(Status::fromHttp(400, "")));
  EXPECT_FALSE(isNotFound(Status()));
}

TEST(Status, TooManyRequestsCarriesRetryAfter) {
  Status s = Status::fromHttp(
      429,
      R"({"kind":"Status","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}})");
  EXPECT_TRUE(isTooManyRequests(s));
  int seconds = 0;
  EXPECT_TRUE(suggestsClientDelay(s, &seconds));
  EXPECT_EQ(seconds, 3);
  Status header = Status::fromHttp(503, "busy", 7);
  EXPECT_EQ(header.retryAfterSeconds(), 7);
}

TEST(Status, NonStatusBodyGetsAGenericReasonForTheCode) {
  Status s = Status::fromHttp(404, "<html>not here</html>");
  EXPECT_TRUE(isNotFound(s));
  EXPECT_EQ(s.message(), "<html>not here</html>");
  Status unknown = Status::fromHttp(418, "");
  EXPECT_EQ(unknown.reason(), reason::kUnknown);
  EXPECT_EQ(unknown.code(), 418);
}

TEST(Status, WatchErrorEventObject) {
  Status s = Status::fromStatusObject(
      json{{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}});
  EXPECT_TRUE(isExpired(s));
  EXPECT_EQ(s.toString(), "Expired (410): too old");
}

TEST(Status, ConnectionFailuresAreNotApiErrors) {
  Status s = Status::connectionFailed("connection refused");
  EXPECT_TRUE(isConnectionFailed(s));
  EXPECT_EQ(s.code(), 0);
  EXPECT_FALSE(isNotFound(s));
}

TEST(Result, HoldsAValueOrAStatus) {
  Result<int> good = 3;
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad = Status::fromHttp(404, "");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(isNotFound(bad.status()));
}

}  // namespace
}  // namespace remedy::kube
