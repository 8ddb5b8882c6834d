// A step target named by an alert's pod (kube-prometheus alerts carry
// `pod`, not `deployment`): the engine resolves the pod's owner as the
// tenant when the step first starts, records it on the step's status, and
// every guardrail and later step sees the workload.
#include "engine_fixture.h"

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;

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

}  // namespace
}  // namespace remedy::engine
