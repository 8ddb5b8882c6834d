// A bad deploy, end to end through remedy-operator, on the sandbox and
// (real.OperatorE2ETest.*) on kube-apiserver with kube-controller-manager
// and kwok: KubePodCrashLooping names a pod of the new ReplicaSet; the
// Runbook resolves the pod to its Deployment, rolls it back to the previous
// template and waits for the rollout.
#include "operator_fixture.h"

namespace remedy::testing {
namespace {

const char* kBadDeployRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: crashloop-after-deploy
spec:
  description: Roll back the Deployment of a crash-looping pod.
  triggers:
    - alertName: KubePodCrashLooping
  steps:
    - name: roll-back
      rolloutUndo:
        target: {pod: '{{ alert.labels.pod }}', owner: Deployment}
    - name: wait-rollout
      waitFor:
        target: {pod: '{{ alert.labels.pod }}', owner: Deployment}
        state: RolloutComplete
        pollInterval: 200ms
      timeout: 1m
)";

TEST_F(OperatorE2ETest, ACrashLoopingPodAfterABadDeployRollsItsDeploymentBack) {
  createDeployment("api", 2);
  // The bad deploy: revision 2, whose pods crash in production.
  auto patched = client_->patch(
      kube::resources::deployments(), namespace_, "api",
      json{{"spec",
            {{"template",
              {{"spec",
                {{"containers", json::array({{{"name", "api"}, {"image", "nginx:9.9-bad"}}})}}}}}}}}
          .dump());
  ASSERT_TRUE(patched.ok()) << patched.status().toString();
  std::string badPod;
  ASSERT_TRUE(waitUntil([&] {
    kube::ListOptions o;
    o.labelSelector = "app=api";
    auto list = client_->list(kube::resources::pods(), namespace_, o);
    if (!list.ok()) return false;
    for (const auto& p : (*list)["items"]) {
      for (const auto& c : p["spec"]["containers"]) {
        if (c.value("image", "") == "nginx:9.9-bad") badPod = kube::nameOf(p);
      }
    }
    return !badPod.empty();
  })) << "no pod of the bad revision on "
      << apiServerName();
  applyRunbook(kBadDeployRunbook);
  OperatorProcess& op = startOperator();

  auto answer = postAlerts(
      op,
      webhookPayload("firing",
                     json::array({alert("KubePodCrashLooping",
                                        {{"namespace", namespace_},
                                         {"pod", badPod},
                                         {"container", "api"},
                                         {"severity", "warning"}},
                                        "c4a5b6d7e8f90a1b",
                                        kube::formatRfc3339(std::chrono::system_clock::now()))})));
  ASSERT_EQ(answer.status, 200) << answer.body;
  std::string name = awaitIncident("KubePodCrashLooping");
  ASSERT_FALSE(name.empty()) << allLogs();
  json incident = awaitFinal(name, std::chrono::seconds(90));
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();

  // What was resolved from what, on both steps.
  json target = stepOf(incident, "roll-back").value("target", json::object());
  EXPECT_EQ(target.value("kind", ""), "Deployment");
  EXPECT_EQ(target.value("name", ""), "api");
  EXPECT_EQ(target.value("pod", ""), badPod);
  EXPECT_EQ(target.value("via", ""), "Pod " + badPod + " -> ReplicaSet " +
                                         badPod.substr(0, badPod.rfind('-')) +
                                         " -> Deployment api");
  EXPECT_EQ(stepOf(incident, "wait-rollout").value("target", json::object()), target);
  // The revisions before and after.
  json outputs = outputsOf(incident, "roll-back");
  EXPECT_EQ(outputs.value("previousRevision", ""), "2");
  EXPECT_EQ(outputs.value("revision", ""), "1");
  // The previous template is back, and the controller made it revision 3.
  json api = deployment("api");
  EXPECT_EQ(api["spec"]["template"]["spec"]["containers"][0].value("image", ""), "nginx:1.27");
  EXPECT_EQ(api["metadata"]["annotations"].value("deployment.kubernetes.io/revision", ""), "3");
  EXPECT_EQ(availableReplicas("api"), 2);
}

}  // namespace
}  // namespace remedy::testing
