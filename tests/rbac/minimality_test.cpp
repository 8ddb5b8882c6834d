// Least privilege, one permission at a time: for every permission of the
// chart's rule files (one verb on one resource, see rule_expectations.h for
// the granularity and the exceptions), the chart's rules without it make the
// combined scenario fail: an Incident not Succeeded, a refusal in the
// operator's log, or the operator not becoming ready or leading. One operator
// and API server namespace per case; ctest runs the cases in parallel.
#include "rbac_fixture.h"
#include "rule_expectations.h"

namespace remedy::testing {
namespace {

// Runs the combined scenario with the chart's rules for `values` less
// `permission`, and expects it to fail.
class PermissionRemovedCase : public RbacTest, public ::testing::WithParamInterface<Permission> {
 protected:
  void expectTheScenarioFails(const ChartValues& values) {
    const Permission& permission = GetParam();
    prepareScenario();
    OperatorProcess& op = startChartOperator(values, {permission});
    ScenarioReport report = runCombinedScenario(op, true);
    // Seen what it needed. Its graceful shutdown is not under test, and an
    // engine waiting for a cache that cannot sync ignores SIGTERM until the
    // 60s sync timeout (reported), so the harness would wait out its grace.
    op.process.kill();
    EXPECT_FALSE(report.ok()) << permission.text() << " is granted, yet the scenario succeeds "
                              << "without it on " << apiServerName()
                              << ": no code path it runs needs it (delete it from the chart, or "
                                 "prove it)";
    if (!report.ok()) {
      // What needs it, for the record (ctest --output-on-failure -V shows it).
      std::cout << "without " << permission.text() << " on " << apiServerName() << ": "
                << report.failures.front() << "\n";
    }
  }
};

// The sandbox, in cluster-wide mode (a ClusterRole): every permission but
// those rule_expectations.h explains.
class PermissionRemovedTest : public PermissionRemovedCase {};

TEST_P(PermissionRemovedTest, MakesTheScenarioFail) { expectTheScenarioFails(ChartValues{}); }

INSTANTIATE_TEST_SUITE_P(ChartRules, PermissionRemovedTest,
                         ::testing::ValuesIn(necessaryPermissions()),
                         [](const ::testing::TestParamInfo<Permission>& info) {
                           return info.param.id();
                         });

// kube-apiserver only (tests/CMakeLists.txt), in watchNamespaces mode (the
// operator rules as a Role in the test's namespace): every permission of the
// rule files, the ones kept for real API servers included, which this
// server's RBAC authorizer and admission plugins must show necessary. The
// mode isolates each case in its own namespaces, so the cases run in
// parallel with every other test; in cluster-wide mode each would have to
// run alone. The rules are the same list either way.
class PermissionRemovedFromRolesTest : public PermissionRemovedCase {};

TEST_P(PermissionRemovedFromRolesTest, MakesTheScenarioFail) {
  ChartValues values;
  // The test's namespace and the one the scenario's RunbookPolicy opens.
  values.watchNamespaces = {namespace_, sharedNamespace()};
  expectTheScenarioFails(values);
}

INSTANTIATE_TEST_SUITE_P(WatchNamespaces, PermissionRemovedFromRolesTest,
                         ::testing::ValuesIn(chartPermissions()),
                         [](const ::testing::TestParamInfo<Permission>& info) {
                           return info.param.id();
                         });

// Without leader election the chart grants the Leases rule all the same:
// the engine holds a Lease per target in the release namespace. Each of its
// permissions, taken away, fails the scenario, on the sandbox (cluster-wide
// mode) and on kube-apiserver (watchNamespaces mode, so the cases run in
// parallel with other tests).
class LeasePermissionRemovedTest : public PermissionRemovedCase {};

TEST_P(LeasePermissionRemovedTest, WithoutLeaderElectionMakesTheScenarioFail) {
  ChartValues values;
  values.leaderElection = false;
  if (onRealApiServer()) values.watchNamespaces = {namespace_, sharedNamespace()};
  expectTheScenarioFails(values);
}

INSTANTIATE_TEST_SUITE_P(TargetLeases, LeasePermissionRemovedTest,
                         ::testing::ValuesIn(permissionsIn(kLeaderElectionRulesFile,
                                                           readRuleFile(kLeaderElectionRulesFile))),
                         [](const ::testing::TestParamInfo<Permission>& info) {
                           return info.param.id();
                         });

}  // namespace
}  // namespace remedy::testing
