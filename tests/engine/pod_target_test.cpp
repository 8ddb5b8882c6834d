// A step target named by an alert's pod (kube-prometheus alerts carry
// `pod`, not `deployment`): the engine resolves the pod's owner as the
// tenant when the step first starts, records it on the step's status, and
// every guardrail and later step sees the workload. rolloutUndo through the
// engine: the alert's pod's Deployment rolled back, within the guardrails.
#include "engine_fixture.h"

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

constexpr const char* kCrashLoopSpec = R"(
triggers:
  - alertName: KubePodCrashLooping
steps:
  - name: scale
    scale:
      target: {pod: '{{ alert.labels.pod }}', owner: OWNER}
      replicas: "+1"
  - name: wait
    waitFor:
      target: {pod: '{{ alert.labels.pod }}', owner: OWNER}
      state: Exists
)";

class PodTargetTest : public EngineTest {
 protected:
  void createRunbookFor(const std::string& owner) {
    std::string spec = kCrashLoopSpec;
    for (size_t at; (at = spec.find("OWNER")) != std::string::npos;) spec.replace(at, 5, owner);
    createRunbook("crashloop", spec);
  }
  std::string message(const std::string& incident, const std::string& step) {
    return stepOf(incident, step).value("message", "");
  }
};

TEST_F(PodTargetTest, TheAlertsPodResolvesToItsDeploymentRecordedOnTheStep) {
  createDeployment("web", 2);
  createRunbookFor("Deployment");
  std::string pod = *podNames("web").begin();
  createIncident("crash-1", "KubePodCrashLooping",
                 {{"namespace", namespace_}, {"pod", pod}, {"container", "app"}});
  ASSERT_TRUE(driveToPhase("crash-1", "Succeeded")) << incident("crash-1").dump(2);

  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 3);
  json target = stepOf("crash-1", "scale").value("target", json::object());
  std::string rs = pod.substr(0, pod.rfind('-'));
  EXPECT_EQ(target, (json{{"apiVersion", "apps/v1"},
                          {"kind", "Deployment"},
                          {"namespace", namespace_},
                          {"name", "web"},
                          {"pod", pod},
                          {"podUid", target.value("podUid", "?")},
                          {"via", "Pod " + pod + " -> ReplicaSet " + rs + " -> Deployment web"}}));
  EXPECT_FALSE(target.value("podUid", "").empty());
  EXPECT_EQ(stepOf("crash-1", "scale")["outputs"].value("replicas", ""), "3");
  // The second step naming the same pod acts on the same Deployment.
  EXPECT_EQ(stepOf("crash-1", "wait").value("target", json::object()), target);
  EXPECT_EQ(message("crash-1", "wait"), "Deployment " + namespace_ + "/web exists");
  bool noted = false;
  const json timeline = incident("crash-1")["status"]["timeline"];
  for (const auto& e : timeline) {
    noted = noted || (e.value("type", "") == "TargetResolved" && e.value("step", "") == "scale" &&
                      e.value("message", "") == "target.pod " + namespace_ + "/" + pod +
                                                    " resolved to Deployment " + namespace_ +
                                                    "/web (" + target.value("via", "") + ")");
  }
  EXPECT_TRUE(noted) << timeline.dump(2);
}

TEST_F(PodTargetTest, APodThatIsGoneFailsTheStepNamingTargetPod) {
  createDeployment("web", 1);
  createRunbookFor("Deployment");
  createIncident("crash-1", "KubePodCrashLooping", {{"pod", "web-5d8c7-gone1"}});
  ASSERT_TRUE(driveToPhase("crash-1", "Failed")) << incident("crash-1").dump(2);
  EXPECT_EQ(message("crash-1", "scale")
                .rfind("steps.scale.scale.target.pod: pod " + namespace_ +
                           "/web-5d8c7-gone1 (gone since the alert named "
                           "it, or never there) not found",
                       0),
            0u)
      << message("crash-1", "scale");
  EXPECT_FALSE(stepOf("crash-1", "scale").contains("target"));
  EXPECT_EQ(stepOf("crash-1", "scale").value("attempts", 0), 0);
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 1);
}

TEST_F(PodTargetTest, APodOfAnotherKindOfOwnerFailsTheStepNamingTargetOwner) {
  createDeployment("web", 1);
  createRunbookFor("StatefulSet");
  std::string pod = *podNames("web").begin();
  createIncident("crash-1", "KubePodCrashLooping", {{"pod", pod}});
  ASSERT_TRUE(driveToPhase("crash-1", "Failed")) << incident("crash-1").dump(2);
  EXPECT_EQ(message("crash-1", "scale"), "steps.scale.scale.target.owner: pod " + namespace_ + "/" +
                                             pod + " is controlled by ReplicaSet " +
                                             pod.substr(0, pod.rfind('-')) +
                                             ", not by a StatefulSet");
}

TEST_F(PodTargetTest, TheResolvedWorkloadIsWhatTheGuardrailsJudge) {
  createDeployment("vault", 1, {{"remedy.dev/protected", "true"}});
  createRunbookFor("Deployment");
  std::string pod = *podNames("vault").begin();
  createIncident("crash-1", "KubePodCrashLooping", {{"pod", pod}});
  ASSERT_TRUE(driveToPhase("crash-1", "Failed")) << incident("crash-1").dump(2);
  EXPECT_EQ(message("crash-1", "scale"),
            "refused by guardrail protected: Deployment " + namespace_ +
                "/vault is labelled remedy.dev/protected=true and is never touched");
  EXPECT_EQ(stepOf("crash-1", "scale")["target"].value("name", ""), "vault");
  EXPECT_EQ(getDeployment("vault")["spec"].value("replicas", 0), 1);
}

TEST_F(PodTargetTest, APodInANamespaceTheRunbookMayNotReachIsNeverRead) {
  createRunbook("crashloop", R"(
triggers: [{alertName: KubePodCrashLooping}]
steps:
  - name: restart
    rolloutRestart:
      target: {pod: '{{ alert.labels.pod }}', owner: Deployment, namespace: '{{ alert.labels.namespace }}'}
)");
  createIncident("crash-1", "KubePodCrashLooping",
                 {{"pod", "api-1"}, {"namespace", "kube-system"}});
  ASSERT_TRUE(driveToPhase("crash-1", "Failed")) << incident("crash-1").dump(2);
  EXPECT_EQ(message("crash-1", "restart").rfind("refused by guardrail targetNamespace: ", 0), 0u)
      << message("crash-1", "restart");
}

constexpr const char* kUndoSpec = R"(
triggers:
  - alertName: KubePodCrashLooping
steps:
  - name: roll-back
    rolloutUndo:
      target: {pod: '{{ alert.labels.pod }}', owner: Deployment}
  - name: wait
    waitFor:
      target: {pod: '{{ alert.labels.pod }}', owner: Deployment}
      state: RolloutComplete
      pollInterval: 1s
)";

class RolloutUndoEngineTest : public PodTargetTest {
 protected:
  // Deployment web at revision 2 (image web:2-broken); a pod of revision 2.
  std::string badDeploy(std::map<std::string, std::string> labels = {}) {
    createDeployment("web", 2, labels);
    json patch = {
        {"spec",
         {{"template",
           {{"spec",
             {{"containers", json::array({{{"name", "app"}, {"image", "web:2-broken"}}})}}}}}}}};
    auto patched = client_->patch(kube::resources::deployments(), namespace_, "web", patch.dump());
    EXPECT_TRUE(patched.ok()) << patched.status().toString();
    std::string pod;
    EXPECT_TRUE(eventually([&] {
      kube::ListOptions o;
      o.labelSelector = "app=web";
      auto pods = client_->list(kube::resources::pods(), namespace_, o);
      if (!pods.ok()) return false;
      for (const auto& p : (*pods)["items"]) {
        if (p["spec"]["containers"][0].value("image", "") == "web:2-broken") {
          pod = kube::nameOf(p);
        }
      }
      return !pod.empty();
    }));
    return pod;
  }
  std::string image() {
    return getDeployment("web")["spec"]["template"]["spec"]["containers"][0].value("image", "");
  }
};

TEST_F(RolloutUndoEngineTest, TheAlertsPodsDeploymentGoesBackToThePreviousTemplate) {
  std::string pod = badDeploy();
  createRunbook("crashloop", kUndoSpec);
  createIncident("crash-1", "KubePodCrashLooping", {{"pod", pod}});
  ASSERT_TRUE(drive(namespace_ + "/crash-1", [&] {
    clock_.step(std::chrono::seconds(1));
    return phaseOf("crash-1") == "Succeeded";
  })) << incident("crash-1").dump(2);
  EXPECT_EQ(image(), "nginx");
  json step = stepOf("crash-1", "roll-back");
  EXPECT_EQ(step["outputs"], (json{{"previousRevision", "2"},
                                   {"revision", "1"},
                                   {"replicaSet", step["outputs"].value("replicaSet", "?")}}));
  EXPECT_EQ(step["outputs"].value("replicaSet", "").rfind("web-", 0), 0u);
  EXPECT_EQ(step["target"].value("name", ""), "web");
  EXPECT_FALSE(step.contains("revert"));
  EXPECT_EQ(stepOf("crash-1", "wait")["target"], step["target"]);
}

TEST_F(RolloutUndoEngineTest, ADryRunAndAProtectedDeploymentChangeNothing) {
  std::string pod = badDeploy({{"remedy.dev/protected", "true"}});
  createRunbook("crashloop", kUndoSpec);
  createIncident("dry-1", "KubePodCrashLooping", {{"pod", pod}}, /*dryRun=*/false);
  ASSERT_TRUE(driveToPhase("dry-1", "Failed")) << incident("dry-1").dump(2);
  EXPECT_EQ(message("dry-1", "roll-back"),
            "refused by guardrail protected: Deployment " + namespace_ +
                "/web is labelled remedy.dev/protected=true and is never touched");
  EXPECT_EQ(image(), "web:2-broken");
}

TEST_F(RolloutUndoEngineTest, ADryRunSaysWhatItWouldDo) {
  std::string pod = badDeploy();
  createRunbook("crashloop", kUndoSpec);
  createIncident("dry-1", "KubePodCrashLooping", {{"pod", pod}}, /*dryRun=*/true);
  ASSERT_TRUE(drive(namespace_ + "/dry-1", [&] {
    return stepOf("dry-1", "roll-back").value("phase", "") == "Succeeded";
  })) << incident("dry-1").dump(2);
  EXPECT_EQ(message("dry-1", "roll-back")
                .rfind("dry run: would roll back Deployment " + namespace_ +
                           "/web from revision 2 to the template of "
                           "revision 1",
                       0),
            0u)
      << message("dry-1", "roll-back");
  EXPECT_EQ(image(), "web:2-broken");
}

}  // namespace
}  // namespace remedy::engine
