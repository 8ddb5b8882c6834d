// From an alert's pod to the workload that controls it. kube-prometheus
// alerts (KubePodCrashLooping, KubeContainerOOMKilled, the CPU and memory
// alerts) carry `namespace`, `pod` and `container`, not the Deployment; a
// step's `target: {pod, owner}` names the workload through the pod's
// controller ownerReferences, as kube-controller-manager set them:
// Pod -> ReplicaSet -> Deployment, Pod -> StatefulSet.
#pragma once

#include "kube/client.h"

#include <string>

namespace remedy::actions {

struct PodOwner {
  std::string apiVersion;  // apps/v1
  std::string kind;        // Deployment or StatefulSet
  std::string ns;
  std::string name;
  std::string pod;
  std::string podUid;
  // The controller references followed: "Pod web-5d8c7-x2k4q -> ReplicaSet
  // web-5d8c7 -> Deployment web".
  std::string via;
};

// Reads the pod and its controllers (get on pods, and on replicasets for a
// Deployment). Errors name the pod and why it has no such owner: NotFound
// when the pod (or an owner in between) is gone; a configuration error when
// its controller is of another kind, it has none, or `owner` is neither
// Deployment nor StatefulSet; API errors as the server gave them.
kube::Result<PodOwner> resolvePodOwner(kube::Client& client, const std::string& ns,
                                       const std::string& pod, const std::string& owner);

}  // namespace remedy::actions
