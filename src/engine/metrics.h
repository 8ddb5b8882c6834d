// What the engine reports to a metrics system. remedy-operator implements it
// with prometheus-cpp; tests may count calls. Calls come from reconcile
// workers and must not block.
#pragma once

#include "kube/clock.h"

#include <string>

namespace remedy::engine {

class EngineMetrics {
 public:
  virtual ~EngineMetrics() = default;
  // An attempt of a step ended: outcome is Succeeded, RetriableFailure
  // (another attempt follows) or Failed.
  virtual void stepAttempt(const std::string& action, const std::string& outcome,
                           kube::Duration duration) {}
  // A guardrail refused or deferred a step (guardrail: "cooldown", ...).
  virtual void guardrailRefusal(const std::string& guardrail) {}
  // A temporary change was reverted: result is Reverted, Refused or Failed.
  virtual void revert(const std::string& action, const std::string& result) {}
  // An escalation tier or escalation notice fired (result Notified or Failed).
  virtual void escalation(const std::string& result) {}
  // An effect was not issued because this process may no longer be the
  // leader (`effect`: run, revert or notify).
  virtual void effectFenced(const std::string& effect) {}
  // An Incident reached a final phase.
  virtual void incidentFinished(const std::string& phase) {}
};

}  // namespace remedy::engine
