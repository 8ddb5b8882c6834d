// metav1.Condition bookkeeping shared by the reconcilers: lastTransitionTime
// changes only when the status does (apimachinery meta.SetStatusCondition).
#pragma once

#include "api/common_types.h"

#include <optional>
#include <string>
#include <vector>

namespace remedy::engine {

// The CRDs bound condition messages (32768) and timeline/step messages (4096).
inline constexpr size_t kMaxConditionMessage = 32768;
inline constexpr size_t kMaxStepMessage = 4096;

// `text` cut to `max` bytes with a marker, so a status write never fails on
// a schema bound.
std::string truncateMessage(const std::string& text, size_t max);

// Sets or replaces the condition of `type`; returns true when anything changed.
bool setCondition(std::optional<std::vector<api::Condition>>& conditions, const std::string& type,
                  api::ConditionStatus status, const std::string& reason,
                  const std::string& message, int64_t observedGeneration, const std::string& now);

bool removeCondition(std::optional<std::vector<api::Condition>>& conditions,
                     const std::string& type);

}  // namespace remedy::engine
