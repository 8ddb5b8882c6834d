#include "api/runbook_validator.h"

#include "api/action_catalog.h"
#include "api/common_types.h"
#include "api/crd_schemas.h"
#include "api/duration.h"
#include "api/matcher.h"
#include "api/reference.h"
#include "api/template.h"
#include "api/typed_values.h"
#include "api/when_expression.h"
#include "formats/go_regexp.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

namespace remedy::api {
namespace {

using json = nlohmann::json;

const json* get(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> getString(const json& object, const char* key) {
  const json* v = get(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<int64_t> getInt(const json& object, const char* key) {
  const json* v = get(object, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

std::string jsonQuoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string joined(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// A fixed expression of this file; they all compile (tests/api runs each).
formats::GoRegexp fixed(const char* pattern) { return formats::GoRegexp::compile(pattern).value(); }

bool isDnsSubdomain(const std::string& s) {
  static const formats::GoRegexp re =
      fixed(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return s.size() <= 253 && re.find(s);
}

bool isDnsLabel(const std::string& s) {
  static const formats::GoRegexp re = fixed(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  return s.size() <= 63 && re.find(s);
}

bool isLabelName(const std::string& s) {
  static const formats::GoRegexp re = fixed(R"(^[a-zA-Z_][a-zA-Z0-9_]*$)");
  return re.find(s);
}

// A problem with a PostgreSQL regular expression (the `~` operator's ARE
// dialect) that Go's syntax finds as well: unbalanced parentheses or
// brackets, a trailing backslash, a repetition of nothing. Other Go errors
// are not reported, since the dialects differ there (PostgreSQL has
// back-references, lookaround, \m and \M); PostgreSQL reports those when
// the step runs.
std::optional<std::string> unbalancedRegexp(const std::string& pattern) {
  auto re = formats::GoRegexp::compile(pattern);
  if (re.ok()) return std::nullopt;
  for (const char* shared :
       {"missing closing )", "unexpected )", "missing closing ]",
        "trailing backslash at end of expression", "missing argument to repetition operator"}) {
    if (re.error().code == shared) return re.error().message;
  }
  return std::nullopt;
}

bool isHttpUrl(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// Numeric-aware order of JSON pointers, so steps[10] sorts after steps[2].
bool pointerLess(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    size_t ai = a.find('/', i + 1);
    size_t bj = b.find('/', j + 1);
    std::string ta = a.substr(i, ai == std::string::npos ? std::string::npos : ai - i);
    std::string tb = b.substr(j, bj == std::string::npos ? std::string::npos : bj - j);
    if (ta != tb) {
      auto digit = [](char c) { return c >= '0' && c <= '9'; };
      bool na = ta.size() > 1 && ta.size() < 10 && std::all_of(ta.begin() + 1, ta.end(), digit);
      bool nb = tb.size() > 1 && tb.size() < 10 && std::all_of(tb.begin() + 1, tb.end(), digit);
      if (na && nb) return std::stoul(ta.substr(1)) < std::stoul(tb.substr(1));
      return ta < tb;
    }
    if (ai == std::string::npos || bj == std::string::npos) {
      return ai == std::string::npos && bj != std::string::npos;
    }
    i = ai;
    j = bj;
  }
  return a.size() < b.size();
}

class RunbookChecker {
 public:
  explicit RunbookChecker(const json& runbook) : runbook_(runbook) {}

  std::vector<ValidationError> run() {
    checkHeader();
    const json* spec = get(runbook_, "spec");
    if (spec == nullptr || !spec->is_object()) return errors_;
    spec_ = spec;
    FieldPath specPath = FieldPath().child("spec");
    collectNames();
    if (auto sa = getString(*spec_, "serviceAccountName"); sa && !isDnsSubdomain(*sa)) {
      error(specPath.child("serviceAccountName"),
            jsonQuoted(*sa) + " is not a valid ServiceAccount name");
    }
    checkTriggers(specPath.child("triggers"));
    checkParameters(specPath.child("parameters"));
    checkGuardrails(specPath.child("guardrails"));
    checkApproval(specPath.child("approval"));
    checkSteps(specPath.child("steps"));
    checkEscalation(specPath.child("escalation"));
    return errors_;
  }

  // What run() found that is valid but probably not meant.
  const std::vector<ValidationError>& warnings() const { return warnings_; }

 private:
  void error(const FieldPath& path, const std::string& message) {
    errors_.push_back({path.str(), message, path.pointer()});
  }

  // ---- header ----

  void checkHeader() {
    if (auto apiVersion = getString(runbook_, "apiVersion");
        apiVersion && *apiVersion != kApiVersion) {
      error(FieldPath().child("apiVersion"),
            jsonQuoted(*apiVersion) + " is not served; use " + kApiVersion);
    }
    const json* metadata = get(runbook_, "metadata");
    FieldPath metaPath = FieldPath().child("metadata");
    if (metadata == nullptr || !metadata->is_object()) {
      error(metaPath.child("name"), "Required value");
      return;
    }
    std::optional<std::string> name = getString(*metadata, "name");
    if (!name && !getString(*metadata, "generateName")) {
      error(metaPath.child("name"), "Required value");
    } else if (name && !isDnsSubdomain(*name)) {
      error(metaPath.child("name"),
            jsonQuoted(*name) + " is not a valid name: lowercase letters, digits, '-' and '.', " +
                "starting and ending with a letter or digit");
    }
    ownNamespace_ = getString(*metadata, "namespace");
    if (ownNamespace_ && !isDnsLabel(*ownNamespace_)) {
      error(metaPath.child("namespace"),
            jsonQuoted(*ownNamespace_) + " is not a valid namespace name");
    }
  }

  // ---- names known everywhere ----

  void collectNames() {
    if (const json* params = get(*spec_, "parameters"); params && params->is_array()) {
      for (const json& p : *params) {
        if (auto name = getString(p, "name")) allParams_.insert(*name);
      }
    }
    if (const json* steps = get(*spec_, "steps"); steps && steps->is_array()) {
      for (const json& s : *steps) {
        std::optional<std::string> name = getString(s, "name");
        std::vector<std::string> actions = actionsOf(s);
        allSteps_.emplace_back(name.value_or(""), actions.size() == 1 ? actions[0] : "");
      }
    }
    if (const json* guardrails = get(*spec_, "guardrails")) {
      if (const json* allowed = get(*guardrails, "allowedNamespaces");
          allowed && allowed->is_array()) {
        for (const json& ns : *allowed) {
          if (ns.is_string()) allowedNamespaces_.insert(ns.get<std::string>());
        }
      }
      if (const json* scale = get(*guardrails, "scale")) {
        guardScaleMin_ = getInt(*scale, "minReplicas");
        guardScaleMax_ = getInt(*scale, "maxReplicas");
        guardScaleMaxChange_ = getInt(*scale, "maxChange");
      }
      if (const json* pods = get(*guardrails, "podDisruption")) {
        guardPodsMaxCount_ = getInt(*pods, "maxCount");
        guardPodsMaxPercent_ = getInt(*pods, "maxPercent");
      }
    }
  }

  static std::vector<std::string> actionsOf(const json& step) {
    std::vector<std::string> present;
    for (const std::string& field : actionFields()) {
      if (get(step, field.c_str()) != nullptr) present.push_back(field);
    }
    return present;
  }

  // ---- durations, templates, references ----

  std::optional<Duration> duration(const json& object, const char* key, const FieldPath& path,
                                   bool allowZero = true) {
    std::optional<std::string> text = getString(object, key);
    if (!text) return std::nullopt;
    Result<Duration> d = parseDuration(*text);
    if (!d.ok()) {
      error(path.child(key), d.error());
      return std::nullopt;
    }
    if (!allowZero && d.value().count() == 0) {
      error(path.child(key), "must be longer than 0s");
      return std::nullopt;
    }
    return d.value();
  }

  // Checks a template string; returns false when it does not parse.
  bool checkTemplate(const std::string& text, const FieldPath& path, const ReferenceScope& scope,
                     bool inParameter = false) {
    if (!hasTemplate(text)) return true;
    Result<Template> t = Template::parse(text);
    if (!t.ok()) {
      error(path, t.error());
      return false;
    }
    for (const TemplateReference& ref : t->references()) {
      if (inParameter && !ref.reference.path.empty() && ref.reference.path[0] == "steps") {
        error(path, ref.expression + " refers to a step, but parameters are computed before " +
                        "any step runs");
        continue;
      }
      if (auto why = checkReference(ref.reference, scope)) {
        error(path, ref.expression + " refers to " + *why);
      }
    }
    return true;
  }

  // Checks every string under `node` as a template.
  void checkTemplatesIn(const json& node, const FieldPath& path, const ReferenceScope& scope) {
    if (node.is_string()) {
      checkTemplate(node.get<std::string>(), path, scope);
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) checkTemplatesIn(node[i], path.index(i), scope);
    } else if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        checkTemplatesIn(it.value(), path.child(it.key()), scope);
      }
    }
  }

  ReferenceScope scopeBeforeStep(size_t index) const {
    ReferenceScope scope;
    scope.params = allParams_;
    scope.allParams = allParams_;
    scope.allSteps = allSteps_;
    for (size_t i = 0; i < index && i < allSteps_.size(); ++i) {
      scope.earlierSteps.push_back(allSteps_[i]);
    }
    if (index < allSteps_.size()) scope.currentStep = allSteps_[index].first;
    return scope;
  }

  // ---- triggers ----

  void checkTriggers(const FieldPath& path) {
    const json* triggers = get(*spec_, "triggers");
    if (triggers == nullptr || !triggers->is_array()) return;
    for (size_t i = 0; i < triggers->size(); ++i) {
      const json& trigger = (*triggers)[i];
      FieldPath at = path.index(i);
      if (!trigger.is_object()) continue;
      bool constrained = false;
      for (const char* field : {"alertName", "labels", "matchers", "severities"}) {
        const json* v = get(trigger, field);
        if (v != nullptr && !(v->is_array() && v->empty()) && !(v->is_object() && v->empty())) {
          constrained = true;
        }
      }
      if (!constrained) {
        error(at, "matches every alert; set alertName, labels, matchers or severities");
      }
      if (const json* labels = get(trigger, "labels"); labels && labels->is_object()) {
        for (auto it = labels->begin(); it != labels->end(); ++it) {
          if (!isLabelName(it.key())) {
            error(at.child("labels").key(it.key()),
                  jsonQuoted(it.key()) + " is not a label name (letters, digits and '_')");
          }
        }
      }
      if (const json* matchers = get(trigger, "matchers"); matchers && matchers->is_array()) {
        for (size_t j = 0; j < matchers->size(); ++j) {
          if (!(*matchers)[j].is_string()) continue;
          Result<Matcher> m = Matcher::parse((*matchers)[j].get<std::string>());
          if (!m.ok()) error(at.child("matchers").index(j), m.error());
        }
      }
    }
  }

  // ---- parameters ----

  void checkParameters(const FieldPath& path) {
    const json* params = get(*spec_, "parameters");
    if (params == nullptr || !params->is_array()) return;
    std::map<std::string, size_t> seen;
    ReferenceScope scope;
    scope.allParams = allParams_;
    scope.allSteps = allSteps_;
    for (size_t i = 0; i < params->size(); ++i) {
      const json& param = (*params)[i];
      FieldPath at = path.index(i);
      if (!param.is_object()) continue;
      std::optional<std::string> name = getString(param, "name");
      if (name) {
        auto [it, inserted] = seen.emplace(*name, i);
        if (!inserted) {
          error(at.child("name"), "duplicate parameter name " + jsonQuoted(*name) + " (also " +
                                      path.index(it->second).str() + ")");
        }
      }
      std::optional<std::string> value = getString(param, "value");
      std::optional<std::string> defaultValue = getString(param, "default");
      if (!value && !defaultValue && get(param, "value") == nullptr &&
          get(param, "default") == nullptr) {
        error(at, "set value (a template such as {{ alert.labels.deployment }}), default, or both");
      }
      if (value) checkTemplate(*value, at.child("value"), scope, true);
      if (defaultValue && hasTemplate(*defaultValue)) {
        error(at.child("default"), "is a literal value, not a template; put templates in value");
      }
      if (auto pattern = getString(param, "pattern")) {
        Result<formats::GoRegexp> re = compileAnchoredRegex(*pattern);
        if (!re.ok()) {
          error(at.child("pattern"), re.error());
        } else {
          if (defaultValue && !hasTemplate(*defaultValue) && !re->find(*defaultValue)) {
            error(at.child("default"),
                  jsonQuoted(*defaultValue) + " does not match pattern " + jsonQuoted(*pattern));
          }
          if (value && !hasTemplate(*value) && !re->find(*value)) {
            error(at.child("value"),
                  jsonQuoted(*value) + " does not match pattern " + jsonQuoted(*pattern));
          }
        }
      }
      if (name) scope.params.insert(*name);
    }
  }

  // ---- guardrails, approval ----

  void checkGuardrails(const FieldPath& path) {
    const json* guardrails = get(*spec_, "guardrails");
    if (guardrails == nullptr || !guardrails->is_object()) return;
    duration(*guardrails, "cooldown", path);
    if (const json* max = get(*guardrails, "maxExecutions")) {
      duration(*max, "per", path.child("maxExecutions"), false);
    }
    if (guardScaleMin_ && guardScaleMax_ && *guardScaleMin_ > *guardScaleMax_) {
      error(path.child("scale").child("minReplicas"), std::to_string(*guardScaleMin_) +
                                                          " is greater than maxReplicas (" +
                                                          std::to_string(*guardScaleMax_) + ")");
    }
  }

  void checkApproval(const FieldPath& path) {
    const json* approval = get(*spec_, "approval");
    if (approval == nullptr || !approval->is_object()) return;
    duration(*approval, "timeout", path, false);
    std::optional<int64_t> min = getInt(*approval, "minApprovals");
    const json* users = get(*approval, "users");
    const json* groups = get(*approval, "groups");
    bool hasGroups = groups != nullptr && groups->is_array() && !groups->empty();
    if (min && users != nullptr && users->is_array() && !hasGroups &&
        static_cast<size_t>(*min) > users->size()) {
      error(path.child("minApprovals"), std::to_string(*min) + " approvals are needed but only " +
                                            std::to_string(users->size()) +
                                            " users may approve and no groups are listed");
    }
    // Sent when a step begins waiting, so it may read the steps before it.
    const json* notify = get(*approval, "notify");
    if (notify != nullptr && notify->is_array()) {
      ReferenceScope scope = scopeBeforeStep(allSteps_.size());
      for (size_t i = 0; i < notify->size(); ++i) {
        checkTemplatesIn((*notify)[i], path.child("notify").index(i), scope);
        checkNotification((*notify)[i], path.child("notify").index(i));
      }
    }
  }

  // ---- steps ----

  void checkSteps(const FieldPath& path) {
    const json* steps = get(*spec_, "steps");
    if (steps == nullptr || !steps->is_array()) return;
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < steps->size(); ++i) {
      const json& step = (*steps)[i];
      FieldPath at = path.index(i);
      if (!step.is_object()) continue;
      if (auto name = getString(step, "name")) {
        auto [it, inserted] = seen.emplace(*name, i);
        if (!inserted) {
          error(at.child("name"), "duplicate step name " + jsonQuoted(*name) + " (also " +
                                      path.index(it->second).str() + ")");
        }
      }
      checkStep(step, at, i);
    }
  }

  void checkStep(const json& step, const FieldPath& at, size_t index) {
    ReferenceScope scope = scopeBeforeStep(index);
    std::vector<std::string> actions = actionsOf(step);
    if (actions.empty()) {
      error(at, "has no action; set exactly one of " + joined(actionFields()));
    } else if (actions.size() > 1) {
      error(at, "has " + std::to_string(actions.size()) + " actions (" + joined(actions) +
                    "); a step takes exactly one");
    }
    if (auto when = getString(step, "when")) {
      Result<WhenExpression> expr = WhenExpression::parse(*when);
      if (!expr.ok()) {
        error(at.child("when"), expr.error());
      } else {
        for (const std::string& why : expr->check(scope)) error(at.child("when"), why);
        for (const std::string& why : expr->warnings()) {
          FieldPath wp = at.child("when");
          warnings_.push_back({wp.str(), why, wp.pointer()});
        }
      }
    }
    std::optional<Duration> timeout = duration(step, "timeout", at, false);
    if (const json* retries = get(step, "retries")) {
      FieldPath rp = at.child("retries");
      std::optional<Duration> backoff = duration(*retries, "backoff", rp);
      std::optional<Duration> maxBackoff = duration(*retries, "maxBackoff", rp);
      if (backoff && maxBackoff && *backoff > *maxBackoff) {
        error(rp.child("backoff"), formatDuration(*backoff) + " is longer than maxBackoff (" +
                                       formatDuration(*maxBackoff) + ")");
      }
    }
    std::string action = actions.size() == 1 ? actions[0] : "";
    checkRevert(step, at, action);
    for (const std::string& field : actions) {
      const json& body = step[field];
      FieldPath ap = at.child(field);
      checkTemplatesIn(body, ap, scope);
      if (!body.is_object()) continue;
      StepContext ctx{ap, timeout.value_or(defaultTimeout(field))};
      if (field == "scale") checkScale(body, ctx);
      if (field == "rolloutRestart") checkRolloutRestart(body, ctx);
      if (field == "rolloutUndo") checkTarget(body, ctx.path, "rolloutUndo");
      if (field == "deletePods") checkDeletePods(body, ctx);
      if (field == "waitFor") checkWaitFor(body, ctx);
      if (field == "runJob") checkRunJob(body, ctx);
      if (field == "postgres") checkPostgres(body, ctx);
      if (field == "redis") checkRedis(body, ctx);
      if (field == "http") checkHttp(body, ctx);
      if (field == "prometheusCheck") checkPrometheus(body, ctx);
      if (field == "prometheusQuery") checkPrometheusQuery(body, ctx);
      if (field == "notify") checkNotification(body, ap);
      if (field == "patch") checkPatch(body, ctx);
      if (field == "apply") checkApply(body, ctx);
      if (field == "podLogs") checkPodLogs(body, ctx);
    }
  }

  static Duration defaultTimeout(const std::string& action) {
    if (action == "waitForResolved") return std::chrono::minutes(30);
    if (action == "waitFor" || action == "runJob" || action == "prometheusCheck") {
      return std::chrono::minutes(10);
    }
    return std::chrono::minutes(5);
  }

  struct StepContext {
    FieldPath path;
    Duration timeout;
  };

  void checkRevert(const json& step, const FieldPath& at, const std::string& action) {
    const json* revert = get(step, "revert");
    if (revert == nullptr || !revert->is_object()) return;
    FieldPath rp = at.child("revert");
    const ActionInfo* info = findAction(action);
    bool revertible = info != nullptr && info->revertible;
    if (action == "redis") {
      revertible = get(step["redis"], "configSet") != nullptr;
    }
    if (!action.empty() && !revertible) {
      error(rp, "only scale, patch, apply and redis.configSet changes can be reverted, not " +
                    (action == "redis" ? std::string("other redis operations") : action));
    }
    duration(*revert, "after", rp, false);
    const json* onResolved = get(*revert, "onResolved");
    bool resolves = onResolved != nullptr && onResolved->is_boolean() && onResolved->get<bool>();
    if (get(*revert, "after") == nullptr && !resolves) {
      error(rp, "set after (such as 30m), onResolved: true, or both");
    }
  }

  // Checks a target's literal fields (templated ones are checked when rendered).
  // The kinds the action accepts are in typed_values.h (never a Secret).
  void checkTarget(const json& body, const FieldPath& path, const std::string& action) {
    const json* target = get(body, "target");
    if (target == nullptr || !target->is_object()) return;
    FieldPath tp = path.child("target");
    if (get(*target, "pod") != nullptr || get(*target, "owner") != nullptr) {
      checkPodOwnerTarget(*target, tp, action);
      return;
    }
    if (get(*target, "name") == nullptr) {
      error(tp,
            "set name (the object), or pod with owner (the workload that controls a pod, "
            "such as the alert's)");
    }
    std::string kind = getString(*target, "kind").value_or("Deployment");
    std::optional<std::string> apiVersion = getString(*target, "apiVersion");
    if (!apiVersion) apiVersion = defaultApiVersion(kind);
    if (!hasTemplate(kind) && !(apiVersion && hasTemplate(*apiVersion))) {
      if (auto refusal = targetKindRefusal(action, apiVersion.value_or(""), kind)) {
        error(tp.child("kind"), *refusal);
      }
    }
    if (!apiVersion) {
      error(tp.child("apiVersion"),
            "Required value: kind " + jsonQuoted(kind) + " has no default apiVersion");
    }
    if (auto name = getString(*target, "name");
        name && !hasTemplate(*name) && !isDnsSubdomain(*name)) {
      error(tp.child("name"), jsonQuoted(*name) + " is not a valid object name");
    }
    checkNamespace(*target, "namespace", tp);
  }

  // `pod` with `owner`: the workload that controls the pod (an alert's
  // `pod` label), found through ownerReferences when the step starts. The
  // schema's oneOf (name | pod with owner) is explained here, at the
  // target, where its errors are placed.
  void checkPodOwnerTarget(const json& target, const FieldPath& tp, const std::string& action) {
    std::optional<std::string> pod = getString(target, "pod");
    std::optional<std::string> owner = getString(target, "owner");
    bool hasPod = get(target, "pod") != nullptr;
    bool hasOwner = get(target, "owner") != nullptr;
    if (get(target, "name") != nullptr) {
      error(tp, hasPod ? "set name or pod (with owner), not both"
                       : "owner is only used with pod; with name, set kind");
    } else if (!hasPod) {
      error(tp,
            "owner names the kind of the workload that controls a pod; set pod too "
            "(such as '{{ alert.labels.pod }}')");
    } else if (!hasOwner) {
      error(tp,
            "with pod, set owner (Deployment or StatefulSet): the kind of the pod's "
            "workload the step acts on");
    }
    for (const char* key : {"kind", "apiVersion"}) {
      if (get(target, key) != nullptr) {
        error(tp.child(key),
              std::string("the owner kind names the workload; ") + key + " is not used with pod");
      }
    }
    if (owner && *owner != "Deployment" && *owner != "StatefulSet") {
      error(tp.child("owner"), jsonQuoted(*owner) +
                                   " is not supported: a pod's owner is resolved to a "
                                   "Deployment or a StatefulSet");
    } else if (owner) {
      if (auto refusal = targetKindRefusal(action, "apps/v1", *owner)) {
        error(tp.child("owner"), *refusal);
      }
    }
    if (pod && !hasTemplate(*pod) && !isDnsSubdomain(*pod)) {
      error(tp.child("pod"), jsonQuoted(*pod) + " is not a valid pod name");
    }
    checkNamespace(target, "namespace", tp);
  }

  void checkNamespace(const json& object, const char* key, const FieldPath& path) {
    std::optional<std::string> ns = getString(object, key);
    if (!ns || hasTemplate(*ns)) return;
    if (!isDnsLabel(*ns)) {
      error(path.child(key), jsonQuoted(*ns) + " is not a valid namespace name");
      return;
    }
    if (ownNamespace_ && *ns != *ownNamespace_ && !allowedNamespaces_.count(*ns)) {
      error(path.child(key), jsonQuoted(*ns) + " is neither the Runbook's namespace (" +
                                 *ownNamespace_ + ") nor in spec.guardrails.allowedNamespaces");
    }
  }

  void checkScale(const json& body, const StepContext& ctx) {
    checkTarget(body, ctx.path, "scale");
    std::optional<int64_t> min = getInt(body, "minReplicas");
    std::optional<int64_t> max = getInt(body, "maxReplicas");
    if (min && max && *min > *max) {
      error(ctx.path.child("minReplicas"),
            std::to_string(*min) + " is greater than maxReplicas (" + std::to_string(*max) + ")");
    }
    const json* replicas = get(body, "replicas");
    if (replicas == nullptr) return;
    FieldPath rp = ctx.path.child("replicas");
    std::optional<int64_t> absolute;
    std::optional<int64_t> change;
    if (replicas->is_number_integer()) {
      absolute = replicas->get<int64_t>();
    } else if (replicas->is_string()) {
      std::string text = replicas->get<std::string>();
      static const formats::GoRegexp number = fixed(R"(^[0-9]+$)");
      static const formats::GoRegexp relative = fixed(R"(^[+-][0-9]+$)");
      if (hasTemplate(text)) return;  // checked as a template; the engine checks the result
      if (number.find(text) && text.size() < 10) {
        absolute = std::stoll(text);
      } else if (relative.find(text) && text.size() < 10) {
        change = std::stoll(text);
      } else {
        error(rp, jsonQuoted(text) + " is not a number or a relative change like \"+2\"");
        return;
      }
    } else {
      return;  // the schema reports the type
    }
    if (absolute) {
      if (*absolute < 0) {
        error(rp, std::to_string(*absolute) + " is negative");
      } else if (max && *absolute > *max) {
        error(rp,
              std::to_string(*absolute) + " is above maxReplicas (" + std::to_string(*max) + ")");
      } else if (min && *absolute < *min) {
        error(rp,
              std::to_string(*absolute) + " is below minReplicas (" + std::to_string(*min) + ")");
      } else if (guardScaleMax_ && *absolute > *guardScaleMax_) {
        error(rp, std::to_string(*absolute) + " is above spec.guardrails.scale.maxReplicas (" +
                      std::to_string(*guardScaleMax_) + ")");
      } else if (guardScaleMin_ && *absolute < *guardScaleMin_) {
        error(rp, std::to_string(*absolute) + " is below spec.guardrails.scale.minReplicas (" +
                      std::to_string(*guardScaleMin_) + ")");
      }
    }
    if (change && guardScaleMaxChange_ && std::abs(*change) > *guardScaleMaxChange_) {
      error(rp, "a change of " + replicas->get<std::string>() +
                    " exceeds spec.guardrails.scale.maxChange (" +
                    std::to_string(*guardScaleMaxChange_) + ")");
    }
    if (change && *change == 0) error(rp, "a change of 0 does nothing");
  }

  void checkRolloutRestart(const json& body, const StepContext& ctx) {
    checkTarget(body, ctx.path, "rolloutRestart");
  }

  void checkDeletePods(const json& body, const StepContext& ctx) {
    bool hasTarget = get(body, "target") != nullptr;
    bool hasSelector = get(body, "selector") != nullptr;
    if (hasTarget == hasSelector) {
      error(ctx.path, hasTarget ? "set target or selector, not both"
                                : "set target (a workload) or selector (pod labels)");
    }
    checkTarget(body, ctx.path, "deletePods");
    if (hasTarget && get(body, "namespace") != nullptr) {
      error(ctx.path.child("namespace"),
            "is only used with selector; set target.namespace instead");
    }
    checkNamespace(body, "namespace", ctx.path);
    if (const json* selector = get(body, "selector")) {
      if (const json* exprs = get(*selector, "matchExpressions"); exprs && exprs->is_array()) {
        for (size_t i = 0; i < exprs->size(); ++i) {
          const json& req = (*exprs)[i];
          FieldPath rp = ctx.path.child("selector").child("matchExpressions").index(i);
          std::string op = getString(req, "operator").value_or("");
          const json* values = get(req, "values");
          bool hasValues = values != nullptr && values->is_array() && !values->empty();
          if ((op == "In" || op == "NotIn") && !hasValues) {
            error(rp.child("values"), "Required value: " + op + " needs at least one value");
          }
          if ((op == "Exists" || op == "DoesNotExist") && hasValues) {
            error(rp.child("values"), op + " takes no values");
          }
        }
      }
    }
    if (auto count = getInt(body, "maxCount");
        count && guardPodsMaxCount_ && *count > *guardPodsMaxCount_) {
      error(ctx.path.child("maxCount"), std::to_string(*count) +
                                            " exceeds spec.guardrails.podDisruption.maxCount (" +
                                            std::to_string(*guardPodsMaxCount_) + ")");
    }
    if (auto pct = getInt(body, "maxPercent");
        pct && guardPodsMaxPercent_ && *pct > *guardPodsMaxPercent_) {
      error(ctx.path.child("maxPercent"),
            std::to_string(*pct) + " exceeds spec.guardrails.podDisruption.maxPercent (" +
                std::to_string(*guardPodsMaxPercent_) + ")");
    }
  }

  void checkPoll(const json& body, const char* key, const StepContext& ctx) {
    std::optional<Duration> d = duration(body, key, ctx.path, false);
    if (d && *d >= ctx.timeout) {
      error(ctx.path.child(key), formatDuration(*d) + " is not shorter than the step's timeout (" +
                                     formatDuration(ctx.timeout) + ")");
    }
  }

  void checkWaitFor(const json& body, const StepContext& ctx) {
    checkTarget(body, ctx.path, "waitFor");
    std::vector<std::string> set;
    for (const char* f : {"condition", "field", "state"}) {
      if (get(body, f) != nullptr) set.push_back(f);
    }
    if (set.size() != 1) {
      error(ctx.path, set.empty()
                          ? "set one of condition, field or state"
                          : "set one of condition, field or state, not " + joined(set, " and "));
    }
    checkPoll(body, "pollInterval", ctx);
    if (const json* field = get(body, "field")) {
      std::string op = getString(*field, "operator").value_or("Equal");
      std::optional<std::string> value = getString(*field, "value");
      if (op != "Equal" && op != "NotEqual" && value && !hasTemplate(*value)) {
        char* end = nullptr;
        std::strtod(value->c_str(), &end);
        if (value->empty() || end != value->c_str() + value->size()) {
          error(ctx.path.child("field").child("value"),
                jsonQuoted(*value) + " is not a number, and " + op + " compares numbers");
        }
      }
    }
  }

  // tailLines and limitBytes of a log read (podLogs, runJob.logTail): the
  // bounds keep an Incident's status small.
  void checkLogBounds(const json& body, const FieldPath& path) {
    if (auto lines = getInt(body, "tailLines"); lines && (*lines < 1 || *lines > 1000)) {
      error(path.child("tailLines"), std::to_string(*lines) + " is not 1 to 1000 lines");
    }
    if (auto bytes = getInt(body, "limitBytes"); bytes && (*bytes < 1 || *bytes > 65536)) {
      error(path.child("limitBytes"), std::to_string(*bytes) + " is not 1 to 65536 bytes (64 KiB)");
    }
  }

  void checkPodLogs(const json& body, const StepContext& ctx) {
    const json* target = get(body, "target");
    bool hasPod = get(body, "pod") != nullptr;
    if (target != nullptr && target->is_object() && get(*target, "pod") != nullptr) {
      error(ctx.path.child("target").child("pod"),
            "podLogs reads the pod itself: set podLogs.pod (such as '{{ alert.labels.pod }}') "
            "instead of target.pod");
    } else {
      if (hasPod == (target != nullptr)) {
        error(ctx.path, hasPod ? "set pod or target, not both"
                               : "set pod (a pod's name, such as '{{ alert.labels.pod }}') or "
                                 "target (a workload, whose pod with the most restarts is read)");
      }
      checkTarget(body, ctx.path, "podLogs");
    }
    if (target != nullptr && get(body, "namespace") != nullptr) {
      error(ctx.path.child("namespace"), "is only used with pod; set target.namespace instead");
    }
    checkNamespace(body, "namespace", ctx.path);
    if (auto pod = getString(body, "pod"); pod && !hasTemplate(*pod) && !isDnsSubdomain(*pod)) {
      error(ctx.path.child("pod"), jsonQuoted(*pod) + " is not a valid pod name");
    }
    if (auto container = getString(body, "container");
        container && !hasTemplate(*container) && !isDnsLabel(*container)) {
      error(ctx.path.child("container"), jsonQuoted(*container) + " is not a valid container name");
    }
    checkLogBounds(body, ctx.path);
  }

  void checkRunJob(const json& body, const StepContext& ctx) {
    duration(body, "ttlAfterFinished", ctx.path);
    if (const json* logTail = get(body, "logTail"); logTail != nullptr && logTail->is_object()) {
      checkLogBounds(*logTail, ctx.path.child("logTail"));
    }
    const json* tmpl = get(body, "template");
    if (tmpl == nullptr) return;
    FieldPath sp = ctx.path.child("template").child("spec");
    const json* spec = get(*tmpl, "spec");
    if (spec == nullptr || !spec->is_object()) return;
    const json* containers = get(*spec, "containers");
    if (containers == nullptr || !containers->is_array() || containers->empty()) {
      error(sp.child("containers"), "Required value: a Job needs at least one container");
    } else {
      for (size_t i = 0; i < containers->size(); ++i) {
        for (const char* required : {"name", "image"}) {
          if (getString((*containers)[i], required) == std::nullopt) {
            error(sp.child("containers").index(i).child(required), "Required value");
          }
        }
      }
    }
    if (auto policy = getString(*spec, "restartPolicy"); policy && *policy == "Always") {
      error(sp.child("restartPolicy"), "a Job's pods cannot use Always; use Never or OnFailure");
    }
    for (const ValidationError& e : runJobTemplateErrors(*tmpl, ctx.path.child("template"))) {
      errors_.push_back(e);
    }
  }

  void checkPostgres(const json& body, const StepContext& ctx) {
    std::vector<std::string> ops;
    for (const char* f : {"activityReport", "cancelBackends", "terminateBackends", "query"}) {
      if (get(body, f) != nullptr) ops.push_back(f);
    }
    const std::string one = "set one of activityReport, cancelBackends, terminateBackends or query";
    if (ops.size() != 1) error(ctx.path, ops.empty() ? one : one + ", not " + joined(ops, " and "));
    if (const json* query = get(body, "query"); query != nullptr && query->is_object()) {
      checkPostgresQuery(*query, ctx.path.child("query"));
    }
    for (const std::string& op : ops) {
      if (op == "query") continue;
      const json& filter = body[op];
      FieldPath fp = ctx.path.child(op);
      if (!filter.is_object()) continue;
      duration(filter, "olderThan", fp);
      if (auto pattern = getString(filter, "queryPattern")) {
        if (auto problem = unbalancedRegexp(*pattern)) {
          error(fp.child("queryPattern"),
                jsonQuoted(*pattern) + " is not a valid regular expression: " + *problem);
        }
      }
      if (op == "activityReport") continue;
      bool filtered = false;
      for (const char* f :
           {"olderThan", "states", "databases", "users", "applicationNames", "queryPattern"}) {
        const json* v = get(filter, f);
        if (v != nullptr && !(v->is_array() && v->empty())) filtered = true;
      }
      if (!filtered) {
        error(fp, "set at least one filter (olderThan, states, databases, users, " +
                      std::string("applicationNames or queryPattern); without one it would ") +
                      (op == "cancelBackends" ? "cancel" : "terminate") + " every backend");
      }
    }
  }

  void checkPostgresQuery(const json& query, const FieldPath& fp) {
    std::optional<std::string> sql = getString(query, "sql");
    if (!sql) return;
    if (hasTemplate(*sql)) {
      // A value rendered into SQL text is an injection; a parameter never is.
      error(fp.child("sql"),
            "must not contain templates; put each value in params and write $1, $2, ... in the "
            "SQL");
    }
    size_t given = 0;
    if (const json* params = get(query, "params"); params != nullptr && params->is_array()) {
      given = params->size();
    }
    // The highest $N the statement names (PostgreSQL would refuse it at run time).
    size_t highest = 0;
    for (size_t i = 0; i + 1 < sql->size(); ++i) {
      if ((*sql)[i] != '$' || !std::isdigit(static_cast<unsigned char>((*sql)[i + 1]))) continue;
      size_t n = 0;
      size_t j = i + 1;
      while (j < sql->size() && std::isdigit(static_cast<unsigned char>((*sql)[j])) && n < 1000) {
        n = n * 10 + static_cast<size_t>((*sql)[j] - '0');
        ++j;
      }
      highest = std::max(highest, n);
    }
    if (highest > given) {
      error(fp.child("params"), "the SQL uses $" + std::to_string(highest) + " but params has " +
                                    std::to_string(given) + (given == 1 ? " value" : " values"));
    }
  }

  void checkRedis(const json& body, const StepContext& ctx) {
    std::vector<std::string> ops;
    for (const char* f : {"info", "slowlog", "memoryUsage", "configSet", "deleteKeys"}) {
      if (get(body, f) != nullptr) ops.push_back(f);
    }
    const std::string one = "set one of info, slowlog, memoryUsage, configSet or deleteKeys";
    if (ops.size() != 1) error(ctx.path, ops.empty() ? one : one + ", not " + joined(ops, " and "));
    if (const json* usage = get(body, "memoryUsage")) {
      if (std::optional<std::string> pattern = getString(*usage, "pattern")) {
        for (const std::string& why : embeddingErrors(*pattern, Embedding::kRedisGlob)) {
          error(ctx.path.child("memoryUsage").child("pattern"), why);
        }
      }
    }
    if (const json* del = get(body, "deleteKeys")) {
      std::optional<std::string> pattern = getString(*del, "pattern");
      if (pattern) {
        for (const std::string& why : embeddingErrors(*pattern, Embedding::kRedisGlob)) {
          error(ctx.path.child("deleteKeys").child("pattern"), why);
        }
      }
      if (pattern && !hasTemplate(*pattern) && redisPatternMatchesEverything(*pattern)) {
        error(ctx.path.child("deleteKeys").child("pattern"),
              jsonQuoted(*pattern) +
                  " would delete every key; use a narrower pattern such as \"cache:*\"");
      }
    }
  }

  void checkUrlOrSecret(const json& body, const FieldPath& path) {
    bool hasUrl = get(body, "url") != nullptr;
    bool hasFrom = get(body, "urlFrom") != nullptr;
    if (hasUrl == hasFrom) {
      error(path, hasUrl ? "set url or urlFrom, not both" : "set url or urlFrom");
    }
    // A URL that starts with a template is checked when rendered.
    if (auto url = getString(body, "url"); url && url->rfind("{{", 0) != 0 && !isHttpUrl(*url)) {
      error(path.child("url"), jsonQuoted(*url) + " is not an http:// or https:// URL");
    }
  }

  void checkHttp(const json& body, const StepContext& ctx) {
    checkUrlOrSecret(body, ctx.path);
    // A JSON body (the default Content-Type) embeds values only escaped.
    bool jsonBody = true;
    if (const json* headers = get(body, "headers"); headers && headers->is_array()) {
      for (const json& h : *headers) {
        std::string name = getString(h, "name").value_or("");
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (name == "content-type") {
          std::string value = getString(h, "value").value_or("");
          jsonBody = value.find("json") != std::string::npos;
        }
      }
    }
    if (auto text = getString(body, "body"); text && jsonBody) {
      for (const std::string& why : embeddingErrors(*text, Embedding::kJsonBody)) {
        error(ctx.path.child("body"), why);
      }
    }
    std::string method = getString(body, "method").value_or("GET");
    if ((method == "GET" || method == "HEAD") && get(body, "body") != nullptr) {
      error(ctx.path.child("body"), "a " + method + " request has no body; set method: POST");
    }
    if (const json* headers = get(body, "headers"); headers && headers->is_array()) {
      for (size_t i = 0; i < headers->size(); ++i) {
        bool hasValue = get((*headers)[i], "value") != nullptr;
        bool hasFrom = get((*headers)[i], "valueFrom") != nullptr;
        if (hasValue == hasFrom) {
          error(ctx.path.child("headers").index(i),
                hasValue ? "set value or valueFrom, not both" : "set value or valueFrom");
        }
      }
    }
  }

  // The query and URL of prometheusCheck and prometheusQuery.
  void checkPromql(const json& body, const StepContext& ctx) {
    if (auto query = getString(body, "query")) {
      for (const std::string& why : embeddingErrors(*query, Embedding::kPromqlQuery)) {
        error(ctx.path.child("query"), why);
      }
    }
    if (auto url = getString(body, "url"); url && !hasTemplate(*url) && !isHttpUrl(*url)) {
      error(ctx.path.child("url"), jsonQuoted(*url) + " is not an http:// or https:// URL");
    }
  }

  void checkPrometheus(const json& body, const StepContext& ctx) {
    checkPromql(body, ctx);
    checkPoll(body, "pollInterval", ctx);
    checkPoll(body, "holdFor", ctx);
  }

  // maxSeries bounds the samples (and so the outputs) an Incident keeps.
  void checkPrometheusQuery(const json& body, const StepContext& ctx) {
    checkPromql(body, ctx);
    if (auto max = getInt(body, "maxSeries"); max && (*max < 1 || *max > 100)) {
      error(ctx.path.child("maxSeries"), std::to_string(*max) + " is not 1 to 100 series");
    }
  }

  void checkNotification(const json& body, const FieldPath& path) {
    if (!body.is_object()) return;
    checkUrlOrSecret(body, path);
  }

  void checkPatch(const json& body, const StepContext& ctx) {
    checkTarget(body, ctx.path, "patch");
    std::vector<std::string> kinds;
    for (const char* f : {"mergePatch", "strategicMergePatch", "jsonPatch"}) {
      if (get(body, f) != nullptr) kinds.push_back(f);
    }
    if (kinds.size() != 1) {
      error(ctx.path, kinds.empty()
                          ? "set one of mergePatch, strategicMergePatch or jsonPatch"
                          : "set one of mergePatch, strategicMergePatch or jsonPatch, not " +
                                joined(kinds, " and "));
    }
    for (const char* f : {"mergePatch", "strategicMergePatch"}) {
      const json* patch = get(body, f);
      if (patch != nullptr && patch->is_object() && patch->empty()) {
        error(ctx.path.child(f), "an empty patch changes nothing");
      }
    }
    if (const json* ops = get(body, "jsonPatch"); ops && ops->is_array()) {
      for (size_t i = 0; i < ops->size(); ++i) {
        const json& op = (*ops)[i];
        FieldPath op_path = ctx.path.child("jsonPatch").index(i);
        std::string name = getString(op, "op").value_or("");
        if ((name == "move" || name == "copy") && get(op, "from") == nullptr) {
          error(op_path.child("from"), "Required value: " + name + " needs from");
        }
        if ((name == "add" || name == "replace" || name == "test") && !op.contains("value")) {
          error(op_path.child("value"), "Required value: " + name + " needs value");
        }
      }
    }
  }

  void checkApply(const json& body, const StepContext& ctx) {
    const json* manifest = get(body, "manifest");
    if (manifest == nullptr || !manifest->is_object()) return;
    FieldPath mp = ctx.path.child("manifest");
    if (auto kind = getString(*manifest, "kind"); kind && !hasTemplate(*kind)) {
      if (auto refusal =
              targetKindRefusal("apply", getString(*manifest, "apiVersion").value_or(""), *kind)) {
        error(mp.child("kind"), *refusal);
      }
    }
    if (const json* metadata = get(*manifest, "metadata")) {
      if (auto name = getString(*metadata, "name");
          name && !hasTemplate(*name) && !isDnsSubdomain(*name)) {
        error(mp.child("metadata").child("name"),
              jsonQuoted(*name) + " is not a valid object name");
      }
      checkNamespace(*metadata, "namespace", mp.child("metadata"));
    }
  }

  // ---- escalation ----

  void checkEscalation(const FieldPath& path) {
    const json* escalation = get(*spec_, "escalation");
    if (escalation == nullptr || !escalation->is_object()) return;
    // Escalation runs after the steps, so it may read any step (with a
    // default, since a step may not have run).
    ReferenceScope scope = scopeBeforeStep(allSteps_.size());
    auto checkList = [&](const json* list, const FieldPath& lp) {
      if (list == nullptr || !list->is_array()) return;
      for (size_t i = 0; i < list->size(); ++i) {
        checkTemplatesIn((*list)[i], lp.index(i), scope);
        checkNotification((*list)[i], lp.index(i));
      }
    };
    checkList(get(*escalation, "notify"), path.child("notify"));
    const json* tiers = get(*escalation, "tiers");
    if (tiers == nullptr || !tiers->is_array()) return;
    std::optional<Duration> previous;
    for (size_t i = 0; i < tiers->size(); ++i) {
      const json& tier = (*tiers)[i];
      FieldPath tp = path.child("tiers").index(i);
      std::optional<Duration> after = duration(tier, "after", tp);
      if (after && previous && *after <= *previous) {
        error(tp.child("after"),
              formatDuration(*after) + " is not later than tiers[" + std::to_string(i - 1) +
                  "].after (" + formatDuration(*previous) + "); tiers must be in increasing order");
      }
      if (after) previous = after;
      checkList(get(tier, "notify"), tp.child("notify"));
    }
  }

  const json& runbook_;
  const json* spec_ = nullptr;
  std::vector<ValidationError> errors_;
  std::vector<ValidationError> warnings_;
  std::optional<std::string> ownNamespace_;
  std::set<std::string> allParams_;
  std::vector<std::pair<std::string, std::string>> allSteps_;
  std::set<std::string> allowedNamespaces_;
  std::optional<int64_t> guardScaleMin_;
  std::optional<int64_t> guardScaleMax_;
  std::optional<int64_t> guardScaleMaxChange_;
  std::optional<int64_t> guardPodsMaxCount_;
  std::optional<int64_t> guardPodsMaxPercent_;
};

// Schema errors, minus those on a field the semantic checks already explain
// better, plus the semantic errors; sorted by field, duplicates removed.
std::vector<ValidationError> merge(std::vector<ValidationError> schema,
                                   std::vector<ValidationError> semantic) {
  std::set<std::string> semanticPaths;
  for (const ValidationError& e : semantic) semanticPaths.insert(e.pointer);
  std::vector<ValidationError> all;
  for (ValidationError& e : schema) {
    if (!semanticPaths.count(e.pointer)) all.push_back(std::move(e));
  }
  for (ValidationError& e : semantic) all.push_back(std::move(e));
  std::stable_sort(all.begin(), all.end(), [](const ValidationError& a, const ValidationError& b) {
    return pointerLess(a.pointer, b.pointer);
  });
  std::vector<ValidationError> unique;
  for (ValidationError& e : all) {
    bool duplicate = std::any_of(unique.begin(), unique.end(), [&](const ValidationError& u) {
      return u.pointer == e.pointer && u.message == e.message;
    });
    if (!duplicate) unique.push_back(std::move(e));
  }
  return unique;
}

std::vector<ValidationError> schemaErrors(const std::string& kind, const json& object) {
  const SchemaValidator* validator = schemaValidatorFor(kind);
  if (validator == nullptr) return {};
  return validator->validate(object);
}

}  // namespace

std::vector<ValidationError> validateRunbookSemantics(const json& runbook) {
  if (!runbook.is_object()) return {{"", "a Runbook must be an object", ""}};
  return RunbookChecker(runbook).run();
}

std::vector<ValidationError> runbookWarnings(const json& runbook) {
  if (!runbook.is_object()) return {};
  RunbookChecker checker(runbook);
  checker.run();
  return checker.warnings();
}

std::vector<ValidationError> validateRunbook(const json& runbook) {
  if (!runbook.is_object()) return {{"", "a Runbook must be an object", ""}};
  return merge(schemaErrors("Runbook", runbook), validateRunbookSemantics(runbook));
}

std::vector<ValidationError> validateIncident(const json& incident) {
  if (!incident.is_object()) return {{"", "an Incident must be an object", ""}};
  std::vector<ValidationError> semantic;
  const json* spec = get(incident, "spec");
  if (spec != nullptr) {
    if (const json* alert = get(*spec, "alert")) {
      if (const json* labels = get(*alert, "labels"); labels && labels->is_object()) {
        for (auto it = labels->begin(); it != labels->end(); ++it) {
          if (!isLabelName(it.key())) {
            FieldPath p = FieldPath().child("spec").child("alert").child("labels").key(it.key());
            semantic.push_back(
                {p.str(), jsonQuoted(it.key()) + " is not a label name", p.pointer()});
          }
        }
      }
    }
  }
  return merge(schemaErrors("Incident", incident), std::move(semantic));
}

std::vector<ValidationError> validateApproval(const json& approval) {
  if (!approval.is_object()) return {{"", "an Approval must be an object", ""}};
  return merge(schemaErrors("Approval", approval), {});
}

std::string formatErrors(const std::vector<ValidationError>& errors) {
  std::vector<std::string> lines;
  for (const ValidationError& e : errors) lines.push_back(e.str());
  return joined(lines, "; ");
}

}  // namespace remedy::api
