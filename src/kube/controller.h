// Informers + a work queue + N workers running one reconcile function, with
// controller-runtime's result rules (internal/controller/controller.go
// reconcileHandler):
// - an error: requeue with the rate limiter's backoff;
// - requeueAfter > 0: forget the failures, add after that delay;
// - requeue: requeue with the rate limiter's backoff;
// - otherwise: forget the failures.
// The reconciler reads the world by key, moves it one step and returns; it
// never sleeps. Workers start once every watched informer has synced.
#pragma once

#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/named_thread.h"
#include "kube/rate_limiter.h"
#include "kube/status.h"
#include "kube/stop_signal.h"
#include "kube/work_queue.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace remedy::kube {

struct ReconcileResult {
  bool requeue = false;
  Duration requeueAfter{0};
  Status error;

  static ReconcileResult done() { return {}; }
  static ReconcileResult after(Duration d) { return {false, d, Status()}; }
  static ReconcileResult failed(Status s) { return {false, Duration(0), std::move(s)}; }
};

using Reconciler = std::function<ReconcileResult(const std::string& key)>;
// Maps an object to the keys to reconcile (its own key by default; an
// owner's key for owned objects).
using KeyMapper = std::function<std::vector<std::string>(const json& object)>;

struct ControllerOptions {
  int workers = 1;
  std::unique_ptr<RateLimiter> rateLimiter;  // null: the default
  Duration cacheSyncTimeout{std::chrono::minutes(2)};
};

class Controller {
 public:
  Controller(std::string name, Reconciler reconciler, ControllerOptions options = {},
             const Clock& clock = Clock::real());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Enqueues keys for every add, update and delete the informer sees.
  void watch(Informer& informer, KeyMapper mapper = nullptr);
  WorkQueue& queue() { return queue_; }

  // Waits for the watched informers to sync, then starts the workers.
  // Fails (and starts nothing) when they do not sync in time.
  Status start();
  // Stops taking new keys, lets running reconciles finish, joins workers.
  void stop();

  // Counters, for tests and metrics.
  int reconciles() const { return reconciles_; }
  int failures() const { return failures_; }

 private:
  void work();
  void processOne(const std::string& key);

  const std::string name_;
  Reconciler reconciler_;
  const int workers_;
  const Duration cacheSyncTimeout_;
  const Clock& clock_;
  WorkQueue queue_;
  std::vector<Informer*> informers_;
  std::vector<NamedThread> threads_;
  std::atomic<int> reconciles_{0};
  std::atomic<int> failures_{0};
};

}  // namespace remedy::kube
