// remedy-operator when the API server sheds load, as API Priority and
// Fairness does (the sandbox's fault injection answers 429 with
// Retry-After): a burst of throttled answers is waited out as Retry-After
// says and the Incident completes; the answers are counted by budget and
// logged once per burst; a Retry-After beyond a request's deadline fails
// that request at once, saying so, and the work queue's retry completes the
// Incident.
#include "operator_fixture.h"

namespace remedy::testing {
namespace {

const char* kScaleRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: scale-web
spec:
  triggers:
    - alertName: WebSaturated
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: web}
        replicas: "+1"
        maxReplicas: 5
)";

int linesWith(const std::string& log, const std::vector<std::string>& parts) {
  std::istringstream in(log);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    bool all = std::all_of(parts.begin(), parts.end(),
                           [&](const std::string& p) { return line.find(p) != std::string::npos; });
    if (all) ++n;
  }
  return n;
}

class ThrottlingTest : public OperatorE2ETest {};

TEST_F(ThrottlingTest, A429BurstIsWaitedOutAndTheIncidentCompletes) {
  createDeployment("web", 1);
  applyRunbook(kScaleRunbook);
  OperatorProcess& op = startOperator();
  // The next six status writes (only the engine writes a status) are
  // refused, each asking for one second.
  sandbox_->faults().failNextEndingWith(6, 429, "/status", 1);
  fire(op, "WebSaturated", "a1b2c3d4e5f60718");
  std::string name = awaitIncident("WebSaturated");
  ASSERT_FALSE(name.empty()) << allLogs();
  json incident = awaitFinal(name);
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();
  EXPECT_EQ(deployment("web")["spec"].value("replicas", 0), 2);

  std::string metrics = op.metrics();
  EXPECT_EQ(metricValue(metrics, "remedy_kube_client_throttled_total",
                        {{"budget", "engine"}, {"reason", "TooManyRequests"}})
                .value_or(0),
            6.0)
      << metrics;
  // Each throttled write waited the second its Retry-After asked for.
  EXPECT_EQ(
      metricValue(metrics, "remedy_kube_client_retry_after_seconds_total", {{"budget", "engine"}})
          .value_or(0),
      6.0)
      << metrics;
  // Six answers in a row are one burst: logged once, not once each.
  EXPECT_EQ(linesWith(op.log(), {"event=api-throttled", "budget=engine"}), 1) << op.log();
  EXPECT_EQ(linesWith(op.log(), {"event=api-throttled"}), 1) << op.log();
}

TEST_F(ThrottlingTest, ARetryAfterBeyondTheDeadlineFailsTheRequestAtOnceSayingSo) {
  createDeployment("web", 1);
  applyRunbook(kScaleRunbook);
  OperatorProcess& op = startOperator();
  // Two minutes: beyond the engine's 30 s deadline for a request.
  sandbox_->faults().failNextEndingWith(1, 429, "/status", 120);
  fire(op, "WebSaturated", "0f1e2d3c4b5a6978");
  std::string name = awaitIncident("WebSaturated");
  ASSERT_FALSE(name.empty()) << allLogs();
  json incident = awaitFinal(name);
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();

  std::string metrics = op.metrics();
  EXPECT_EQ(metricValue(metrics, "remedy_kube_client_throttled_total",
                        {{"budget", "engine"}, {"reason", "TooManyRequests"}})
                .value_or(0),
            1.0)
      << metrics;
  // Nothing waited for it: the write failed at once and the work queue
  // retried the reconcile.
  EXPECT_EQ(
      metricValue(metrics, "remedy_kube_client_retry_after_seconds_total", {{"budget", "engine"}})
          .value_or(-1),
      0.0)
      << metrics;
  // The write that got it failed with an error that says why.
  EXPECT_GE(linesWith(op.log(), {"the API server asked the engine client to retry after 120s "
                                 "(Retry-After), beyond this request's deadline (",
                                 " left of 30.0s); not retried"}),
            1)
      << op.log();
}

}  // namespace
}  // namespace remedy::testing
