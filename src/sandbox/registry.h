// The resources the sandbox serves: the built-in ones, and those that
// CustomResourceDefinitions register while it runs.
#pragma once

#include "sandbox/api_error.h"
#include "sandbox/resource_type.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::sandbox {

class Registry {
 public:
  Registry();  // with every built-in resource

  ResourceTypePtr find(const std::string& group, const std::string& version,
                       const std::string& resource) const;
  ResourceTypePtr findByKind(const std::string& group, const std::string& version,
                             const std::string& kind) const;
  // Any served version of a group/resource ("apps", "deployments").
  ResourceTypePtr findAnyVersion(const std::string& group, const std::string& resource) const;
  std::vector<ResourceTypePtr> all() const;
  // Versions served for a group, preferred first.
  std::vector<std::string> versions(const std::string& group) const;
  // Groups in discovery order ("" is the core group).
  std::vector<std::string> groups() const;

  // Registers (or replaces) the resources of an established CRD; checks the
  // names do not collide with another resource.
  std::optional<std::string> registerCustomResource(const json& crd);
  void unregisterCustomResource(const std::string& crdName);

 private:
  void add(ResourceType t);
  mutable std::mutex mu_;  // guards everything below
  std::vector<ResourceTypePtr> types_;
  std::vector<std::string> groupOrder_;
  std::map<std::string, std::vector<std::string>> crdTypes_;  // crd name -> group/resource
};

}  // namespace remedy::sandbox
