// The Runbook kind: an operational procedure as code. Field meanings are
// documented once, in crds/remedy.dev_runbooks.yaml (`kubectl explain`).
#pragma once

#include "api/common_types.h"
#include "api/duration.h"
#include "api/json_fields.h"
#include "api/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

enum class Severity { kP0, kP1, kP2, kP3 };
template <>
struct EnumTraits<Severity> {
  static constexpr std::pair<Severity, const char*> kNames[] = {
      {Severity::kP0, "P0"}, {Severity::kP1, "P1"}, {Severity::kP2, "P2"}, {Severity::kP3, "P3"}};
};

enum class OnFailure { kAbort, kContinue, kEscalate };
template <>
struct EnumTraits<OnFailure> {
  static constexpr std::pair<OnFailure, const char*> kNames[] = {
      {OnFailure::kAbort, "Abort"},
      {OnFailure::kContinue, "Continue"},
      {OnFailure::kEscalate, "Escalate"}};
};

enum class StepApproval { kNone, kRequired };
template <>
struct EnumTraits<StepApproval> {
  static constexpr std::pair<StepApproval, const char*> kNames[] = {
      {StepApproval::kNone, "None"}, {StepApproval::kRequired, "Required"}};
};

enum class ApprovalTimeoutAction { kAbort, kEscalate, kSkip };
template <>
struct EnumTraits<ApprovalTimeoutAction> {
  static constexpr std::pair<ApprovalTimeoutAction, const char*> kNames[] = {
      {ApprovalTimeoutAction::kAbort, "Abort"},
      {ApprovalTimeoutAction::kEscalate, "Escalate"},
      {ApprovalTimeoutAction::kSkip, "Skip"}};
};

// Used by waitFor.field and prometheusCheck.
enum class ComparisonOperator {
  kEqual,
  kNotEqual,
  kGreaterThan,
  kGreaterThanOrEqual,
  kLessThan,
  kLessThanOrEqual
};
template <>
struct EnumTraits<ComparisonOperator> {
  static constexpr std::pair<ComparisonOperator, const char*> kNames[] = {
      {ComparisonOperator::kEqual, "Equal"},
      {ComparisonOperator::kNotEqual, "NotEqual"},
      {ComparisonOperator::kGreaterThan, "GreaterThan"},
      {ComparisonOperator::kGreaterThanOrEqual, "GreaterThanOrEqual"},
      {ComparisonOperator::kLessThan, "LessThan"},
      {ComparisonOperator::kLessThanOrEqual, "LessThanOrEqual"}};
};

enum class PodDeletionMode { kEvict, kDelete };
template <>
struct EnumTraits<PodDeletionMode> {
  static constexpr std::pair<PodDeletionMode, const char*> kNames[] = {
      {PodDeletionMode::kEvict, "Evict"}, {PodDeletionMode::kDelete, "Delete"}};
};

enum class WaitState { kRolloutComplete, kExists, kDeleted };
template <>
struct EnumTraits<WaitState> {
  static constexpr std::pair<WaitState, const char*> kNames[] = {
      {WaitState::kRolloutComplete, "RolloutComplete"},
      {WaitState::kExists, "Exists"},
      {WaitState::kDeleted, "Deleted"}};
};

enum class EmptyResultPolicy { kPass, kFail };
template <>
struct EnumTraits<EmptyResultPolicy> {
  static constexpr std::pair<EmptyResultPolicy, const char*> kNames[] = {
      {EmptyResultPolicy::kPass, "Pass"}, {EmptyResultPolicy::kFail, "Fail"}};
};

enum class NotifyFormat { kSlack, kGeneric };
template <>
struct EnumTraits<NotifyFormat> {
  static constexpr std::pair<NotifyFormat, const char*> kNames[] = {
      {NotifyFormat::kSlack, "Slack"}, {NotifyFormat::kGeneric, "Generic"}};
};

enum class ApplyOwnership { kIncident, kNone };
template <>
struct EnumTraits<ApplyOwnership> {
  static constexpr std::pair<ApplyOwnership, const char*> kNames[] = {
      {ApplyOwnership::kIncident, "Incident"}, {ApplyOwnership::kNone, "None"}};
};

// ---- triggers and parameters ----

struct Trigger {
  std::optional<std::string> alertName;
  std::optional<std::map<std::string, std::string>> labels;
  std::optional<std::vector<std::string>> matchers;
  std::optional<std::vector<std::string>> severities;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("alertName", s.alertName);
    v("labels", s.labels);
    v("matchers", s.matchers);
    v("severities", s.severities);
  }
};

struct Parameter {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> value;
  std::optional<std::string> defaultValue;
  std::optional<std::string> pattern;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("description", s.description);
    v("value", s.value);
    v("default", s.defaultValue);
    v("pattern", s.pattern);
  }
};

// ---- actions ----

struct ScaleAction {
  std::optional<ObjectTarget> target;
  std::optional<IntOrString> replicas;
  std::optional<int32_t> minReplicas;
  std::optional<int32_t> maxReplicas;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
    v("replicas", s.replicas);
    v("minReplicas", s.minReplicas);
    v("maxReplicas", s.maxReplicas);
  }
};

struct RolloutRestartAction {
  std::optional<ObjectTarget> target;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
  }
};

// As `kubectl rollout undo`: the Deployment gets the pod template of an
// earlier revision (`revision`, or the one before the current when unset).
struct RolloutUndoAction {
  std::optional<ObjectTarget> target;
  std::optional<int64_t> revision;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
    v("revision", s.revision);
  }
};

struct LabelSelectorRequirement {
  std::optional<std::string> key;
  std::optional<std::string> operator_;
  std::optional<std::vector<std::string>> values;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("key", s.key);
    v("operator", s.operator_);
    v("values", s.values);
  }
};

struct LabelSelector {
  std::optional<std::map<std::string, std::string>> matchLabels;
  std::optional<std::vector<LabelSelectorRequirement>> matchExpressions;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("matchLabels", s.matchLabels);
    v("matchExpressions", s.matchExpressions);
  }
};

struct DeletePodsAction {
  std::optional<ObjectTarget> target;
  std::optional<LabelSelector> selector;
  std::optional<std::string> namespace_;
  std::optional<std::vector<std::string>> states;
  std::optional<int32_t> maxCount;
  std::optional<int32_t> maxPercent;
  std::optional<PodDeletionMode> mode;
  std::optional<int64_t> gracePeriodSeconds;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
    v("selector", s.selector);
    v("namespace", s.namespace_);
    v("states", s.states);
    v("maxCount", s.maxCount);
    v("maxPercent", s.maxPercent);
    v("mode", s.mode);
    v("gracePeriodSeconds", s.gracePeriodSeconds);
  }
};

struct WaitCondition {
  std::optional<std::string> type;
  std::optional<ConditionStatus> status;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v("status", s.status);
  }
};

struct WaitField {
  std::optional<std::string> path;
  std::optional<ComparisonOperator> operator_;
  std::optional<std::string> value;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("path", s.path);
    v("operator", s.operator_);
    v("value", s.value);
  }
};

struct WaitForAction {
  std::optional<ObjectTarget> target;
  std::optional<WaitCondition> condition;
  std::optional<WaitField> field;
  std::optional<WaitState> state;
  std::optional<std::string> pollInterval;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
    v("condition", s.condition);
    v("field", s.field);
    v("state", s.state);
    v("pollInterval", s.pollInterval);
  }
};

// How much of a pod's log to read (podLogs, runJob's logTail): the last
// tailLines lines (1-1000, default 100), at most limitBytes bytes (1-65536,
// default 16384).
struct LogBounds {
  std::optional<int64_t> tailLines;
  std::optional<int64_t> limitBytes;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("tailLines", s.tailLines);
    v("limitBytes", s.limitBytes);
  }
};

struct RunJobAction {
  // A pod template (metadata, spec), kept as JSON: the API server validates it.
  std::optional<nlohmann::json> template_;
  std::optional<int32_t> backoffLimit;
  std::optional<std::string> ttlAfterFinished;
  // How much of the Job's pod's log becomes the output logTail.
  std::optional<LogBounds> logTail;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("template", s.template_);
    v("backoffLimit", s.backoffLimit);
    v("ttlAfterFinished", s.ttlAfterFinished);
    v("logTail", s.logTail);
  }
};

// The last lines of a pod's container (pods/log), as evidence: `pod` by
// name (such as the alert's), or `target`, a workload whose pod with the
// most restarts is read.
struct PodLogsAction {
  std::optional<std::string> pod;
  std::optional<std::string> namespace_;
  std::optional<ObjectTarget> target;
  std::optional<std::string> container;
  std::optional<bool> previous;
  std::optional<int64_t> tailLines;
  std::optional<int64_t> limitBytes;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("pod", s.pod);
    v("namespace", s.namespace_);
    v("target", s.target);
    v("container", s.container);
    v("previous", s.previous);
    v("tailLines", s.tailLines);
    v("limitBytes", s.limitBytes);
  }
};

// Which PostgreSQL backends an operation applies to.
struct BackendFilter {
  std::optional<std::string> olderThan;
  std::optional<std::vector<std::string>> states;
  std::optional<std::vector<std::string>> databases;
  std::optional<std::vector<std::string>> users;
  std::optional<std::vector<std::string>> applicationNames;
  std::optional<std::string> queryPattern;
  std::optional<int32_t> maxCount;
  std::optional<bool> allowSuperusers;
  std::optional<std::string> whenMoreMatch;  // Fail, OldestFirst
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("olderThan", s.olderThan);
    v("states", s.states);
    v("databases", s.databases);
    v("users", s.users);
    v("applicationNames", s.applicationNames);
    v("queryPattern", s.queryPattern);
    v("maxCount", s.maxCount);
    v("allowSuperusers", s.allowSuperusers);
    v("whenMoreMatch", s.whenMoreMatch);
  }
};

// A read-only diagnosis query: one statement, its values as parameters.
struct PostgresQuery {
  std::optional<std::string> sql;
  std::optional<std::vector<std::string>> params;
  std::optional<int32_t> maxRows;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("sql", s.sql);
    v("params", s.params);
    v("maxRows", s.maxRows);
  }
};

struct PostgresAction {
  std::optional<SecretSource> connection;
  std::optional<BackendFilter> activityReport;
  std::optional<BackendFilter> cancelBackends;
  std::optional<BackendFilter> terminateBackends;
  std::optional<PostgresQuery> query;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("connection", s.connection);
    v("activityReport", s.activityReport);
    v("cancelBackends", s.cancelBackends);
    v("terminateBackends", s.terminateBackends);
    v("query", s.query);
  }
};

struct RedisInfo {
  std::optional<std::string> section;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("section", s.section);
  }
};

struct RedisSlowlog {
  std::optional<int32_t> count;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("count", s.count);
  }
};

struct RedisMemoryUsage {
  std::optional<std::string> pattern;
  std::optional<int32_t> maxKeys;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("pattern", s.pattern);
    v("maxKeys", s.maxKeys);
  }
};

struct RedisConfigSet {
  std::optional<std::string> parameter;
  std::optional<std::string> value;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("parameter", s.parameter);
    v("value", s.value);
  }
};

struct RedisDeleteKeys {
  std::optional<std::string> pattern;
  std::optional<int32_t> maxCount;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("pattern", s.pattern);
    v("maxCount", s.maxCount);
  }
};

struct RedisAction {
  std::optional<SecretSource> connection;
  std::optional<RedisInfo> info;
  std::optional<RedisSlowlog> slowlog;
  std::optional<RedisMemoryUsage> memoryUsage;
  std::optional<RedisConfigSet> configSet;
  std::optional<RedisDeleteKeys> deleteKeys;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("connection", s.connection);
    v("info", s.info);
    v("slowlog", s.slowlog);
    v("memoryUsage", s.memoryUsage);
    v("configSet", s.configSet);
    v("deleteKeys", s.deleteKeys);
  }
};

struct HttpHeader {
  std::optional<std::string> name;
  std::optional<std::string> value;
  std::optional<SecretSource> valueFrom;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("value", s.value);
    v("valueFrom", s.valueFrom);
  }
};

struct HttpAction {
  std::optional<std::string> method;
  std::optional<std::string> url;
  std::optional<SecretSource> urlFrom;
  std::optional<std::vector<HttpHeader>> headers;
  std::optional<std::string> body;
  std::optional<std::vector<int32_t>> expectedStatus;
  std::optional<bool> keepResponseBody;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("method", s.method);
    v("url", s.url);
    v("urlFrom", s.urlFrom);
    v("headers", s.headers);
    v("body", s.body);
    v("expectedStatus", s.expectedStatus);
    v("keepResponseBody", s.keepResponseBody);
  }
};

struct PrometheusCheckAction {
  std::optional<std::string> url;
  std::optional<std::string> query;
  std::optional<ComparisonOperator> operator_;
  std::optional<double> threshold;
  std::optional<std::string> pollInterval;
  std::optional<std::string> holdFor;
  std::optional<EmptyResultPolicy> emptyResult;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("url", s.url);
    v("query", s.query);
    v("operator", s.operator_);
    v("threshold", s.threshold);
    v("pollInterval", s.pollInterval);
    v("holdFor", s.holdFor);
    v("emptyResult", s.emptyResult);
  }
};

// One instant PromQL query whose first samples become outputs, for `when`
// and templates: read-only diagnosis.
struct PrometheusQueryAction {
  std::optional<std::string> url;
  std::optional<std::string> query;
  std::optional<int64_t> maxSeries;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("url", s.url);
    v("query", s.query);
    v("maxSeries", s.maxSeries);
  }
};

// The `notify` action, and each message of spec.escalation.
struct Notification {
  std::optional<std::string> url;
  std::optional<SecretSource> urlFrom;
  std::optional<NotifyFormat> format;
  std::optional<std::string> message;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("url", s.url);
    v("urlFrom", s.urlFrom);
    v("format", s.format);
    v("message", s.message);
  }
};

struct PatchAction {
  std::optional<ObjectTarget> target;
  std::optional<nlohmann::json> mergePatch;
  std::optional<nlohmann::json> strategicMergePatch;
  std::optional<nlohmann::json> jsonPatch;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("target", s.target);
    v("mergePatch", s.mergePatch);
    v("strategicMergePatch", s.strategicMergePatch);
    v("jsonPatch", s.jsonPatch);
  }
};

struct ApplyAction {
  std::optional<nlohmann::json> manifest;
  std::optional<ApplyOwnership> ownedBy;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("manifest", s.manifest);
    v("ownedBy", s.ownedBy);
  }
};

struct WaitForResolvedAction {
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S&, V&) {}
};

// ---- steps ----

struct RetryPolicy {
  std::optional<int32_t> limit;
  std::optional<std::string> backoff;
  std::optional<std::string> maxBackoff;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("limit", s.limit);
    v("backoff", s.backoff);
    v("maxBackoff", s.maxBackoff);
  }
};

struct RevertPolicy {
  std::optional<std::string> after;
  std::optional<bool> onResolved;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("after", s.after);
    v("onResolved", s.onResolved);
  }
};

struct Step {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> when;
  std::optional<std::string> timeout;
  std::optional<RetryPolicy> retries;
  std::optional<OnFailure> onFailure;
  std::optional<StepApproval> approval;
  std::optional<RevertPolicy> revert;
  // Exactly one of these is set in a valid Runbook.
  std::optional<ScaleAction> scale;
  std::optional<RolloutRestartAction> rolloutRestart;
  std::optional<RolloutUndoAction> rolloutUndo;
  std::optional<DeletePodsAction> deletePods;
  std::optional<WaitForAction> waitFor;
  std::optional<RunJobAction> runJob;
  std::optional<PostgresAction> postgres;
  std::optional<RedisAction> redis;
  std::optional<HttpAction> http;
  std::optional<PrometheusCheckAction> prometheusCheck;
  std::optional<PrometheusQueryAction> prometheusQuery;
  std::optional<Notification> notify;
  std::optional<PatchAction> patch;
  std::optional<ApplyAction> apply;
  std::optional<WaitForResolvedAction> waitForResolved;
  std::optional<PodLogsAction> podLogs;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("description", s.description);
    v("when", s.when);
    v("timeout", s.timeout);
    v("retries", s.retries);
    v("onFailure", s.onFailure);
    v("approval", s.approval);
    v("revert", s.revert);
    v("scale", s.scale);
    v("rolloutRestart", s.rolloutRestart);
    v("rolloutUndo", s.rolloutUndo);
    v("deletePods", s.deletePods);
    v("waitFor", s.waitFor);
    v("runJob", s.runJob);
    v("postgres", s.postgres);
    v("redis", s.redis);
    v("http", s.http);
    v("prometheusCheck", s.prometheusCheck);
    v("prometheusQuery", s.prometheusQuery);
    v("notify", s.notify);
    v("patch", s.patch);
    v("apply", s.apply);
    v("waitForResolved", s.waitForResolved);
    v("podLogs", s.podLogs);
  }

  // The action fields present ("scale", ...); one in a valid Runbook.
  std::vector<std::string> actionFields() const;
  // The effective timeout: the one given or the action's default.
  Duration effectiveTimeout() const;
};

// ---- guardrails, approval, escalation ----

struct MaxExecutions {
  std::optional<int32_t> count;
  std::optional<std::string> per;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("count", s.count);
    v("per", s.per);
  }
};

struct ScaleBounds {
  std::optional<int32_t> minReplicas;
  std::optional<int32_t> maxReplicas;
  std::optional<int32_t> maxChange;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("minReplicas", s.minReplicas);
    v("maxReplicas", s.maxReplicas);
    v("maxChange", s.maxChange);
  }
};

struct PodDisruptionBounds {
  std::optional<int32_t> maxCount;
  std::optional<int32_t> maxPercent;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("maxCount", s.maxCount);
    v("maxPercent", s.maxPercent);
  }
};

struct Guardrails {
  std::optional<bool> dryRun;
  std::optional<std::string> cooldown;
  std::optional<MaxExecutions> maxExecutions;
  std::optional<int32_t> maxConcurrent;
  std::optional<std::vector<std::string>> allowedNamespaces;
  std::optional<ScaleBounds> scale;
  std::optional<PodDisruptionBounds> podDisruption;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("dryRun", s.dryRun);
    v("cooldown", s.cooldown);
    v("maxExecutions", s.maxExecutions);
    v("maxConcurrent", s.maxConcurrent);
    v("allowedNamespaces", s.allowedNamespaces);
    v("scale", s.scale);
    v("podDisruption", s.podDisruption);
  }
};

struct ApprovalPolicy {
  std::optional<std::vector<std::string>> users;
  std::optional<std::vector<std::string>> groups;
  std::optional<int32_t> minApprovals;
  std::optional<std::string> timeout;
  std::optional<ApprovalTimeoutAction> onTimeout;
  // Whether the person who created a Manual Incident may be its only
  // approver (default false: four eyes).
  std::optional<bool> allowSelfApproval;
  // Who hears that a step waits for approval (else escalation.notify).
  std::optional<std::vector<Notification>> notify;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("users", s.users);
    v("groups", s.groups);
    v("minApprovals", s.minApprovals);
    v("timeout", s.timeout);
    v("onTimeout", s.onTimeout);
    v("allowSelfApproval", s.allowSelfApproval);
    v("notify", s.notify);
  }
};

struct EscalationTier {
  std::optional<std::string> name;
  std::optional<std::string> after;
  std::optional<std::vector<Notification>> notify;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("after", s.after);
    v("notify", s.notify);
  }
};

struct EscalationPolicy {
  std::optional<std::vector<Notification>> notify;
  std::optional<std::vector<EscalationTier>> tiers;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("notify", s.notify);
    v("tiers", s.tiers);
  }
};

// ---- the kind ----

struct RunbookSpec {
  std::optional<std::string> description;
  std::optional<Severity> severity;
  // The ServiceAccount of the Runbook's namespace its actions run as; unset:
  // the operator's default (remedy-operator --default-service-account).
  std::optional<std::string> serviceAccountName;
  std::optional<std::vector<Trigger>> triggers;
  std::optional<std::vector<Parameter>> parameters;
  std::optional<std::vector<Step>> steps;
  std::optional<Guardrails> guardrails;
  std::optional<ApprovalPolicy> approval;
  std::optional<EscalationPolicy> escalation;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("description", s.description);
    v("severity", s.severity);
    v("serviceAccountName", s.serviceAccountName);
    v("triggers", s.triggers);
    v("parameters", s.parameters);
    v("steps", s.steps);
    v("guardrails", s.guardrails);
    v("approval", s.approval);
    v("escalation", s.escalation);
  }

  // The step named `name`, or nullptr.
  const Step* findStep(const std::string& name) const;
};

// One execution of a Runbook: an Incident that reached its first action.
struct ExecutionRecord {
  std::optional<std::string> incident;
  std::optional<std::string> time;  // RFC 3339: when its first action was reserved
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("incident", s.incident);
    v("time", s.time);
  }
};

// The CRD's maxItems for status.history: the most executions maxExecutions
// can count (its count's maximum).
inline constexpr size_t kMaxExecutionHistory = 100;

struct RunbookStatus {
  std::optional<int64_t> observedGeneration;
  std::optional<std::vector<Condition>> conditions;
  std::optional<int32_t> stepCount;
  std::optional<int64_t> executions;
  std::optional<std::string> lastExecutionTime;
  std::optional<std::string> lastIncident;
  std::optional<std::string> lastResult;
  // The latest executions, oldest first, at most kMaxExecutionHistory:
  // what cooldown and maxExecutions count, kept here so that deleting
  // Incidents does not reset them.
  std::optional<std::vector<ExecutionRecord>> history;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("observedGeneration", s.observedGeneration);
    v("conditions", s.conditions);
    v("stepCount", s.stepCount);
    v("executions", s.executions);
    v("lastExecutionTime", s.lastExecutionTime);
    v("lastIncident", s.lastIncident);
    v("lastResult", s.lastResult);
    v("history", s.history);
  }
};

struct Runbook : KubeObject<Runbook, RunbookSpec, RunbookStatus> {};

// Every distinct `secretKeyRef` ({name, key}) anywhere in `value` (a
// Runbook's spec: its steps, approval notices and escalation), in the order
// found: the Secret values an Incident of it may read, which actions that
// quote outside text (pod logs) redact.
std::vector<nlohmann::json> secretKeyRefsIn(const nlohmann::json& value);

}  // namespace remedy::api
