// The Kubernetes Events remedy-operator writes, as a person finds them with
// `kubectl get events --field-selector involvedObject.name=NAME` (the same
// list request, with the same field selector): on the Incident, every
// transition a person follows (matched, escalated, each step started,
// succeeded or failed, a guardrail's refusal, the revert); on the objects the
// steps act on, what Remedy did to them or refused to do. No Event carries a
// secret. Events have a client and budget of their own (--events-qps,
// --events-burst): an exhausted Event budget never holds the engine.
#include "operator_fixture.h"

#include <set>

namespace remedy::testing {
namespace {

constexpr const char* kUrlPassword = "url-pass-5d1c9e";
constexpr const char* kHeaderToken = "header-token-8b2f4a";

class EventsTest : public OperatorE2ETest {
 protected:
  // Remedy's Events about object `name` in the test namespace, as
  // "Type Reason" (aggregated repeats count once).
  std::multiset<std::string> eventsAbout(const std::string& name) {
    kube::ListOptions options;
    options.fieldSelector = "involvedObject.name=" + name;
    auto list = client_->list(kube::resources::events(), namespace_, options);
    EXPECT_TRUE(list.ok()) << list.status().toString();
    std::multiset<std::string> out;
    if (!list.ok()) return out;
    for (const auto& e : (*list)["items"]) {
      // kube-controller-manager writes Events about the same Deployments.
      if (e.value("reportingComponent", "") != "remedy-operator") continue;
      out.insert(e.value("type", "") + " " + e.value("reason", ""));
    }
    return out;
  }

  std::vector<json> allRemedyEvents() {
    auto list = client_->list(kube::resources::events(), namespace_);
    std::vector<json> out;
    if (!list.ok()) return out;
    for (const auto& e : (*list)["items"]) {
      if (e.value("reportingComponent", "") == "remedy-operator") out.push_back(e);
    }
    return out;
  }

  static std::string join(const std::multiset<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += "  " + x + "\n";
    return out;
  }

  // Waits until Remedy's Events about `name` are exactly `want`.
  void expectEventsAbout(const std::string& name, const std::multiset<std::string>& want) {
    std::multiset<std::string> got;
    waitUntil(
        [&] {
          got = eventsAbout(name);
          return got == want;
        },
        std::chrono::seconds(30));
    EXPECT_EQ(join(got), join(want)) << "Events about " << name << "\n" << allLogs();
  }
};

TEST_F(EventsTest, APersonFollowsTheIncidentAndTheTargetsOwnerSeesWhatRemedyDid) {
  createDeployment("web", 1);
  json db = {{"apiVersion", "apps/v1"},
             {"kind", "Deployment"},
             {"metadata",
              {{"name", "db"},
               {"namespace", namespace_},
               {"labels", {{"app", "db"}, {"remedy.dev/protected", "true"}}}}},
             {"spec",
              {{"replicas", 1},
               {"selector", {{"matchLabels", {{"app", "db"}}}}},
               {"template",
                {{"metadata", {{"labels", {{"app", "db"}}}}},
                 {"spec",
                  {{"containers", json::array({{{"name", "db"}, {"image", "postgres:16"}}})}}}}}}}};
  ASSERT_TRUE(client_->create(kube::resources::deployments(), namespace_, db).ok());
  ASSERT_TRUE(client_
                  ->create(kube::resources::secrets(), namespace_,
                           {{"apiVersion", "v1"},
                            {"kind", "Secret"},
                            {"metadata", {{"name", "hook"}, {"namespace", namespace_}}},
                            {"stringData", {{"token", kHeaderToken}}}})
                  .ok());
  createGate("gate");
  NotificationSink sink;
  std::string hook = sink.url("/hook");
  std::string withPassword = "http://remedy:" + std::string(kUrlPassword) + "@" +
                             hook.substr(std::string("http://").size());
  applyRunbook(R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: web-events
spec:
  triggers:
    - alertName: WebDown
      labels: {service: web}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: web}
        replicas: "+1"
        maxReplicas: 3
      revert:
        onResolved: true
    - name: scale-db
      scale:
        target: {kind: Deployment, name: db}
        replicas: "+1"
        maxReplicas: 3
      onFailure: Continue
    - name: wait-gate
      waitFor:
        target: {kind: ConfigMap, name: gate}
        field: {path: .data.open, value: "true"}
        pollInterval: 200ms
      timeout: 1s
      onFailure: Continue
    - name: call-hook
      http:
        method: POST
        url: ')" +
               withPassword + R"('
        headers: [{name: Authorization, valueFrom: {secretKeyRef: {name: hook, key: token}}}]
      onFailure: Continue
  escalation:
    tiers:
      - name: on-call
        after: 0s
        notify:
          - url: )" +
               sink.url("/page") + R"(
)");
  OperatorProcess& op = startOperator();
  fire(op, "WebDown", "e7e7e7e7e7e7e7e7", "web");
  std::string name = awaitIncident("WebDown");
  ASSERT_FALSE(name.empty()) << allLogs();
  json incident = awaitFinal(name);
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();
  resolve(op, "WebDown", "e7e7e7e7e7e7e7e7", "web");
  json reverted = awaitIncidentState(name, [](const json& i) {
    return stepOf(i, "scale-out").value("revert", json::object()).value("state", "") == "Reverted";
  });
  ASSERT_FALSE(reverted.is_null()) << getIncident(name).dump(2) << allLogs();

  expectEventsAbout(name, {
                              "Normal Matched",
                              "Warning Escalated",
                              "Normal EscalationNotified",
                              "Normal StepStarted",  // scale-out
                              "Normal StepSucceeded",
                              "Warning GuardrailRefused",  // scale-db: protected
                              "Warning StepFailed",
                              "Normal StepStarted",  // wait-gate
                              "Warning StepFailed",
                              "Normal StepStarted",  // call-hook
                              // Loopback is on the tests' egress allow-list.
                              "Normal StepSucceeded",
                              "Normal Succeeded",
                              "Normal Reverted",
                          });
  expectEventsAbout("web", {"Normal RemedyScale", "Normal RemedyReverted"});
  expectEventsAbout("db", {"Warning RemedyGuardrailRefused"});
  expectEventsAbout("gate", {"Warning RemedyWaitFor"});

  // Each Event names the step and says what happened.
  kube::ListOptions options;
  options.fieldSelector = "involvedObject.name=web,reason=RemedyScale";
  auto scaled = client_->list(kube::resources::events(), namespace_, options);
  ASSERT_TRUE(scaled.ok());
  ASSERT_EQ((*scaled)["items"].size(), 1u);
  EXPECT_EQ((*scaled)["items"][0].value("message", ""),
            "incident " + name + " step scale-out: scaled Deployment " + namespace_ +
                "/web from 1 to 2 replicas");
  EXPECT_EQ((*scaled)["items"][0]["involvedObject"].value("kind", ""), "Deployment");
  // kubectl describe deployment web selects its Events by uid as well.
  std::string uid = kube::uidOf(deployment("web"));
  ASSERT_FALSE(uid.empty());
  options.fieldSelector =
      "involvedObject.name=web,involvedObject.kind=Deployment,"
      "involvedObject.uid=" +
      uid;
  auto described = client_->list(kube::resources::events(), namespace_, options);
  ASSERT_TRUE(described.ok());
  std::multiset<std::string> byUid;
  for (const auto& e : (*described)["items"]) {
    if (e.value("reportingComponent", "") == "remedy-operator") byUid.insert(e.value("reason", ""));
  }
  EXPECT_EQ(byUid, (std::multiset<std::string>{"RemedyReverted", "RemedyScale"}));

  // No Event carries a secret: neither the URL's password nor the header.
  for (const auto& e : allRemedyEvents()) {
    std::string text = e.dump();
    EXPECT_EQ(text.find(kUrlPassword), std::string::npos) << text;
    EXPECT_EQ(text.find(kHeaderToken), std::string::npos) << text;
  }
}

// Events wait for their own budget: with room for one Event in a long
// while, the Incident still runs to its end at the engine's pace, and the
// Events beyond the budget have not been written.
TEST_F(EventsTest, AnExhaustedEventBudgetNeverHoldsTheEngine) {
  createDeployment("web", 1);
  applyRunbook(R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: web-scale
spec:
  triggers:
    - alertName: WebSlow
      labels: {service: web}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: web}
        replicas: "+1"
        maxReplicas: 3
    - name: wait-scaled
      waitFor:
        target: {kind: Deployment, name: web}
        state: Exists
)");
  OperatorProcess& op = startOperator({"--events-qps", "0.001", "--events-burst", "1"});
  fire(op, "WebSlow", "f1f1f1f1f1f1f1f1", "web");
  std::string name = awaitIncident("WebSlow");
  ASSERT_FALSE(name.empty()) << allLogs();
  json incident = awaitFinal(name);
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();
  // The Runbook's validity and the Incident's transitions make many more
  // Events than the budget's one.
  EXPECT_LE(allRemedyEvents().size(), 1u);
}

}  // namespace
}  // namespace remedy::testing
