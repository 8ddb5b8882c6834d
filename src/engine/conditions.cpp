#include "engine/conditions.h"

#include <algorithm>

namespace remedy::engine {

std::string truncateMessage(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  static const std::string kMarker = " ...(truncated)";
  return text.substr(0, max - kMarker.size()) + kMarker;
}

bool setCondition(std::optional<std::vector<api::Condition>>& conditions, const std::string& type,
                  api::ConditionStatus status, const std::string& reason,
                  const std::string& message, int64_t observedGeneration, const std::string& now) {
  if (!conditions) conditions.emplace();
  std::string text = truncateMessage(message.empty() ? reason : message, kMaxConditionMessage);
  for (auto& c : *conditions) {
    if (c.type != type) continue;
    bool changed = c.status != status || c.reason != reason || c.message != text ||
                   c.observedGeneration != observedGeneration;
    if (c.status != status) c.lastTransitionTime = now;
    c.status = status;
    c.reason = reason;
    c.message = text;
    c.observedGeneration = observedGeneration;
    return changed;
  }
  api::Condition c;
  c.type = type;
  c.status = status;
  c.reason = reason;
  c.message = text;
  c.observedGeneration = observedGeneration;
  c.lastTransitionTime = now;
  conditions->push_back(std::move(c));
  return true;
}

bool removeCondition(std::optional<std::vector<api::Condition>>& conditions,
                     const std::string& type) {
  if (!conditions) return false;
  auto before = conditions->size();
  conditions->erase(std::remove_if(conditions->begin(), conditions->end(),
                                   [&](const api::Condition& c) { return c.type == type; }),
                    conditions->end());
  return conditions->size() != before;
}

}  // namespace remedy::engine
