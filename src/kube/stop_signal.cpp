#include "kube/stop_signal.h"

namespace remedy::kube {

void StopSignal::requestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  cv_.notify_all();
  std::lock_guard<std::mutex> lock(callbacksMu_);
  for (auto& [id, callback] : callbacks_) callback();
  callbacks_.clear();
}

bool StopSignal::stopRequested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

bool StopSignal::waitUntil(const Clock& clock, TimePoint deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_ && clock.now() < deadline) clock.waitUntil(cv_, lock, deadline);
  return stopped_;
}

void StopSignal::wait() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stopped_; });
}

uint64_t StopSignal::onStop(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(callbacksMu_);
  if (stopRequested()) {
    callback();
    return 0;
  }
  uint64_t id = nextId_++;
  callbacks_.emplace(id, std::move(callback));
  return id;
}

void StopSignal::removeOnStop(uint64_t id) {
  std::lock_guard<std::mutex> lock(callbacksMu_);
  callbacks_.erase(id);
}

}  // namespace remedy::kube
