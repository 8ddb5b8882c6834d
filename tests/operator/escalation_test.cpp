// Escalation tiers (#10) and waitForResolved through remedy-operator: tiers
// fire once each, in order, at their times, also across SIGKILLs; the
// alert's resolution stops the tiers still to come and completes a
// waitForResolved step; a waitForResolved that times out escalates.
#include "operator_fixture.h"

#include <iostream>

namespace remedy::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string tieredRunbook(const NotificationSink& sink) {
  std::string yaml = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: disk-full
spec:
  triggers:
    - alertName: DiskFull
      labels: {service: storage}
  steps:
    - name: wait-resolved
      waitForResolved: {}
      timeout: 10m
  escalation:
    tiers:
)";
  const char* names[] = {"on-call", "team-lead", "manager", "director"};
  const char* after[] = {"0s", "2s", "4s", "7s"};
  for (int i = 0; i < 4; ++i) {
    yaml += std::string("      - name: ") + names[i] + "\n        after: " + after[i] +
            "\n        notify:\n          - url: " + sink.url("/tier" + std::to_string(i)) +
            "\n            message: 'tier " + std::to_string(i) +
            ": {{ alert.name }} unresolved'\n";
  }
  return yaml;
}

// The state of tier `tier`'s record on an Incident ("" when not fired).
std::string tierState(const json& incident, int tier) {
  for (const auto& r :
       incident.value("status", json::object()).value("escalations", json::array())) {
    if (r.value("tier", -1) == tier) return r.value("state", "");
  }
  return "";
}

std::string tierFiredAt(const json& incident, int tier) {
  for (const auto& r :
       incident.value("status", json::object()).value("escalations", json::array())) {
    if (r.value("tier", -1) == tier) return r.value("firedAt", "");
  }
  return "";
}

TEST_F(OperatorE2ETest, EscalationTiersFireOnceEachInOrderAcrossCrashesUntilResolved) {
  NotificationSink sink;
  applyRunbook(tieredRunbook(sink));
  const std::vector<std::string> flags = {"--leader-elect=false"};
  OperatorProcess* op = &startOperator(flags);

  // Crash 1: just after tier 1's message was sent and recorded (nothing in flight).
  tape_->killOnNext(op->process.pid(), [](const sandbox::StoreEvent& e) {
    return isStatusWrite(e) && tierState(*e.object, 1) == "Notified" &&
           tierState(*e.previous, 1) != "Notified";
  });
  fire(*op, "DiskFull", "d15cf011d15cf011", "storage");
  std::string name = awaitIncident("DiskFull");
  ASSERT_FALSE(name.empty()) << allLogs();
  ASSERT_TRUE(waitUntil([&] { return !op->process.running(); }, seconds(20)))
      << "never killed after tier 1\n"
      << getIncident(name).dump(2) << allLogs();

  // Crash 2: tier 2 recorded as due, before its message was delivered. On
  // the sandbox the kill lands as the Pending record commits, before the
  // message goes out. On kube-apiserver the tape's kill would race the send
  // (see change_tape.h), so the receiver kills instead: the operator dies
  // as tier 2's message arrives, before it is answered; the restarted one
  // must deliver it again (a Pending tier is delivered until answered).
  op = &startOperator(flags, "", "", /*waitReady=*/false);
  if (tape_->exact()) {
    tape_->killOnNext(op->process.pid(), [](const sandbox::StoreEvent& e) {
      return isStatusWrite(e) && tierState(*e.object, 2) == "Pending" &&
             tierState(*e.previous, 2).empty();
    });
  } else {
    sink.killOnNextRequest("/tier2", op->process.pid());
  }
  ASSERT_TRUE(waitUntil([&] { return !op->process.running(); }, seconds(20)))
      << "never killed at tier 2\n"
      << getIncident(name).dump(2) << allLogs();
  // Nothing writes after the kill: tier 2 was recorded before its message.
  EXPECT_EQ(tierState(getIncident(name), 2), "Pending") << getIncident(name).dump(2);
  EXPECT_TRUE(sink.receivedAt("/tier2").empty()) << "tier 2 was answered before the kill";
  EXPECT_EQ(sink.unanswered().size(), tape_->exact() ? 0u : 1u);

  op = &startOperator(flags);
  json incident =
      awaitIncidentState(name, [](const json& i) { return tierState(i, 2) == "Notified"; });
  ASSERT_FALSE(incident.is_null()) << getIncident(name).dump(2) << allLogs();
  EXPECT_EQ(phaseOf(incident), "Running");

  // The alert resolves: the step completes, and tier 3 (7s) never fires.
  resolve(*op, "DiskFull", "d15cf011d15cf011", "storage");
  incident = awaitFinal(name);
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();
  json step = stepOf(incident, "wait-resolved");
  EXPECT_EQ(step.value("phase", ""), "Succeeded");
  EXPECT_EQ(step.value("attempts", 0), 1);
  EXPECT_FALSE(step.value("outputs", json::object()).value("resolvedAt", "").empty());
  EXPECT_FALSE(incident["status"].value("resolvedAt", "").empty());

  auto tier0 = sink.receivedAt("/tier0");
  ASSERT_EQ(tier0.size(), 1u);
  // Past tier 3's time (7s after the start, which came before tier 0) plus
  // a margin: nothing more may arrive.
  SteadyTime quietUntil = tier0[0].at + milliseconds(8500);
  waitUntil([&] { return std::chrono::steady_clock::now() >= quietUntil; }, seconds(15));
  EXPECT_TRUE(sink.receivedAt("/tier3").empty()) << "tier 3 fired after the alert resolved";
  incident = getIncident(name);
  EXPECT_EQ(tierState(incident, 3), "");

  // Once each, in order, at their times.
  std::vector<NotificationSink::Received> all = sink.received();
  ASSERT_EQ(all.size(), 3u) << "messages: " << all.size();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(all[i].path, "/tier" + std::to_string(i));
    EXPECT_EQ(all[i].body.value("message", ""),
              "tier " + std::to_string(i) + ": DiskFull unresolved");
    EXPECT_EQ(all[i].body["incident"].value("name", ""), name);
    EXPECT_EQ(tierState(incident, i), "Notified") << i;
  }
  // At their times: never before startedAt + after (startedAt has whole
  // seconds, so that is when the tier falls due), and not long after (the
  // crashes may delay a tier by a restart).
  auto started = kube::parseRfc3339(incident["status"].value("startedAt", ""));
  ASSERT_TRUE(started);
  int afterSeconds[] = {0, 2, 4};
  std::cout << "[          ] tiers received after they fell due:";
  for (int i = 0; i < 3; ++i) {
    auto late = all[i].wallAt - (*started + seconds(afterSeconds[i]));
    std::cout << " +" << std::chrono::duration_cast<milliseconds>(late).count() << "ms";
    EXPECT_GE(late, seconds(0)) << "tier " << i << " sent early";
    EXPECT_LE(late, seconds(4)) << "tier " << i << " sent late";
    auto fired = kube::parseRfc3339(tierFiredAt(incident, i));
    ASSERT_TRUE(fired) << i;
    EXPECT_GE(*fired - *started, seconds(afterSeconds[i])) << "tier " << i << " fired early";
    EXPECT_LE(*fired - *started, seconds(afterSeconds[i] + 4)) << "tier " << i << " fired late";
  }
  std::cout << "\n";
  EXPECT_LT(all[0].at, all[1].at);
  EXPECT_LT(all[1].at, all[2].at);
  EXPECT_EQ(tape_->kills().size() + sink.unanswered().size(), 2u);
}

const char* kResolveRunbooks = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: queue-backlog
spec:
  triggers:
    - alertName: QueueBacklog
  steps:
    - name: wait-resolved
      waitForResolved: {}
      timeout: 5m
      onFailure: Escalate
)";

std::string stuckRunbook(const NotificationSink& sink) {
  return R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: queue-stuck
spec:
  triggers:
    - alertName: QueueStuck
  steps:
    - name: wait-resolved
      waitForResolved: {}
      timeout: 2s
      onFailure: Escalate
  escalation:
    notify:
      - url: )" +
         sink.url("/escalated") + "\n";
}

TEST_F(OperatorE2ETest, WaitForResolvedSucceedsOnResolutionAndEscalatesOnTimeout) {
  NotificationSink sink;
  applyRunbook(kResolveRunbooks);
  applyRunbook(stuckRunbook(sink));
  OperatorProcess& op = startOperator({"--leader-elect=false"});
  fire(op, "QueueBacklog", "0b0b0b0b0b0b0b0b", "queue");
  fire(op, "QueueStuck", "5705705705705705", "queue");
  std::string backlog = awaitIncident("QueueBacklog");
  std::string stuck = awaitIncident("QueueStuck");
  ASSERT_FALSE(backlog.empty() || stuck.empty()) << allLogs();

  // Resolution ends the wait.
  ASSERT_FALSE(awaitIncidentState(backlog,
                                  [](const json& i) {
                                    return stepOf(i, "wait-resolved").value("phase", "") ==
                                           "Running";
                                  })
                   .is_null())
      << getIncident(backlog).dump(2);
  resolve(op, "QueueBacklog", "0b0b0b0b0b0b0b0b", "queue");
  json resolved = awaitFinal(backlog);
  ASSERT_EQ(phaseOf(resolved), "Succeeded") << resolved.dump(2) << allLogs();
  json step = stepOf(resolved, "wait-resolved");
  EXPECT_EQ(step.value("phase", ""), "Succeeded");
  EXPECT_NE(step.value("message", "").find("resolved"), std::string::npos) << step.dump();
  EXPECT_FALSE(step.value("outputs", json::object()).value("resolvedAt", "").empty());

  // A timeout escalates, and the escalation message goes out once.
  json escalated = awaitFinal(stuck, seconds(20));
  ASSERT_EQ(phaseOf(escalated), "Escalated") << escalated.dump(2) << allLogs();
  step = stepOf(escalated, "wait-resolved");
  EXPECT_EQ(step.value("phase", ""), "Failed");
  EXPECT_NE(step.value("message", "").find("timed out"), std::string::npos) << step.dump();
  auto started = kube::parseRfc3339(step.value("startedAt", ""));
  auto finished = kube::parseRfc3339(step.value("finishedAt", ""));
  ASSERT_TRUE(started && finished);
  EXPECT_GE(*finished - *started, seconds(1)) << "timed out before its 2s";
  ASSERT_TRUE(waitUntil([&] { return !sink.receivedAt("/escalated").empty(); }))
      << getIncident(stuck).dump(2);
  auto messages = sink.receivedAt("/escalated");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body["incident"].value("name", ""), stuck);
  EXPECT_EQ(messages[0].body["incident"].value("phase", ""), "Escalated");
  EXPECT_TRUE(sink.receivedAt("/tier0").empty());
}

}  // namespace
}  // namespace remedy::testing
