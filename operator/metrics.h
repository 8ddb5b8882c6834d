// remedy-operator's Prometheus metrics (prometheus-cpp), served on
// /metrics: what src/kube reports (API requests, work queues, reconciles),
// what the engine reports (steps, guardrails, reverts, escalations), and
// gauges read at scrape time (Incidents by phase, leadership). The intake
// registers its own alert counters on the same registry.
#pragma once

#include "engine/metrics.h"
#include "kube/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace remedy::op {

class OperatorMetrics : public kube::MetricsSink, public engine::EngineMetrics {
 public:
  explicit OperatorMetrics(std::shared_ptr<prometheus::Registry> registry);

  // kube::MetricsSink
  void apiRequest(const std::string& budget, const std::string& verb, int code,
                  kube::Duration latency) override;
  void queueDepth(const std::string& queue, size_t depth) override;
  void queueLatency(const std::string& queue, kube::Duration waited) override;
  void reconcile(const std::string& controller, kube::Duration took, bool failed) override;
  void rateLimiterWait(const std::string& budget, const std::string& verb,
                       kube::Duration waited) override;
  void throttled(const std::string& budget, const std::string& reason,
                 kube::Duration waited) override;

  // engine::EngineMetrics
  void stepAttempt(const std::string& action, const std::string& outcome,
                   kube::Duration duration) override;
  void guardrailRefusal(const std::string& guardrail) override;
  void revert(const std::string& action, const std::string& result) override;
  void escalation(const std::string& result) override;
  void effectFenced(const std::string& effect) override;
  void incidentFinished(const std::string& phase) override;

  // Read at every scrape: Incidents by phase (empty while not leading).
  void setIncidentCounter(std::function<std::map<std::string, int>()> counter);
  // Read at every scrape: per (namespace, Runbook), Incidents waiting for
  // approval, the oldest's wait, and Incidents past their timeouts. Label
  // sets that disappear are removed, so series follow Runbooks, never
  // Incidents.
  struct RunbookGauges {
    int approvalsWaiting = 0;
    double oldestApprovalWaitSeconds = 0;
    int pastTimeout = 0;
  };
  using RunbookGaugeMap = std::map<std::pair<std::string, std::string>, RunbookGauges>;
  void setRunbookGauges(std::function<RunbookGaugeMap()> gauges);
  void setLeader(bool leading);

  // The text exposition format of everything registered.
  std::string scrape();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& apiRequests_;
  prometheus::Family<prometheus::Histogram>& apiLatency_;
  prometheus::Family<prometheus::Gauge>& queueDepth_;
  prometheus::Family<prometheus::Histogram>& queueLatency_;
  prometheus::Family<prometheus::Histogram>& reconcileDuration_;
  prometheus::Family<prometheus::Counter>& reconcileErrors_;
  prometheus::Family<prometheus::Counter>& stepAttempts_;
  prometheus::Family<prometheus::Histogram>& stepDuration_;
  prometheus::Family<prometheus::Counter>& guardrailRefusals_;
  prometheus::Family<prometheus::Counter>& reverts_;
  prometheus::Family<prometheus::Counter>& escalations_;
  prometheus::Family<prometheus::Counter>& effectsFenced_;
  prometheus::Family<prometheus::Counter>& incidentsFinished_;
  prometheus::Family<prometheus::Gauge>& incidents_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Histogram>& rateLimiterWait_;
  prometheus::Family<prometheus::Counter>& throttled_;
  prometheus::Family<prometheus::Counter>& retryAfterWaits_;
  prometheus::Family<prometheus::Gauge>& approvalsWaiting_;
  prometheus::Family<prometheus::Gauge>& oldestApprovalWait_;
  prometheus::Family<prometheus::Gauge>& pastTimeout_;

  std::mutex mu_;  // guards the functions and runbookLabels_
  std::function<std::map<std::string, int>()> incidentCounter_;
  std::function<RunbookGaugeMap()> runbookGauges_;
  std::set<std::pair<std::string, std::string>> runbookLabels_;  // set at the last scrape
};

}  // namespace remedy::op
