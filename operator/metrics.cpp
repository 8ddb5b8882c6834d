#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>

namespace remedy::op {
namespace {

using prometheus::Histogram;

double seconds(kube::Duration d) { return std::chrono::duration<double>(d).count(); }

const Histogram::BucketBoundaries& latencyBuckets() {
  static const Histogram::BucketBoundaries b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,  0.5,    1,     2.5,  5,     10,   30};
  return b;
}

const Histogram::BucketBoundaries& stepBuckets() {
  static const Histogram::BucketBoundaries b = {0.01, 0.05, 0.1, 0.5, 1,   2.5, 5,
                                                10,   30,   60,  120, 300, 900, 3600};
  return b;
}

}  // namespace

OperatorMetrics::OperatorMetrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      apiRequests_(prometheus::BuildCounter()
                       .Name("remedy_kube_client_requests_total")
                       .Help("API server requests by HTTP method and status code (0: no answer)")
                       .Register(*registry_)),
      apiLatency_(prometheus::BuildHistogram()
                      .Name("remedy_kube_client_request_duration_seconds")
                      .Help("API server request latency by HTTP method")
                      .Register(*registry_)),
      queueDepth_(prometheus::BuildGauge()
                      .Name("remedy_workqueue_depth")
                      .Help("Keys ready in a controller's work queue")
                      .Register(*registry_)),
      queueLatency_(prometheus::BuildHistogram()
                        .Name("remedy_workqueue_queue_duration_seconds")
                        .Help("How long a key waited in the work queue before a worker took it")
                        .Register(*registry_)),
      reconcileDuration_(prometheus::BuildHistogram()
                             .Name("remedy_reconcile_duration_seconds")
                             .Help("Reconcile duration by controller")
                             .Register(*registry_)),
      reconcileErrors_(prometheus::BuildCounter()
                           .Name("remedy_reconcile_errors_total")
                           .Help("Reconciles that failed and were retried, by controller")
                           .Register(*registry_)),
      stepAttempts_(prometheus::BuildCounter()
                        .Name("remedy_step_attempts_total")
                        .Help("Step attempts by action and outcome")
                        .Register(*registry_)),
      stepDuration_(prometheus::BuildHistogram()
                        .Name("remedy_step_attempt_duration_seconds")
                        .Help("Duration of step attempts by action")
                        .Register(*registry_)),
      guardrailRefusals_(prometheus::BuildCounter()
                             .Name("remedy_guardrail_refusals_total")
                             .Help("Guardrail checks that refused or deferred a step, by guardrail")
                             .Register(*registry_)),
      reverts_(prometheus::BuildCounter()
                   .Name("remedy_reverts_total")
                   .Help("Reverts of temporary changes by action and result")
                   .Register(*registry_)),
      escalations_(prometheus::BuildCounter()
                       .Name("remedy_escalations_total")
                       .Help("Escalation firings by delivery result")
                       .Register(*registry_)),
      incidentsFinished_(prometheus::BuildCounter()
                             .Name("remedy_incidents_finished_total")
                             .Help("Incidents that reached a final phase, by phase")
                             .Register(*registry_)),
      incidents_(prometheus::BuildGauge()
                     .Name("remedy_incidents")
                     .Help("Incidents by phase, as the leader's cache holds them")
                     .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("remedy_leader")
                  .Help("1 when this replica leads (reconciles), else 0")
                  .Register(*registry_)
                  .Add({})) {}

void OperatorMetrics::apiRequest(const std::string& verb, int code, kube::Duration latency) {
  apiRequests_.Add({{"verb", verb}, {"code", std::to_string(code)}}).Increment();
  apiLatency_.Add({{"verb", verb}}, latencyBuckets()).Observe(seconds(latency));
}

void OperatorMetrics::queueDepth(const std::string& queue, size_t depth) {
  queueDepth_.Add({{"name", queue}}).Set(static_cast<double>(depth));
}

void OperatorMetrics::queueLatency(const std::string& queue, kube::Duration waited) {
  queueLatency_.Add({{"name", queue}}, latencyBuckets()).Observe(seconds(waited));
}

void OperatorMetrics::reconcile(const std::string& controller, kube::Duration took, bool failed) {
  reconcileDuration_.Add({{"controller", controller}}, latencyBuckets()).Observe(seconds(took));
  if (failed) reconcileErrors_.Add({{"controller", controller}}).Increment();
}

void OperatorMetrics::stepAttempt(const std::string& action, const std::string& outcome,
                                  kube::Duration duration) {
  stepAttempts_.Add({{"action", action}, {"outcome", outcome}}).Increment();
  stepDuration_.Add({{"action", action}}, stepBuckets()).Observe(seconds(duration));
}

void OperatorMetrics::guardrailRefusal(const std::string& guardrail) {
  guardrailRefusals_.Add({{"guardrail", guardrail}}).Increment();
}

void OperatorMetrics::revert(const std::string& action, const std::string& result) {
  reverts_.Add({{"action", action}, {"result", result}}).Increment();
}

void OperatorMetrics::escalation(const std::string& result) {
  escalations_.Add({{"result", result}}).Increment();
}

void OperatorMetrics::incidentFinished(const std::string& phase) {
  incidentsFinished_.Add({{"phase", phase}}).Increment();
}

void OperatorMetrics::setIncidentCounter(std::function<std::map<std::string, int>()> counter) {
  std::lock_guard<std::mutex> lock(mu_);
  incidentCounter_ = std::move(counter);
}

void OperatorMetrics::setLeader(bool leading) { leader_.Set(leading ? 1 : 0); }

std::string OperatorMetrics::scrape() {
  std::map<std::string, int> counts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (incidentCounter_) counts = incidentCounter_();
  }
  counts["Pending"] += counts[""];  // not yet seen by the controller
  for (const char* phase : {"Pending", "AwaitingApproval", "Running", "Succeeded", "Failed",
                            "Escalated", "Cancelled", "Skipped"}) {
    incidents_.Add({{"phase", phase}}).Set(counts.count(phase) ? counts[phase] : 0);
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace remedy::op
