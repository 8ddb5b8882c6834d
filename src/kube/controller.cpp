#include "kube/controller.h"

#include "kube/metrics.h"

#include <spdlog/spdlog.h>

namespace remedy::kube {

Controller::Controller(std::string name, Reconciler reconciler, ControllerOptions options,
                       const Clock& clock)
    : name_(std::move(name)),
      reconciler_(std::move(reconciler)),
      workers_(options.workers > 0 ? options.workers : 1),
      cacheSyncTimeout_(options.cacheSyncTimeout),
      clock_(clock),
      queue_(std::move(options.rateLimiter), clock) {
  queue_.setName(name_);
}

Controller::~Controller() { stop(); }

void Controller::watch(Informer& informer, KeyMapper mapper) {
  if (!mapper) mapper = [](const json& o) { return std::vector<std::string>{objectKey(o)}; };
  informers_.push_back(&informer);
  auto enqueue = [this, mapper](const json& o) {
    for (const auto& key : mapper(o)) queue_.add(key);
  };
  EventHandler handler;
  handler.onAdd = [enqueue](const json& o, bool) { enqueue(o); };
  handler.onUpdate = [enqueue](const json&, const json& o) { enqueue(o); };
  handler.onDelete = [enqueue](const json& o, bool) { enqueue(o); };
  informer.addEventHandler(std::move(handler));
}

Status Controller::start() {
  for (Informer* informer : informers_) {
    if (!informer->waitForSync(cacheSyncTimeout_)) {
      return Status::error(0, reason::kTimeout,
                           "controller " + name_ + ": the " + informer->resource().resource +
                               " informer did not sync");
    }
  }
  for (int i = 0; i < workers_; ++i) {
    threads_.emplace_back(name_.substr(0, 11) + "-w" + std::to_string(i), [this] { work(); });
  }
  return Status();
}

void Controller::stop() {
  queue_.shutDown();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Controller::work() {
  while (auto key = queue_.get()) {
    processOne(*key);
    queue_.done(*key);
  }
}

void Controller::processOne(const std::string& key) {
  ReconcileResult result;
  TimePoint started = clock_.now();
  try {
    result = reconciler_(key);
  } catch (const std::exception& e) {
    // controller-runtime recovers a panicking reconciler as an error.
    result = ReconcileResult::failed(
        Status::error(0, reason::kInternalError, std::string("reconciler threw: ") + e.what()));
  }
  ++reconciles_;
  metricsSink().reconcile(name_, clock_.now() - started, !result.error.ok());
  if (!result.error.ok()) {
    ++failures_;
    spdlog::warn("controller {}: reconcile {}: {}", name_, key, result.error.toString());
    queue_.addRateLimited(key);
  } else if (result.requeueAfter.count() > 0) {
    queue_.forget(key);
    queue_.addAfter(key, result.requeueAfter);
  } else if (result.requeue) {
    queue_.addRateLimited(key);
  } else {
    queue_.forget(key);
  }
}

}  // namespace remedy::kube
