#include "sandbox/rbac_authorizer.h"

#include <algorithm>

namespace remedy::sandbox {

namespace {

const char* const kRbacGroup = "rbac.authorization.k8s.io";
const std::string kClusterRoleBindings = "rbac.authorization.k8s.io/clusterrolebindings";
const std::string kClusterRoles = "rbac.authorization.k8s.io/clusterroles";
const std::string kRoleBindings = "rbac.authorization.k8s.io/rolebindings";
const std::string kRoles = "rbac.authorization.k8s.io/roles";

// The strings of a JSON array field; a missing or mistyped field is empty.
std::vector<std::string> strings(const json& object, const char* field) {
  std::vector<std::string> out;
  auto it = object.find(field);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string str(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string nameOf(const json& object) {
  auto meta = object.find("metadata");
  return meta == object.end() ? std::string() : str(*meta, "name");
}

bool has(const std::vector<std::string>& set, const std::string& value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// evaluation_helpers.go VerbMatches.
bool verbMatches(const json& rule, const std::string& verb) {
  for (const auto& v : strings(rule, "verbs")) {
    if (v == "*" || v == verb) return true;
  }
  return false;
}

// evaluation_helpers.go APIGroupMatches.
bool apiGroupMatches(const json& rule, const std::string& group) {
  for (const auto& g : strings(rule, "apiGroups")) {
    if (g == "*" || g == group) return true;
  }
  return false;
}

// evaluation_helpers.go ResourceMatches: "*", the exact "resource" or
// "resource/subresource", or "*/subresource".
bool resourceMatches(const json& rule, const std::string& combined,
                     const std::string& subresource) {
  for (const auto& r : strings(rule, "resources")) {
    if (r == "*" || r == combined) return true;
    if (subresource.empty()) continue;
    if (r.size() == subresource.size() + 2 && startsWith(r, "*/") && endsWith(r, subresource)) {
      return true;
    }
  }
  return false;
}

// evaluation_helpers.go ResourceNameMatches: no names means every name.
bool resourceNameMatches(const json& rule, const std::string& name) {
  auto names = strings(rule, "resourceNames");
  return names.empty() || has(names, name);
}

// evaluation_helpers.go NonResourceURLMatches: "*", exact, or a prefix ending in "*".
bool nonResourceUrlMatches(const json& rule, const std::string& path) {
  for (const auto& u : strings(rule, "nonResourceURLs")) {
    if (u == "*" || u == path) return true;
    if (endsWith(u, "*")) {
      std::string prefix = u;
      while (!prefix.empty() && prefix.back() == '*') prefix.pop_back();
      if (startsWith(path, prefix)) return true;
    }
  }
  return false;
}

// rule.go describeSubject.
std::string describeSubject(const json& subject, const std::string& bindingNamespace) {
  std::string kind = str(subject, "kind");
  std::string name = str(subject, "name");
  if (kind == "ServiceAccount") {
    std::string ns = str(subject, "namespace");
    name += "/" + (ns.empty() ? bindingNamespace : ns);
  }
  return kind + " \"" + name + "\"";
}

// rule.go clusterRoleBindingDescriber / roleBindingDescriber.
std::string describeBinding(const json& binding, const json& subject, const std::string& ns) {
  const json& ref = binding.contains("roleRef") ? binding["roleRef"] : json::object();
  std::string out = ns.empty() ? "ClusterRoleBinding \"" + nameOf(binding) + "\""
                               : "RoleBinding \"" + nameOf(binding) + "/" + ns + "\"";
  return out + " of " + str(ref, "kind") + " \"" + str(ref, "name") + "\" to " +
         describeSubject(subject, ns);
}

}  // namespace

RbacAuthorizer::RbacAuthorizer(const Store& store) : store_(store) {}

bool RbacAuthorizer::ruleAllows(const Attributes& a, const json& rule) {
  if (!rule.is_object()) return false;
  if (a.resourceRequest) {
    std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    return verbMatches(rule, a.verb) && apiGroupMatches(rule, a.apiGroup) &&
           resourceMatches(rule, combined, a.subresource) && resourceNameMatches(rule, a.name);
  }
  return verbMatches(rule, a.verb) && nonResourceUrlMatches(rule, a.path);
}

bool RbacAuthorizer::subjectMatches(const UserInfo& user, const json& subject,
                                    const std::string& bindingNamespace) {
  if (!subject.is_object()) return false;
  std::string kind = str(subject, "kind");
  std::string name = str(subject, "name");
  if (kind == "User") return user.name == name;
  if (kind == "Group") return has(user.groups, name);
  if (kind == "ServiceAccount") {
    // A subject without a namespace means the binding's own namespace, so a
    // RoleBinding can name a local ServiceAccount unqualified; in a
    // ClusterRoleBinding such a subject matches nobody.
    std::string ns = str(subject, "namespace");
    if (ns.empty()) ns = bindingNamespace;
    if (ns.empty()) return false;
    return user.name == serviceAccountUserName(ns, name);
  }
  return false;
}

template <typename Visit, typename Error>
void RbacAuthorizer::visitRulesFor(const UserInfo& user, const std::string& ns, Visit visit,
                                   Error error) const {
  // rule.go GetRoleReferenceRules: a binding's roleRef resolved to rules, or
  // the lister's NotFound message.
  auto roleRules = [&](const json& binding, const std::string& bindingNs, json* rules) {
    const json& ref = binding.contains("roleRef") ? binding["roleRef"] : json::object();
    std::string kind = str(ref, "kind");
    std::string name = str(ref, "name");
    ObjectPtr role;
    if (kind == "Role") {
      role = store_.get(kRoles, bindingNs, name);
      if (!role) {
        error(std::string("role.") + kRbacGroup + " \"" + name + "\" not found");
        return false;
      }
    } else if (kind == "ClusterRole") {
      role = store_.get(kClusterRoles, "", name);
      if (!role) {
        error(std::string("clusterrole.") + kRbacGroup + " \"" + name + "\" not found");
        return false;
      }
    } else {
      error("unsupported role reference kind: \"" + kind + "\"");
      return false;
    }
    auto it = role->find("rules");
    *rules = it != role->end() && it->is_array() ? *it : json::array();
    return true;
  };

  // Cluster-wide bindings first, then those of the request's namespace.
  std::vector<std::pair<std::string, std::string>> sources = {{kClusterRoleBindings, ""}};
  if (!ns.empty()) sources.emplace_back(kRoleBindings, ns);
  for (const auto& [key, bindingNs] : sources) {
    for (const auto& binding : store_.list(key, bindingNs).items) {
      auto subjects = binding->find("subjects");
      if (subjects == binding->end() || !subjects->is_array()) continue;
      const json* matched = nullptr;
      for (const auto& s : *subjects) {
        if (subjectMatches(user, s, bindingNs)) {
          matched = &s;
          break;
        }
      }
      if (!matched) continue;
      json rules;
      if (!roleRules(*binding, bindingNs, &rules)) continue;
      std::string source = describeBinding(*binding, *matched, bindingNs);
      for (const auto& rule : rules) {
        if (!visit(source, rule)) return;
      }
    }
  }
}

bool RbacAuthorizer::authorize(const Attributes& attributes, std::string* reason) const {
  if (has(attributes.user.groups, kSystemMasters)) {
    // kube-apiserver puts a privileged-group authorizer before RBAC
    // (pkg/kubeapiserver/authorizer/config.go, authorizerfactory.NewPrivilegedGroups).
    if (reason) reason->clear();
    return true;
  }
  bool allowed = false;
  std::string allowedBy;
  std::vector<std::string> errors;
  visitRulesFor(
      attributes.user, attributes.namespace_,
      [&](const std::string& source, const json& rule) {
        if (!ruleAllows(attributes, rule)) return true;
        allowed = true;
        allowedBy = source;
        return false;
      },
      [&](const std::string& message) { errors.push_back(message); });
  if (!reason) return allowed;
  if (allowed) {
    *reason = "RBAC: allowed by " + allowedBy;
  } else if (errors.empty()) {
    reason->clear();
  } else if (errors.size() == 1) {
    // utilerrors.NewAggregate prints one error bare and several in brackets.
    *reason = "RBAC: " + errors[0];
  } else {
    std::string joined;
    for (size_t i = 0; i < errors.size(); ++i) joined += (i ? ", " : "") + errors[i];
    *reason = "RBAC: [" + joined + "]";
  }
  return allowed;
}

std::vector<json> RbacAuthorizer::rulesFor(const UserInfo& user, const std::string& ns) const {
  std::vector<json> rules;
  visitRulesFor(
      user, ns,
      [&](const std::string&, const json& rule) {
        rules.push_back(rule);
        return true;
      },
      [](const std::string&) {});
  return rules;
}

std::string serviceAccountUserName(const std::string& ns, const std::string& name) {
  return "system:serviceaccount:" + ns + ":" + name;
}

UserInfo serviceAccountUser(const std::string& ns, const std::string& name) {
  // k8s.io/apiserver/pkg/authentication/serviceaccount/util.go MakeGroupNames.
  return {serviceAccountUserName(ns, name),
          {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}};
}

UserInfo withAuthenticatedGroup(UserInfo user) {
  if (user.name == "system:anonymous") return user;
  if (has(user.groups, "system:authenticated") || has(user.groups, "system:unauthenticated")) {
    return user;
  }
  user.groups.push_back("system:authenticated");
  return user;
}

std::vector<std::pair<std::string, json>> bootstrapRbacObjects() {
  const json meta = {{"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}},
                     {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}};
  auto clusterRole = [&](const std::string& name, json rules) {
    json m = meta;
    m["name"] = name;
    return json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", "ClusterRole"},
                {"metadata", m},
                {"rules", std::move(rules)}};
  };
  auto binding = [&](const std::string& name, const std::vector<std::string>& groups) {
    json m = meta;
    m["name"] = name;
    json subjects = json::array();
    for (const auto& g : groups) {
      subjects.push_back({{"apiGroup", kRbacGroup}, {"kind", "Group"}, {"name", g}});
    }
    return json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", "ClusterRoleBinding"},
                {"metadata", m},
                {"roleRef", {{"apiGroup", kRbacGroup}, {"kind", "ClusterRole"}, {"name", name}}},
                {"subjects", subjects}};
  };
  std::vector<std::pair<std::string, json>> out;
  out.emplace_back(
      kClusterRoles,
      clusterRole("cluster-admin",
                  json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                               {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}})));
  out.emplace_back(
      kClusterRoles,
      clusterRole("system:discovery",
                  json::array({{{"nonResourceURLs",
                                 {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                  "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
                                {"verbs", {"get"}}}})));
  out.emplace_back(
      kClusterRoles,
      clusterRole(
          "system:basic-user",
          json::array({{{"apiGroups", {"authorization.k8s.io"}},
                        {"resources", {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
                        {"verbs", {"create"}}},
                       {{"apiGroups", {"authentication.k8s.io"}},
                        {"resources", {"selfsubjectreviews"}},
                        {"verbs", {"create"}}}})));
  out.emplace_back(
      kClusterRoles,
      clusterRole("system:public-info-viewer",
                  json::array({{{"nonResourceURLs",
                                 {"/healthz", "/livez", "/readyz", "/version", "/version/"}},
                                {"verbs", {"get"}}}})));
  out.emplace_back(kClusterRoleBindings, binding("cluster-admin", {"system:masters"}));
  out.emplace_back(kClusterRoleBindings, binding("system:discovery", {"system:authenticated"}));
  out.emplace_back(kClusterRoleBindings, binding("system:basic-user", {"system:authenticated"}));
  out.emplace_back(
      kClusterRoleBindings,
      binding("system:public-info-viewer", {"system:authenticated", "system:unauthenticated"}));
  return out;
}

}  // namespace remedy::sandbox
