// PodDisruptionBudget arithmetic, shared by the eviction subresource and the
// workload simulator's disruption controller. Pure functions of the objects
// given; the caller reads them from the store.
// Sources: k8s.io/kubernetes pkg/controller/disruption/disruption.go,
// pkg/registry/core/pod/storage/eviction.go,
// k8s.io/component-helpers/apps/poddisruptionbudget/helpers.go.
#pragma once

#include "sandbox/api_error.h"
#include "sandbox/store.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace remedy::sandbox {

using json = nlohmann::json;

// pkg/api/v1/pod IsPodReady: the Ready condition is True.
bool isPodReady(const json& pod);

// Whether a PDB selects a pod: same namespace and the policy/v1 selector
// matches its labels (a null selector selects nothing, an empty one every pod).
bool pdbSelectsPod(const json& pdb, const json& pod);

// The workload whose scale counts for a pod's controller reference, as the
// disruption controller's finders resolve it (a ReplicaSet of a Deployment
// counts as the Deployment).
struct ControllerScale {
  std::string uid;
  int32_t replicas = 0;
};
// Resolves a pod's controller ownerReference in a namespace; nullopt when the
// controller is unknown or not a scalable workload.
using ScaleLookup =
    std::function<std::optional<ControllerScale>(const std::string& ns, const json& controllerRef)>;

// A ScaleLookup over the objects in `store`: ReplicaSets (and their owning
// Deployments), Deployments, StatefulSets and ReplicationControllers.
ScaleLookup storeScaleLookup(const Store& store);

// What the disruption controller computes for one PDB.
struct PdbCounts {
  int32_t expectedPods = 0;
  int32_t desiredHealthy = 0;
  int32_t currentHealthy = 0;
  int32_t disruptionsAllowed = 0;
  // Pods the eviction subresource recorded as about to be deleted
  // (status.disruptedPods) that are still present and not yet timed out.
  json disruptedPods = json::object();
  // Set when the expected count cannot be computed (a percentage or
  // maxUnavailable over a pod whose controller is unknown); the controller
  // then fails safe with disruptionsAllowed 0 and reason SyncFailed.
  std::optional<std::string> error;
};

// disruption.go trySync: counts for `pdb` over the pods of its namespace
// (those it does not select are ignored). `scaleOf` may be empty: then a
// percentage or maxUnavailable budget counts the selected pods instead of
// their controllers' replicas.
PdbCounts computePdbCounts(const json& pdb, const std::vector<json>& podsInNamespace,
                           const ScaleLookup& scaleOf, std::chrono::system_clock::time_point now);

// The PDB's status as the disruption controller writes it (updatePdbStatus,
// UpdateDisruptionAllowedCondition, failSafe), keeping the condition's
// lastTransitionTime when its status does not change. Equal to
// pdb["status"] when nothing changed, so callers write only on a difference.
json pdbStatus(const json& pdb, const PdbCounts& counts, std::chrono::system_clock::time_point now);

// The eviction subresource's PDB check for `pod` (eviction.go Create):
// nullopt when the eviction may proceed; otherwise the real refusal: 429
// TooManyRequests "Cannot evict pod as it would violate the pod's disruption
// budget." with a DisruptionBudget cause, or 500 when more than one PDB
// selects the pod. Budgets are evaluated against the current pods (as if
// the disruption controller were never behind), so this is correct even
// right after an earlier eviction removed a pod.
std::optional<ApiError> checkEviction(const json& pod, const std::vector<json>& pdbs,
                                      const std::vector<json>& podsInNamespace,
                                      const ScaleLookup& scaleOf = {});

// intstr.GetScaledValueFromIntOrPercent: an integer as is, "N%" of `total`
// rounded up or down; nullopt for a malformed value.
std::optional<int32_t> scaledValue(const json& intOrPercent, int32_t total, bool roundUp);

}  // namespace remedy::sandbox
