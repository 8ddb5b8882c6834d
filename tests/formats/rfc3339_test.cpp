// metav1.Time text; the expectations are Go 1.26's time.Parse(time.RFC3339).
#include "formats/rfc3339.h"

#include <gtest/gtest.h>

namespace remedy::formats {
namespace {

WallTime at(int64_t seconds, int64_t nanos = 0) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(seconds) +
                                                                 std::chrono::nanoseconds(nanos)));
}

TEST(Rfc3339, RoundTripsMetav1TimeAndMicroTime) {
  WallTime t = at(1700000000) + std::chrono::microseconds(123456);
  EXPECT_EQ(formatRfc3339(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(formatRfc3339Micro(t), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(*parseRfc3339("2023-11-14T22:13:20.123456Z"), t);
  EXPECT_EQ(*parseRfc3339("2023-11-14T23:13:20+01:00"), at(1700000000));
}

TEST(Rfc3339, FormatsAnyTimeInUtcWithoutTimeZoneFiles) {
  EXPECT_EQ(formatRfc3339(at(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(at(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(formatRfc3339Micro(at(-1, 500000000)), "1969-12-31T23:59:59.500000Z");
  EXPECT_EQ(formatRfc3339(at(951782400)), "2000-02-29T00:00:00Z");
  EXPECT_EQ(formatRfc3339(at(7258118399)), "2199-12-31T23:59:59Z");
}

TEST(Rfc3339, ParsesAsTimeParseDoes) {
  EXPECT_EQ(parseRfc3339("2024-05-01T12:00:00Z"), at(1714564800));
  EXPECT_EQ(parseRfc3339("2024-02-29T00:00:00Z"), at(1709164800));
  EXPECT_EQ(parseRfc3339("2024-05-01T12:00:00+01:30"), at(1714559400));
  // Nanoseconds; digits beyond them are dropped.
  EXPECT_EQ(parseRfc3339("2024-05-01T12:00:00.123456789123Z"), at(1714564800, 123456789));
  EXPECT_EQ(parseRfc3339("1700-01-01T00:00:00Z"), at(-8520336000));
  // Beyond what a WallTime holds (Go's zero time among them): refused, not wrapped.
  EXPECT_FALSE(parseRfc3339("0001-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(parseRfc3339("9999-12-31T23:59:59Z").has_value());
}

TEST(Rfc3339, RefusesWhatTimeParseRefuses) {
  for (const char* bad :
       {"soon", "2023-11-14T22:13:20", "2023-11-14T22:13:20Zjunk", "2024-05-01t12:00:00Z",
        "2024-05-01T12:00:00z", "2023-02-29T00:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01T12:00:00.Z", "2024-5-1T12:00:00Z", "2024-05-01 12:00:00Z",
        "2024-13-01T00:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:00+01"}) {
    EXPECT_FALSE(parseRfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace remedy::formats
