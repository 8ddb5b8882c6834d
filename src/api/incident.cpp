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

IncidentInputs Incident::currentInputs() const {
  IncidentInputs inputs;
  if (spec && spec->alert) {
    inputs.alert = *spec->alert;
    inputs.alert->status.reset();
    inputs.alert->endsAt.reset();
  }
  inputs.source = spec && spec->source ? *spec->source : IncidentSource::kManual;
  inputs.dryRun = spec && spec->dryRun.value_or(false);
  return inputs;
}

bool Incident::dryRun() const {
  if (status && status->inputs && status->inputs->dryRun) return *status->inputs->dryRun;
  return spec && spec->dryRun.value_or(false);
}

IncidentSource Incident::source() const {
  if (status && status->inputs && status->inputs->source) return *status->inputs->source;
  return spec && spec->source ? *spec->source : IncidentSource::kManual;
}

nlohmann::json Incident::templateContext() const {
  using nlohmann::json;
  json alert = {{"labels", json::object()}, {"annotations", json::object()}, {"status", "firing"}};
  const Alert* frozen =
      status && status->inputs && status->inputs->alert ? &*status->inputs->alert : nullptr;
  if (frozen || (spec && spec->alert)) {
    json given = api::toJson(frozen ? *frozen : *spec->alert);
    for (auto it = given.begin(); it != given.end(); ++it) alert[it.key()] = it.value();
  }
  // The alert resolving is news to every step, so these two stay live.
  if (frozen) {
    alert.erase("endsAt");
    if (spec && spec->alert && spec->alert->status)
      alert["status"] = enumName(*spec->alert->status);
    if (spec && spec->alert && spec->alert->endsAt) alert["endsAt"] = *spec->alert->endsAt;
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
  incident["source"] = enumName(source());
  return {{"alert", alert}, {"params", params}, {"steps", steps}, {"incident", incident}};
}

}  // namespace remedy::api
