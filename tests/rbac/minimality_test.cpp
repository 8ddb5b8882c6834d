// Least privilege, one permission at a time: for every permission of the
// chart's rule files (one verb on one resource, see rule_expectations.h for
// the granularity and the exceptions), the chart's rules without it make the
// combined scenario fail: an Incident not Succeeded, a refusal in the
// operator's log, or the operator not becoming ready or leading. One operator
// and sandbox per case; ctest runs the cases in parallel.
#include "rbac_fixture.h"
#include "rule_expectations.h"

namespace remedy::testing {
namespace {

class PermissionRemovedTest : public RbacTest, public ::testing::WithParamInterface<Permission> {};

TEST_P(PermissionRemovedTest, MakesTheScenarioFail) {
  const Permission& permission = GetParam();
  prepareScenario();
  OperatorProcess& op = startChartOperator(ChartValues{}, {permission});
  ScenarioReport report = runCombinedScenario(op, true);
  // Seen what it needed. Its graceful shutdown is not under test, and an
  // engine waiting for a cache that cannot sync ignores SIGTERM until the
  // 60s sync timeout (reported), so the harness would wait out its grace.
  op.process.kill();
  EXPECT_FALSE(report.ok()) << permission.text()
                            << " is granted, yet the scenario succeeds without it: no code path "
                               "it runs needs it (delete it from the chart, or prove it)";
  if (!report.ok()) {
    // What needs it, for the record (ctest --output-on-failure -V shows it).
    std::cout << "without " << permission.text() << ": " << report.failures.front() << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(ChartRules, PermissionRemovedTest,
                         ::testing::ValuesIn(necessaryPermissions()),
                         [](const ::testing::TestParamInfo<Permission>& info) {
                           return info.param.id();
                         });

}  // namespace
}  // namespace remedy::testing
