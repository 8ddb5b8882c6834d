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
  EXPECT_EQ(accepted.value("state", ""), "Accepted");
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

TEST(ApprovalGate, MinApprovalsCountsDistinctApprovers) {
  api::ApprovalPolicy policy;
  policy.minApprovals = 2;
  auto approval = [](const std::string& name, const std::string& approver) {
    return json{
        {"metadata", {{"name", name}}},
        {"spec",
         {{"incidentRef", {{"name", "i1"}}}, {"decision", "Approve"}, {"approver", approver}}}};
  };
  kube::WallTime now{};
  auto once = ApprovalGate::evaluate(
      &policy, "i1", "s", std::vector<json>{approval("a", "alice"), approval("b", "alice")}, now,
      now);
  EXPECT_EQ(once.kind, ApprovalVerdict::Kind::kWaiting);
  auto twice = ApprovalGate::evaluate(
      &policy, "i1", "s", std::vector<json>{approval("a", "alice"), approval("b", "bob")}, now,
      now);
  EXPECT_EQ(twice.kind, ApprovalVerdict::Kind::kApproved);
}

}  // namespace
}  // namespace remedy::engine
