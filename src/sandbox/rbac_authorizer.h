// RBAC authorization as kube-apiserver does it: the rules of the ClusterRoles
// bound by ClusterRoleBindings, then (for a namespaced request) of the Roles and
// ClusterRoles bound by RoleBindings in the request's namespace, are visited in
// turn; the first rule that covers the request allows it, and nothing denies.
// Sources: k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go,
// pkg/registry/rbac/validation/rule.go, pkg/apis/rbac/v1/evaluation_helpers.go.
#pragma once

#include "sandbox/store.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace remedy::sandbox {

using json = nlohmann::json;

// An authenticated identity (k8s.io/apiserver/pkg/authentication/user.Info).
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

// What a request asks to do (k8s.io/apiserver/pkg/authorization/authorizer.Attributes).
struct Attributes {
  UserInfo user;
  // get list watch create update patch delete deletecollection (resource
  // requests), or the lower-case HTTP method for non-resource requests.
  std::string verb;
  std::string apiGroup;     // "" for core
  std::string resource;     // "pods"
  std::string subresource;  // "status", "scale", "eviction", or ""
  std::string namespace_;   // "" for cluster-scoped resources and cluster-wide lists
  std::string name;
  bool resourceRequest = true;
  std::string path;  // non-resource requests: "/version", "/apis/apps"
};

// The group every identity in it may do anything (the sandbox admin's).
inline constexpr const char* kSystemMasters = "system:masters";

class RbacAuthorizer {
 public:
  // Reads Roles, RoleBindings, ClusterRoles and ClusterRoleBindings from
  // `store` at every call, so RBAC objects written by any client apply at once.
  explicit RbacAuthorizer(const Store& store);

  // Whether the request is allowed. `reason` (optional) gets "RBAC: allowed by
  // ..." on allow, and on deny the errors met while resolving bindings (e.g. a
  // binding to a missing role), or "" — the real 403 message appends it after
  // ": " when it is not empty (responsewriters.Forbidden).
  bool authorize(const Attributes& attributes, std::string* reason) const;

  // Every PolicyRule (rbac/v1 JSON) that applies to `user` in `ns` ("" for the
  // cluster-wide ones only), for SelfSubjectRulesReview.
  std::vector<json> rulesFor(const UserInfo& user, const std::string& ns) const;

  // rbac.go RuleAllows: whether one PolicyRule covers the request.
  static bool ruleAllows(const Attributes& attributes, const json& rule);
  // rule.go appliesToUser: whether a binding subject names the user;
  // `bindingNamespace` defaults a ServiceAccount subject's namespace.
  static bool subjectMatches(const UserInfo& user, const json& subject,
                             const std::string& bindingNamespace);

 private:
  // Calls `visit(source, rule)` for each rule that applies to the user, and
  // `error(message)` for each binding whose role cannot be resolved; stops
  // when `visit` returns false.
  template <typename Visit, typename Error>
  void visitRulesFor(const UserInfo& user, const std::string& ns, Visit visit, Error error) const;

  const Store& store_;
};

// The user name a ServiceAccount authenticates as.
std::string serviceAccountUserName(const std::string& ns, const std::string& name);
// The identity of a ServiceAccount token: its user name and the groups the
// token authenticator gives it (system:serviceaccounts,
// system:serviceaccounts:NS, system:authenticated).
UserInfo serviceAccountUser(const std::string& ns, const std::string& name);
// What the API server's authenticated-group adder does to every authenticated
// identity (k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go):
// adds system:authenticated unless the user is anonymous or already has it.
UserInfo withAuthenticatedGroup(UserInfo user);

// The bootstrap RBAC objects every cluster has and that clients rely on
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go): cluster-admin
// bound to system:masters, system:discovery, system:basic-user and
// system:public-info-viewer bound to system:authenticated. Pairs of
// (storage key, object) ready for Store::create; the caller adds uid and
// creationTimestamp.
std::vector<std::pair<std::string, json>> bootstrapRbacObjects();

}  // namespace remedy::sandbox
