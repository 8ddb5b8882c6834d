// Scale's recorded change and its revert, and waitForResolved.
#include "actions/kubernetes_actions.h"
#include "kube/time_format.h"

#include "kubernetes_fixture.h"

namespace remedy::actions {
namespace {

using testing::eventually;
using testing::KubernetesActionTest;

class ScaleRevertTest : public KubernetesActionTest {
 protected:
  ActionOutcome scaleTo(ScaleAction& scale, const json& params, ActionContext& c) {
    auto prepared = scale.prepare(params, c);
    EXPECT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
    c.baseline = prepared.outputs;
    return scale.run(params, c);
  }

  int replicas(const std::string& name) { return deployment(name)["spec"].value("replicas", -1); }
};

TEST_F(ScaleRevertTest, RecordsTheChangeAndRevertRestoresTheReplicas) {
  createDeployment("web", 2);
  ScaleAction scale;
  auto c = context();
  json params = {{"target", {{"name", "web"}}}, {"replicas", "+3"}};
  auto outcome = scaleTo(scale, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.changedFrom, json({{"replicas", 2}}));
  EXPECT_EQ(outcome.changedTo, json({{"replicas", 5}}));
  ASSERT_EQ(replicas("web"), 5);
  // Let the simulator write status meanwhile: the revert must not trip on
  // resourceVersions the controller moves.
  ASSERT_TRUE(
      eventually([&] { return deployment("web")["status"].value("readyReplicas", 0) == 5; }));

  auto reverted = scale.revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_EQ(replicas("web"), 2);
  auto again = scale.revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(again.kind, RevertKind::kReverted) << again.message;
  EXPECT_EQ(replicas("web"), 2);
}

TEST_F(ScaleRevertTest, RevertIsRefusedWhenSomeoneRescaledSince) {
  createDeployment("web", 2);
  ScaleAction scale;
  auto c = context();
  json params = {{"target", {{"name", "web"}}}, {"replicas", 4}};
  auto outcome = scaleTo(scale, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  auto human = newClient();
  ASSERT_TRUE(human
                  ->patch(kube::resources::deployments(), namespace_, "web",
                          json({{"spec", {{"replicas", 7}}}}).dump())
                  .ok());
  auto reverted = scale.revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kRefused) << reverted.message;
  EXPECT_NE(reverted.message.find("7 replicas, not the 4"), std::string::npos) << reverted.message;
  EXPECT_EQ(replicas("web"), 7);
}

TEST_F(ScaleRevertTest, ARescaleBetweenTheRevertsReadAndWriteWins) {
  createDeployment("web", 2);
  ScaleAction scale;
  auto c = context();
  json params = {{"target", {{"name", "web"}}}, {"replicas", 4}};
  auto outcome = scaleTo(scale, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  auto human = newClient();
  testing::InterferingClient racing(
      *client_,
      [](const std::string& verb, const kube::PatchOptions& o) {
        return verb == "update" && o.subresource == "scale" && !o.dryRun;
      },
      [&] {
        ASSERT_TRUE(human
                        ->patch(kube::resources::deployments(), namespace_, "web",
                                json({{"spec", {{"replicas", 6}}}}).dump())
                        .ok());
      });
  auto rc = context();
  rc.client = &racing;
  auto reverted = scale.revert(params, outcome.changedFrom, outcome.changedTo, rc);
  EXPECT_EQ(racing.interferences(), 1);
  EXPECT_EQ(reverted.kind, RevertKind::kRefused) << reverted.message;
  EXPECT_EQ(replicas("web"), 6);
}

TEST_F(ScaleRevertTest, DryRunRevertChangesNothing) {
  createDeployment("web", 1);
  ScaleAction scale;
  auto c = context();
  json params = {{"target", {{"name", "web"}}}, {"replicas", 3}};
  auto outcome = scaleTo(scale, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  auto dry = context();
  dry.dryRun = true;
  auto reverted = scale.revert(params, outcome.changedFrom, outcome.changedTo, dry);
  EXPECT_EQ(reverted.kind, RevertKind::kReverted);
  EXPECT_NE(reverted.message.find("dry run"), std::string::npos) << reverted.message;
  EXPECT_EQ(replicas("web"), 3);
}

TEST_F(ScaleRevertTest, RevertOfADeletedTargetFails) {
  createDeployment("web", 1);
  ScaleAction scale;
  auto c = context();
  json params = {{"target", {{"name", "web"}}}, {"replicas", 2}};
  auto outcome = scaleTo(scale, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  ASSERT_TRUE(client_->remove(kube::resources::deployments(), namespace_, "web").ok());
  auto reverted = scale.revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kFailed);
  EXPECT_NE(reverted.message.find("no longer exists"), std::string::npos) << reverted.message;
}

TEST_F(ScaleRevertTest, ANoOpScaleRecordsNoChange) {
  createDeployment("web", 2);
  ScaleAction scale;
  auto c = context();
  auto outcome = scaleTo(scale, {{"target", {{"name", "web"}}}, {"replicas", 2}}, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_TRUE(outcome.changedFrom.is_null());
  EXPECT_TRUE(outcome.changedTo.is_null());
}

TEST(WaitForResolvedAction, InProgressWhileFiringThenSucceedsWithEndsAt) {
  WaitForResolvedAction wait;
  ActionContext c;
  c.now = *kube::parseRfc3339("2024-05-01T12:30:00Z");
  c.incident = {{"alert", {{"status", "firing"}, {"endsAt", "0001-01-01T00:00:00Z"}}}};
  auto firing = wait.run(json::object(), c);
  EXPECT_EQ(firing.kind, OutcomeKind::kInProgress);
  EXPECT_EQ(firing.retryAfter, std::chrono::seconds(5));

  c.incident["alert"] = {{"status", "resolved"}, {"endsAt", "2024-05-01T12:10:00Z"}};
  auto resolved = wait.run(json::object(), c);
  EXPECT_EQ(resolved.kind, OutcomeKind::kSucceeded) << resolved.message;
  EXPECT_EQ(resolved.outputs["resolvedAt"], "2024-05-01T12:10:00Z");

  // No (or the zero) endsAt: the time the resolution was seen.
  c.incident["alert"] = {{"status", "resolved"}, {"endsAt", "0001-01-01T00:00:00Z"}};
  EXPECT_EQ(wait.run(json::object(), c).outputs["resolvedAt"], "2024-05-01T12:30:00Z");
  c.incident["alert"].erase("endsAt");
  EXPECT_EQ(wait.run(json::object(), c).outputs["resolvedAt"], "2024-05-01T12:30:00Z");
}

}  // namespace
}  // namespace remedy::actions
