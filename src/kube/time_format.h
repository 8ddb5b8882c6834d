// metav1.Time and metav1.MicroTime as text (RFC 3339, UTC).
#pragma once

#include "kube/clock.h"

#include <optional>
#include <string>

namespace remedy::kube {

// "2024-05-01T12:00:00Z" (metav1.Time: second precision).
std::string formatRfc3339(WallTime t);
// "2024-05-01T12:00:00.123456Z" (metav1.MicroTime).
std::string formatRfc3339Micro(WallTime t);
// Accepts fractional seconds and a Z or ±hh:mm offset.
std::optional<WallTime> parseRfc3339(const std::string& text);

}  // namespace remedy::kube
