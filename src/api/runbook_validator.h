// Validation of Runbooks (and Incidents and Approvals): the CRD schema's
// rules plus the semantic rules a schema cannot express -- unique step names,
// exactly one action per step, templates and `when` conditions that parse and
// refer only to known parameters and earlier steps, durations, matchers and
// regular expressions that parse, and bounds that do not contradict each
// other. Every error carries the path of the offending field:
//   spec.steps[2].scale.replicas: "+x" is not a number or a relative change like "+2"
#pragma once

#include "api/field_path.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace remedy::api {

// Every problem with `runbook` (a whole object: apiVersion, kind, metadata,
// spec), schema and semantics, sorted by field. Where both find a problem
// with the same field, the semantic message (the more precise one) is kept.
std::vector<ValidationError> validateRunbook(const nlohmann::json& runbook);

// Only the semantic rules. Tolerates any shape: fields of the wrong type are
// left to the schema.
std::vector<ValidationError> validateRunbookSemantics(const nlohmann::json& runbook);

// What is valid but probably not meant, such as a `when` comparison that
// can only be false; reported by `remedyctl validate` and on the Runbook's
// Ready condition, never refused.
std::vector<ValidationError> runbookWarnings(const nlohmann::json& runbook);

// Schema plus semantic checks for the other kinds.
std::vector<ValidationError> validateIncident(const nlohmann::json& incident);
std::vector<ValidationError> validateApproval(const nlohmann::json& approval);

// "path: message" lines joined with "; ", for a condition message.
std::string formatErrors(const std::vector<ValidationError>& errors);

}  // namespace remedy::api
