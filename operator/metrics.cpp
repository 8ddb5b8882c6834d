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
                       .Help("API server requests by client budget (intake, engine, followups, "
                             "events), HTTP method and status code (0: no answer)")
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
      effectsFenced_(prometheus::BuildCounter()
                         .Name("remedy_effects_fenced_total")
                         .Help("Effects not issued because the leader's Lease was not renewed "
                               "within the renew deadline less the margin, by effect")
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
                  .Add({})),
      rateLimiterWait_(prometheus::BuildHistogram()
                           .Name("remedy_kube_client_rate_limiter_duration_seconds")
                           .Help("How long API requests waited for their budget's rate limiter "
                                 "(--intake-qps, --kube-api-qps, --followups-qps, --events-qps "
                                 "and their bursts), by budget and verb")
                           .Register(*registry_)),
      throttled_(prometheus::BuildCounter()
                     .Name("remedy_kube_client_throttled_total")
                     .Help("Answers of the API server that asked a client to slow down (429, or "
                           "5xx with Retry-After), by budget and reason (TooManyRequests, "
                           "ServiceUnavailable, ServerError)")
                     .Register(*registry_)),
      retryAfterWaits_(prometheus::BuildCounter()
                           .Name("remedy_kube_client_retry_after_seconds_total")
                           .Help("Seconds that requests waited, as the API server's Retry-After "
                                 "asked, before they were sent again, by budget")
                           .Register(*registry_)),
      approvalsWaiting_(prometheus::BuildGauge()
                            .Name("remedy_approvals_waiting")
                            .Help("Incidents waiting for an approval, by namespace and runbook "
                                  "(the leader's cache)")
                            .Register(*registry_)),
      oldestApprovalWait_(prometheus::BuildGauge()
                              .Name("remedy_approval_oldest_wait_seconds")
                              .Help("How long the oldest Incident waiting for an approval has "
                                    "waited, by namespace and runbook")
                              .Register(*registry_)),
      pastTimeout_(prometheus::BuildGauge()
                       .Name("remedy_incidents_past_timeout")
                       .Help("Running Incidents that have run longer than their Runbook's "
                             "timeouts allow, by namespace and runbook")
                       .Register(*registry_)) {}

void OperatorMetrics::rateLimiterWait(const std::string& budget, const std::string& verb,
                                      kube::Duration waited) {
  rateLimiterWait_.Add({{"budget", budget}, {"verb", verb}}, latencyBuckets())
      .Observe(seconds(waited));
}

void OperatorMetrics::throttled(const std::string& budget, const std::string& reason,
                                kube::Duration waited) {
  throttled_.Add({{"budget", budget}, {"reason", reason}}).Increment();
  retryAfterWaits_.Add({{"budget", budget}}).Increment(seconds(waited));
}

void OperatorMetrics::setRunbookGauges(std::function<RunbookGaugeMap()> gauges) {
  std::lock_guard<std::mutex> lock(mu_);
  runbookGauges_ = std::move(gauges);
}

void OperatorMetrics::apiRequest(const std::string& budget, const std::string& verb, int code,
                                 kube::Duration latency) {
  apiRequests_.Add({{"budget", budget}, {"verb", verb}, {"code", std::to_string(code)}})
      .Increment();
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

void OperatorMetrics::effectFenced(const std::string& effect) {
  effectsFenced_.Add({{"effect", effect}}).Increment();
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
    RunbookGaugeMap gauges;
    if (runbookGauges_) gauges = runbookGauges_();
    std::set<std::pair<std::string, std::string>> now;
    for (const auto& [key, g] : gauges) {
      std::map<std::string, std::string> labels = {{"namespace", key.first},
                                                   {"runbook", key.second}};
      approvalsWaiting_.Add(labels).Set(g.approvalsWaiting);
      oldestApprovalWait_.Add(labels).Set(g.oldestApprovalWaitSeconds);
      pastTimeout_.Add(labels).Set(g.pastTimeout);
      now.insert(key);
    }
    for (const auto& key : runbookLabels_) {
      if (now.count(key)) continue;
      std::map<std::string, std::string> labels = {{"namespace", key.first},
                                                   {"runbook", key.second}};
      approvalsWaiting_.Remove(&approvalsWaiting_.Add(labels));
      oldestApprovalWait_.Remove(&oldestApprovalWait_.Add(labels));
      pastTimeout_.Remove(&pastTimeout_.Add(labels));
    }
    runbookLabels_ = std::move(now);
  }
  counts["Pending"] += counts[""];  // not yet seen by the controller
  for (const char* phase : {"Pending", "AwaitingApproval", "Running", "Succeeded", "Failed",
                            "Escalated", "Cancelled", "Skipped"}) {
    incidents_.Add({{"phase", phase}}).Set(counts.count(phase) ? counts[phase] : 0);
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace remedy::op
