// High availability (#6): two remedy-operator processes against one API
// server with leader election. Exactly one leads; both take alerts; a
// SIGKILLed leader is replaced once its Lease expires, and an Incident in
// flight finishes without any step running twice; a SIGTERMed leader
// releases the Lease, so the other leads at its next try, and exits 0.
#include "gated_incident.h"

#include <iostream>

namespace remedy::testing {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// The operators' leader-election Lease (--leader-election-name's default).
constexpr const char* kLeaderLease = "remedy-operator";

class LeaderElectionTest : public GatedIncidentTest {
 protected:
  // The leader Lease's holder over time, from the tape, without repeats
  // (the namespace also holds the engine's Leases of targets).
  std::vector<std::string> holders() {
    syncTape();
    std::vector<std::string> out;
    for (const auto& e : tape_->events(kLeasesKey, systemNamespace())) {
      if (e.name != kLeaderLease) continue;
      std::string holder = (*e.object)["spec"].value("holderIdentity", "");
      if (out.empty() || out.back() != holder) out.push_back(holder);
    }
    return out;
  }
};

TEST_F(LeaderElectionTest, OneLeadsBothTakeAlertsAndAKilledLeaderIsReplacedAfterItsLease) {
  OperatorProcess& alpha = startOperator(fastLease(), "alpha");
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "alpha" && leads(alpha); }))
      << leaseHolder() << allLogs();
  OperatorProcess& beta = startOperator(fastLease(), "beta");

  // Exactly one leads: the Lease names it, and only its metric says 1.
  EXPECT_TRUE(leads(alpha));
  EXPECT_TRUE(follows(beta));
  EXPECT_EQ(leaseHolder(), "alpha");

  // The follower's webhook takes the alert; the leader runs the Incident.
  std::string name = incidentWaitingAtTheGate(beta);
  ASSERT_FALSE(name.empty());
  EXPECT_NE(alpha.log().find("event=matched"), std::string::npos) << alpha.log();
  EXPECT_EQ(beta.log().find("event=matched"), std::string::npos) << beta.log();
  EXPECT_TRUE(follows(beta));

  // SIGKILL the leader once it has checkpointed the restart step: beta
  // leads once alpha's Lease has expired, and finishes the Incident. On the
  // sandbox the kill lands before alpha restarts anything, so beta runs that
  // step; on kube-apiserver alpha may have restarted api just before it died
  // (see change_tape.h), and beta must then not restart it again.
  tape_->killOnNext(alpha.process.pid(), [](const sandbox::StoreEvent& e) {
    return isStepCheckpoint(e) && stepOf(*e.object, "restart").value("phase", "") == "Running";
  });
  openGate("gate");
  ASSERT_TRUE(waitUntil([&] { return !alpha.process.running(); }))
      << getIncident(name).dump(2) << allLogs();
  auto killedAt = *tape_->lastKillAt();
  if (tape_->exact()) {
    EXPECT_EQ(generationOf(deployment("api")), generation_ + 1) << "restarted before the kill";
  }
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "beta"; }, std::chrono::seconds(15)))
      << leaseHolder() << allLogs();
  auto takeover = std::chrono::steady_clock::now() - killedAt;
  ASSERT_TRUE(waitUntil([&] { return leads(beta); }));
  std::cout << "[          ] takeover after SIGKILL: "
            << duration_cast<milliseconds>(takeover).count() << " ms\n";
  // Lease 2s; the candidate observes the last renewal within one jittered
  // retry (at most 500ms * 2.2) and acquires at its first retry after the
  // expiry (another 1.1s at most): 4.2s, plus a margin for a busy machine.
  EXPECT_LT(takeover, milliseconds(4200 + 800));

  // Never before the Lease expired: beta acquired leaseDuration after
  // alpha's last renewal (less the few milliseconds between beta stamping
  // acquireTime and reading the Lease).
  syncTape();
  std::string lastRenewal;
  for (const auto& e : tape_->events(kLeasesKey, systemNamespace())) {
    if (e.name != kLeaderLease) continue;
    const json& spec = (*e.object)["spec"];
    if (spec.value("holderIdentity", "") == "alpha") lastRenewal = spec.value("renewTime", "");
  }
  json held = lease();
  auto renewed = kube::parseRfc3339(lastRenewal);
  auto acquired = kube::parseRfc3339(held["spec"].value("acquireTime", ""));
  ASSERT_TRUE(renewed && acquired) << held.dump();
  EXPECT_GE(*acquired - *renewed, milliseconds(1900)) << lastRenewal << " " << held.dump();
  EXPECT_EQ(held["spec"].value("leaseTransitions", 0), 1) << held.dump();
  EXPECT_EQ(holders(), (std::vector<std::string>{"alpha", "beta"}));

  // The Incident in flight finishes under the new leader, no step twice.
  expectEachEffectOnce(name);
  if (tape_->exact()) {
    EXPECT_EQ(alpha.log().find("step=restart"), std::string::npos) << alpha.log();
    EXPECT_NE(beta.log().find("step=restart"), std::string::npos) << beta.log();
  }
}

TEST_F(LeaderElectionTest, SigtermReleasesTheLeaseSoTheOtherLeadsAtOnceAndExitsZero) {
  // A long Lease: a takeover well before it can only come from the release.
  std::vector<std::string> flags = {
      "--leader-elect", "--lease-duration",   "10s", "--renew-deadline", "4s", "--retry-period",
      "500ms",          "--shutdown-timeout", "5s"};
  OperatorProcess& alpha = startOperator(flags, "alpha");
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "alpha" && leads(alpha); })) << allLogs();
  OperatorProcess& beta = startOperator(flags, "beta");
  EXPECT_TRUE(follows(beta));
  std::string name = incidentWaitingAtTheGate(alpha);
  ASSERT_FALSE(name.empty());

  auto stoppedAt = std::chrono::steady_clock::now();
  int status = alpha.process.stop(std::chrono::seconds(10));
  auto exitedAfter = std::chrono::steady_clock::now() - stoppedAt;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << "\n"
                                                             << alpha.log();
  EXPECT_LT(exitedAfter, std::chrono::seconds(5)) << "longer than --shutdown-timeout";
  EXPECT_NE(alpha.log().find("event=stopped exitCode=0"), std::string::npos) << alpha.log();

  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "beta"; }, std::chrono::seconds(15)))
      << leaseHolder() << allLogs();
  auto takeover = std::chrono::steady_clock::now() - stoppedAt;
  std::cout << "[          ] exit after SIGTERM: "
            << duration_cast<milliseconds>(exitedAfter).count()
            << " ms; takeover: " << duration_cast<milliseconds>(takeover).count() << " ms\n";
  // The released Lease (no holder) is taken at beta's next try: at most one
  // jittered retry period (1.1s) after the release, far from the 10s lease.
  EXPECT_LT(takeover, milliseconds(3000));
  EXPECT_EQ(holders(), (std::vector<std::string>{"alpha", "", "beta"}));
  ASSERT_TRUE(waitUntil([&] { return leads(beta); }));

  openGate("gate");
  expectEachEffectOnce(name);
}

}  // namespace
}  // namespace remedy::testing
