// The workload simulator: what kube-controller-manager, kube-scheduler and a
// kubelet would do to the sandbox's objects, simplified to one virtual node.
//
// - Deployments own ReplicaSets named <deployment>-<pod-template-hash> and roll
//   them over (RollingUpdate with maxSurge/maxUnavailable, or Recreate) when
//   the pod template changes; status and the Available/Progressing conditions
//   follow pkg/controller/deployment.
// - ReplicaSets, StatefulSets (<sts>-0..N-1, ordered), DaemonSets (one pod) and
//   Jobs own pods and keep their count and status.
// - Pods are bound to node "sandbox-node", then become Running and Ready after
//   the configured delay. Annotation sandbox.remedy.dev/crash-loop: "true"
//   keeps a pod Running but unready in CrashLoopBackOff with a growing
//   restartCount; sandbox.remedy.dev/fail: "true" makes a Job's pod fail.
// - PodDisruptionBudget status is kept current (see disruption.h).
//
// Every write goes through Objects as the system, so resourceVersion,
// generation and watch events are those any client sees; nothing is written
// unless it changes.
#pragma once

#include "sandbox/objects.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace remedy::sandbox {

// Annotations that steer the simulated kubelet.
inline constexpr const char* kCrashLoopAnnotation = "sandbox.remedy.dev/crash-loop";
inline constexpr const char* kFailAnnotation = "sandbox.remedy.dev/fail";
// The one virtual node pods run on.
inline constexpr const char* kSandboxNodeName = "sandbox-node";

class WorkloadSimulator {
 public:
  // `podReadyDelay`: from a pod's creation to Running and Ready (0: at once).
  // `crashLoopInterval`: how often a crash-looping container restarts.
  WorkloadSimulator(Objects& objects, std::chrono::milliseconds podReadyDelay,
                    std::chrono::milliseconds crashLoopInterval = std::chrono::seconds(2));
  ~WorkloadSimulator();
  WorkloadSimulator(const WorkloadSimulator&) = delete;
  WorkloadSimulator& operator=(const WorkloadSimulator&) = delete;

  // Observes the store and starts the worker thread "sandbox-sim"; objects
  // that exist already are reconciled first.
  void start();
  // Stops and joins the worker. Store events after this are ignored.
  void stop();
  // Nothing to do now: no key is queued or being reconciled, and no delayed
  // one is due. What a write asks of the simulator is queued before the
  // write returns, so a caller that writes and then waits for this sees
  // its effects (pods created, status updated) when it holds.
  bool settled() const;

 private:
  // The pending work, shared with the store observer (which may outlive this
  // object, as the store has no way to remove an observer).
  struct Queue;
  // What the simulated kubelet remembers of a pod it runs.
  struct PodRun {
    std::string uid;
    std::chrono::steady_clock::time_point seenAt;
    std::optional<std::chrono::steady_clock::time_point> runningAt;
  };

  void run();
  // Each returns false on a failure worth retrying (with backoff).
  bool reconcile(const std::string& key);
  bool syncDeployment(const std::string& ns, const std::string& name);
  bool syncReplicaSet(const std::string& ns, const std::string& name);
  bool syncStatefulSet(const std::string& ns, const std::string& name);
  bool syncDaemonSet(const std::string& ns, const std::string& name);
  bool syncJob(const std::string& ns, const std::string& name);
  bool syncPod(const std::string& ns, const std::string& name);
  bool syncDisruptionBudgets(const std::string& ns);

  // The ReplicaSets a Deployment controls, oldest first.
  std::vector<ObjectPtr> ownedReplicaSets(const std::string& ns, const std::string& uid) const;
  bool createPod(const std::string& ns, json pod);
  bool deletePod(const std::string& ns, const std::string& name);
  bool setReplicaSetReplicas(const json& rs, int32_t replicas, const json& deployment);
  bool writeStatus(const ResourceType& type, const std::string& ns, const std::string& name,
                   const json& status);
  void requeueAfter(const std::string& key, std::chrono::milliseconds delay);
  std::string nextPodIp();

  Objects& objects_;
  Store& store_;
  const std::chrono::milliseconds podReadyDelay_;
  const std::chrono::milliseconds crashLoopInterval_;
  ResourceTypePtr deployments_, replicaSets_, statefulSets_, daemonSets_, jobs_, pods_, pdbs_;

  std::shared_ptr<Queue> queue_;
  bool observing_ = false;  // only touched by start()/stop() callers
  std::thread worker_;

  // Worker-thread state: not shared, so unguarded.
  std::map<std::string, PodRun> podRuns_;  // "ns/name"
  std::map<std::string, int> failures_;    // key -> consecutive failed reconciles
  uint32_t nextIp_ = 0;
};

}  // namespace remedy::sandbox
