// What an Incident still owes after (or alongside) its steps: undoing the
// temporary changes of steps with `revert`, and the escalation ladder.
// Both run in any phase, one transition per reconcile, recorded on status
// before anything leaves the process (see incident_reconciler.h).
#include "api/duration.h"
#include "engine/conditions.h"
#include "engine/incident_reconciler.h"
#include "engine/incident_work.h"
#include "engine/resources.h"
#include "kube/time_format.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace remedy::engine {

using json = nlohmann::json;
using api::IncidentPhase;
using api::NotificationState;
using api::RevertState;
using api::StepPhase;
using kube::ReconcileResult;

namespace {

// How soon to come back after a follow-up wrote status (at once, but through
// the queue so other keys get their turn).
constexpr auto kContinue = std::chrono::milliseconds(1);

// What the approvers read when a step begins waiting: what waits, until
// when, and the exact commands (the notify action adds the Incident's link).
std::string approvalRequestMessage(IncidentReconciler::Work& w, const std::string& step) {
  std::string ns = kube::namespaceOf(w.object);
  std::string name = kube::nameOf(w.object);
  std::string text = "Incident " + ns + "/" + name + " (runbook " + w.runbook +
                     ") waits for approval of step " + step;
  const api::ApprovalPolicy* policy = w.spec.approval ? &*w.spec.approval : nullptr;
  api::Duration timeout = std::chrono::minutes(30);
  if (policy && policy->timeout) {
    if (auto parsed = api::parseDuration(*policy->timeout); parsed.ok()) timeout = *parsed;
  }
  const api::Condition* waiting = api::findCondition(w.status().conditions, "AwaitingApproval");
  if (waiting) {
    if (auto since = parseTime(waiting->lastTransitionTime)) {
      text += " until " + kube::formatRfc3339(*since + timeout);
    }
  }
  std::string who;
  if (policy && policy->users) {
    for (const auto& u : *policy->users) who += (who.empty() ? "" : ", ") + u;
  }
  if (policy && policy->groups) {
    for (const auto& g : *policy->groups) who += (who.empty() ? "" : ", ") + ("group " + g);
  }
  int needed = policy && policy->minApprovals ? *policy->minApprovals : 1;
  text += " (" + std::to_string(needed) + " approval" + (needed == 1 ? "" : "s") +
          (who.empty() ? "" : " from " + who) + ", with the verb approve on runbook " + w.runbook +
          "). Approve: kubectl remedy approve " + name + " --step " + step + " -n " + ns +
          "; reject: kubectl remedy approve " + name + " --step " + step + " -n " + ns +
          " --reject -m REASON";
  return text;
}
// Retrying a revert or a message that failed for a reason that may pass.
constexpr auto kFollowupRetry = std::chrono::seconds(15);
// A firing whose messages could not be sent for this long is given up.
constexpr auto kNotifyGiveUp = std::chrono::minutes(15);

const char* kRevertRequested = "remedy.dev/revert-requested";
const char* kDrillNotify = "remedy.dev/drill-notify";

std::string annotation(const json& object, const char* key) {
  const json& metadata = object.value("metadata", json::object());
  return metadata.value("annotations", json::object()).value(key, "");
}

bool phaseIs(const api::IncidentStatus& s, std::initializer_list<IncidentPhase> phases) {
  return s.phase && std::find(phases.begin(), phases.end(), *s.phase) != phases.end();
}

std::optional<kube::WallTime> tierDue(const api::IncidentStatus& s, const api::EscalationTier& t) {
  auto started = parseTime(s.startedAt);
  if (!started || !t.after) return std::nullopt;
  auto after = api::parseDuration(*t.after);
  if (!after.ok()) return std::nullopt;
  return *started + *after;
}

}  // namespace

actions::ActionContext IncidentReconciler::followupContext(Work& w, const std::string& key) {
  actions::ActionContext context;
  // Reverts and escalation messages (their urlFrom Secrets) act as the
  // Runbook's ServiceAccount, as its steps do, on the follow-ups' budget.
  context.client = w.followupTenant ? w.followupTenant : w.tenant;
  std::string uid = kube::uidOf(w.object);
  context.stepKey = uid + "/" + key;
  context.idempotencyKey = context.stepKey;
  context.now = w.now;
  context.deadline = w.now + std::chrono::seconds(30);
  context.firstStartedAt = now();
  context.defaultNamespace = kube::namespaceOf(w.object);
  context.owner = {{"apiVersion", w.object.value("apiVersion", "")},
                   {"kind", w.object.value("kind", "")},
                   {"metadata", {{"name", kube::nameOf(w.object)}, {"uid", uid}}}};
  context.incident = incidentSummary(w);
  return context;
}

// ---- reverts ----

bool IncidentReconciler::revertDue(Work& w, const api::RevertStatus& r) const {
  if (r.state != RevertState::kPending) return false;
  if (!annotation(w.object, kRevertRequested).empty()) return true;
  if (r.onResolved.value_or(false) && w.resolved()) return true;
  auto due = parseTime(r.dueAt);
  return due && *due <= w.now;
}

bool IncidentReconciler::runReverts(Work& w, ReconcileResult* result) {
  if (!w.status().steps) return false;
  bool checkedPause = false;
  for (auto& st : *w.status().steps) {
    if (!st.revert || !revertDue(w, *st.revert)) continue;
    // The global pause holds reverts too: Remedy changes nothing while paused.
    if (!checkedPause && paused()) {
      *result = ReconcileResult::after(GuardrailCheck::kWaitInterval);
      return true;
    }
    checkedPause = true;
    const api::Step* step = w.spec.findStep(st.name.value_or(""));
    std::string field = step ? actionFieldOf(*step) : "";
    actions::Action* action = registry_.find(field);
    api::RevertStatus& r = *st.revert;
    std::string why = !annotation(w.object, kRevertRequested).empty() ? "requested"
                      : r.onResolved.value_or(false) && w.resolved()
                          ? "the alert resolved"
                          : "its time came (" + r.dueAt.value_or("") + ")";
    actions::RevertOutcome outcome;
    std::optional<TargetRef> target;
    if (!step || !action) {
      outcome = {actions::RevertKind::kFailed,
                 step ? "no action implements \"" + field + "\" in this build"
                      : "the step is not in the runbook snapshot"};
    } else {
      std::string path = "steps." + *st.name + "." + field;
      json source = api::toJson(*step)[field];
      auto params = renderAction(source, w.incident.templateContext(), path);
      GuardrailVerdict reach;
      if (params.ok()) params = withResolvedTarget(*params, st);
      if (params.ok()) {
        reach = checkStep(w, field, source, *params, path);
        target = actionTarget(*params, kube::namespaceOf(w.object));
      }
      if (!params.ok()) {
        outcome = {actions::RevertKind::kFailed, params.error()};
      } else if (reach.kind == GuardrailVerdict::Kind::kWait) {
        outcome = {actions::RevertKind::kRetriableFailure, reach.message};
      } else if (!reach.allowed()) {
        outcome = {actions::RevertKind::kFailed,
                   "refused by guardrail " + reach.guardrail + ": " + reach.message};
      } else {
        if (fenced(w, *st.name, "revert")) {
          *result = ReconcileResult::after(kFencedRetry);
          return true;
        }
        actions::ActionContext context = followupContext(w, *st.name + "/revert");
        context.dryRun = st.dryRun.value_or(false);
        outcome =
            action->revert(*params, r.before.value_or(json()), r.after.value_or(json()), context);
      }
    }
    std::string message = truncateMessage(outcome.message, kMaxStepMessage);
    switch (outcome.kind) {
      case actions::RevertKind::kReverted:
        r.state = RevertState::kReverted;
        break;
      case actions::RevertKind::kRefused:
        r.state = RevertState::kRefused;
        break;
      case actions::RevertKind::kFailed:
        r.state = RevertState::kFailed;
        break;
      case actions::RevertKind::kRetriableFailure:
        if (r.message != message) {
          r.message = message;
          note(w, "RevertRetry", *st.name, "revert (" + why + ") failed, will retry: " + message);
          if (!write(w, result)) return true;
        }
        *result = ReconcileResult::after(kFollowupRetry);
        return true;
    }
    r.message = message;
    r.revertedAt = now();
    std::string state = api::enumName(*r.state);
    std::string type = r.state == RevertState::kReverted ? "Reverted" : "Revert" + state;
    note(w, type, *st.name, "revert (" + why + "): " + message);
    if (options_.metrics) options_.metrics->revert(field, state);
    spdlog::info("incident={} step={} action={} event=revert result={} reason=\"{}\"", w.key,
                 *st.name, field, state, why);
    if (!write(w, result)) return true;
    std::string eventType = r.state == RevertState::kReverted ? "Normal" : "Warning";
    event(w, eventType, type, *st.name + ": " + message);
    if (target) targetEvent(w, *target, eventType, "Remedy" + type, *st.name, message);
    *result = ReconcileResult::after(kContinue);
    return true;
  }
  // Every requested revert is done: the request is spent.
  if (!annotation(w.object, kRevertRequested).empty()) {
    json patch = {{"metadata", {{"annotations", {{kRevertRequested, nullptr}}}}}};
    kube::PatchOptions options;
    options.fieldManager = options_.fieldManager;
    kube::Client& client = options_.followupClient ? *options_.followupClient : client_;
    auto patched = client.patch(incidents(), kube::namespaceOf(w.object), kube::nameOf(w.object),
                                patch.dump(), options);
    if (patched.ok()) w.object = std::move(patched.value());
  }
  return false;
}

// ---- escalation ----

bool IncidentReconciler::tiersMayFire(Work& w) const {
  const api::IncidentStatus& s = w.status();
  if (w.resolved() || !s.startedAt || !w.spec.escalation || !w.spec.escalation->tiers) {
    return false;
  }
  return !phaseIs(s,
                  {IncidentPhase::kSucceeded, IncidentPhase::kCancelled, IncidentPhase::kSkipped});
}

std::optional<size_t> IncidentReconciler::nextTier(Work& w) const {
  if (!tiersMayFire(w)) return std::nullopt;
  const auto& tiers = *w.spec.escalation->tiers;
  const auto& fired = w.status().escalations.value_or(std::vector<api::EscalationRecord>{});
  // In order: a tier fires only after every tier before it.
  for (size_t i = 0; i < tiers.size(); ++i) {
    bool done = std::any_of(fired.begin(), fired.end(), [&](const api::EscalationRecord& r) {
      return r.tier && static_cast<size_t>(*r.tier) == i;
    });
    if (!done) return i;
  }
  return std::nullopt;
}

bool IncidentReconciler::runEscalations(Work& w, ReconcileResult* result) {
  api::IncidentStatus& s = w.status();
  // First deliver what is recorded and not yet sent.
  if (s.escalations) {
    for (auto& record : *s.escalations) {
      if (record.state != NotificationState::kPending) continue;
      if (fenced(w, record.approvalStep.value_or(""), "notify")) {
        *result = ReconcileResult::after(kFencedRetry);
        return true;
      }
      deliver(w, record);
      if (record.state == NotificationState::kPending) {
        // Retriable: keep it, try again later (recorded once per message).
        if (!write(w, result)) return true;
        *result = ReconcileResult::after(kFollowupRetry);
        return true;
      }
      if (!write(w, result)) return true;
      bool notified = record.state == NotificationState::kNotified;
      event(w, notified ? "Normal" : "Warning",
            std::string("Escalation") + api::enumName(*record.state),
            record.name.value_or("escalation") + ": " + record.message.value_or(""));
      *result = ReconcileResult::after(kContinue);
      return true;
    }
  }
  // Then record the next tier when its time has come.
  auto next = nextTier(w);
  if (!next) return false;
  const api::EscalationTier& tier = (*w.spec.escalation->tiers)[*next];
  auto due = tierDue(s, tier);
  if (!due || *due > w.now) return false;
  api::EscalationRecord record;
  record.tier = static_cast<int32_t>(*next);
  record.name = tier.name.value_or("tier-" + std::to_string(*next));
  record.firedAt = now();
  record.state = NotificationState::kPending;
  if (!s.escalations) s.escalations.emplace();
  s.escalations->push_back(record);
  note(w, "EscalationTier", "",
       "tier " + std::to_string(*next) + " (" + *record.name + ") fired after " +
           tier.after.value_or("0s"));
  if (!write(w, result)) return true;
  event(w, "Warning", "Escalated", "escalation tier " + *record.name + " fired");
  *result = ReconcileResult::after(kContinue);
  return true;
}

void IncidentReconciler::deliver(Work& w, api::EscalationRecord& record) {
  std::vector<api::Notification> messages;
  if (record.approvalStep) {
    if (w.spec.approval && w.spec.approval->notify) {
      messages = *w.spec.approval->notify;
    } else if (w.spec.escalation) {
      messages = w.spec.escalation->notify.value_or(std::vector<api::Notification>{});
    }
  } else if (w.spec.escalation) {
    if (record.tier) {
      const auto& tiers = w.spec.escalation->tiers.value_or(std::vector<api::EscalationTier>{});
      if (static_cast<size_t>(*record.tier) < tiers.size()) {
        messages = tiers[*record.tier].notify.value_or(std::vector<api::Notification>{});
      }
    } else {
      messages = w.spec.escalation->notify.value_or(std::vector<api::Notification>{});
    }
  }
  actions::Action* notify = registry_.find("notify");
  std::string label = record.name.value_or("escalation");
  auto finishWith = [&](NotificationState state, const std::string& message) {
    record.state = state;
    record.message = truncateMessage(message, kMaxStepMessage);
    std::string name = api::enumName(state);
    if (record.approvalStep) {
      note(w, "ApprovalRequest" + name, *record.approvalStep, message);
      return;
    }
    note(w, "Escalation" + name, "", label + ": " + message);
    if (options_.metrics) options_.metrics->escalation(name);
  };
  if (messages.empty()) return finishWith(NotificationState::kNotified, "no messages to send");
  if (!notify) {
    return finishWith(NotificationState::kFailed, "no notify action in this build");
  }
  // Drills send nothing unless the operator or the drill asks for it.
  bool dryRun = w.drill() && !options_.deliverDrillNotifications &&
                annotation(w.object, kDrillNotify) != "true";
  std::string summary = "Incident " + kube::namespaceOf(w.object) + "/" + kube::nameOf(w.object) +
                        " (runbook " + w.runbook + ") is " +
                        api::enumName(w.status().phase.value_or(IncidentPhase::kRunning)) +
                        ": escalation " + label;
  if (record.approvalStep) {
    summary = approvalRequestMessage(w, *record.approvalStep);
  }
  std::vector<std::string> sent;
  std::string retriable;
  for (size_t i = 0; i < messages.size(); ++i) {
    json params = api::toJson(messages[i]);
    if (!params.contains("message")) params["message"] = summary;
    auto rendered = renderAction(params, w.incident.templateContext(),
                                 "escalation." + label + ".notify[" + std::to_string(i) + "]");
    if (!rendered.ok()) {
      return finishWith(NotificationState::kFailed, rendered.error());
    }
    actions::ActionContext context =
        followupContext(w, "escalation/" + label + "/" + std::to_string(i));
    context.dryRun = dryRun;
    auto outcome = notify->run(*rendered, context);
    if (outcome.kind == actions::OutcomeKind::kSucceeded) {
      sent.push_back(outcome.message);
    } else if (outcome.kind == actions::OutcomeKind::kPermanentFailure) {
      return finishWith(NotificationState::kFailed, "message " + std::to_string(i + 1) + " of " +
                                                        std::to_string(messages.size()) + ": " +
                                                        outcome.message);
    } else {
      retriable = outcome.message;
    }
  }
  if (!retriable.empty()) {
    auto fired = parseTime(record.firedAt).value_or(w.now);
    if (w.now - fired > kNotifyGiveUp) {
      return finishWith(NotificationState::kFailed,
                        "gave up after " + api::formatDuration(kNotifyGiveUp) + ": " + retriable);
    }
    record.message = truncateMessage("will retry: " + retriable, kMaxStepMessage);
    return;
  }
  std::string joined;
  for (const auto& m : sent) joined += (joined.empty() ? "" : "; ") + m;
  finishWith(NotificationState::kNotified, joined);
}

// ---- the driver ----

std::optional<ReconcileResult> IncidentReconciler::runFollowups(Work& w) {
  ReconcileResult result;
  api::IncidentStatus& s = w.status();
  if (w.resolved() && !s.resolvedAt) {
    s.resolvedAt = w.incident.spec->alert->endsAt.value_or(now());
    note(w, "AlertResolved", "", "the alert resolved");
    if (!write(w, &result)) return result;
  }
  if (runEscalations(w, &result)) return result;
  if (runReverts(w, &result)) return result;
  return std::nullopt;
}

bool IncidentReconciler::followupsPending(Work& w) const {
  for (const auto& st : w.incident.status->steps.value_or(std::vector<api::StepStatus>{})) {
    if (st.revert && st.revert->state == RevertState::kPending) return true;
  }
  for (const auto& r :
       w.incident.status->escalations.value_or(std::vector<api::EscalationRecord>{})) {
    if (r.state == NotificationState::kPending) return true;
  }
  return false;
}

ReconcileResult IncidentReconciler::withFollowupWake(Work& w, ReconcileResult result) const {
  if (!result.error.ok() || result.requeue) return result;
  std::optional<kube::WallTime> wake;
  auto consider = [&](std::optional<kube::WallTime> t) {
    if (t && (!wake || *t < *wake)) wake = t;
  };
  for (const auto& st : w.incident.status->steps.value_or(std::vector<api::StepStatus>{})) {
    if (st.revert && st.revert->state == RevertState::kPending)
      consider(parseTime(st.revert->dueAt));
  }
  if (auto next = nextTier(w))
    consider(tierDue(*w.incident.status, (*w.spec.escalation->tiers)[*next]));
  if (!wake) return result;
  kube::Duration wait = std::max<kube::Duration>(*wake - w.now, std::chrono::milliseconds(1));
  if (result.requeueAfter.count() > 0 && result.requeueAfter <= wait) return result;
  return ReconcileResult::after(wait);
}

}  // namespace remedy::engine
