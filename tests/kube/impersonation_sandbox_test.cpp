// Impersonation end to end: kube::RestClient::impersonating and
// ImpersonatingClients against a sandbox that enforces RBAC, with the texts
// and identities kube-apiserver v1.33 answers (checked by hand against the
// real control plane of e2e/cluster: the same requests with curl).
#include "kube/impersonation.h"
#include "kube/rest_client.h"
#include "sandbox_fixture.h"

#include <gtest/gtest.h>

namespace remedy::kube::testing {
namespace {

Resource rbac(const std::string& plural, const std::string& kind, bool namespaced) {
  return {"rbac.authorization.k8s.io", "v1", plural, kind, namespaced};
}
Resource selfSubjectReviews() {
  return {"authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", false};
}

class ImpersonationTest : public SandboxTest {
 protected:
  void SetUp() override {
    sandbox::SandboxOptions options = defaultOptions();
    options.authorization = true;
    startSandbox(options);
    if (HasFatalFailure()) return;
    // The operator: may impersonate ServiceAccounts named "runner" only.
    sandbox_->addToken("operator-token", "system:serviceaccount:ops:operator",
                       {"system:serviceaccounts", "system:serviceaccounts:ops"});
    create(rbac("clusterroles", "ClusterRole", false), "",
           {{"metadata", {{"name", "impersonate-runner"}}},
            {"rules", json::array({{{"apiGroups", {""}},
                                    {"resources", {"serviceaccounts"}},
                                    {"verbs", {"impersonate"}},
                                    {"resourceNames", {"runner"}}}})}});
    create(rbac("clusterrolebindings", "ClusterRoleBinding", false), "",
           {{"metadata", {{"name", "impersonate-runner"}}},
            {"roleRef",
             {{"apiGroup", "rbac.authorization.k8s.io"},
              {"kind", "ClusterRole"},
              {"name", "impersonate-runner"}}},
            {"subjects",
             json::array(
                 {{{"kind", "ServiceAccount"}, {"name", "operator"}, {"namespace", "ops"}}})}});
    // The runner of this test's namespace may read ConfigMaps there.
    create(rbac("roles", "Role", true), namespace_,
           {{"metadata", {{"name", "read-configmaps"}, {"namespace", namespace_}}},
            {"rules",
             json::array(
                 {{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get"}}}})}});
    create(rbac("rolebindings", "RoleBinding", true), namespace_,
           {{"metadata", {{"name", "runner"}, {"namespace", namespace_}}},
            {"roleRef",
             {{"apiGroup", "rbac.authorization.k8s.io"},
              {"kind", "Role"},
              {"name", "read-configmaps"}}},
            {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", "runner"}}})}});
    create(resources::configMaps(), namespace_, configMap("settings", {{"mode", "on"}}));
    Config c = adminConfig();
    c.bearerToken = "operator-token";
    operator_ = newClient(c);
  }

  void create(const Resource& r, const std::string& ns, json object) {
    object["apiVersion"] = r.group.empty() ? r.version : r.group + "/" + r.version;
    object["kind"] = r.kind;
    auto created = client_->create(r, ns, object);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  json whoAmI(Client& client) {
    auto review = client.create(selfSubjectReviews(), "",
                                {{"apiVersion", "authentication.k8s.io/v1"},
                                 {"kind", "SelfSubjectReview"},
                                 {"metadata", json::object()}});
    EXPECT_TRUE(review.ok()) << review.status().toString();
    return review.ok() ? (*review)["status"]["userInfo"] : json();
  }

  std::unique_ptr<RestClient> operator_;
};

TEST_F(ImpersonationTest, ActsAsTheServiceAccountWithItsGroups) {
  auto runner = operator_->impersonating({serviceAccountUser(namespace_, "runner"), {}});
  json user = whoAmI(*runner);
  EXPECT_EQ(user.value("username", ""), "system:serviceaccount:" + namespace_ + ":runner");
  EXPECT_EQ(user.value("groups", json::array()),
            json::array({"system:serviceaccounts", "system:serviceaccounts:" + namespace_,
                         "system:authenticated"}));
  // The runner's rights, not the operator's: its RoleBinding names it as a
  // ServiceAccount subject without a namespace (the binding's own).
  auto settings = runner->get(resources::configMaps(), namespace_, "settings");
  ASSERT_TRUE(settings.ok()) << settings.status().toString();
  EXPECT_EQ((*settings)["data"].value("mode", ""), "on");
  auto secret = runner->get(resources::secrets(), namespace_, "token");
  EXPECT_TRUE(isForbidden(secret.status()));
  EXPECT_EQ(secret.status().message(),
            "secrets \"token\" is forbidden: User \"system:serviceaccount:" + namespace_ +
                ":runner\" cannot get resource \"secrets\" in API group \"\" in the namespace \"" +
                namespace_ + "\"");
  // The operator itself may do neither.
  EXPECT_TRUE(
      isForbidden(operator_->get(resources::configMaps(), namespace_, "settings").status()));
}

TEST_F(ImpersonationTest, OnlyTheServiceAccountNamesTheRuleLists) {
  auto other = operator_->impersonating({serviceAccountUser(namespace_, "other"), {}});
  auto got = other->get(resources::configMaps(), namespace_, "settings");
  EXPECT_TRUE(isForbidden(got.status()));
  EXPECT_EQ(
      got.status().message(),
      "serviceaccounts \"other\" is forbidden: User \"system:serviceaccount:ops:operator\" "
      "cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"" +
          namespace_ + "\"");
  auto user = operator_->impersonating({"alice", {}});
  EXPECT_EQ(user->get(resources::configMaps(), namespace_, "settings").status().message(),
            "users \"alice\" is forbidden: User \"system:serviceaccount:ops:operator\" cannot "
            "impersonate resource \"users\" in API group \"\" at the cluster scope");
  // Adding a group is a separate check: a runner in system:masters is refused.
  auto masters =
      operator_->impersonating({serviceAccountUser(namespace_, "runner"), {"system:masters"}});
  EXPECT_EQ(masters->get(resources::configMaps(), namespace_, "settings").status().message(),
            "groups \"system:masters\" is forbidden: User \"system:serviceaccount:ops:operator\" "
            "cannot impersonate resource \"groups\" in API group \"\" at the cluster scope");
}

TEST_F(ImpersonationTest, GroupsWithoutAUserAreAServerError) {
  auto groupOnly = operator_->impersonating({"", {"dev"}});
  auto got = groupOnly->get(resources::configMaps(), namespace_, "settings");
  EXPECT_EQ(got.status().code(), 500);
  EXPECT_NE(
      got.status().message().find("requested [{Group  dev    }] without impersonating a user"),
      std::string::npos)
      << got.status().message();
}

TEST_F(ImpersonationTest, ClientsPerServiceAccountAreKeptAndIndependent) {
  ImpersonatingClients clients(*operator_);
  Client& a = clients.serviceAccount(namespace_, "runner");
  Client& b = clients.serviceAccount(namespace_, "runner");
  EXPECT_EQ(&a, &b);
  Client& other = clients.serviceAccount(namespace_, "other");
  EXPECT_NE(&a, &other);
  EXPECT_TRUE(a.get(resources::configMaps(), namespace_, "settings").ok());
  EXPECT_TRUE(isForbidden(other.get(resources::configMaps(), namespace_, "settings").status()));
  // The operator's own client still acts as the operator.
  EXPECT_EQ(whoAmI(*operator_).value("username", ""), "system:serviceaccount:ops:operator");
}

TEST_F(ImpersonationTest, AnAdministratorMayImpersonateAnyone) {
  auto asDave = client_->impersonating({"dave", {}});
  json user = whoAmI(*asDave);
  EXPECT_EQ(user.value("username", ""), "dave");
  EXPECT_EQ(user.value("groups", json::array()), json::array({"system:authenticated"}));
  // RBAC applies to the impersonated identity, not to the administrator.
  EXPECT_TRUE(isForbidden(asDave->get(resources::configMaps(), namespace_, "settings").status()));
}

}  // namespace
}  // namespace remedy::kube::testing
