// A stop signal shared by a component and its threads: set once, waited on
// with a deadline, and able to run callbacks that cancel in-flight work (for
// example a blocked watch read) the moment stop is requested.
#pragma once

#include "kube/clock.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace remedy::kube {

class StopSignal {
 public:
  StopSignal() = default;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Idempotent. Runs the registered callbacks once, on the calling thread.
  void requestStop();
  bool stopRequested() const;

  // Waits until stop is requested or `deadline` on `clock` passes.
  // Returns true when stop was requested.
  bool waitUntil(const Clock& clock, TimePoint deadline) const;
  bool waitFor(const Clock& clock, Duration d) const { return waitUntil(clock, clock.now() + d); }
  // Waits for stop without a deadline.
  void wait() const;

  // Calls `callback` when stop is requested (at once if it already was).
  // Callbacks must be quick and must not touch this signal's callbacks.
  uint64_t onStop(std::function<void()> callback);
  // After this returns the callback is not running and never will.
  void removeOnStop(uint64_t id);

 private:
  mutable std::mutex mu_;  // guards stopped_
  mutable std::condition_variable cv_;
  bool stopped_ = false;

  std::mutex callbacksMu_;  // guards callbacks_ and nextId_; held while they run
  std::map<uint64_t, std::function<void()>> callbacks_;
  uint64_t nextId_ = 1;
};

// Registers a callback for the lifetime of a scope.
class ScopedOnStop {
 public:
  ScopedOnStop(StopSignal& signal, std::function<void()> callback)
      : signal_(signal), id_(signal.onStop(std::move(callback))) {}
  ~ScopedOnStop() { signal_.removeOnStop(id_); }
  ScopedOnStop(const ScopedOnStop&) = delete;
  ScopedOnStop& operator=(const ScopedOnStop&) = delete;

 private:
  StopSignal& signal_;
  uint64_t id_;
};

}  // namespace remedy::kube
