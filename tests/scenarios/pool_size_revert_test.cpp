// Issue #10, the temporary pool-size bump: a strategic-merge `patch` sets
// POSTGRES_POOL_SIZE=50 on the backend's container, the pods roll, and
// `revert.after` puts the old value back, unless someone changed it in
// between (then the revert is Refused and the human's value stays).
// `remedyctl revert INCIDENT` runs a pending revert at once.
#include "scenario_fixture.h"

#include <gmock/gmock.h>

namespace remedy::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPool = "POSTGRES_POOL_SIZE";

// The runbook's raise-pool-size step, with `revert.after` given.
std::string runbook(const std::string& revertAfter) {
  return R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: raise-pool-size
spec:
  triggers:
    - alertName: SQLAlchemyPoolExhausted
  steps:
    - name: raise-pool-size
      description: Increase the pool size (temporary fix); the pods roll.
      patch:
        target:
          kind: Deployment
          name: backend
        strategicMergePatch:
          spec:
            template:
              spec:
                containers:
                  - name: backend
                    env:
                      - name: POSTGRES_POOL_SIZE
                        value: "50"
      revert:
        after: )" +
         revertAfter +
         R"(
    - name: wait-for-rollout
      waitFor:
        target:
          name: backend
        state: RolloutComplete
        pollInterval: 200ms
      timeout: 30s
)";
}

class PoolSizeRevertTest : public ScenarioTest {
 protected:
  void SetUp() override {
    ScenarioTest::SetUp();
    if (HasFatalFailure()) return;
    create(kube::resources::deployments(),
           deployment("backend", 2, "backend", {{kPool, "10"}, {"LOG_LEVEL", "info"}}));
    ASSERT_TRUE(waitRolledOut("backend"));
    for (const auto& pod : listPods()) originalPods_.insert(kube::nameOf(pod));
    ASSERT_EQ(originalPods_.size(), 2u);
    op_ = &startOperator();
  }

  std::vector<json> listPods() {
    auto list = client_->list(kube::resources::pods(), shop_);
    return list.ok() ? (*list)["items"].get<std::vector<json>>() : std::vector<json>{};
  }

  json backend() { return get(kube::resources::deployments(), "backend"); }
  std::string liveValue(const std::string& var = kPool) {
    return envOf(backend()["spec"]["template"]["spec"], var);
  }

  // ReplicaSet name -> the pool size in its pod template.
  std::map<std::string, std::string> replicaSets() {
    std::map<std::string, std::string> out;
    auto list = client_->list(replicaSetsResource(), shop_);
    if (!list.ok()) return out;
    for (const auto& rs : (*list)["items"]) {
      out[kube::nameOf(rs)] = envOf(rs["spec"]["template"]["spec"], kPool);
    }
    return out;
  }

  // Every current pod runs with the pool size `value` (and none other is left).
  bool podsRunWith(const std::string& value) {
    auto pods = listPods();
    if (pods.empty()) return false;
    for (const auto& pod : pods) {
      if (pod["metadata"].contains("deletionTimestamp")) return false;
      if (envOf(pod["spec"], kPool) != value) return false;
    }
    return true;
  }

  static json revertOf(const json& incident) {
    return stepOf(incident, "raise-pool-size").value("revert", json::object());
  }

  // Sets the env var as another client would (kubectl set env).
  void setByHand(const std::string& value) {
    json patch = {
        {"spec",
         {{"template",
           {{"spec",
             {{"containers",
               json::array({{{"name", "backend"},
                             {"env", json::array({{{"name", kPool}, {"value", value}}})}}})}}}}}}}};
    kube::PatchOptions options;
    options.type = kube::PatchType::StrategicMerge;
    options.fieldManager = "kubectl-set";
    auto patched =
        client_->patch(kube::resources::deployments(), shop_, "backend", patch.dump(), options);
    ASSERT_TRUE(patched.ok()) << patched.status().toString();
  }

  std::set<std::string> originalPods_;
  OperatorProcess* op_ = nullptr;
};

TEST_F(PoolSizeRevertTest, PatchRollsThePodsAndRevertAfterRestoresTheOldValue) {
  applyRunbook(runbook("3s"));
  PodRecorder pods(newClient(), shop_, kPool);
  OperatorProcess& op = *op_;
  std::string name =
      fire(op, "SQLAlchemyPoolExhausted", {{"severity", "warning"}}, "c0ffee0000000001");
  ASSERT_FALSE(name.empty());
  json done = waitFinished(name);
  ASSERT_EQ(phaseOf(done), "Succeeded") << done.dump(2) << "\n" << op.log();

  // The patch: exactly the one value, recorded before and after.
  json patchStep = stepOf(done, "raise-pool-size");
  EXPECT_THAT(patchStep.value("message", ""),
              HasSubstr("patched Deployment " + shop_ + "/backend"));
  EXPECT_THAT(outputOf(done, "raise-pool-size", "changed"),
              HasSubstr("/spec/template/spec/containers/0/env/0/value"));
  EXPECT_THAT(outputOf(done, "raise-pool-size", "changed"), HasSubstr("\"10\" -> \"50\""));
  EXPECT_EQ(stepOf(done, "wait-for-rollout")["phase"], "Succeeded");

  // The revert comes 3s later and restores 10, only that value.
  json reverted = waitIncident(name, [](const json& i) {
    return revertOf(i).value("state", "") != "Pending" && revertOf(i).contains("state");
  });
  json revert = revertOf(reverted);
  ASSERT_EQ(revert.value("state", ""), "Reverted") << reverted.dump(2) << "\n" << op.log();
  EXPECT_THAT(revert.value("message", ""), HasSubstr("restored Deployment " + shop_ + "/backend"));
  EXPECT_EQ(revert["before"], json({{"/spec/template/spec/containers/0/env/0/value", "10"}}));
  EXPECT_EQ(revert["after"], json({{"/spec/template/spec/containers/0/env/0/value", "50"}}));
  EXPECT_EQ(liveValue(), "10");
  EXPECT_EQ(liveValue("LOG_LEVEL"), "info");
  EXPECT_THAT(reverted["status"]["timeline"].dump(), HasSubstr("Reverted"));
  // Not before its time: 3s after the step succeeded.
  auto finished = kube::parseRfc3339(patchStep.value("finishedAt", ""));
  auto dueAt = kube::parseRfc3339(revert.value("dueAt", ""));
  auto revertedAt = kube::parseRfc3339(revert.value("revertedAt", ""));
  ASSERT_TRUE(finished && dueAt && revertedAt) << revert.dump();
  EXPECT_EQ(*dueAt - *finished, std::chrono::seconds(3));
  EXPECT_GE(*revertedAt, *dueAt);

  // The pods rolled to 50 (a new ReplicaSet, new pods), then back to 10.
  ASSERT_TRUE(waitRolledOut("backend"));
  ASSERT_TRUE(waitUntil([&] { return podsRunWith("10"); }));
  std::set<std::string> with50 = pods.podsWith("50");
  EXPECT_EQ(with50.size(), 2u) << "the pods never ran with POSTGRES_POOL_SIZE=50";
  for (const auto& pod : with50) EXPECT_FALSE(originalPods_.count(pod)) << pod;
  std::set<std::string> poolSizes;
  for (const auto& [rs, value] : replicaSets()) poolSizes.insert(value);
  EXPECT_EQ(poolSizes, (std::set<std::string>{"10", "50"}));
  for (const auto& pod : listPods()) {
    EXPECT_FALSE(with50.count(kube::nameOf(pod))) << "pod " << kube::nameOf(pod) << " stayed";
  }
}

TEST_F(PoolSizeRevertTest, AHumanChangeInBetweenRefusesTheRevertAndKeepsTheirValue) {
  applyRunbook(runbook("4s"));
  OperatorProcess& op = *op_;
  std::string name =
      fire(op, "SQLAlchemyPoolExhausted", {{"severity", "warning"}}, "c0ffee0000000002");
  ASSERT_FALSE(name.empty());
  json patched = waitIncident(name, [](const json& i) {
    return stepOf(i, "raise-pool-size").value("phase", "") == "Succeeded";
  });
  ASSERT_EQ(stepOf(patched, "raise-pool-size").value("phase", ""), "Succeeded") << patched.dump(2);
  ASSERT_EQ(liveValue(), "50");

  // Someone decides on 30 while the bump is still in place.
  setByHand("30");
  ASSERT_EQ(revertOf(incident(name)).value("state", ""), "Pending")
      << "the revert came before the human's change: the machine was too slow for this test";

  json refused = waitIncident(
      name, [](const json& i) { return revertOf(i).value("state", "Pending") != "Pending"; });
  json revert = revertOf(refused);
  ASSERT_EQ(revert.value("state", ""), "Refused") << refused.dump(2) << "\n" << op.log();
  EXPECT_THAT(revert.value("message", ""),
              HasSubstr("/spec/template/spec/containers/0/env/0/value is \"30\", not \"50\" as "
                        "Remedy set it: someone changed it since, so it is left alone"));
  EXPECT_EQ(liveValue(), "30");
  EXPECT_EQ(liveValue("LOG_LEVEL"), "info");
  EXPECT_THAT(refused["status"]["timeline"].dump(), HasSubstr("RevertRefused"));
  // The Incident keeps its outcome: the steps succeeded; the refusal is on the step.
  // (The human's change rolls the pods again, so the rollout wait may still be
  // running when the revert is refused.)
  json finished = waitFinished(name);
  EXPECT_EQ(phaseOf(finished), "Succeeded") << finished.dump(2);
  EXPECT_EQ(revertOf(finished).value("state", ""), "Refused");
  // Events are sent by their own client after the status records the
  // refusal: wait for the Event rather than list once.
  std::string events;
  EXPECT_TRUE(waitUntil([&] {
    auto listed = kube::listAll(*client_, kube::resources::events(), shop_);
    events = listed.ok() ? listed->dump() : listed.status().toString();
    return events.find("RevertRefused") != std::string::npos;
  })) << events;
}

TEST_F(PoolSizeRevertTest, RemedyctlRevertRunsAPendingRevertAtOnce) {
  applyRunbook(runbook("1h"));
  OperatorProcess& op = *op_;
  std::string name =
      fire(op, "SQLAlchemyPoolExhausted", {{"severity", "warning"}}, "c0ffee0000000003");
  ASSERT_FALSE(name.empty());
  json done = waitFinished(name);
  ASSERT_EQ(phaseOf(done), "Succeeded") << done.dump(2) << "\n" << op.log();
  json revert = revertOf(done);
  ASSERT_EQ(revert.value("state", ""), "Pending") << done.dump(2);
  auto due = kube::parseRfc3339(revert.value("dueAt", ""));
  ASSERT_TRUE(due.has_value());
  EXPECT_GT(*due, std::chrono::system_clock::now() + std::chrono::minutes(50));
  ASSERT_EQ(liveValue(), "50");

  CommandResult result = remedyctl({"revert", name, "-n", shop_, "--timeout", "30s"});
  EXPECT_EQ(result.exitCode, 0) << result.output << "\n" << op.log();
  EXPECT_THAT(result.output,
              HasSubstr("raise-pool-size: Reverted: restored Deployment " + shop_ + "/backend"));
  EXPECT_EQ(liveValue(), "10");
  revert = revertOf(incident(name));
  EXPECT_EQ(revert.value("state", ""), "Reverted");
  EXPECT_THAT(revert.value("message", ""), HasSubstr("\"50\" -> \"10\""));
  // The request is spent: the annotation goes away.
  EXPECT_TRUE(waitUntil([&] {
    return incident(name)["metadata"]
        .value("annotations", json::object())
        .value("remedy.dev/revert-requested", "")
        .empty();
  }));
  // A second revert has nothing to do.
  result = remedyctl({"revert", name, "-n", shop_});
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("has no pending revert"));
}

}  // namespace
}  // namespace remedy::testing
