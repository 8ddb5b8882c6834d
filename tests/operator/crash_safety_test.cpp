// Crash safety (#5): remedy-operator is SIGKILLed at every step boundary and
// in the middle of every step of a multi-step Runbook, started again each
// time, and every effect still happens exactly once: replicas +2 (not +4),
// one restartedAt value ever written, and no more pods evicted than allowed.
//
// The kills come from a ChangeTape (tests/support/change_tape.h). On the
// sandbox the operator dies the instant its write commits, before it has read
// the answer, so each crash point is hit on every run, not by chance. On
// kube-apiserver it dies when the write reaches the tape's watch, a few
// milliseconds after it became visible, by when the operator may have gone on
// to its next write: the crash points are near, not at, each write, and fewer
// kills land (a process may get two writes in before it dies). The
// assertions hold wherever a kill lands, and the effects' history is the
// server's own, read from the tape's watches.
#include "operator_fixture.h"

#include <iostream>
#include <sstream>

namespace remedy::testing {
namespace {

using sandbox::EventType;
using sandbox::StoreEvent;

const char* kRecoveryRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: api-recovery
spec:
  triggers:
    - alertName: ApiDown
      labels: {service: api}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 8
    - name: restart
      rolloutRestart:
        target: {kind: Deployment, name: api}
    - name: evict-workers
      deletePods:
        target: {kind: Deployment, name: worker}
        mode: Evict
        maxPercent: 50
        maxCount: 3
    - name: wait-rollout
      waitFor:
        target: {kind: Deployment, name: api}
        state: RolloutComplete
        pollInterval: 200ms
      timeout: 1m
)";

const char* kSteps[] = {"scale-out", "restart", "evict-workers", "wait-rollout"};

std::string restartedAtOf(const json& deployment) {
  return deployment["spec"]["template"]["metadata"]
      .value("annotations", json::object())
      .value(kRestartedAt, "");
}

// A write by the operator to Deployment api's spec (the scale or the restart).
bool isApiSpecChange(const StoreEvent& e) {
  return e.storageKey == kDeploymentsKey && e.name == "api" && e.type == EventType::Modified &&
         e.previous && generationOf(*e.object) > generationOf(*e.previous);
}

bool isWorkerPod(const StoreEvent& e) {
  return e.storageKey == kPodsKey &&
         (*e.object)["metadata"].value("labels", json::object()).value("app", "") == "worker";
}

bool isTerminating(const json& pod) { return pod["metadata"].contains("deletionTimestamp"); }

// A worker pod starting to go away (only the evict-workers step removes
// them): on kube-apiserver an evicted pod is first marked for deletion and
// terminates gracefully (kwok then removes it); the sandbox removes it at once.
bool isWorkerPodEviction(const StoreEvent& e) {
  if (!isWorkerPod(e)) return false;
  if (e.type == EventType::Modified) {
    return e.previous && isTerminating(*e.object) && !isTerminating(*e.previous);
  }
  return e.type == EventType::Deleted && !(e.previous && isTerminating(*e.previous));
}

// The Runbook's execution count going up (recorded as the Incident
// finishes, before the Incident's final write).
bool isExecutionRecorded(const StoreEvent& e) {
  if (e.storageKey != "remedy.dev/runbooks" || e.type != EventType::Modified || !e.previous) {
    return false;
  }
  auto executions = [](const json& rb) {
    return rb.value("status", json::object()).value("executions", 0);
  };
  return executions(*e.object) > executions(*e.previous);
}

class CrashSafetyTest : public OperatorE2ETest {
 protected:
  // Runs the recovery Runbook for one ApiDown alert while the operator is
  // SIGKILLed at every change matching `killPoint` and started afresh, until
  // the Incident finishes; then checks every effect happened exactly once.
  void runWithCrashes(const ChangeTape::Predicate& killPoint, size_t minimumKills) {
    createDeployment("api", 2);
    createDeployment("worker", 4);
    std::map<std::string, std::string> workersBefore = pods("worker");
    ASSERT_EQ(workersBefore.size(), 4u);
    int64_t apiGeneration = generationOf(deployment("api"));
    applyRunbook(kRecoveryRunbook);

    // Without leader election each fresh process reconciles at once; every
    // killed one is reaped before the next starts, so two never overlap.
    const std::vector<std::string> flags = {"--leader-elect=false"};
    OperatorProcess* op = &startOperator(flags);
    // Armed before the alert: the first checkpoint may commit before the
    // webhook has answered, and then the answer never comes. The Incident
    // was stored before that, which is what Alertmanager's retry relies on.
    tape_->killOnNext(op->process.pid(), killPoint);
    HttpAnswer answer = postAlerts(
        *op, webhookPayload("firing", json::array({testAlert("ApiDown", "a1b2c3d4e5f60718")})));
    EXPECT_TRUE(answer.status == 200 || answer.status == 0) << answer.status << answer.body;
    std::string name = awaitIncident("ApiDown");
    ASSERT_FALSE(name.empty()) << allLogs();

    int restarts = 0;
    json incident;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(75);
    while (std::chrono::steady_clock::now() < deadline && restarts < 40) {
      incident = getIncident(name);
      if (isFinal(phaseOf(incident))) break;
      if (!op->process.running()) {
        op = &startOperator(flags, "", "", /*waitReady=*/false);
        tape_->killOnNext(op->process.pid(), killPoint);
        ++restarts;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    tape_->disarm();
    std::vector<std::string> kills = tape_->kills();
    std::string killList;
    for (const auto& k : kills) killList += "  " + k + "\n";
    ASSERT_EQ(phaseOf(incident), "Succeeded") << "after " << restarts << " restarts; kills:\n"
                                              << killList << incident.dump(2) << allLogs();
    EXPECT_GE(kills.size(), minimumKills) << killList;
    syncTape();
    std::cout << "[          ] " << kills.size() << " crashes, " << restarts << " restarts, at:\n"
              << killList;

    // Every step ran one attempt, whatever the crashes.
    for (const char* step : kSteps) {
      json s = stepOf(incident, step);
      EXPECT_EQ(s.value("phase", ""), "Succeeded") << step << ": " << s.dump();
      EXPECT_EQ(s.value("attempts", 0), 1) << step << ": " << s.dump();
    }

    // Replicas +2 once: the spec was written exactly twice (scale, restart)
    // and never held anything but 2 and 4 replicas.
    json api = deployment("api");
    EXPECT_EQ(api["spec"].value("replicas", 0), 4);
    EXPECT_EQ(generationOf(api), apiGeneration + 2);
    std::set<int> replicasSeen;
    std::set<std::string> restartedAtSeen;
    int specWrites = 0;
    std::string firstRestartedAt;
    for (const auto& e : tape_->events(kDeploymentsKey, namespace_)) {
      if (e.name != "api") continue;
      replicasSeen.insert((*e.object)["spec"].value("replicas", -1));
      if (isApiSpecChange(e)) ++specWrites;
      std::string value = restartedAtOf(*e.object);
      if (!firstRestartedAt.empty()) {
        EXPECT_EQ(value, firstRestartedAt) << "restartedAt changed at rv " << e.resourceVersion;
      }
      if (!value.empty()) {
        restartedAtSeen.insert(value);
        if (firstRestartedAt.empty()) firstRestartedAt = value;
      }
    }
    EXPECT_EQ(replicasSeen, (std::set<int>{2, 4}));
    EXPECT_EQ(specWrites, 2);
    EXPECT_EQ(restartedAtSeen.size(), 1u);
    EXPECT_EQ(firstRestartedAt, outputsOf(incident, "restart").value("restartedAt", "<none>"));

    // The restart made one new ReplicaSet: two in all.
    std::set<std::string> replicaSets;
    for (const auto& e : tape_->events("apps/replicasets", namespace_)) {
      if (e.type == EventType::Added && e.name.rfind("api-", 0) == 0) replicaSets.insert(e.name);
    }
    EXPECT_EQ(replicaSets.size(), 2u) << json(replicaSets).dump();

    // Pods evicted: exactly the 2 allowed (50% of 4, under maxCount 3), all
    // chosen before the first attempt; no replacement was touched.
    std::set<std::string> evictedUids;
    std::set<std::string> evictedNames;
    for (const auto& e : tape_->events(kPodsKey, namespace_)) {
      if (!isWorkerPodEviction(e)) continue;
      std::string uid = kube::uidOf(*e.object);
      EXPECT_TRUE(evictedUids.insert(uid).second) << "pod " << e.name << " evicted twice";
      evictedNames.insert(e.name);
      EXPECT_EQ(workersBefore.count(e.name), 1u) << "a replacement pod was evicted: " << e.name;
    }
    EXPECT_EQ(evictedUids.size(), 2u);
    json evicted = outputsOf(incident, "evict-workers");
    EXPECT_EQ(evicted.value("deleted", ""), "2");
    std::set<std::string> reported;
    std::stringstream names(evicted.value("pods", ""));
    for (std::string pod; std::getline(names, pod, ',');) reported.insert(pod);
    EXPECT_EQ(reported, evictedNames);
    EXPECT_TRUE(waitUntil([&] { return availableReplicas("worker") == 4; }))
        << "the evicted workers were not replaced";

    // The Runbook counts one execution, by this Incident.
    auto runbook = client_->get(runbooksResource(), namespace_, "api-recovery");
    ASSERT_TRUE(runbook.ok());
    json stats = runbook->value("status", json::object());
    EXPECT_EQ(stats.value("executions", 0), 1) << stats.dump();
    EXPECT_EQ(stats.value("lastIncident", ""), name) << stats.dump();
    EXPECT_EQ(stats.value("lastResult", ""), "Succeeded") << stats.dump();
  }
};

// A kill after every status change the operator writes: each step boundary
// (each checkpoint, the first one with the match, each result) is a crash
// point.
TEST_F(CrashSafetyTest, KilledAtEveryCheckpointEachEffectHappensOnce) {
  // For each of the 4 steps its start (the first recorded with the match)
  // and its result. And once the Runbook's execution was reserved, before
  // the first checkpoint. On kube-apiserver a process may write twice before
  // it dies.
  runWithCrashes([](const StoreEvent& e) { return isStatusWrite(e) || isExecutionRecorded(e); },
                 onRealApiServer() ? 5 : 9);
}

// A kill in the middle of each step: right after its Running checkpoint
// (before the action), and right after each effect of the action (the
// scale, the restart, each eviction) before the result is recorded.
TEST_F(CrashSafetyTest, KilledInTheMiddleOfEveryStepEachEffectHappensOnce) {
  runWithCrashes(
      [](const StoreEvent& e) {
        return isStepCheckpoint(e) || isApiSpecChange(e) || isWorkerPodEviction(e);
      },
      // 4 checkpoints, the scale, the restart, 2 evictions (on
      // kube-apiserver a process may get an effect past its checkpoint).
      onRealApiServer() ? 4 : 8);
}

}  // namespace
}  // namespace remedy::testing
