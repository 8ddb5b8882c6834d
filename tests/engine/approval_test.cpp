// The approval gate (#5 item 3): AwaitingApproval, then Running after an
// Approval; Reject cancels; the timeout's onTimeout applies.
#include "engine/approval_gate.h"

#include "engine_fixture.h"

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;

class ApprovalTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    createDeployment("web", 1);
    createRunbook("gated", R"(
triggers: [{alertName: Gated}]
steps:
  - name: scale-up
    approval: Required
    scale: {target: {name: web}, replicas: "+1"}
approval: {users: [alice, bob], timeout: 10m, onTimeout: Escalate}
)");
    createIncident("i1", "Gated", {});
    reconciler_ = newReconciler();
    ASSERT_TRUE(driveToPhase("i1", "AwaitingApproval", reconciler_.get()));
    EXPECT_EQ(stepOf("i1", "scale-up").value("phase", ""), "AwaitingApproval");
  }

  int replicas() { return getDeployment("web")["spec"].value("replicas", -1); }

  std::unique_ptr<IncidentReconciler> reconciler_;
};

TEST_F(ApprovalTest, ApprovalLetsTheStepRun) {
  auto result = reconciler_->reconcile(namespace_ + "/i1");
  EXPECT_GT(result.requeueAfter, kube::Duration(0));  // waits without blocking
  EXPECT_EQ(replicas(), 1);
  createApproval("ok", "i1", "scale-up", "Approve", "alice");
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler_.get()));
  EXPECT_EQ(replicas(), 2);
  json records = incident("i1")["status"]["approvals"];
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value("approver", ""), "alice");
}

TEST_F(ApprovalTest, ApproverNotInThePolicyDoesNotCount) {
  createApproval("mallory", "i1", "scale-up", "Approve", "mallory");
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/i1");
  EXPECT_EQ(phaseOf("i1"), "AwaitingApproval");
  EXPECT_EQ(replicas(), 1);
}

TEST_F(ApprovalTest, EachApprovalLearnsWhetherItCounted) {
  createApproval("mallory", "i1", "scale-up", "Approve", "mallory");
  createApproval("ok", "i1", "scale-up", "Approve", "alice");
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler_.get()));
  auto statusOf = [&](const std::string& name) {
    auto got = client_->get(approvals(), namespace_, name);
    EXPECT_TRUE(got.ok()) << got.status().toString();
    return got.ok() ? got->value("status", json::object()) : json::object();
  };
  json refused = statusOf("mallory");
  EXPECT_EQ(refused.value("state", ""), "Refused");
  EXPECT_EQ(refused.value("reason", ""), "NotAnApprover");
  EXPECT_NE(refused.value("message", "").find("mallory"), std::string::npos);
  json accepted = statusOf("ok");
  EXPECT_EQ(accepted.value("state", ""), "Counted");
  EXPECT_EQ(accepted.value("reason", ""), "Counted");
  EXPECT_FALSE(accepted.value("processedAt", "").empty());
}

TEST_F(ApprovalTest, RejectionCancels) {
  createApproval("no", "i1", "scale-up", "Reject", "bob");
  ASSERT_TRUE(driveToPhase("i1", "Cancelled", reconciler_.get()));
  EXPECT_EQ(replicas(), 1);
  EXPECT_NE(incident("i1").dump().find("rejected by bob"), std::string::npos);
}

TEST_F(ApprovalTest, TimeoutEscalates) {
  clock_.step(std::chrono::minutes(11));
  ASSERT_TRUE(driveToPhase("i1", "Escalated", reconciler_.get()));
  EXPECT_EQ(replicas(), 1);
}

TEST_F(ApprovalTest, AnApprovalWithoutAValidSealNeverCounts) {
  // Written past the webhook: no seal, or a seal copied from another Approval.
  auto created = client_->create(approvals(), namespace_,
                                 approvalObject("unsealed", "i1", "scale-up", "Approve", "alice"));
  ASSERT_TRUE(created.ok()) << created.status().toString();
  json copied = approvalObject("copied", "i1", "scale-up", "Approve", "bob");
  json genuine = approvalObject("genuine", "i1", "scale-up", "Approve", "alice");
  copied["metadata"]["annotations"] = {
      {admission::kApprovalSealAnnotation, sealer_.sealApproval(genuine, clock_.wallNow())}};
  ASSERT_TRUE(client_->create(approvals(), namespace_, copied).ok());
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/i1");
  EXPECT_EQ(phaseOf("i1"), "AwaitingApproval");
  EXPECT_EQ(replicas(), 1);
  for (const char* name : {"unsealed", "copied"}) {
    json status = client_->get(approvals(), namespace_, name)->value("status", json::object());
    EXPECT_EQ(status.value("state", ""), "Refused") << name;
    EXPECT_EQ(status.value("reason", ""), "Unverified") << name;
  }
}

TEST_F(ApprovalTest, WithoutASealKeyNothingCounts) {
  createApproval("ok", "i1", "scale-up", "Approve", "alice");
  IncidentReconcilerOptions options;
  options.pauseNamespace = namespace_;
  IncidentReconciler keyless(*client_, caches(), *serviceAccounts_, *registry_, clock_, nullptr,
                             options);
  for (int i = 0; i < 3; ++i) keyless.reconcile(namespace_ + "/i1");
  EXPECT_EQ(phaseOf("i1"), "AwaitingApproval");
  json status = client_->get(approvals(), namespace_, "ok")->value("status", json::object());
  EXPECT_EQ(status.value("reason", ""), "Unverified");
}

TEST_F(ApprovalTest, AnApprovalSealedBeforeTheStepWaitedDoesNotCount) {
  json early = approvalObject("early", "i1", "scale-up", "Approve", "alice");
  early["metadata"]["annotations"] = {
      {admission::kApprovalSealAnnotation,
       sealer_.sealApproval(early, clock_.wallNow() - std::chrono::minutes(5))}};
  ASSERT_TRUE(client_->create(approvals(), namespace_, early).ok());
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/i1");
  EXPECT_EQ(phaseOf("i1"), "AwaitingApproval");
  json status = client_->get(approvals(), namespace_, "early")->value("status", json::object());
  EXPECT_EQ(status.value("reason", ""), "StepNotWaiting");
}

TEST_F(ApprovalTest, AnApprovalForAnEarlierIncidentOfTheSameNameDoesNotCount) {
  json earlier = approvalObject("earlier", "i1", "scale-up", "Approve", "alice");
  earlier["spec"]["incidentRef"]["uid"] = "uid-of-an-earlier-i1";
  earlier["metadata"]["annotations"] = {
      {admission::kApprovalSealAnnotation, sealer_.sealApproval(earlier, clock_.wallNow())}};
  ASSERT_TRUE(client_->create(approvals(), namespace_, earlier).ok());
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/i1");
  EXPECT_EQ(phaseOf("i1"), "AwaitingApproval");
  EXPECT_EQ(replicas(), 1);
}

TEST_F(ApprovalTest, TwoApprovalsByTheSamePersonCountOnce) {
  // Its own Deployment: i1 holds web (one remediation per target).
  createDeployment("api", 1);
  createRunbook("two-people", R"(
triggers: [{alertName: TwoPeople}]
steps:
  - name: scale-up
    approval: Required
    scale: {target: {name: api}, replicas: "+1"}
approval: {groups: [sre], minApprovals: 2, timeout: 10m}
)");
  createIncident("i2", "TwoPeople", {});
  ASSERT_TRUE(driveToPhase("i2", "AwaitingApproval", reconciler_.get()));
  createApproval("a1", "i2", "scale-up", "Approve", "alice", {"oncall", "sre"});
  for (int i = 0; i < 2; ++i) reconciler_->reconcile(namespace_ + "/i2");
  json first = client_->get(approvals(), namespace_, "a1")->value("status", json::object());
  EXPECT_EQ(first.value("state", ""), "Accepted");
  EXPECT_EQ(first.value("reason", ""), "MoreApprovalsNeeded");
  createApproval("a2", "i2", "scale-up", "Approve", "alice", {"oncall", "sre"});
  createApproval("d1", "i2", "scale-up", "Approve", "dave", {"system:authenticated"});
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/i2");
  EXPECT_EQ(phaseOf("i2"), "AwaitingApproval");
  auto reasonOf = [&](const std::string& name) {
    return client_->get(approvals(), namespace_, name)
        ->value("status", json::object())
        .value("reason", "");
  };
  EXPECT_EQ(reasonOf("a2"), "Duplicate");
  EXPECT_EQ(reasonOf("d1"), "NotAnApprover");
  createApproval("c1", "i2", "scale-up", "Approve", "carol", {"sre"});
  ASSERT_TRUE(driveToPhase("i2", "Succeeded", reconciler_.get()));
  EXPECT_EQ(incident("i2")["status"]["approvals"].size(), 2u);
  EXPECT_EQ(client_->get(approvals(), namespace_, "a1")
                ->value("status", json::object())
                .value("state", ""),
            "Counted");
}

// The four-eyes rule: whoever created a Manual Incident (as the admission
// webhook sealed it) is never its only approver, unless the Runbook says so.
class SelfApprovalTest : public ApprovalTest {
 protected:
  void createIncidentBy(const std::string& name, const std::string& alert,
                        const std::string& creator) {
    createIncident(name, alert, {});
    json object = incident(name);
    object["metadata"]["annotations"] = {
        {admission::kCreatedByAnnotation, creator},
        {admission::kCreatedByGroupsAnnotation, R"(["sre"])"},
        {admission::kCreatorSealAnnotation,
         sealer_.sealCreator(namespace_, name, creator, {"sre"}, clock_.wallNow())}};
    auto updated = client_->update(incidents(), namespace_, object);
    ASSERT_TRUE(updated.ok()) << updated.status().toString();
  }

  // Runbook `target`, triggered by `alert`, scaling Deployment `target`.
  void createSelfRunbook(const std::string& alert, const std::string& target, bool allowSelf) {
    createDeployment(target, 1);
    createRunbook(target, std::string(R"(
triggers: [{alertName: )") + alert +
                              R"(}]
steps:
  - name: scale-up
    approval: Required
    scale: {target: {name: )" +
                              target +
                              R"(}, replicas: "+1"}
approval: {users: [alice, bob], timeout: 10m, allowSelfApproval: )" +
                              (allowSelf ? "true" : "false") + "}\n");
  }
};

TEST_F(SelfApprovalTest, TheCreatorIsNeverTheOnlyApprover) {
  createSelfRunbook("Own", "own", false);
  createIncidentBy("mine", "Own", "alice");
  ASSERT_TRUE(driveToPhase("mine", "AwaitingApproval", reconciler_.get()));
  createApproval("by-alice", "mine", "scale-up", "Approve", "alice", {"sre"});
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/mine");
  EXPECT_EQ(phaseOf("mine"), "AwaitingApproval");
  EXPECT_EQ(getDeployment("own")["spec"].value("replicas", -1), 1);
  json alone = client_->get(approvals(), namespace_, "by-alice")->value("status", json::object());
  EXPECT_EQ(alone.value("state", ""), "Accepted");
  EXPECT_EQ(alone.value("reason", ""), "AnotherApproverNeeded");
  EXPECT_NE(alone.value("message", "").find("alice created this Incident"), std::string::npos)
      << alone.dump();
  createApproval("by-bob", "mine", "scale-up", "Approve", "bob", {"sre"});
  ASSERT_TRUE(driveToPhase("mine", "Succeeded", reconciler_.get()));
  EXPECT_EQ(getDeployment("own")["spec"].value("replicas", -1), 2);
}

TEST_F(SelfApprovalTest, ARunbookMayAllowSelfApproval) {
  createSelfRunbook("OwnAllowed", "own-allowed", true);
  createIncidentBy("mine", "OwnAllowed", "alice");
  ASSERT_TRUE(driveToPhase("mine", "AwaitingApproval", reconciler_.get()));
  createApproval("by-alice", "mine", "scale-up", "Approve", "alice", {"sre"});
  ASSERT_TRUE(driveToPhase("mine", "Succeeded", reconciler_.get()));
}

TEST_F(SelfApprovalTest, ACreatorRewrittenPastTheWebhookMakesOneApproverNotEnough) {
  // alice created it, then rewrote the creator past the webhook: the seal no
  // longer verifies, so nobody can tell the creator from an approver and a
  // single approval is not enough (fail closed).
  createSelfRunbook("Forged", "forged", false);
  createIncidentBy("mine", "Forged", "alice");
  json object = incident("mine");
  object["metadata"]["annotations"][admission::kCreatedByAnnotation] = "mallory";
  ASSERT_TRUE(client_->update(incidents(), namespace_, object).ok());
  ASSERT_TRUE(driveToPhase("mine", "AwaitingApproval", reconciler_.get()));
  createApproval("by-alice", "mine", "scale-up", "Approve", "alice", {"sre"});
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(namespace_ + "/mine");
  EXPECT_EQ(phaseOf("mine"), "AwaitingApproval");
  createApproval("by-bob", "mine", "scale-up", "Approve", "bob", {"sre"});
  ASSERT_TRUE(driveToPhase("mine", "Succeeded", reconciler_.get()));
}

TEST_F(ApprovalTest, AnApprovalAfterTheStepStoppedWaitingIsTooLate) {
  createApproval("ok", "i1", "scale-up", "Approve", "alice");
  ASSERT_TRUE(driveToPhase("i1", "Succeeded", reconciler_.get()));
  createApproval("late", "i1", "scale-up", "Approve", "bob");
  reconciler_->reconcile(namespace_ + "/i1");
  json late = client_->get(approvals(), namespace_, "late")->value("status", json::object());
  EXPECT_EQ(late.value("state", ""), "Refused");
  EXPECT_EQ(late.value("reason", ""), "TooLate");
  EXPECT_NE(late.value("message", "").find("finished (Succeeded)"), std::string::npos)
      << late.dump();
  EXPECT_EQ(replicas(), 2);  // nothing ran twice
}

TEST_F(ApprovalTest, AnApprovalAfterTheTimeoutOnlyGetsItsStatus) {
  clock_.step(std::chrono::minutes(11));
  ASSERT_TRUE(driveToPhase("i1", "Escalated", reconciler_.get()));
  createApproval("late", "i1", "scale-up", "Approve", "alice");
  for (int i = 0; i < 2; ++i) reconciler_->reconcile(namespace_ + "/i1");
  EXPECT_EQ(phaseOf("i1"), "Escalated");
  EXPECT_EQ(replicas(), 1);
  json late = client_->get(approvals(), namespace_, "late")->value("status", json::object());
  EXPECT_EQ(late.value("reason", ""), "TooLate");
}

TEST(ApprovalGate, PolicyUsersGroupsAndServiceAccounts) {
  api::ApprovalPolicy anyone;
  EXPECT_TRUE(ApprovalGate::approverAllowed(&anyone, "dave", {}));
  EXPECT_TRUE(ApprovalGate::approverAllowed(nullptr, "dave", {}));
  EXPECT_FALSE(ApprovalGate::approverAllowed(nullptr, "", {}));
  EXPECT_FALSE(ApprovalGate::approverAllowed(nullptr, "system:serviceaccount:shop:bot", {}));
  api::ApprovalPolicy policy;
  policy.users = std::vector<std::string>{"bob", "system:serviceaccount:shop:release"};
  policy.groups = std::vector<std::string>{"sre"};
  EXPECT_TRUE(ApprovalGate::approverAllowed(&policy, "bob", {"dev"}));
  EXPECT_TRUE(ApprovalGate::approverAllowed(&policy, "carol", {"sre"}));
  EXPECT_FALSE(ApprovalGate::approverAllowed(&policy, "dave", {"dev"}));
  EXPECT_TRUE(ApprovalGate::approverAllowed(&policy, "system:serviceaccount:shop:release", {}));
  EXPECT_FALSE(ApprovalGate::approverAllowed(&policy, "system:serviceaccount:shop:bot", {"sre"}));
}

}  // namespace
}  // namespace remedy::engine
