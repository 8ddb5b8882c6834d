// The Incident kind: one occurrence of a problem and everything Remedy did
// about it. Field meanings are documented in crds/remedy.dev_incidents.yaml.
#pragma once

#include "api/common_types.h"
#include "api/json_fields.h"
#include "api/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

enum class IncidentSource { kAlertmanager, kManual, kDrill };
template <>
struct EnumTraits<IncidentSource> {
  static constexpr std::pair<IncidentSource, const char*> kNames[] = {
      {IncidentSource::kAlertmanager, "Alertmanager"},
      {IncidentSource::kManual, "Manual"},
      {IncidentSource::kDrill, "Drill"}};
};

enum class AlertStatus { kFiring, kResolved };
template <>
struct EnumTraits<AlertStatus> {
  static constexpr std::pair<AlertStatus, const char*> kNames[] = {
      {AlertStatus::kFiring, "firing"}, {AlertStatus::kResolved, "resolved"}};
};

enum class IncidentPhase {
  kPending,
  kAwaitingApproval,
  kRunning,
  kSucceeded,
  kFailed,
  kEscalated,
  kSkipped,
  kCancelled
};
template <>
struct EnumTraits<IncidentPhase> {
  static constexpr std::pair<IncidentPhase, const char*> kNames[] = {
      {IncidentPhase::kPending, "Pending"}, {IncidentPhase::kAwaitingApproval, "AwaitingApproval"},
      {IncidentPhase::kRunning, "Running"}, {IncidentPhase::kSucceeded, "Succeeded"},
      {IncidentPhase::kFailed, "Failed"},   {IncidentPhase::kEscalated, "Escalated"},
      {IncidentPhase::kSkipped, "Skipped"}, {IncidentPhase::kCancelled, "Cancelled"}};
};
// Succeeded, Failed, Escalated, Skipped and Cancelled never change again.
bool isFinal(IncidentPhase phase);

enum class StepPhase {
  kPending,
  kAwaitingApproval,
  kRunning,
  kSucceeded,
  kFailed,
  kSkipped,
  kCancelled
};
template <>
struct EnumTraits<StepPhase> {
  static constexpr std::pair<StepPhase, const char*> kNames[] = {
      {StepPhase::kPending, "Pending"},    {StepPhase::kAwaitingApproval, "AwaitingApproval"},
      {StepPhase::kRunning, "Running"},    {StepPhase::kSucceeded, "Succeeded"},
      {StepPhase::kFailed, "Failed"},      {StepPhase::kSkipped, "Skipped"},
      {StepPhase::kCancelled, "Cancelled"}};
};

enum class RevertState { kPending, kReverted, kRefused, kFailed };
template <>
struct EnumTraits<RevertState> {
  static constexpr std::pair<RevertState, const char*> kNames[] = {
      {RevertState::kPending, "Pending"},
      {RevertState::kReverted, "Reverted"},
      {RevertState::kRefused, "Refused"},
      {RevertState::kFailed, "Failed"}};
};

enum class ApprovalDecision { kApprove, kReject };
template <>
struct EnumTraits<ApprovalDecision> {
  static constexpr std::pair<ApprovalDecision, const char*> kNames[] = {
      {ApprovalDecision::kApprove, "Approve"}, {ApprovalDecision::kReject, "Reject"}};
};

struct Alert {
  std::optional<std::string> name;
  std::optional<AlertStatus> status;
  std::optional<std::map<std::string, std::string>> labels;
  std::optional<std::map<std::string, std::string>> annotations;
  std::optional<std::string> fingerprint;
  std::optional<std::string> startsAt;
  std::optional<std::string> endsAt;
  std::optional<std::string> generatorURL;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("status", s.status);
    v("labels", s.labels);
    v("annotations", s.annotations);
    v("fingerprint", s.fingerprint);
    v("startsAt", s.startsAt);
    v("endsAt", s.endsAt);
    v("generatorURL", s.generatorURL);
  }
};

struct LocalObjectReference {
  std::optional<std::string> name;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
  }
};

struct IncidentSpec {
  std::optional<IncidentSource> source;
  std::optional<Alert> alert;
  std::optional<LocalObjectReference> runbookRef;
  std::optional<bool> dryRun;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("source", s.source);
    v("alert", s.alert);
    v("runbookRef", s.runbookRef);
    v("dryRun", s.dryRun);
  }
};

struct ExecutedRunbook {
  std::optional<std::string> name;
  std::optional<std::string> uid;
  std::optional<int64_t> generation;
  // The Runbook's spec at that generation, kept as JSON.
  std::optional<nlohmann::json> spec;
  // The ServiceAccount (of the Incident's namespace) the actions run as.
  std::optional<std::string> serviceAccountName;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("uid", s.uid);
    v("generation", s.generation);
    v("spec", s.spec);
    v("serviceAccountName", s.serviceAccountName);
  }
};

// What an Incident started from, frozen when it matched its Runbook: every
// later template, `when`, attempt, continuation and revert reads these, never
// the live spec, so editing the spec after an approval changes nothing. Only
// the alert's status and endsAt stay live (the alert resolving is news).
struct IncidentInputs {
  std::optional<Alert> alert;  // without status and endsAt
  std::optional<IncidentSource> source;
  std::optional<bool> dryRun;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("alert", s.alert);
    v("source", s.source);
    v("dryRun", s.dryRun);
  }
};

struct EvaluatedCondition {
  std::optional<std::string> expression;
  std::optional<bool> result;
  std::optional<std::map<std::string, std::string>> values;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("expression", s.expression);
    v("result", s.result);
    v("values", s.values);
  }
};

struct RevertStatus {
  std::optional<RevertState> state;
  std::optional<std::string> dueAt;
  std::optional<bool> onResolved;
  std::optional<nlohmann::json> before;
  std::optional<nlohmann::json> after;
  std::optional<std::string> revertedAt;
  std::optional<std::string> message;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("state", s.state);
    v("dueAt", s.dueAt);
    v("onResolved", s.onResolved);
    v("before", s.before);
    v("after", s.after);
    v("revertedAt", s.revertedAt);
    v("message", s.message);
  }
};

// The workload a step's `target: {pod, owner}` resolved to when the step
// first started, and from what; every later attempt and the revert act on it.
struct ResolvedTarget {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  std::optional<std::string> namespace_;
  std::optional<std::string> name;
  std::optional<std::string> pod;
  std::optional<std::string> podUid;
  // The ownerReferences followed: "Pod api-7d9f6-x2k4q -> ReplicaSet
  // api-7d9f6 -> Deployment api".
  std::optional<std::string> via;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("apiVersion", s.apiVersion);
    v("kind", s.kind);
    v("namespace", s.namespace_);
    v("name", s.name);
    v("pod", s.pod);
    v("podUid", s.podUid);
    v("via", s.via);
  }
};

struct StepStatus {
  std::optional<std::string> name;
  std::optional<StepPhase> phase;
  std::optional<int32_t> attempts;
  std::optional<std::string> startedAt;
  std::optional<std::string> finishedAt;
  std::optional<std::string> nextAttemptAt;
  std::optional<bool> dryRun;
  std::optional<std::string> message;
  std::optional<std::map<std::string, std::string>> outputs;
  std::optional<EvaluatedCondition> when;
  std::optional<RevertStatus> revert;
  std::optional<ResolvedTarget> target;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("phase", s.phase);
    v("attempts", s.attempts);
    v("startedAt", s.startedAt);
    v("finishedAt", s.finishedAt);
    v("nextAttemptAt", s.nextAttemptAt);
    v("dryRun", s.dryRun);
    v("message", s.message);
    v("outputs", s.outputs);
    v("when", s.when);
    v("revert", s.revert);
    v("target", s.target);
  }
};

struct ApprovalRecord {
  std::optional<std::string> name;
  std::optional<std::string> step;
  std::optional<ApprovalDecision> decision;
  std::optional<std::string> approver;
  std::optional<std::string> time;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("step", s.step);
    v("decision", s.decision);
    v("approver", s.approver);
    v("time", s.time);
  }
};

enum class NotificationState { kPending, kNotified, kFailed };
template <>
struct EnumTraits<NotificationState> {
  static constexpr std::pair<NotificationState, const char*> kNames[] = {
      {NotificationState::kPending, "Pending"},
      {NotificationState::kNotified, "Notified"},
      {NotificationState::kFailed, "Failed"}};
};

// One firing: a tier of spec.escalation.tiers (tier set), or the
// spec.escalation.notify messages of an Escalated or Failed Incident (tier
// unset). Recorded before its messages are sent, so no firing is skipped or
// repeated across restarts; a message may be sent again only if the
// operator died between sending it and recording that it was sent.
struct EscalationRecord {
  std::optional<int32_t> tier;
  // Set for the notice that this step waits for approval.
  std::optional<std::string> approvalStep;
  std::optional<std::string> name;
  std::optional<std::string> firedAt;
  std::optional<NotificationState> state;
  std::optional<std::string> message;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("tier", s.tier);
    v("approvalStep", s.approvalStep);
    v("name", s.name);
    v("firedAt", s.firedAt);
    v("state", s.state);
    v("message", s.message);
  }
};

struct TimelineEntry {
  std::optional<std::string> time;
  std::optional<std::string> type;
  std::optional<std::string> step;
  std::optional<std::string> message;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("time", s.time);
    v("type", s.type);
    v("step", s.step);
    v("message", s.message);
  }
};

// The CRD's maxItems for status.timeline.
inline constexpr size_t kMaxTimelineEntries = 100;

struct IncidentStatus {
  std::optional<IncidentPhase> phase;
  std::optional<ExecutedRunbook> runbook;
  std::optional<IncidentInputs> inputs;
  std::optional<std::map<std::string, std::string>> parameters;
  std::optional<std::string> startedAt;
  std::optional<std::string> finishedAt;
  std::optional<std::string> currentStep;
  std::optional<std::vector<StepStatus>> steps;
  std::optional<std::vector<ApprovalRecord>> approvals;
  std::optional<std::vector<EscalationRecord>> escalations;
  std::optional<std::string> resolvedAt;
  std::optional<int64_t> observedGeneration;
  std::optional<std::vector<Condition>> conditions;
  std::optional<std::vector<TimelineEntry>> timeline;
  std::optional<int64_t> droppedTimelineEntries;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("phase", s.phase);
    v("runbook", s.runbook);
    v("inputs", s.inputs);
    v("parameters", s.parameters);
    v("startedAt", s.startedAt);
    v("finishedAt", s.finishedAt);
    v("currentStep", s.currentStep);
    v("steps", s.steps);
    v("approvals", s.approvals);
    v("escalations", s.escalations);
    v("resolvedAt", s.resolvedAt);
    v("observedGeneration", s.observedGeneration);
    v("conditions", s.conditions);
    v("timeline", s.timeline);
    v("droppedTimelineEntries", s.droppedTimelineEntries);
  }

  // Appends to the timeline, dropping (and counting) the oldest entries
  // beyond kMaxTimelineEntries so the status stays within the CRD bound.
  void appendTimeline(TimelineEntry entry);
  StepStatus* findStep(const std::string& name);
};

struct Incident : KubeObject<Incident, IncidentSpec, IncidentStatus> {
  // The context templates and `when` conditions read (shape in reference.h):
  // the alert, status.parameters as params, each status.steps entry's phase
  // and outputs, and the Incident's name, namespace and source. Once
  // status.inputs is recorded, the alert (but its status and endsAt) and the
  // source come from there, not from the spec.
  nlohmann::json templateContext() const;
  // The inputs to freeze at start: the spec's alert (without status and
  // endsAt), source and dryRun.
  IncidentInputs currentInputs() const;
  // Whether steps only report: status.inputs.dryRun once recorded, else
  // spec.dryRun.
  bool dryRun() const;
  // The source: status.inputs.source once recorded, else spec.source
  // (default Manual).
  IncidentSource source() const;
};

}  // namespace remedy::api
