// The Kubernetes action family: scale, rolloutRestart, deletePods, waitFor
// and runJob. Each is idempotent given its context (see action.h):
// - scale computes a relative change from the replicas recorded by
//   `prepare` before the first attempt, so a retry sets the same number;
// - rolloutRestart writes kubectl's restartedAt annotation with the step's
//   first start time, so a retry writes the same value and changes nothing;
// - deletePods chooses its pods in `prepare` (recorded on status) and only
//   ever removes those, so a rerun never removes more than the bound;
// - runJob names its Job after the idempotency key, so a rerun finds it.
#pragma once

#include "actions/action.h"

#include <optional>
#include <string>
#include <vector>

namespace remedy::actions {

// A relative ("+2", "-1") or absolute ("5", 5) replicas value applied to
// `from`, then clamped to [minReplicas, maxReplicas] when given. nullopt when
// `replicas` is neither.
std::optional<int> computeScaleReplicas(int from, const json& replicas,
                                        std::optional<int> minReplicas,
                                        std::optional<int> maxReplicas);

// The kubectl annotation a rollout restart sets on the pod template.
inline constexpr const char* kRestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

class ScaleAction : public Action {
 public:
  std::string field() const override { return "scale"; }
  ActionOutcome prepare(const json& params, const ActionContext& context) override;
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class RolloutRestartAction : public Action {
 public:
  std::string field() const override { return "rolloutRestart"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class DeletePodsAction : public Action {
 public:
  std::string field() const override { return "deletePods"; }
  ActionOutcome prepare(const json& params, const ActionContext& context) override;
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class WaitForAction : public Action {
 public:
  std::string field() const override { return "waitFor"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
};

class RunJobAction : public Action {
 public:
  std::string field() const override { return "runJob"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;
  // The Job's name for an attempt: stable for one idempotency key.
  static std::string jobName(const ActionContext& context);
};

// Which states a pod is in, as deletePods.states names them.
std::vector<std::string> podStates(const json& pod);

}  // namespace remedy::actions
