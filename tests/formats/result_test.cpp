#include "formats/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace remedy::formats {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error{"spec.replicas: " + std::to_string(n) + " is odd"};
  return n / 2;
}

struct Refusal {
  int code;
};

TEST(Result, HoldsAValueOrAMessage) {
  Result<int> ok = half(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  Result<int> odd = half(3);
  ASSERT_FALSE(odd);
  const std::string& message = odd.error();
  EXPECT_EQ(message, "spec.replicas: 3 is odd");
}

TEST(Result, CarriesAnyErrorTypeAndMovesItsValue) {
  Result<std::unique_ptr<int>, Refusal> value = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(value).value();
  EXPECT_EQ(*taken, 7);
  Result<std::string, Refusal> refused = Refusal{409};
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 409);
  Result<std::string, Refusal> text = std::string("x");
  EXPECT_EQ(text->size(), 1u);
}

}  // namespace
}  // namespace remedy::formats
