#include "engine/engine.h"

#include "api/duration.h"
#include "api/incident.h"
#include "api/runbook.h"
#include "engine/resources.h"
#include "kube/time_format.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace remedy::engine {

using json = nlohmann::json;

namespace {

kube::InformerOptions inNamespace(const std::string& ns) {
  kube::InformerOptions o;
  o.namespace_ = ns;
  return o;
}

bool isFinished(const json& incident) {
  std::string phase = incident.value("status", json::object()).value("phase", "");
  auto parsed = api::parseEnum<api::IncidentPhase>(phase);
  return parsed && api::isFinal(*parsed);
}

// Whether any step made an attempt: the Incident acted (or reserved an
// execution), so its record is worth more than one that never did.
bool acted(const json& incident) {
  for (const auto& step : incident.value("status", json::object()).value("steps", json::array())) {
    if (step.value("attempts", 0) > 0) return true;
  }
  return false;
}

// A revert or a message still owed keeps a finished Incident.
bool owesFollowups(const json& incident) {
  const json status = incident.value("status", json::object());
  for (const auto& step : status.value("steps", json::array())) {
    if (step.value("revert", json::object()).value("state", "") == "Pending") return true;
  }
  for (const auto& record : status.value("escalations", json::array())) {
    if (record.value("state", "") == "Pending") return true;
  }
  return false;
}

}  // namespace

std::vector<std::unique_ptr<kube::Informer>> Engine::informersFor(const kube::Resource& resource) {
  std::vector<std::unique_ptr<kube::Informer>> out;
  if (options_.namespaces.empty()) {
    out.push_back(std::make_unique<kube::Informer>(client_, resource));
  } else {
    for (const auto& ns : options_.namespaces) {
      out.push_back(std::make_unique<kube::Informer>(client_, resource, inNamespace(ns)));
    }
  }
  return out;
}

Engine::Engine(kube::Client& client, kube::ServiceAccountClients& serviceAccounts,
               const actions::ActionRegistry& registry, const kube::Clock& clock,
               kube::EventRecorder* events, EngineOptions options)
    : client_(client),
      options_(std::move(options)),
      caches_(client, EngineCachesOptions{options_.namespaces, options_.incident.pauseNamespace,
                                          options_.incident.pauseName}),
      runbookReconciler_(
          client, caches_, clock, events,
          {options_.incident.defaultServiceAccount, options_.incident.serviceAccountNames}),
      incidentReconciler_(client, caches_, serviceAccounts, registry, clock, events,
                          incidentOptions()) {
  approvalInformers_ = informersFor(approvals());

  kube::ControllerOptions runbookOptions;
  runbookOptions.workers = options_.runbookWorkers;
  runbookOptions.cacheSyncTimeout = options_.cacheSyncTimeout;
  runbookController_ = std::make_unique<kube::Controller>(
      "runbooks", [this](const std::string& key) { return runbookReconciler_.reconcile(key); },
      std::move(runbookOptions), clock);
  kube::ControllerOptions incidentOptions;
  incidentOptions.workers = options_.incidentWorkers;
  incidentOptions.cacheSyncTimeout = options_.cacheSyncTimeout;
  incidentController_ = std::make_unique<kube::Controller>(
      "incidents", [this](const std::string& key) { return incidentReconciler_.reconcile(key); },
      std::move(incidentOptions), clock);

  for (auto* informer : caches_.runbookInformers()) runbookController_->watch(*informer);
  for (auto* informer : caches_.incidentInformers()) incidentController_->watch(*informer);
  // An Approval wakes the Incident it names.
  for (auto& informer : approvalInformers_) {
    incidentController_->watch(*informer, [](const json& approval) {
      std::string incident = approval.value("spec", json::object())
                                 .value("incidentRef", json::object())
                                 .value("name", "");
      if (incident.empty()) return std::vector<std::string>{};
      return std::vector<std::string>{kube::objectKey(kube::namespaceOf(approval), incident)};
    });
  }
  // The pause switch changing wakes every Incident, so a resume is seen at
  // once rather than at the next poll.
  std::string pauseName = options_.incident.pauseName;
  incidentController_->watch(caches_.pauseInformer(), [this, pauseName](const json& cm) {
    std::vector<std::string> keys;
    if (kube::nameOf(cm) != pauseName) return keys;
    for (auto* informer : caches_.incidentInformers()) {
      for (auto& key : informer->cache().keys()) keys.push_back(std::move(key));
    }
    return keys;
  });
}

IncidentReconcilerOptions Engine::incidentOptions() {
  IncidentReconcilerOptions o = options_.incident;
  // Approvals come from the informer (an Approval's event is what wakes
  // its Incident, so the cache already holds it).
  o.approvalsIn = [this](const std::string& ns) {
    std::vector<json> out;
    for (auto& informer : approvalInformers_) {
      informer->forEach([&](const json& approval) {
        if (kube::namespaceOf(approval) == ns) out.push_back(approval);
      });
    }
    return out;
  };
  return o;
}

Engine::~Engine() { stop(); }

kube::Status Engine::start() {
  caches_.start();
  for (auto& informer : approvalInformers_) informer->start();
  started_ = true;
  kube::Status s = runbookController_->start();
  if (!s.ok()) return s;
  s = incidentController_->start();
  if (!s.ok()) return s;
  if (options_.maxFinishedIncidents > 0) {
    sweeper_ = kube::NamedThread("incident-sweep", [this] {
      while (!sweeperStop_.waitFor(kube::Clock::real(), options_.sweepInterval)) {
        sweepFinishedIncidents();
      }
    });
  }
  ready_ = true;
  return kube::Status();
}

void Engine::stop() {
  if (!started_) return;
  started_ = false;
  ready_ = false;
  sweeperStop_.requestStop();
  sweeper_.join();
  incidentController_->stop();
  runbookController_->stop();
  for (auto& informer : approvalInformers_) informer->stop();
  caches_.stop();
}

int Engine::sweepFinishedIncidents() {
  if (options_.maxFinishedIncidents == 0) return 0;
  // What the sweep needs of each finished Incident, not the Incident: the
  // cache is read one object at a time, so a sweep of 10,000 retained
  // Incidents holds 10,000 of these rather than 10,000 parsed objects.
  struct Finished {
    std::string order;  // acted/finishedAt/namespace/name
    std::string ns, name, uid;
    bool owesFollowups = false;
  };
  std::vector<Finished> finished;
  for (auto* informer : caches_.incidentInformers()) {
    informer->forEach([&](const json& incident) {
      if (!isFinished(incident)) return;
      std::string at = incident["status"].value("finishedAt", "");
      // Those that never acted sort first ("0"), each group oldest first.
      finished.push_back({(acted(incident) ? "1/" : "0/") + at + "/" + kube::objectKey(incident),
                          kube::namespaceOf(incident), kube::nameOf(incident),
                          kube::uidOf(incident), owesFollowups(incident)});
    });
  }
  if (finished.size() <= options_.maxFinishedIncidents) return 0;
  std::sort(finished.begin(), finished.end(),
            [](const Finished& a, const Finished& b) { return a.order < b.order; });
  size_t excess = finished.size() - options_.maxFinishedIncidents;
  int deleted = 0;
  for (size_t i = 0; i < finished.size() && excess > 0; ++i) {
    const Finished& incident = finished[i];
    if (incident.owesFollowups) continue;
    kube::DeleteOptions options;
    options.preconditionUid = incident.uid;
    options.propagationPolicy = "Background";
    kube::Client& client = options_.sweeperClient ? *options_.sweeperClient : client_;
    auto removed = client.remove(incidents(), incident.ns, incident.name, options);
    if (removed.ok() || kube::isNotFound(removed.status())) {
      ++deleted;
      --excess;
    } else {
      spdlog::warn("incident={}/{} not deleted by the sweeper: {}", incident.ns, incident.name,
                   removed.status().toString());
    }
  }
  if (deleted > 0) {
    spdlog::info("event=incident-sweep deleted={} kept={}", deleted, options_.maxFinishedIncidents);
  }
  return deleted;
}

std::map<std::string, int> Engine::incidentsByPhase() const {
  std::map<std::string, int> counts;
  for (const auto* informer : caches_.incidentInformers()) {
    informer->forEach([&](const json& incident) {
      ++counts[incident.value("status", json::object()).value("phase", "")];
    });
  }
  return counts;
}

namespace {

// The longest a Running Incident of `spec` can take without being stuck.
kube::Duration timeoutBudget(const api::RunbookSpec& spec) {
  kube::Duration budget{0};
  api::Duration approvalTimeout = std::chrono::minutes(30);  // approval_gate.cpp's default
  if (spec.approval && spec.approval->timeout) {
    if (auto parsed = api::parseDuration(*spec.approval->timeout); parsed.ok())
      approvalTimeout = *parsed;
  }
  for (const auto& step : spec.steps.value_or(std::vector<api::Step>{})) {
    int attempts = 1 + (step.retries ? step.retries->limit.value_or(0) : 0);
    budget += step.effectiveTimeout() * attempts;
    if (step.approval == api::StepApproval::kRequired) budget += approvalTimeout;
  }
  return budget;
}

}  // namespace

std::map<std::pair<std::string, std::string>, Engine::IncidentGauges> Engine::incidentGauges(
    kube::WallTime now) const {
  std::map<std::pair<std::string, std::string>, IncidentGauges> gauges;
  for (const auto* informer : caches_.incidentInformers()) {
    informer->forEach([&](const json& incident) {
      const json status = incident.value("status", json::object());
      std::string phase = status.value("phase", "");
      if (phase != "AwaitingApproval" && phase != "Running") return;
      const json runbook = status.value("runbook", json::object());
      IncidentGauges& g = gauges[{kube::namespaceOf(incident), runbook.value("name", "")}];
      if (phase == "AwaitingApproval") {
        ++g.awaitingApproval;
        for (const auto& c : status.value("conditions", json::array())) {
          if (c.value("type", "") != "AwaitingApproval") continue;
          auto since = kube::parseRfc3339(c.value("lastTransitionTime", ""));
          if (since && (!g.oldestApprovalSince || *since < *g.oldestApprovalSince))
            g.oldestApprovalSince = since;
        }
        return;
      }
      auto started = kube::parseRfc3339(status.value("startedAt", ""));
      auto spec = api::fromJson<api::RunbookSpec>(runbook.value("spec", json::object()));
      if (started && spec.ok() && now - *started > timeoutBudget(*spec)) ++g.pastTimeout;
    });
  }
  return gauges;
}

}  // namespace remedy::engine
