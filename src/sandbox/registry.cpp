#include "sandbox/registry.h"

#include <algorithm>

namespace remedy::sandbox {

namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

struct Builtin {
  const char* group;
  const char* version;
  const char* resource;
  const char* kind;
  bool namespaced;
  std::vector<std::string> shortNames;
  bool status;
  bool scale;
  bool inAll;
  bool createOnly;
};

const std::vector<Builtin>& builtins() {
  // clang-format off
  // group, version, resource, kind, namespaced, short names, status, scale,
  // in category "all", create only
  static const std::vector<Builtin> list = {
      {"", "v1", "namespaces", "Namespace", false, {"ns"}, true, false, false, false},
      {"", "v1", "pods", "Pod", true, {"po"}, true, false, true, false},
      {"", "v1", "services", "Service", true, {"svc"}, true, false, true, false},
      {"", "v1", "configmaps", "ConfigMap", true, {"cm"}, false, false, false, false},
      {"", "v1", "secrets", "Secret", true, {}, false, false, false, false},
      {"", "v1", "serviceaccounts", "ServiceAccount", true, {"sa"}, false, false, false, false},
      {"", "v1", "events", "Event", true, {"ev"}, false, false, false, false},
      {"apps", "v1", "deployments", "Deployment", true, {"deploy"}, true, true, true, false},
      {"apps", "v1", "statefulsets", "StatefulSet", true, {"sts"}, true, true, true, false},
      {"apps", "v1", "replicasets", "ReplicaSet", true, {"rs"}, true, true, true, false},
      {"apps", "v1", "daemonsets", "DaemonSet", true, {"ds"}, true, false, true, false},
      {"batch", "v1", "jobs", "Job", true, {}, true, false, true, false},
      {"batch", "v1", "cronjobs", "CronJob", true, {"cj"}, true, false, true, false},
      {"coordination.k8s.io", "v1", "leases", "Lease", true, {}, false, false, false, false},
      {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, {"pdb"}, true, false, false, false},
      {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, {"netpol"}, false, false, false, false},
      {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, {"crd", "crds"}, true, false, false, false},
      {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, {}, false, false, false, false},
      {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, {}, false, false, false, false},
      {"rbac.authorization.k8s.io", "v1", "roles", "Role", true, {}, false, false, false, false},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, {}, false, false, false, false},
      {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, {}, false, false, false, false},
      {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, {}, false, false, false, false},
      {"authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", false, {}, false, false, false, true},
      {"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false, {}, false, false, false, true},
      {"authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false, {}, false, false, false, true},
      {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, {}, false, false, false, true},
      {"authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", false, {}, false, false, false, true},
  };
  // clang-format on
  return list;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Registry::Registry() {
  for (const auto& b : builtins()) {
    ResourceType t;
    t.group = b.group;
    t.version = b.version;
    t.resource = b.resource;
    t.kind = b.kind;
    t.singular = lower(b.kind);
    t.listKind = std::string(b.kind) + "List";
    t.namespaced = b.namespaced;
    t.shortNames = b.shortNames;
    if (b.inAll) t.categories = {"all"};
    t.verbs = b.createOnly ? std::vector<std::string>{"create"} : kAllVerbs;
    // Discovery as kube-apiserver v1.33 publishes it: namespaces have no
    // deletecollection; CRDs and webhook configurations are in category
    // api-extensions.
    if (t.group.empty() && t.resource == "namespaces") {
      t.verbs.erase(std::find(t.verbs.begin(), t.verbs.end(), "deletecollection"));
    }
    if (t.resource == "customresourcedefinitions" || t.group == "admissionregistration.k8s.io") {
      t.categories = {"api-extensions"};
    }
    t.createOnly = b.createOnly;
    t.hasStatus = b.status;
    t.hasScale = b.scale;
    if (t.kind == "Deployment" || t.kind == "ReplicaSet" || t.kind == "StatefulSet") {
      t.scale.labelSelectorPath = ".status.selector";
    }
    add(std::move(t));
  }
}

void Registry::add(ResourceType t) {
  if (std::find(groupOrder_.begin(), groupOrder_.end(), t.group) == groupOrder_.end()) {
    groupOrder_.push_back(t.group);
  }
  types_.push_back(std::make_shared<const ResourceType>(std::move(t)));
}

ResourceTypePtr Registry::find(const std::string& group, const std::string& version,
                               const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : types_) {
    if (t->group == group && t->version == version && t->resource == resource) return t;
  }
  return nullptr;
}

ResourceTypePtr Registry::findByKind(const std::string& group, const std::string& version,
                                     const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : types_) {
    if (t->group == group && t->version == version && t->kind == kind) return t;
  }
  return nullptr;
}

ResourceTypePtr Registry::findAnyVersion(const std::string& group,
                                         const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  ResourceTypePtr any;
  for (const auto& t : types_) {
    if (t->group == group && t->resource == resource) {
      if (t->storage) return t;
      if (!any) any = t;
    }
  }
  return any;
}

std::vector<ResourceTypePtr> Registry::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  return types_;
}

std::vector<std::string> Registry::versions(const std::string& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& t : types_) {
    if (t->group != group) continue;
    if (std::find(out.begin(), out.end(), t->version) != out.end()) continue;
    // The storage version is preferred.
    if (t->storage) {
      out.insert(out.begin(), t->version);
    } else {
      out.push_back(t->version);
    }
  }
  return out;
}

std::vector<std::string> Registry::groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groupOrder_;
}

std::optional<std::string> Registry::registerCustomResource(const json& crd) {
  const json& spec = crd.value("spec", json::object());
  std::string crdName = crd["metadata"].value("name", "");
  std::string group = spec.value("group", "");
  const json& names = spec.value("names", json::object());
  std::string plural = names.value("plural", "");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : types_) {
    if (t->group == group && t->resource == plural && !t->custom) {
      return "\"" + plural + "\" is already in use";
    }
  }
  for (const auto& [other, keys] : crdTypes_) {
    if (other == crdName) continue;
    for (const auto& k : keys) {
      if (k == group + "/" + plural) return "\"" + plural + "\" is already in use";
    }
  }
  // Replace whatever this CRD registered before.
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](const ResourceTypePtr& t) {
                                return t->custom && t->group == group && t->resource == plural;
                              }),
               types_.end());
  for (const auto& v : spec.value("versions", json::array())) {
    if (!v.value("served", true)) continue;
    ResourceType t;
    t.group = group;
    t.version = v.value("name", "");
    t.resource = plural;
    t.kind = names.value("kind", "");
    t.singular = names.value("singular", lower(t.kind));
    t.listKind = names.value("listKind", t.kind + "List");
    t.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    t.shortNames = names.value("shortNames", std::vector<std::string>{});
    t.categories = names.value("categories", std::vector<std::string>{});
    t.verbs = kAllVerbs;
    t.custom = true;
    t.storage = v.value("storage", false);
    const json& sub = v.value("subresources", json::object());
    t.hasStatus = sub.contains("status");
    if (sub.contains("scale")) {
      t.hasScale = true;
      const json& s = sub["scale"];
      t.scale.specReplicasPath = s.value("specReplicasPath", ".spec.replicas");
      t.scale.statusReplicasPath = s.value("statusReplicasPath", ".status.replicas");
      t.scale.labelSelectorPath = s.value("labelSelectorPath", "");
    }
    if (v.contains("schema") && v["schema"].contains("openAPIV3Schema")) {
      t.schema = v["schema"]["openAPIV3Schema"];
    }
    t.printerColumns = v.value("additionalPrinterColumns", json::array());
    if (std::find(groupOrder_.begin(), groupOrder_.end(), group) == groupOrder_.end()) {
      groupOrder_.push_back(group);
    }
    types_.push_back(std::make_shared<const ResourceType>(std::move(t)));
  }
  crdTypes_[crdName] = {group + "/" + plural};
  return std::nullopt;
}

void Registry::unregisterCustomResource(const std::string& crdName) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = crdTypes_.find(crdName);
  if (it == crdTypes_.end()) return;
  for (const auto& key : it->second) {
    auto slash = key.find('/');
    std::string group = key.substr(0, slash), plural = key.substr(slash + 1);
    types_.erase(std::remove_if(types_.begin(), types_.end(),
                                [&](const ResourceTypePtr& t) {
                                  return t->custom && t->group == group && t->resource == plural;
                                }),
                 types_.end());
    bool groupUsed = std::any_of(types_.begin(), types_.end(),
                                 [&](const ResourceTypePtr& t) { return t->group == group; });
    if (!groupUsed)
      groupOrder_.erase(std::remove(groupOrder_.begin(), groupOrder_.end(), group),
                        groupOrder_.end());
  }
  crdTypes_.erase(it);
}

}  // namespace remedy::sandbox
