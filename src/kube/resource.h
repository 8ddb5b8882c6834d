// Names a kind of object on the API server (group, version, plural
// resource) and builds its REST paths; plus small readers of object
// metadata that every component needs.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace remedy::kube {

using json = nlohmann::json;

struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case: "deployments"
  std::string kind;      // "Deployment"
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1/namespaces/ns/pods/name/status"; ns "" for all namespaces or
  // cluster-scoped, name "" for the collection. Segments are escaped.
  std::string path(const std::string& ns, const std::string& name = "",
                   const std::string& subresource = "") const;
  // "deployments.apps" (or "pods"), as the API server names it in messages.
  std::string qualifiedName() const;
};

// Well-known resources.
namespace resources {
Resource pods();
Resource configMaps();
Resource secrets();
Resource services();
Resource namespaces();
Resource events();
Resource leases();
Resource deployments();
Resource statefulSets();
Resource customResourceDefinitions();
}  // namespace resources

// Metadata readers: "" when absent.
std::string namespaceOf(const json& object);
std::string nameOf(const json& object);
std::string uidOf(const json& object);
std::string resourceVersionOf(const json& object);
// The cache key client-go uses (MetaNamespaceKeyFunc): "ns/name", or
// "name" for cluster-scoped objects.
std::string objectKey(const json& object);
std::string objectKey(const std::string& ns, const std::string& name);
// Splits a key back into namespace and name.
std::pair<std::string, std::string> splitObjectKey(const std::string& key);

// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
std::string urlEncode(const std::string& s);

}  // namespace remedy::kube
