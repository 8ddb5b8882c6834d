#include "kube/clock.h"

namespace remedy::kube {

const Clock& Clock::real() {
  static const RealClock clock;
  return clock;
}

void RealClock::waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          TimePoint deadline) const {
  cv.wait_until(lock, deadline);
}

FakeClock::FakeClock()
    // A fixed, recognisable start keeps test output stable.
    : now_(TimePoint() + std::chrono::hours(1000)),
      wall_(WallTime() + std::chrono::seconds(1700000000)) {}

TimePoint FakeClock::now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

WallTime FakeClock::wallNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_;
}

void FakeClock::waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          TimePoint deadline) const {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (now_ >= deadline) return;
    ++waiters_;
  }
  cv.wait_for(lock, std::chrono::milliseconds(1));
  std::lock_guard<std::mutex> g(mu_);
  --waiters_;
}

void FakeClock::step(Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
}

int FakeClock::waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_;
}

}  // namespace remedy::kube
