// References: the names templates and `when` conditions use to read the
// Incident's context, and the static check of them.
//
// The context is a JSON object of this shape (the engine builds it):
//   {"alert":    {"name", "status", "labels": {}, "annotations": {}, "fingerprint",
//                 "startsAt", "endsAt", "generatorURL"},
//    "params":   {"NAME": "value"},
//    "steps":    {"NAME": {"phase": "Succeeded", "outputs": {"KEY": "value"}}},
//    "incident": {"name", "namespace", "source"}}
// and these references read it:
//   alert.name  alert.status  alert.fingerprint  alert.startsAt  alert.endsAt
//   alert.generatorURL  alert.labels.NAME  alert.annotations.NAME
//   params.NAME  steps.NAME.phase  steps.NAME.outputs.KEY
//   incident.name  incident.namespace  incident.source
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::api {

// A dotted path such as alert.labels.deployment; segments after the first may
// contain '-' (step names are DNS labels) or be written as ["any key"].
struct Reference {
  std::vector<std::string> path;
  std::string str() const;
};

// What a reference may name at one place of a Runbook.
struct ReferenceScope {
  // Parameters defined before this point (all of them inside steps).
  std::set<std::string> params;
  // Every parameter of the Runbook, to tell "defined later" from "unknown".
  std::set<std::string> allParams;
  // Steps that run before this point, with their action field ("scale", ...).
  std::vector<std::pair<std::string, std::string>> earlierSteps;
  // Every step of the Runbook, in order, with its action field.
  std::vector<std::pair<std::string, std::string>> allSteps;
  // The step being checked, if any.
  std::string currentStep;
};

// Why `ref` cannot be resolved at this point of the Runbook, or nullopt.
std::optional<std::string> checkReference(const Reference& ref, const ReferenceScope& scope);

// The value `ref` names in `context` (shaped as above); nullopt when absent or null.
const nlohmann::json* lookupReference(const Reference& ref, const nlohmann::json& context);

// The closest candidate to `name` within edit distance 2, for "did you mean".
std::optional<std::string> closestName(const std::string& name,
                                       const std::vector<std::string>& candidates);

}  // namespace remedy::api
