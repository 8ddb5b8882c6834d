// What identifies an alert, and the Incident it becomes: Alertmanager's
// fingerprint of a label set, RFC 3339 times in a canonical form, and the
// deterministic Incident name, so that retries and both members of an HA
// pair of Alertmanagers land on the same Incident.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace remedy::intake {

using LabelSet = std::map<std::string, std::string>;

// Alertmanager's fingerprint of an alert's labels, as 16 lower-case hex
// digits: FNV-1a (64 bit) over the label names in sorted order, each name
// and value followed by the byte 0xff (prometheus/common model
// labelSetToFingerprint, printed with %016x by Fingerprint.String).
std::string alertmanagerFingerprint(const LabelSet& labels);

// An instant as RFC 3339 carries it: seconds since the Unix epoch (negative
// before 1970; Go's zero time 0001-01-01T00:00:00Z fits) and nanoseconds.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
  bool operator==(const Timestamp& o) const { return seconds == o.seconds && nanos == o.nanos; }
};

// Parses "2024-05-01T12:00:00Z", with optional fractional seconds (digits
// beyond nanoseconds are dropped) and a Z or +hh:mm / -hh:mm offset; 't'
// and 'z' may be lower case. nullopt for anything else.
std::optional<Timestamp> parseTimestamp(std::string_view text);
// The same instant in UTC with the fraction's trailing zeros dropped, as Go
// marshals a time.Time (RFC3339Nano): "2024-05-01T12:00:00.5Z".
std::string canonicalTimestamp(const Timestamp& t);
// Go's zero time.Time, which Alertmanager sends as endsAt when none is known.
bool isZeroTime(const Timestamp& t);

// The name of the Incident for the alert that started at `startsAt` with
// `fingerprint`: "<alert name, DNS-1123 sanitized, at most 40 characters>-<first
// 16 hex digits of SHA-256 over fingerprint and canonical startsAt>". The
// name is a valid DNS-1123 label (at most 63 characters), and the same for
// every notification of one firing, whichever Alertmanager sends it; a
// re-fire starts at another time and so gets another name.
std::string incidentName(const std::string& alertName, const std::string& fingerprint,
                         const Timestamp& startsAt);

// A Kubernetes label value: at most 63 characters, empty, or alphanumeric at
// both ends with '-', '_' and '.' between.
bool isLabelValue(std::string_view value);
// A DNS-1123 label, such as a namespace name.
bool isDnsLabel(std::string_view value);

}  // namespace remedy::intake
