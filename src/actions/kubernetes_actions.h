// The Kubernetes action family: scale, rolloutRestart, deletePods, waitFor,
// runJob and waitForResolved (patch and apply: patch_actions.h). Each is
// idempotent given its context (see action.h):
// - scale computes a relative change from the replicas recorded by
//   `prepare` before the first attempt, so a retry sets the same number;
// - rolloutRestart writes kubectl's restartedAt annotation with the step's
//   first start time, so a retry writes the same value and changes nothing;
// - deletePods chooses its pods in `prepare` (recorded on status) and only
//   ever removes those, so a rerun never removes more than the bound;
// - runJob names its Job after the idempotency key, so a rerun finds it.
#pragma once

#include "actions/action.h"
#include "actions/patch_actions.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::actions {

class ActionRegistry;

// The object a step's `target` names ({apiVersion, kind, name, namespace}),
// with the resource that serves it (found through discovery).
struct TargetObject {
  kube::Resource resource;
  std::string kind;
  std::string ns;
  std::string name;
  std::string describe() const { return kind + " " + ns + "/" + name; }
};

// kind defaults to Deployment, apiVersion to the kind's default, the
// namespace to `defaultNamespace`. A Secret is refused.
kube::Result<TargetObject> resolveTarget(kube::Client& client, const json& target,
                                         const std::string& defaultNamespace);

// A metav1.LabelSelector as the text of a list's labelSelector parameter,
// built from its structure after every key and value passed the label
// syntax, so a value cannot add a requirement of its own.
kube::Result<std::string> labelSelectorText(const json& selector);

// API errors worth another attempt: throttling, server trouble, conflicts
// and transport failures. NotFound, Forbidden or Invalid will not get
// better by retrying.
bool isRetriableApiError(const kube::Status& s);

// The outcome of a failed API request: "WHAT: STATUS", transient
// (ActionOutcome::transient) when isRetriableApiError, else permanent.
ActionOutcome apiFailure(const kube::Status& s, const std::string& what);

// A relative ("+2", "-1") or absolute ("5", 5) replicas value applied to
// `from`, then clamped to [minReplicas, maxReplicas] when given. nullopt when
// `replicas` is neither.
std::optional<int> computeScaleReplicas(int from, const json& replicas,
                                        std::optional<int> minReplicas,
                                        std::optional<int> maxReplicas);

// The kubectl annotation a rollout restart sets on the pod template.
inline constexpr const char* kRestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

// changedFrom {"replicas": before}, changedTo {"replicas": after}; revert
// sets `before` again only while the scale still reads `after`.
class ScaleAction : public Action {
 public:
  std::string field() const override { return "scale"; }
  ActionOutcome prepare(const json& params, const ActionContext& context) override;
  ActionOutcome run(const json& params, const ActionContext& context) override;
  RevertOutcome revert(const json& params, const json& changedFrom, const json& changedTo,
                       const ActionContext& context) override;
};

class RolloutRestartAction : public Action {
 public:
  std::string field() const override { return "rolloutRestart"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

// The Deployment annotation (and its ReplicaSets') that numbers revisions.
inline constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";

// As `kubectl rollout undo` (polymorphichelpers/rollback.go): `prepare`
// chooses the ReplicaSet of `revision` (or of the revision before the
// current one) among those the Deployment controls, once the controller has
// observed the Deployment's generation, and records it; `run` writes that
// ReplicaSet's pod template (without pod-template-hash) and kubectl's
// annotations into the Deployment with a resourceVersion precondition. A
// rerun that finds the template in place changes nothing. Not revertible.
class RolloutUndoAction : public Action {
 public:
  std::string field() const override { return "rolloutUndo"; }
  ActionOutcome prepare(const json& params, const ActionContext& context) override;
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class DeletePodsAction : public Action {
 public:
  std::string field() const override { return "deletePods"; }
  ActionOutcome prepare(const json& params, const ActionContext& context) override;
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class WaitForAction : public Action {
 public:
  std::string field() const override { return "waitFor"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class RunJobAction : public Action {
 public:
  // `serviceAccounts`: the names a pod template's serviceAccountName may
  // take (none: it must be unset, so the pod runs as the namespace's default).
  explicit RunJobAction(std::vector<std::string> serviceAccounts = {})
      : serviceAccounts_(std::move(serviceAccounts)) {}
  std::string field() const override { return "runJob"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
  // The Job's name for an attempt: stable for one idempotency key.
  static std::string jobName(const ActionContext& context);

 private:
  std::vector<std::string> serviceAccounts_;
};

// Succeeds once the Incident's alert has resolved (output `resolvedAt`:
// the alert's endsAt, else now); until then in progress. The engine
// requeues when the Incident changes and fails the step at its timeout.
class WaitForResolvedAction : public Action {
 public:
  std::string field() const override { return "waitForResolved"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

std::unique_ptr<Action> makeWaitForResolvedAction();

// What the operator allows the Kubernetes family to touch (from its flags
// or Helm values).
struct KubernetesActionOptions {
  PatchActionOptions patch;
  ApplyActionOptions apply;
  // ServiceAccount names a runJob pod template may run as.
  std::vector<std::string> runJobServiceAccounts;
};

// A registry holding the whole Kubernetes family: scale, rolloutRestart,
// rolloutUndo, deletePods, waitFor, runJob, patch, apply and waitForResolved.
std::unique_ptr<ActionRegistry> kubernetesActionRegistry(
    const KubernetesActionOptions& options = {});

// Which states a pod is in, as deletePods.states names them.
std::vector<std::string> podStates(const json& pod);

}  // namespace remedy::actions
