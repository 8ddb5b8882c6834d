// The Alertmanager webhook payload (src/intake/alert_payload.h): any body,
// with the default limits and with small ones.
#include "intake/alert_payload.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace remedy::intake;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  PayloadLimits limits;
  for (int round = 0; round < 2; ++round) {
    ParsedPayload parsed = parseWebhookPayload(body, limits);
    if (parsed.error == PayloadError::kNone) {
      if (parsed.payload.alerts.size() > limits.maxAlerts) std::abort();
      for (const WebhookAlert& alert : parsed.payload.alerts) {
        if (!alert.valid()) continue;
        if (alert.labels.size() > limits.maxLabelsPerAlert) std::abort();
        if (alert.annotations.size() > limits.maxAnnotationsPerAlert) std::abort();
        if (alert.fingerprint.empty()) std::abort();
        (void)alert.alertName();
      }
    } else if (parsed.message.empty()) {
      std::abort();  // every refusal says why
    }
    limits.maxAlerts = 2;
    limits.maxLabelsPerAlert = 2;
    limits.maxAnnotationsPerAlert = 2;
    limits.maxLabelValueBytes = 8;
    limits.maxStringBytes = 16;
    limits.maxNestingDepth = 4;
  }
  return 0;
}
