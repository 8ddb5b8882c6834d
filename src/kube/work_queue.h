// A rate-limited, delaying work queue with client-go's guarantees
// (util/workqueue/queue.go, delaying_queue.go, rate_limiting_queue.go):
// - an item waiting in the queue is there once, however often it is added;
// - an item is handed to one worker at a time: added while being processed,
//   it is queued again when that worker calls done();
// - addAfter keeps the earliest of several pending times for an item;
// - addRateLimited waits as the rate limiter says; forget resets it.
// Items are keys (usually "namespace/name").
#pragma once

#include "kube/clock.h"
#include "kube/rate_limiter.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace remedy::kube {

class WorkQueue {
 public:
  explicit WorkQueue(std::unique_ptr<RateLimiter> rateLimiter = nullptr,
                     const Clock& clock = Clock::real());
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& item);
  // d <= 0 adds at once.
  void addAfter(const std::string& item, Duration d);
  void addRateLimited(const std::string& item);
  void forget(const std::string& item);
  int numRequeues(const std::string& item);

  // Blocks until an item is ready; nullopt once the queue is shut down and
  // holds no ready item. The caller must call done(item) afterwards.
  std::optional<std::string> get();
  // Like get() but gives up at `deadline` on the queue's clock.
  std::optional<std::string> getUntil(TimePoint deadline);
  void done(const std::string& item);

  // Ready items (not those waiting for their time, nor those in progress).
  size_t len();
  // Items waiting for a later time.
  size_t waiting();
  bool isProcessing(const std::string& item) const;

  // New adds are ignored; get() drains what is ready, then returns nullopt.
  void shutDown();
  // shutDown(), then waits until every item handed out is done().
  void shutDownWithDrain();
  bool shuttingDown() const;

  // The name reported with depth and latency metrics (kube/metrics.h).
  void setName(std::string name);

 private:
  void addLocked(const std::string& item);
  void promoteDueLocked(TimePoint now);
  std::optional<TimePoint> nextReadyLocked() const;

  std::unique_ptr<RateLimiter> rateLimiter_;
  const Clock& clock_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // needs processing (queued or re-added while in progress)
  std::set<std::string> processing_;  // handed to a worker, not done yet
  std::map<std::string, TimePoint> waiting_;  // addAfter: item -> ready time
  bool shuttingDown_ = false;
  std::string name_;
  std::map<std::string, TimePoint> queuedAt_;  // ready items: when they became ready
};

}  // namespace remedy::kube
