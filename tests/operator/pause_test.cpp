// The global pause through the real CLI: `remedyctl pause` stops a running
// Incident before its next step (the running step finishes), with a Waiting
// condition that says why; `remedyctl resume` lets it continue at once.
#include "operator_fixture.h"

#include <iostream>

namespace remedy::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const char* kPausedRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: api-after-gate
spec:
  triggers:
    - alertName: ApiPause
      labels: {service: api}
  steps:
    - name: wait-gate
      waitFor:
        target: {kind: ConfigMap, name: gate}
        field: {path: .data.open, value: "true"}
        pollInterval: 200ms
      timeout: 2m
    - name: scale-out
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 8
)";

class PauseTest : public OperatorE2ETest {
 protected:
  // Runs remedyctl with `args` against the API server, for the operators'
  // namespace; returns its exit code (-1 when it did not exit in time) and output.
  std::pair<int, std::string> remedyctl(std::vector<std::string> args) {
    ProcessOptions p;
    p.argv = {std::string(REMEDY_BINARY_DIR) + "/src/cli/remedyctl"};
    p.argv.insert(p.argv.end(), args.begin(), args.end());
    p.argv.insert(p.argv.end(), {"--kubeconfig", kubeconfigPath(), "-n", systemNamespace()});
    p.logPath = tempDir() + "/remedyctl-" + std::to_string(++runs_) + ".log";
    ChildProcess cli(p);
    bool exited = waitUntil([&] { return !cli.running(); }, seconds(30));
    int status = cli.exitStatus();
    return {exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, cli.log()};
  }

  // The condition of `type` on `incident`, pointing into it (null when absent).
  static const json* condition(const json& incident, const std::string& type) {
    auto status = incident.find("status");
    if (status == incident.end() || !status->contains("conditions")) return nullptr;
    for (const auto& c : (*status)["conditions"]) {
      if (c.value("type", "") == type) return &c;
    }
    return nullptr;
  }

  int runs_ = 0;
};

TEST_F(PauseTest, PauseStopsARunningIncidentBeforeItsNextStepAndResumeContinuesIt) {
  createDeployment("api", 2);
  createGate("gate");
  applyRunbook(kPausedRunbook);
  OperatorProcess& op = startOperator();
  fire(op, "ApiPause", "9a05e9a05e9a05e0");
  std::string name = awaitIncident("ApiPause");
  ASSERT_FALSE(name.empty()) << allLogs();
  ASSERT_FALSE(awaitIncidentState(name,
                                  [](const json& i) {
                                    return stepOf(i, "wait-gate").value("phase", "") == "Running";
                                  })
                   .is_null())
      << getIncident(name).dump(2) << allLogs();

  auto [paused, pauseOutput] = remedyctl({"pause", "--reason", "maintenance window"});
  ASSERT_EQ(paused, 0) << pauseOutput;
  EXPECT_NE(pauseOutput.find("paused"), std::string::npos) << pauseOutput;
  auto cm = client_->get(kube::resources::configMaps(), systemNamespace_, "remedy-pause");
  ASSERT_TRUE(cm.ok()) << cm.status().toString();
  EXPECT_EQ((*cm)["data"].value("paused", ""), "true");

  // The running step finishes; the next one does not start.
  openGate("gate");
  json waiting = awaitIncidentState(name, [](const json& i) {
    const json* c = condition(i, "Waiting");
    return stepOf(i, "wait-gate").value("phase", "") == "Succeeded" && c &&
           c->value("status", "") == "True";
  });
  ASSERT_FALSE(waiting.is_null()) << getIncident(name).dump(2) << allLogs();
  const json* why = condition(waiting, "Waiting");
  EXPECT_NE(why->value("reason", "").find("pause"), std::string::npos) << why->dump();
  EXPECT_NE(why->value("message", "").find("pause"), std::string::npos) << why->dump();
  EXPECT_EQ(phaseOf(waiting), "Running");
  json scale = stepOf(waiting, "scale-out");
  EXPECT_EQ(scale.value("phase", ""), "Pending") << scale.dump();
  EXPECT_EQ(scale.value("attempts", 0), 0) << scale.dump();
  EXPECT_EQ(deployment("api")["spec"].value("replicas", 0), 2);

  // Resume: the Incident continues at once (the pause ConfigMap wakes it,
  // sooner than the 5s the guardrail would wait to look again).
  auto resumedAt = std::chrono::steady_clock::now();
  auto [resumed, resumeOutput] = remedyctl({"resume"});
  ASSERT_EQ(resumed, 0) << resumeOutput;
  json incident = awaitFinal(name);
  auto took = std::chrono::steady_clock::now() - resumedAt;
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();
  std::cout << "[          ] resume to Succeeded: "
            << std::chrono::duration_cast<milliseconds>(took).count() << " ms\n";
  EXPECT_LT(took, milliseconds(4000));
  EXPECT_EQ(stepOf(incident, "scale-out").value("attempts", 0), 1);
  EXPECT_EQ(deployment("api")["spec"].value("replicas", 0), 4);
  EXPECT_EQ(condition(incident, "Waiting"), nullptr) << incident.dump(2);
  bool noted = false;
  for (const auto& entry : incident["status"].value("timeline", json::array())) {
    if (entry.value("type", "") == "Waiting" &&
        entry.value("message", "").find("pause") != std::string::npos) {
      noted = true;
    }
  }
  EXPECT_TRUE(noted) << incident["status"]["timeline"].dump(2);
}

}  // namespace
}  // namespace remedy::testing
