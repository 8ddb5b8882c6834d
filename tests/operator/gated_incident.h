// The fixture of the tests that stop, kill or pause an operator in the
// middle of an Incident (leader election, fencing): a Runbook that scales
// Deployment api by +2, waits at a gate (ConfigMap `gate`) the test opens,
// and restarts api, so an Incident can be held between two effects.
#pragma once

#include "operator_fixture.h"

#include <set>
#include <string>
#include <vector>

namespace remedy::testing {

inline constexpr const char* kGatedRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: api-gated
spec:
  triggers:
    - alertName: ApiSlow
      labels: {service: api}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 8
    - name: wait-gate
      waitFor:
        target: {kind: ConfigMap, name: gate}
        field: {path: .data.open, value: "true"}
        pollInterval: 200ms
      timeout: 2m
    - name: restart
      rolloutRestart:
        target: {kind: Deployment, name: api}
)";

// Whether `op` says, on its /metrics, that it leads (or follows).
inline bool leads(OperatorProcess& op) {
  return metricValue(op.metrics(), "remedy_leader").value_or(-1) == 1.0;
}
inline bool follows(OperatorProcess& op) {
  return metricValue(op.metrics(), "remedy_leader").value_or(-1) == 0.0;
}

class GatedIncidentTest : public OperatorE2ETest {
 protected:
  void SetUp() override {
    OperatorE2ETest::SetUp();
    if (HasFatalFailure()) return;
    createDeployment("api", 2);
    createGate("gate");
    applyRunbook(kGatedRunbook);
    generation_ = generationOf(deployment("api"));
  }

  // Fires ApiSlow at `webhook`'s webhook and waits until the Incident has
  // scaled and waits at the gate; returns its name.
  std::string incidentWaitingAtTheGate(OperatorProcess& webhook) {
    fire(webhook, "ApiSlow", "0f1e2d3c4b5a6978");
    std::string name = awaitIncident("ApiSlow");
    EXPECT_FALSE(name.empty()) << allLogs();
    nlohmann::json waiting = awaitIncidentState(name, [](const nlohmann::json& i) {
      return stepOf(i, "scale-out").value("phase", "") == "Succeeded" &&
             stepOf(i, "wait-gate").value("phase", "") == "Running";
    });
    EXPECT_FALSE(waiting.is_null()) << getIncident(name).dump(2) << allLogs();
    return name;
  }

  // The Incident succeeded with one attempt per step; the Deployment was
  // scaled once and restarted once, as its history on the tape shows.
  void expectEachEffectOnce(const std::string& name) {
    nlohmann::json incident = awaitFinal(name);
    ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();
    for (const char* step : {"scale-out", "wait-gate", "restart"}) {
      EXPECT_EQ(stepOf(incident, step).value("attempts", 0), 1) << step << incident.dump(2);
    }
    nlohmann::json api = deployment("api");
    EXPECT_EQ(api["spec"].value("replicas", 0), 4);
    EXPECT_EQ(generationOf(api), generation_ + 2) << "the scale and the restart, once each";
    syncTape();
    std::vector<int> replicas;
    std::set<std::string> restartedAt;
    for (const auto& e : tape_->events(kDeploymentsKey, namespace_)) {
      if (e.name != "api") continue;
      int r = (*e.object)["spec"].value("replicas", 0);
      if (replicas.empty() || replicas.back() != r) replicas.push_back(r);
      std::string value = (*e.object)["spec"]["template"]["metadata"]
                              .value("annotations", nlohmann::json::object())
                              .value(kRestartedAt, "");
      if (!value.empty()) restartedAt.insert(value);
    }
    EXPECT_EQ(replicas, (std::vector<int>{2, 4})) << "scaled once, by +2";
    EXPECT_EQ(restartedAt.size(), 1u) << "restarted once";
  }

  int64_t generation_ = 0;  // api's before the Incident
};

}  // namespace remedy::testing
