// Each guardrail refusing (with its recorded reason) and allowing, plus
// one remediation per target: two Incidents on one Deployment never act
// concurrently.
#include "engine/guardrail_check.h"

#include "engine_fixture.h"

#include <thread>

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

class GuardrailTest : public EngineTest {
 protected:
  // A Runbook scaling `{{ alert.labels.deployment }}` by +1 with `guardrails`.
  void scaleRunbook(const std::string& name, const std::string& alert,
                    const std::string& guardrails) {
    createRunbook(name, R"(
triggers: [{alertName: )" + alert +
                            R"(}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
guardrails: )" + guardrails +
                            "\n");
  }

  // A Runbook that scales, then waits until the Deployment is labelled
  // done=yes, so a test decides when it ends.
  void holdingRunbook(const std::string& name, const std::string& guardrails) {
    createRunbook(name, R"(
triggers: [{alertName: Hold}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
  - name: hold
    waitFor:
      target: {name: '{{ alert.labels.deployment }}'}
      field: {path: .metadata.labels.done, value: "yes"}
      pollInterval: 1s
    timeout: 1h
guardrails: )" + guardrails +
                            "\n");
  }

  void release(const std::string& deployment) {
    json patch = {{"metadata", {{"labels", {{"done", "yes"}}}}}};
    ASSERT_TRUE(
        client_->patch(kube::resources::deployments(), namespace_, deployment, patch.dump()).ok());
  }

  std::string conditionReason(const std::string& incidentName, const std::string& type) {
    for (const auto& c : incident(incidentName)
                             .value("status", json::object())
                             .value("conditions", json::array())) {
      if (c.value("type", "") == type) return c.value("reason", "");
    }
    return "";
  }

  bool timelineMentions(const std::string& incidentName, const std::string& text) {
    return incident(incidentName)
               .value("status", json::object())
               .value("timeline", json::array())
               .dump()
               .find(text) != std::string::npos;
  }

  int replicas(const std::string& name) {
    return getDeployment(name)["spec"].value("replicas", -1);
  }
};

TEST_F(GuardrailTest, DryRunReportsAndChangesNothing) {
  createDeployment("web", 2);
  scaleRunbook("rb", "A", "{}");
  createIncident("dry", "A", {{"deployment", "web"}}, /*dryRun=*/true);
  ASSERT_TRUE(driveToPhase("dry", "Succeeded"));
  EXPECT_EQ(replicas("web"), 2);
  json step = stepOf("dry", "scale-up");
  EXPECT_TRUE(step.value("dryRun", false));
  EXPECT_NE(step.value("message", "").find("dry run: would scale"), std::string::npos);

  createIncident("real", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("real", "Succeeded"));
  EXPECT_EQ(replicas("web"), 3);
}

TEST_F(GuardrailTest, CooldownRefusesASecondExecutionAndAllowsOneAfterIt) {
  createDeployment("web", 1);
  scaleRunbook("rb", "A", "{cooldown: 10m}");
  createIncident("first", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("first", "Succeeded"));
  createIncident("second", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("second", "Skipped"));
  EXPECT_EQ(conditionReason("second", "GuardrailRefused"), "cooldown");
  EXPECT_TRUE(timelineMentions("second", "cooldown"));
  EXPECT_EQ(replicas("web"), 2);

  clock_.step(std::chrono::minutes(11));
  createIncident("third", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("third", "Succeeded"));
  EXPECT_EQ(replicas("web"), 3);
}

TEST_F(GuardrailTest, MaxExecutionsPerWindowCountsFromIncidentsAndSurvivesRestart) {
  createDeployment("web", 1);
  scaleRunbook("rb", "A", "{maxExecutions: {count: 2, per: 1h}}");
  for (const char* name : {"one", "two"}) {
    createIncident(name, "A", {{"deployment", "web"}});
    ASSERT_TRUE(driveToPhase(name, "Succeeded")) << name;
    clock_.step(std::chrono::minutes(1));
  }
  // A fresh reconciler (a restarted operator) still counts both.
  createIncident("three", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("three", "Skipped"));
  EXPECT_EQ(conditionReason("three", "GuardrailRefused"), "maxExecutions");
  EXPECT_EQ(replicas("web"), 3);
  clock_.step(std::chrono::hours(1));
  createIncident("four", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("four", "Succeeded"));
}

TEST_F(GuardrailTest, ProtectedObjectsAreNeverTouched) {
  createDeployment("vault", 1, {{"remedy.dev/protected", "true"}});
  createDeployment("web", 1);
  scaleRunbook("rb", "A", "{}");
  createIncident("refused", "A", {{"deployment", "vault"}});
  ASSERT_TRUE(driveToPhase("refused", "Failed"));
  EXPECT_EQ(conditionReason("refused", "GuardrailRefused"), "protected");
  EXPECT_EQ(replicas("vault"), 1);
  createIncident("allowed", "A", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("allowed", "Succeeded"));
  EXPECT_EQ(replicas("web"), 2);
}

TEST_F(GuardrailTest, ScaleBoundsRefuseAChangeOutsideThem) {
  createDeployment("web", 2);
  createRunbook("big", R"(
triggers: [{alertName: Big}]
steps: [{name: scale-up, scale: {target: {name: web}, replicas: "+3"}}]
guardrails: {scale: {maxReplicas: 4}}
)");
  createRunbook("small", R"(
triggers: [{alertName: Small}]
steps: [{name: scale-up, scale: {target: {name: web}, replicas: "+2"}}]
guardrails: {scale: {maxReplicas: 4, maxChange: 2}}
)");
  createIncident("refused", "Big", {});
  ASSERT_TRUE(driveToPhase("refused", "Failed"));
  EXPECT_EQ(conditionReason("refused", "GuardrailRefused"), "scaleBounds");
  EXPECT_NE(stepOf("refused", "scale-up").value("message", "").find("above maxReplicas 4"),
            std::string::npos);
  EXPECT_EQ(replicas("web"), 2);
  createIncident("allowed", "Small", {});
  ASSERT_TRUE(driveToPhase("allowed", "Succeeded"));
  EXPECT_EQ(replicas("web"), 4);
}

TEST_F(GuardrailTest, PodDisruptionBoundsRefuseTooManyPods) {
  createDeployment("web", 4);
  createRunbook("many", R"(
triggers: [{alertName: Many}]
steps: [{name: evict, deletePods: {target: {name: web}}}]
guardrails: {podDisruption: {maxCount: 2}}
)");
  createRunbook("few", R"(
triggers: [{alertName: Few}]
steps: [{name: evict, deletePods: {target: {name: web}, maxCount: 2}}]
guardrails: {podDisruption: {maxCount: 2, maxPercent: 50}}
)");
  std::set<std::string> before = podNames("web");
  createIncident("refused", "Many", {});
  ASSERT_TRUE(driveToPhase("refused", "Failed"));
  EXPECT_EQ(conditionReason("refused", "GuardrailRefused"), "podDisruption");
  EXPECT_EQ(podNames("web"), before);
  createIncident("allowed", "Few", {});
  ASSERT_TRUE(driveToPhase("allowed", "Succeeded"));
  json step = stepOf("allowed", "evict");
  EXPECT_EQ(step["outputs"].value("deleted", ""), "2");
  ASSERT_TRUE(eventually([&] {
    auto now = podNames("web");
    int kept = 0;
    for (const auto& p : before) kept += static_cast<int>(now.count(p));
    return kept == 2;
  }));
}

TEST_F(GuardrailTest, GlobalPauseStopsARunningIncidentBeforeItsNextStep) {
  createDeployment("web", 1);
  createRunbook("two", R"(
triggers: [{alertName: Two}]
steps:
  - {name: first, scale: {target: {name: web}, replicas: "+1"}}
  - {name: second, scale: {target: {name: web}, replicas: "+1"}}
)");
  createIncident("i1", "Two", {});
  auto reconciler = newReconciler();
  std::string key = namespace_ + "/i1";
  ASSERT_TRUE(drive(
      key, [&] { return stepOf("i1", "first").value("phase", "") == "Succeeded"; },
      reconciler.get()));
  setPaused(true);
  for (int i = 0; i < 3; ++i) reconciler->reconcile(key);
  EXPECT_EQ(conditionReason("i1", "Waiting"), "pause");
  EXPECT_EQ(stepOf("i1", "second").value("attempts", -1), 0);
  EXPECT_EQ(replicas("web"), 2);
  setPaused(false);
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler.get()));
  EXPECT_EQ(replicas("web"), 3);
}

TEST_F(GuardrailTest, MaxConcurrentMakesTheLaterIncidentWait) {
  createDeployment("web-a", 1);
  createDeployment("web-b", 1);
  holdingRunbook("hold", "{maxConcurrent: 1}");
  createIncident("a", "Hold", {{"deployment", "web-a"}});
  createIncident("b", "Hold", {{"deployment", "web-b"}});
  auto reconciler = newReconciler();
  ASSERT_TRUE(drive(
      namespace_ + "/a", [&] { return stepOf("a", "hold").value("phase", "") == "Running"; },
      reconciler.get()));
  ASSERT_TRUE(drive(
      namespace_ + "/b", [&] { return conditionReason("b", "Waiting") == "maxConcurrent"; },
      reconciler.get()));
  EXPECT_EQ(stepOf("b", "scale-up").value("attempts", -1), 0);
  release("web-a");
  ASSERT_TRUE(driveToPhase("a", "Succeeded", reconciler.get()));
  release("web-b");
  ASSERT_TRUE(driveToPhase("b", "Succeeded", reconciler.get()));
  EXPECT_EQ(replicas("web-b"), 2);
}

TEST_F(GuardrailTest, TwoIncidentsOnOneDeploymentNeverActConcurrently) {
  createDeployment("web", 1);
  holdingRunbook("hold", "{}");
  createIncident("a", "Hold", {{"deployment", "web"}});
  createIncident("b", "Hold", {{"deployment", "web"}});
  auto reconciler = newReconciler();
  ASSERT_TRUE(drive(
      namespace_ + "/a", [&] { return stepOf("a", "hold").value("phase", "") == "Running"; },
      reconciler.get()));
  ASSERT_TRUE(drive(
      namespace_ + "/b",
      [&] { return conditionReason("b", "Waiting") == "oneRemediationPerTarget"; },
      reconciler.get()));
  for (int i = 0; i < 3; ++i) reconciler->reconcile(namespace_ + "/b");
  EXPECT_EQ(stepOf("b", "scale-up").value("attempts", -1), 0);
  EXPECT_TRUE(timelineMentions("b", "being remediated by incident a"));
  release("web");
  ASSERT_TRUE(driveToPhase("a", "Succeeded", reconciler.get()));
  // The first one fixed it: the second is Skipped with the reason.
  ASSERT_TRUE(driveToPhase("b", "Skipped", reconciler.get()));
  EXPECT_EQ(stepOf("b", "scale-up").value("attempts", -1), 0);
  EXPECT_EQ(replicas("web"), 2);
}

TEST_F(GuardrailTest, ConcurrentWorkersNeverRunTwoIncidentsOnOneTarget) {
  createDeployment("web", 1);
  holdingRunbook("hold", "{}");
  for (int i = 0; i < 4; ++i)
    createIncident("i" + std::to_string(i), "Hold", {{"deployment", "web"}});
  // Four workers race on four Incidents for the same Deployment.
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([this, i] {
      auto reconciler = newReconciler();
      for (int n = 0; n < 6; ++n) reconciler->reconcile(namespace_ + "/i" + std::to_string(i));
    });
  }
  for (auto& w : workers) w.join();
  int acting = 0;
  for (int i = 0; i < 4; ++i) {
    if (stepOf("i" + std::to_string(i), "scale-up").value("attempts", 0) > 0) ++acting;
  }
  EXPECT_EQ(acting, 1);
  EXPECT_EQ(replicas("web"), 2);
}

// Caches synced now and never updated again: what an operator whose watch
// fell behind (or another operator process) would read.
std::unique_ptr<EngineCaches> frozenCaches(kube::Client& client, EngineCachesOptions options) {
  auto caches = std::make_unique<EngineCaches>(client, std::move(options));
  caches->start();
  EXPECT_TRUE(caches->waitForSync(std::chrono::seconds(30)));
  caches->stop();
  return caches;
}

// Puts Incident ns/name, as the API server holds it now, into `caches` as its
// watch event would (frozen caches see nothing else since they synced).
void showIn(EngineCaches& caches, kube::Client& client, const std::string& ns,
            const std::string& name) {
  auto got = client.get(incidents(), ns, name);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  caches.assumeIncident(*got);
}

TEST_F(GuardrailTest, TwoIncidentsRacingForOneTargetUnderStaleCachesNeverBothAct) {
  createDeployment("web", 1);
  holdingRunbook("hold", "{}");
  // A second Runbook for the same target, so the two Incidents reserve on
  // different Runbooks' histories: only the target's Lease is shared.
  createRunbook("hold-too", R"(
triggers: [{alertName: HoldToo}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
  - name: hold
    waitFor:
      target: {name: '{{ alert.labels.deployment }}'}
      field: {path: .metadata.labels.done, value: "yes"}
      pollInterval: 1s
    timeout: 1h
)");
  // Each Incident's reconciler reads caches taken before either Incident
  // existed, which then saw its own Incident only: neither ever sees the
  // other.
  auto staleA = frozenCaches(*client_, cachesOptions());
  auto staleB = frozenCaches(*client_, cachesOptions());
  createIncident("a", "Hold", {{"deployment", "web"}});
  createIncident("b", "HoldToo", {{"deployment", "web"}});
  ASSERT_NO_FATAL_FAILURE(showIn(*staleA, *client_, namespace_, "a"));
  ASSERT_NO_FATAL_FAILURE(showIn(*staleB, *client_, namespace_, "b"));
  auto ra = newReconciler({}, staleA.get());
  auto rb = newReconciler({}, staleB.get());
  ASSERT_TRUE(drive(
      namespace_ + "/a", [&] { return stepOf("a", "hold").value("phase", "") == "Running"; },
      ra.get()));
  ASSERT_TRUE(drive(
      namespace_ + "/b",
      [&] { return conditionReason("b", "Waiting") == "oneRemediationPerTarget"; }, rb.get()));
  for (int i = 0; i < 3; ++i) rb->reconcile(namespace_ + "/b");
  // b's cache shows nothing on the target: the Lease alone held it back.
  auto seen =
      staleB->incidentViews(namespace_, "b", "hold-too", {"Deployment/" + namespace_ + "/web"});
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(seen->empty());
  EXPECT_EQ(stepOf("b", "scale-up").value("attempts", -1), 0);
  EXPECT_TRUE(timelineMentions("b", "being remediated by incident a"));
  EXPECT_EQ(replicas("web"), 2);
  // Once a has ended its Lease is free, and b goes on.
  release("web");
  ASSERT_TRUE(driveToPhase("a", "Succeeded", ra.get()));
  ASSERT_TRUE(driveToPhase("b", "Succeeded", rb.get()));
  EXPECT_EQ(replicas("web"), 3);
}

TEST_F(GuardrailTest, AMissingLeaseNamespaceMakesTheFirstActionWaitSayingWhy) {
  createDeployment("web", 1);
  scaleRunbook("rb", "A", "{}");
  std::string key = createIncident("i1", "A", {{"deployment", "web"}});
  // The operator's namespace (where the Leases live) was never created.
  IncidentReconcilerOptions options;
  options.pauseNamespace = namespace_ + "-operator";
  options.sealer = &sealer_;
  IncidentReconciler reconciler(*client_, caches(), *serviceAccounts_, *registry_, clock_, nullptr,
                                options);
  ASSERT_TRUE(drive(
      key, [&] { return conditionReason("i1", "Waiting") == "oneRemediationPerTarget"; },
      &reconciler));
  // A requeue after the wait interval, not an error the queue backs off on.
  for (int i = 0; i < 3; ++i) {
    auto result = reconciler.reconcile(key);
    EXPECT_TRUE(result.error.ok()) << result.error.toString();
    EXPECT_EQ(result.requeueAfter, GuardrailCheck::kWaitInterval);
    clock_.step(result.requeueAfter);
  }
  EXPECT_TRUE(timelineMentions("i1", "namespace " + options.pauseNamespace +
                                         ", where the operator holds the targets' Leases"))
      << incident("i1")["status"].dump();
  EXPECT_EQ(stepOf("i1", "scale-up").value("attempts", -1), 0);
  EXPECT_EQ(replicas("web"), 1);
  // Once it exists, the step runs, and the Lease is released at the end.
  json ns = {{"apiVersion", "v1"},
             {"kind", "Namespace"},
             {"metadata", {{"name", options.pauseNamespace}}}};
  ASSERT_TRUE(client_->create(kube::resources::namespaces(), "", ns).ok());
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", &reconciler));
  EXPECT_EQ(replicas("web"), 2);
  auto lease = client_->get(kube::resources::leases(), options.pauseNamespace,
                            TargetLeases::leaseName("Deployment/" + namespace_ + "/web"));
  ASSERT_TRUE(lease.ok()) << lease.status().toString();
  EXPECT_EQ((*lease)["spec"].value("holderIdentity", "?"), "");
}

class RestartTest : public GuardrailTest {
 protected:
  // "first" runs; "second", within `guardrails`, is reconciled after a
  // restart with a warm but stale cache (taken before "first" ran, which
  // then saw "second" only: its Runbook's history is the one before
  // "first"), then with a cold one: it never acts, and ends Skipped for
  // `guardrail`.
  void holdsAcrossARestart(const std::string& guardrails, const std::string& guardrail) {
    createDeployment("web", 1);
    scaleRunbook("rb", "A", guardrails);
    auto warm = frozenCaches(*client_, cachesOptions());
    createIncident("first", "A", {{"deployment", "web"}});
    ASSERT_TRUE(driveToPhase("first", "Succeeded"));
    clock_.step(std::chrono::minutes(1));
    createIncident("second", "A", {{"deployment", "web"}});
    ASSERT_NO_FATAL_FAILURE(showIn(*warm, *client_, namespace_, "second"));
    auto restarted = newReconciler({}, warm.get());
    for (int i = 0; i < 6; ++i) {
      auto result = restarted->reconcile(namespace_ + "/second");
      if (result.requeueAfter > kube::Duration(0)) clock_.step(result.requeueAfter);
    }
    EXPECT_EQ(stepOf("second", "scale-up").value("attempts", -1), 0);
    EXPECT_EQ(replicas("web"), 2);
    // A cold start: caches listed afresh.
    EngineCaches cold(*client_, cachesOptions());
    cold.start();
    ASSERT_TRUE(cold.waitForSync(std::chrono::seconds(30)));
    auto again = newReconciler({}, &cold);
    ASSERT_TRUE(driveToPhase("second", "Skipped", again.get()));
    EXPECT_EQ(conditionReason("second", "GuardrailRefused"), guardrail);
    EXPECT_EQ(replicas("web"), 2);
  }
};

TEST_F(RestartTest, CooldownHoldsWithWarmAndColdCaches) {
  holdsAcrossARestart("{cooldown: 1h}", "cooldown");
}

TEST_F(RestartTest, MaxExecutionsHoldsWithWarmAndColdCaches) {
  holdsAcrossARestart("{maxExecutions: {count: 1, per: 1h}}", "maxExecutions");
}

// Guardrails fail closed: a read a guardrail needs that fails makes the
// step wait (recorded with the reason), and it proceeds once the read works.
class FailClosedTest : public GuardrailTest {
 protected:
  // Matches i1 (scaling web by +1); then `inject`s a fault and restarts
  // with cold caches (synced first when `cachesSync`, the Incident cache in
  // any case), and shows the step waits on `guardrail` without acting; then
  // clears the fault and shows the step runs.
  void waitsWhileFailing(const std::function<void()>& inject, bool cachesSync,
                         const std::string& guardrail, const std::string& message) {
    createDeployment("web", 1);
    scaleRunbook("rb", "A", "{cooldown: 1h}");
    std::string key = createIncident("i1", "A", {{"deployment", "web"}});
    // Matched under the pause, which holds its first step (the match is
    // recorded with the step's first record), then resumed.
    setPaused(true);
    ASSERT_TRUE(drive(key, [&] { return conditionReason("i1", "Waiting") == "pause"; }));
    setPaused(false);
    inject();
    EngineCaches cold(*client_, cachesOptions());
    cold.start();
    if (cachesSync) {
      ASSERT_TRUE(cold.waitForSync(std::chrono::seconds(30)));
    }
    // The Incident cache synced all the same: the controller's workers
    // start once it has.
    ASSERT_TRUE(eventually([&] { return cold.incident(namespace_, "i1").synced; }));
    auto reconciler = newReconciler({}, &cold);
    for (int i = 0; i < 3; ++i) {
      auto result = reconciler->reconcile(key);
      EXPECT_EQ(result.requeueAfter, GuardrailCheck::kWaitInterval);
      clock_.step(result.requeueAfter);
    }
    sandbox_->faults().clear();
    EXPECT_EQ(conditionReason("i1", "Waiting"), guardrail);
    EXPECT_TRUE(timelineMentions("i1", message)) << incident("i1")["status"].dump();
    EXPECT_EQ(stepOf("i1", "scale-up").value("attempts", -1), 0);
    EXPECT_EQ(replicas("web"), 1);
    ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler.get()));
    EXPECT_EQ(replicas("web"), 2);
    EXPECT_EQ(conditionReason("i1", "Waiting"), "");
  }
};

TEST_F(FailClosedTest, AnIncidentCacheThatCannotListRunsNothingUntilItSyncs) {
  // The Incident informer can neither list nor watch: its cache never
  // syncs, so nothing is judged on nothing. kube::Controller starts no
  // worker before the caches sync, and a reconcile before that requeues
  // (with the queue's backoff) without a read, a write or an effect.
  createDeployment("web", 1);
  scaleRunbook("rb", "A", "{cooldown: 1h}");
  std::string key = createIncident("i1", "A", {{"deployment", "web"}});
  sandbox_->faults().failNextEndingWith(1000000, 500, "/namespaces/" + namespace_ + "/incidents");
  EngineCaches cold(*client_, cachesOptions());
  cold.start();
  auto reconciler = newReconciler({}, &cold);
  for (int i = 0; i < 3; ++i) {
    auto result = reconciler->reconcile(key);
    EXPECT_TRUE(result.requeue);
    EXPECT_EQ(result.requeueAfter, kube::Duration(0));
    EXPECT_TRUE(result.error.ok()) << result.error.toString();
  }
  EXPECT_FALSE(cold.incident(namespace_, "i1").synced);
  EXPECT_EQ(incident("i1").value("status", json::object()).value("phase", ""), "");
  EXPECT_EQ(replicas("web"), 1);
  // Once the informer lists, the step runs.
  sandbox_->faults().clear();
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler.get()));
  EXPECT_EQ(replicas("web"), 2);
}

TEST_F(FailClosedTest, AFailedReadOfTheTargetMakesTheStepWait) {
  // The scale subresource (the action's baseline) still reads; the target
  // itself, whose labels say whether it is protected, does not.
  waitsWhileFailing(
      [&] {
        sandbox_->faults().failNextEndingWith(1000000, 500,
                                              "/namespaces/" + namespace_ + "/deployments/web");
      },
      true, "protected",
      "cannot read Deployment " + namespace_ + "/web to check its " + std::string(kProtectedLabel) +
          " label");
}

TEST_F(FailClosedTest, AFailedReadOfTheRunbookHistoryMakesTheStepWait) {
  // The Runbook informer cannot list: its cache never syncs.
  waitsWhileFailing(
      [&] { sandbox_->faults().failNext(1000000, 500, "/namespaces/" + namespace_ + "/runbooks"); },
      false, "runbookHistory", "cannot read runbook rb to judge cooldown and maxExecutions");
}

}  // namespace
}  // namespace remedy::engine
