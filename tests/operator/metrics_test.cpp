// OperatorMetrics' gauges per namespace and Runbook: set at scrape time from
// the engine, and removed when their Runbook has nothing to report, so the
// series follow Runbooks and never pile up.
#include "metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace remedy::op {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(OperatorMetrics, RunbookGaugesFollowTheEngineAndDisappearWithTheirRunbook) {
  OperatorMetrics metrics(std::make_shared<prometheus::Registry>());
  OperatorMetrics::RunbookGaugeMap gauges;
  gauges[{"shop", "db-pool"}] = {2, 754.5, 0};
  gauges[{"payments", "restart"}] = {0, 0, 1};
  metrics.setRunbookGauges([&] { return gauges; });
  std::string text = metrics.scrape();
  EXPECT_THAT(text,
              HasSubstr("remedy_approvals_waiting{namespace=\"shop\",runbook=\"db-pool\"} 2"));
  EXPECT_THAT(
      text, HasSubstr("remedy_approval_oldest_wait_seconds{namespace=\"shop\",runbook=\"db-pool\"} "
                      "754.5"));
  EXPECT_THAT(
      text,
      HasSubstr("remedy_incidents_past_timeout{namespace=\"payments\",runbook=\"restart\"} 1"));

  gauges.erase({"shop", "db-pool"});
  text = metrics.scrape();
  EXPECT_THAT(text, Not(HasSubstr("runbook=\"db-pool\"")));
  EXPECT_THAT(text, HasSubstr("runbook=\"restart\""));
}

TEST(OperatorMetrics, RateLimiterWaitIsAHistogramByVerb) {
  OperatorMetrics metrics(std::make_shared<prometheus::Registry>());
  metrics.rateLimiterWait("GET", std::chrono::milliseconds(250));
  std::string text = metrics.scrape();
  EXPECT_THAT(text,
              HasSubstr("remedy_kube_client_rate_limiter_duration_seconds_count{verb=\"GET\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("remedy_kube_client_rate_limiter_duration_seconds_sum{verb=\"GET\"} 0.25"));
}

}  // namespace
}  // namespace remedy::op
