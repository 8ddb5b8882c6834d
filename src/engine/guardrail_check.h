// Every guardrail of #5 item 2, checked in one place immediately before
// each action (after its parameters are resolved and its baseline is read,
// before the checkpoint). The check reads only what the caller gathered
// from the API server (Incidents, the Runbook's status) plus the targets'
// labels, so its counters survive a restart: nothing is remembered here.
//
// Verdicts, and what the engine does with them:
// - Allow.
// - Wait (global pause, maxConcurrent, another Incident holds the target,
//   or a read a guardrail needs failed: guardrails fail closed): the step
//   does not start; the Incident is requeued after `retryAfter`.
// - SkipIncident (cooldown, maxExecutions, target already remediated): the
//   Incident ends Skipped before its first action.
// - RefuseStep (protected object, scale bounds, pod disruption bounds):
//   the step fails without an attempt; its onFailure applies. (Where a step
//   may reach -- its namespaces and kinds -- is decided before any of this,
//   by IncidentReconciler::checkStep.)
// Every verdict but Allow is recorded on the Incident with `guardrail` and
// `message`.
#pragma once

#include "actions/action.h"
#include "api/incident.h"
#include "api/runbook.h"
#include "kube/client.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::engine {

inline constexpr const char* kProtectedLabel = "remedy.dev/protected";

// An object a step acts on.
struct TargetRef {
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;
  std::string key() const { return kind + "/" + ns + "/" + name; }
};

// The object named by a resolved action's `target`, or nullopt.
std::optional<TargetRef> actionTarget(const nlohmann::json& params,
                                      const std::string& defaultNamespace);

// What the guardrails need to know about one other Incident.
struct IncidentView {
  std::string name;
  std::string runbook;  // status.runbook.name, "" before matching
  std::optional<api::IncidentPhase> phase;
  bool executed = false;  // some step made an attempt
  std::optional<kube::WallTime> startedAt;
  std::optional<kube::WallTime> finishedAt;
  std::string order;              // creationTimestamp + name: who came first
  std::set<std::string> targets;  // TargetRef::key()s of all its steps
  // Before it is matched: the targets it will have (predictTargets in
  // runbook_selector.h), nullopt when they cannot be told yet.
  std::optional<std::set<std::string>> predictedTargets;
  bool active() const;  // not in a final phase
};

struct GuardrailRequest {
  std::string incident;  // name
  std::string order;
  std::string runbook;
  const api::Guardrails* guardrails = nullptr;
  std::optional<api::RunbookStatus> runbookStatus;
  bool firstAction = false;  // no step of this Incident has made an attempt
  bool paused = false;       // the global pause switch
  // This Incident has waited for another one holding its target.
  bool waitedForTarget = false;
  std::string actionField;
  nlohmann::json params;
  actions::Outputs baseline;
  std::vector<TargetRef> stepTargets;
  std::set<std::string> incidentTargets;
  std::vector<IncidentView> others;  // every other Incident of the namespace
  // Reads the targets (the protected label): the client of the
  // ServiceAccount the step acts as; null: the check's own client.
  kube::Client* targetClient = nullptr;
  kube::WallTime now;
  kube::WallTime startedAt;  // this Incident's status.startedAt (engine clock)
};

struct GuardrailVerdict {
  enum class Kind { kAllow, kWait, kSkipIncident, kRefuseStep };
  Kind kind = Kind::kAllow;
  std::string guardrail;  // "cooldown", "protected", ...
  std::string message;
  kube::Duration retryAfter{0};

  bool allowed() const { return kind == Kind::kAllow; }
};

class GuardrailCheck {
 public:
  explicit GuardrailCheck(kube::Client& client) : client_(client) {}

  // Every guardrail: readTargets, then checkInMemory.
  GuardrailVerdict check(const GuardrailRequest& request) const;
  // The fresh reads just before an effect: each target (and each Pod the
  // step would delete) must not carry the protected label; a read that
  // fails makes the step wait.
  // `uids`, when given, gets the uid of each step target read (by
  // TargetRef::key()), so what reports on the target need not read it again.
  GuardrailVerdict readTargets(const GuardrailRequest& request,
                               std::map<std::string, std::string>* uids = nullptr) const;
  // The rest, on what the request carries: no API request, so the engine
  // may hold its process-wide lock over it.
  GuardrailVerdict checkInMemory(const GuardrailRequest& request) const;
  // What checkInMemory judges without the step's baseline (the pause, one
  // remediation per target, cooldown and maxExecutions): asked before the
  // step reads anything, so a step bound to wait costs no request. Not a
  // pass: checkInMemory judges again, with the baseline, before the effect.
  GuardrailVerdict checkBeforeReads(const GuardrailRequest& request) const;

  // How often a waiting Incident looks again.
  static constexpr std::chrono::seconds kWaitInterval{5};
  // How long maxConcurrent counts a reservation on the Runbook's history
  // whose Incident the cache does not show (not seen yet, or deleted).
  static constexpr std::chrono::minutes kUnseenReservationHold{5};

 private:
  GuardrailVerdict checkTargets(const GuardrailRequest& request) const;
  GuardrailVerdict checkHistory(const GuardrailRequest& request) const;
  GuardrailVerdict checkBounds(const GuardrailRequest& request) const;

  kube::Client& client_;
};

}  // namespace remedy::engine
