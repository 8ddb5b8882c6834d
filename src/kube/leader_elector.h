// Leader election on a coordination.k8s.io/v1 Lease, with the semantics and
// defaults of client-go tools/leaderelection/leaderelection.go:
// - a candidate acquires the lease when it has no holder or the holder has
//   not renewed it for leaseDurationSeconds, measured on the candidate's
//   own clock from when it last saw the record change (clock skew between
//   machines does not matter);
// - the leader renews every retryPeriod; if it cannot renew for
//   renewDeadline it stops leading;
// - acquisition retries every retryPeriod with jitter (factor 1.2);
// - on graceful stop a leader releases the lease (empty holder, duration
//   1s) so another candidate takes over at its next try.
// Stricter than client-go in one way: a leader that reads the lease and
// finds another holder stops leading at once instead of at renewDeadline.
//
// Fencing: client-go expects a leader's callers to stop acting before the
// lease could have expired. `mayAct()` is true only while this candidate
// leads and its last successful renewal began less than renewDeadline minus
// fenceMargin ago; callers check it just before each effect.
#pragma once

#include "kube/client.h"
#include "kube/clock.h"
#include "kube/stop_signal.h"

#include <functional>
#include <mutex>
#include <string>

namespace remedy::kube {

struct LeaderElectionConfig {
  std::string namespace_;
  std::string name;      // the Lease
  std::string identity;  // this candidate, unique (hostname + random)
  // Whole seconds: the Lease stores leaseDurationSeconds as an integer.
  Duration leaseDuration{std::chrono::seconds(15)};
  Duration renewDeadline{std::chrono::seconds(10)};
  Duration retryPeriod{std::chrono::seconds(2)};
  double jitterFactor = 1.2;
  // mayAct() turns false this long before renewDeadline has passed since
  // the last renewal; zero or less: one retryPeriod.
  Duration fenceMargin{0};
  bool releaseOnCancel = true;

  // Runs on its own thread while this candidate leads; `leading` is stopped
  // the moment leadership is lost or the elector stops. It should return
  // promptly after that.
  std::function<void(StopSignal& leading)> onStartedLeading;
  // After leading ends (not called if this candidate never led).
  std::function<void()> onStoppedLeading;
  // When the observed leader changes (including to this candidate).
  std::function<void(const std::string& identity)> onNewLeader;
};

// Checks the durations are consistent (leaderelection.go NewLeaderElector).
Status validate(const LeaderElectionConfig& config);

// The fence: a leader whose last successful renewal began at `lastRenew`
// may still issue effects at `now` when less than `renewDeadline - margin`
// has passed. Other candidates take the lease no earlier than leaseDuration
// (> renewDeadline) after they saw that renewal, which began before they saw
// it, so an effect started while this holds leaves at least
// leaseDuration - renewDeadline + margin for the effect to land.
bool withinFence(TimePoint lastRenew, TimePoint now, Duration renewDeadline, Duration margin);

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderElectionConfig config, const Clock& clock = Clock::real());

  // Campaigns, leads, and returns when `stop` is requested or leadership
  // is lost (as client-go's Run: build a new elector to campaign again).
  void run(StopSignal& stop);

  bool isLeader() const;
  // Leads, and renewed recently enough to issue an effect (withinFence with
  // config.renewDeadline and the effective fenceMargin). Thread-safe.
  bool mayAct() const;
  // The holder last observed ("" when none).
  std::string leader() const;

 private:
  bool tryAcquireOrRenew();
  bool release();
  bool acquire(StopSignal& stop);
  // Returns when renewal failed for renewDeadline or `stop` came.
  void renew(StopSignal& stop);
  void observe(const json& lease, bool changed);

  Client& client_;
  const LeaderElectionConfig config_;
  const Clock& clock_;

  mutable std::mutex mu_;  // guards the observed record below
  std::string observedHolder_;
  int64_t observedDurationSeconds_ = 0;
  int64_t observedTransitions_ = 0;
  std::string observedAcquireTime_;
  std::string observedRaw_;
  TimePoint observedTime_{};
  TimePoint lastRenew_{};  // when the last successful acquire or renewal began
  bool leading_ = false;
  bool lostToOther_ = false;
  std::string reportedLeader_;
};

}  // namespace remedy::kube
