#include "api/runbook.h"

#include <algorithm>
#include <chrono>

namespace remedy::api {

std::vector<std::string> Step::actionFields() const {
  std::vector<std::string> present;
  auto add = [&](const char* name, bool set) {
    if (set) present.push_back(name);
  };
  add("scale", scale.has_value());
  add("rolloutRestart", rolloutRestart.has_value());
  add("rolloutUndo", rolloutUndo.has_value());
  add("deletePods", deletePods.has_value());
  add("waitFor", waitFor.has_value());
  add("runJob", runJob.has_value());
  add("postgres", postgres.has_value());
  add("redis", redis.has_value());
  add("http", http.has_value());
  add("prometheusCheck", prometheusCheck.has_value());
  add("prometheusQuery", prometheusQuery.has_value());
  add("notify", notify.has_value());
  add("patch", patch.has_value());
  add("apply", apply.has_value());
  add("waitForResolved", waitForResolved.has_value());
  add("podLogs", podLogs.has_value());
  return present;
}

Duration Step::effectiveTimeout() const {
  if (timeout) {
    Result<Duration> parsed = parseDuration(*timeout);
    if (parsed.ok()) return parsed.value();
  }
  // Defaults documented on spec.steps[].timeout in the CRD.
  if (waitForResolved) return std::chrono::minutes(30);
  if (waitFor || runJob || prometheusCheck) return std::chrono::minutes(10);
  return std::chrono::minutes(5);
}

const Step* RunbookSpec::findStep(const std::string& name) const {
  if (!steps) return nullptr;
  for (const Step& step : *steps) {
    if (step.name == name) return &step;
  }
  return nullptr;
}

namespace {

void collectSecretKeyRefs(const nlohmann::json& value, std::vector<nlohmann::json>* out) {
  if (value.is_array()) {
    for (const auto& item : value) collectSecretKeyRefs(item, out);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [key, item] : value.items()) {
    if (key == "secretKeyRef" && item.is_object() && item.contains("name") &&
        item["name"].is_string() && item.contains("key") && item["key"].is_string()) {
      nlohmann::json ref = {{"name", item["name"]}, {"key", item["key"]}};
      if (std::find(out->begin(), out->end(), ref) == out->end()) out->push_back(ref);
      continue;
    }
    collectSecretKeyRefs(item, out);
  }
}

}  // namespace

std::vector<nlohmann::json> secretKeyRefsIn(const nlohmann::json& value) {
  std::vector<nlohmann::json> out;
  collectSecretKeyRefs(value, &out);
  return out;
}

}  // namespace remedy::api
