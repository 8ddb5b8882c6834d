// The Incident controller against the sandbox: matching, the end-to-end
// scenario of #5, snapshots, crash safety, and the step machine's rules.
#include "engine/incident_reconciler.h"

#include "engine/engine.h"
#include "engine_fixture.h"
#include "kube/event_recorder.h"

#include <stdexcept>

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

constexpr const char* kScaleRestartSpec = R"(
triggers:
  - alertName: HighLatency
parameters:
  - name: deployment
    value: '{{ alert.labels.deployment }}'
steps:
  - name: scale-up
    scale:
      target: {name: '{{ params.deployment }}'}
      replicas: "+2"
      maxReplicas: 10
  - name: restart
    rolloutRestart:
      target: {name: '{{ params.deployment }}'}
  - name: wait-rollout
    waitFor:
      target: {name: '{{ params.deployment }}'}
      state: RolloutComplete
      pollInterval: 1s
guardrails:
  scale: {minReplicas: 1, maxReplicas: 6}
)";

class IncidentReconcilerTest : public EngineTest {};

TEST_F(IncidentReconcilerTest, EndToEndScalesRestartsAndSucceedsThroughTheControllers) {
  createDeployment("web", 2);
  createRunbook("latency", kScaleRestartSpec);
  kube::EventRecorderOptions eventOptions;
  eventOptions.component = "remedy-operator";
  kube::EventRecorder events(*client_, eventOptions);
  events.start();
  EngineOptions options;
  options.incident.pauseNamespace = namespace_;
  Engine engine(*client_, *serviceAccounts_, *registry_, clock_, &events, options);
  ASSERT_TRUE(engine.start().ok());
  std::set<std::string> before = podNames("web");

  createIncident("latency-1", "HighLatency", {{"deployment", "web"}});
  // Waits requeue on the fake clock: move it along while polling.
  ASSERT_TRUE(eventually([&] {
    clock_.step(std::chrono::seconds(1));
    return phaseOf("latency-1") == "Succeeded";
  })) << incident("latency-1").dump(2);
  engine.stop();

  json d = getDeployment("web");
  EXPECT_EQ(d["spec"].value("replicas", 0), 4);
  json status = incident("latency-1")["status"];
  EXPECT_EQ(status["runbook"].value("name", ""), "latency");
  EXPECT_EQ(status["runbook"].value("generation", 0), 1);
  ASSERT_EQ(status["steps"].size(), 3u);
  for (const auto& step : status["steps"]) {
    EXPECT_EQ(step.value("phase", ""), "Succeeded") << step.dump();
    EXPECT_EQ(step.value("attempts", 0), 1) << step.dump();
    EXPECT_TRUE(step.contains("startedAt") && step.contains("finishedAt")) << step.dump();
  }
  EXPECT_EQ(status["steps"][0]["outputs"].value("previousReplicas", ""), "2");
  EXPECT_EQ(status["steps"][0]["outputs"].value("replicas", ""), "4");
  EXPECT_EQ(d["spec"]["template"]["metadata"]["annotations"].value(
                "kubectl.kubernetes.io/restartedAt", ""),
            status["steps"][1]["outputs"].value("restartedAt", "?"));
  // Every pod that ran before the restart has been replaced.
  std::set<std::string> after = podNames("web");
  EXPECT_EQ(after.size(), 4u);
  for (const auto& name : before) EXPECT_EQ(after.count(name), 0u) << name;
  EXPECT_GE(status["timeline"].size(), 7u);

  // Events on the Incident.
  ASSERT_TRUE(events.waitIdle(std::chrono::seconds(10)));
  auto list = client_->list(kube::resources::events(), namespace_);
  ASSERT_TRUE(list.ok());
  bool onIncident = false;
  bool onDeployment = false;
  for (const auto& e : (*list)["items"]) {
    if (e["involvedObject"].value("kind", "") == "Incident") onIncident = true;
    if (e["involvedObject"].value("kind", "") == "Deployment" &&
        e.value("reason", "") == "RemedyScale") {
      onDeployment = true;
    }
  }
  EXPECT_TRUE(onIncident);
  EXPECT_TRUE(onDeployment);
  events.stop();
}

TEST_F(IncidentReconcilerTest, MostSpecificTriggerWinsAndTheReasonIsRecorded) {
  createDeployment("web", 1);
  createRunbook("generic", R"(
triggers: [{alertName: HighLatency}]
steps: [{name: wait, waitFor: {target: {name: web}, state: Exists}}]
)");
  createRunbook("specific", R"(
triggers: [{alertName: HighLatency, labels: {deployment: web}}]
steps: [{name: wait, waitFor: {target: {name: web}, state: Exists}}]
)");
  createIncident("i1", "HighLatency", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded"));
  json status = incident("i1")["status"];
  EXPECT_EQ(status["runbook"].value("name", ""), "specific");
  std::string message;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == "Matched") message = c.value("message", "");
  }
  EXPECT_NE(message.find("most specific"), std::string::npos) << message;
  EXPECT_NE(message.find("generic"), std::string::npos) << message;
}

TEST_F(IncidentReconcilerTest, TiesAreBrokenByName) {
  createDeployment("web", 1);
  for (const char* name : {"rb-b", "rb-a"}) {
    createRunbook(name, R"(
triggers: [{alertName: HighLatency}]
steps: [{name: wait, waitFor: {target: {name: web}, state: Exists}}]
)");
  }
  createIncident("i1", "HighLatency", {});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded"));
  EXPECT_EQ(incident("i1")["status"]["runbook"].value("name", ""), "rb-a");
}

TEST_F(IncidentReconcilerTest, NoMatchIsSkippedWithTheReason) {
  createRunbook("latency", kScaleRestartSpec);
  createIncident("i1", "DiskFull", {});
  ASSERT_TRUE(driveToPhase("i1", "Skipped"));
  EXPECT_NE(incident("i1").dump().find("NoMatchingRunbook"), std::string::npos);
}

TEST_F(IncidentReconcilerTest, InvalidRunbookNeverMatches) {
  createRunbook("broken", R"(
triggers: [{alertName: HighLatency}]
steps: [{name: s, scale: {target: {name: '{{ params.nope }}'}, replicas: "+1"}}]
)");
  createIncident("i1", "HighLatency", {});
  ASSERT_TRUE(driveToPhase("i1", "Skipped"));
  createIncident("i2", "HighLatency", {}, false, "broken");
  ASSERT_TRUE(driveToPhase("i2", "Skipped"));
  EXPECT_NE(incident("i2").dump().find("RunbookInvalid"), std::string::npos);
}

TEST_F(IncidentReconcilerTest, ResolvedAlertBeforeStartIsCancelled) {
  createRunbook("latency", kScaleRestartSpec);
  json inc = {{"apiVersion", "remedy.dev/v1alpha1"},
              {"kind", "Incident"},
              {"metadata", {{"name", "i1"}, {"namespace", namespace_}}},
              {"spec", {{"alert", {{"name", "HighLatency"}, {"status", "resolved"}}}}}};
  ASSERT_TRUE(client_->create(incidents(), namespace_, inc).ok());
  ASSERT_TRUE(driveToPhase("i1", "Cancelled"));
}

TEST_F(IncidentReconcilerTest, RunningIncidentKeepsItsRunbookSnapshotAcrossEdits) {
  createDeployment("web", 2);
  createRunbook("latency", kScaleRestartSpec);
  createIncident("i1", "HighLatency", {{"deployment", "web"}});
  auto reconciler = newReconciler();
  reconciler->reconcile(namespace_ + "/i1");  // matched and snapshotted
  ASSERT_EQ(phaseOf("i1"), "Running");
  auto rb = client_->get(runbooks(), namespace_, "latency");
  ASSERT_TRUE(rb.ok());
  (*rb)["spec"]["steps"][0]["scale"]["replicas"] = "+3";
  ASSERT_TRUE(client_->update(runbooks(), namespace_, *rb).ok());
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler.get()));
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 4);
  EXPECT_EQ(incident("i1")["status"]["runbook"].value("generation", 0), 1);
}

// ---- crash safety ----

struct SimulatedCrash : std::runtime_error {
  SimulatedCrash() : std::runtime_error("simulated crash") {}
};

// Wraps an action and "kills the operator" (throws through reconcile) on
// one chosen run: before the effect, or after it but before the result is
// written.
class CrashingAction : public actions::Action {
 public:
  CrashingAction(actions::Action& inner, int* runs, int crashAt, bool afterEffect)
      : inner_(inner), runs_(runs), crashAt_(crashAt), afterEffect_(afterEffect) {}
  std::string field() const override { return inner_.field(); }
  actions::ActionOutcome prepare(const json& p, const actions::ActionContext& c) override {
    return inner_.prepare(p, c);
  }
  actions::ActionOutcome run(const json& p, const actions::ActionContext& c) override {
    bool crash = ++*runs_ == crashAt_;
    if (crash && !afterEffect_) throw SimulatedCrash();
    auto outcome = inner_.run(p, c);
    if (crash) throw SimulatedCrash();
    return outcome;
  }

 private:
  actions::Action& inner_;
  int* runs_;
  int crashAt_;
  bool afterEffect_;
};

TEST_F(IncidentReconcilerTest, CrashAtAnyPointAppliesEachEffectExactlyOnce) {
  createRunbook("latency", kScaleRestartSpec);
  auto real = actions::kubernetesActionRegistry();
  kube::Resource replicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
  // Runs 1..3 are scale, restart and the first rollout check.
  for (int crashAt = 1; crashAt <= 3; ++crashAt) {
    for (bool afterEffect : {false, true}) {
      std::string name = "web-" + std::to_string(crashAt) + (afterEffect ? "-after" : "-before");
      SCOPED_TRACE(name);
      createDeployment(name, 2);
      int runs = 0;
      actions::ActionRegistry registry;
      for (const auto& field : real->fields()) {
        registry.add(
            std::make_unique<CrashingAction>(*real->find(field), &runs, crashAt, afterEffect));
      }
      std::string key = createIncident(name, "HighLatency", {{"deployment", name}});
      int crashes = 0;
      // A fresh reconciler for every reconcile: a restart at every step
      // boundary, plus the crash inside the chosen step.
      bool done = eventually([&] {
        IncidentReconcilerOptions options;
        options.pauseNamespace = namespace_;
        IncidentReconciler reconciler(*client_, caches(), *serviceAccounts_, registry, clock_,
                                      nullptr, options);
        try {
          auto result = reconciler.reconcile(key);
          if (result.requeueAfter > kube::Duration(0)) clock_.step(result.requeueAfter);
        } catch (const SimulatedCrash&) {
          ++crashes;
        }
        return phaseOf(name) == "Succeeded";
      });
      ASSERT_TRUE(done) << incident(name).dump(2);
      EXPECT_EQ(crashes, 1);
      json d = getDeployment(name);
      EXPECT_EQ(d["spec"].value("replicas", 0), 4);  // +2, not +4
      json restart = stepOf(name, "restart");
      EXPECT_EQ(d["spec"]["template"]["metadata"]["annotations"].value(
                    "kubectl.kubernetes.io/restartedAt", ""),
                restart.value("startedAt", "?"));
      // One restart: the original ReplicaSet and exactly one new one.
      kube::ListOptions o;
      o.labelSelector = "app=" + name;
      auto sets = client_->list(replicaSets, namespace_, o);
      ASSERT_TRUE(sets.ok());
      EXPECT_EQ((*sets)["items"].size(), 2u);
      EXPECT_EQ(stepOf(name, "scale-up").value("attempts", 0), 1);
    }
  }
}

TEST_F(IncidentReconcilerTest, RetriesWithBackoffThenFailsAndAborts) {
  createRunbook("missing", R"(
triggers: [{alertName: Gone}]
steps:
  - name: wait
    waitFor: {target: {name: nothing-here}, state: Exists, pollInterval: 1s}
    timeout: 10s
    retries: {limit: 2, backoff: 5s}
  - name: never
    rolloutRestart: {target: {name: nothing-here}}
)");
  createIncident("i1", "Gone", {});
  ASSERT_TRUE(driveToPhase("i1", "Failed"));
  json wait = stepOf("i1", "wait");
  EXPECT_EQ(wait.value("phase", ""), "Failed");
  EXPECT_EQ(wait.value("attempts", 0), 3);
  EXPECT_NE(wait.value("message", "").find("timed out"), std::string::npos) << wait.dump();
  EXPECT_EQ(stepOf("i1", "never").value("phase", ""), "Skipped");
}

// Stands in for an action with external effects (the postgres action): it
// answers the scripted outcomes in turn and records the baseline each
// attempt got.
class ScriptedAction : public actions::Action {
 public:
  ScriptedAction(std::string field, std::vector<actions::ActionOutcome> outcomes,
                 std::vector<actions::Outputs>* baselines)
      : field_(std::move(field)), outcomes_(std::move(outcomes)), baselines_(baselines) {}
  std::string field() const override { return field_; }
  actions::ActionOutcome run(const json&, const actions::ActionContext& c) override {
    baselines_->push_back(c.baseline);
    size_t i = std::min(baselines_->size(), outcomes_.size()) - 1;
    return outcomes_[i];
  }

 private:
  std::string field_;
  std::vector<actions::ActionOutcome> outcomes_;
  std::vector<actions::Outputs>* baselines_;
};

constexpr const char* kKillThenScaleSpec = R"(
triggers: [{alertName: PoolExhausted}]
steps:
  - name: kill
    postgres:
      connection: {secretKeyRef: {name: pg, key: uri}}
      terminateBackends: {olderThan: 5m}
    onFailure: Continue
    retries: {limit: RETRIES, backoff: 5s}
  - name: grow
    when: steps.kill.outputs.affected > 0
    scale: {target: {name: web}, replicas: 3}
)";

std::string killThenScaleSpec(int retries) {
  std::string spec = kKillThenScaleSpec;
  return spec.replace(spec.find("RETRIES"), 7, std::to_string(retries));
}

actions::ActionOutcome terminatedTwoThenFailed(bool retriable) {
  std::string message =
      "postgres.terminateBackends: terminated 2 backends (pids 11, 12); then "
      "terminate pid 13 failed: must be a superuser to terminate superuser process";
  auto outcome = retriable ? actions::ActionOutcome::retriable(message)
                           : actions::ActionOutcome::permanent(message);
  outcome.outputs = {{"matched", "3"}, {"affected", "2"}, {"pids", "11,12"}};
  return outcome;
}

TEST_F(IncidentReconcilerTest, AFailedStepKeepsWhatItDidBeforeItFailed) {
  createDeployment("web", 1);
  std::vector<actions::Outputs> baselines;
  registry_->add(std::make_unique<ScriptedAction>(
      "postgres", std::vector<actions::ActionOutcome>{terminatedTwoThenFailed(false)}, &baselines));
  createRunbook("pool", killThenScaleSpec(0));
  createIncident("i1", "PoolExhausted", {});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded")) << incident("i1").dump(2);

  json kill = stepOf("i1", "kill");
  EXPECT_EQ(kill.value("phase", ""), "Failed");
  EXPECT_EQ(kill["outputs"].value("affected", ""), "2") << kill.dump(2);
  EXPECT_EQ(kill["outputs"].value("pids", ""), "11,12");
  EXPECT_NE(kill.value("message", "").find("terminated 2 backends"), std::string::npos)
      << kill.value("message", "");
  // A later step branches on what the failed step did.
  EXPECT_EQ(stepOf("i1", "grow").value("phase", ""), "Succeeded");
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 3);
}

actions::ActionOutcome apiServerDidNotAnswer() {
  return actions::ActionOutcome::transientFailure(
      "postgres.terminateBackends: read pg: 500 InternalError: etcdserver: request timed out");
}

// An API server's 500 is not the step's failure: the same attempt runs
// again with the same baseline, without `retries`, and counts once.
TEST_F(IncidentReconcilerTest, ATransientFailureRunsTheSameAttemptAgain) {
  createDeployment("web", 1);
  std::vector<actions::Outputs> baselines;
  auto done = actions::ActionOutcome::succeeded("terminated 1 backend", {{"affected", "1"}});
  registry_->add(std::make_unique<ScriptedAction>(
      "postgres",
      std::vector<actions::ActionOutcome>{apiServerDidNotAnswer(), apiServerDidNotAnswer(), done},
      &baselines));
  createRunbook("pool", killThenScaleSpec(0));
  createIncident("i1", "PoolExhausted", {});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded")) << incident("i1").dump(2);

  ASSERT_EQ(baselines.size(), 3u);
  EXPECT_EQ(baselines[1], baselines[0]);
  EXPECT_EQ(baselines[2], baselines[0]);
  json kill = stepOf("i1", "kill");
  EXPECT_EQ(kill.value("phase", ""), "Succeeded");
  EXPECT_EQ(kill.value("attempts", 0), 1) << kill.dump(2);
  EXPECT_EQ(stepOf("i1", "grow").value("phase", ""), "Succeeded");
  for (const auto& entry : incident("i1")["status"]["timeline"]) {
    EXPECT_NE(entry.value("type", ""), "StepRetry") << entry.dump();
  }
}

// An API server that keeps failing ends the attempt at the step's timeout,
// with the reason on the step until then.
TEST_F(IncidentReconcilerTest, ATransientFailureThatLastsEndsAtTheStepTimeout) {
  std::vector<actions::Outputs> baselines;
  registry_->add(std::make_unique<ScriptedAction>(
      "postgres", std::vector<actions::ActionOutcome>{apiServerDidNotAnswer()}, &baselines));
  createRunbook("pool", R"(
triggers: [{alertName: PoolExhausted}]
steps:
  - name: kill
    postgres:
      connection: {secretKeyRef: {name: pg, key: uri}}
      terminateBackends: {olderThan: 5m}
    timeout: 1m
)");
  createIncident("i1", "PoolExhausted", {});
  auto reconciler = newReconciler();
  std::string key = namespace_ + "/i1";
  bool sawWaiting = false;
  ASSERT_TRUE(eventually([&] {
    if (phaseOf("i1") == "Failed") return true;
    auto result = reconciler->reconcile(key);
    json kill = stepOf("i1", "kill");
    if (kill.value("message", "").find("did not take the request") != std::string::npos) {
      sawWaiting = true;
      EXPECT_EQ(kill.value("phase", ""), "Running");
    }
    // The work queue's backoff stands in for time passing.
    clock_.step(result.requeueAfter > kube::Duration(0) ? result.requeueAfter
                                                        : std::chrono::seconds(10));
    return false;
  })) << incident("i1").dump(2);

  EXPECT_TRUE(sawWaiting);
  json kill = stepOf("i1", "kill");
  EXPECT_EQ(kill.value("phase", ""), "Failed");
  EXPECT_EQ(kill.value("attempts", 0), 1);
  EXPECT_NE(kill.value("message", "").find("timed out after 1m"), std::string::npos)
      << kill.dump(2);
  EXPECT_LE(baselines.size(), 8u);
}

TEST_F(IncidentReconcilerTest, ARetryGetsTheEffectsOfTheAttemptThatFailed) {
  createDeployment("web", 1);
  std::vector<actions::Outputs> baselines;
  auto second = actions::ActionOutcome::succeeded("terminated 1 backend",
                                                  {{"affected", "3"}, {"pids", "11,12,14"}});
  registry_->add(std::make_unique<ScriptedAction>(
      "postgres", std::vector<actions::ActionOutcome>{terminatedTwoThenFailed(true), second},
      &baselines));
  createRunbook("pool", killThenScaleSpec(1));
  createIncident("i1", "PoolExhausted", {});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded")) << incident("i1").dump(2);

  ASSERT_EQ(baselines.size(), 2u);
  EXPECT_TRUE(baselines[0].empty());
  EXPECT_EQ(baselines[1]["affected"], "2");
  EXPECT_EQ(baselines[1]["pids"], "11,12");
  json kill = stepOf("i1", "kill");
  EXPECT_EQ(kill.value("phase", ""), "Succeeded");
  EXPECT_EQ(kill.value("attempts", 0), 2);
  EXPECT_EQ(kill["outputs"].value("affected", ""), "3");
  // The failed attempt's record stays on the timeline.
  bool retryNoted = false;
  json timeline = incident("i1")["status"]["timeline"];
  for (const auto& entry : timeline) {
    if (entry.value("type", "") == "StepRetry" &&
        entry.value("message", "").find("terminated 2 backends") != std::string::npos) {
      retryNoted = true;
    }
  }
  EXPECT_TRUE(retryNoted) << timeline.dump(2);
}

TEST_F(IncidentReconcilerTest, OnFailureContinueRunsTheNextStepAndEscalateEscalates) {
  createDeployment("web", 1);
  createRunbook("cont", R"(
triggers: [{alertName: Cont}]
steps:
  - name: bad
    scale: {target: {name: absent}, replicas: 2}
    onFailure: Continue
  - name: good
    waitFor: {target: {name: web}, state: Exists}
)");
  createRunbook("esc", R"(
triggers: [{alertName: Esc}]
steps:
  - name: bad
    scale: {target: {name: absent}, replicas: 2}
    onFailure: Escalate
  - name: good
    waitFor: {target: {name: web}, state: Exists}
)");
  createIncident("c", "Cont", {});
  ASSERT_TRUE(driveToPhase("c", "Succeeded"));
  EXPECT_EQ(stepOf("c", "bad").value("phase", ""), "Failed");
  EXPECT_EQ(stepOf("c", "good").value("phase", ""), "Succeeded");
  createIncident("e", "Esc", {});
  ASSERT_TRUE(driveToPhase("e", "Escalated"));
  EXPECT_EQ(stepOf("e", "good").value("phase", ""), "Skipped");
  // No escalation messages configured: the timeline says so, nothing is sent.
  json escalated = incident("e");
  EXPECT_FALSE(escalated["status"].contains("escalations"));
  bool noted = false;
  for (const auto& entry : escalated["status"]["timeline"]) {
    if (entry.value("type", "") == "Escalated") noted = true;
  }
  EXPECT_TRUE(noted);
}

TEST_F(IncidentReconcilerTest, RunbookStatisticsAreRecordedOnce) {
  createDeployment("web", 1);
  createRunbook("latency", kScaleRestartSpec);
  createIncident("i1", "HighLatency", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded"));
  auto reconciler = newReconciler();
  reconciler->reconcile(namespace_ + "/i1");  // a final Incident changes nothing
  auto rb = client_->get(runbooks(), namespace_, "latency");
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ((*rb)["status"].value("executions", 0), 1);
  EXPECT_EQ((*rb)["status"].value("lastIncident", ""), "i1");
  EXPECT_EQ((*rb)["status"].value("lastResult", ""), "Succeeded");
}

TEST_F(IncidentReconcilerTest, FinishedIncidentsAreGarbageCollectedAfterRetention) {
  createDeployment("web", 1);
  createRunbook("latency", kScaleRestartSpec);
  createIncident("i1", "HighLatency", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("i1", "Succeeded"));
  IncidentReconcilerOptions options;
  options.retention = std::chrono::hours(1);
  auto reconciler = newReconciler(options);
  auto result = reconciler->reconcile(namespace_ + "/i1");
  EXPECT_GT(result.requeueAfter, kube::Duration(0));
  clock_.step(std::chrono::hours(2));
  reconciler->reconcile(namespace_ + "/i1");
  EXPECT_TRUE(kube::isNotFound(client_->get(incidents(), namespace_, "i1").status()));
}

}  // namespace
}  // namespace remedy::engine
