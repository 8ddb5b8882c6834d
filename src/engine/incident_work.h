// Private to the Incident controller's translation units: one reconcile's
// working set, and the small helpers they share.
#pragma once

#include "api/incident.h"
#include "api/runbook.h"
#include "engine/incident_reconciler.h"
#include "kube/clock.h"
#include "kube/time_format.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace remedy::engine {

struct IncidentReconciler::Work {
  std::string key;
  nlohmann::json object;  // the Incident as last read or written
  api::Incident incident;
  api::IncidentStatus& status() { return *incident.status; }
  api::RunbookSpec spec;  // the snapshot, once started
  std::string runbook;
  kube::WallTime now;
  // The client of the ServiceAccount the actions run as, once started.
  kube::Client* tenant = nullptr;
  // The same ServiceAccount on the follow-ups' budget (reverts, escalations).
  kube::Client* followupTenant = nullptr;
  // Status writes sent in this reconcile (unchanged ones are not sent).
  int writes = 0;
  // The uid of each step target the guardrails read in this reconcile
  // (TargetRef::key() to uid), for the Events on it.
  std::map<std::string, std::string> targetUids;

  // The alert's status is read live: its resolving is news.
  bool resolved() const {
    return incident.spec && incident.spec->alert &&
           incident.spec->alert->status == api::AlertStatus::kResolved;
  }
  // Frozen at the start (status.inputs) like every other input.
  bool drill() const { return incident.source() == api::IncidentSource::kDrill; }
};

// What an action may say about its Incident (ActionContext::incident): name,
// namespace, source, phase, runbook and alert.
nlohmann::json incidentSummary(IncidentReconciler::Work& w);

inline bool isFinalStep(const std::optional<api::StepPhase>& phase) {
  using api::StepPhase;
  return phase && (*phase == StepPhase::kSucceeded || *phase == StepPhase::kFailed ||
                   *phase == StepPhase::kSkipped || *phase == StepPhase::kCancelled);
}

inline std::string actionFieldOf(const api::Step& step) {
  auto fields = step.actionFields();
  return fields.empty() ? "" : fields.front();
}

inline std::optional<kube::WallTime> parseTime(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return kube::parseRfc3339(*text);
}

}  // namespace remedy::engine
