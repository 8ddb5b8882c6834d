#include "engine/guardrail_check.h"

#include "actions/kubernetes_actions.h"
#include "api/duration.h"
#include "kube/time_format.h"

#include <algorithm>
#include <sstream>

namespace remedy::engine {
namespace {

using Kind = GuardrailVerdict::Kind;
using json = nlohmann::json;

GuardrailVerdict verdict(Kind kind, std::string guardrail, std::string message,
                         kube::Duration retryAfter = kube::Duration(0)) {
  return {kind, std::move(guardrail), std::move(message), retryAfter};
}

bool intersects(const std::set<std::string>& a, const std::set<std::string>& b,
                std::string* common) {
  for (const auto& k : a) {
    if (b.count(k)) {
      *common = k;
      return true;
    }
  }
  return false;
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

std::string baselineValue(const actions::Outputs& baseline, const std::string& key) {
  auto it = baseline.find(key);
  return it == baseline.end() ? "" : it->second;
}

bool isProtected(const json& object) {
  return object.value("metadata", json::object())
             .value("labels", json::object())
             .value(kProtectedLabel, "") == "true";
}

long seconds(kube::Duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

std::optional<TargetRef> actionTarget(const json& params, const std::string& defaultNamespace) {
  // apply names its object in the manifest instead of a target.
  if (params.is_object() && params.contains("manifest") && params["manifest"].is_object()) {
    const json& m = params["manifest"];
    const json meta = m.value("metadata", json::object());
    TargetRef ref;
    ref.kind = m.value("kind", std::string());
    ref.apiVersion = m.value("apiVersion", std::string());
    ref.ns = meta.value("namespace", std::string());
    if (ref.ns.empty()) ref.ns = defaultNamespace;
    ref.name = meta.value("name", std::string());
    if (ref.name.empty() || ref.kind.empty()) return std::nullopt;
    return ref;
  }
  if (!params.is_object() || !params.contains("target") || !params["target"].is_object()) {
    return std::nullopt;
  }
  const json& t = params["target"];
  TargetRef ref;
  ref.kind = t.value("kind", std::string("Deployment"));
  ref.apiVersion = t.value("apiVersion", std::string());
  if (ref.apiVersion.empty()) ref.apiVersion = api::defaultApiVersion(ref.kind).value_or("");
  ref.ns = t.value("namespace", std::string());
  if (ref.ns.empty()) ref.ns = defaultNamespace;
  ref.name = t.value("name", std::string());
  if (ref.name.empty()) return std::nullopt;
  return ref;
}

bool IncidentView::active() const { return !phase || !api::isFinal(*phase); }

GuardrailVerdict GuardrailCheck::check(const GuardrailRequest& request) const {
  if (!request.paused) {
    GuardrailVerdict v = readTargets(request);
    if (!v.allowed()) return v;
  }
  return checkInMemory(request);
}

GuardrailVerdict GuardrailCheck::checkInMemory(const GuardrailRequest& request) const {
  if (request.paused) {
    return verdict(Kind::kWait, "pause", "the global pause is on: no new step starts",
                   kWaitInterval);
  }
  GuardrailVerdict v = checkTargets(request);
  if (!v.allowed()) return v;
  if (request.firstAction) {
    v = checkHistory(request);
    if (!v.allowed()) return v;
  }
  return checkBounds(request);
}

GuardrailVerdict GuardrailCheck::checkBeforeReads(const GuardrailRequest& request) const {
  if (request.paused) {
    return verdict(Kind::kWait, "pause", "the global pause is on: no new step starts",
                   kWaitInterval);
  }
  GuardrailVerdict v = checkTargets(request);
  if (!v.allowed() || !request.firstAction) return v;
  return checkHistory(request);
}

GuardrailVerdict GuardrailCheck::readTargets(const GuardrailRequest& request,
                                             std::map<std::string, std::string>* uids) const {
  kube::Client& reader = request.targetClient ? *request.targetClient : client_;
  std::string podNamespace = baselineValue(request.baseline, "namespace");
  // Fail closed: a target that cannot be read may carry the label, so the
  // step waits; only a target that does not exist (the action reports it)
  // has nothing to protect.
  auto unreadable = [](const std::string& what, const kube::Status& status) {
    return verdict(
        Kind::kWait, "protected",
        "cannot read " + what + " to check its " + kProtectedLabel + " label: " + status.toString(),
        kWaitInterval);
  };
  for (const auto& t : request.stepTargets) {
    std::string what = t.kind + " " + t.ns + "/" + t.name;
    auto resource = reader.resourceFor(t.apiVersion, t.kind);
    if (!resource.ok()) {
      if (kube::isNotFound(resource.status())) continue;  // the action reports an unknown kind
      return unreadable(what, resource.status());
    }
    auto object = reader.get(*resource, t.ns, t.name);
    if (!object.ok()) {
      if (kube::isNotFound(object.status())) continue;
      return unreadable(what, object.status());
    }
    if (isProtected(*object)) {
      return verdict(Kind::kRefuseStep, "protected",
                     what + " is labelled " + kProtectedLabel + "=true and is never touched");
    }
    if (uids) (*uids)[t.key()] = kube::uidOf(*object);
  }
  for (const auto& pod : splitList(baselineValue(request.baseline, "pods"))) {
    std::string what = "Pod " + podNamespace + "/" + pod;
    auto object = reader.get(kube::resources::pods(), podNamespace, pod);
    if (!object.ok()) {
      if (kube::isNotFound(object.status())) continue;
      return unreadable(what, object.status());
    }
    if (isProtected(*object)) {
      return verdict(Kind::kRefuseStep, "protected",
                     what + " is labelled " + kProtectedLabel + "=true and is never touched");
    }
  }
  return {};
}

GuardrailVerdict GuardrailCheck::checkTargets(const GuardrailRequest& request) const {
  // One active remediation per target: an Incident that has acted on a
  // target holds it until it ends; among those that have not acted yet,
  // the first created goes first.
  std::string common;
  for (const auto& o : request.others) {
    if (!o.active()) continue;
    if (o.executed && intersects(o.targets, request.incidentTargets, &common)) {
      return verdict(Kind::kWait, "oneRemediationPerTarget",
                     common + " is being remediated by incident " + o.name, kWaitInterval);
    }
  }
  if (request.firstAction) {
    for (const auto& o : request.others) {
      if (!o.active() || o.executed || o.order >= request.order) continue;
      // One not matched yet holds back only those that share a target it
      // will have, or every one when its targets cannot be told yet. A
      // prediction can be overtaken (a Runbook changed since); the Leases
      // of the targets keep one remediation per target exact even then.
      const std::set<std::string>* theirs = &o.targets;
      if (o.runbook.empty()) theirs = o.predictedTargets ? &*o.predictedTargets : nullptr;
      if (!theirs || intersects(*theirs, request.incidentTargets, &common)) {
        return verdict(Kind::kWait, "oneRemediationPerTarget",
                       "incident " + o.name + " came first" +
                           (common.empty() ? " and is not matched yet" : " for " + common),
                       kWaitInterval);
      }
    }
    for (const auto& o : request.others) {
      if (!request.waitedForTarget) break;
      if (o.phase != api::IncidentPhase::kSucceeded || !o.executed || !o.finishedAt) continue;
      if (*o.finishedAt < request.startedAt) continue;
      if (intersects(o.targets, request.incidentTargets, &common)) {
        return verdict(Kind::kSkipIncident, "oneRemediationPerTarget",
                       common + " was remediated by incident " + o.name +
                           ", which succeeded while this incident waited");
      }
    }
  }
  return {};
}

GuardrailVerdict GuardrailCheck::checkHistory(const GuardrailRequest& request) const {
  const api::Guardrails* g = request.guardrails;
  if (!g) return {};
  // Executions of this Runbook from its status.history (which deleting or
  // sweeping Incidents does not change), and executions of other Runbooks
  // on one of its targets from the live Incidents. This Incident has not
  // acted yet, so every other one that has came first.
  std::vector<std::pair<kube::WallTime, std::string>> executions;
  std::set<std::string> seen;
  std::string common;
  if (request.runbookStatus) {
    for (const auto& e :
         request.runbookStatus->history.value_or(std::vector<api::ExecutionRecord>{})) {
      if (!e.incident || !e.time || *e.incident == request.incident) continue;
      if (auto t = kube::parseRfc3339(*e.time)) {
        executions.push_back({*t, *e.incident});
        seen.insert(*e.incident);
      }
    }
    // A status written before the history existed: its last execution.
    const api::RunbookStatus& rs = *request.runbookStatus;
    if (!rs.history && rs.lastIncident && rs.lastExecutionTime &&
        *rs.lastIncident != request.incident) {
      if (auto t = kube::parseRfc3339(*rs.lastExecutionTime)) {
        executions.push_back({*t, *rs.lastIncident});
        seen.insert(*rs.lastIncident);
      }
    }
  }
  for (const auto& o : request.others) {
    if (!o.executed || !o.startedAt || seen.count(o.name)) continue;
    if (o.runbook == request.runbook || intersects(o.targets, request.incidentTargets, &common)) {
      executions.push_back({*o.startedAt, o.name});
    }
  }

  if (g->cooldown) {
    auto cooldown = api::parseDuration(*g->cooldown);
    if (cooldown.ok()) {
      for (const auto& [time, name] : executions) {
        if (request.now - time < *cooldown) {
          auto left = *cooldown - std::chrono::duration_cast<api::Duration>(request.now - time);
          return verdict(Kind::kSkipIncident, "cooldown",
                         "runbook " + request.runbook + " ran for incident " + name + " at " +
                             kube::formatRfc3339(time) + ", within its cooldown of " +
                             *g->cooldown + " (" + std::to_string(seconds(left)) + "s left)");
        }
      }
    }
  }
  if (g->maxExecutions && g->maxExecutions->count && g->maxExecutions->per) {
    auto per = api::parseDuration(*g->maxExecutions->per);
    if (per.ok()) {
      int count = 0;
      for (const auto& [time, name] : executions) {
        if (request.now - time < *per) ++count;
      }
      if (count >= *g->maxExecutions->count) {
        return verdict(Kind::kSkipIncident, "maxExecutions",
                       "runbook " + request.runbook + " already ran " + std::to_string(count) +
                           " times in the last " + *g->maxExecutions->per + " (maxExecutions " +
                           std::to_string(*g->maxExecutions->count) + ")");
      }
    }
  }
  if (g->maxConcurrent) {
    // The Incidents of the Runbook that acted and are not final, as the
    // cache shows them, and every reservation on the Runbook's history that
    // the cache cannot show as final: the reservation write is conditional
    // on the history judged here, so neither a stale cache nor a second
    // operator lets two Incidents take the last slot.
    std::set<std::string> running;
    std::map<std::string, const IncidentView*> cached;
    for (const auto& o : request.others) {
      cached[o.name] = &o;
      if (o.active() && o.executed && o.runbook == request.runbook) running.insert(o.name);
    }
    if (request.runbookStatus) {
      for (const auto& e :
           request.runbookStatus->history.value_or(std::vector<api::ExecutionRecord>{})) {
        if (!e.incident || *e.incident == request.incident) continue;
        auto it = cached.find(*e.incident);
        if (it != cached.end()) {
          if (it->second->active()) running.insert(*e.incident);
          continue;
        }
        // Not in the cache: reserved a moment ago, its Incident not seen
        // yet (or deleted since, which holds the slot this long at most).
        auto t = e.time ? kube::parseRfc3339(*e.time) : std::nullopt;
        if (t && request.now - *t < kUnseenReservationHold) running.insert(*e.incident);
      }
    }
    if (running.size() >= static_cast<size_t>(*g->maxConcurrent)) {
      return verdict(Kind::kWait, "maxConcurrent",
                     std::to_string(running.size()) + " incidents of runbook " + request.runbook +
                         " are running (maxConcurrent " + std::to_string(*g->maxConcurrent) + ")",
                     kWaitInterval);
    }
  }
  return {};
}

GuardrailVerdict GuardrailCheck::checkBounds(const GuardrailRequest& request) const {
  const api::Guardrails* g = request.guardrails;
  if (!g) return {};
  if (request.actionField == "scale" && g->scale) {
    std::string fromText = baselineValue(request.baseline, "previousReplicas");
    if (fromText.empty()) return {};
    int from = std::stoi(fromText);
    auto optionalInt = [&](const char* key) -> std::optional<int> {
      if (!request.params.contains(key) || !request.params[key].is_number_integer()) {
        return std::nullopt;
      }
      return request.params[key].get<int>();
    };
    auto to = actions::computeScaleReplicas(from, request.params.value("replicas", json()),
                                            optionalInt("minReplicas"), optionalInt("maxReplicas"));
    if (!to) return {};  // the action reports the bad value
    std::string change = "scaling from " + std::to_string(from) + " to " + std::to_string(*to);
    if (g->scale->minReplicas && *to < *g->scale->minReplicas) {
      return verdict(Kind::kRefuseStep, "scaleBounds",
                     change + " goes below minReplicas " + std::to_string(*g->scale->minReplicas));
    }
    if (g->scale->maxReplicas && *to > *g->scale->maxReplicas) {
      return verdict(Kind::kRefuseStep, "scaleBounds",
                     change + " goes above maxReplicas " + std::to_string(*g->scale->maxReplicas));
    }
    if (g->scale->maxChange && std::abs(*to - from) > *g->scale->maxChange) {
      return verdict(
          Kind::kRefuseStep, "scaleBounds",
          change + " changes more than maxChange " + std::to_string(*g->scale->maxChange));
    }
  }
  if (request.actionField == "deletePods" && g->podDisruption) {
    size_t count = splitList(baselineValue(request.baseline, "pods")).size();
    std::string matchedText = baselineValue(request.baseline, "matched");
    size_t matched = matchedText.empty() ? 0 : std::stoul(matchedText);
    if (g->podDisruption->maxCount && count > static_cast<size_t>(*g->podDisruption->maxCount)) {
      return verdict(Kind::kRefuseStep, "podDisruption",
                     "removing " + std::to_string(count) + " pods exceeds maxCount " +
                         std::to_string(*g->podDisruption->maxCount));
    }
    if (g->podDisruption->maxPercent && matched > 0 &&
        count * 100 > matched * static_cast<size_t>(*g->podDisruption->maxPercent)) {
      return verdict(Kind::kRefuseStep, "podDisruption",
                     "removing " + std::to_string(count) + " of " + std::to_string(matched) +
                         " pods exceeds maxPercent " +
                         std::to_string(*g->podDisruption->maxPercent));
    }
  }
  return {};
}

}  // namespace remedy::engine
