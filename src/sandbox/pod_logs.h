// The pods/log subresource: what kube-apiserver (pkg/registry/core/pod/rest/
// log.go, pod/strategy.go LogLocation) and the kubelet (kuberuntime
// validateContainerLogStatus) answer, with the log text taken from the pod's
// annotations, since the sandbox runs no containers:
//
//   sandbox.remedy.dev/log.<container>           the running container's log
//   sandbox.remedy.dev/previous-log.<container>  the last terminated one's
//                                                (default: the same text)
//
// A Deployment's or Job's pod template may carry them, so every pod it makes
// has that log. Tests and `remedyctl test` set them like any annotation.
#pragma once

#include "sandbox/api_error.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace remedy::sandbox {

inline constexpr const char* kPodLogAnnotationPrefix = "sandbox.remedy.dev/log.";
inline constexpr const char* kPreviousPodLogAnnotationPrefix = "sandbox.remedy.dev/previous-log.";

// corev1.PodLogOptions as the query string carries them.
struct PodLogQuery {
  std::string container;
  bool previous = false;
  std::optional<int64_t> tailLines;
  std::optional<int64_t> limitBytes;
};

// The query's parameters read and validated as kube-apiserver does: a value
// that is not an integer is 400, tailLines < 0 or limitBytes < 1 is 422
// (PodLogOptions "POD" is invalid). `param` gives a parameter's first value.
Result<PodLogQuery> parsePodLogQuery(
    const std::string& pod,
    const std::function<std::optional<std::string>(const std::string&)>& param);

// The log of `pod` (a Pod object) for `query`: 400 for a container the pod
// does not have, or none named when it has several; 400 for a container not
// started yet, or `previous` without a terminated instance; the text cut to
// the last tailLines lines, then to limitBytes bytes.
Result<std::string> podLog(const nlohmann::json& pod, const PodLogQuery& query);

}  // namespace remedy::sandbox
