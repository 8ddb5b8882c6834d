// The Runbook controller (#4 item 6): validates each Runbook with src/api's
// semantic validation and writes its status: the Ready condition (True, or
// False with reason InvalidSpec and every message), observedGeneration and
// stepCount. The execution statistics (executions, lastExecutionTime,
// lastIncident, lastResult) belong to the Incident controller and are kept
// as they are. An invalid Runbook is only marked; nothing here throws or
// stops, whatever the object holds.
#pragma once

#include "engine/engine_caches.h"
#include "kube/client.h"
#include "kube/clock.h"
#include "kube/controller.h"
#include "kube/event_recorder.h"

#include <string>
#include <vector>

namespace remedy::engine {

struct RunbookReconcilerOptions {
  // The ServiceAccount a Runbook acts as when it names none, and every name
  // it may name (IncidentReconcilerOptions): any other makes it not Ready.
  std::string defaultServiceAccount = "remedy-runner";
  std::vector<std::string> serviceAccountNames = {"remedy-runner"};
};

class RunbookReconciler {
 public:
  // Runbooks are read from `caches` (never from the API server) and its
  // writes are assumed there. `events` may be null (no Events written).
  RunbookReconciler(kube::Client& client, EngineCaches& caches, const kube::Clock& clock,
                    kube::EventRecorder* events = nullptr, RunbookReconcilerOptions options = {});

  kube::ReconcileResult reconcile(const std::string& key);

 private:
  kube::Client& client_;
  EngineCaches& caches_;
  const kube::Clock& clock_;
  kube::EventRecorder* events_;
  const RunbookReconcilerOptions options_;
};

}  // namespace remedy::engine
