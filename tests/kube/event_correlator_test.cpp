// Event aggregation, de-duplication and spam filtering
// (client-go tools/record/events_cache.go) with a fake clock.
#include "kube/event_correlator.h"

#include "kube/clock.h"
#include "kube/time_format.h"

#include <gtest/gtest.h>

namespace remedy::kube {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

json makeEvent(const FakeClock& clock, const std::string& reason, const std::string& message,
               const std::string& object = "web") {
  std::string now = formatRfc3339(clock.wallNow());
  return {{"metadata", {{"name", object + ".abc"}, {"namespace", "default"}}},
          {"involvedObject",
           {{"kind", "Deployment"},
            {"namespace", "default"},
            {"name", object},
            {"uid", "u-1"},
            {"apiVersion", "apps/v1"}}},
          {"reason", reason},
          {"message", message},
          {"type", "Normal"},
          {"source", {{"component", "ctl"}, {"host", "h"}}},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1}};
}

// What the server would store: the event with a resourceVersion.
json written(json e, int rv) {
  e["metadata"]["resourceVersion"] = std::to_string(rv);
  return e;
}

TEST(EventCorrelator, IdenticalEventsPatchCountAndLastTimestamp) {
  FakeClock clock;
  EventCorrelator c(clock);
  auto first = c.correlate(makeEvent(clock, "Scaled", "scaled to 3"));
  ASSERT_FALSE(first.skip);
  EXPECT_TRUE(first.patch.is_null());
  c.updateState(written(first.event, 10));
  clock.step(seconds(5));
  auto second = c.correlate(makeEvent(clock, "Scaled", "scaled to 3"));
  ASSERT_FALSE(second.skip);
  ASSERT_FALSE(second.patch.is_null());
  EXPECT_EQ(second.patch["count"], 2);
  EXPECT_EQ(second.patch["lastTimestamp"], formatRfc3339(clock.wallNow()));
  EXPECT_EQ(second.event["metadata"]["name"], first.event["metadata"]["name"]);
  EXPECT_EQ(second.event["firstTimestamp"], first.event["firstTimestamp"]);
  c.updateState(written(second.event, 11));
  auto third = c.correlate(makeEvent(clock, "Scaled", "scaled to 3"));
  EXPECT_EQ(third.patch["count"], 3);
}

TEST(EventCorrelator, TenSimilarMessagesWithinTenMinutesAreCombined) {
  FakeClock clock;
  EventCorrelator c(clock);
  for (int i = 0; i < 9; ++i) {
    auto r = c.correlate(makeEvent(clock, "Failed", "attempt " + std::to_string(i)));
    ASSERT_FALSE(r.skip);
    EXPECT_TRUE(r.patch.is_null()) << i;
    c.updateState(written(r.event, i));
  }
  auto tenth = c.correlate(makeEvent(clock, "Failed", "attempt 9"));
  EXPECT_EQ(tenth.event["message"], "(combined from similar events): attempt 9");
  EXPECT_TRUE(tenth.patch.is_null());
  c.updateState(written(tenth.event, 100));
  auto eleventh = c.correlate(makeEvent(clock, "Failed", "attempt 10"));
  EXPECT_EQ(eleventh.event["message"], "(combined from similar events): attempt 10");
  ASSERT_FALSE(eleventh.patch.is_null());
  EXPECT_EQ(eleventh.patch["count"], 2);
  EXPECT_EQ(eleventh.event["metadata"]["name"], tenth.event["metadata"]["name"]);
}

TEST(EventCorrelator, AggregationWindowExpires) {
  FakeClock clock;
  EventCorrelator c(clock);
  for (int i = 0; i < 9; ++i) c.correlate(makeEvent(clock, "Failed", "m" + std::to_string(i)));
  clock.step(minutes(11));
  auto r = c.correlate(makeEvent(clock, "Failed", "m9"));
  EXPECT_EQ(r.event["message"], "m9");
}

TEST(EventCorrelator, SpamFilterAllows25ThenOnePerFiveMinutes) {
  FakeClock clock;
  EventCorrelator c(clock);
  int accepted = 0;
  for (int i = 0; i < 40; ++i) {
    // Alternate reasons so aggregation does not hide the count.
    auto r = c.correlate(makeEvent(clock, "R" + std::to_string(i), "same"));
    if (!r.skip) ++accepted;
  }
  EXPECT_EQ(accepted, 25);
  EXPECT_TRUE(c.correlate(makeEvent(clock, "X", "x")).skip);
  clock.step(minutes(5));
  EXPECT_FALSE(c.correlate(makeEvent(clock, "Y", "y")).skip);
  EXPECT_TRUE(c.correlate(makeEvent(clock, "Z", "z")).skip);
  // Another object has its own budget.
  EXPECT_FALSE(c.correlate(makeEvent(clock, "X", "x", "other")).skip);
}

}  // namespace
}  // namespace remedy::kube
