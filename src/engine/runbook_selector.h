// Which Runbook an alert runs, and with which parameters: pure functions
// over Runbook objects (from the cache, or from a LIST), shared by the
// Incident reconciler, which records the match, and the engine's caches,
// which predict the targets of an Incident not matched yet
// (predictTargets) so that it holds back only the later Incidents that
// share one.
#pragma once

#include "api/incident.h"
#include "api/runbook.h"
#include "api/runbook_validator.h"
#include "api/trigger_matching.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::engine {

// The validation of what the user wrote (the metadata the API server adds
// is not ours to judge).
std::vector<api::ValidationError> validateStored(const nlohmann::json& runbook);

struct RunbookSelection {
  std::optional<nlohmann::json> runbook;  // nullopt: none matches
  api::Specificity specificity;           // of its matching trigger
  std::vector<std::string> candidates;    // every valid Runbook that matched, by name
};

// Among `runbooks`, the valid one with the most specific trigger matching
// the alert; ties go to the first name in order.
RunbookSelection selectRunbook(const std::vector<nlohmann::json>& runbooks,
                               const std::string& alertName,
                               const std::map<std::string, std::string>& labels);

struct Parameters {
  std::map<std::string, std::string> values;
  // Set when one failed: reason ParameterUnresolved or ParameterInvalid,
  // and a message naming the Runbook and the parameter.
  std::optional<std::string> failureReason;
  std::string failure;
};

// The Runbook's parameters, rendered in order against `context` (the
// Incident's template context): each may read the alert and the parameters
// before it, which are added to context["params"].
Parameters resolveParameters(const std::string& runbookName, const api::RunbookSpec& spec,
                             nlohmann::json& context);

// The targets (TargetRef::key()s) an Incident not matched yet will have once
// it matches among `runbooks` (the candidates for its alert, or the Runbook
// its spec.runbookRef names). nullopt when that cannot be told yet, so the
// caller must assume any target: no valid Runbook matches (one may be
// created before it is matched), a parameter fails, or a step's target does
// not render or names a pod whose workload is resolved only when the step
// starts.
std::optional<std::set<std::string>> predictTargets(const api::Incident& incident,
                                                    const std::vector<nlohmann::json>& runbooks);

}  // namespace remedy::engine
