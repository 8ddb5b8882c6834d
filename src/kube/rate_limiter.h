// How long a work-queue item waits before its next try, after
// k8s.io/client-go/util/workqueue/default_rate_limiters.go.
#pragma once

#include "kube/clock.h"
#include "kube/token_bucket.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::kube {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `item` should wait now; counts a failure for per-item limiters.
  virtual Duration when(const std::string& item) = 0;
  // Stops tracking `item` (it succeeded).
  virtual void forget(const std::string& item) = 0;
  // Failures counted for `item`.
  virtual int numRequeues(const std::string& item) = 0;
};

// baseDelay * 2^failures, capped at maxDelay.
class ItemExponentialFailureRateLimiter : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(Duration baseDelay, Duration maxDelay);
  Duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  const Duration baseDelay_;
  const Duration maxDelay_;
  std::mutex mu_;  // guards failures_
  std::map<std::string, int> failures_;
};

// fastDelay for the first maxFastAttempts failures, then slowDelay.
class ItemFastSlowRateLimiter : public RateLimiter {
 public:
  ItemFastSlowRateLimiter(Duration fastDelay, Duration slowDelay, int maxFastAttempts);
  Duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  const Duration fastDelay_;
  const Duration slowDelay_;
  const int maxFastAttempts_;
  std::mutex mu_;  // guards failures_
  std::map<std::string, int> failures_;
};

// One token bucket for all items: bounds the overall retry rate.
class BucketRateLimiter : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, const Clock& clock = Clock::real());
  Duration when(const std::string& item) override { return bucket_.reserve(); }
  void forget(const std::string& item) override {}
  int numRequeues(const std::string& item) override { return 0; }

 private:
  TokenBucket bucket_;
};

// The longest wait of several limiters.
class MaxOfRateLimiter : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// workqueue.DefaultControllerRateLimiter: per item 5ms doubling to 1000s,
// overall 10 qps with a burst of 100.
std::unique_ptr<RateLimiter> defaultControllerRateLimiter(const Clock& clock = Clock::real());

}  // namespace remedy::kube
