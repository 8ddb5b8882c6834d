// The API semantics of the sandbox, independent of HTTP: what create, update,
// patch and delete mean for a resource (defaults, generation, status and scale
// subresources, finalizers, owner references, schema validation of custom
// resources). The REST handler translates requests into these calls; the
// workload simulator and garbage collector call them directly as the system.
#pragma once

#include "sandbox/api_error.h"
#include "sandbox/rbac_authorizer.h"
#include "sandbox/registry.h"
#include "sandbox/selectors.h"
#include "sandbox/store.h"

#include <functional>
#include <memory>
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
  // Who asks: set for the requests of API clients, which then go through
  // the admission chain; unset for the sandbox's own controllers.
  std::optional<UserInfo> user;
  // Collects admission warnings for the answer; may be null.
  std::shared_ptr<std::vector<std::string>> warnings;
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

// A write as admission sees it (k8s.io/apiserver/pkg/admission.Attributes).
struct AdmissionAttributes {
  std::string operation;  // CREATE or UPDATE
  const ResourceType* type = nullptr;
  std::string ns;
  std::string name;  // "" for a create with generateName
  std::string subresource;
  UserInfo user;
  bool dryRun = false;
  json options;  // CreateOptions, UpdateOptions or PatchOptions
  // Where the webhooks' warnings go (the API server sends them to the
  // client as Warning headers); may be null.
  std::vector<std::string>* warnings = nullptr;
};

// Admission beyond the built-in rules: kube-apiserver's admission webhooks
// (sandbox/admission_webhooks.h). Mutation runs after decoding and
// defaulting, before the schema and the built-in validation; validation
// after them, before the object is stored.
class AdmissionChain {
 public:
  virtual ~AdmissionChain() = default;
  // Whether any admission may apply to writes like this (a cheap check).
  virtual bool applies(const AdmissionAttributes& attributes) const = 0;
  virtual std::optional<ApiError> mutate(const AdmissionAttributes& attributes, json& object,
                                         const json* old) const = 0;
  virtual std::optional<ApiError> validate(const AdmissionAttributes& attributes,
                                           const json& object, const json* old) const = 0;
};

class Objects {
 public:
  Objects(Store& store, Registry& registry);

  // Writes with WriteOptions::user go through `chain` (not owned; null: none).
  void setAdmissionChain(const AdmissionChain* chain) { admission_ = chain; }

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
  // The object an update writes over `current` (everything but the commit);
  // with `attributes`, through the admission chain.
  Result<json> updatedObject(const ResourceType& type, const std::string& name,
                             const std::string& subresource, const WriteOptions& options,
                             const json& current,
                             const std::function<Result<json>(const json& current)>& produce,
                             const AdmissionAttributes* attributes) const;
  // The attributes of a write by an API client that the chain applies to.
  std::optional<AdmissionAttributes> admissionFor(const std::string& operation,
                                                  const ResourceType& type, const std::string& ns,
                                                  const std::string& name,
                                                  const std::string& subresource,
                                                  const WriteOptions& options) const;
  Store& store_;
  Registry& registry_;
  const AdmissionChain* admission_ = nullptr;
};

}  // namespace remedy::sandbox
