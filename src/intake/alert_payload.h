// The Alertmanager webhook payload (version "4", see Alertmanager's
// notify/webhook and template.Data), decoded and checked against bounds.
// Pure: no I/O, so every rule is unit-tested.
//
// Problems are reported with the path of the field, as in
// `alerts[3].labels.service: 5000 bytes, more than the limit of 4096`.
// A problem with the payload as a whole (not JSON, not an object, no
// alerts array, too many alerts) leaves nothing to process; a problem with
// one alert marks that alert invalid and leaves the others usable.
#pragma once

#include "intake/alert_identity.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remedy::intake {

struct PayloadLimits {
  size_t maxAlerts = 1000;
  size_t maxLabelsPerAlert = 128;
  size_t maxAnnotationsPerAlert = 128;
  size_t maxLabelNameBytes = 256;
  size_t maxLabelValueBytes = 4096;
  size_t maxAnnotationNameBytes = 256;
  size_t maxAnnotationValueBytes = 64 * 1024;
  // The CRD's bounds on spec.alert.
  size_t maxAlertNameBytes = 253;
  size_t maxFingerprintBytes = 64;
  size_t maxGeneratorUrlBytes = 4096;
  // receiver, status, externalURL, groupKey and the like.
  size_t maxStringBytes = 8192;
  // Arrays and objects inside each other: the payload has 3 levels.
  size_t maxNestingDepth = 16;
};

struct WebhookAlert {
  size_t index = 0;    // position in alerts[]
  std::string status;  // "firing" or "resolved" when valid
  LabelSet labels;     // includes alertname
  LabelSet annotations;
  std::string startsAt;    // as sent
  Timestamp startsAtTime;  // parsed
  // As sent; empty when absent or Go's zero time (no end known yet).
  std::string endsAt;
  std::string generatorURL;
  // As sent, or alertmanagerFingerprint(labels) when absent or empty.
  std::string fingerprint;
  bool fingerprintComputed = false;
  // Non-empty: the alert is invalid; each entry is "path: problem".
  std::vector<std::string> problems;

  bool valid() const { return problems.empty(); }
  bool firing() const { return status == "firing"; }
  const std::string& alertName() const;
};

struct WebhookPayload {
  std::string version;
  std::string receiver;
  std::string status;
  std::string externalURL;
  std::string groupKey;
  int64_t truncatedAlerts = 0;
  // The length of alerts[] (also when there were too many to read).
  size_t alertsSent = 0;
  std::vector<WebhookAlert> alerts;  // every element of alerts[], valid or not
};

enum class PayloadError {
  kNone,
  kMalformedJson,  // not JSON, or nested too deep
  kInvalid,        // JSON of the wrong shape
  kTooManyAlerts,
};

struct ParsedPayload {
  PayloadError error = PayloadError::kNone;
  std::string message;  // for error != kNone
  WebhookPayload payload;
};

ParsedPayload parseWebhookPayload(std::string_view body, const PayloadLimits& limits);

// `parent.name`, or `parent["name"]` when the name is not an identifier.
std::string fieldPath(const std::string& parent, const std::string& name);

}  // namespace remedy::intake
