#include "kube/resource.h"

namespace remedy::kube {

std::string urlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Resource::path(const std::string& ns, const std::string& name,
                           const std::string& subresource) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + urlEncode(ns);
  p += "/" + resource;
  if (!name.empty()) p += "/" + urlEncode(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

std::string Resource::qualifiedName() const {
  return group.empty() ? resource : resource + "." + group;
}

namespace resources {
Resource pods() { return {"", "v1", "pods", "Pod", true}; }
Resource configMaps() { return {"", "v1", "configmaps", "ConfigMap", true}; }
Resource secrets() { return {"", "v1", "secrets", "Secret", true}; }
Resource services() { return {"", "v1", "services", "Service", true}; }
Resource namespaces() { return {"", "v1", "namespaces", "Namespace", false}; }
Resource events() { return {"", "v1", "events", "Event", true}; }
Resource leases() { return {"coordination.k8s.io", "v1", "leases", "Lease", true}; }
Resource deployments() { return {"apps", "v1", "deployments", "Deployment", true}; }
Resource statefulSets() { return {"apps", "v1", "statefulsets", "StatefulSet", true}; }
Resource customResourceDefinitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          false};
}
}  // namespace resources

namespace {
std::string metaField(const json& object, const char* field) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto v = meta->find(field);
  if (v == meta->end() || !v->is_string()) return "";
  return v->get<std::string>();
}
}  // namespace

std::string namespaceOf(const json& object) { return metaField(object, "namespace"); }
std::string nameOf(const json& object) { return metaField(object, "name"); }
std::string uidOf(const json& object) { return metaField(object, "uid"); }
std::string resourceVersionOf(const json& object) { return metaField(object, "resourceVersion"); }

std::string objectKey(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

std::string objectKey(const json& object) { return objectKey(namespaceOf(object), nameOf(object)); }

std::pair<std::string, std::string> splitObjectKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace remedy::kube
