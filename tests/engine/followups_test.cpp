// What an Incident owes besides its steps (incident_followups.cpp) and the
// engine's bound on finished Incidents, on the fake clock.
#include "actions/notify_action.h"
#include "engine/engine.h"
#include "engine_fixture.h"

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;

class FollowupsTest : public EngineTest {
 protected:
  // Drives `name` with the reconciler until `done`, moving the fake clock.
  bool driveUntil(const std::string& name, IncidentReconciler& r,
                  const std::function<bool(const json&)>& done,
                  std::chrono::seconds step = std::chrono::seconds(1), int rounds = 200) {
    for (int i = 0; i < rounds; ++i) {
      r.reconcile(namespace_ + "/" + name);
      if (done(incident(name))) return true;
      clock_.step(step);
    }
    return false;
  }

  static std::vector<std::string> firedTiers(const json& incident) {
    std::vector<std::string> names;
    for (const auto& e : incident["status"].value("escalations", json::array())) {
      if (e.contains("tier")) names.push_back(e.value("name", ""));
    }
    return names;
  }
};

TEST_F(FollowupsTest, TiersFireOnceEachInOrderAtTheirTimesAndStopAtResolution) {
  createDeployment("web", 1);
  // Notifications in this test are dry runs (a drill), so nothing leaves
  // the process; the firing record is what is under test.
  createRunbook("ladder", R"(
triggers: [{alertName: Ladder}]
steps:
  - name: wait
    waitForResolved: {}
    timeout: 1h
escalation:
  tiers:
    - {name: oncall, after: 0s, notify: [{url: "http://127.0.0.1:9/oncall", message: "l1"}]}
    - {name: lead, after: 15m, notify: [{url: "http://127.0.0.1:9/lead", message: "l2"}]}
    - {name: management, after: 30m, notify: [{url: "http://127.0.0.1:9/mgmt", message: "l3"}]}
)");
  json inc = {
      {"apiVersion", "remedy.dev/v1alpha1"},
      {"kind", "Incident"},
      {"metadata", {{"name", "l"}, {"namespace", namespace_}}},
      {"spec",
       {{"source", "Drill"},
        {"alert", {{"name", "Ladder"}, {"status", "firing"}, {"labels", json::object()}}}}}};
  ASSERT_TRUE(client_->create(incidents(), namespace_, inc).ok());
  auto notify = actions::makeNotifyAction();
  registry_->add(std::move(notify));
  auto r = newReconciler();

  ASSERT_TRUE(driveUntil("l", *r, [](const json& i) { return firedTiers(i).size() == 1; }));
  EXPECT_EQ(firedTiers(incident("l")), std::vector<std::string>{"oncall"});
  // Nothing more until 15 minutes have passed.
  for (int i = 0; i < 5; ++i) r->reconcile(namespace_ + "/l");
  EXPECT_EQ(firedTiers(incident("l")).size(), 1u);
  auto allNotified = [](const json& i) {
    for (const auto& e : i["status"].value("escalations", json::array())) {
      if (e.value("state", "") != "Notified") return false;
    }
    return true;
  };
  ASSERT_TRUE(driveUntil(
      "l", *r, [&](const json& i) { return firedTiers(i).size() == 2 && allNotified(i); },
      std::chrono::minutes(1)));
  json fired = incident("l");
  EXPECT_EQ(firedTiers(fired), (std::vector<std::string>{"oncall", "lead"}));
  for (const auto& e : fired["status"]["escalations"]) {
    EXPECT_EQ(e.value("state", ""), "Notified") << e.dump();
  }
  // The alert resolves before the third tier: it never fires.
  json patch = {{"spec", {{"alert", {{"status", "resolved"}}}}}};
  ASSERT_TRUE(client_->patch(incidents(), namespace_, "l", patch.dump()).ok());
  ASSERT_TRUE(driveUntil(
      "l", *r, [](const json& i) { return i["status"].value("phase", "") == "Succeeded"; }));
  clock_.step(std::chrono::hours(1));
  for (int i = 0; i < 3; ++i) r->reconcile(namespace_ + "/l");
  EXPECT_EQ(firedTiers(incident("l")).size(), 2u);
  // waitForResolved succeeded on the resolution.
  EXPECT_EQ(stepOf("l", "wait").value("phase", ""), "Succeeded");
}

// The timeline says once that the Incident escalated (the final phase's
// entry), with each tier and each message sent after it.
TEST_F(FollowupsTest, AnEscalationIsOneTimelineEntryAndEachTierAndMessageOneMore) {
  createDeployment("web", 1);
  createRunbook("gate", R"(
triggers: [{alertName: Gate}]
steps:
  - name: wait-gate
    waitFor:
      target: {kind: ConfigMap, name: gate}
      field: {path: .data.open, value: "true"}
    timeout: 1m
    onFailure: Escalate
escalation:
  notify: [{url: "http://127.0.0.1:9/page", message: "paged"}]
  tiers:
    - {name: oncall, after: 0s, notify: [{url: "http://127.0.0.1:9/oncall", message: "l1"}]}
)");
  json inc = {{"apiVersion", "remedy.dev/v1alpha1"},
              {"kind", "Incident"},
              {"metadata", {{"name", "g"}, {"namespace", namespace_}}},
              {"spec",
               {{"source", "Drill"},
                {"alert", {{"name", "Gate"}, {"status", "firing"}, {"labels", json::object()}}}}}};
  ASSERT_TRUE(client_->create(incidents(), namespace_, inc).ok());
  registry_->add(actions::makeNotifyAction());
  auto r = newReconciler();
  auto settled = [](const json& i) {
    if (i["status"].value("phase", "") != "Escalated") return false;
    for (const auto& e : i["status"].value("escalations", json::array())) {
      if (e.value("state", "") == "Pending") return false;
    }
    return true;
  };
  ASSERT_TRUE(driveUntil("g", *r, settled, std::chrono::seconds(10)));
  const json timeline = incident("g")["status"]["timeline"];
  std::map<std::string, int> entries;
  for (const auto& t : timeline) entries[t.value("type", "")]++;
  EXPECT_EQ(entries["Escalated"], 1) << timeline.dump(2);
  EXPECT_EQ(entries["EscalationTier"], 1);
  EXPECT_EQ(entries["EscalationNotified"], 2);  // the tier's and escalation.notify's
}

TEST_F(FollowupsTest, ARunbookWithWaitForResolvedRunsOnPastTheResolution) {
  createDeployment("web", 1);
  createRunbook("verify", R"(
triggers: [{alertName: Verify}]
steps:
  - name: scale
    scale: {target: {name: web}, replicas: 2}
  - name: resolved
    waitForResolved: {}
  - name: back
    scale: {target: {name: web}, replicas: 1}
)");
  createIncident("v", "Verify", {});
  auto r = newReconciler();
  ASSERT_TRUE(driveUntil("v", *r, [&](const json&) {
    return stepOf("v", "resolved").value("phase", "") == "Running";
  }));
  json patch = {{"spec", {{"alert", {{"status", "resolved"}}}}}};
  ASSERT_TRUE(client_->patch(incidents(), namespace_, "v", patch.dump()).ok());
  ASSERT_TRUE(driveToPhase("v", "Succeeded", r.get()));
  EXPECT_EQ(stepOf("v", "back").value("phase", ""), "Succeeded");
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 1);
}

TEST_F(FollowupsTest, ScaleWithRevertAfterRestoresTheReplicasWhenTheTimeComes) {
  createDeployment("web", 2);
  createRunbook("burst", R"(
triggers: [{alertName: Burst}]
steps:
  - name: up
    scale: {target: {name: web}, replicas: "+3"}
    revert: {after: 10m}
)");
  createIncident("b", "Burst", {});
  auto r = newReconciler();
  ASSERT_TRUE(driveToPhase("b", "Succeeded", r.get()));
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 5);
  EXPECT_EQ(stepOf("b", "up")["revert"].value("state", ""), "Pending");
  clock_.step(std::chrono::minutes(9));
  r->reconcile(namespace_ + "/b");
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 5);
  clock_.step(std::chrono::minutes(2));
  ASSERT_TRUE(driveUntil("b", *r, [&](const json&) {
    return stepOf("b", "up")["revert"].value("state", "") == "Reverted";
  }));
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 2);
}

TEST_F(FollowupsTest, TheSweeperKeepsOnlyTheNewestFinishedIncidents) {
  createDeployment("web", 1);
  createRunbook("noop", R"(
triggers: [{alertName: Noop}]
steps:
  - name: look
    waitFor: {target: {name: web}, state: Exists}
)");
  auto r = newReconciler();
  for (const char* name : {"a", "b", "c", "d"}) {
    createIncident(name, "Noop", {});
    ASSERT_TRUE(driveToPhase(name, "Succeeded", r.get()));
    clock_.step(std::chrono::seconds(5));  // distinct finishedAt, in creation order
  }
  EngineOptions options;
  options.incident.pauseNamespace = namespace_;
  options.maxFinishedIncidents = 2;
  options.sweepInterval = std::chrono::hours(1);  // swept by hand below
  Engine engine(*client_, *serviceAccounts_, *registry_, clock_, nullptr, options);
  ASSERT_TRUE(engine.start().ok());
  EXPECT_EQ(engine.incidentsByPhase()["Succeeded"], 4);
  EXPECT_EQ(engine.sweepFinishedIncidents(), 2);
  engine.stop();
  std::set<std::string> left;
  auto list = client_->list(incidents(), namespace_);
  ASSERT_TRUE(list.ok());
  for (const auto& item : (*list)["items"]) left.insert(kube::nameOf(item));
  EXPECT_EQ(left, (std::set<std::string>{"c", "d"}));
}

}  // namespace
}  // namespace remedy::engine
