// The CRDs of crds/, compiled into the library (see embed_crds.cmake), so
// offline validation checks exactly the schema the API server enforces.
#pragma once

#include "api/schema_validator.h"

#include <nlohmann/json.hpp>

#include <string>

namespace remedy::api {

// The CRD manifest (YAML text) for "Runbook", "Incident", "Approval" or
// "RunbookPolicy";
// empty for any other kind.
std::string crdYaml(const std::string& kind);

// The parsed CRD as JSON; null for an unknown kind.
const nlohmann::json& crdJson(const std::string& kind);

// A validator for the kind's v1alpha1 openAPIV3Schema; nullptr for an
// unknown kind. Built once, shared, immutable.
const SchemaValidator* schemaValidatorFor(const std::string& kind);

}  // namespace remedy::api
