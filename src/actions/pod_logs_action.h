// podLogs: the last lines of a pod's container as evidence on the Incident,
// read through the pods/log subresource with tailLines and limitBytes, every
// secret value the Incident's Runbook names redacted, valid UTF-8 and
// bounded. runJob's `logTail` is read the same way (readPodLog).
#pragma once

#include "actions/action.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace remedy::actions {

// Bounds of a log read, as validation enforces them (api/typed_values.h).
inline constexpr int64_t kDefaultLogTailLines = 100;
inline constexpr int64_t kMaxLogTailLines = 1000;
inline constexpr int64_t kDefaultLogLimitBytes = 16 * 1024;
inline constexpr int64_t kMaxLogLimitBytes = 64 * 1024;
// Appended to a log cut at limitBytes.
inline constexpr const char* kLogTruncatedMarker = "\n[log truncated at limitBytes]";

struct PodLogRequest {
  std::string ns;
  std::string pod;
  std::string container;  // "": the pod's only container
  bool previous = false;
  int64_t tailLines = kDefaultLogTailLines;
  int64_t limitBytes = kDefaultLogLimitBytes;
  // 0: the client's. A kubelet that does not answer must not hold a step.
  kube::Duration timeout{0};
};

// What is left of the attempt (ActionContext::deadline), at most 30s and at
// least 1s; 10s when the context has no deadline.
kube::Duration logReadTimeout(const ActionContext& context);

struct PodLog {
  std::string text;  // redacted, valid UTF-8, marker included when cut
  int64_t lines = 0;
  bool truncated = false;
};

// The secret values an Incident's step must keep out of what it reports:
// each `secretKeyRef` in ActionContext::incident["secretKeyRefs"] (every one
// the Incident's Runbook names), read from the Incident's namespace. A
// Secret or key that does not exist, or that the step's ServiceAccount may
// not read, holds nothing the Incident read, and is skipped; other errors
// fail (the caller retries), so nothing is reported unredacted.
kube::Result<std::vector<std::string>> incidentSecrets(const ActionContext& context);

// Reads and cleans one log: a line cut at limitBytes loses any end that
// begins a secret, then every secret is redacted and the text made valid
// UTF-8 within limitBytes (plus the marker when cut).
kube::Result<PodLog> readPodLog(kube::Client& client, const PodLogRequest& request,
                                const std::vector<std::string>& secrets);

// `pod` (a name) or `target` (a workload whose pods its selector matches, or
// a Pod); `container`, `previous`, `tailLines`, `limitBytes`. Outputs: pod,
// container, text, lines, truncated. Read-only, so it runs in dry runs too.
class PodLogsAction : public Action {
 public:
  std::string field() const override { return "podLogs"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

// Of the pods of a workload, the one whose log tells most: the most
// container restarts, then not Ready, then the newest, then by name.
// Terminating pods are skipped; nullptr when none is left.
const json* choosePodForLogs(const std::vector<json>& pods);

}  // namespace remedy::actions
