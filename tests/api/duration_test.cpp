#include "api/duration.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, ReadsEveryUnitAndCombination) {
  EXPECT_EQ(parseDuration("30s").value(), seconds(30));
  EXPECT_EQ(parseDuration("5m").value(), minutes(5));
  EXPECT_EQ(parseDuration("1h30m").value(), minutes(90));
  EXPECT_EQ(parseDuration("250ms").value(), milliseconds(250));
  EXPECT_EQ(parseDuration("1h2m3s4ms").value(),
            hours(1) + minutes(2) + seconds(3) + milliseconds(4));
  EXPECT_EQ(parseDuration("0s").value(), milliseconds(0));
}

TEST(ParseDuration, ReadsFractions) {
  EXPECT_EQ(parseDuration("1.5h").value(), minutes(90));
  EXPECT_EQ(parseDuration("0.1s").value(), milliseconds(100));
  EXPECT_EQ(parseDuration("2.5m").value(), seconds(150));
}

TEST(ParseDuration, RefusesWhatKubernetesWouldNotRead) {
  for (const char* bad : {"", "5", "5 m", "5min", "m", "-5m", "1d", "1h 30m", "1.h", ".5h", "5M",
                          "1e3s", "5m ", "1y"}) {
    Result<Duration> d = parseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
  }
}

TEST(ParseDuration, ErrorQuotesTheInputAndShowsExamples) {
  Result<Duration> d = parseDuration("5 min");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), "\"5 min\" is not a duration such as \"30s\", \"5m\" or \"1h30m\"");
}

TEST(ParseDuration, RefusesAbsurdlyLongDurations) {
  EXPECT_FALSE(parseDuration("1000000000h").ok());
  EXPECT_TRUE(parseDuration("8760h").ok());
}

TEST(FormatDuration, PrintsTheShortestFormThatParsesBack) {
  EXPECT_EQ(formatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(formatDuration(seconds(45)), "45s");
  EXPECT_EQ(formatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  for (const char* text : {"1h30m", "45s", "2h", "1m1s", "3s500ms"}) {
    EXPECT_EQ(formatDuration(parseDuration(text).value()), text);
  }
}

}  // namespace
}  // namespace remedy::api
