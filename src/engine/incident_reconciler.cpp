#include "engine/incident_reconciler.h"

#include "engine/incident_work.h"

#include "actions/kubernetes_actions.h"
#include "actions/pod_owner.h"
#include "api/action_catalog.h"
#include "api/duration.h"
#include "api/matcher.h"
#include "api/runbook_validator.h"
#include "api/template.h"
#include "api/trigger_matching.h"
#include "api/typed_values.h"
#include "api/when_expression.h"
#include "engine/approval_gate.h"
#include "engine/conditions.h"
#include "engine/resources.h"
#include "engine/runbook_selector.h"
#include "engine/target_lease.h"
#include "kube/retry.h"
#include "kube/time_format.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace remedy::engine {

using json = nlohmann::json;
using api::IncidentPhase;
using api::StepPhase;
using kube::ReconcileResult;

namespace {

// How long a Runbook named by spec.runbookRef that the cache does not show
// is waited for before the Incident is Skipped (RunbookNotFound): a watch
// event arrives well within it, and an alert for a Runbook being deleted
// costs one short wait. Checked again every kRunbookNotSeenRetry.
constexpr kube::Duration kRunbookNotSeenGrace = std::chrono::seconds(10);
constexpr kube::Duration kRunbookNotSeenRetry = std::chrono::seconds(1);

// Serializes "check the guardrails in memory, then claim" across the
// workers of this process (see the header); held over no API request.
std::mutex& checkpointMutex() {
  static std::mutex mu;
  return mu;
}

// One reservation write at a time per Runbook: the writes of one Runbook's
// status.history would conflict with each other anyway (each changes its
// resourceVersion), so they queue here instead of failing with 409 and
// costing a request each. Workers on other Runbooks are not held.
std::mutex& reservationMutex(const std::string& runbookKey) {
  static std::mutex guard;  // guards mutexes
  static std::map<std::string, std::unique_ptr<std::mutex>> mutexes;
  std::lock_guard<std::mutex> lock(guard);
  auto& slot = mutexes[runbookKey];
  if (!slot) slot = std::make_unique<std::mutex>();
  return *slot;
}

kube::Duration retryBackoff(const api::Step& step, int failedAttempt) {
  api::Duration base = std::chrono::seconds(10);
  api::Duration cap = std::chrono::minutes(5);
  if (step.retries && step.retries->backoff) {
    if (auto d = api::parseDuration(*step.retries->backoff); d.ok()) base = *d;
  }
  if (step.retries && step.retries->maxBackoff) {
    if (auto d = api::parseDuration(*step.retries->maxBackoff); d.ok()) cap = *d;
  }
  api::Duration delay = base;
  for (int i = 1; i < failedAttempt && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

// The step's outputs with an attempt's joined to them (a key the attempt
// gives replaces the recorded one).
actions::Outputs joinedOutputs(const api::StepStatus& st, const actions::Outputs& added) {
  actions::Outputs joined = st.outputs.value_or(actions::Outputs{});
  for (const auto& [k, v] : added) joined[k] = v;
  return joined;
}

// A failed attempt may have had effects before it failed (a
// terminateBackends that terminated two backends, then failed on a third):
// what its outputs say joins the step's outputs, so the status, the
// escalation message and later steps' `when` see what was done, and a retry
// gets it in its baseline.
void keepFailedOutputs(api::StepStatus& st, const actions::ActionOutcome& outcome) {
  if (!outcome.outputs.empty()) st.outputs = joinedOutputs(st, outcome.outputs);
}

// A step that keeps running (in progress, or a request the API server did
// not take) records `message`, and its attempt's outputs join the baseline
// the next call gets. False when neither changed: nothing to write.
bool recordRunning(api::StepStatus& st, const std::string& message, const actions::Outputs& added) {
  actions::Outputs joined = joinedOutputs(st, added);
  if (st.message == message && joined == st.outputs.value_or(actions::Outputs{})) return false;
  st.message = message;
  st.outputs = std::move(joined);
  return true;
}

std::string orderOf(const json& object) {
  return object["metadata"].value("creationTimestamp", "") + "/" + kube::nameOf(object);
}

std::string specificityText(const api::Specificity& s) {
  return "alertName=" + std::to_string(s.alertName) +
         " equalities=" + std::to_string(s.equalities) + " regexes=" + std::to_string(s.regexes) +
         " negations=" + std::to_string(s.negations) +
         " severities=" + std::to_string(s.severities);
}

}  // namespace

json incidentSummary(IncidentReconciler::Work& w) {
  json context = w.incident.templateContext();
  json summary = context["incident"];
  summary["phase"] = w.object.value("status", json::object()).value("phase", "Running");
  summary["runbook"] = w.runbook;
  summary["alert"] = context["alert"];
  // What a step quoting outside text (a pod's log) must redact.
  summary["secretKeyRefs"] = api::secretKeyRefsIn(api::toJson(w.spec));
  return summary;
}

std::vector<TargetRef> incidentTargets(const api::Incident& incident, const api::RunbookSpec& spec,
                                       bool* complete) {
  std::vector<TargetRef> out;
  if (complete) *complete = true;
  json context = incident.templateContext();
  std::string ns =
      incident.metadata && incident.metadata->namespace_ ? *incident.metadata->namespace_ : "";
  for (const auto& step : spec.steps.value_or(std::vector<api::Step>{})) {
    std::string field = actionFieldOf(step);
    if (field.empty()) continue;
    json action = api::toJson(step)[field];
    const char* key = action.is_object() && action.contains("target")     ? "target"
                      : action.is_object() && action.contains("manifest") ? "manifest"
                                                                          : nullptr;
    if (!key) continue;
    auto rendered = renderAction(json{{key, action[key]}}, context, key);
    if (!rendered.ok()) {
      if (complete) *complete = false;
      continue;
    }
    // A pod's workload is a target once resolved (when its step starts).
    json params = *rendered;
    if (incident.status && incident.status->steps) {
      for (const auto& st : *incident.status->steps) {
        if (st.name == step.name) params = withResolvedTarget(params, st);
      }
    }
    if (auto t = actionTarget(params, ns)) {
      out.push_back(*t);
    } else if (complete) {
      *complete = false;
    }
  }
  return out;
}

const json* podTarget(const json& params) {
  if (!params.is_object()) return nullptr;
  auto target = params.find("target");
  if (target == params.end() || !target->is_object() || !target->contains("pod")) return nullptr;
  return &*target;
}

json withResolvedTarget(json params, const api::StepStatus& status) {
  if (!podTarget(params) || !status.target || !status.target->name) return params;
  const api::ResolvedTarget& t = *status.target;
  params["target"] = {{"apiVersion", t.apiVersion.value_or("apps/v1")},
                      {"kind", t.kind.value_or("")},
                      {"namespace", t.namespace_.value_or("")},
                      {"name", *t.name}};
  return params;
}

api::Result<json> renderAction(const json& action, const json& context, const std::string& path) {
  if (action.is_string()) {
    std::string text = action.get<std::string>();
    if (!api::hasTemplate(text)) return action;
    auto rendered = api::renderTemplate(text, context);
    if (!rendered.ok()) return api::Error{path + ": " + rendered.error()};
    return json(*rendered);
  }
  if (action.is_object()) {
    json out = json::object();
    for (auto it = action.begin(); it != action.end(); ++it) {
      auto r = renderAction(it.value(), context, path + "." + it.key());
      if (!r.ok()) return r;
      out[it.key()] = std::move(r.value());
    }
    return out;
  }
  if (action.is_array()) {
    json out = json::array();
    for (size_t i = 0; i < action.size(); ++i) {
      auto r = renderAction(action[i], context, path + "[" + std::to_string(i) + "]");
      if (!r.ok()) return r;
      out.push_back(std::move(r.value()));
    }
    return out;
  }
  return action;
}

IncidentReconciler::IncidentReconciler(kube::Client& client, EngineCaches& caches,
                                       kube::ServiceAccountClients& serviceAccounts,
                                       const actions::ActionRegistry& registry,
                                       const kube::Clock& clock, kube::EventRecorder* events,
                                       IncidentReconcilerOptions options)
    : client_(client),
      caches_(caches),
      serviceAccounts_(serviceAccounts),
      registry_(registry),
      clock_(clock),
      events_(events),
      options_(std::move(options)),
      guardrails_(client),
      leases_(client, options_.pauseNamespace, clock) {}

std::string IncidentReconciler::now() const { return kube::formatRfc3339(clock_.wallNow()); }

ReconcileResult IncidentReconciler::reconcile(const std::string& key) {
  auto [ns, name] = kube::splitObjectKey(key);
  // From the cache (or this process's last write, whichever is newer), never
  // the API server (controller-runtime's client). A stale copy can cost a
  // write, never an effect: every status write carries the resourceVersion
  // read, so the checkpoint before an effect fails with 409 on a stale copy.
  auto got = caches_.incident(ns, name);
  // The workers start once the caches have synced (kube::Controller waits
  // for them); before that, nothing can be judged.
  if (!got.synced) return ReconcileResult{true, kube::Duration(0), kube::Status()};
  // Deleted, or not seen yet: its watch event brings it back to the queue.
  if (!got.object) return ReconcileResult::done();
  // Its last write conflicted and the cache does not show a newer version
  // yet: again after the queue's backoff, not a write bound to conflict
  // (the newer version's event also wakes it).
  if (got.stale) return ReconcileResult{true, kube::Duration(0), kube::Status()};
  auto decoded = api::Incident::fromJson(*got.object);
  if (!decoded.ok()) {
    // The schema admitted something we cannot read: record nothing we are
    // unsure of, and never stop the operator over one object.
    spdlog::error("incident={} unreadable: {}", key, decoded.error());
    return ReconcileResult::done();
  }
  Work w;
  w.key = key;
  w.object = std::move(*got.object);
  w.incident = std::move(decoded.value());
  if (!w.incident.status) w.incident.status.emplace();
  w.now = clock_.wallNow();
  if (w.status().runbook) {
    auto spec = api::fromJson<api::RunbookSpec>(w.status().runbook->spec.value_or(json::object()));
    if (!spec.ok()) {
      if (w.status().phase && api::isFinal(*w.status().phase)) return garbageCollect(w);
      finish(w, IncidentPhase::kFailed, "SnapshotUnreadable", spec.error());
      ReconcileResult result;
      write(w, &result);
      return result;
    }
    w.spec = std::move(spec.value());
    w.runbook = w.status().runbook->name.value_or("");
    // Recorded at the start; the default for Incidents started before it was.
    std::string account =
        w.status().runbook->serviceAccountName.value_or(options_.defaultServiceAccount);
    w.tenant = &serviceAccounts_.serviceAccount(ns, account);
    w.followupTenant = options_.followupServiceAccounts
                           ? &options_.followupServiceAccounts->serviceAccount(ns, account)
                           : w.tenant;
    if (auto done = runFollowups(w)) return *done;
  }
  settleLateApprovals(w);
  ReconcileResult result;
  if (w.status().phase && api::isFinal(*w.status().phase)) {
    result = garbageCollect(w);
  } else if (!w.status().runbook) {
    result = start(w);
  } else {
    result = advance(w);
  }
  return withFollowupWake(w, result);
}

// ---- matching and start ----

ReconcileResult IncidentReconciler::start(Work& w) {
  ReconcileResult result;
  const api::IncidentSpec& spec = w.incident.spec.value_or(api::IncidentSpec{});
  std::string ns = kube::namespaceOf(w.object);
  api::Alert alert = spec.alert.value_or(api::Alert{});
  w.status().observedGeneration = w.object["metadata"].value("generation", int64_t{1});
  if (alert.status == api::AlertStatus::kResolved) {
    finish(w, IncidentPhase::kCancelled, "AlertResolved",
           "the alert resolved before a Runbook started");
    write(w, &result);
    return result;
  }

  std::optional<json> chosen;
  std::string reason;
  if (spec.runbookRef && spec.runbookRef->name) {
    auto runbook = readRunbook(ns, *spec.runbookRef->name);
    if (!runbook.ok()) return ReconcileResult::failed(runbook.status());
    if (!*runbook) {
      // Not in the cache: deleted, or created an instant before the Incident
      // and not seen yet. Taken for absent once the Incident is older than a
      // watch event takes to arrive.
      auto created = parseTime(w.object["metadata"].value("creationTimestamp", std::string()));
      if (created && w.now - *created < kRunbookNotSeenGrace) {
        return ReconcileResult::after(kRunbookNotSeenRetry);
      }
      finish(w, IncidentPhase::kSkipped, "RunbookNotFound",
             "spec.runbookRef names runbook " + *spec.runbookRef->name + ", which does not exist");
      write(w, &result);
      return result;
    }
    auto errors = validateStored(**runbook);
    if (!errors.empty()) {
      finish(w, IncidentPhase::kSkipped, "RunbookInvalid",
             "runbook " + *spec.runbookRef->name + " is invalid: " + api::formatErrors(errors));
      write(w, &result);
      return result;
    }
    chosen = **runbook;
    reason = "spec.runbookRef names runbook " + *spec.runbookRef->name;
  } else {
    auto select = [&](const std::vector<json>& items) {
      return selectRunbook(items, alert.name.value_or(""),
                           alert.labels.value_or(std::map<std::string, std::string>{}));
    };
    auto cached = caches_.runbooksForAlert(ns, alert.name.value_or(""));
    if (!cached) return ReconcileResult::after(GuardrailCheck::kWaitInterval);  // not synced
    RunbookSelection selection = select(*cached);
    if (!selection.runbook) {
      // No match in the cache: confirmed by one LIST before the Incident is
      // skipped, so a Runbook created just before its alert is not missed.
      auto list = kube::listAll(client_, runbooks(), ns);
      if (!list.ok()) return ReconcileResult::failed(list.status());
      selection = select((*list)["items"].get<std::vector<json>>());
    }
    if (!selection.runbook) {
      finish(w, IncidentPhase::kSkipped, "NoMatchingRunbook",
             "no valid Runbook in namespace " + ns + " has a trigger matching alert " +
                 alert.name.value_or("<unnamed>"));
      write(w, &result);
      return result;
    }
    chosen = selection.runbook;
    std::string bestName = kube::nameOf(*chosen);
    std::string others;
    for (const auto& c : selection.candidates) {
      if (c != bestName) others += (others.empty() ? "" : ", ") + c;
    }
    reason = "runbook " + bestName + " has the most specific matching trigger (" +
             specificityText(selection.specificity) + ")" +
             (others.empty() ? "" : "; also matched: " + others + " (less specific or later name)");
  }

  auto runbook = api::Runbook::fromJson(*chosen);
  api::RunbookSpec rbSpec = runbook.ok() && runbook->spec ? *runbook->spec : api::RunbookSpec{};
  std::string runbookName = kube::nameOf(*chosen);

  // Who the actions run as: a ServiceAccount of this namespace that the
  // administrator lets the operator impersonate, never the operator.
  std::string account = rbSpec.serviceAccountName.value_or(options_.defaultServiceAccount);
  const auto& allowed = options_.serviceAccountNames;
  if (std::find(allowed.begin(), allowed.end(), account) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    finish(w, IncidentPhase::kSkipped, "ServiceAccountNotAllowed",
           "runbook " + runbookName + " acts as ServiceAccount " + account +
               ", which the operator may not act as (it may act as: " + list + ")");
    write(w, &result);
    return result;
  }

  // Everything below reads the inputs frozen here, never the live spec.
  w.status().inputs = w.incident.currentInputs();

  // Parameters, in order: each may read the alert and earlier parameters.
  json context = w.incident.templateContext();
  Parameters params = resolveParameters(runbookName, rbSpec, context);
  if (params.failureReason) {
    finish(w, IncidentPhase::kFailed, *params.failureReason, params.failure);
    write(w, &result);
    return result;
  }

  api::IncidentStatus& s = w.status();
  api::ExecutedRunbook executed;
  executed.name = runbookName;
  executed.uid = kube::uidOf(*chosen);
  executed.generation = (*chosen)["metadata"].value("generation", int64_t{1});
  executed.spec = (*chosen)["spec"];
  executed.serviceAccountName = account;
  s.runbook = executed;
  s.parameters = params.values;
  s.phase = IncidentPhase::kRunning;
  s.startedAt = now();
  s.steps.emplace();
  for (const auto& step : rbSpec.steps.value_or(std::vector<api::Step>{})) {
    api::StepStatus st;
    st.name = step.name;
    st.phase = StepPhase::kPending;
    st.attempts = 0;
    s.steps->push_back(st);
  }
  if (!s.steps->empty()) s.currentStep = s.steps->front().name;
  setCondition(s.conditions, "Matched", api::ConditionStatus::kTrue, "RunbookMatched", reason,
               *s.observedGeneration, now());
  note(w, "Matched", "", reason);
  // The match is recorded with what the first step records (its checkpoint
  // before its effect, a wait, an approval gate): one write, not one for
  // the match and one for the step. Alone when the step records nothing
  // this time (a wait already recorded, a read to retry).
  int writes = w.writes;
  ReconcileResult next = ReconcileResult::done();
  // What reconcile sets up for a started Incident, from the snapshot.
  if (auto snapshot = api::fromJson<api::RunbookSpec>(*executed.spec); snapshot.ok()) {
    w.spec = std::move(snapshot.value());
    w.runbook = runbookName;
    w.tenant = &serviceAccounts_.serviceAccount(ns, account);
    w.followupTenant = options_.followupServiceAccounts
                           ? &options_.followupServiceAccounts->serviceAccount(ns, account)
                           : w.tenant;
    next = advance(w);
  }
  if (w.writes == writes && !write(w, &result)) return result;
  if (!w.object.value("status", json::object()).contains("runbook")) return next;  // not recorded
  event(w, "Normal", "Matched", reason);
  spdlog::info("incident={} runbook={} generation={} event=matched reason=\"{}\"", w.key,
               runbookName, *executed.generation, reason);
  return next;
}

// ---- the step machine ----

ReconcileResult IncidentReconciler::advance(Work& w) {
  ReconcileResult result;
  api::IncidentStatus& s = w.status();
  auto& steps = *s.steps;
  bool resolved = w.incident.spec && w.incident.spec->alert &&
                  w.incident.spec->alert->status == api::AlertStatus::kResolved;
  bool anyAttempt = std::any_of(steps.begin(), steps.end(), [](const api::StepStatus& st) {
    return st.attempts.value_or(0) > 0;
  });
  if (resolved && (!anyAttempt || s.phase == IncidentPhase::kAwaitingApproval)) {
    finish(w, IncidentPhase::kCancelled, "AlertResolved",
           anyAttempt ? "the alert resolved while a step awaited approval"
                      : "the alert resolved before any action ran");
    write(w, &result);
    return result;
  }
  size_t index = 0;
  while (index < steps.size() && isFinalStep(steps[index].phase)) ++index;
  if (index == steps.size()) {
    finishIfDone(w);
    write(w, &result);
    return result;
  }
  api::StepStatus& st = steps[index];
  if (st.phase == StepPhase::kRunning) return continueAttempt(w, index);
  if (st.phase == StepPhase::kAwaitingApproval) return awaitApproval(w, index);
  // Pending: a step not started yet, or one waiting for its next attempt.
  // A Runbook with a waitForResolved step expects the resolution and goes on
  // past it (to verify, report, clean up); any other stops at resolution.
  bool expectsResolution = false;
  for (const auto& step : w.spec.steps.value_or(std::vector<api::Step>{})) {
    if (actionFieldOf(step) == "waitForResolved") expectsResolution = true;
  }
  if (resolved && !expectsResolution) {
    // The current step finished; the rest does not run for a resolved alert.
    finish(w, IncidentPhase::kSucceeded, "AlertResolved",
           "the alert resolved; steps from " + st.name.value_or("") + " on were skipped");
    write(w, &result);
    return result;
  }
  if (st.attempts.value_or(0) > 0) {
    auto due = parseTime(st.nextAttemptAt);
    if (due && *due > w.now) return ReconcileResult::after(*due - w.now);
    return startAttempt(w, index);
  }
  return beginStep(w, index);
}

ReconcileResult IncidentReconciler::beginStep(Work& w, size_t index) {
  ReconcileResult result;
  api::StepStatus& st = (*w.status().steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  if (!step) return failStep(w, index, "the step is not in the runbook snapshot");
  if (step->when) {
    auto expression = api::WhenExpression::parse(*step->when);
    if (!expression.ok()) return failStep(w, index, "when: " + expression.error());
    auto value = expression->evaluate(w.incident.templateContext());
    if (!value.ok()) return failStep(w, index, "when: " + value.error());
    api::EvaluatedCondition record;
    record.expression = *step->when;
    record.result = value->value;
    record.values = value->values;
    st.when = record;
    if (!value->value) {
      st.phase = StepPhase::kSkipped;
      st.message = "when \"" + *step->when + "\" is false";
      if (!value->missing.empty()) {
        std::string names;
        for (const std::string& m : value->missing) names += (names.empty() ? "" : ", ") + m;
        *st.message += " (not set: " + names + ")";
      }
      st.finishedAt = now();
      note(w, "StepSkipped", *st.name, *st.message);
      finishIfDone(w);
      write(w, &result);
      return result;
    }
  }
  if (step->approval == api::StepApproval::kRequired) {
    bool approved = false;
    for (const auto& a : w.status().approvals.value_or(std::vector<api::ApprovalRecord>{})) {
      if (a.step == st.name && a.decision == api::ApprovalDecision::kApprove) approved = true;
    }
    if (!approved) {
      st.phase = StepPhase::kAwaitingApproval;
      w.status().phase = IncidentPhase::kAwaitingApproval;
      w.status().currentStep = st.name;
      setCondition(w.status().conditions, "AwaitingApproval", api::ConditionStatus::kTrue,
                   "ApprovalRequired", "step " + *st.name + " needs approval",
                   w.status().observedGeneration.value_or(1), now());
      note(w, "AwaitingApproval", *st.name, "step " + *st.name + " needs approval");
      // The approvers hear of it: recorded with this write, sent by the
      // follow-ups (at least once, as escalation messages are).
      const auto& approvalPolicy = w.spec.approval;
      bool tell =
          (approvalPolicy && approvalPolicy->notify && !approvalPolicy->notify->empty()) ||
          (w.spec.escalation && w.spec.escalation->notify && !w.spec.escalation->notify->empty());
      if (tell) {
        api::EscalationRecord notice;
        notice.approvalStep = *st.name;
        notice.name = ("approval-" + *st.name).substr(0, 63);
        notice.firedAt = now();
        notice.state = api::NotificationState::kPending;
        if (!w.status().escalations) w.status().escalations.emplace();
        w.status().escalations->push_back(notice);
      }
      if (!write(w, &result)) return result;
      event(w, "Normal", "AwaitingApproval", "step " + *st.name + " needs approval");
      return tell ? ReconcileResult::after(std::chrono::milliseconds(1)) : ReconcileResult::done();
    }
  }
  return startAttempt(w, index);
}

ReconcileResult IncidentReconciler::awaitApproval(Work& w, size_t index) {
  ReconcileResult result;
  api::StepStatus& st = (*w.status().steps)[index];
  std::string ns = kube::namespaceOf(w.object);
  std::vector<json> items;
  if (options_.approvalsIn) {
    items = options_.approvalsIn(ns);
  } else {
    auto list = kube::listAll(client_, approvals(), ns);
    if (!list.ok()) return ReconcileResult::failed(list.status());
    items = (*list)["items"].get<std::vector<json>>();
  }
  const api::Condition* waiting = api::findCondition(w.status().conditions, "AwaitingApproval");
  kube::WallTime since = w.now;
  if (waiting) since = parseTime(waiting->lastTransitionTime).value_or(w.now);
  const api::ApprovalPolicy* policy = w.spec.approval ? &*w.spec.approval : nullptr;
  ApprovalWait wait;
  wait.policy = policy;
  wait.incident = kube::nameOf(w.object);
  wait.incidentUid = w.object["metadata"].value("uid", "");
  wait.step = st.name.value_or("");
  wait.waitingSince = since;
  wait.sealer = options_.sealer;
  wait.mayApprove = [&](const std::string& user, const std::vector<std::string>& groups) {
    return mayApprove(ns, w.runbook, user, groups);
  };
  if (options_.sealer && w.incident.source() == api::IncidentSource::kManual) {
    admission::Creator creator;
    if (options_.sealer->verifyCreator(w.object, &creator).valid) {
      wait.creator = creator.user;
    } else {
      const json& annotations = w.object["metadata"].value("annotations", json::object());
      for (const char* key :
           {admission::kCreatedByAnnotation, admission::kCreatedByGroupsAnnotation,
            admission::kCreatorSealAnnotation}) {
        if (annotations.contains(key)) wait.creatorUnverified = true;
      }
    }
  }
  wait.allowSelfApproval = policy && policy->allowSelfApproval.value_or(false);
  auto verdict = ApprovalGate::evaluate(wait, items, w.now);
  recordApprovalDecisions(items, verdict);
  int64_t generation = w.status().observedGeneration.value_or(1);
  switch (verdict.kind) {
    case ApprovalVerdict::Kind::kWaiting:
      return ReconcileResult::after(
          std::min<kube::Duration>(verdict.retryAfter, std::chrono::seconds(30)));
    case ApprovalVerdict::Kind::kApproved: {
      if (!w.status().approvals) w.status().approvals.emplace();
      for (const auto& r : verdict.records) w.status().approvals->push_back(r);
      st.phase = StepPhase::kPending;
      w.status().phase = IncidentPhase::kRunning;
      setCondition(w.status().conditions, "AwaitingApproval", api::ConditionStatus::kFalse,
                   "Approved", verdict.message, generation, now());
      note(w, "Approved", *st.name, verdict.message);
      if (!write(w, &result)) return result;
      event(w, "Normal", "Approved", verdict.message);
      return ReconcileResult::done();
    }
    case ApprovalVerdict::Kind::kRejected: {
      if (!w.status().approvals) w.status().approvals.emplace();
      for (const auto& r : verdict.records) w.status().approvals->push_back(r);
      setCondition(w.status().conditions, "AwaitingApproval", api::ConditionStatus::kFalse,
                   "Rejected", verdict.message, generation, now());
      st.phase = StepPhase::kCancelled;
      st.message = verdict.message;
      finish(w, IncidentPhase::kCancelled, "Rejected", verdict.message);
      write(w, &result);
      return result;
    }
    case ApprovalVerdict::Kind::kTimedOut: {
      setCondition(w.status().conditions, "AwaitingApproval", api::ConditionStatus::kFalse,
                   "TimedOut", verdict.message, generation, now());
      auto onTimeout =
          policy && policy->onTimeout ? *policy->onTimeout : api::ApprovalTimeoutAction::kAbort;
      st.message = verdict.message;
      st.finishedAt = now();
      if (onTimeout == api::ApprovalTimeoutAction::kSkip) {
        st.phase = StepPhase::kSkipped;
        w.status().phase = IncidentPhase::kRunning;
        note(w, "ApprovalTimedOut", *st.name, verdict.message + "; step skipped");
        finishIfDone(w);
      } else if (onTimeout == api::ApprovalTimeoutAction::kEscalate) {
        st.phase = StepPhase::kCancelled;
        finish(w, IncidentPhase::kEscalated, "ApprovalTimedOut", verdict.message);
      } else {
        st.phase = StepPhase::kCancelled;
        finish(w, IncidentPhase::kFailed, "ApprovalTimedOut", verdict.message);
      }
      write(w, &result);
      return result;
    }
  }
  return ReconcileResult::done();
}

void IncidentReconciler::recordApprovalDecisions(const std::vector<json>& approvalObjects,
                                                 const ApprovalVerdict& verdict) {
  // Each Approval learns whether it counted (status written only by Remedy,
  // once per decision).
  auto record = [&](const std::string& name, const std::string& state, const std::string& reason,
                    const std::string& message) {
    for (const auto& object : approvalObjects) {
      if (kube::nameOf(object) != name) continue;
      const json status = object.value("status", json::object());
      if (status.value("state", "") == state && status.value("reason", "") == reason) return;
      json updated = object;
      updated["status"] = {{"state", state},
                           {"reason", reason},
                           {"message", truncateMessage(message, kMaxStepMessage)},
                           {"processedAt", now()},
                           {"observedGeneration", object["metadata"].value("generation", 1)}};
      kube::WriteOptions options;
      options.subresource = "status";
      options.fieldManager = options_.fieldManager;
      auto written = client_.update(approvals(), kube::namespaceOf(object), updated, options);
      if (!written.ok() && !kube::isConflict(written.status())) {
        spdlog::warn("approval={}/{} status not written: {}", kube::namespaceOf(object), name,
                     written.status().toString());
      }
      return;
    }
  };
  for (const auto& r : verdict.records) {
    bool reject = r.decision == api::ApprovalDecision::kReject;
    record(r.name.value_or(""), "Counted", "Counted",
           reject ? "the rejection cancelled the Incident"
                  : "counted toward step " + r.step.value_or("") + "'s approvals");
  }
  for (const auto& r : verdict.accepted) record(r.name, "Accepted", r.reason, r.message);
  for (const auto& r : verdict.refused) record(r.name, "Refused", r.reason, r.message);
}

kube::Result<bool> IncidentReconciler::mayApprove(const std::string& ns, const std::string& runbook,
                                                  const std::string& user,
                                                  const std::vector<std::string>& groups) {
  std::string key = ns + "\n" + runbook + "\n" + user;
  for (const auto& g : groups) key += "\n" + g;
  kube::WallTime at = clock_.wallNow();
  {
    std::lock_guard<std::mutex> lock(approveChecksMu_);
    auto it = approveChecks_.find(key);
    if (it != approveChecks_.end() && at - it->second.second < std::chrono::seconds(10)) {
      return it->second.first;
    }
  }
  // As kube-apiserver's certificates/approval admission asks for a signer's
  // `approve`: the user and groups the webhook sealed, the Runbook by name.
  static const kube::Resource kSubjectAccessReviews{
      "authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false};
  json review = {{"apiVersion", "authorization.k8s.io/v1"},
                 {"kind", "SubjectAccessReview"},
                 {"spec",
                  {{"user", user},
                   {"groups", groups},
                   {"resourceAttributes",
                    {{"namespace", ns},
                     {"verb", "approve"},
                     {"group", "remedy.dev"},
                     {"resource", "runbooks"},
                     {"name", runbook}}}}}};
  auto answered = client_.create(kSubjectAccessReviews, "", review);
  if (!answered.ok()) return answered.status();
  bool allowed = (*answered)["status"].value("allowed", false);
  std::lock_guard<std::mutex> lock(approveChecksMu_);
  if (approveChecks_.size() >= 1024) approveChecks_.clear();
  approveChecks_[key] = {allowed, at};
  return allowed;
}

void IncidentReconciler::settleLateApprovals(Work& w) {
  bool final = w.status().phase && api::isFinal(*w.status().phase);
  if (!final && !w.status().steps) return;
  std::string ns = kube::namespaceOf(w.object);
  std::string name = kube::nameOf(w.object);
  // Which steps no longer wait (a step waiting or not yet reached may still
  // count an Approval).
  auto stopped = [&](const std::string& step) -> std::optional<std::string> {
    if (final) {
      return "Incident " + name + " had finished (" +
             std::string(api::enumName(*w.status().phase)) + ")";
    }
    if (step.empty()) return std::nullopt;
    for (const auto& st : w.status().steps.value_or(std::vector<api::StepStatus>{})) {
      if (st.name != step) continue;
      auto phase = st.phase.value_or(api::StepPhase::kPending);
      if (phase == api::StepPhase::kPending || phase == api::StepPhase::kAwaitingApproval) {
        return std::nullopt;
      }
      return "step " + step + " had stopped waiting for approval (" +
             std::string(api::enumName(phase)) + ")";
    }
    return std::nullopt;
  };
  std::vector<json> items;
  if (options_.approvalsIn) {
    items = options_.approvalsIn(ns);
  } else {
    auto list = kube::listAll(client_, approvals(), ns);
    if (!list.ok()) return;  // the next reconcile tries again
    items = (*list)["items"].get<std::vector<json>>();
  }
  ApprovalVerdict late;
  for (const auto& object : items) {
    const json& spec = object.value("spec", json::object());
    const json& ref = spec.value("incidentRef", json::object());
    if (ref.value("name", "") != name) continue;
    if (!object.value("status", json::object()).value("state", "").empty()) continue;
    auto why = stopped(spec.value("step", ""));
    if (!why) continue;
    std::string approval = kube::nameOf(object);
    if (!options_.sealer || !options_.sealer->verifyApproval(object).valid) {
      late.refused.push_back({approval, kRefusedUnverified,
                              "the Approval did not pass Remedy's admission webhook, so who "
                              "approved is not known"});
    } else if (ref.value("uid", "") != kube::uidOf(w.object)) {
      late.refused.push_back(
          {approval, kRefusedStepNotWaiting, "names an earlier Incident of the name " + name});
    } else {
      late.refused.push_back({approval, kRefusedTooLate, "arrived after " + *why});
    }
  }
  if (!late.refused.empty()) recordApprovalDecisions(items, late);
}

ReconcileResult IncidentReconciler::startAttempt(Work& w, size_t index) {
  ReconcileResult result;
  api::IncidentStatus& s = w.status();
  api::StepStatus& st = (*s.steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  if (!step) return failStep(w, index, "the step is not in the runbook snapshot");
  std::string field = actionFieldOf(*step);
  actions::Action* action = registry_.find(field);
  if (!action) return failStep(w, index, "no action implements \"" + field + "\" in this build");
  json stepJson = api::toJson(*step);
  std::string stepPath = "steps." + *st.name + "." + field;
  auto params = renderAction(stepJson[field], w.incident.templateContext(), stepPath);
  if (!params.ok()) return failStep(w, index, params.error());
  // Before anything is read for the step (prepare reads its targets).
  if (auto refused =
          applyStepCheck(w, index, checkStep(w, field, stepJson[field], *params, stepPath))) {
    return *refused;
  }
  if (podTarget(*params)) {
    if (auto done = resolveStepTarget(w, index, *params, stepPath)) return *done;
    params = withResolvedTarget(*params, st);
    // The workload, as if the step had named it.
    if (auto refused =
            applyStepCheck(w, index, checkStep(w, field, stepJson[field], *params, stepPath))) {
      return *refused;
    }
  }

  std::string ns = kube::namespaceOf(w.object);
  std::string uid = kube::uidOf(w.object);
  int attempt = st.attempts.value_or(0) + 1;
  const api::Guardrails* g = w.spec.guardrails ? &*w.spec.guardrails : nullptr;
  actions::ActionContext context;
  context.client = w.tenant;
  context.stepKey = uid + "/" + *st.name;
  context.idempotencyKey = context.stepKey + "/" + std::to_string(attempt);
  context.dryRun =
      options_.dryRun || w.drill() || w.incident.dryRun() || (g && g->dryRun.value_or(false));
  context.now = w.now;
  context.deadline = w.now + step->effectiveTimeout();
  context.firstStartedAt = st.startedAt.value_or(now());
  context.defaultNamespace = ns;
  context.owner = {{"apiVersion", w.object.value("apiVersion", "")},
                   {"kind", w.object.value("kind", "")},
                   {"metadata", {{"name", kube::nameOf(w.object)}, {"uid", uid}}}};
  context.incident = incidentSummary(w);

  GuardrailRequest request;
  request.incident = kube::nameOf(w.object);
  request.order = orderOf(w.object);
  request.runbook = w.runbook;
  request.guardrails = g;
  // The Runbook's history as of now; the reservation below is conditional on
  // this very version, so two Incidents cannot both pass on it.
  std::optional<json> runbookObject;
  // A read the guardrails need that failed: the step waits, never passes.
  std::optional<GuardrailVerdict> unread;
  if (auto rb = readRunbook(ns, w.runbook); rb.ok()) {
    runbookObject = *rb;
    if (runbookObject && runbookObject->contains("status")) {
      if (auto rs = api::fromJson<api::RunbookStatus>((*runbookObject)["status"]); rs.ok()) {
        request.runbookStatus = *rs;
      }
    }
  } else {
    // Fail closed: cooldown and maxExecutions cannot be judged unread.
    spdlog::warn("incident={} runbook={} unreadable, holding the step: {}", w.key, w.runbook,
                 rb.status().toString());
    unread = GuardrailVerdict{GuardrailVerdict::Kind::kWait, "runbookHistory",
                              "cannot read runbook " + w.runbook +
                                  " to judge cooldown and maxExecutions: " + rb.status().toString(),
                              GuardrailCheck::kWaitInterval};
  }
  request.firstAction = std::none_of(s.steps->begin(), s.steps->end(),
                                     [](const auto& x) { return x.attempts.value_or(0) > 0; });
  request.paused = paused();
  if (const api::Condition* waiting = api::findCondition(s.conditions, "Waiting")) {
    request.waitedForTarget = waiting->reason == std::string("oneRemediationPerTarget");
  }
  request.actionField = field;
  request.params = *params;
  if (auto t = actionTarget(*params, ns)) request.stepTargets.push_back(*t);
  for (const auto& t : incidentTargets(w.incident, w.spec)) request.incidentTargets.insert(t.key());
  for (const auto& t : request.stepTargets) request.incidentTargets.insert(t.key());
  if (auto others =
          caches_.incidentViews(ns, request.incident, w.runbook, request.incidentTargets)) {
    request.others = std::move(*others);
    // The Runbook's reservations the index leaves out (finished Incidents):
    // maxConcurrent must see them finished, not unknown.
    if (request.runbookStatus && request.runbookStatus->history) {
      std::set<std::string> known;
      for (const auto& o : request.others) known.insert(o.name);
      for (const auto& e : *request.runbookStatus->history) {
        if (!e.incident || *e.incident == request.incident || known.count(*e.incident)) continue;
        if (auto view = caches_.incidentView(ns, *e.incident)) {
          known.insert(view->name);
          request.others.push_back(std::move(*view));
        }
      }
    }
  } else if (!unread) {
    spdlog::warn("incident={} incident cache of {} not synced, holding the step", w.key, ns);
    unread = GuardrailVerdict{GuardrailVerdict::Kind::kWait, "incidents",
                              "cannot read the incidents of namespace " + ns +
                                  " to judge oneRemediationPerTarget, maxConcurrent and "
                                  "cooldown: the incident cache has not synced",
                              GuardrailCheck::kWaitInterval};
  }
  // The fresh read of each target (the protected label) is the tenant's:
  // the one read of the target just before the effect, made before the
  // mutex is taken.
  request.targetClient = w.tenant;
  request.now = w.now;
  request.startedAt = parseTime(s.startedAt).value_or(w.now);
  // What can be judged before anything is read: a step bound to wait
  // (an Incident ahead of it on its target, the pause, cooldown) reads
  // nothing this time.
  GuardrailVerdict verdict = unread.value_or(GuardrailVerdict{});
  if (verdict.allowed()) verdict = guardrails_.checkBeforeReads(request);
  if (verdict.allowed()) {
    // The baseline is read once, before the first attempt, and kept on
    // status (in the step's outputs until the step succeeds) for every
    // later attempt.
    if (attempt == 1 || !st.outputs) {
      auto prepared = action->prepare(*params, context);
      if (prepared.kind == actions::OutcomeKind::kPermanentFailure) {
        return failStep(w, index, prepared.message);
      }
      if (prepared.kind != actions::OutcomeKind::kSucceeded) {
        spdlog::warn("incident={} step={} prepare: {}", w.key, *st.name, prepared.message);
        return ReconcileResult::after(GuardrailCheck::kWaitInterval);
      }
      context.baseline = prepared.outputs;
    } else {
      context.baseline = *st.outputs;
    }
    request.baseline = context.baseline;
    verdict = guardrails_.readTargets(request, &w.targetUids);
  }
  std::string self = kube::objectKey(w.object);
  if (verdict.allowed()) {
    std::lock_guard<std::mutex> lock(checkpointMutex());
    verdict = guardrails_.checkInMemory(request);
    if (verdict.allowed()) {
      // Held from here until the checkpoint is written (or fails).
      IncidentView claim;
      claim.name = request.incident;
      claim.order = request.order;
      claim.runbook = w.runbook;
      claim.phase = IncidentPhase::kRunning;
      claim.executed = true;
      claim.startedAt = w.now;
      claim.targets = request.incidentTargets;
      caches_.claim(self, std::move(claim));
    }
  }
  // Exact whatever the caches say: the Leases of the targets, before the
  // first effect. Drills change nothing and hold nothing.
  if (verdict.allowed() && request.firstAction && !w.drill()) {
    if (auto held = holdTargets(w, request.incidentTargets)) {
      caches_.dropClaim(self);
      verdict = *held;
    }
  }
  int64_t generation = s.observedGeneration.value_or(1);
  if (verdict.kind != GuardrailVerdict::Kind::kAllow && options_.metrics) {
    options_.metrics->guardrailRefusal(verdict.guardrail);
  }
  switch (verdict.kind) {
    case GuardrailVerdict::Kind::kAllow:
      break;
    case GuardrailVerdict::Kind::kWait: {
      // Recorded once per reason, not once per poll.
      bool changed = setCondition(s.conditions, "Waiting", api::ConditionStatus::kTrue,
                                  verdict.guardrail, verdict.message, generation, now());
      if (changed) {
        note(w, "Waiting", *st.name, verdict.guardrail + ": " + verdict.message);
        if (!write(w, &result)) return result;
        event(w, "Normal", "Waiting", verdict.message);
      }
      return ReconcileResult::after(verdict.retryAfter);
    }
    case GuardrailVerdict::Kind::kSkipIncident:
      setCondition(s.conditions, "GuardrailRefused", api::ConditionStatus::kTrue, verdict.guardrail,
                   verdict.message, generation, now());
      finish(w, IncidentPhase::kSkipped, "GuardrailRefused",
             verdict.guardrail + ": " + verdict.message);
      if (write(w, &result)) {
        event(w, "Warning", "GuardrailRefused",
              *st.name + ": " + verdict.guardrail + ": " + verdict.message);
      }
      return result;
    case GuardrailVerdict::Kind::kRefuseStep:
      setCondition(s.conditions, "GuardrailRefused", api::ConditionStatus::kTrue, verdict.guardrail,
                   verdict.message, generation, now());
      event(w, "Warning", "GuardrailRefused",
            *st.name + ": " + verdict.guardrail + ": " + verdict.message);
      // The owner of the object learns that Remedy left it alone, and why.
      for (const auto& t : request.stepTargets) {
        targetEvent(w, t, "Warning", "RemedyGuardrailRefused", *st.name,
                    "refused by guardrail " + verdict.guardrail + ": " + verdict.message);
      }
      return failStep(w, index,
                      "refused by guardrail " + verdict.guardrail + ": " + verdict.message);
  }

  // The reservation (Runbook status.history), then the checkpoint: both
  // recorded before the first effect. Drills count for nothing.
  // Held from here; let go again if the reservation or the checkpoint fails.
  // A conflict (another reservation on the Runbook's history, a newer
  // Incident) is retried at once: the Leases stay held for that retry, and
  // are let go when the Incident ends if it never acts.
  auto letGo = [&] {
    caches_.dropClaim(self);
    if (!request.firstAction || w.drill()) return;
    if (result.requeue && result.error.ok()) return;
    for (const auto& t : request.incidentTargets) leases_.release(t, leaseHolder(w));
  };
  if (request.firstAction && !w.drill() && runbookObject &&
      !reserveExecution(w, *runbookObject, &result)) {
    letGo();
    return result;
  }
  // The checkpoint: the step is recorded as started before its effect.
  removeCondition(s.conditions, "Waiting");
  st.phase = StepPhase::kRunning;
  st.attempts = attempt;
  if (!st.startedAt) st.startedAt = context.firstStartedAt;
  if (attempt == 1) st.nextAttemptAt.reset();
  st.dryRun = context.dryRun;
  st.outputs = context.baseline;
  s.phase = IncidentPhase::kRunning;
  s.currentStep = st.name;
  std::string started =
      field + " attempt " + std::to_string(attempt) + (context.dryRun ? " (dry run)" : "");
  note(w, "StepStarted", *st.name, started);
  if (!write(w, &result)) {
    letGo();
    return result;
  }
  event(w, "Normal", "StepStarted", *st.name + ": " + started);

  // Checkpointed: a fenced attempt is run again, as it is, by the next leader.
  if (fenced(w, *st.name, "run")) return ReconcileResult::after(kFencedRetry);
  kube::WallTime attemptStart = w.now;
  auto outcome = action->run(*params, context);
  return applyOutcome(w, index, outcome, attemptStart);
}

ReconcileResult IncidentReconciler::continueAttempt(Work& w, size_t index) {
  api::StepStatus& st = (*w.status().steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  if (!step) return failStep(w, index, "the step is not in the runbook snapshot");
  std::string field = actionFieldOf(*step);
  actions::Action* action = registry_.find(field);
  if (!action) return failStep(w, index, "no action implements \"" + field + "\" in this build");
  // The attempt began when it fell due (retries) or when the step started.
  kube::WallTime attemptStart =
      parseTime(st.nextAttemptAt).value_or(parseTime(st.startedAt).value_or(w.now));
  kube::WallTime deadline = attemptStart + step->effectiveTimeout();
  if (w.now >= deadline) {
    return applyOutcome(w, index,
                        actions::ActionOutcome::retriable(
                            "attempt " + std::to_string(st.attempts.value_or(1)) +
                            " timed out after " + api::formatDuration(step->effectiveTimeout())),
                        attemptStart);
  }
  json stepJson = api::toJson(*step);
  std::string stepPath = "steps." + *st.name + "." + field;
  auto params = renderAction(stepJson[field], w.incident.templateContext(), stepPath);
  if (!params.ok()) return failStep(w, index, params.error());
  params = withResolvedTarget(*params, st);
  if (podTarget(*params)) {
    return failStep(w, index, stepPath + ".target: the pod's owner was not recorded");
  }
  // A RunbookPolicy revoked since the attempt began holds from now on.
  if (auto refused =
          applyStepCheck(w, index, checkStep(w, field, stepJson[field], *params, stepPath))) {
    return *refused;
  }
  actions::ActionContext context;
  context.client = w.tenant;
  std::string uid = kube::uidOf(w.object);
  context.stepKey = uid + "/" + *st.name;
  context.idempotencyKey = context.stepKey + "/" + std::to_string(st.attempts.value_or(1));
  context.dryRun = st.dryRun.value_or(false);
  context.now = w.now;
  context.deadline = deadline;
  context.firstStartedAt = st.startedAt.value_or(now());
  context.defaultNamespace = kube::namespaceOf(w.object);
  context.owner = {{"apiVersion", w.object.value("apiVersion", "")},
                   {"kind", w.object.value("kind", "")},
                   {"metadata", {{"name", kube::nameOf(w.object)}, {"uid", uid}}}};
  context.incident = incidentSummary(w);
  context.baseline = st.outputs.value_or(actions::Outputs{});
  if (fenced(w, *st.name, "run")) return ReconcileResult::after(kFencedRetry);
  auto outcome = action->run(*params, context);
  return applyOutcome(w, index, outcome, attemptStart);
}

ReconcileResult IncidentReconciler::applyOutcome(Work& w, size_t index,
                                                 const actions::ActionOutcome& outcome,
                                                 kube::WallTime attemptStart) {
  ReconcileResult result;
  api::StepStatus& st = (*w.status().steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  std::string message = truncateMessage(outcome.message, kMaxStepMessage);
  auto elapsed = clock_.wallNow() - attemptStart;
  switch (outcome.kind) {
    case actions::OutcomeKind::kSucceeded:
      st.phase = StepPhase::kSucceeded;
      st.outputs = outcome.outputs;
      st.message = message;
      st.finishedAt = now();
      note(w, "StepSucceeded", *st.name, message);
      logStep(w, index, "Succeeded", elapsed);
      scheduleRevert(w, index, outcome);
      finishIfDone(w);
      if (!write(w, &result)) return result;
      event(w, "Normal", "StepSucceeded", *st.name + ": " + message);
      return ReconcileResult::done();
    case actions::OutcomeKind::kInProgress: {
      kube::WallTime deadline = attemptStart + step->effectiveTimeout();
      kube::Duration wait = std::min<kube::Duration>(outcome.retryAfter, deadline - w.now);
      if (wait < std::chrono::milliseconds(1)) wait = std::chrono::milliseconds(1);
      if (recordRunning(st, message, outcome.outputs) && !write(w, &result)) return result;
      return ReconcileResult::after(wait);
    }
    case actions::OutcomeKind::kRetriableFailure: {
      if (outcome.transient) {
        // The API server did not take a request: the same attempt runs
        // again, rate limited by the work queue as a failed reconcile is,
        // until its timeout (continueAttempt). Recorded as progress is, once
        // per message, not once per try.
        std::string waiting = truncateMessage(
            "the API server did not take the request, trying again: " + outcome.message,
            kMaxStepMessage);
        if (recordRunning(st, waiting, outcome.outputs) && !write(w, &result)) return result;
        spdlog::warn("incident={} step={} attempt={} outcome=Transient: {}", w.key, *st.name,
                     st.attempts.value_or(1), outcome.message);
        result.requeue = true;
        return result;
      }
      keepFailedOutputs(st, outcome);
      int attempts = st.attempts.value_or(1);
      int limit = step && step->retries && step->retries->limit ? *step->retries->limit : 0;
      if (attempts <= limit) {
        kube::Duration backoff = retryBackoff(*step, attempts);
        st.phase = StepPhase::kPending;
        st.message = message;
        st.nextAttemptAt = kube::formatRfc3339(w.now + backoff);
        note(w, "StepRetry", *st.name,
             "attempt " + std::to_string(attempts) + " failed: " + message + "; next at " +
                 *st.nextAttemptAt);
        logStep(w, index, "RetriableFailure", elapsed);
        if (!write(w, &result)) return result;
        event(w, "Warning", "StepRetry",
              *st.name + ": attempt " + std::to_string(attempts) + " failed: " + message);
        return ReconcileResult::after(backoff);
      }
      logStep(w, index, "Failed", elapsed);
      return failStep(w, index, message);
    }
    case actions::OutcomeKind::kPermanentFailure:
      keepFailedOutputs(st, outcome);
      logStep(w, index, "Failed", elapsed);
      return failStep(w, index, message);
  }
  return ReconcileResult::done();
}

void IncidentReconciler::scheduleRevert(Work& w, size_t index,
                                        const actions::ActionOutcome& outcome) {
  api::StepStatus& st = (*w.status().steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  if (!step || !step->revert || st.dryRun.value_or(false)) return;
  if (outcome.changedTo.is_null()) {
    note(w, "RevertNotNeeded", *st.name, "the step changed nothing, so there is nothing to revert");
    return;
  }
  api::RevertStatus r;
  r.state = api::RevertState::kPending;
  r.before = outcome.changedFrom;
  r.after = outcome.changedTo;
  std::string when;
  if (step->revert->after) {
    if (auto after = api::parseDuration(*step->revert->after); after.ok()) {
      // Counted from the step's recorded finish, so dueAt - finishedAt is
      // exactly the Runbook's revert.after on every API server.
      r.dueAt = kube::formatRfc3339(parseTime(st.finishedAt).value_or(w.now) + *after);
      when = "at " + *r.dueAt;
    }
  }
  if (step->revert->onResolved.value_or(false)) {
    r.onResolved = true;
    when += std::string(when.empty() ? "" : " or ") + "when the alert resolves";
  }
  st.revert = r;
  note(w, "RevertScheduled", *st.name, "the change will be reverted " + when);
}

ReconcileResult IncidentReconciler::failStep(Work& w, size_t index, const std::string& message) {
  ReconcileResult result;
  api::StepStatus& st = (*w.status().steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  st.phase = StepPhase::kFailed;
  st.message = truncateMessage(message, kMaxStepMessage);
  st.finishedAt = now();
  note(w, "StepFailed", st.name.value_or(""), message);
  event(w, "Warning", "StepFailed", st.name.value_or("") + ": " + message);
  auto onFailure = step && step->onFailure ? *step->onFailure : api::OnFailure::kAbort;
  if (onFailure == api::OnFailure::kAbort) {
    finish(w, IncidentPhase::kFailed, "StepFailed", "step " + *st.name + " failed: " + message);
  } else if (onFailure == api::OnFailure::kEscalate) {
    finish(w, IncidentPhase::kEscalated, "StepFailed",
           "step " + *st.name + " failed and escalates: " + message);
  } else {
    finishIfDone(w);
  }
  write(w, &result);
  return result;
}

// ---- the end ----

void IncidentReconciler::finishIfDone(Work& w) {
  auto& steps = *w.status().steps;
  if (!std::all_of(steps.begin(), steps.end(),
                   [](const api::StepStatus& st) { return isFinalStep(st.phase); })) {
    return;
  }
  int failed = static_cast<int>(std::count_if(
      steps.begin(), steps.end(), [](const auto& st) { return st.phase == StepPhase::kFailed; }));
  finish(w, IncidentPhase::kSucceeded, failed ? "CompletedWithFailures" : "Completed",
         failed ? std::to_string(failed) + " step(s) failed with onFailure Continue"
                : "every step completed");
}

void IncidentReconciler::finish(Work& w, IncidentPhase phase, const std::string& reason,
                                const std::string& message) {
  api::IncidentStatus& s = w.status();
  if (s.steps) {
    for (auto& st : *s.steps) {
      if (!isFinalStep(st.phase)) {
        st.phase = st.phase == StepPhase::kRunning ? StepPhase::kCancelled : StepPhase::kSkipped;
        if (!st.message) st.message = "not run: " + message;
      }
    }
  }
  s.phase = phase;
  s.finishedAt = now();
  s.currentStep.reset();
  removeCondition(s.conditions, "Waiting");
  bool notice = (phase == IncidentPhase::kEscalated || phase == IncidentPhase::kFailed) &&
                w.spec.escalation && w.spec.escalation->notify &&
                !w.spec.escalation->notify->empty();
  if (notice) {
    // Sent by the follow-ups (incident_followups.cpp) after this is recorded.
    if (!s.escalations) s.escalations.emplace();
    api::EscalationRecord record;
    record.name = "escalation.notify";
    record.firedAt = now();
    record.state = api::NotificationState::kPending;
    s.escalations->push_back(record);
  }
  if (options_.metrics) options_.metrics->incidentFinished(api::enumName(phase));
  setCondition(s.conditions, "Completed", api::ConditionStatus::kTrue, reason, message,
               s.observedGeneration.value_or(1), now());
  note(w, api::enumName(phase), "", reason + ": " + message);
  bool executed = s.steps && std::any_of(s.steps->begin(), s.steps->end(), [](const auto& st) {
                    return st.attempts.value_or(0) > 0;
                  });
  // Statistics first: if we crash before the Incident's write, the next
  // reconcile records them again, and recordRunbookExecution is idempotent.
  // Drills never count toward cooldowns or maxExecutions.
  if (executed && !w.drill()) recordRunbookExecution(w);
  bool success = phase == IncidentPhase::kSucceeded;
  event(w, success ? "Normal" : "Warning", api::enumName(phase), truncateMessage(message, 1024));
  spdlog::info("incident={} runbook={} phase={} reason={} message=\"{}\"", w.key, w.runbook,
               api::enumName(phase), reason, message);
}

ReconcileResult IncidentReconciler::garbageCollect(Work& w) {
  auto finished = parseTime(w.status().finishedAt);
  if (!finished) return ReconcileResult::done();
  // A pending revert or message keeps the Incident: it holds what to restore.
  if (followupsPending(w)) return ReconcileResult::done();
  auto due = *finished + options_.retention;
  if (w.now < due) return ReconcileResult::after(due - w.now);
  kube::DeleteOptions options;
  options.propagationPolicy = "Background";
  options.preconditionUid = kube::uidOf(w.object);
  auto removed =
      client_.remove(incidents(), kube::namespaceOf(w.object), kube::nameOf(w.object), options);
  if (!removed.ok() && !kube::isNotFound(removed.status()) && !kube::isConflict(removed.status())) {
    return ReconcileResult::failed(removed.status());
  }
  spdlog::info("incident={} event=garbage-collected", w.key);
  return ReconcileResult::done();
}

// ---- records and reads ----

bool IncidentReconciler::write(Work& w, ReconcileResult* result) {
  json object = w.object;
  object["status"] = api::toJson(*w.incident.status);
  auto finalPhase = [](const json& o) {
    auto phase = api::parseEnum<IncidentPhase>(
        o.value("status", json::object()).value("phase", std::string()));
    return phase && api::isFinal(*phase);
  };
  bool ends = finalPhase(object) && !finalPhase(w.object);
  if (w.object.contains("status") && w.object["status"] == object["status"]) {
    // Never an unchanged status: the write would cost a request and wake
    // every watcher for nothing.
    *result = ReconcileResult::done();
    return true;
  }
  ++w.writes;
  kube::WriteOptions options;
  options.subresource = "status";
  options.fieldManager = options_.fieldManager;
  auto updated = client_.update(incidents(), kube::namespaceOf(w.object), object, options);
  if (!updated.ok()) {
    if (kube::isConflict(updated.status())) {
      // Someone else wrote first: start over from their version once the
      // cache shows it (reconcile requeues until then).
      caches_.conflicted(incidents(), object);
      *result = ReconcileResult{true, kube::Duration(0), kube::Status()};
    } else if (kube::isNotFound(updated.status())) {
      *result = ReconcileResult::done();
    } else {
      *result = ReconcileResult::failed(updated.status());
    }
    spdlog::warn("incident={} status write failed: {}", w.key, updated.status().toString());
    return false;
  }
  w.object = std::move(updated.value());
  caches_.assumeIncident(w.object);
  bool acted =
      w.status().steps && std::any_of(w.status().steps->begin(), w.status().steps->end(),
                                      [](const auto& st) { return st.attempts.value_or(0) > 0; });
  // Its targets are free once the end is recorded; a release that fails is
  // taken over by the next Incident (the holder has ended).
  if (ends && !w.drill()) releaseTargets(w, acted);
  *result = ReconcileResult::done();
  return true;
}

std::string IncidentReconciler::leaseHolder(const Work& w) const {
  return kube::objectKey(w.object) + "/" + kube::uidOf(w.object);
}

std::optional<GuardrailVerdict> IncidentReconciler::holdTargets(
    Work& w, const std::set<std::string>& targets) {
  // Whether the Incident holding a Lease has not ended: one fresh read, the
  // only GET of an Incident in the engine. The cache cannot answer it: an
  // Incident it does not show may exist (created an instant ago, its Lease
  // taken by an earlier leader), and taking its Lease over then would let
  // two Incidents act on one target.
  auto holderActive = [this](const std::string& holder) -> kube::Result<bool> {
    auto slash = holder.rfind('/');
    if (slash == std::string::npos) return false;
    auto [ns, name] = kube::splitObjectKey(holder.substr(0, slash));
    auto got = client_.get(incidents(), ns, name);
    if (!got.ok()) {
      if (kube::isNotFound(got.status())) return false;
      return got.status();
    }
    if (kube::uidOf(*got) != holder.substr(slash + 1)) return false;
    auto phase = api::parseEnum<IncidentPhase>(
        got->value("status", json::object()).value("phase", std::string()));
    return !(phase && api::isFinal(*phase));
  };
  std::string holder = leaseHolder(w);
  std::vector<std::string> held;
  for (const auto& target : targets) {
    auto outcome = leases_.acquire(target, holder, holderActive);
    if (outcome.kind == TargetLeases::Outcome::Kind::kHeld) {
      held.push_back(target);
      continue;
    }
    // All or none: a partial hold could deadlock with another Incident
    // holding the rest.
    for (const auto& t : held) leases_.release(t, holder);
    if (outcome.kind == TargetLeases::Outcome::Kind::kHeldByOther) {
      std::string other = outcome.holder.substr(0, outcome.holder.rfind('/'));
      return GuardrailVerdict{
          GuardrailVerdict::Kind::kWait, "oneRemediationPerTarget",
          target + " is being remediated by incident " + kube::splitObjectKey(other).second,
          GuardrailCheck::kWaitInterval};
    }
    if (outcome.kind == TargetLeases::Outcome::Kind::kNoNamespace) {
      // A misconfigured operator, not a crash: every first action waits,
      // saying why, until the namespace exists.
      spdlog::warn(
          "incident={} namespace {} of the targets' Leases does not exist, holding the "
          "step",
          w.key, options_.pauseNamespace);
      return GuardrailVerdict{GuardrailVerdict::Kind::kWait, "oneRemediationPerTarget",
                              "cannot hold the lease of " + target + ": namespace " +
                                  options_.pauseNamespace +
                                  ", where the operator holds the targets' Leases (its own, "
                                  "the pause switch's), does not exist",
                              GuardrailCheck::kWaitInterval};
    }
    spdlog::warn("incident={} lease of {} unreadable, holding the step: {}", w.key, target,
                 outcome.status.toString());
    return GuardrailVerdict{GuardrailVerdict::Kind::kWait, "oneRemediationPerTarget",
                            "cannot hold the lease of " + target + " in namespace " +
                                options_.pauseNamespace + ": " + outcome.status.toString(),
                            GuardrailCheck::kWaitInterval};
  }
  return std::nullopt;
}

void IncidentReconciler::releaseTargets(Work& w, bool acted) {
  std::string holder = leaseHolder(w);
  for (const auto& t : incidentTargets(w.incident, w.spec)) {
    // One that acted held them (perhaps before a restart); one that did
    // not holds only what this process took for a retry it never made.
    if (acted || leases_.holds(t.key(), holder)) leases_.release(t.key(), holder);
  }
}

kube::Result<std::optional<json>> IncidentReconciler::readRunbook(const std::string& ns,
                                                                  const std::string& name) {
  // The Incident workers start after the Runbook informers have synced;
  // before that nothing can be judged (fail closed).
  if (!caches_.runbooksSynced()) {
    return kube::Status::error(503, kube::reason::kServiceUnavailable,
                               "the Runbook cache has not synced yet");
  }
  return caches_.runbook(ns, name);
}

bool IncidentReconciler::fenced(Work& w, const std::string& step, const std::string& what) {
  if (!options_.mayAct || options_.mayAct()) return false;
  spdlog::warn(
      "incident={} step={} event=fenced effect={}: leadership not renewed within the renew "
      "deadline less the margin; not issuing it",
      w.key, step, what);
  if (options_.metrics) options_.metrics->effectFenced(what);
  return true;
}

bool IncidentReconciler::paused() {
  auto paused = caches_.paused();
  if (!paused) {
    // Fail closed: a pause that cannot be read may be on.
    spdlog::warn("pause configmap {}/{} not cached yet, holding steps", options_.pauseNamespace,
                 options_.pauseName);
    return true;
  }
  return *paused;
}

void IncidentReconciler::recordRunbookExecution(Work& w) {
  std::string ns = kube::namespaceOf(w.object);
  std::string incident = kube::nameOf(w.object);
  std::string result = api::enumName(*w.status().phase);
  kube::Status s = kube::retryOnConflict(kube::defaultRetry(), [&]() -> kube::Status {
    // From the cache; after a conflict, once it shows a newer version (the
    // retry's backoff gives the watch time to bring it).
    auto rb = caches_.runbook(ns, w.runbook);
    if (!rb) return kube::Status();  // deleted
    if (caches_.stale(runbooks(), *rb)) {
      return kube::Status::error(409, kube::reason::kConflict,
                                 "the cache does not show a version newer than the one whose "
                                 "write conflicted yet");
    }
    json status = rb->value("status", json::object());
    // Counted when its first action was reserved (reserveExecution); what is
    // left is the result of the last Incident that finished.
    if (status.value("lastResult", "") == result) return kube::Status();
    status["lastResult"] = result;
    (*rb)["status"] = status;
    kube::WriteOptions options;
    options.subresource = "status";
    options.fieldManager = options_.fieldManager;
    auto written = client_.update(runbooks(), ns, *rb, options);
    if (written.ok()) caches_.assumeRunbook(*written);
    if (kube::isConflict(written.status())) caches_.conflicted(runbooks(), *rb);
    return written.status();
  });
  if (!s.ok())
    spdlog::warn("runbook={}/{} statistics not written: {}", ns, w.runbook, s.toString());
}

bool IncidentReconciler::reserveExecution(Work& w, json runbook, ReconcileResult* result) {
  std::string incident = kube::nameOf(w.object);
  std::string ns = kube::namespaceOf(w.object);
  std::lock_guard<std::mutex> lock(reservationMutex(ns + "/" + w.runbook));
  if (auto newer = caches_.runbook(ns, w.runbook);
      newer && kube::resourceVersionOf(*newer) != kube::resourceVersionOf(runbook)) {
    // Another worker reserved since the guardrails read it. Judge again
    // when a guardrail read the history (maxConcurrent counts the
    // reservations the cache does not show yet); otherwise nothing judged changed,
    // and the reservation goes onto the newer history (a burst of Incidents
    // of one Runbook does not start over once per other reservation).
    const api::Guardrails* g = w.spec.guardrails ? &*w.spec.guardrails : nullptr;
    if (g && (g->cooldown || g->maxExecutions || g->maxConcurrent)) {
      *result = ReconcileResult{true, kube::Duration(0), kube::Status()};
      return false;
    }
    runbook = std::move(*newer);
  }
  if (caches_.stale(runbooks(), runbook)) {
    // A reservation made from this version lost: again once the cache shows
    // the newer history, not a write bound to conflict.
    *result = ReconcileResult{true, kube::Duration(0), kube::Status()};
    return false;
  }
  json status = runbook.value("status", json::object());
  json history = status.value("history", json::array());
  if (!history.is_array()) history = json::array();
  for (const auto& entry : history) {
    if (entry.is_object() && entry.value("incident", "") == incident) return true;  // reserved
  }
  std::string time = now();
  history.push_back({{"incident", incident}, {"time", time}});
  while (history.size() > api::kMaxExecutionHistory) history.erase(history.begin());
  status["history"] = history;
  status["executions"] = status.value("executions", int64_t{0}) + 1;
  status["lastExecutionTime"] = time;
  status["lastIncident"] = incident;
  runbook["status"] = status;
  kube::WriteOptions options;
  options.subresource = "status";
  options.fieldManager = options_.fieldManager;
  // With the resourceVersion of the history the guardrails judged (or, when
  // none read it, of the newest this process knows): a write in between
  // (another process, or a stale cache) fails with 409 and the reconcile
  // starts over from the newer history.
  auto written = client_.update(runbooks(), ns, runbook, options);
  if (written.ok()) caches_.assumeRunbook(*written);
  if (written.ok() || kube::isNotFound(written.status())) return true;
  if (kube::isConflict(written.status())) {
    // Judged again once the cache shows the newer history.
    caches_.conflicted(runbooks(), runbook);
    *result = ReconcileResult{true, kube::Duration(0), kube::Status()};
  } else {
    *result = ReconcileResult::failed(written.status());
  }
  spdlog::warn("incident={} runbook={} execution not reserved: {}", w.key, w.runbook,
               written.status().toString());
  return false;
}

kube::Result<std::vector<api::RunbookPolicy>> IncidentReconciler::readRunbookPolicies() {
  std::vector<api::RunbookPolicy> out;
  auto list = kube::listAll(client_, runbookPolicies(), "");
  if (!list.ok()) {
    // Without the CRD nothing is granted, which is what no policy means.
    if (kube::isNotFound(list.status())) return out;
    return list.status();
  }
  for (const auto& item : (*list)["items"]) {
    auto policy = api::RunbookPolicy::fromJson(item);
    if (policy.ok()) out.push_back(std::move(policy.value()));
  }
  return out;
}

GuardrailVerdict IncidentReconciler::checkStep(Work& w, const std::string& field,
                                               const json& source, const json& params,
                                               const std::string& path) {
  auto errors = api::checkRenderedAction(field, source, params, api::FieldPath::parse(path));
  if (!errors.empty()) {
    return {GuardrailVerdict::Kind::kRefuseStep, "renderedValues", api::formatErrors(errors),
            kube::Duration(0)};
  }
  // Every namespace and kind the step reaches.
  std::string ns = kube::namespaceOf(w.object);
  std::vector<TargetRef> reached;
  if (auto t = actionTarget(params, ns)) reached.push_back(*t);
  if (const json* pod = podTarget(params)) {
    // Before it is resolved: the pod, its ReplicaSet and the workload, all
    // in the pod's namespace.
    std::string podNs = pod->value("namespace", std::string());
    if (podNs.empty()) podNs = ns;
    reached.push_back({"v1", "Pod", podNs, ""});
    reached.push_back({"apps/v1", pod->value("owner", std::string()), podNs, ""});
  }
  if (field == "deletePods" || field == "podLogs") {
    // It acts on (reads) Pods: of the target's namespace, or of `namespace`.
    TargetRef pods{"v1", "Pod", reached.empty() ? params.value("namespace", ns) : reached[0].ns,
                   ""};
    if (pods.ns.empty()) pods.ns = ns;
    reached.push_back(pods);
  }
  std::optional<std::vector<api::RunbookPolicy>> policies;
  for (const TargetRef& t : reached) {
    api::Reach reach;
    reach.runbookNamespace = ns;
    if (w.spec.guardrails && w.spec.guardrails->allowedNamespaces) {
      reach.allowedNamespaces = *w.spec.guardrails->allowedNamespaces;
    }
    reach.group = api::groupOf(t.apiVersion);
    reach.kind = t.kind;
    reach.targetNamespace = t.ns;
    if (t.ns != ns && !policies) {
      auto read = readRunbookPolicies();
      if (!read.ok()) {
        spdlog::warn("incident={} RunbookPolicies unreadable, holding the step: {}", w.key,
                     read.status().toString());
        // Fail closed: a grant that cannot be read is not assumed.
        return {GuardrailVerdict::Kind::kWait, "targetNamespace",
                "cannot read RunbookPolicies to decide whether namespace " + t.ns +
                    " may be reached: " + read.status().toString(),
                GuardrailCheck::kWaitInterval};
      }
      policies = std::move(read.value());
    }
    api::ReachDecision decision =
        api::reachDecision(reach, policies.value_or(std::vector<api::RunbookPolicy>{}));
    if (!decision.allowed) {
      return {GuardrailVerdict::Kind::kRefuseStep, "targetNamespace", decision.reason,
              kube::Duration(0)};
    }
  }
  return {};
}

std::optional<ReconcileResult> IncidentReconciler::resolveStepTarget(Work& w, size_t index,
                                                                     const json& params,
                                                                     const std::string& path) {
  api::StepStatus& st = (*w.status().steps)[index];
  if (st.target && st.target->name) return std::nullopt;
  const json& target = *podTarget(params);
  std::string ns = target.value("namespace", std::string());
  if (ns.empty()) ns = kube::namespaceOf(w.object);
  std::string pod = target.value("pod", std::string());
  std::string owner = target.value("owner", std::string());
  // Resolved once per Incident: a later step naming the same pod (a wait
  // after a rollback, whose pods the rollback replaced) acts on the same
  // workload.
  for (const auto& other : *w.status().steps) {
    const auto& t = other.target;
    if (t && t->name && t->pod == pod && t->namespace_ == ns && t->kind == owner) {
      st.target = *t;
      note(w, "TargetResolved", *st.name,
           "target.pod " + ns + "/" + pod + " is " + owner + " " + ns + "/" + *t->name +
               ", as step " + other.name.value_or("") + " resolved it");
      return std::nullopt;
    }
  }
  // As the tenant: the Runbook reads the pod and its ReplicaSet with its
  // namespace's rights.
  auto resolved = actions::resolvePodOwner(*w.tenant, ns, pod, owner);
  if (!resolved.ok()) {
    const kube::Status& s = resolved.status();
    if (actions::isRetriableApiError(s)) {
      spdlog::warn("incident={} step={} resolving {}.target.pod: {}", w.key, *st.name, path,
                   s.toString());
      return ReconcileResult::after(GuardrailCheck::kWaitInterval);
    }
    // Gone or unreadable: the pod names the problem; no such owner: owner.
    bool podField = kube::isNotFound(s) || kube::isForbidden(s) || pod.empty();
    return failStep(w, index,
                    path + ".target." + (podField ? "pod" : "owner") + ": " + s.message());
  }
  api::ResolvedTarget r;
  r.apiVersion = resolved->apiVersion;
  r.kind = resolved->kind;
  r.namespace_ = resolved->ns;
  r.name = resolved->name;
  r.pod = resolved->pod;
  r.podUid = resolved->podUid;
  r.via = resolved->via;
  st.target = r;
  note(w, "TargetResolved", *st.name,
       "target.pod " + ns + "/" + pod + " resolved to " + resolved->kind + " " + resolved->ns +
           "/" + resolved->name + " (" + resolved->via + ")");
  return std::nullopt;
}

std::optional<ReconcileResult> IncidentReconciler::applyStepCheck(Work& w, size_t index,
                                                                  const GuardrailVerdict& v) {
  if (v.allowed()) return std::nullopt;
  if (options_.metrics) options_.metrics->guardrailRefusal(v.guardrail);
  api::IncidentStatus& s = w.status();
  int64_t generation = s.observedGeneration.value_or(1);
  if (v.kind == GuardrailVerdict::Kind::kWait) {
    ReconcileResult result;
    if (setCondition(s.conditions, "Waiting", api::ConditionStatus::kTrue, v.guardrail, v.message,
                     generation, now())) {
      note(w, "Waiting", (*s.steps)[index].name.value_or(""), v.guardrail + ": " + v.message);
      if (!write(w, &result)) return result;
      event(w, "Normal", "Waiting", v.message);
    }
    return ReconcileResult::after(v.retryAfter);
  }
  setCondition(s.conditions, "GuardrailRefused", api::ConditionStatus::kTrue, v.guardrail,
               v.message, generation, now());
  event(w, "Warning", "GuardrailRefused",
        (*s.steps)[index].name.value_or("") + ": " + v.guardrail + ": " + v.message);
  return failStep(w, index, "refused by guardrail " + v.guardrail + ": " + v.message);
}

void IncidentReconciler::note(Work& w, const std::string& type, const std::string& step,
                              const std::string& message) {
  api::TimelineEntry entry;
  entry.time = now();
  entry.type = type;
  if (!step.empty()) entry.step = step;
  entry.message = truncateMessage(message, kMaxStepMessage);
  w.status().appendTimeline(std::move(entry));
}

void IncidentReconciler::event(Work& w, const std::string& type, const std::string& reason,
                               const std::string& message) {
  if (!events_) return;
  events_->event(w.object, type, reason, truncateMessage(message, 1024));
}

void IncidentReconciler::logStep(Work& w, size_t index, const std::string& outcome,
                                 kube::Duration duration) {
  const api::StepStatus& st = (*w.status().steps)[index];
  const api::Step* step = w.spec.findStep(st.name.value_or(""));
  std::string field = step ? actionFieldOf(*step) : "";
  if (options_.metrics) options_.metrics->stepAttempt(field, outcome, duration);
  std::optional<TargetRef> target;
  if (step) {
    auto rendered = renderAction(api::toJson(*step)[field], w.incident.templateContext(), field);
    if (rendered.ok()) {
      target = actionTarget(withResolvedTarget(*rendered, st), kube::namespaceOf(w.object));
    }
  }
  spdlog::info(
      "incident={} runbook={} step={} action={} target={} attempt={} outcome={} durationMs={} "
      "dryRun={}",
      w.key, w.runbook, st.name.value_or(""), field, target ? target->key() : "",
      st.attempts.value_or(0), outcome,
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count(),
      st.dryRun.value_or(false));
  // An Event on the object the action touched, so its owner sees what
  // Remedy did to it (reason Remedy<Action>: RemedyScale, RemedyRolloutRestart).
  if (target) {
    std::string reason = field;
    if (!reason.empty()) reason[0] = static_cast<char>(std::toupper(reason[0]));
    targetEvent(w, *target, outcome == "Succeeded" ? "Normal" : "Warning", "Remedy" + reason,
                st.name.value_or(""), st.message.value_or(outcome));
  }
}

void IncidentReconciler::targetEvent(Work& w, const TargetRef& target, const std::string& type,
                                     const std::string& reason, const std::string& step,
                                     const std::string& message) {
  if (!events_ || target.name.empty()) return;
  json involved = {{"apiVersion", target.apiVersion},
                   {"kind", target.kind},
                   {"metadata", {{"name", target.name}, {"namespace", target.ns}}}};
  // kubectl describe lists an object's Events by involvedObject.uid too
  // (describe.go searchEvents): read as the tenant, whose object it is.
  if (auto known = w.targetUids.find(target.key()); known != w.targetUids.end()) {
    // Read by the guardrails in this reconcile, just before the effect.
    involved["metadata"]["uid"] = known->second;
  } else if (w.tenant) {
    if (auto resource = w.tenant->resourceFor(target.apiVersion, target.kind); resource.ok()) {
      if (auto object = w.tenant->get(*resource, target.ns, target.name); object.ok()) {
        involved["metadata"]["uid"] = kube::uidOf(*object);
      }
    }
  }
  events_->event(
      involved, type, reason,
      truncateMessage("incident " + kube::nameOf(w.object) + " step " + step + ": " + message,
                      1024));
}

}  // namespace remedy::engine
