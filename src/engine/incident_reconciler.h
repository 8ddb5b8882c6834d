// The Incident controller (#5 item 1): matches an Incident to a Runbook,
// snapshots the Runbook on the Incident's status, and runs its steps as a
// state machine checkpointed on status, one transition per reconcile:
//
//   step Pending --(when, approval, guardrails)--> checkpoint: Running,
//   attempts+1, startedAt  --> action runs with key UID/step/attempt -->
//   Succeeded (outputs) | Pending + nextAttemptAt (retry with backoff) |
//   Failed (onFailure: Abort, Continue, Escalate)
//
// Rules kept (DESIGN.md "Rules the engine keeps"):
// - Every reconcile reads the Incident from EngineCaches (the informer's
//   copy or this process's last write, whichever is newer; never a GET: an
//   Incident the cache does not show is not reconciled, one whose last
//   write conflicted is requeued until the cache shows a newer version) and
//   moves it one step; waits return requeueAfter, nothing blocks. Runbooks
//   (matching, the snapshot, the history), the pause switch and the other
//   Incidents the guardrails ask about are read from EngineCaches, never
//   listed per Incident.
// - The checkpoint is written (with a resourceVersion precondition) before
//   the action runs. A restart finds the step Running and runs the same
//   attempt again with the same idempotency key and baseline; actions are
//   idempotent given those, so no effect is applied twice.
// - Guardrails are checked (GuardrailCheck) right before each checkpoint:
//   the reads of the targets first, then the in-memory checks under a
//   process-wide mutex held over no API request; an Incident that passes is
//   claimed in EngineCaches before the mutex is released, so two workers of
//   this process never both pass the one-remediation-per-target rule or
//   maxConcurrent. That assumes one active operator process (leader
//   election).
// - Status is written through the status subresource; a 409 requeues.
// - Tenancy (DESIGN.md "Tenancy"): every action, and every read of a target
//   just before an effect, runs as a ServiceAccount of the Incident's
//   namespace (the Runbook's spec.serviceAccountName or the default), never
//   as the operator. Before a step reads or changes anything, its rendered
//   values are checked for what they become (api/typed_values.h) and every
//   target for where it may be reached (api/runbook_policy.h).
// - What the Incident started from is frozen on status.inputs at the start;
//   steps, reverts and escalations read that, never the live spec.
// - An execution is reserved on the Runbook's status.history (one write,
//   with a resourceVersion precondition) right before the first action's
//   checkpoint, so cooldown and maxExecutions survive deleted Incidents.
#pragma once

#include "actions/action_registry.h"
#include "api/incident.h"
#include "api/runbook.h"
#include "api/runbook_policy.h"
#include "engine/approval_gate.h"
#include "engine/engine_caches.h"
#include "engine/guardrail_check.h"
#include "engine/metrics.h"
#include "engine/target_lease.h"
#include "kube/client.h"
#include "kube/clock.h"
#include "kube/controller.h"
#include "kube/event_recorder.h"
#include "kube/impersonation.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::engine {

struct IncidentReconcilerOptions {
  std::string fieldManager = "remedy-operator";
  // Finished Incidents are deleted this long after they finish.
  kube::Duration retention = std::chrono::hours(24 * 7);
  // The global pause: a ConfigMap whose data.paused is "true". Its
  // namespace, the operator's own, also holds the targets' Leases.
  std::string pauseNamespace = "remedy-system";
  std::string pauseName = "remedy-pause";
  // Drills send their escalation messages only when this is set (or the
  // Incident carries remedy.dev/drill-notify: "true").
  bool deliverDrillNotifications = false;
  // Every step of every Incident only reports what it would do.
  bool dryRun = false;
  // The ServiceAccount (of the Incident's namespace) actions run as when
  // the Runbook names none, and every name a Runbook may name: the operator's
  // RBAC lets it impersonate exactly these (resourceNames).
  std::string defaultServiceAccount = "remedy-runner";
  std::vector<std::string> serviceAccountNames = {"remedy-runner"};
  // Not owned; may be null.
  EngineMetrics* metrics = nullptr;
  // Verifies the seals of Remedy's admission webhook on Approvals. Not
  // owned; null: no Approval counts (approval_gate.h).
  const admission::Sealer* sealer = nullptr;
  // The Approvals of a namespace from the engine's informer; null: listed
  // from the API server.
  std::function<std::vector<nlohmann::json>(const std::string& ns)> approvalsIn;
  // The clients of follow-ups (reverts, escalation messages): a budget of
  // their own, so a storm of reverts never starves the steps of new
  // Incidents. Not owned; null: the reconciler's own clients.
  kube::Client* followupClient = nullptr;
  kube::ServiceAccountClients* followupServiceAccounts = nullptr;
  // The fence of leader election (kube::LeaderElector::mayAct): asked just
  // before each effect (an action's run or continuation, a revert, an
  // escalation or approval-request message). False: the effect is not
  // issued, the step stays as checkpointed (Running: the next leader runs
  // the same attempt with the same idempotency key) and the Incident is
  // requeued. Null: always true (no leader election).
  std::function<bool()> mayAct;
};

// How soon an Incident fenced before an effect is looked at again.
constexpr kube::Duration kFencedRetry = std::chrono::seconds(1);

class IncidentReconciler {
 public:
  // `client` acts as the operator (its own kinds, Events, the pause switch);
  // `serviceAccounts` gives the client of each ServiceAccount that actions
  // run as. `events` may be null (no Events written).
  // `caches` must have synced before the first reconcile (Engine::start
  // waits for it).
  IncidentReconciler(kube::Client& client, EngineCaches& caches,
                     kube::ServiceAccountClients& serviceAccounts,
                     const actions::ActionRegistry& registry, const kube::Clock& clock,
                     kube::EventRecorder* events = nullptr, IncidentReconcilerOptions options = {});

  kube::ReconcileResult reconcile(const std::string& key);

  struct Work;  // one reconcile's Incident, its status and the Runbook snapshot

 private:
  kube::ReconcileResult start(Work& w);
  kube::ReconcileResult advance(Work& w);
  kube::ReconcileResult beginStep(Work& w, size_t index);
  kube::ReconcileResult awaitApproval(Work& w, size_t index);
  void recordApprovalDecisions(const std::vector<nlohmann::json>& approvals,
                               const ApprovalVerdict& verdict);
  // Whether `user` with `groups` holds the verb `approve` on Runbook
  // `runbook` in `ns` (a SubjectAccessReview, remembered for a few seconds).
  kube::Result<bool> mayApprove(const std::string& ns, const std::string& runbook,
                                const std::string& user, const std::vector<std::string>& groups);
  // Approvals naming this Incident that arrived after their step (or the
  // whole Incident) stopped waiting: each gets its status (TooLate), once.
  void settleLateApprovals(Work& w);
  kube::ReconcileResult startAttempt(Work& w, size_t index);
  // Resolves a step's `target: {pod, owner}` to its workload (as the
  // tenant) and records it on the step's status; nullopt when recorded,
  // else what the reconcile returns (the step failed, or waits).
  std::optional<kube::ReconcileResult> resolveStepTarget(Work& w, size_t index,
                                                         const nlohmann::json& params,
                                                         const std::string& path);
  kube::ReconcileResult continueAttempt(Work& w, size_t index);
  kube::ReconcileResult applyOutcome(Work& w, size_t index, const actions::ActionOutcome& outcome,
                                     kube::WallTime attemptStart);
  kube::ReconcileResult failStep(Work& w, size_t index, const std::string& message);
  // Records the pending revert of a step with `revert` that changed something.
  void scheduleRevert(Work& w, size_t index, const actions::ActionOutcome& outcome);
  kube::ReconcileResult garbageCollect(Work& w);

  // The checks every step passes before it reads or changes anything, on
  // its rendered parameters: what each value becomes, and where each target
  // may be reached. A refusal or a wait is a verdict; Allow otherwise.
  GuardrailVerdict checkStep(Work& w, const std::string& field, const nlohmann::json& source,
                             const nlohmann::json& params, const std::string& path);
  // The RunbookPolicies, read only when a step reaches beyond its namespace.
  kube::Result<std::vector<api::RunbookPolicy>> readRunbookPolicies();
  // Records a verdict of checkStep; nullopt when it allows the step.
  std::optional<kube::ReconcileResult> applyStepCheck(Work& w, size_t index,
                                                      const GuardrailVerdict& verdict);
  // Records this Incident's execution on the Runbook's status.history (with
  // a resourceVersion precondition on `runbook`, as cached: a stale copy
  // fails with 409 and the reconcile starts over); false when it must be
  // retried (`result` says how).
  bool reserveExecution(Work& w, nlohmann::json runbook, kube::ReconcileResult* result);

  // Follow-ups (incident_followups.cpp): reverts of temporary changes and
  // the escalation ladder, which run in any phase. runFollowups returns a
  // result when it wrote status (the reconcile ends there).
  std::optional<kube::ReconcileResult> runFollowups(Work& w);
  // `result`, or sooner when a revert or an escalation tier falls due.
  kube::ReconcileResult withFollowupWake(Work& w, kube::ReconcileResult result) const;
  bool followupsPending(Work& w) const;
  bool runReverts(Work& w, kube::ReconcileResult* result);
  bool revertDue(Work& w, const api::RevertStatus& revert) const;
  bool runEscalations(Work& w, kube::ReconcileResult* result);
  bool tiersMayFire(Work& w) const;
  std::optional<size_t> nextTier(Work& w) const;
  void deliver(Work& w, api::EscalationRecord& record);
  actions::ActionContext followupContext(Work& w, const std::string& key);

  // Sets a final phase, skips the steps not run, records it everywhere.
  void finish(Work& w, api::IncidentPhase phase, const std::string& reason,
              const std::string& message);
  // Runs after a step ends: finishes the Incident when no step is left.
  void finishIfDone(Work& w);
  // Writes status; false on failure (`result` then says what to return).
  bool write(Work& w, kube::ReconcileResult* result);

  // The Runbook from the cache: nullopt when the cache does not show it
  // (deleted, or not seen yet); an error while the cache has not synced.
  kube::Result<std::optional<nlohmann::json>> readRunbook(const std::string& ns,
                                                          const std::string& name);
  bool paused();
  // True (and logged and counted) when options.mayAct says this process may
  // no longer issue effects; `what` names the effect ("run", "revert", ...).
  bool fenced(Work& w, const std::string& step, const std::string& what);
  // Holds the Lease of every target (TargetLeases); a Wait when another
  // Incident holds one or a Lease cannot be read or written.
  std::optional<GuardrailVerdict> holdTargets(Work& w, const std::set<std::string>& targets);
  void releaseTargets(Work& w, bool acted);
  std::string leaseHolder(const Work& w) const;
  void recordRunbookExecution(Work& w);
  void note(Work& w, const std::string& type, const std::string& step, const std::string& message);
  void event(Work& w, const std::string& type, const std::string& reason,
             const std::string& message);
  // An Event on the object a step acts on, for its owner: reason
  // Remedy<What>, the message naming the Incident and the step.
  void targetEvent(Work& w, const TargetRef& target, const std::string& type,
                   const std::string& reason, const std::string& step, const std::string& message);
  void logStep(Work& w, size_t index, const std::string& outcome, kube::Duration duration);
  std::string now() const;

  kube::Client& client_;
  EngineCaches& caches_;
  kube::ServiceAccountClients& serviceAccounts_;
  const actions::ActionRegistry& registry_;
  const kube::Clock& clock_;
  kube::EventRecorder* events_;
  const IncidentReconcilerOptions options_;
  GuardrailCheck guardrails_;
  // mayApprove's answers: (ns, runbook, user, groups) to (allowed, when).
  std::mutex approveChecksMu_;
  std::map<std::string, std::pair<bool, kube::WallTime>> approveChecks_;
  TargetLeases leases_;
};

// The targets of every step of a started Incident (rendered with its
// context; steps whose target does not render are left out). `complete`,
// when given, tells whether every step that names a target gave one (false
// when one did not render, or names a pod whose workload is not resolved).
std::vector<TargetRef> incidentTargets(const api::Incident& incident, const api::RunbookSpec& spec,
                                       bool* complete = nullptr);

// A step whose `target` names a `pod` and its `owner` acts on the workload
// recorded on its status (`status.steps[i].target`) when it first started:
// `params` with that target ({apiVersion, kind, namespace, name}); `params`
// unchanged when none is recorded or the target names no pod.
nlohmann::json withResolvedTarget(nlohmann::json params, const api::StepStatus& status);
// The `target` of rendered parameters when it names a pod to resolve, or nullptr.
const nlohmann::json* podTarget(const nlohmann::json& params);

// The step's action field with every template rendered; an error names the
// field and the expression.
api::Result<nlohmann::json> renderAction(const nlohmann::json& action,
                                         const nlohmann::json& context, const std::string& path);

}  // namespace remedy::engine
