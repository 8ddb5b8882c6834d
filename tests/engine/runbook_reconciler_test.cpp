// The Runbook controller (#4 item 6) against the sandbox with the CRDs.
#include "engine/runbook_reconciler.h"

#include "engine_fixture.h"
#include "kube/controller.h"
#include "kube/informer.h"

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

constexpr const char* kValidSpec = R"(
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
)";

// Passes the schema, fails the semantics: an unknown parameter.
constexpr const char* kUnknownParameterSpec = R"(
steps:
  - name: scale-up
    scale:
      target: {name: '{{ params.nope }}'}
      replicas: "+2"
)";

// Valid, with a `when` that can only be false.
constexpr const char* kWarningSpec = R"(
triggers:
  - alertName: HighLatency
steps:
  - name: scale-up
    when: alert.labels.team == ""
    scale:
      target: {name: api}
      replicas: "+2"
)";

class RunbookReconcilerTest : public EngineTest {};

json readyCondition(const json& runbook) {
  for (const auto& c : runbook.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c;
  }
  return json::object();
}

TEST_F(RunbookReconcilerTest, ValidRunbookBecomesReadyWithObservedGeneration) {
  createRunbook("latency", kValidSpec);
  awaitRunbookCached("latency");
  RunbookReconciler reconciler(*client_, caches(), clock_);
  auto result = reconciler.reconcile(namespace_ + "/latency");
  EXPECT_TRUE(result.error.ok()) << result.error.toString();
  auto rb = client_->get(runbooks(), namespace_, "latency");
  ASSERT_TRUE(rb.ok());
  json ready = readyCondition(*rb);
  EXPECT_EQ(ready.value("status", ""), "True");
  EXPECT_EQ(ready.value("observedGeneration", 0), 1);
  EXPECT_EQ((*rb)["status"].value("observedGeneration", 0), 1);
  EXPECT_EQ((*rb)["status"].value("stepCount", 0), 1);
  EXPECT_EQ((*rb)["status"].value("executions", -1), 0);
}

TEST_F(RunbookReconcilerTest, InvalidRunbookIsMarkedInvalidSpecWithThePreciseMessage) {
  createRunbook("broken", kUnknownParameterSpec);
  awaitRunbookCached("broken");
  RunbookReconciler reconciler(*client_, caches(), clock_);
  reconciler.reconcile(namespace_ + "/broken");
  auto rb = client_->get(runbooks(), namespace_, "broken");
  ASSERT_TRUE(rb.ok());
  json ready = readyCondition(*rb);
  EXPECT_EQ(ready.value("status", ""), "False");
  EXPECT_EQ(ready.value("reason", ""), "InvalidSpec");
  EXPECT_NE(ready.value("message", "").find("spec.steps[0].scale.target.name"), std::string::npos)
      << ready.dump();
  EXPECT_NE(ready.value("message", "").find("nope"), std::string::npos) << ready.dump();
}

TEST_F(RunbookReconcilerTest, WarningsLeaveTheRunbookReadyAndAreInTheMessage) {
  createRunbook("warned", kWarningSpec);
  awaitRunbookCached("warned");
  RunbookReconciler reconciler(*client_, caches(), clock_);
  reconciler.reconcile(namespace_ + "/warned");
  auto rb = client_->get(runbooks(), namespace_, "warned");
  ASSERT_TRUE(rb.ok());
  json ready = readyCondition(*rb);
  EXPECT_EQ(ready.value("status", ""), "True");
  EXPECT_EQ(ready.value("reason", ""), "Valid");
  EXPECT_EQ(ready.value("message", ""),
            "the spec passed validation; warnings: spec.steps[0].when: alert.labels.team == \"\" "
            "can only be false: an empty alert label is a missing one, and a comparison with a "
            "missing value is false; write not has(alert.labels.team)");
}

TEST_F(RunbookReconcilerTest, UnchangedRunbookIsNotWrittenAgain) {
  createRunbook("latency", kValidSpec);
  awaitRunbookCached("latency");
  RunbookReconciler reconciler(*client_, caches(), clock_);
  reconciler.reconcile(namespace_ + "/latency");
  std::string rv = kube::resourceVersionOf(*client_->get(runbooks(), namespace_, "latency"));
  clock_.step(std::chrono::minutes(5));
  reconciler.reconcile(namespace_ + "/latency");
  EXPECT_EQ(kube::resourceVersionOf(*client_->get(runbooks(), namespace_, "latency")), rv);
}

TEST_F(RunbookReconcilerTest, MissingRunbookIsNotAnError) {
  RunbookReconciler reconciler(*client_, caches(), clock_);
  auto result = reconciler.reconcile(namespace_ + "/absent");
  EXPECT_TRUE(result.error.ok());
}

TEST_F(RunbookReconcilerTest, ControllerFollowsEditsAndKeepsRunningPastInvalidRunbooks) {
  // As the Engine wires it: the controller watches the informers the
  // reconciler reads.
  EngineCaches caches(*client_, cachesOptions());
  RunbookReconciler reconciler(*client_, caches, kube::Clock::real());
  kube::Controller controller("runbooks",
                              [&](const std::string& key) { return reconciler.reconcile(key); });
  for (auto* informer : caches.runbookInformers()) controller.watch(*informer);
  caches.start();
  ASSERT_TRUE(controller.start().ok());

  createRunbook("broken", kUnknownParameterSpec);
  createRunbook("latency", kValidSpec);
  auto readyOf = [&](const std::string& name) {
    auto rb = client_->get(runbooks(), namespace_, name);
    return rb.ok() ? readyCondition(*rb) : json::object();
  };
  EXPECT_TRUE(eventually([&] { return readyOf("broken").value("reason", "") == "InvalidSpec"; }));
  EXPECT_TRUE(eventually([&] { return readyOf("latency").value("status", "") == "True"; }));

  // Fixing the broken one: a new generation, observed and Ready.
  auto rb = client_->get(runbooks(), namespace_, "broken");
  ASSERT_TRUE(rb.ok());
  (*rb)["spec"]["steps"][0]["scale"]["target"]["name"] = "web";
  ASSERT_TRUE(client_->update(runbooks(), namespace_, *rb).ok());
  EXPECT_TRUE(eventually([&] {
    json ready = readyOf("broken");
    return ready.value("status", "") == "True" && ready.value("observedGeneration", 0) == 2;
  }));
  controller.stop();
  caches.stop();
}

}  // namespace
}  // namespace remedy::engine
