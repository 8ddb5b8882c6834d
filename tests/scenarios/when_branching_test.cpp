// Issue #10, `when` branches against a real PostgreSQL: the seeds' "if
// queries have been running too long, terminate them; otherwise the load is
// real, scale the backend", decided on the activity report's oldestSeconds.
// Each step that does not run is Skipped with the condition and the values
// it saw on its status.
#include "scenario_fixture.h"

#include <gmock/gmock.h>

namespace remedy::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: db-pool-branches
spec:
  triggers:
    - alertName: DatabaseConnectionPoolExhausted
  steps:
    - name: activity
      postgres:
        connection:
          secretKeyRef: {name: postgres-admin, key: uri}
        activityReport:
          states: [active]
          databases: [personal_finance]
    - name: terminate-stuck
      when: steps.activity.outputs.oldestSeconds > 3
      postgres:
        connection:
          secretKeyRef: {name: postgres-admin, key: uri}
        terminateBackends:
          olderThan: 3s
          states: [active]
          databases: [personal_finance]
    - name: scale-backend
      when: steps.activity.outputs.oldestSeconds <= 3
      scale:
        target:
          name: backend
        replicas: "+1"
        maxReplicas: 6
)";

constexpr const char* kOldest = "steps.activity.outputs.oldestSeconds";

class WhenBranchingTest : public ScenarioTest {
 protected:
  void SetUp() override {
    ScenarioTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(pg_.start(), "");
    pg_.exec("CREATE DATABASE personal_finance");
    putSecret("postgres-admin", {{"uri", pg_.uri(PostgresServer::kOperatorUser)}});
    create(kube::resources::deployments(), deployment("backend", 2, "backend"));
    ASSERT_TRUE(waitRolledOut("backend"));
    op_ = &startOperator();
    applyRunbook(kRunbook);
  }

  PostgresServer pg_;
  OperatorProcess* op_ = nullptr;
};

TEST_F(WhenBranchingTest, AStuckQueryTakesTheTerminateBranchAndNoneTakesTheScaleBranch) {
  OperatorProcess& op = *op_;
  PostgresServer::SessionOptions worker;
  worker.user = PostgresServer::kAppUser;
  worker.database = "personal_finance";
  worker.applicationName = "backend-worker";

  // Run 1: a query stuck in pg_sleep for longer than the threshold.
  auto stuck = pg_.sleeping(worker);
  ASSERT_TRUE(pg_.waitUntilActiveFor(stuck->pid(), 4.0));
  const int stuckPid = stuck->pid();  // reads 0 once the server ended the session
  std::string first =
      fire(op, "DatabaseConnectionPoolExhausted", {{"run", "1"}}, "b1a2c3d4e5f60001");
  ASSERT_FALSE(first.empty());
  json one = waitFinished(first);
  ASSERT_EQ(phaseOf(one), "Succeeded") << one.dump(2) << "\n" << op.log();
  std::string oldest = outputOf(one, "activity", "oldestSeconds");
  ASSERT_GE(std::stoi(oldest), 4) << one.dump(2);

  json terminate = stepOf(one, "terminate-stuck");
  EXPECT_EQ(terminate["phase"], "Succeeded") << terminate.dump(2);
  EXPECT_EQ(terminate["when"]["expression"], "steps.activity.outputs.oldestSeconds > 3");
  EXPECT_EQ(terminate["when"]["result"], true);
  EXPECT_EQ(terminate["when"]["values"][kOldest], oldest);
  EXPECT_EQ(outputOf(one, "terminate-stuck", "pids"), std::to_string(stuckPid));
  EXPECT_EQ(stuck->waitForResult(), std::optional<std::string>("57P01"));
  EXPECT_TRUE(pg_.waitUntilGone(stuckPid));

  json scale = stepOf(one, "scale-backend");
  EXPECT_EQ(scale["phase"], "Skipped") << scale.dump(2);
  EXPECT_EQ(scale["when"]["expression"], "steps.activity.outputs.oldestSeconds <= 3");
  EXPECT_EQ(scale["when"]["result"], false);
  EXPECT_EQ(scale["when"]["values"][kOldest], oldest);
  EXPECT_THAT(scale.value("message", ""), HasSubstr("is false"));
  EXPECT_EQ(scale.value("attempts", 0), 0);
  EXPECT_EQ(get(kube::resources::deployments(), "backend")["spec"]["replicas"], 2);

  // Run 2: nothing stuck (an idle connection holds a slot but runs nothing).
  auto idle = pg_.idle(worker);
  std::string second =
      fire(op, "DatabaseConnectionPoolExhausted", {{"run", "2"}}, "b1a2c3d4e5f60002");
  ASSERT_FALSE(second.empty());
  ASSERT_NE(second, first);
  json two = waitFinished(second);
  ASSERT_EQ(phaseOf(two), "Succeeded") << two.dump(2) << "\n" << op.log();
  EXPECT_EQ(outputOf(two, "activity", "matched"), "0");
  EXPECT_EQ(outputOf(two, "activity", "oldestSeconds"), "0");

  terminate = stepOf(two, "terminate-stuck");
  EXPECT_EQ(terminate["phase"], "Skipped") << terminate.dump(2);
  EXPECT_EQ(terminate["when"]["expression"], "steps.activity.outputs.oldestSeconds > 3");
  EXPECT_EQ(terminate["when"]["result"], false);
  EXPECT_EQ(terminate["when"]["values"], json({{kOldest, "0"}}));
  EXPECT_EQ(terminate.value("attempts", 0), 0);
  EXPECT_TRUE(pg_.hasBackend(idle->pid()));

  scale = stepOf(two, "scale-backend");
  EXPECT_EQ(scale["phase"], "Succeeded") << scale.dump(2);
  EXPECT_EQ(scale["when"]["result"], true);
  EXPECT_EQ(scale["when"]["values"], json({{kOldest, "0"}}));
  EXPECT_EQ(outputOf(two, "scale-backend", "previousReplicas"), "2");
  EXPECT_EQ(outputOf(two, "scale-backend", "replicas"), "3");
  EXPECT_EQ(get(kube::resources::deployments(), "backend")["spec"]["replicas"], 3);

  // The timeline says which branch was skipped and why.
  std::string timeline = two["status"].value("timeline", json::array()).dump();
  EXPECT_THAT(timeline, HasSubstr("StepSkipped"));
  EXPECT_THAT(timeline, HasSubstr("terminate-stuck"));
}

}  // namespace
}  // namespace remedy::testing
