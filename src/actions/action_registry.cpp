#include "actions/action_registry.h"

#include "actions/kubernetes_actions.h"

namespace remedy::actions {

const char* outcomeKindName(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kSucceeded:
      return "Succeeded";
    case OutcomeKind::kInProgress:
      return "InProgress";
    case OutcomeKind::kRetriableFailure:
      return "RetriableFailure";
    case OutcomeKind::kPermanentFailure:
      return "PermanentFailure";
  }
  return "Unknown";
}

namespace {
ActionOutcome outcome(OutcomeKind kind, std::string message, Outputs outputs,
                      kube::Duration retryAfter) {
  ActionOutcome o;
  o.kind = kind;
  o.message = std::move(message);
  o.outputs = std::move(outputs);
  o.retryAfter = retryAfter;
  return o;
}
}  // namespace

ActionOutcome ActionOutcome::succeeded(std::string message, Outputs outputs) {
  return outcome(OutcomeKind::kSucceeded, std::move(message), std::move(outputs),
                 kube::Duration(0));
}
ActionOutcome ActionOutcome::inProgress(std::string message, kube::Duration retryAfter) {
  return outcome(OutcomeKind::kInProgress, std::move(message), {}, retryAfter);
}
ActionOutcome ActionOutcome::retriable(std::string message) {
  return outcome(OutcomeKind::kRetriableFailure, std::move(message), {}, kube::Duration(0));
}
ActionOutcome ActionOutcome::transientFailure(std::string message) {
  ActionOutcome o = retriable(std::move(message));
  o.transient = true;
  return o;
}
ActionOutcome ActionOutcome::permanent(std::string message) {
  return outcome(OutcomeKind::kPermanentFailure, std::move(message), {}, kube::Duration(0));
}

void ActionRegistry::add(std::unique_ptr<Action> action) {
  std::string field = action->field();
  actions_[field] = std::move(action);
}

Action* ActionRegistry::find(const std::string& field) const {
  auto it = actions_.find(field);
  return it == actions_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ActionRegistry::fields() const {
  std::vector<std::string> out;
  for (const auto& [field, action] : actions_) out.push_back(field);
  return out;
}

}  // namespace remedy::actions
