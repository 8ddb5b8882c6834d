// The engine wired to the API server: informers on Runbooks, Incidents and
// the pause ConfigMap (EngineCaches, which the Incident controller also reads
// from) and on Approvals, feeding two kube::Controllers (the
// Runbook controller and the Incident controller), and a sweeper that keeps
// the number of finished Incidents bounded. remedy-operator constructs one
// when it becomes the leader; tests construct one against the sandbox.
#pragma once

#include "actions/action_registry.h"
#include "engine/engine_caches.h"
#include "engine/incident_reconciler.h"
#include "engine/runbook_reconciler.h"
#include "kube/controller.h"
#include "kube/informer.h"
#include "kube/named_thread.h"
#include "kube/stop_signal.h"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::engine {

struct EngineOptions {
  int runbookWorkers = 1;
  int incidentWorkers = 2;
  // Namespaces whose Runbooks and Incidents this engine manages; empty: all
  // (one cluster-wide watch per kind instead of one per namespace).
  std::vector<std::string> namespaces;
  IncidentReconcilerOptions incident;
  // At most this many finished Incidents are kept (oldest deleted first,
  // never one with a pending revert or message); 0: no bound.
  size_t maxFinishedIncidents = 1000;
  kube::Duration sweepInterval = std::chrono::seconds(60);
  // The sweeper's deletes go through this client (the follow-ups' budget,
  // as do incident.followupClient's); null: the engine's.
  kube::Client* sweeperClient = nullptr;
  kube::Duration cacheSyncTimeout = std::chrono::seconds(60);
};

class Engine {
 public:
  // `client` acts as the operator; `serviceAccounts` gives the clients the
  // actions run as (see IncidentReconciler). `clock` drives the reconcilers
  // and the work queues' delays; informers use the real clock. `events` may
  // be null.
  Engine(kube::Client& client, kube::ServiceAccountClients& serviceAccounts,
         const actions::ActionRegistry& registry, const kube::Clock& clock,
         kube::EventRecorder* events, EngineOptions options = {});
  ~Engine();

  // Starts the informers, waits for their caches, starts the controllers.
  kube::Status start();
  // Stops taking new work, lets running reconciles finish, stops watching.
  void stop();
  // True once start() has synced the caches and started the controllers.
  bool ready() const { return ready_; }

  // Deletes the oldest finished Incidents beyond maxFinishedIncidents, those
  // that never acted (Skipped for no matching Runbook, Cancelled) first, so a
  // flood of unmatched alerts never pushes out the record of what Remedy
  // did; the number deleted. The sweeper thread calls it every sweepInterval.
  int sweepFinishedIncidents();
  // Incidents in the cache by status.phase ("" before the first status).
  std::map<std::string, int> incidentsByPhase() const;
  // Per namespace and Runbook, from the cache: the Incidents waiting for an
  // approval and since when the oldest waits, and the Running Incidents
  // that have run longer than their Runbook's timeouts allow (every step's
  // timeout times its attempts, plus the approval timeout of each gated step).
  struct IncidentGauges {
    int awaitingApproval = 0;
    std::optional<kube::WallTime> oldestApprovalSince;
    int pastTimeout = 0;
  };
  std::map<std::pair<std::string, std::string>, IncidentGauges> incidentGauges(
      kube::WallTime now) const;

  kube::Controller& incidentController() { return *incidentController_; }
  kube::Controller& runbookController() { return *runbookController_; }
  EngineCaches& caches() { return caches_; }

 private:
  std::vector<std::unique_ptr<kube::Informer>> informersFor(const kube::Resource& resource);
  // options_.incident, reading Approvals from approvalInformers_.
  IncidentReconcilerOptions incidentOptions();

  kube::Client& client_;
  const EngineOptions options_;
  EngineCaches caches_;
  RunbookReconciler runbookReconciler_;
  IncidentReconciler incidentReconciler_;
  std::vector<std::unique_ptr<kube::Informer>> approvalInformers_;
  std::unique_ptr<kube::Controller> runbookController_;
  std::unique_ptr<kube::Controller> incidentController_;
  kube::StopSignal sweeperStop_;
  kube::NamedThread sweeper_;
  bool started_ = false;
  std::atomic<bool> ready_{false};
};

}  // namespace remedy::engine
