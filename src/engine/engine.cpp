#include "engine/engine.h"

#include "engine/resources.h"

namespace remedy::engine {

namespace {

kube::InformerOptions inNamespace(const std::string& ns) {
  kube::InformerOptions o;
  o.namespace_ = ns;
  return o;
}

}  // namespace

Engine::Engine(kube::Client& client, const actions::ActionRegistry& registry,
               const kube::Clock& clock, kube::EventRecorder* events, EngineOptions options)
    : runbookReconciler_(client, clock, events),
      incidentReconciler_(client, registry, clock, events, options.incident),
      runbookInformer_(client, runbooks()),
      incidentInformer_(client, incidents()),
      approvalInformer_(client, approvals()),
      pauseInformer_(client, kube::resources::configMaps(),
                     inNamespace(options.incident.pauseNamespace)) {
  kube::ControllerOptions runbookOptions;
  runbookOptions.workers = options.runbookWorkers;
  runbookController_ = std::make_unique<kube::Controller>(
      "runbooks", [this](const std::string& key) { return runbookReconciler_.reconcile(key); },
      std::move(runbookOptions), clock);
  kube::ControllerOptions incidentOptions;
  incidentOptions.workers = options.incidentWorkers;
  incidentController_ = std::make_unique<kube::Controller>(
      "incidents", [this](const std::string& key) { return incidentReconciler_.reconcile(key); },
      std::move(incidentOptions), clock);

  runbookController_->watch(runbookInformer_);
  incidentController_->watch(incidentInformer_);
  // An Approval wakes the Incident it names.
  incidentController_->watch(approvalInformer_, [](const nlohmann::json& approval) {
    std::string incident = approval.value("spec", nlohmann::json::object())
                               .value("incidentRef", nlohmann::json::object())
                               .value("name", "");
    if (incident.empty()) return std::vector<std::string>{};
    return std::vector<std::string>{kube::objectKey(kube::namespaceOf(approval), incident)};
  });
  // The pause switch changing wakes every Incident, so a resume is seen at
  // once rather than at the next poll.
  std::string pauseName = options.incident.pauseName;
  incidentController_->watch(pauseInformer_, [this, pauseName](const nlohmann::json& cm) {
    std::vector<std::string> keys;
    if (kube::nameOf(cm) != pauseName) return keys;
    for (const auto& incident : incidentInformer_.list()) keys.push_back(kube::objectKey(incident));
    return keys;
  });
}

Engine::~Engine() { stop(); }

kube::Status Engine::start() {
  runbookInformer_.start();
  incidentInformer_.start();
  approvalInformer_.start();
  pauseInformer_.start();
  started_ = true;
  kube::Status s = runbookController_->start();
  if (!s.ok()) return s;
  return incidentController_->start();
}

void Engine::stop() {
  if (!started_) return;
  started_ = false;
  incidentController_->stop();
  runbookController_->stop();
  pauseInformer_.stop();
  approvalInformer_.stop();
  incidentInformer_.stop();
  runbookInformer_.stop();
}

}  // namespace remedy::engine
