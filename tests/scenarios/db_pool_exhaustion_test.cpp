// Issue #7, last bullet: the seeds' "Database Connection Pool Exhaustion"
// procedure (show activity; kill queries running longer than a threshold;
// scale the backend; check the pool metrics) as a Runbook, run end to end:
// Alertmanager's webhook -> remedy-operator (a process) -> a real
// PostgreSQL 15 whose stuck sessions are terminated, the backend's
// Deployment scaled, and a real Prometheus that verifies.
#include "scenario_fixture.h"

#include <gmock/gmock.h>

namespace remedy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The seeds' procedure, with a two-second threshold instead of five minutes.
constexpr const char* kRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: db-pool-exhaustion
spec:
  description: >-
    From the operations runbook, "Database Connection Pool Exhaustion":
    check active connections, kill long-running queries, restart or scale
    the backend, check the pool metrics.
  severity: P0
  triggers:
    - alertName: DatabaseConnectionPoolExhausted
  parameters:
    - name: deployment
      value: '{{ alert.labels.deployment }}'
      default: backend
    - name: database
      value: '{{ alert.labels.datname }}'
      default: personal_finance
  steps:
    - name: activity
      description: SELECT state, count(*) FROM pg_stat_activity GROUP BY state
      postgres:
        connection:
          secretKeyRef: {name: postgres-admin, key: uri}
        activityReport:
          states: [active, idle in transaction]
          databases: ['{{ params.database }}']
    - name: kill-long-queries
      description: pg_terminate_backend of active queries older than the threshold
      postgres:
        connection:
          secretKeyRef: {name: postgres-admin, key: uri}
        terminateBackends:
          olderThan: 2s
          states: [active]
          databases: ['{{ params.database }}']
          maxCount: 20
    - name: scale-backend
      scale:
        target:
          name: '{{ params.deployment }}'
        replicas: "+2"
        maxReplicas: 10
    - name: verify
      description: curl /api/metrics | grep db_pool, as a PromQL check
      prometheusCheck:
        query: >-
          max(db_pool_connections_in_use{deployment="{{ params.deployment | promql }}"}
          / db_pool_connections_max{deployment="{{ params.deployment | promql }}"})
        operator: LessThan
        threshold: 0.8
        pollInterval: 500ms
        holdFor: 2s
      timeout: 30s
)";

class DbPoolExhaustionTest : public ScenarioTest {
 protected:
  void SetUp() override {
    ScenarioTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(pg_.start(), "");
    pg_.exec("CREATE DATABASE personal_finance");
    prometheus_ = std::make_unique<PrometheusServer>(std::vector<RecordingRule>{
        {"db_pool_connections_in_use",
         R"(label_replace(vector(12), "deployment", "backend", "", ""))"},
        {"db_pool_connections_max",
         R"(label_replace(vector(50), "deployment", "backend", "", ""))"}});
    ASSERT_EQ(prometheus_->start(), "");
  }

  PostgresServer::SessionOptions inDatabase(const std::string& database,
                                            const std::string& application) {
    PostgresServer::SessionOptions o;
    o.user = PostgresServer::kAppUser;
    o.database = database;
    o.applicationName = application;
    return o;
  }

  PostgresServer pg_;
  std::unique_ptr<PrometheusServer> prometheus_;
};

TEST_F(DbPoolExhaustionTest, AlertTerminatesStuckQueriesScalesTheBackendAndVerifiesThePool) {
  putSecret("postgres-admin", {{"uri", pg_.uri(PostgresServer::kOperatorUser)}});
  create(kube::resources::deployments(),
         deployment("backend", 2, "backend", {{"POSTGRES_POOL_SIZE", "20"}}));
  ASSERT_TRUE(waitRolledOut("backend"));
  auto& op = startOperator({"--prometheus-url", prometheus_->url()});
  applyRunbook(kRunbook);

  // Two sessions stuck in a query, one idle, one stuck in another database.
  auto stuck1 = pg_.sleeping(inDatabase("personal_finance", "backend-worker"));
  auto stuck2 = pg_.sleeping(inDatabase("personal_finance", "backend-worker"));
  auto idle = pg_.idle(inDatabase("personal_finance", "backend-web"));
  auto elsewhere = pg_.sleeping(inDatabase(PostgresServer::kOtherDatabase, "reporting"));
  ASSERT_TRUE(pg_.waitUntilActiveFor(stuck1->pid(), 2.5));
  ASSERT_TRUE(pg_.waitUntilActiveFor(stuck2->pid(), 2.5));
  // (A session's pid reads 0 once the server ended it.)
  const int pid1 = stuck1->pid();
  const int pid2 = stuck2->pid();

  std::string name =
      fire(op, "DatabaseConnectionPoolExhausted",
           {{"deployment", "backend"}, {"datname", "personal_finance"}, {"severity", "critical"}},
           "d0a1b2c3d4e5f601");
  ASSERT_FALSE(name.empty());
  json done = waitFinished(name);
  ASSERT_EQ(phaseOf(done), "Succeeded") << done.dump(2) << "\n" << op.log();

  // The stuck queries were terminated (the clients saw 57P01), the others live on.
  EXPECT_EQ(stuck1->waitForResult(), std::optional<std::string>("57P01"));
  EXPECT_EQ(stuck2->waitForResult(), std::optional<std::string>("57P01"));
  EXPECT_TRUE(pg_.waitUntilGone(pid1));
  EXPECT_TRUE(pg_.waitUntilGone(pid2));
  EXPECT_TRUE(pg_.hasBackend(idle->pid()));
  EXPECT_EQ(pg_.stateOf(elsewhere->pid()), std::optional<std::string>("active"));

  std::string p1 = std::to_string(pid1);
  std::string p2 = std::to_string(pid2);
  // What the activity report showed: both stuck backends, oldest first.
  EXPECT_EQ(outputOf(done, "activity", "matched"), "2");
  EXPECT_THAT(outputOf(done, "activity", "pids"), HasSubstr(p1));
  EXPECT_THAT(outputOf(done, "activity", "pids"), HasSubstr(p2));
  EXPECT_THAT(outputOf(done, "activity", "report"), HasSubstr("backend-worker"));
  EXPECT_GE(std::stoi(outputOf(done, "activity", "oldestSeconds")), 2);
  // What was terminated, by pid.
  json kill = stepOf(done, "kill-long-queries");
  EXPECT_EQ(kill["phase"], "Succeeded");
  EXPECT_EQ(outputOf(done, "kill-long-queries", "affected"), "2");
  std::string pids = outputOf(done, "kill-long-queries", "pids");
  EXPECT_TRUE(pids == p1 + "," + p2 || pids == p2 + "," + p1) << pids;
  EXPECT_THAT(kill.value("message", ""), HasSubstr("terminated 2 backends"));
  // The scale, from and to.
  EXPECT_EQ(outputOf(done, "scale-backend", "previousReplicas"), "2");
  EXPECT_EQ(outputOf(done, "scale-backend", "replicas"), "4");
  EXPECT_EQ(get(kube::resources::deployments(), "backend")["spec"]["replicas"], 4);
  // The pool check held: 12 of 50 connections.
  EXPECT_EQ(stepOf(done, "verify")["phase"], "Succeeded");
  EXPECT_EQ(outputOf(done, "verify", "value"), "0.24");
  EXPECT_THAT(stepOf(done, "verify").value("message", ""), HasSubstr("held for"));
  // Executed for real: counted on the Runbook.
  EXPECT_TRUE(waitUntil([&] {
    return get(runbooksResource(), "db-pool-exhaustion")
               .value("status", json::object())
               .value("executions", 0) == 1;
  }));

  // The connection string's password is in no record.
  std::string password = PostgresServer::passwordOf(PostgresServer::kOperatorUser);
  EXPECT_THAT(done.dump(), Not(HasSubstr(password)));
  EXPECT_THAT(op.log(), Not(HasSubstr(password)));
  auto events = kube::listAll(*client_, kube::resources::events(), shop_);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(events->dump(), Not(HasSubstr(password)));
}

}  // namespace
}  // namespace remedy::testing
