// Engine::incidentGauges: what remedy-operator exports per namespace and
// Runbook about Incidents that wait for people or have run too long.
#include "engine/engine.h"
#include "engine_fixture.h"
#include "kube/time_format.h"

namespace remedy::engine::testing {
namespace {

class IncidentGaugesTest : public EngineTest {};

TEST_F(IncidentGaugesTest, CountsApprovalsWaitingSinceWhenAndIncidentsPastTheirTimeouts) {
  createDeployment("web", 1);
  createRunbook("gated", R"(
triggers: [{alertName: Gated}]
steps:
  - name: up
    approval: Required
    scale: {target: {name: web}, replicas: "+1"}
approval:
  timeout: 20m
)");
  createRunbook("slow", R"(
triggers: [{alertName: Slow}]
steps:
  - name: wait-gate
    waitFor:
      target: {kind: ConfigMap, name: gate}
      field: {path: .data.open, value: "true"}
    timeout: 1m
    retries: {limit: 1}
)");
  auto r = newReconciler();
  createIncident("g1", "Gated", {});
  ASSERT_TRUE(driveToPhase("g1", "AwaitingApproval", r.get()));
  clock_.step(std::chrono::seconds(30));
  createIncident("g2", "Gated", {});
  ASSERT_TRUE(driveToPhase("g2", "AwaitingApproval", r.get()));
  createIncident("s", "Slow", {});
  ASSERT_TRUE(drive(
      namespace_ + "/s", [&] { return stepOf("s", "wait-gate").value("phase", "") == "Running"; },
      r.get()));
  kube::WallTime slowStarted = *kube::parseRfc3339(incident("s")["status"].value("startedAt", ""));

  EngineOptions options;
  options.incident.pauseNamespace = namespace_;
  options.sweepInterval = std::chrono::hours(1);
  Engine engine(*client_, *serviceAccounts_, *registry_, clock_, nullptr, options);
  ASSERT_TRUE(engine.start().ok());
  // Two attempts of 1m each: within the budget at 1m59s, past it at 2m01s.
  auto within = engine.incidentGauges(slowStarted + std::chrono::seconds(119));
  auto past = engine.incidentGauges(slowStarted + std::chrono::seconds(121));
  engine.stop();

  auto gated = within[{namespace_, "gated"}];
  ASSERT_EQ(within.size(), 2u);
  EXPECT_EQ(gated.awaitingApproval, 2);
  ASSERT_TRUE(gated.oldestApprovalSince.has_value());
  std::string g1Since;
  const json g1 = incident("g1");
  for (const auto& c : g1["status"]["conditions"]) {
    if (c.value("type", "") == "AwaitingApproval") g1Since = c.value("lastTransitionTime", "");
  }
  EXPECT_EQ(kube::formatRfc3339(*gated.oldestApprovalSince), g1Since);
  EXPECT_EQ(gated.pastTimeout, 0);
  auto slowWithin = within[{namespace_, "slow"}];
  auto slowPast = past[{namespace_, "slow"}];
  EXPECT_EQ(slowWithin.pastTimeout, 0);
  EXPECT_EQ(slowWithin.awaitingApproval, 0);
  EXPECT_EQ(slowPast.pastTimeout, 1);
  EXPECT_EQ(within.size(), 2u);  // one entry per Runbook, never per Incident
}

}  // namespace
}  // namespace remedy::engine::testing
