// remedy-operator as the chart's ServiceAccount, granted exactly the chart's
// rules (cluster-wide mode: a ClusterRole and the release-namespace Role), on
// an API server that enforces RBAC: the combined scenario completes without
// one request refused; the rules proposed for deletion are never requested; the
// rules kept for real API servers rest on what the operator really does.
#include "rbac_fixture.h"
#include "rule_expectations.h"

#include <set>

namespace remedy::testing {
namespace {

TEST_F(RbacTest, ChartRulesRunTheWholeScenarioWithoutARefusal) {
  prepareScenario();
  OperatorProcess& op = startChartOperator(ChartValues{});
  ScenarioReport report = runCombinedScenario(op, false);
  EXPECT_TRUE(report.ok()) << "with exactly the chart's rules:\n"
                           << report.text() << "operator log:\n"
                           << tail(op.log(), 40);
  EXPECT_EQ(forbiddenLine(op.log()), "");
  EXPECT_EQ(forbiddenAnswers(op.metrics()), 0) << op.metrics();
}

// Sandbox only: on kube-apiserver these three permissions are shown
// necessary one by one (WatchNamespaces/PermissionRemovedFromRolesTest).
TEST_F(RbacTest, RulesKeptForRealApiServersRestOnWhatTheOperatorDoes) {
  // The sandbox has no OwnerReferencesPermissionEnforcement and authorizes a
  // server-side apply that creates an object as a patch only, so these three
  // permissions can be taken away here. The scenario checks what makes a
  // real cluster need them: runJob's Job is owned by the Incident with
  // blockOwnerDeletion: true (update on incidents/finalizers), and apply
  // created the NetworkPolicy and the ConfigMap that did not exist (create).
  std::vector<Permission> kept = permissionsNamedIn(realClusterPermissions());
  ASSERT_EQ(kept.size(), realClusterPermissions().size());
  prepareScenario();
  ASSERT_TRUE(
      kube::isNotFound(client_->get(networkPoliciesResource(), namespace_, "quarantine").status()));
  ASSERT_TRUE(kube::isNotFound(
      client_->get(kube::resources::configMaps(), namespace_, "remedy-note").status()));
  OperatorProcess& op = startChartOperator(ChartValues{}, kept);
  ScenarioReport report = runCombinedScenario(op, false);
  EXPECT_TRUE(report.ok()) << report.text() << "operator log:\n" << tail(op.log(), 40);
}

TEST(ChartRuleTables, NameOnlyPermissionsTheChartGrants) {
  // A table entry the rule files no longer grant is stale: delete it with
  // the rule.
  std::set<std::string> granted;
  for (const auto& p : chartPermissions()) granted.insert(p.text());
  for (const auto* table : {&realClusterPermissions(), &watchNamespacesOnlyPermissions()}) {
    for (const auto& [permission, why] : *table) {
      EXPECT_TRUE(granted.count(permission)) << permission << " is not granted by the chart";
    }
  }
  // Sanity of the splitting the minimality cases rely on.
  EXPECT_GT(necessaryPermissions().size(), 20u);
  json rules = json::parse(R"([{"apiGroups": ["apps"], "resources": ["a", "b"],
                                 "verbs": ["get", "list"]}])");
  json split = withoutPermission(rules, {"f", "apps", "b", "list"});
  auto left = permissionsIn("f", split);
  EXPECT_EQ(left.size(), 3u);
  for (const auto& p : left) EXPECT_FALSE(p.resource == "b" && p.verb == "list");
}

}  // namespace
}  // namespace remedy::testing
