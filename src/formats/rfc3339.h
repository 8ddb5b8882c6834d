// Times as the API server writes and reads them: metav1.Time (RFC 3339 in
// UTC, whole seconds) and metav1.MicroTime (microseconds).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace remedy::formats {

using WallTime = std::chrono::system_clock::time_point;

// "2024-05-01T12:00:00Z": metav1.Time, truncated to the second.
std::string formatRfc3339(WallTime t);
// "2024-05-01T12:00:00.123456Z": metav1.MicroTime.
std::string formatRfc3339Micro(WallTime t);

// time.Parse(time.RFC3339, text) as metav1.Time reads it: a four-digit
// year, each field in range (February 29 only in leap years), an
// uppercase 'T', optional fractional seconds of any length, and 'Z' or an
// offset ±hh:mm. nullopt for anything else, and for times a WallTime cannot
// hold (before 1678 or after 2262; Go's zero time 0001-01-01 among them).
std::optional<WallTime> parseRfc3339(std::string_view text);

}  // namespace remedy::formats
