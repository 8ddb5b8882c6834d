// Time as a dependency: everything in this library that waits, backs off or
// stamps a time asks a Clock, so tests drive time with FakeClock instead of
// sleeping (client-go does the same with k8s.io/utils/clock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace remedy::kube {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for deadlines and intervals.
  virtual TimePoint now() const = 0;
  // Calendar time, for what is written to the API server (lease renewTime,
  // event timestamps) and for credential expiry.
  virtual WallTime wallNow() const = 0;
  // Blocks on `cv` (the caller holds `lock`) until notified or until
  // `deadline` on this clock has passed. May return early: callers loop and
  // re-check their condition and now().
  virtual void waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         TimePoint deadline) const = 0;

  // The process-wide real clock.
  static const Clock& real();
};

class RealClock : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  void waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) const override;
};

// Time stands still until a test calls step() or set(). A thread blocked in
// waitUntil() re-checks the fake time every millisecond of real time, so a
// step() is seen promptly without the clock knowing its waiters.
class FakeClock : public Clock {
 public:
  FakeClock();
  TimePoint now() const override;
  WallTime wallNow() const override;
  void waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) const override;

  void step(Duration d);
  // Number of threads currently blocked in waitUntil(): lets a test wait
  // until a component is parked on the clock before stepping it.
  int waiters() const;

 private:
  mutable std::mutex mu_;  // guards now_, wall_, waiters_
  TimePoint now_;
  WallTime wall_;
  mutable int waiters_ = 0;
};

}  // namespace remedy::kube
