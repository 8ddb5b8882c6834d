// The API semantics of the sandbox, independent of HTTP: what create, update,
// patch and delete mean for a resource (defaults, generation, status and scale
// subresources, finalizers, owner references, schema validation of custom
// resources). The REST handler translates requests into these calls; the
// workload simulator and garbage collector call them directly as the system.
#pragma once

#include "sandbox/api_error.h"
#include "sandbox/registry.h"
#include "sandbox/selectors.h"
#include "sandbox/store.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace remedy::sandbox {

struct WriteOptions {
  bool dryRun = false;
  std::string fieldManager;
  bool force = false;  // server-side apply
  // fieldValidation: "Strict" refuses fields the schema does not know (what
  // kubectl sends by default); "Ignore", "Warn" or "" drop them.
  std::string fieldValidation;
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int64_t limit = 0;
  std::string continueToken;
  // "" or "0": the latest state. With resourceVersionMatch "Exact": the state
  // at that version; otherwise ("NotOlderThan", or unset) at least as new.
  std::string resourceVersion;
  std::string resourceVersionMatch;
};

enum class PatchType { Merge, Json, StrategicMerge, Apply };

struct DeleteOptions {
  std::string propagationPolicy;  // "", "Orphan", "Background", "Foreground"
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
  bool dryRun = false;
};

// The fields each resource may be selected by (pkg/registry/*/strategy.go
// GetAttrs / SelectableFields).
std::vector<std::string> selectableFields(const ResourceType& type);
// The field selector of a list or watch of `type`, refused with the message
// kube-apiserver gives for that kind.
Result<FieldSelector> parseFieldSelector(const ResourceType& type, const std::string& selector);

class Objects {
 public:
  Objects(Store& store, Registry& registry);

  Result<ObjectPtr> get(const ResourceType& type, const std::string& ns,
                        const std::string& name) const;
  // A List object ({apiVersion, kind: XList, metadata, items}).
  Result<json> list(const ResourceType& type, const std::string& ns,
                    const ListOptions& options) const;
  Result<ObjectPtr> create(const ResourceType& type, const std::string& ns, json object,
                           const WriteOptions& options);
  // subresource: "" or "status".
  Result<ObjectPtr> update(const ResourceType& type, const std::string& ns, const std::string& name,
                           json object, const std::string& subresource,
                           const WriteOptions& options);
  Result<ObjectPtr> patch(const ResourceType& type, const std::string& ns, const std::string& name,
                          PatchType patchType, const std::string& body,
                          const std::string& subresource, const WriteOptions& options);
  // Returns the deleted object (or, with finalizers, the object now carrying
  // deletionTimestamp).
  Result<ObjectPtr> remove(const ResourceType& type, const std::string& ns, const std::string& name,
                           const DeleteOptions& options);

  // autoscaling/v1 Scale of a resource with a scale subresource.
  Result<json> getScale(const ResourceType& type, const std::string& ns,
                        const std::string& name) const;
  Result<json> updateScale(const ResourceType& type, const std::string& ns, const std::string& name,
                           const json& scale, const WriteOptions& options);
  Result<json> patchScale(const ResourceType& type, const std::string& ns, const std::string& name,
                          PatchType patchType, const std::string& body,
                          const WriteOptions& options);

  // policy/v1 Eviction of a pod, honouring PodDisruptionBudgets.
  Result<json> evict(const std::string& ns, const std::string& name, const json& eviction);

  // Applies a change to an object as the system (controllers): `change` gets
  // a copy and edits it. Status and spec may both be changed; generation
  // follows the usual rule. Retries on conflict.
  Result<ObjectPtr> modify(const ResourceType& type, const std::string& ns, const std::string& name,
                           const std::function<bool(json&)>& change);

  Store& store() { return store_; }
  Registry& registry() { return registry_; }

 private:
  std::optional<ApiError> checkNamespace(const ResourceType& type, const std::string& ns) const;
  std::optional<ApiError> admit(const ResourceType& type, json& object, const json* old,
                                const WriteOptions& options) const;
  std::optional<ApiError> establish(json& crd);
  void finalizeNamespace(const std::string& ns);
  void collectDependents(const std::string& ownerUid, const std::string& ns,
                         const std::string& policy);
  json scaleOf(const ResourceType& type, const json& object) const;
  Result<ObjectPtr> writeUpdate(const ResourceType& type, const std::string& ns,
                                const std::string& name, const std::string& subresource,
                                const WriteOptions& options,
                                const std::function<Result<json>(const json& current)>& produce);
  Store& store_;
  Registry& registry_;
};

}  // namespace remedy::sandbox
