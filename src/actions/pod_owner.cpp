#include "actions/pod_owner.h"

namespace remedy::actions {
namespace {

using json = nlohmann::json;
using kube::Status;

// metav1.GetControllerOf: the one ownerReference with controller: true.
// A pointer into `object` (never into a copy of it).
const json* controllerOf(const json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return nullptr;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return nullptr;
  for (const auto& ref : *refs) {
    if (ref.is_object() && ref.value("controller", false)) return &ref;
  }
  return nullptr;
}

std::string groupOfApiVersion(const std::string& apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string::npos ? "" : apiVersion.substr(0, slash);
}

bool isAppsKind(const json& ref, const char* kind) {
  return ref.value("kind", "") == kind && groupOfApiVersion(ref.value("apiVersion", "")) == "apps";
}

std::string describeRef(const json& ref) {
  return ref.value("kind", std::string("?")) + " " + ref.value("name", std::string("?"));
}

// A NotFound that says which object is gone, keeping the server's reason.
Status gone(const Status& s, const std::string& what) {
  if (!kube::isNotFound(s)) return s;
  return Status::error(404, "NotFound", what + " not found: " + s.message());
}

}  // namespace

kube::Result<PodOwner> resolvePodOwner(kube::Client& client, const std::string& ns,
                                       const std::string& pod, const std::string& owner) {
  if (owner != "Deployment" && owner != "StatefulSet") {
    return Status::configError("owner " + json(owner).dump() +
                               " is not supported: a pod's owner is resolved to a Deployment or "
                               "a StatefulSet");
  }
  if (pod.empty()) return Status::configError("no pod given");
  auto object = client.get(kube::resources::pods(), ns, pod);
  if (!object.ok()) {
    return gone(object.status(),
                "pod " + ns + "/" + pod + " (gone since the alert named it, or never there)");
  }
  PodOwner out;
  out.apiVersion = "apps/v1";
  out.kind = owner;
  out.ns = ns;
  out.pod = pod;
  out.podUid = kube::uidOf(*object);
  out.via = "Pod " + pod;
  const std::string podText = "pod " + ns + "/" + pod;
  const json* ref = controllerOf(*object);
  if (!ref) {
    return Status::configError(podText + " has no controller (ownerReferences), so no " + owner +
                               " owns it");
  }
  if (owner == "StatefulSet") {
    if (!isAppsKind(*ref, "StatefulSet")) {
      return Status::configError(podText + " is controlled by " + describeRef(*ref) +
                                 ", not by a StatefulSet");
    }
    out.name = ref->value("name", "");
    out.via += " -> StatefulSet " + out.name;
    return out;
  }
  if (!isAppsKind(*ref, "ReplicaSet")) {
    return Status::configError(podText + " is controlled by " + describeRef(*ref) +
                               ", not by a ReplicaSet of a Deployment");
  }
  std::string rsName = ref->value("name", "");
  static const kube::Resource kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
  auto rs = client.get(kReplicaSets, ns, rsName);
  if (!rs.ok()) return gone(rs.status(), "ReplicaSet " + ns + "/" + rsName + " of " + podText);
  // The name may have been reused by another ReplicaSet since the pod's
  // controller was set: follow only the one the reference names.
  if (!ref->value("uid", "").empty() && kube::uidOf(*rs) != ref->value("uid", "")) {
    return Status::error(404, "NotFound",
                         "ReplicaSet " + ns + "/" + rsName + " that controlled " + podText +
                             " is gone (a ReplicaSet of that name has another uid)");
  }
  out.via += " -> ReplicaSet " + rsName;
  const json* rsRef = controllerOf(*rs);
  if (!rsRef || !isAppsKind(*rsRef, "Deployment")) {
    return Status::configError(podText + " is controlled by ReplicaSet " + rsName + ", which " +
                               (rsRef ? "is controlled by " + describeRef(*rsRef)
                                      : std::string("no Deployment controls")) +
                               ", not by a Deployment");
  }
  out.name = rsRef->value("name", "");
  out.via += " -> Deployment " + out.name;
  return out;
}

}  // namespace remedy::actions
