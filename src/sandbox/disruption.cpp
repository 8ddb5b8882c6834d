#include "sandbox/disruption.h"

#include "formats/rfc3339.h"
#include "sandbox/selectors.h"

#include <cmath>
#include <ctime>
#include <map>
#include <set>

namespace remedy::sandbox {

namespace {

using Clock = std::chrono::system_clock;

// disruption.go DeletionTimeout: how long a pod the eviction subresource
// recorded in status.disruptedPods is assumed to be on its way out.
constexpr auto kDeletionTimeout = std::chrono::minutes(2);

const json& field(const json& object, const char* name) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

std::string str(const json& object, const char* name) {
  const json& v = field(object, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t integer(const json& object, const char* name, int64_t otherwise = 0) {
  const json& v = field(object, name);
  return v.is_number_integer() ? v.get<int64_t>() : otherwise;
}

std::string rfc3339(Clock::time_point t) { return formats::formatRfc3339(t); }

std::optional<Clock::time_point> parseRfc3339(const std::string& s) {
  return formats::parseRfc3339(s);
}

const json* controllerRefOf(const json& object) {
  const json& refs = field(field(object, "metadata"), "ownerReferences");
  if (!refs.is_array()) return nullptr;
  for (const auto& r : refs) {
    if (field(r, "controller").is_boolean() && r["controller"].get<bool>()) return &r;
  }
  return nullptr;
}

std::vector<const json*> selectedPods(const json& pdb, const std::vector<json>& pods) {
  std::vector<const json*> out;
  for (const auto& p : pods) {
    if (pdbSelectsPod(pdb, p)) out.push_back(&p);
  }
  return out;
}

// disruption.go getExpectedScale: the sum of the scales of the pods'
// controllers; pods without a controller are left out (the controller
// warns about them), a controller that cannot be found is an error.
std::optional<int32_t> expectedScale(const std::string& ns, const std::vector<const json*>& pods,
                                     const ScaleLookup& scaleOf, std::string* error) {
  if (!scaleOf) return static_cast<int32_t>(pods.size());
  std::map<std::string, int32_t> scales;
  for (const json* pod : pods) {
    const json* ref = controllerRefOf(*pod);
    if (!ref) continue;
    if (scales.count(str(*ref, "uid"))) continue;
    auto found = scaleOf(ns, *ref);
    if (!found) {
      *error = "found no controllers for pod \"" + str(field(*pod, "metadata"), "name") + "\"";
      return std::nullopt;
    }
    scales[found->uid] = found->replicas;
  }
  int32_t total = 0;
  for (const auto& [uid, n] : scales) total += n;
  return total;
}

json condition(const std::string& status, const std::string& reason, const std::string& message,
               int64_t observedGeneration, const std::string& now) {
  return {
      {"type", "DisruptionAllowed"}, {"status", status}, {"observedGeneration", observedGeneration},
      {"lastTransitionTime", now},   {"reason", reason}, {"message", message}};
}

// apimachinery meta.SetStatusCondition: replaces the condition of the same
// type, keeping lastTransitionTime unless the status changes.
void setStatusCondition(json& conditions, json next) {
  if (!conditions.is_array()) conditions = json::array();
  for (auto& c : conditions) {
    if (str(c, "type") != str(next, "type")) continue;
    if (str(c, "status") == str(next, "status") && c.contains("lastTransitionTime")) {
      next["lastTransitionTime"] = c["lastTransitionTime"];
    }
    c = std::move(next);
    return;
  }
  conditions.push_back(std::move(next));
}

ApiError disruptionBudgetRefusal(const std::string& cause) {
  // errors.NewTooManyRequests(msg, 0): no Retry-After, and retryAfterSeconds
  // omitted from the details (omitempty).
  ApiError e = ApiError::tooManyRequests(
      "Cannot evict pod as it would violate the pod's disruption budget.", 0);
  e.headers.clear();
  e.details = {{"causes", json::array({{{"reason", "DisruptionBudget"}, {"message", cause}}})}};
  return e;
}

}  // namespace

bool isPodReady(const json& pod) {
  const json& conditions = field(field(pod, "status"), "conditions");
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions) {
    if (str(c, "type") == "Ready") return str(c, "status") == "True";
  }
  return false;
}

bool pdbSelectsPod(const json& pdb, const json& pod) {
  const json& pdbMeta = field(pdb, "metadata");
  const json& podMeta = field(pod, "metadata");
  if (str(pdbMeta, "namespace") != str(podMeta, "namespace")) return false;
  // A null selector matches nothing; an invalid one matches no pod
  // (eviction.go getPodDisruptionBudgets).
  auto selector = LabelSelector::fromLabelSelectorJson(field(field(pdb, "spec"), "selector"));
  return selector.ok() && selector->matches(field(podMeta, "labels"));
}

std::optional<int32_t> scaledValue(const json& v, int32_t total, bool roundUp) {
  if (v.is_number_integer()) return static_cast<int32_t>(v.get<int64_t>());
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (s.size() < 2 || s.back() != '%') return std::nullopt;
  int64_t percent = 0;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    percent = percent * 10 + (s[i] - '0');
    if (percent > 1000000) return std::nullopt;
  }
  double scaled = static_cast<double>(percent) * total / 100.0;
  return static_cast<int32_t>(roundUp ? std::ceil(scaled) : std::floor(scaled));
}

ScaleLookup storeScaleLookup(const Store& store) {
  return [&store](const std::string& ns, const json& ref) -> std::optional<ControllerScale> {
    std::string kind = str(ref, "kind");
    std::string uid = str(ref, "uid");
    auto matching = [&](const std::string& key, const std::string& name) -> ObjectPtr {
      ObjectPtr o = store.get(key, ns, name);
      if (!o || str(field(*o, "metadata"), "uid") != uid) return nullptr;
      return o;
    };
    auto scaleOf = [](const json& o) {
      return ControllerScale{str(field(o, "metadata"), "uid"),
                             static_cast<int32_t>(integer(field(o, "spec"), "replicas", 1))};
    };
    std::string name = str(ref, "name");
    if (kind == "ReplicaSet") {
      ObjectPtr rs = matching("apps/replicasets", name);
      if (!rs) return std::nullopt;
      // finders getPodDeployment / getPodReplicaSet: a ReplicaSet a
      // Deployment controls counts as that Deployment.
      const json* owner = controllerRefOf(*rs);
      if (owner && str(*owner, "kind") == "Deployment") {
        ObjectPtr d = store.get("apps/deployments", ns, str(*owner, "name"));
        if (!d || str(field(*d, "metadata"), "uid") != str(*owner, "uid")) return std::nullopt;
        return scaleOf(*d);
      }
      return scaleOf(*rs);
    }
    if (kind == "StatefulSet") {
      ObjectPtr s = matching("apps/statefulsets", name);
      return s ? std::optional<ControllerScale>(scaleOf(*s)) : std::nullopt;
    }
    if (kind == "ReplicationController") {
      ObjectPtr rc = matching("/replicationcontrollers", name);
      return rc ? std::optional<ControllerScale>(scaleOf(*rc)) : std::nullopt;
    }
    if (kind == "Deployment") {
      ObjectPtr d = matching("apps/deployments", name);
      return d ? std::optional<ControllerScale>(scaleOf(*d)) : std::nullopt;
    }
    return std::nullopt;
  };
}

PdbCounts computePdbCounts(const json& pdb, const std::vector<json>& podsInNamespace,
                           const ScaleLookup& scaleOf, Clock::time_point now) {
  PdbCounts counts;
  std::string ns = str(field(pdb, "metadata"), "namespace");
  std::vector<const json*> pods = selectedPods(pdb, podsInNamespace);
  const json& spec = field(pdb, "spec");
  const json& maxUnavailable = field(spec, "maxUnavailable");
  const json& minAvailable = field(spec, "minAvailable");

  // disruption.go getExpectedPodCount.
  std::string error;
  if (!maxUnavailable.is_null()) {
    auto expected = expectedScale(ns, pods, scaleOf, &error);
    if (!expected) {
      counts.error = error;
      return counts;
    }
    auto unavailable = scaledValue(maxUnavailable, *expected, true);
    if (!unavailable) {
      counts.error = "invalid value for IntOrString: invalid value \"" +
                     (maxUnavailable.is_string() ? maxUnavailable.get<std::string>() : "") + "\"";
      return counts;
    }
    counts.expectedPods = *expected;
    counts.desiredHealthy = std::max(0, *expected - *unavailable);
  } else if (minAvailable.is_number_integer()) {
    counts.desiredHealthy = minAvailable.get<int32_t>();
    counts.expectedPods = static_cast<int32_t>(pods.size());
  } else if (minAvailable.is_string()) {
    auto expected = expectedScale(ns, pods, scaleOf, &error);
    if (!expected) {
      counts.error = error;
      return counts;
    }
    auto available = scaledValue(minAvailable, *expected, true);
    if (!available) {
      counts.error = "invalid value for IntOrString: invalid value \"" +
                     minAvailable.get<std::string>() + "\"";
      return counts;
    }
    counts.expectedPods = *expected;
    counts.desiredHealthy = *available;
  }

  // disruption.go buildDisruptedPodMap: entries for pods still present, not
  // yet being deleted, and recorded less than DeletionTimeout ago.
  const json& recorded = field(field(pdb, "status"), "disruptedPods");
  std::set<std::string> disrupted;
  for (const json* pod : pods) {
    const json& meta = field(*pod, "metadata");
    if (meta.contains("deletionTimestamp")) continue;
    std::string name = str(meta, "name");
    const json& when = field(recorded, name.c_str());
    if (!when.is_string()) continue;
    auto t = parseRfc3339(when.get<std::string>());
    if (!t || *t + kDeletionTimeout < now) continue;
    counts.disruptedPods[name] = when;
    disrupted.insert(name);
  }

  // disruption.go countHealthyPods.
  for (const json* pod : pods) {
    const json& meta = field(*pod, "metadata");
    if (meta.contains("deletionTimestamp")) continue;
    if (disrupted.count(str(meta, "name"))) continue;
    if (isPodReady(*pod)) ++counts.currentHealthy;
  }

  // disruption.go updatePdbStatus: a PDB that expects no pods allows no
  // disruption, so pods appearing before the next sync are safe.
  counts.disruptionsAllowed = counts.currentHealthy - counts.desiredHealthy;
  if (counts.expectedPods <= 0 || counts.disruptionsAllowed <= 0) counts.disruptionsAllowed = 0;
  return counts;
}

json pdbStatus(const json& pdb, const PdbCounts& counts, Clock::time_point now) {
  const json& current = field(pdb, "status");
  json status = current.is_object() ? current : json::object();
  std::string nowText = rfc3339(now);
  json conditions = field(status, "conditions");
  if (counts.error) {
    // disruption.go failSafe: only disruptionsAllowed and the condition change.
    status["disruptionsAllowed"] = 0;
    setStatusCondition(conditions, condition("False", "SyncFailed", *counts.error,
                                             integer(status, "observedGeneration"), nowText));
    status["conditions"] = conditions;
    return status;
  }
  int64_t generation = integer(field(pdb, "metadata"), "generation");
  status = json::object();
  status["currentHealthy"] = counts.currentHealthy;
  status["desiredHealthy"] = counts.desiredHealthy;
  status["expectedPods"] = counts.expectedPods;
  status["disruptionsAllowed"] = counts.disruptionsAllowed;
  if (generation != 0) status["observedGeneration"] = generation;
  if (!counts.disruptedPods.empty()) status["disruptedPods"] = counts.disruptedPods;
  // poddisruptionbudget.UpdateDisruptionAllowedCondition.
  if (counts.disruptionsAllowed > 0) {
    setStatusCondition(conditions, condition("True", "SufficientPods", "", generation, nowText));
  } else {
    setStatusCondition(conditions, condition("False", "InsufficientPods", "", generation, nowText));
  }
  status["conditions"] = conditions;
  return status;
}

std::optional<ApiError> checkEviction(const json& pod, const std::vector<json>& pdbs,
                                      const std::vector<json>& podsInNamespace,
                                      const ScaleLookup& scaleOf) {
  // eviction.go canIgnorePDB: terminal, pending or terminating pods have
  // already stopped serving; their eviction is a plain delete.
  std::string phase = str(field(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
      field(pod, "metadata").contains("deletionTimestamp")) {
    return std::nullopt;
  }
  // eviction.go getPodDisruptionBudgets.
  std::vector<const json*> matching;
  for (const auto& pdb : pdbs) {
    if (pdbSelectsPod(pdb, pod)) matching.push_back(&pdb);
  }
  if (matching.empty()) return std::nullopt;
  if (matching.size() > 1) {
    // Returned as a failure Status with code 500 and no reason; the API
    // server's finisher turns it into the error response as is.
    ApiError e;
    e.code = 500;
    e.reason = "";
    e.message =
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
        "not support.";
    return e;
  }
  const json& pdb = *matching.front();
  std::string pdbName = str(field(pdb, "metadata"), "name");
  PdbCounts counts = computePdbCounts(pdb, podsInNamespace, scaleOf, Clock::now());
  if (counts.error) {
    // The controller's failSafe leaves disruptionsAllowed at 0 with the
    // counts it had; the refusal reports them.
    const json& st = field(pdb, "status");
    return disruptionBudgetRefusal("The disruption budget " + pdbName + " needs " +
                                   std::to_string(integer(st, "desiredHealthy")) +
                                   " healthy pods and has " +
                                   std::to_string(integer(st, "currentHealthy")) + " currently");
  }
  if (!isPodReady(pod)) {
    // An unready pod does not count as healthy, so evicting it disrupts
    // nothing when the budget is already met, or always with AlwaysAllow.
    if (str(field(pdb, "spec"), "unhealthyPodEvictionPolicy") == "AlwaysAllow") {
      return std::nullopt;
    }
    if (counts.currentHealthy >= counts.desiredHealthy && counts.desiredHealthy > 0) {
      return std::nullopt;
    }
  }
  // eviction.go checkAndDecrement.
  if (counts.disruptionsAllowed == 0) {
    return disruptionBudgetRefusal(
        "The disruption budget " + pdbName + " needs " + std::to_string(counts.desiredHealthy) +
        " healthy pods and has " + std::to_string(counts.currentHealthy) + " currently");
  }
  return std::nullopt;
}

}  // namespace remedy::sandbox
