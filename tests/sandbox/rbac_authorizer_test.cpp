#include "sandbox/rbac_authorizer.h"

#include <gtest/gtest.h>

namespace remedy::sandbox {
namespace {

const std::string kRoles = "rbac.authorization.k8s.io/roles";
const std::string kRoleBindings = "rbac.authorization.k8s.io/rolebindings";
const std::string kClusterRoles = "rbac.authorization.k8s.io/clusterroles";
const std::string kClusterRoleBindings = "rbac.authorization.k8s.io/clusterrolebindings";

class RbacAuthorizerTest : public ::testing::Test {
 protected:
  void put(const std::string& key, json object) {
    auto r = store_.create(key, std::move(object), [] { return ApiError::badRequest("exists"); });
    ASSERT_TRUE(r.ok());
  }
  void role(const std::string& ns, const std::string& name, json rules) {
    put(kRoles, {{"metadata", {{"namespace", ns}, {"name", name}}}, {"rules", rules}});
  }
  void clusterRole(const std::string& name, json rules) {
    put(kClusterRoles, {{"metadata", {{"name", name}}}, {"rules", rules}});
  }
  void roleBinding(const std::string& ns, const std::string& name, const std::string& refKind,
                   const std::string& refName, json subjects) {
    put(kRoleBindings,
        {{"metadata", {{"namespace", ns}, {"name", name}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", refKind}, {"name", refName}}},
         {"subjects", subjects}});
  }
  void clusterRoleBinding(const std::string& name, const std::string& refName, json subjects) {
    put(kClusterRoleBindings,
        {{"metadata", {{"name", name}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", refName}}},
         {"subjects", subjects}});
  }
  static json user(const std::string& name) {
    return json::array(
        {{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", name}}});
  }
  static Attributes request(const std::string& userName, const std::string& verb,
                            const std::string& group, const std::string& resource,
                            const std::string& ns, const std::string& name = "",
                            const std::string& subresource = "") {
    Attributes a;
    a.user = {userName, {"system:authenticated"}};
    a.verb = verb;
    a.apiGroup = group;
    a.resource = resource;
    a.subresource = subresource;
    a.namespace_ = ns;
    a.name = name;
    return a;
  }
  bool allowed(const Attributes& a, std::string* reason = nullptr) const {
    return RbacAuthorizer(store_).authorize(a, reason);
  }

  Store store_;
};

TEST_F(RbacAuthorizerTest, NothingIsAllowedWithoutBindings) {
  std::string reason = "x";
  EXPECT_FALSE(allowed(request("bob", "list", "", "pods", "default"), &reason));
  EXPECT_EQ(reason, "");
}

TEST_F(RbacAuthorizerTest, SystemMastersMayDoAnything) {
  Attributes a = request("admin", "delete", "apps", "deployments", "prod", "web");
  a.user.groups = {"system:masters", "system:authenticated"};
  EXPECT_TRUE(allowed(a));
  Attributes nonResource;
  nonResource.user = a.user;
  nonResource.verb = "get";
  nonResource.resourceRequest = false;
  nonResource.path = "/metrics";
  EXPECT_TRUE(allowed(nonResource));
}

TEST_F(RbacAuthorizerTest, RoleBindingGrantsOnlyInItsNamespace) {
  role("default", "pod-reader",
       json::array({{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list"}}}}));
  roleBinding("default", "read-pods", "Role", "pod-reader", user("bob"));
  std::string reason;
  EXPECT_TRUE(allowed(request("bob", "list", "", "pods", "default"), &reason));
  EXPECT_EQ(reason,
            "RBAC: allowed by RoleBinding \"read-pods/default\" of Role \"pod-reader\" to User "
            "\"bob\"");
  EXPECT_FALSE(allowed(request("bob", "list", "", "pods", "other")));
  EXPECT_FALSE(allowed(request("bob", "list", "", "pods", "")));  // cluster-wide list
  EXPECT_FALSE(allowed(request("bob", "delete", "", "pods", "default", "p")));
  EXPECT_FALSE(allowed(request("alice", "list", "", "pods", "default")));
  EXPECT_FALSE(allowed(request("bob", "list", "apps", "pods", "default")));
}

TEST_F(RbacAuthorizerTest, RoleBindingMayReferToAClusterRole) {
  clusterRole(
      "view-deploy",
      json::array({{{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", {"get"}}}}));
  roleBinding("shop", "viewers", "ClusterRole", "view-deploy", user("bob"));
  EXPECT_TRUE(allowed(request("bob", "get", "apps", "deployments", "shop", "web")));
  EXPECT_FALSE(allowed(request("bob", "get", "apps", "deployments", "default", "web")));
}

TEST_F(RbacAuthorizerTest, ClusterRoleBindingGrantsEverywhere) {
  clusterRole(
      "reader",
      json::array(
          {{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"get", "list", "watch"}}}}));
  clusterRoleBinding("readers", "reader", json::array({{{"kind", "Group"}, {"name", "readers"}}}));
  Attributes a = request("carol", "watch", "batch", "jobs", "");
  a.user.groups.push_back("readers");
  std::string reason;
  EXPECT_TRUE(allowed(a, &reason));
  EXPECT_EQ(reason,
            "RBAC: allowed by ClusterRoleBinding \"readers\" of ClusterRole \"reader\" to Group "
            "\"readers\"");
  a.namespace_ = "any";
  EXPECT_TRUE(allowed(a));
  a.verb = "create";
  EXPECT_FALSE(allowed(a));
}

TEST_F(RbacAuthorizerTest, SubresourcesNeedTheirOwnRule) {
  role("default", "scaler",
       json::array({{{"apiGroups", {"apps"}},
                     {"resources", {"deployments", "deployments/scale"}},
                     {"verbs", {"get", "patch"}}}}));
  roleBinding("default", "b", "Role", "scaler", user("bob"));
  EXPECT_TRUE(allowed(request("bob", "patch", "apps", "deployments", "default", "web", "scale")));
  EXPECT_FALSE(allowed(request("bob", "patch", "apps", "deployments", "default", "web", "status")));
}

TEST_F(RbacAuthorizerTest, StarSlashSubresourceMatchesThatSubresourceOfAnyResource) {
  role("default", "status-reader",
       json::array({{{"apiGroups", {"*"}}, {"resources", {"*/status"}}, {"verbs", {"get"}}}}));
  roleBinding("default", "b", "Role", "status-reader", user("bob"));
  EXPECT_TRUE(allowed(request("bob", "get", "apps", "deployments", "default", "web", "status")));
  EXPECT_FALSE(allowed(request("bob", "get", "apps", "deployments", "default", "web")));
  EXPECT_FALSE(allowed(request("bob", "get", "apps", "deployments", "default", "web", "scale")));
}

TEST_F(RbacAuthorizerTest, StarResourceCoversSubresources) {
  role("default", "all",
       json::array({{{"apiGroups", {""}}, {"resources", {"*"}}, {"verbs", {"*"}}}}));
  roleBinding("default", "b", "Role", "all", user("bob"));
  EXPECT_TRUE(allowed(request("bob", "create", "", "pods", "default", "p", "eviction")));
}

TEST_F(RbacAuthorizerTest, ResourceNamesRestrictNamedRequestsOnly) {
  role("default", "one-cm",
       json::array({{{"apiGroups", {""}},
                     {"resources", {"configmaps"}},
                     {"resourceNames", {"settings"}},
                     {"verbs", {"get", "list"}}}}));
  roleBinding("default", "b", "Role", "one-cm", user("bob"));
  EXPECT_TRUE(allowed(request("bob", "get", "", "configmaps", "default", "settings")));
  EXPECT_FALSE(allowed(request("bob", "get", "", "configmaps", "default", "secretsauce")));
  // A list has no name, so a rule with resourceNames never covers it.
  EXPECT_FALSE(allowed(request("bob", "list", "", "configmaps", "default")));
}

TEST_F(RbacAuthorizerTest, ServiceAccountSubjects) {
  role("shop", "r",
       json::array({{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"list"}}}}));
  // Without a namespace, the subject means the binding's namespace.
  roleBinding("shop", "local", "Role", "r",
              json::array({{{"kind", "ServiceAccount"}, {"name", "runner"}}}));
  Attributes a = request("", "list", "", "pods", "shop");
  a.user = serviceAccountUser("shop", "runner");
  EXPECT_EQ(a.user.name, "system:serviceaccount:shop:runner");
  std::string reason;
  EXPECT_TRUE(allowed(a, &reason));
  EXPECT_EQ(reason,
            "RBAC: allowed by RoleBinding \"local/shop\" of Role \"r\" to ServiceAccount "
            "\"runner/shop\"");
  a.user = serviceAccountUser("other", "runner");
  EXPECT_FALSE(allowed(a));
}

TEST_F(RbacAuthorizerTest, ServiceAccountGroupsAreBindable) {
  clusterRole("lister",
              json::array({{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"list"}}}}));
  clusterRoleBinding("all-sa-in-shop", "lister",
                     json::array({{{"kind", "Group"}, {"name", "system:serviceaccounts:shop"}}}));
  Attributes a = request("", "list", "", "pods", "default");
  a.user = serviceAccountUser("shop", "anyone");
  EXPECT_TRUE(allowed(a));
  a.user = serviceAccountUser("web", "anyone");
  EXPECT_FALSE(allowed(a));
}

TEST_F(RbacAuthorizerTest, ServiceAccountSubjectWithoutNamespaceInClusterBindingMatchesNobody) {
  clusterRole("lister",
              json::array({{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"list"}}}}));
  clusterRoleBinding("b", "lister",
                     json::array({{{"kind", "ServiceAccount"}, {"name", "runner"}}}));
  Attributes a = request("", "list", "", "pods", "shop");
  a.user = serviceAccountUser("shop", "runner");
  EXPECT_FALSE(allowed(a));
}

TEST_F(RbacAuthorizerTest, MissingRoleIsReportedInTheReason) {
  roleBinding("default", "dangling", "Role", "gone", user("bob"));
  clusterRoleBinding("dangling-cluster", "vanished", user("bob"));
  std::string reason;
  EXPECT_FALSE(allowed(request("bob", "list", "", "pods", "default"), &reason));
  EXPECT_EQ(reason,
            "RBAC: [clusterrole.rbac.authorization.k8s.io \"vanished\" not found, "
            "role.rbac.authorization.k8s.io \"gone\" not found]");
  EXPECT_FALSE(allowed(request("bob", "list", "", "pods", ""), &reason));
  EXPECT_EQ(reason, "RBAC: clusterrole.rbac.authorization.k8s.io \"vanished\" not found");
}

TEST_F(RbacAuthorizerTest, NonResourceUrls) {
  clusterRole("health",
              json::array({{{"nonResourceURLs", {"/healthz", "/apis/*"}}, {"verbs", {"get"}}}}));
  clusterRoleBinding("health", "health", user("bob"));
  auto path = [](const std::string& verb, const std::string& p) {
    Attributes a;
    a.user = {"bob", {}};
    a.verb = verb;
    a.resourceRequest = false;
    a.path = p;
    return a;
  };
  EXPECT_TRUE(allowed(path("get", "/healthz")));
  EXPECT_FALSE(allowed(path("get", "/healthz/etcd")));
  EXPECT_TRUE(allowed(path("get", "/apis/apps/v1")));
  EXPECT_TRUE(allowed(path("get", "/apis/")));
  EXPECT_FALSE(allowed(path("get", "/apis")));
  EXPECT_FALSE(allowed(path("post", "/healthz")));
  // Resource rules never cover non-resource requests and the reverse.
  Attributes pods = request("bob", "get", "", "pods", "default");
  EXPECT_FALSE(allowed(pods));
}

TEST_F(RbacAuthorizerTest, RuleAllowsIsPure) {
  json rule = {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", {"*"}}};
  EXPECT_TRUE(RbacAuthorizer::ruleAllows(request("u", "patch", "apps", "deployments", "d"), rule));
  EXPECT_FALSE(RbacAuthorizer::ruleAllows(request("u", "patch", "", "deployments", "d"), rule));
  EXPECT_FALSE(RbacAuthorizer::ruleAllows(request("u", "patch", "apps", "deployments", "d"),
                                          json::object()));
}

TEST_F(RbacAuthorizerTest, RulesForListsClusterThenNamespaceRules) {
  clusterRole("c",
              json::array({{{"apiGroups", {""}}, {"resources", {"nodes"}}, {"verbs", {"get"}}}}));
  clusterRoleBinding("c", "c", user("bob"));
  role("shop", "r",
       json::array({{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"list"}}}}));
  roleBinding("shop", "r", "Role", "r", user("bob"));
  RbacAuthorizer authz(store_);
  auto rules = authz.rulesFor({"bob", {}}, "shop");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]["resources"][0], "nodes");
  EXPECT_EQ(rules[1]["resources"][0], "pods");
  EXPECT_EQ(authz.rulesFor({"bob", {}}, "").size(), 1u);
  EXPECT_TRUE(authz.rulesFor({"eve", {}}, "shop").empty());
}

TEST_F(RbacAuthorizerTest, BootstrapPolicyLetsAuthenticatedUsersDiscover) {
  for (auto& [key, object] : bootstrapRbacObjects()) put(key, object);
  Attributes discovery;
  discovery.user = withAuthenticatedGroup({"bob", {}});
  discovery.verb = "get";
  discovery.resourceRequest = false;
  discovery.path = "/apis/apps/v1";
  EXPECT_TRUE(allowed(discovery));
  Attributes review =
      request("bob", "create", "authorization.k8s.io", "selfsubjectaccessreviews", "");
  EXPECT_TRUE(allowed(review));
  EXPECT_FALSE(allowed(request("bob", "list", "", "pods", "default")));
  Attributes anonymous = discovery;
  anonymous.user = withAuthenticatedGroup({"system:anonymous", {"system:unauthenticated"}});
  EXPECT_FALSE(allowed(anonymous));
  anonymous.path = "/version";
  EXPECT_TRUE(allowed(anonymous));
}

TEST(WithAuthenticatedGroup, AddsTheGroupOnce) {
  EXPECT_EQ(withAuthenticatedGroup({"bob", {"dev"}}).groups,
            (std::vector<std::string>{"dev", "system:authenticated"}));
  EXPECT_EQ(withAuthenticatedGroup({"bob", {"system:authenticated"}}).groups,
            (std::vector<std::string>{"system:authenticated"}));
  EXPECT_TRUE(withAuthenticatedGroup({"system:anonymous", {}}).groups.empty());
}

}  // namespace
}  // namespace remedy::sandbox
