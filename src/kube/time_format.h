// metav1.Time and metav1.MicroTime as text, under the client's names: the
// one implementation is formats/rfc3339.h (WallTime is the same type).
#pragma once

#include "formats/rfc3339.h"
#include "kube/clock.h"

namespace remedy::kube {

using formats::formatRfc3339;       // "2024-05-01T12:00:00Z"
using formats::formatRfc3339Micro;  // "2024-05-01T12:00:00.123456Z"
using formats::parseRfc3339;        // as metav1.Time reads it; nullopt when it is not

}  // namespace remedy::kube
