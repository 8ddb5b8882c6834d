// The contract between the engine and the actions. The engine decides; an
// action only does what it is told and reports: it gets resolved parameters
// (the step's action field with every template already rendered) and a
// context, and returns an outcome. An action never reads Runbooks, writes
// Incident status or checks guardrails.
//
// Idempotency: the engine may run the same attempt again after a crash, with
// the same key and the same baseline, so `run` must be safe to repeat.
#pragma once

#include "kube/client.h"
#include "kube/clock.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

namespace remedy::actions {

using json = nlohmann::json;
using Outputs = std::map<std::string, std::string>;

struct ActionContext {
  kube::Client* client = nullptr;
  // Incident UID + step name + attempt: unique per attempt.
  std::string idempotencyKey;
  // Incident UID + step name: the same for every attempt of the step.
  std::string stepKey;
  // Report what would be done and change nothing.
  bool dryRun = false;
  // The attempt must not outlast this (wall time of the engine's clock).
  kube::WallTime now;
  kube::WallTime deadline;
  // When the step's first attempt started (RFC 3339): a value that stays the
  // same across retries and restarts.
  std::string firstStartedAt;
  // Namespace for targets that name none (the Incident's).
  std::string defaultNamespace;
  // The Incident (apiVersion, kind, metadata.name/uid): owner of created objects.
  json owner;
  // What `prepare` returned, as recorded on status before the first attempt,
  // plus the outputs of every kInProgress outcome of this step so far (an
  // action keeps its progress there, such as when a check began to hold).
  Outputs baseline;
  // The Incident, for messages: metadata.name/namespace, the phase, the
  // Runbook's name, the alert (labels, annotations, status) and the source;
  // and `secretKeyRefs`, every {name, key} its Runbook names, whose values an
  // action that quotes outside text (a pod's log) redacts.
  json incident;
};

enum class OutcomeKind {
  kSucceeded,
  // Not done yet (a wait, a running Job): ask again after `retryAfter`. Its
  // outputs are kept and passed back in ActionContext::baseline.
  kInProgress,
  kRetriableFailure,
  kPermanentFailure,
};
const char* outcomeKindName(OutcomeKind kind);

struct ActionOutcome {
  OutcomeKind kind = OutcomeKind::kSucceeded;
  std::string message;
  Outputs outputs;
  kube::Duration retryAfter{0};
  // For a revertible action (scale, patch, apply, redis configSet) that
  // changed something: the values it replaced and the values it set, in a
  // shape of the action's choosing. The engine keeps both on the step's
  // status and hands them back to `revert`. Null when nothing changed.
  json changedFrom;
  json changedTo;
  // A kRetriableFailure for a reason outside the step: the API server did
  // not take the request (429, 5xx, a timeout, a lost connection) or the
  // object changed under it (409). Nothing the step asked for was refused,
  // and the action is safe to run again with the same baseline (as after a
  // crash), so the engine runs it again within the same attempt, backing off
  // as the work queue does for a failed reconcile, until the attempt's
  // timeout. No attempt is counted: a step with `retries.limit: 0` does not
  // fail on one 503 of a busy API server.
  bool transient = false;

  static ActionOutcome succeeded(std::string message, Outputs outputs = {});
  static ActionOutcome inProgress(std::string message, kube::Duration retryAfter);
  static ActionOutcome retriable(std::string message);
  static ActionOutcome transientFailure(std::string message);
  static ActionOutcome permanent(std::string message);
};

enum class RevertKind {
  kReverted,
  // The live value is no longer the one Remedy set: a human's later change
  // is never overwritten.
  kRefused,
  kRetriableFailure,
  kFailed,
};

struct RevertOutcome {
  RevertKind kind = RevertKind::kReverted;
  std::string message;
};

class Action {
 public:
  virtual ~Action() = default;
  // The step field this action implements ("scale").
  virtual std::string field() const = 0;
  // Reads (never writes) what later attempts must agree on, such as the
  // replicas before a relative scale; the engine records it on status
  // before the first attempt and passes it back in ActionContext::baseline.
  // Default: nothing to record.
  virtual ActionOutcome prepare(const json& params, const ActionContext& context) {
    return ActionOutcome::succeeded("");
  }
  virtual ActionOutcome run(const json& params, const ActionContext& context) = 0;

  // Restores `changedFrom` (what run() replaced) when the live value is still
  // `changedTo` (what run() set); when someone changed it since, refuses and
  // leaves it alone. Must be safe to repeat. Default: not revertible.
  virtual RevertOutcome revert(const json& params, const json& changedFrom, const json& changedTo,
                               const ActionContext& context) {
    return {RevertKind::kFailed, "the " + field() + " action cannot revert its change"};
  }
};

}  // namespace remedy::actions
