#include "kube/retry.h"

#include <condition_variable>
#include <mutex>

namespace remedy::kube {

Backoff defaultRetry() {
  Backoff b;
  b.steps = 5;
  b.duration = std::chrono::milliseconds(10);
  b.factor = 1.0;
  b.jitterFactor = 0.1;
  return b;
}

Backoff defaultBackoff() {
  Backoff b;
  b.steps = 4;
  b.duration = std::chrono::milliseconds(10);
  b.factor = 5.0;
  b.jitterFactor = 0.1;
  return b;
}

Status retryOnError(Backoff backoff, const std::function<bool(const Status&)>& retriable,
                    const std::function<Status()>& fn, const Clock& clock) {
  Status last;
  // wait.ExponentialBackoff: try, then sleep a step, while steps remain.
  int tries = backoff.steps > 0 ? backoff.steps : 1;
  for (int i = 0; i < tries; ++i) {
    last = fn();
    if (last.ok() || !retriable(last)) return last;
    if (i + 1 == tries) break;
    TimePoint deadline = clock.now() + backoff.step();
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock<std::mutex> lock(m);
    while (clock.now() < deadline) clock.waitUntil(cv, lock, deadline);
  }
  return last;
}

Status retryOnConflict(Backoff backoff, const std::function<Status()>& fn, const Clock& clock) {
  return retryOnError(
      backoff, [](const Status& s) { return isConflict(s); }, fn, clock);
}

}  // namespace remedy::kube
