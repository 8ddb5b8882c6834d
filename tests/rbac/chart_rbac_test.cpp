// remedy-operator as the chart's ServiceAccount, granted exactly the chart's
// rules (cluster-wide mode: a ClusterRole, the RunbookPolicies ClusterRole,
// the release-namespace Role, and the runner Role its steps act with), on an
// API server that enforces RBAC: the combined scenario completes without one
// request refused; the rules kept for real API servers rest on what the
// runner really does; the operator's own token reads no Secret and changes no
// tenant object.
#include "rbac_fixture.h"
#include "rule_expectations.h"

#include "kube/impersonation.h"

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

// Sandbox only: on kube-apiserver these two permissions are shown
// necessary one by one (WatchNamespaces/PermissionRemovedFromRolesTest).
TEST_F(RbacTest, RulesKeptForRealApiServersRestOnWhatTheOperatorDoes) {
  // The sandbox authorizes a server-side apply that creates an object as a
  // patch only, so these two permissions can be taken away here. The
  // scenario checks what makes a real cluster need them: apply created the
  // NetworkPolicy and the ConfigMap that did not exist (create).
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

TEST_F(RbacTest, TheOperatorsOwnTokenReadsNoSecretAndChangesNoTenantObject) {
  prepareScenario();
  installChartRbac(ChartValues{}, chartRules(ChartValues{}));
  auto token = operatorClient();
  ASSERT_NE(token, nullptr);
  // Its own rights: none over what Runbooks act on.
  EXPECT_EQ(token->get(kube::resources::secrets(), namespace_, "hooks").status().code(), 403);
  EXPECT_EQ(token->list(kube::resources::secrets(), "").status().code(), 403);
  EXPECT_EQ(token->get(kube::resources::deployments(), namespace_, "web").status().code(), 403);
  json patch = {{"spec", {{"replicas", 9}}}};
  EXPECT_EQ(
      token->patch(kube::resources::deployments(), namespace_, "web", patch.dump()).status().code(),
      403);
  // Impersonating the runner it may; anyone else, never.
  kube::ImpersonatingClients as(*token);
  EXPECT_TRUE(as.serviceAccount(namespace_, kRunner)
                  .get(kube::resources::secrets(), namespace_, "hooks")
                  .ok());
  auto other =
      as.serviceAccount(namespace_, "default").get(kube::resources::pods(), namespace_, "x");
  EXPECT_EQ(other.status().message(),
            "serviceaccounts \"default\" is forbidden: User \"system:serviceaccount:" +
                releaseNamespace() + ":" + fullname() +
                "\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the "
                "namespace \"" +
                namespace_ + "\"");
  auto admin = token->impersonating({"system:admin", {"system:masters"}});
  EXPECT_EQ(admin->get(kube::resources::secrets(), namespace_, "hooks").status().code(), 403);
  // The runner of this namespace reaches no Secret elsewhere.
  EXPECT_EQ(as.serviceAccount(namespace_, kRunner)
                .get(kube::resources::secrets(), releaseNamespace(), "anything")
                .status()
                .code(),
            403);
}

TEST(ChartRuleTables, NameOnlyPermissionsTheChartGrants) {
  // A table entry the rule files no longer grant is stale: delete it with
  // the rule.
  std::set<std::string> granted;
  for (const auto& p : chartPermissions()) granted.insert(p.text());
  for (const auto& [permission, why] : realClusterPermissions()) {
    EXPECT_TRUE(granted.count(permission)) << permission << " is not granted by the chart";
  }
  // The approval rules: creating SubjectAccessReviews is granted in every
  // mode and shown necessary by the scenario; the certificate Secret mode's
  // permissions are exactly those the table says are shown elsewhere.
  auto named = [](const std::vector<Permission>& list) {
    std::set<std::string> out;
    for (const auto& p : list) out.insert(p.text());
    return out;
  };
  EXPECT_TRUE(named(necessaryPermissions())
                  .count("approval-rules.yaml: authorization.k8s.io/subjectaccessreviews create"));
  ChartValues secretMode;
  secretMode.admissionSecretMode = true;
  std::set<std::string> onlyInSecretMode;
  std::set<std::string> scenario = named(chartPermissions());
  for (const auto& p : chartPermissions(secretMode)) {
    if (!scenario.count(p.text())) onlyInSecretMode.insert(p.text());
  }
  std::set<std::string> table;
  for (const auto& [permission, why] : secretModePermissions()) table.insert(permission);
  EXPECT_EQ(onlyInSecretMode, table);
  // Placed as templates/rbac.yaml places them: the configurations and the
  // Secret's get and update by name, the Secret's create without.
  secretMode.admissionConfigurationName = "remedy";
  secretMode.admissionCertSecretName = "remedy-admission-tls";
  GrantedRules placed = chartRules(secretMode);
  ASSERT_EQ(placed.approvalClusterRules.size(), 2u);
  EXPECT_FALSE(placed.approvalClusterRules[0].contains("resourceNames"));
  EXPECT_EQ(placed.approvalClusterRules[1]["resourceNames"], json::array({"remedy"}));
  ASSERT_EQ(placed.admissionSecretRules.size(), 2u);
  EXPECT_FALSE(placed.admissionSecretRules[0].contains("resourceNames"));
  EXPECT_EQ(placed.admissionSecretRules[1]["resourceNames"], json::array({"remedy-admission-tls"}));
  GrantedRules scenarioRules = chartRules(ChartValues{});
  EXPECT_EQ(scenarioRules.approvalClusterRules.size(), 1u);
  EXPECT_TRUE(scenarioRules.admissionSecretRules.empty());
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
