// The engine wired to the API server: informers on Runbooks, Incidents,
// Approvals and the pause ConfigMap feeding two kube::Controllers (the
// Runbook controller and the Incident controller). operator/main.cpp
// constructs one; tests construct one against the sandbox.
#pragma once

#include "actions/action_registry.h"
#include "engine/incident_reconciler.h"
#include "engine/runbook_reconciler.h"
#include "kube/controller.h"
#include "kube/informer.h"

#include <memory>

namespace remedy::engine {

struct EngineOptions {
  int runbookWorkers = 1;
  int incidentWorkers = 2;
  IncidentReconcilerOptions incident;
};

class Engine {
 public:
  // `clock` drives the reconcilers and the work queues' delays; informers
  // use the real clock. `events` may be null.
  Engine(kube::Client& client, const actions::ActionRegistry& registry, const kube::Clock& clock,
         kube::EventRecorder* events, EngineOptions options = {});
  ~Engine();

  kube::Status start();
  void stop();

  kube::Controller& incidentController() { return *incidentController_; }
  kube::Controller& runbookController() { return *runbookController_; }

 private:
  RunbookReconciler runbookReconciler_;
  IncidentReconciler incidentReconciler_;
  kube::Informer runbookInformer_;
  kube::Informer incidentInformer_;
  kube::Informer approvalInformer_;
  kube::Informer pauseInformer_;
  std::unique_ptr<kube::Controller> runbookController_;
  std::unique_ptr<kube::Controller> incidentController_;
  bool started_ = false;
};

}  // namespace remedy::engine
