#include "kube/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace remedy::kube {

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Duration baseDelay,
                                                                     Duration maxDelay)
    : baseDelay_(baseDelay), maxDelay_(maxDelay) {}

Duration ItemExponentialFailureRateLimiter::when(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  int exp = failures_[item]++;
  // Computed in floating point so a large exponent saturates instead of
  // overflowing, as default_rate_limiters.go does.
  double backoff = static_cast<double>(baseDelay_.count()) * std::pow(2.0, exp);
  if (backoff > static_cast<double>(maxDelay_.count())) return maxDelay_;
  return Duration(static_cast<Duration::rep>(backoff));
}

void ItemExponentialFailureRateLimiter::forget(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(item);
}

int ItemExponentialFailureRateLimiter::numRequeues(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

ItemFastSlowRateLimiter::ItemFastSlowRateLimiter(Duration fastDelay, Duration slowDelay,
                                                 int maxFastAttempts)
    : fastDelay_(fastDelay), slowDelay_(slowDelay), maxFastAttempts_(maxFastAttempts) {}

Duration ItemFastSlowRateLimiter::when(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = ++failures_[item];
  return n <= maxFastAttempts_ ? fastDelay_ : slowDelay_;
}

void ItemFastSlowRateLimiter::forget(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(item);
}

int ItemFastSlowRateLimiter::numRequeues(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, const Clock& clock)
    : bucket_(qps, burst, clock) {}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Duration MaxOfRateLimiter::when(const std::string& item) {
  Duration longest{0};
  for (auto& l : limiters_) longest = std::max(longest, l->when(item));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& item) {
  for (auto& l : limiters_) l->forget(item);
}

int MaxOfRateLimiter::numRequeues(const std::string& item) {
  int most = 0;
  for (auto& l : limiters_) most = std::max(most, l->numRequeues(item));
  return most;
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(const Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(
      std::chrono::milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace remedy::kube
