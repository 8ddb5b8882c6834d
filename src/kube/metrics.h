// Where src/kube reports what a metrics system wants to know: API requests
// by verb and code, work-queue depth and latency, reconcile durations. Like
// client-go's tools/metrics and workqueue.SetProvider, the sink is set once
// per process (remedy-operator sets one backed by prometheus-cpp); the
// default discards everything, so libraries and tests need not care.
#pragma once

#include "kube/clock.h"

#include <string>

namespace remedy::kube {

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  // One API request answered (code 0: no answer, such as a connection
  // failure), by the budget (RestClientOptions::budget) it drew on.
  virtual void apiRequest(const std::string& budget, const std::string& verb, int code,
                          Duration latency) {}
  // A work queue's ready items, after each add or get.
  virtual void queueDepth(const std::string& queue, size_t depth) {}
  // How long an item waited in the queue before a worker took it.
  virtual void queueLatency(const std::string& queue, Duration waited) {}
  // One reconcile.
  virtual void reconcile(const std::string& controller, Duration took, bool failed) {}
  // How long a request waited for its budget's rate limiter (qps, burst)
  // before it was sent (client-go: rest_client_rate_limiter_duration_seconds).
  virtual void rateLimiterWait(const std::string& budget, const std::string& verb,
                               Duration waited) {}
  // The API server answered a request of `budget` 429, or 5xx with
  // Retry-After (reason: TooManyRequests, ServiceUnavailable, ServerError);
  // the client waits `waited` (the Retry-After it honours) before sending
  // it again, 0 when it does not send it again.
  virtual void throttled(const std::string& budget, const std::string& reason, Duration waited) {}
};

// Not owned; must outlive every client and controller. nullptr: discard.
void setMetricsSink(MetricsSink* sink);
MetricsSink& metricsSink();

}  // namespace remedy::kube
