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

TEST(OperatorMetrics, RateLimiterWaitIsAHistogramByBudgetAndVerb) {
  OperatorMetrics metrics(std::make_shared<prometheus::Registry>());
  metrics.rateLimiterWait("engine", "GET", std::chrono::milliseconds(250));
  metrics.rateLimiterWait("events", "POST", std::chrono::milliseconds(500));
  std::string text = metrics.scrape();
  EXPECT_THAT(text, HasSubstr("remedy_kube_client_rate_limiter_duration_seconds_count{budget="
                              "\"engine\",verb=\"GET\"} 1"));
  EXPECT_THAT(text, HasSubstr("remedy_kube_client_rate_limiter_duration_seconds_sum{budget="
                              "\"engine\",verb=\"GET\"} 0.25"));
  EXPECT_THAT(text, HasSubstr("remedy_kube_client_rate_limiter_duration_seconds_sum{budget="
                              "\"events\",verb=\"POST\"} 0.5"));
}

TEST(OperatorMetrics, ApiRequestsAreCountedByBudget) {
  OperatorMetrics metrics(std::make_shared<prometheus::Registry>());
  metrics.apiRequest("intake", "POST", 201, std::chrono::milliseconds(5));
  metrics.apiRequest("engine", "GET", 200, std::chrono::milliseconds(5));
  metrics.apiRequest("engine", "GET", 200, std::chrono::milliseconds(5));
  std::string text = metrics.scrape();
  EXPECT_THAT(text, HasSubstr("remedy_kube_client_requests_total{budget=\"intake\",code=\"201\","
                              "verb=\"POST\"} 1"));
  EXPECT_THAT(text, HasSubstr("remedy_kube_client_requests_total{budget=\"engine\",code=\"200\","
                              "verb=\"GET\"} 2"));
}

}  // namespace
}  // namespace remedy::op
