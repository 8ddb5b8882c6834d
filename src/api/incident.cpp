#include "api/incident.h"

namespace remedy::api {

bool isFinal(IncidentPhase phase) {
  switch (phase) {
    case IncidentPhase::kSucceeded:
    case IncidentPhase::kFailed:
    case IncidentPhase::kEscalated:
    case IncidentPhase::kSkipped:
    case IncidentPhase::kCancelled:
      return true;
    default:
      return false;
  }
}

void IncidentStatus::appendTimeline(TimelineEntry entry) {
  if (!timeline) timeline.emplace();
  timeline->push_back(std::move(entry));
  if (timeline->size() > kMaxTimelineEntries) {
    size_t drop = timeline->size() - kMaxTimelineEntries;
    timeline->erase(timeline->begin(), timeline->begin() + static_cast<std::ptrdiff_t>(drop));
    droppedTimelineEntries = droppedTimelineEntries.value_or(0) + static_cast<int64_t>(drop);
  }
}

StepStatus* IncidentStatus::findStep(const std::string& name) {
  if (!steps) return nullptr;
  for (StepStatus& step : *steps) {
    if (step.name == name) return &step;
  }
  return nullptr;
}

nlohmann::json Incident::templateContext() const {
  using nlohmann::json;
  json alert = {{"labels", json::object()}, {"annotations", json::object()}, {"status", "firing"}};
  if (spec && spec->alert) {
    json given = api::toJson(*spec->alert);
    for (auto it = given.begin(); it != given.end(); ++it) alert[it.key()] = it.value();
  }
  json params = json::object();
  json steps = json::object();
  if (status) {
    if (status->parameters) params = api::toJson(*status->parameters);
    for (const StepStatus& step : status->steps.value_or(std::vector<StepStatus>{})) {
      if (!step.name) continue;
      json entry = {{"outputs", json::object()}};
      if (step.phase) entry["phase"] = enumName(*step.phase);
      if (step.outputs) entry["outputs"] = api::toJson(*step.outputs);
      steps[*step.name] = entry;
    }
  }
  json incident = json::object();
  if (metadata && metadata->name) incident["name"] = *metadata->name;
  if (metadata && metadata->namespace_) incident["namespace"] = *metadata->namespace_;
  incident["source"] = enumName(spec && spec->source ? *spec->source : IncidentSource::kManual);
  return {{"alert", alert}, {"params", params}, {"steps", steps}, {"incident", incident}};
}

}  // namespace remedy::api
