// Backoff schedules, as k8s.io/apimachinery/pkg/util/wait/backoff.go has them.
#pragma once

#include "kube/clock.h"

#include <mutex>

namespace remedy::kube {

// A uniformly random number in [0, 1), safe from any thread.
double randomUnit();
// d + random in [0, maxFactor * d) (wait.Jitter; maxFactor <= 0 means 1).
Duration jitter(Duration d, double maxFactor);

// wait.Backoff: each step() returns the current duration (jittered) and
// multiplies it by factor, up to cap; steps bounds how many are given.
struct Backoff {
  Duration duration{std::chrono::milliseconds(10)};
  double factor = 1.0;
  double jitterFactor = 0.0;
  int steps = 1;
  Duration cap{0};  // 0: none

  Duration step();
};

// The reflector's backoff (wait.NewExponentialBackoffManager, as
// tools/cache/reflector.go configures it: 800ms doubling to 30s, jitter 1.0,
// back to the start after 2 minutes without a failure).
class ExponentialBackoff {
 public:
  struct Options {
    Duration initial{std::chrono::milliseconds(800)};
    Duration max{std::chrono::seconds(30)};
    Duration resetAfter{std::chrono::minutes(2)};
    double factor = 2.0;
    double jitterFactor = 1.0;
  };
  ExponentialBackoff(const Clock& clock, Options options);

  // The next wait: doubles each time, starts over when the previous call
  // was longer than resetAfter ago.
  Duration next();

 private:
  const Clock& clock_;
  const Options options_;
  std::mutex mu_;  // guards below
  Duration current_{0};
  TimePoint lastBackoffStart_{};
  bool started_ = false;
};

}  // namespace remedy::kube
