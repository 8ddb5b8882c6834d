#include "kube/token_bucket.h"

#include <algorithm>
#include <condition_variable>

namespace remedy::kube {

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock.now()) {}

void TokenBucket::advance(TimePoint now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

Duration TokenBucket::reserve() {
  if (qps_ <= 0) return Duration(0);
  std::lock_guard<std::mutex> lock(mu_);
  advance(clock_.now());
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Duration(0);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

bool TokenBucket::tryAccept() {
  if (qps_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  advance(clock_.now());
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool TokenBucket::wait(const StopSignal* stop) {
  Duration d = reserve();
  if (d.count() <= 0) return !(stop && stop->stopRequested());
  TimePoint deadline = clock_.now() + d;
  if (stop) return !stop->waitUntil(clock_, deadline);
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(m);
  while (clock_.now() < deadline) clock_.waitUntil(cv, lock, deadline);
  return true;
}

}  // namespace remedy::kube
