#include "kube/metrics.h"

#include <atomic>

namespace remedy::kube {
namespace {

MetricsSink& discard() {
  static MetricsSink sink;
  return sink;
}

std::atomic<MetricsSink*>& current() {
  static std::atomic<MetricsSink*> sink{nullptr};
  return sink;
}

}  // namespace

void setMetricsSink(MetricsSink* sink) { current().store(sink); }

MetricsSink& metricsSink() {
  MetricsSink* sink = current().load();
  return sink ? *sink : discard();
}

}  // namespace remedy::kube
