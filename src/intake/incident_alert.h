// What of an alert its Incident keeps.
//
// Alertmanager may send an alert of 128 labels of 4 KiB and 128 annotations
// of 64 KiB (PayloadLimits, the CRD's own bounds), 8.5 MiB in all. An
// Incident holds its alert twice (spec.alert, and status.inputs once it
// matches a Runbook), kube-apiserver refuses objects over 1.5 MiB, and the
// operator caches every Incident it retains (by default up to 1,000
// finished ones and the active ones). So the Incident keeps a bounded part:
// each annotation value at most maxAnnotationValueBytes, and the labels and
// annotations together (names and values) at most maxAlertBytes.
//
// A value cut short ends with a marker giving its whole length, as in
// "The disk of ... [truncated by Remedy: 70000 bytes]"; a cut never splits
// a UTF-8 character. Annotations are cut first, the longest first and down
// to a common length, so a long description does not push out the
// summary; labels are cut only when the annotations at their markers still
// do not fit, and then annotations are dropped, the longest first. Label
// names and the alertname are never cut. The alert's identity (fingerprint,
// Incident name) is computed from the whole alert before it is cut.
#pragma once

#include "intake/alert_identity.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace remedy::intake {

// The Incident's annotation listing the fields cut, as fitAlertToIncident
// returns them, joined by ", ".
inline constexpr std::string_view kAlertTruncatedAnnotation = "remedy.dev/alert-truncated";

struct IncidentAlertLimits {
  size_t maxAnnotationValueBytes = 4 * 1024;
  size_t maxAlertBytes = 16 * 1024;
};

// The marker a value cut from `originalBytes` bytes ends with.
std::string truncationMarker(size_t originalBytes);

// The bytes the labels and annotations take (names and values).
size_t alertBytes(const LabelSet& labels, const LabelSet& annotations);

// Cuts `labels` and `annotations` to `limits`. Returns what was cut or
// dropped, as field paths ("annotations.description", "labels.query",
// `annotations["runbook-url"]`), sorted; empty when the alert fits.
std::vector<std::string> fitAlertToIncident(LabelSet& labels, LabelSet& annotations,
                                            const IncidentAlertLimits& limits);

}  // namespace remedy::intake
