#include "api/common_types.h"

namespace remedy::api {

const Condition* findCondition(const std::optional<std::vector<Condition>>& conditions,
                               const std::string& type) {
  if (!conditions) return nullptr;
  for (const Condition& c : *conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

std::optional<std::string> defaultApiVersion(const std::string& kind) {
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet") {
    return "apps/v1";
  }
  if (kind == "Pod" || kind == "ConfigMap" || kind == "Secret" || kind == "Service" ||
      kind == "ServiceAccount" || kind == "ReplicationController" || kind == "Namespace" ||
      kind == "PersistentVolumeClaim") {
    return "v1";
  }
  if (kind == "Job" || kind == "CronJob") return "batch/v1";
  if (kind == "NetworkPolicy" || kind == "Ingress") return "networking.k8s.io/v1";
  if (kind == "HorizontalPodAutoscaler") return "autoscaling/v2";
  if (kind == "PodDisruptionBudget") return "policy/v1";
  return std::nullopt;
}

std::optional<std::string> ObjectTarget::effectiveApiVersion() const {
  if (apiVersion) return apiVersion;
  return defaultApiVersion(effectiveKind());
}

}  // namespace remedy::api
