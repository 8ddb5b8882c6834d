#include "actions/kubernetes_actions.h"

#include "actions/action_registry.h"
#include "actions/pod_logs_action.h"
#include "api/common_types.h"
#include "api/duration.h"
#include "api/runbook_policy.h"
#include "api/typed_values.h"
#include "kube/time_format.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>

namespace remedy::actions {
namespace {

using kube::Status;

std::optional<int> optionalInt(const json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// ".status.containerStatuses[0].ready" -> the value, or nullptr.
const json* lookupDotted(const json& object, const std::string& path) {
  const json* node = &object;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '.') return nullptr;
    size_t end = path.find_first_of(".[", i + 1);
    std::string key =
        path.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    i = end == std::string::npos ? path.size() : end;
    if (i < path.size() && path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string::npos) return nullptr;
      size_t index = std::stoul(path.substr(i + 1, close - i - 1));
      if (!node->is_array() || index >= node->size()) return nullptr;
      node = &(*node)[index];
      i = close + 1;
    }
  }
  return node;
}

std::string valueText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

bool compareValues(const json& actual, const std::string& op, const std::string& expected) {
  std::string text = valueText(actual);
  if (op.empty() || op == "Equal") return text == expected;
  if (op == "NotEqual") return text != expected;
  char* endA = nullptr;
  char* endB = nullptr;
  double a = std::strtod(text.c_str(), &endA);
  double b = std::strtod(expected.c_str(), &endB);
  if (text.empty() || *endA != '\0' || expected.empty() || *endB != '\0') return false;
  if (op == "GreaterThan") return a > b;
  if (op == "GreaterThanOrEqual") return a >= b;
  if (op == "LessThan") return a < b;
  if (op == "LessThanOrEqual") return a <= b;
  return false;
}

bool conditionHolds(const json& object, const std::string& type, const std::string& status) {
  for (const auto& c : object.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == type) return c.value("status", "") == status;
  }
  return false;
}

// Rollout complete as `kubectl rollout status` judges it (deployment.go
// DeploymentStatusViewer and the StatefulSet viewer).
bool rolloutComplete(const json& object, std::string* why) {
  const json spec = object.value("spec", json::object());
  const json status = object.value("status", json::object());
  int64_t generation = object["metadata"].value("generation", int64_t{0});
  int64_t observed = status.value("observedGeneration", int64_t{0});
  int64_t wanted = spec.value("replicas", int64_t{1});
  if (observed < generation) {
    *why = "waiting for the controller to observe generation " + std::to_string(generation);
    return false;
  }
  int64_t updated = status.value("updatedReplicas", int64_t{0});
  int64_t total = status.value("replicas", int64_t{0});
  int64_t available = status.contains("availableReplicas")
                          ? status.value("availableReplicas", int64_t{0})
                          : status.value("readyReplicas", int64_t{0});
  if (updated < wanted) {
    *why = std::to_string(updated) + " of " + std::to_string(wanted) + " replicas updated";
    return false;
  }
  if (total > updated) {
    *why = std::to_string(total - updated) + " old replicas pending termination";
    return false;
  }
  if (available < updated) {
    *why = std::to_string(available) + " of " + std::to_string(updated) +
           " updated replicas available";
    return false;
  }
  *why = "rollout complete: " + std::to_string(available) + " replicas available";
  return true;
}

kube::GetOptions scaleGet() {
  kube::GetOptions o;
  o.subresource = "scale";
  return o;
}

kube::WriteOptions scaleWrite() {
  kube::WriteOptions o;
  o.subresource = "scale";
  o.fieldManager = "remedy-operator";
  return o;
}

uint32_t fnv1a(const std::string& text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace

// A metav1.LabelSelector as the text of a list's labelSelector parameter,
// built from its structure: every key and value is checked for the label
// syntax first (which has no ',', '=', '!', '(' or space), so a value cannot
// add a requirement of its own. An error names the offending key or value.
kube::Result<std::string> labelSelectorText(const json& selector) {
  std::vector<std::string> parts;
  auto bad = [](const std::string& what) {
    return Status::configError("the selector's " + what +
                               " is not valid label syntax; refused rather than "
                               "matching other pods");
  };
  auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (selector.contains("matchLabels") && selector["matchLabels"].is_object()) {
    for (const auto& [k, v] : selector["matchLabels"].items()) {
      if (!api::isLabelKey(k)) return bad("key " + json(k).dump());
      if (!v.is_string() || !api::isLabelValue(v.get<std::string>())) {
        return bad("value " + text(v).substr(0, 64) + " of " + k);
      }
      parts.push_back(k + "=" + v.get<std::string>());
    }
  }
  if (selector.contains("matchExpressions") && selector["matchExpressions"].is_array()) {
    for (const auto& e : selector["matchExpressions"]) {
      std::string key = e.value("key", std::string());
      std::string op = e.value("operator", std::string());
      if (!api::isLabelKey(key)) return bad("key " + json(key).dump());
      std::string values;
      for (const auto& v : e.value("values", json::array())) {
        if (!v.is_string() || !api::isLabelValue(v.get<std::string>())) {
          return bad("value " + text(v).substr(0, 64) + " of " + key);
        }
        values += (values.empty() ? "" : ",") + v.get<std::string>();
      }
      if (op == "In") {
        parts.push_back(key + " in (" + values + ")");
      } else if (op == "NotIn") {
        parts.push_back(key + " notin (" + values + ")");
      } else if (op == "Exists") {
        parts.push_back(key);
      } else if (op == "DoesNotExist") {
        parts.push_back("!" + key);
      } else {
        return Status::configError("the selector's operator " + json(op).dump() +
                                   " is not In, NotIn, Exists or DoesNotExist");
      }
    }
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

kube::Result<TargetObject> resolveTarget(kube::Client& client, const json& target,
                                         const std::string& defaultNamespace) {
  if (!target.is_object()) return Status::configError("no target given");
  TargetObject t;
  t.kind = target.value("kind", std::string("Deployment"));
  std::string apiVersion = target.value("apiVersion", std::string());
  if (apiVersion.empty()) {
    auto defaulted = api::defaultApiVersion(t.kind);
    if (!defaulted) return Status::configError("target kind " + t.kind + " needs an apiVersion");
    apiVersion = *defaulted;
  }
  // Whatever the caller checked: no action reads or writes a Secret through
  // a target.
  if (api::isSecretKind(api::groupOf(apiVersion), t.kind)) {
    return Status::configError("a Secret is never the target of a step");
  }
  t.name = target.value("name", std::string());
  t.ns = target.value("namespace", std::string());
  if (t.ns.empty()) t.ns = defaultNamespace;
  if (t.name.empty()) return Status::configError("target " + t.kind + " has no name");
  auto resource = client.resourceFor(apiVersion, t.kind);
  if (!resource.ok()) return resource.status();
  t.resource = *resource;
  return t;
}

ActionOutcome apiFailure(const Status& s, const std::string& what) {
  std::string message = what + ": " + s.toString();
  return isRetriableApiError(s) ? ActionOutcome::transientFailure(message)
                                : ActionOutcome::permanent(message);
}

bool isRetriableApiError(const Status& s) {
  return kube::isTooManyRequests(s) || kube::isConflict(s) || kube::isServerTimeout(s) ||
         kube::isTimeout(s) || kube::isInternalError(s) || kube::isServiceUnavailable(s) ||
         kube::isConnectionFailed(s);
}

std::optional<int> computeScaleReplicas(int from, const json& replicas,
                                        std::optional<int> minReplicas,
                                        std::optional<int> maxReplicas) {
  // 64-bit arithmetic on at most 10 digits, and every number outside int32
  // refused rather than wrapped ("4294967296" is not 0 replicas).
  int64_t value = 0;
  if (replicas.is_number_integer()) {
    int64_t n = replicas.get<int64_t>();
    if (n < 0 || n > INT32_MAX) return std::nullopt;
    value = n;
  } else if (replicas.is_string()) {
    std::string text = replicas.get<std::string>();
    if (text.empty()) return std::nullopt;
    bool relative = text[0] == '+' || text[0] == '-';
    std::string digits = text.substr(relative ? 1 : 0);
    if (digits.empty() || digits.size() > 10 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    int64_t n = std::strtoll(digits.c_str(), nullptr, 10);
    if (n > INT32_MAX) return std::nullopt;
    value = !relative ? n : text[0] == '+' ? from + n : from - n;
  } else {
    return std::nullopt;
  }
  if (minReplicas && value < *minReplicas) value = *minReplicas;
  if (maxReplicas && value > *maxReplicas) value = *maxReplicas;
  if (value < 0) value = 0;
  if (value > INT32_MAX) return std::nullopt;
  return static_cast<int>(value);
}

std::vector<std::string> podStates(const json& pod) {
  std::set<std::string> states;
  const json status = pod.value("status", json::object());
  std::string phase = status.value("phase", "");
  if (phase == "Pending") states.insert("Pending");
  if (phase == "Failed") {
    states.insert("Failed");
    if (status.value("reason", "") == "Evicted") states.insert("Evicted");
  }
  if (phase == "Running" && !conditionHolds(pod, "Ready", "True")) states.insert("NotReady");
  for (const auto& c : status.value("containerStatuses", json::array())) {
    std::string waiting =
        c.value("state", json::object()).value("waiting", json::object()).value("reason", "");
    if (waiting == "CrashLoopBackOff" || waiting == "ImagePullBackOff") states.insert(waiting);
    if (waiting == "ErrImagePull") states.insert("ImagePullBackOff");
    std::string lastReason = c.value("lastState", json::object())
                                 .value("terminated", json::object())
                                 .value("reason", "");
    if (lastReason == "OOMKilled") states.insert("OOMKilled");
  }
  return {states.begin(), states.end()};
}

// ---- scale ----

ActionOutcome ScaleAction::prepare(const json& params, const ActionContext& context) {
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) return apiFailure(target.status(), "scale");
  auto scale = context.client->get(target->resource, target->ns, target->name, scaleGet());
  if (!scale.ok()) return apiFailure(scale.status(), "read scale of " + target->describe());
  int from = (*scale)["spec"].value("replicas", 0);
  return ActionOutcome::succeeded("", {{"previousReplicas", std::to_string(from)}});
}

ActionOutcome ScaleAction::run(const json& params, const ActionContext& context) {
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) return apiFailure(target.status(), "scale");
  // The replicas recorded before the first attempt (prepare) are what a
  // relative change applies to; without them, the scale is read now.
  std::optional<int> current;
  auto recorded = context.baseline.find("previousReplicas");
  if (recorded == context.baseline.end()) {
    auto scale = context.client->get(target->resource, target->ns, target->name, scaleGet());
    if (!scale.ok()) return apiFailure(scale.status(), "read scale of " + target->describe());
    current = (*scale)["spec"].value("replicas", 0);
  }
  int from = current ? *current : std::stoi(recorded->second);
  auto to =
      computeScaleReplicas(from, params.value("replicas", json()),
                           optionalInt(params, "minReplicas"), optionalInt(params, "maxReplicas"));
  if (!to) {
    return ActionOutcome::permanent("scale " + target->describe() + ": replicas " +
                                    params.value("replicas", json()).dump() +
                                    " is not a number or a relative change like \"+2\"");
  }
  Outputs outputs = {{"previousReplicas", std::to_string(from)}, {"replicas", std::to_string(*to)}};
  std::string change = target->describe() + " from " + std::to_string(from) + " to " +
                       std::to_string(*to) + " replicas";
  if (context.dryRun) return ActionOutcome::succeeded("dry run: would scale " + change, outputs);
  auto scaled = [&] {
    auto outcome = ActionOutcome::succeeded("scaled " + change, outputs);
    if (from != *to) {
      outcome.changedFrom = {{"replicas", from}};
      outcome.changedTo = {{"replicas", *to}};
    }
    return outcome;
  };
  if (current == *to) return scaled();
  // `to` is absolute (a relative change was resolved against the value
  // recorded before the first attempt), so the write is neither read first
  // nor conditional: a status update by the workload's controller must not
  // fail the step, and a second run (after a crash) writes the same value,
  // which changes nothing. An update, as `kubectl scale` makes, so the
  // tenant's Role needs `update` on the scale subresource, not `patch`.
  json body = {{"apiVersion", "autoscaling/v1"},
               {"kind", "Scale"},
               {"metadata", {{"name", target->name}, {"namespace", target->ns}}},
               {"spec", {{"replicas", *to}}}};
  auto written = context.client->update(target->resource, target->ns, body, scaleWrite());
  if (!written.ok()) return apiFailure(written.status(), "scale " + target->describe());
  return scaled();
}

RevertOutcome ScaleAction::revert(const json& params, const json& changedFrom,
                                  const json& changedTo, const ActionContext& context) {
  auto recorded = [](const json& change) -> std::optional<int> {
    if (!change.is_object() || !change.contains("replicas")) return std::nullopt;
    const json& r = change["replicas"];
    if (!r.is_number_integer() || r.get<int64_t>() < 0 || r.get<int64_t>() > INT32_MAX) {
      return std::nullopt;
    }
    return r.get<int>();
  };
  auto from = recorded(changedFrom);
  auto to = recorded(changedTo);
  if (!from || !to) {
    return {RevertKind::kFailed, "scale: no replicas recorded to restore (changedFrom " +
                                     changedFrom.dump() + ", changedTo " + changedTo.dump() + ")"};
  }
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) {
    return {
        isRetriableApiError(target.status()) ? RevertKind::kRetriableFailure : RevertKind::kFailed,
        "scale: " + target.status().toString()};
  }
  std::string what = target->describe();
  std::string restore =
      "from " + std::to_string(*to) + " back to " + std::to_string(*from) + " replicas";
  // A status write by the workload's controller changes the resourceVersion
  // too: re-read and try again while the replicas are still Remedy's.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto scale = context.client->get(target->resource, target->ns, target->name, scaleGet());
    if (!scale.ok()) {
      if (kube::isNotFound(scale.status())) {
        return {RevertKind::kFailed, what + " no longer exists: nothing to scale back"};
      }
      return {
          isRetriableApiError(scale.status()) ? RevertKind::kRetriableFailure : RevertKind::kFailed,
          "read scale of " + what + ": " + scale.status().toString()};
    }
    int live = (*scale)["spec"].value("replicas", 0);
    if (live == *from) {
      return {RevertKind::kReverted, what + " already has " + std::to_string(*from) + " replicas"};
    }
    if (live != *to) {
      return {RevertKind::kRefused, what + " has " + std::to_string(live) + " replicas, not the " +
                                        std::to_string(*to) +
                                        " Remedy set: someone rescaled it since, so it is left "
                                        "alone"};
    }
    if (context.dryRun)
      return {RevertKind::kReverted, "dry run: would scale " + what + " " + restore};
    json body = *scale;
    body["spec"]["replicas"] = *from;
    // Conditional on the resourceVersion just read: a rescale in between
    // wins (409), and the next round sees it.
    auto written = context.client->update(target->resource, target->ns, body, scaleWrite());
    if (written.ok()) return {RevertKind::kReverted, "scaled " + what + " " + restore};
    if (kube::isConflict(written.status())) continue;
    if (kube::isNotFound(written.status())) {
      return {RevertKind::kFailed, what + " no longer exists: nothing to scale back"};
    }
    return {
        isRetriableApiError(written.status()) ? RevertKind::kRetriableFailure : RevertKind::kFailed,
        "scale " + what + " " + restore + ": " + written.status().toString()};
  }
  return {RevertKind::kRetriableFailure,
          what + " kept changing while its replicas were being restored; will try again"};
}

// ---- rolloutRestart ----

ActionOutcome RolloutRestartAction::run(const json& params, const ActionContext& context) {
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) return apiFailure(target.status(), "rolloutRestart");
  auto object = context.client->get(target->resource, target->ns, target->name);
  if (!object.ok()) return apiFailure(object.status(), "read " + target->describe());
  const std::string& value = context.firstStartedAt;
  Outputs outputs = {{"restartedAt", value}};
  const json* current = lookupDotted(*object, std::string(".spec.template.metadata.annotations"));
  if (current && current->is_object() && current->value(kRestartedAtAnnotation, "") == value) {
    return ActionOutcome::succeeded("restarted " + target->describe() + " at " + value, outputs);
  }
  if (context.dryRun) {
    return ActionOutcome::succeeded("dry run: would restart " + target->describe(), outputs);
  }
  json patch = {
      {"spec",
       {{"template", {{"metadata", {{"annotations", {{kRestartedAtAnnotation, value}}}}}}}}}};
  auto patched = context.client->patch(target->resource, target->ns, target->name, patch.dump());
  if (!patched.ok()) return apiFailure(patched.status(), "restart " + target->describe());
  return ActionOutcome::succeeded("restarted " + target->describe() + " at " + value, outputs);
}

// ---- deletePods ----

ActionOutcome DeletePodsAction::prepare(const json& params, const ActionContext& context) {
  kube::Client& client = *context.client;
  std::string ns = params.value("namespace", context.defaultNamespace);
  std::string selector;
  std::string source;
  if (params.contains("target")) {
    auto target = resolveTarget(client, params["target"], context.defaultNamespace);
    if (!target.ok()) return apiFailure(target.status(), "deletePods");
    auto object = client.get(target->resource, target->ns, target->name);
    if (!object.ok()) return apiFailure(object.status(), "read " + target->describe());
    ns = target->ns;
    auto text = labelSelectorText((*object)["spec"].value("selector", json::object()));
    if (!text.ok()) return ActionOutcome::permanent("deletePods: " + text.status().message());
    selector = *text;
    source = "pods of " + target->describe();
  } else {
    auto text = labelSelectorText(params.value("selector", json::object()));
    if (!text.ok()) return ActionOutcome::permanent("deletePods: " + text.status().message());
    selector = *text;
    source = "pods matching \"" + selector + "\" in " + ns;
  }
  if (selector.empty()) return ActionOutcome::permanent("deletePods: an empty selector");
  kube::ListOptions options;
  options.labelSelector = selector;
  auto pods = kube::listAll(client, kube::resources::pods(), ns, options);
  if (!pods.ok()) return apiFailure(pods.status(), "list " + source);
  std::vector<json> items = (*pods)["items"].get<std::vector<json>>();
  std::sort(items.begin(), items.end(),
            [](const json& a, const json& b) { return kube::nameOf(a) < kube::nameOf(b); });
  std::vector<std::string> wanted =
      params.value("states", json::array()).get<std::vector<std::string>>();
  size_t limit = items.size();
  if (auto maxCount = optionalInt(params, "maxCount")) limit = std::min<size_t>(limit, *maxCount);
  if (auto maxPercent = optionalInt(params, "maxPercent")) {
    // Rounded down, as a PodDisruptionBudget's percentage of unavailable pods.
    limit = std::min<size_t>(limit, items.size() * static_cast<size_t>(*maxPercent) / 100);
  }
  std::vector<std::string> chosen;
  std::vector<std::string> uids;
  for (const auto& pod : items) {
    if (chosen.size() >= limit) break;
    if (pod["metadata"].contains("deletionTimestamp")) continue;
    if (!wanted.empty()) {
      auto states = podStates(pod);
      bool match = std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
        return std::find(states.begin(), states.end(), w) != states.end();
      });
      if (!match) continue;
    }
    chosen.push_back(kube::nameOf(pod));
    uids.push_back(kube::uidOf(pod));
  }
  return ActionOutcome::succeeded("", {{"namespace", ns},
                                       {"pods", joinList(chosen)},
                                       {"uids", joinList(uids)},
                                       {"matched", std::to_string(items.size())}});
}

ActionOutcome DeletePodsAction::run(const json& params, const ActionContext& context) {
  auto ns = context.baseline.count("namespace") ? context.baseline.at("namespace")
                                                : context.defaultNamespace;
  auto names = splitList(context.baseline.count("pods") ? context.baseline.at("pods") : "");
  auto uids = splitList(context.baseline.count("uids") ? context.baseline.at("uids") : "");
  bool evict = params.value("mode", std::string("Evict")) != "Delete";
  Outputs outputs = {
      {"pods", joinList(names)},
      {"deleted", std::to_string(names.size())},
      {"matched", context.baseline.count("matched") ? context.baseline.at("matched") : "0"}};
  if (context.dryRun) {
    return ActionOutcome::succeeded("dry run: would " + std::string(evict ? "evict" : "delete") +
                                        " " + std::to_string(names.size()) + " pods in " + ns +
                                        ": " + joinList(names),
                                    outputs);
  }
  kube::DeleteOptions options;
  if (params.contains("gracePeriodSeconds") && params["gracePeriodSeconds"].is_number_integer()) {
    options.gracePeriodSeconds = params["gracePeriodSeconds"].get<int64_t>();
  }
  for (size_t i = 0; i < names.size(); ++i) {
    // The pod chosen before the first attempt, not a replacement with the
    // same name: a replacement was not chosen and must not be removed.
    options.preconditionUid = i < uids.size() ? uids[i] : "";
    auto pod = context.client->get(kube::resources::pods(), ns, names[i]);
    if (!pod.ok() && kube::isNotFound(pod.status())) continue;
    if (!pod.ok()) return apiFailure(pod.status(), "read pod " + ns + "/" + names[i]);
    if (kube::uidOf(*pod) != options.preconditionUid ||
        (*pod)["metadata"].contains("deletionTimestamp")) {
      continue;
    }
    Status s =
        evict ? kube::evictPod(*context.client, ns, names[i], options)
              : context.client->remove(kube::resources::pods(), ns, names[i], options).status();
    if (kube::isNotFound(s) || kube::isConflict(s)) continue;  // gone meanwhile
    if (kube::isTooManyRequests(s)) {
      return ActionOutcome::retriable("evicting pod " + ns + "/" + names[i] +
                                      " would violate a PodDisruptionBudget: " + s.message());
    }
    if (!s.ok()) return apiFailure(s, std::string(evict ? "evict" : "delete") + " pod " + names[i]);
  }
  return ActionOutcome::succeeded(std::string(evict ? "evicted " : "deleted ") +
                                      std::to_string(names.size()) + " pods in " + ns +
                                      (names.empty() ? "" : ": " + joinList(names)),
                                  outputs);
}

// ---- rolloutUndo ----

namespace {

const kube::Resource& replicaSets() {
  static const kube::Resource r{"apps", "v1", "replicasets", "ReplicaSet", true};
  return r;
}

constexpr const char* kPodTemplateHashLabel = "pod-template-hash";

// deploymentutil.Revision: the annotation as a number; nullopt when absent
// or not a number.
std::optional<int64_t> revisionOf(const json& object) {
  std::string text = object["metadata"]
                         .value("annotations", json::object())
                         .value(kRevisionAnnotation, std::string());
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(text);
}

json withoutHashLabel(json podTemplate) {
  if (podTemplate.contains("metadata") && podTemplate["metadata"].contains("labels") &&
      podTemplate["metadata"]["labels"].is_object()) {
    podTemplate["metadata"]["labels"].erase(kPodTemplateHashLabel);
  }
  return podTemplate;
}

// rollback.go annotationsToSkip: the Deployment keeps its own values of
// these, and takes every other annotation from the ReplicaSet.
bool skippedAnnotation(const std::string& key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevisionAnnotation ||
         key == "deployment.kubernetes.io/revision-history" ||
         key == "deployment.kubernetes.io/desired-replicas" ||
         key == "deployment.kubernetes.io/max-replicas" ||
         key == "deprecated.deployment.rollback.to";
}

// The ReplicaSets the Deployment controls (deploymentutil.GetAllReplicaSets:
// its selector, then the controller reference's uid).
kube::Result<std::vector<json>> ownedReplicaSets(kube::Client& client, const json& deployment) {
  auto selector = labelSelectorText(deployment["spec"].value("selector", json::object()));
  if (!selector.ok()) return selector.status();
  kube::ListOptions options;
  options.labelSelector = *selector;
  auto list = kube::listAll(client, replicaSets(), kube::namespaceOf(deployment), options);
  if (!list.ok()) return list.status();
  std::vector<json> out;
  for (const auto& rs : (*list)["items"]) {
    for (const auto& ref : rs["metadata"].value("ownerReferences", json::array())) {
      if (ref.value("controller", false) && ref.value("uid", "") == kube::uidOf(deployment)) {
        out.push_back(rs);
        break;
      }
    }
  }
  return out;
}

}  // namespace

ActionOutcome RolloutUndoAction::prepare(const json& params, const ActionContext& context) {
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) return apiFailure(target.status(), "rolloutUndo");
  if (target->kind != "Deployment") {
    return ActionOutcome::permanent("rolloutUndo: " + target->describe() + " is not a Deployment");
  }
  auto deployment = context.client->get(target->resource, target->ns, target->name);
  if (!deployment.ok()) return apiFailure(deployment.status(), "read " + target->describe());
  // The newest ReplicaSet is the current template's only once the
  // controller has seen the current generation; before that, "the revision
  // before" could be the current one.
  int64_t generation = (*deployment)["metadata"].value("generation", int64_t{0});
  int64_t observed =
      deployment->value("status", json::object()).value("observedGeneration", int64_t{0});
  if (observed < generation) {
    return ActionOutcome::retriable(
        "rolloutUndo: waiting for the Deployment controller to observe "
        "generation " +
        std::to_string(generation) + " of " + target->describe());
  }
  auto sets = ownedReplicaSets(*context.client, *deployment);
  if (!sets.ok()) return apiFailure(sets.status(), "list the ReplicaSets of " + target->describe());
  // rollback.go deploymentRevision.
  std::optional<int64_t> wanted;
  if (params.contains("revision") && params["revision"].is_number_integer()) {
    wanted = params["revision"].get<int64_t>();
  }
  const json* latest = nullptr;
  const json* previous = nullptr;
  int64_t latestRevision = -1;
  int64_t previousRevision = -1;
  const json* chosen = nullptr;
  for (const auto& rs : *sets) {
    auto revision = revisionOf(rs);
    if (!revision) continue;
    if (wanted) {
      if (*revision == *wanted) chosen = &rs;
    } else if (*revision > latestRevision) {
      previous = latest;
      previousRevision = latestRevision;
      latest = &rs;
      latestRevision = *revision;
    } else if (*revision > previousRevision) {
      previous = &rs;
      previousRevision = *revision;
    }
  }
  if (!wanted) chosen = previous;
  if (!chosen) {
    return ActionOutcome::permanent(
        wanted ? "rolloutUndo: revision " + std::to_string(*wanted) + " of " + target->describe() +
                     " not found in its history (its ReplicaSets)"
               : "rolloutUndo: no rollout history found for " + target->describe() +
                     " (no ReplicaSet of an earlier revision)");
  }
  auto current = revisionOf(*deployment);
  return ActionOutcome::succeeded(
      "", {{"previousRevision", current ? std::to_string(*current) : std::string()},
           {"revision", std::to_string(revisionOf(*chosen).value_or(0))},
           {"replicaSet", kube::nameOf(*chosen)},
           {"replicaSetUid", kube::uidOf(*chosen)}});
}

ActionOutcome RolloutUndoAction::run(const json& params, const ActionContext& context) {
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) return apiFailure(target.status(), "rolloutUndo");
  auto recorded = [&](const char* key) {
    auto it = context.baseline.find(key);
    return it == context.baseline.end() ? std::string() : it->second;
  };
  std::string rsName = recorded("replicaSet");
  std::string revision = recorded("revision");
  std::string before = recorded("previousRevision");
  Outputs outputs = {{"previousRevision", before}, {"revision", revision}, {"replicaSet", rsName}};
  if (rsName.empty()) {
    return ActionOutcome::permanent("rolloutUndo: no ReplicaSet was chosen before the attempt");
  }
  std::string change = target->describe() + " from revision " +
                       (before.empty() ? std::string("?") : before) +
                       " to the template of revision " + revision + " (ReplicaSet " + rsName + ")";
  // A write that loses a race with another writer reads again and
  // recomputes, as the patch action does.
  for (int round = 0; round < 5; ++round) {
    auto deployment = context.client->get(target->resource, target->ns, target->name);
    if (!deployment.ok()) return apiFailure(deployment.status(), "read " + target->describe());
    auto rs = context.client->get(replicaSets(), target->ns, rsName);
    if (!rs.ok()) {
      return apiFailure(
          rs.status(), "read ReplicaSet " + target->ns + "/" + rsName + " of revision " + revision);
    }
    if (kube::uidOf(*rs) != recorded("replicaSetUid")) {
      return ActionOutcome::permanent("rolloutUndo: ReplicaSet " + target->ns + "/" + rsName +
                                      " of revision " + revision +
                                      " was replaced since it was chosen");
    }
    json podTemplate = withoutHashLabel((*rs)["spec"].value("template", json::object()));
    // rollback.go equalIgnoreHash: already there (a rerun after the write).
    if (withoutHashLabel((*deployment)["spec"].value("template", json::object())) == podTemplate) {
      return ActionOutcome::succeeded(
          target->describe() + " runs the template of revision " + revision + " (ReplicaSet " +
              rsName + ")" + (context.dryRun ? "; a dry run would change nothing" : ""),
          outputs);
    }
    if ((*deployment)["spec"].value("paused", false)) {
      return ActionOutcome::permanent("rolloutUndo: " + target->describe() +
                                      " is paused; resume it (kubectl rollout resume) first");
    }
    if (context.dryRun) {
      return ActionOutcome::succeeded("dry run: would roll back " + change, outputs);
    }
    // rollback.go: the Deployment's own values of annotationsToSkip, every
    // other annotation from the ReplicaSet.
    json annotations = json::object();
    const json own = (*deployment)["metadata"].value("annotations", json::object());
    const json fromReplicaSet = (*rs)["metadata"].value("annotations", json::object());
    for (const auto& [k, v] : own.items()) {
      if (skippedAnnotation(k)) annotations[k] = v;
    }
    for (const auto& [k, v] : fromReplicaSet.items()) {
      if (!skippedAnnotation(k)) annotations[k] = v;
    }
    json patch =
        json::array({{{"op", "replace"},
                      {"path", "/metadata/resourceVersion"},
                      {"value", kube::resourceVersionOf(*deployment)}},
                     {{"op", "replace"}, {"path", "/spec/template"}, {"value", podTemplate}},
                     {{"op", "add"}, {"path", "/metadata/annotations"}, {"value", annotations}}});
    kube::PatchOptions options;
    options.type = kube::PatchType::Json;
    options.fieldManager = "remedy-operator";
    auto written =
        context.client->patch(target->resource, target->ns, target->name, patch.dump(), options);
    if (written.ok()) return ActionOutcome::succeeded("rolled back " + change, outputs);
    if (!kube::isConflict(written.status())) {
      return apiFailure(written.status(), "roll back " + target->describe());
    }
  }
  return ActionOutcome::retriable("rolloutUndo: " + target->describe() +
                                  " kept changing; 5 conflicting writes");
}

// ---- waitFor ----

ActionOutcome WaitForAction::run(const json& params, const ActionContext& context) {
  auto target =
      resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
  if (!target.ok()) return apiFailure(target.status(), "waitFor");
  kube::Duration poll = std::chrono::seconds(5);
  if (params.contains("pollInterval")) {
    auto parsed = api::parseDuration(params["pollInterval"].get<std::string>());
    if (parsed.ok()) poll = *parsed;
  }
  auto object = context.client->get(target->resource, target->ns, target->name);
  std::string state = params.value("state", std::string());
  if (!object.ok()) {
    if (kube::isNotFound(object.status())) {
      if (state == "Deleted") {
        return ActionOutcome::succeeded(target->describe() + " is deleted", {{"value", "Deleted"}});
      }
      return ActionOutcome::inProgress(target->describe() + " does not exist yet", poll);
    }
    if (isRetriableApiError(object.status())) {
      return ActionOutcome::inProgress(
          "reading " + target->describe() + ": " + object.status().toString(), poll);
    }
    return apiFailure(object.status(), "read " + target->describe());
  }
  if (state == "Exists") {
    return ActionOutcome::succeeded(target->describe() + " exists", {{"value", "Exists"}});
  }
  if (state == "Deleted") {
    return ActionOutcome::inProgress(target->describe() + " still exists", poll);
  }
  if (state == "RolloutComplete") {
    std::string why;
    if (rolloutComplete(*object, &why)) {
      return ActionOutcome::succeeded(target->describe() + ": " + why,
                                      {{"value", "RolloutComplete"}});
    }
    return ActionOutcome::inProgress(target->describe() + ": " + why, poll);
  }
  if (params.contains("condition")) {
    std::string type = params["condition"].value("type", "");
    std::string status = params["condition"].value("status", "True");
    if (conditionHolds(*object, type, status)) {
      return ActionOutcome::succeeded(target->describe() + ": condition " + type + " is " + status,
                                      {{"value", status}});
    }
    return ActionOutcome::inProgress(
        target->describe() + ": waiting for condition " + type + "=" + status, poll);
  }
  if (params.contains("field")) {
    const json& f = params["field"];
    std::string path = f.value("path", "");
    std::string op = f.value("operator", "Equal");
    std::string expected = f.value("value", "");
    const json* actual = lookupDotted(*object, path);
    std::string seen = actual ? valueText(*actual) : "<absent>";
    if (actual && compareValues(*actual, op, expected)) {
      return ActionOutcome::succeeded(
          target->describe() + ": " + path + " is " + seen + " (" + op + " " + expected + ")",
          {{"value", seen}});
    }
    return ActionOutcome::inProgress(
        target->describe() + ": " + path + " is " + seen + ", waiting for " + op + " " + expected,
        poll);
  }
  return ActionOutcome::permanent("waitFor " + target->describe() +
                                  ": none of state, condition or field given");
}

// ---- runJob ----

namespace {

// The log of the Job's newest pod, bounded by `logTail` ({tailLines,
// limitBytes}, the podLogs defaults and maxima).
kube::Result<PodLog> jobLogTail(kube::Client& client, const json& params, const std::string& ns,
                                const json& job, const std::vector<std::string>& secrets,
                                kube::Duration timeout) {
  kube::ListOptions options;
  // Set by the Job controller on its pods (batch/v1, Kubernetes 1.27+).
  options.labelSelector = "batch.kubernetes.io/controller-uid=" + kube::uidOf(job);
  auto pods = kube::listAll(client, kube::resources::pods(), ns, options);
  if (!pods.ok()) return pods.status();
  const json* newest = nullptr;
  for (const auto& pod : (*pods)["items"]) {
    std::string created = pod["metadata"].value("creationTimestamp", "");
    if (!newest || created > (*newest)["metadata"].value("creationTimestamp", "") ||
        (created == (*newest)["metadata"].value("creationTimestamp", "") &&
         kube::nameOf(pod) > kube::nameOf(*newest))) {
      newest = &pod;
    }
  }
  if (!newest) return Status::error(404, kube::reason::kNotFound, "the Job has no pod");
  const json logTail = params.value("logTail", json::object());
  PodLogRequest request;
  request.ns = ns;
  request.pod = kube::nameOf(*newest);
  const json containers =
      (*newest).value("spec", json::object()).value("containers", json::array());
  if (!containers.empty()) request.container = containers[0].value("name", "");
  auto bounded = [&](const char* key, int64_t fallback, int64_t max) {
    auto it = logTail.is_object() ? logTail.find(key) : logTail.end();
    int64_t v = it != logTail.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
    return std::clamp<int64_t>(v, 1, max);
  };
  request.tailLines = bounded("tailLines", kDefaultLogTailLines, kMaxLogTailLines);
  request.limitBytes = bounded("limitBytes", kDefaultLogLimitBytes, kMaxLogLimitBytes);
  request.timeout = timeout;
  return readPodLog(client, request, secrets);
}

}  // namespace

std::string RunJobAction::jobName(const ActionContext& context) {
  std::string owner = context.owner.value("metadata", json::object()).value("name", "job");
  if (owner.size() > 40) owner.resize(40);
  while (!owner.empty() && owner.back() == '-') owner.pop_back();
  char hash[16];
  std::snprintf(hash, sizeof(hash), "%08x", fnv1a(context.idempotencyKey));
  return owner + "-" + hash;
}

ActionOutcome RunJobAction::run(const json& params, const ActionContext& context) {
  kube::Client& client = *context.client;
  kube::Resource jobs{"batch", "v1", "jobs", "Job", true};
  std::string ns = context.defaultNamespace;
  std::string name = jobName(context);
  // The pod's identity is the administrator's choice: a Runbook may not run
  // a Job as an arbitrary ServiceAccount of its namespace.
  const json spec = params.value("template", json::object()).value("spec", json::object());
  for (const char* key : {"serviceAccountName", "serviceAccount"}) {
    if (!spec.contains(key)) continue;
    std::string account = spec[key].is_string() ? spec[key].get<std::string>() : spec[key].dump();
    if (std::find(serviceAccounts_.begin(), serviceAccounts_.end(), account) ==
        serviceAccounts_.end()) {
      std::string allowed;
      for (const auto& a : serviceAccounts_) allowed += (allowed.empty() ? "" : ", ") + a;
      return ActionOutcome::permanent(
          "runJob: template.spec." + std::string(key) + " " + json(account).dump() +
          " is not a ServiceAccount the operator lets Jobs run as (" +
          (allowed.empty() ? std::string("none; the pod runs as the namespace's default")
                           : allowed) +
          ")");
    }
  }
  if (context.dryRun) {
    return ActionOutcome::succeeded("dry run: would create Job " + ns + "/" + name,
                                    {{"jobName", name}});
  }
  auto job = client.get(jobs, ns, name);
  if (!job.ok() && kube::isNotFound(job.status())) {
    json podTemplate = params.value("template", json::object());
    if (!podTemplate.contains("spec")) {
      return ActionOutcome::permanent("runJob: the template has no spec");
    }
    if (!podTemplate["spec"].contains("restartPolicy")) {
      podTemplate["spec"]["restartPolicy"] = "Never";
    }
    const json& ownerMeta = context.owner.value("metadata", json::object());
    json body = {
        {"apiVersion", "batch/v1"},
        {"kind", "Job"},
        {"metadata",
         {{"name", name},
          {"namespace", ns},
          {"labels", {{"remedy.dev/incident", ownerMeta.value("name", "")}}},
          {"annotations", {{"remedy.dev/idempotency-key", context.idempotencyKey}}},
          {"ownerReferences", json::array({{{"apiVersion", context.owner.value("apiVersion", "")},
                                            {"kind", context.owner.value("kind", "")},
                                            {"name", ownerMeta.value("name", "")},
                                            {"uid", ownerMeta.value("uid", "")},
                                            {"controller", true},
                                            // true would need update on
                                            // incidents/finalizers for the
                                            // ServiceAccount that creates it
                                            // (OwnerReferencesPermissionEnforcement).
                                            {"blockOwnerDeletion", false}}})}}},
        {"spec", {{"backoffLimit", params.value("backoffLimit", 0)}, {"template", podTemplate}}}};
    job = client.create(jobs, ns, body);
    if (!job.ok() && kube::isAlreadyExists(job.status())) job = client.get(jobs, ns, name);
  }
  if (!job.ok()) return apiFailure(job.status(), "Job " + ns + "/" + name);
  Outputs outputs = {{"jobName", name}};
  bool complete = conditionHolds(*job, "Complete", "True");
  bool failed = !complete && conditionHolds(*job, "Failed", "True");
  if (complete || failed) {
    // The tail of its pod's log; a log that cannot be read leaves logTail
    // empty and says why, and never changes the Job's outcome.
    std::string note;
    auto secrets = incidentSecrets(context);
    if (!secrets.ok()) return ActionOutcome::retriable("runJob: " + secrets.status().message());
    auto tail = jobLogTail(client, params, ns, *job, *secrets, logReadTimeout(context));
    if (tail.ok()) {
      outputs["logTail"] = tail->text;
    } else {
      outputs["logTail"] = "";
      note = " (its log was not read: " + tail.status().message() + ")";
    }
    if (complete) {
      return ActionOutcome::succeeded("Job " + ns + "/" + name + " completed" + note, outputs);
    }
    ActionOutcome out = ActionOutcome::permanent("Job " + ns + "/" + name + " failed" + note);
    out.outputs = outputs;
    return out;
  }
  return ActionOutcome::inProgress("Job " + ns + "/" + name + " is running",
                                   std::chrono::seconds(2));
}

// ---- waitForResolved ----

ActionOutcome WaitForResolvedAction::run(const json& params, const ActionContext& context) {
  const json alert = context.incident.is_object() ? context.incident.value("alert", json::object())
                                                  : json::object();
  std::string status = alert.is_object() && alert.contains("status") && alert["status"].is_string()
                           ? alert["status"].get<std::string>()
                           : std::string("firing");
  if (status != "resolved") {
    // The engine also requeues as soon as the Incident changes, so this is
    // only the fallback poll.
    return ActionOutcome::inProgress("waiting for the alert to resolve (it is " + status + ")",
                                     std::chrono::seconds(5));
  }
  // Alertmanager sends endsAt on every alert; a firing one carries the zero
  // time, which says nothing about when it resolved.
  std::string resolvedAt;
  if (alert.contains("endsAt") && alert["endsAt"].is_string()) {
    auto endsAt = kube::parseRfc3339(alert["endsAt"].get<std::string>());
    if (endsAt && endsAt->time_since_epoch().count() > 0) {
      resolvedAt = kube::formatRfc3339(*endsAt);
    }
  }
  if (resolvedAt.empty()) resolvedAt = kube::formatRfc3339(context.now);
  return ActionOutcome::succeeded("the alert resolved at " + resolvedAt,
                                  {{"resolvedAt", resolvedAt}});
}

std::unique_ptr<Action> makeWaitForResolvedAction() {
  return std::make_unique<WaitForResolvedAction>();
}

std::unique_ptr<ActionRegistry> kubernetesActionRegistry(const KubernetesActionOptions& options) {
  auto registry = std::make_unique<ActionRegistry>();
  registry->add(std::make_unique<ScaleAction>());
  registry->add(std::make_unique<RolloutRestartAction>());
  registry->add(std::make_unique<RolloutUndoAction>());
  registry->add(std::make_unique<DeletePodsAction>());
  registry->add(std::make_unique<WaitForAction>());
  registry->add(std::make_unique<RunJobAction>(options.runJobServiceAccounts));
  registry->add(makePatchAction(options.patch));
  registry->add(makeApplyAction(options.apply));
  registry->add(makeWaitForResolvedAction());
  registry->add(std::make_unique<PodLogsAction>());
  return registry;
}

}  // namespace remedy::actions
