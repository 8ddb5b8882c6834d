// The Kubernetes actions against the sandbox, each on its own, with the
// idempotency each promises.
#include "actions/kubernetes_actions.h"

#include "../kube/sandbox_fixture.h"

namespace remedy::actions {
namespace {

using kube::testing::eventually;
using kube::testing::SandboxTest;

class KubernetesActionsTest : public SandboxTest {
 protected:
  void createDeployment(const std::string& name, int replicas) {
    json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", namespace_}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}}}}}}};
    ASSERT_TRUE(client_->create(kube::resources::deployments(), namespace_, d).ok());
    ASSERT_TRUE(eventually([&] {
      auto got = client_->get(kube::resources::deployments(), namespace_, name);
      return got.ok() && got->value("status", json::object()).value("readyReplicas", 0) == replicas;
    }));
  }

  ActionContext context(const std::string& key = "uid/step/1") {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = key;
    c.stepKey = "uid/step";
    c.firstStartedAt = "2024-01-01T00:00:00Z";
    c.defaultNamespace = namespace_;
    c.owner = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "owner"}, {"uid", "00000000-0000-0000-0000-000000000001"}}}};
    return c;
  }

  int replicas(const std::string& name) {
    return (*client_->get(kube::resources::deployments(), namespace_, name))["spec"].value(
        "replicas", -1);
  }
};

TEST(ComputeScaleReplicas, RelativeAbsoluteAndClamped) {
  EXPECT_EQ(computeScaleReplicas(3, "+2", std::nullopt, std::nullopt), 5);
  EXPECT_EQ(computeScaleReplicas(3, "-1", std::nullopt, std::nullopt), 2);
  EXPECT_EQ(computeScaleReplicas(3, 7, std::nullopt, std::nullopt), 7);
  EXPECT_EQ(computeScaleReplicas(3, "+10", std::nullopt, 6), 6);
  EXPECT_EQ(computeScaleReplicas(3, "-5", 1, std::nullopt), 1);
  EXPECT_EQ(computeScaleReplicas(3, "+x", std::nullopt, std::nullopt), std::nullopt);
}

TEST(ComputeScaleReplicas, NumbersBeyondInt32AreRefusedNeverWrapped) {
  // 2^32 used to become 0 through an int conversion.
  EXPECT_EQ(computeScaleReplicas(3, "4294967296", std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(computeScaleReplicas(3, int64_t{4294967296}, std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(computeScaleReplicas(3, "+99999999999", std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(computeScaleReplicas(3, -1, std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(computeScaleReplicas(3, "2147483647", std::nullopt, std::nullopt), 2147483647);
  EXPECT_EQ(computeScaleReplicas(2147483647, "+1", std::nullopt, std::nullopt), std::nullopt);
}

TEST_F(KubernetesActionsTest, ScaleRelativeChangeIsAppliedOnceAcrossRetries) {
  createDeployment("web", 2);
  ScaleAction scale;
  json params = {{"target", {{"name", "web"}}}, {"replicas", "+2"}};
  auto c = context();
  auto prepared = scale.prepare(params, c);
  ASSERT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
  c.baseline = prepared.outputs;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto outcome = scale.run(params, c);
    ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
    EXPECT_EQ(outcome.outputs["previousReplicas"], "2");
    EXPECT_EQ(outcome.outputs["replicas"], "4");
  }
  EXPECT_EQ(replicas("web"), 4);
}

// The API server's 500 is transient (the engine runs the attempt again
// without counting it); the run after it scales once, from the baseline.
TEST_F(KubernetesActionsTest, ScaleThatTheApiServerDidNotTakeIsTransient) {
  createDeployment("web", 2);
  ScaleAction scale;
  json params = {{"target", {{"name", "web"}}}, {"replicas", "+2"}};
  auto c = context();
  auto prepared = scale.prepare(params, c);
  ASSERT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
  c.baseline = prepared.outputs;
  sandbox_->faults().failNextEndingWith(1, 500, "/deployments/web/scale");
  auto failed = scale.run(params, c);
  EXPECT_EQ(failed.kind, OutcomeKind::kRetriableFailure) << failed.message;
  EXPECT_TRUE(failed.transient);
  EXPECT_EQ(replicas("web"), 2);
  auto outcome = scale.run(params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(replicas("web"), 4);
  // A refusal is the step's own failure, never transient.
  auto missing = scale.run({{"target", {{"name", "absent"}}}, {"replicas", 1}}, c);
  EXPECT_EQ(missing.kind, OutcomeKind::kPermanentFailure);
  EXPECT_FALSE(missing.transient);
}

TEST_F(KubernetesActionsTest, ScaleDryRunChangesNothing) {
  createDeployment("web", 2);
  ScaleAction scale;
  auto c = context();
  c.dryRun = true;
  auto outcome = scale.run({{"target", {{"name", "web"}}}, {"replicas", 5}}, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded);
  EXPECT_NE(outcome.message.find("dry run"), std::string::npos);
  EXPECT_EQ(replicas("web"), 2);
}

TEST_F(KubernetesActionsTest, ScaleOfAMissingTargetIsPermanent) {
  ScaleAction scale;
  auto outcome = scale.run({{"target", {{"name", "absent"}}}, {"replicas", 1}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
}

TEST_F(KubernetesActionsTest, RolloutRestartIsANoOpWhenRepeated) {
  createDeployment("web", 1);
  RolloutRestartAction restart;
  json params = {{"target", {{"name", "web"}}}};
  ASSERT_EQ(restart.run(params, context()).kind, OutcomeKind::kSucceeded);
  auto first = (*client_->get(kube::resources::deployments(), namespace_, "web"));
  ASSERT_EQ(restart.run(params, context("uid/step/2")).kind, OutcomeKind::kSucceeded);
  auto second = (*client_->get(kube::resources::deployments(), namespace_, "web"));
  // The simulator keeps writing status during the rollout, so compare the
  // spec's generation: a second restart would bump it.
  EXPECT_EQ(first["metadata"].value("generation", 0), second["metadata"].value("generation", 0));
  EXPECT_EQ(second["spec"]["template"]["metadata"]["annotations"].value(kRestartedAtAnnotation, ""),
            "2024-01-01T00:00:00Z");
}

TEST_F(KubernetesActionsTest, DeletePodsEvictsAtMostTheChosenPodsEvenWhenRerun) {
  createDeployment("web", 4);
  DeletePodsAction del;
  json params = {{"target", {{"name", "web"}}}, {"maxPercent", 50}};
  auto c = context();
  auto prepared = del.prepare(params, c);
  ASSERT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
  EXPECT_EQ(prepared.outputs["matched"], "4");
  c.baseline = prepared.outputs;
  for (int run = 0; run < 3; ++run) {
    auto outcome = del.run(params, c);
    ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
    EXPECT_EQ(outcome.outputs["deleted"], "2");
  }
  // Two originals gone (replaced by the simulator), two kept.
  kube::ListOptions o;
  o.labelSelector = "app=web";
  std::string chosen = c.baseline["pods"];
  ASSERT_TRUE(eventually([&] {
    auto pods = client_->list(kube::resources::pods(), namespace_, o);
    if (!pods.ok()) return false;
    int originalsLeft = 0;
    for (const auto& p : (*pods)["items"]) {
      if (chosen.find(kube::nameOf(p)) != std::string::npos) ++originalsLeft;
    }
    return originalsLeft == 0 && (*pods)["items"].size() == 4;
  }));
}

TEST_F(KubernetesActionsTest, DeletePodsFiltersByState) {
  createDeployment("web", 2);
  DeletePodsAction del;
  auto prepared =
      del.prepare({{"target", {{"name", "web"}}}, {"states", {"CrashLoopBackOff"}}}, context());
  ASSERT_EQ(prepared.kind, OutcomeKind::kSucceeded);
  EXPECT_EQ(prepared.outputs["pods"], "");
}

TEST_F(KubernetesActionsTest, ASelectorValueCannotAddARequirementOfItsOwn) {
  createDeployment("web", 2);
  createDeployment("db", 2);
  DeletePodsAction del;
  // "web,app!=web" as a value once made the selector "app=web,app!=web"... or
  // worse, with a value like "x,tier" that matches any pod labelled tier.
  for (const char* value : {"web,app", "web app", "web)", "!web"}) {
    auto prepared = del.prepare(
        {{"selector", {{"matchLabels", {{"app", value}}}}}, {"maxCount", 5}}, context());
    EXPECT_EQ(prepared.kind, OutcomeKind::kPermanentFailure) << value;
    EXPECT_NE(prepared.message.find("is not valid label syntax"), std::string::npos)
        << prepared.message;
  }
  auto fine = del.prepare({{"selector", {{"matchLabels", {{"app", "web"}}}}}}, context());
  ASSERT_EQ(fine.kind, OutcomeKind::kSucceeded) << fine.message;
  EXPECT_EQ(fine.outputs["matched"], "2");
}

TEST_F(KubernetesActionsTest, NoTargetIsEverASecret) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "token"}, {"namespace", namespace_}}},
                 {"stringData", {{"token", "do-not-read"}}}};
  ASSERT_TRUE(client_->create(kube::resources::secrets(), namespace_, secret).ok());
  WaitForAction wait;
  auto outcome = wait.run({{"target", {{"kind", "Secret"}, {"name", "token"}}},
                           {"field", {{"path", ".data.token"}, {"value", "x"}}}},
                          context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("a Secret is never the target of a step"), std::string::npos)
      << outcome.message;
  EXPECT_EQ(outcome.message.find("do-not-read"), std::string::npos);
  EXPECT_TRUE(outcome.outputs.empty());
}

TEST_F(KubernetesActionsTest, WaitForRequeuesUntilTheFieldHolds) {
  createDeployment("web", 1);
  WaitForAction wait;
  json params = {{"target", {{"name", "web"}}},
                 {"field", {{"path", ".metadata.labels.done"}, {"value", "yes"}}},
                 {"pollInterval", "2s"}};
  auto pending = wait.run(params, context());
  EXPECT_EQ(pending.kind, OutcomeKind::kInProgress);
  EXPECT_EQ(pending.retryAfter, std::chrono::seconds(2));
  json patch = {{"metadata", {{"labels", {{"done", "yes"}}}}}};
  ASSERT_TRUE(client_->patch(kube::resources::deployments(), namespace_, "web", patch.dump()).ok());
  auto done = wait.run(params, context());
  EXPECT_EQ(done.kind, OutcomeKind::kSucceeded) << done.message;
  EXPECT_EQ(done.outputs["value"], "yes");
  auto rollout = wait.run({{"target", {{"name", "web"}}}, {"state", "RolloutComplete"}}, context());
  EXPECT_EQ(rollout.kind, OutcomeKind::kSucceeded) << rollout.message;
}

TEST_F(KubernetesActionsTest, RunJobCreatesOneOwnedJobAndReportsItsOutcome) {
  RunJobAction job;
  json containers = json::array({{{"name", "reset"}, {"image", "busybox"}}});
  json params = {{"template", {{"spec", {{"containers", containers}}}}}};
  auto c = context();
  // A real owner, so no garbage collector takes the Job away.
  auto owner = client_->create(kube::resources::configMaps(), namespace_, configMap("owner"));
  ASSERT_TRUE(owner.ok());
  c.owner["metadata"]["uid"] = kube::uidOf(*owner);
  OutcomeKind kind = OutcomeKind::kInProgress;
  ASSERT_TRUE(eventually([&] {
    kind = job.run(params, c).kind;
    return kind != OutcomeKind::kInProgress;
  }));
  EXPECT_EQ(kind, OutcomeKind::kSucceeded);
  kube::Resource jobs{"batch", "v1", "jobs", "Job", true};
  auto list = client_->list(jobs, namespace_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["metadata"]["ownerReferences"][0].value("kind", ""), "ConfigMap");
  EXPECT_EQ(kube::nameOf((*list)["items"][0]), RunJobAction::jobName(c));
}

}  // namespace
}  // namespace remedy::actions
