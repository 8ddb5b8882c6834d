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
// - Every reconcile reads the Incident from the API server and moves it one
//   step; waits return requeueAfter, nothing blocks.
// - The checkpoint is written (with a resourceVersion precondition) before
//   the action runs. A restart finds the step Running and runs the same
//   attempt again with the same idempotency key and baseline; actions are
//   idempotent given those, so no effect is applied twice.
// - Guardrails are checked (GuardrailCheck) right before each checkpoint,
//   and the check plus checkpoint are serialized in this process, so two
//   Incidents never both pass the one-remediation-per-target rule. That
//   assumes one active operator process (leader election).
// - Status is written through the status subresource; a 409 requeues.
#pragma once

#include "actions/action_registry.h"
#include "api/incident.h"
#include "api/runbook.h"
#include "engine/approval_gate.h"
#include "engine/guardrail_check.h"
#include "engine/metrics.h"
#include "kube/client.h"
#include "kube/clock.h"
#include "kube/controller.h"
#include "kube/event_recorder.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::engine {

struct IncidentReconcilerOptions {
  std::string fieldManager = "remedy-operator";
  // Finished Incidents are deleted this long after they finish.
  kube::Duration retention = std::chrono::hours(24 * 7);
  // The global pause: a ConfigMap whose data.paused is "true".
  std::string pauseNamespace = "remedy-system";
  std::string pauseName = "remedy-pause";
  // Drills send their escalation messages only when this is set (or the
  // Incident carries remedy.dev/drill-notify: "true").
  bool deliverDrillNotifications = false;
  // Every step of every Incident only reports what it would do.
  bool dryRun = false;
  // Not owned; may be null.
  EngineMetrics* metrics = nullptr;
};

class IncidentReconciler {
 public:
  // `events` may be null (no Events written).
  IncidentReconciler(kube::Client& client, const actions::ActionRegistry& registry,
                     const kube::Clock& clock, kube::EventRecorder* events = nullptr,
                     IncidentReconcilerOptions options = {});

  kube::ReconcileResult reconcile(const std::string& key);

  struct Work;  // one reconcile's Incident, its status and the Runbook snapshot

 private:
  kube::ReconcileResult start(Work& w);
  kube::ReconcileResult advance(Work& w);
  kube::ReconcileResult beginStep(Work& w, size_t index);
  kube::ReconcileResult awaitApproval(Work& w, size_t index);
  void recordApprovalDecisions(const std::vector<nlohmann::json>& approvals,
                               const ApprovalVerdict& verdict);
  kube::ReconcileResult startAttempt(Work& w, size_t index);
  kube::ReconcileResult continueAttempt(Work& w, size_t index);
  kube::ReconcileResult applyOutcome(Work& w, size_t index, const actions::ActionOutcome& outcome,
                                     kube::WallTime attemptStart);
  kube::ReconcileResult failStep(Work& w, size_t index, const std::string& message);
  // Records the pending revert of a step with `revert` that changed something.
  void scheduleRevert(Work& w, size_t index, const actions::ActionOutcome& outcome);
  kube::ReconcileResult garbageCollect(Work& w);

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

  std::vector<IncidentView> incidentViews(const std::string& ns, const std::string& self);
  bool paused();
  void recordRunbookExecution(Work& w);
  void note(Work& w, const std::string& type, const std::string& step, const std::string& message);
  void event(Work& w, const std::string& type, const std::string& reason,
             const std::string& message);
  void logStep(Work& w, size_t index, const std::string& outcome, kube::Duration duration);
  std::string now() const;

  kube::Client& client_;
  const actions::ActionRegistry& registry_;
  const kube::Clock& clock_;
  kube::EventRecorder* events_;
  const IncidentReconcilerOptions options_;
  GuardrailCheck guardrails_;
};

// The targets of every step of a started Incident (rendered with its
// context; steps whose target does not render are left out).
std::vector<TargetRef> incidentTargets(const api::Incident& incident, const api::RunbookSpec& spec);

// The step's action field with every template rendered; an error names the
// field and the expression.
api::Result<nlohmann::json> renderAction(const nlohmann::json& action,
                                         const nlohmann::json& context, const std::string& path);

}  // namespace remedy::engine
