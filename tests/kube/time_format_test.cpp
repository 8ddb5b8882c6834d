#include "kube/time_format.h"

#include <gtest/gtest.h>

namespace remedy::kube {
namespace {

TEST(TimeFormat, RoundTripsMetav1TimeAndMicroTime) {
  WallTime t = WallTime(std::chrono::seconds(1700000000)) + std::chrono::microseconds(123456);
  EXPECT_EQ(formatRfc3339(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(formatRfc3339Micro(t), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(*parseRfc3339("2023-11-14T22:13:20.123456Z"), t);
  EXPECT_EQ(*parseRfc3339("2023-11-14T23:13:20+01:00"), WallTime(std::chrono::seconds(1700000000)));
}

TEST(TimeFormat, RejectsGarbage) {
  EXPECT_FALSE(parseRfc3339("soon").has_value());
  EXPECT_FALSE(parseRfc3339("2023-11-14T22:13:20").has_value());
  EXPECT_FALSE(parseRfc3339("2023-11-14T22:13:20Zjunk").has_value());
}

}  // namespace
}  // namespace remedy::kube
