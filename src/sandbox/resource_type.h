// What the sandbox knows about one served resource: the facts discovery
// publishes, plus what the REST handler needs (subresources, schema, columns).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace remedy::sandbox {

using json = nlohmann::json;

// Where a resource keeps the numbers of its scale subresource
// (CRD spec.versions[].subresources.scale, or the built-in workload paths).
struct ScalePaths {
  std::string specReplicasPath = ".spec.replicas";
  std::string statusReplicasPath = ".status.replicas";
  std::string labelSelectorPath;  // optional, e.g. ".status.selector"
};

struct ResourceType {
  std::string group;  // "" for core
  std::string version;
  std::string resource;  // plural, lower case: "deployments"
  std::string kind;      // "Deployment"
  std::string singular;  // "deployment"
  std::string listKind;  // "DeploymentList"
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::vector<std::string> verbs;  // as discovery lists them
  bool hasStatus = false;
  bool hasScale = false;
  ScalePaths scale;
  // Only create is served (tokenreviews, subjectaccessreviews, ...).
  bool createOnly = false;
  // A custom resource: strategic merge patch is refused with 415.
  bool custom = false;
  // For custom resources: the version's openAPIV3Schema (may be null) and
  // additionalPrinterColumns.
  json schema;
  json printerColumns = json::array();
  // Whether this version is the storage version (custom resources).
  bool storage = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // The key objects of this resource are stored under: "apps/deployments".
  // Every version of one group/resource shares it.
  std::string storageKey() const { return group + "/" + resource; }
};

using ResourceTypePtr = std::shared_ptr<const ResourceType>;

}  // namespace remedy::sandbox
