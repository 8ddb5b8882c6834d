// Durations as Runbooks write them: a sequence of decimal numbers with a unit,
// `ms`, `s`, `m` or `h`, such as "30s", "5m", "1h30m", "1.5h" (Go's
// time.ParseDuration, which Kubernetes uses, restricted to those units). The
// CRDs check the same syntax with the pattern kDurationPattern.
#pragma once

#include "api/result.h"

#include <chrono>
#include <string>
#include <string_view>

namespace remedy::api {

using Duration = std::chrono::milliseconds;

// The CRD pattern for duration fields; keep in sync with crds/*.yaml.
inline constexpr const char* kDurationPattern = R"(^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$)";

// Fractions finer than a millisecond are truncated. Durations above ~100 years
// are refused so arithmetic on them cannot overflow.
Result<Duration> parseDuration(std::string_view text);

// The shortest form parseDuration reads back: "1h30m", "45s", "250ms", "0s".
std::string formatDuration(Duration d);

}  // namespace remedy::api
