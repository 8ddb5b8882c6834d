// A token bucket with golang.org/x/time/rate semantics: `qps` tokens per
// second, at most `burst` saved up; a reservation may go into debt and tells
// how long to wait. Used for the client-side request limit (rest.Config QPS
// and Burst, flowcontrol.NewTokenBucketRateLimiter) and the work queue's
// overall retry limit (workqueue.BucketRateLimiter).
#pragma once

#include "kube/clock.h"
#include "kube/stop_signal.h"

#include <mutex>

namespace remedy::kube {

class TokenBucket {
 public:
  // qps <= 0 means unlimited.
  TokenBucket(double qps, int burst, const Clock& clock = Clock::real());

  // Takes a token now and returns how long the caller must wait before
  // using it (0 when one was available).
  Duration reserve();
  // Takes a token only if one is available now.
  bool tryAccept();
  // Takes a token and waits for it. False when stop came first.
  bool wait(const StopSignal* stop = nullptr);

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  void advance(TimePoint now);  // with mu_ held
  const double qps_;
  const int burst_;
  const Clock& clock_;
  std::mutex mu_;  // guards tokens_ and last_
  double tokens_;
  TimePoint last_;
};

}  // namespace remedy::kube
