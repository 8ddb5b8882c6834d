// Fencing (#20): a leader paused past its Lease (SIGSTOP) issues no effect
// when it resumes (SIGCONT). The other operator takes the Lease and finishes
// the Incident; the resumed one finds it has not renewed within the renew
// deadline less the margin, skips the effect, logs and counts it, and exits
// once it sees the Lease held by the other. Every effect on the Deployment
// happens exactly once.
#include "gated_incident.h"

#include <csignal>
#include <iostream>

namespace remedy::testing {
namespace {

// Resumes a paused process however the test ends, so the fixture can stop it.
struct Resume {
  explicit Resume(OperatorProcess& op) : op(op) {}
  ~Resume() { now(); }
  void now() {
    if (op.process.pid() > 0) ::kill(op.process.pid(), SIGCONT);
  }
  OperatorProcess& op;
};

class FencingTest : public GatedIncidentTest {
 protected:
  // alpha leads, beta follows; an Incident from beta's webhook, run by
  // alpha, waits at the gate. Returns its name.
  std::string incidentWaitingAtTheGate(OperatorProcess& alpha, OperatorProcess& beta) {
    EXPECT_TRUE(waitUntil([&] { return leaseHolder() == "alpha" && leads(alpha); }))
        << leaseHolder() << allLogs();
    return GatedIncidentTest::incidentWaitingAtTheGate(beta);
  }

  // The resumed alpha sees beta's Lease and exits (leadership lost).
  void awaitExit(OperatorProcess& alpha) {
    ASSERT_TRUE(waitUntil([&] { return !alpha.process.running(); }, std::chrono::seconds(20)))
        << alpha.log();
    EXPECT_NE(alpha.log().find("event=leadership-lost"), std::string::npos) << alpha.log();
  }
};

// Paused while the Incident waits at the gate; resumed after the other
// operator finished the Incident.
TEST_F(FencingTest, LeaderPausedAtTheGateIssuesNoEffectWhenResumed) {
  OperatorProcess& alpha = startOperator(fastLease(), "alpha");
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "alpha" && leads(alpha); }))
      << leaseHolder() << allLogs();
  OperatorProcess& beta = startOperator(fastLease(), "beta");
  std::string name = incidentWaitingAtTheGate(alpha, beta);
  ASSERT_FALSE(name.empty());

  Resume resume(alpha);
  ASSERT_EQ(::kill(alpha.process.pid(), SIGSTOP), 0);
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "beta"; }, std::chrono::seconds(15)))
      << leaseHolder() << allLogs();
  ASSERT_TRUE(waitUntil([&] { return leads(beta); })) << beta.log();
  openGate("gate");
  expectEachEffectOnce(name);
  size_t before = alpha.log().size();

  resume.now();
  awaitExit(alpha);
  // Whatever the resumed alpha tried for the Incident was fenced: no action
  // ran, so no attempt has an outcome in its log.
  std::string after = alpha.log().substr(before);
  EXPECT_EQ(after.find(" outcome="), std::string::npos) << after;
  std::cout << "[          ] resumed leader fenced "
            << (after.find("event=fenced") != std::string::npos ? "an effect"
                                                                : "nothing (it did not try)")
            << "\n";
  expectEachEffectOnce(name);
}

// Paused just after it checkpointed the restart step, before it restarted
// anything: the resumed alpha is in the middle of that step and, unfenced,
// would restart the Deployment a second time.
TEST_F(FencingTest, LeaderPausedBetweenCheckpointAndEffectIsFencedWhenResumed) {
  OperatorProcess& alpha = startOperator(fastLease(), "alpha");
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "alpha" && leads(alpha); }))
      << leaseHolder() << allLogs();
  OperatorProcess& beta = startOperator(fastLease(), "beta");
  std::string name = incidentWaitingAtTheGate(alpha, beta);
  ASSERT_FALSE(name.empty());

  Resume resume(alpha);
  tape_->killOnNext(
      alpha.process.pid(),
      [](const sandbox::StoreEvent& e) {
        return isStepCheckpoint(e) && stepOf(*e.object, "restart").value("phase", "") == "Running";
      },
      SIGSTOP);
  openGate("gate");
  ASSERT_TRUE(waitUntil([&] { return tape_->lastKillAt().has_value(); }))
      << getIncident(name).dump(2) << allLogs();
  if (tape_->exact()) {
    EXPECT_EQ(generationOf(deployment("api")), generation_ + 1) << "restarted before the pause";
  }
  ASSERT_TRUE(waitUntil([&] { return leaseHolder() == "beta"; }, std::chrono::seconds(15)))
      << leaseHolder() << allLogs();
  expectEachEffectOnce(name);

  resume.now();
  awaitExit(alpha);
  expectEachEffectOnce(name);
  if (tape_->exact()) {
    // On the sandbox the pause landed before the restart's write. Either
    // alpha was stopped in front of the fence, and fenced the restart when
    // resumed, or it was already past it (the SIGSTOP lands a moment after
    // the checkpoint is stored), so the restart was in flight and finished
    // on resume: no fence can recall a request already issued, and the
    // restart, keyed by the attempt, was the same one beta made (each
    // effect once, above).
    bool fenced = alpha.log().find("step=restart event=fenced effect=run") != std::string::npos;
    bool inFlight = alpha.log().find("step=restart action=rolloutRestart") != std::string::npos;
    EXPECT_TRUE(fenced || inFlight) << alpha.log();
    std::cout << "[          ] resumed leader "
              << (fenced ? "fenced the restart" : "finished the restart it had in flight") << "\n";
    EXPECT_NE(beta.log().find("step=restart"), std::string::npos) << beta.log();
  }
}

}  // namespace
}  // namespace remedy::testing
