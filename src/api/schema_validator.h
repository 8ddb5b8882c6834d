// Validates a whole API object against a CRD's structural openAPIV3Schema
// exactly as kube-apiserver does (formats/structural_schema.h: pruning,
// defaults, kube-openapi validation), with the API server's messages:
// "Required value", "Unsupported value: \"x\": supported values: ...",
// "Invalid value: \"three\": spec.x in body must be of type integer: ...".
// Fields the schema does not declare are reported as kubectl's default
// strict field validation has the server refuse them:
// `unknown field "spec.steps[0].scael"`.
#pragma once

#include "api/field_path.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace remedy::api {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schema);

  // Every violation in `object` (a whole API object: apiVersion, kind,
  // metadata, spec, status); the unknown fields first. Root metadata is
  // left to the API server's ObjectMeta validation. Thread-safe.
  std::vector<ValidationError> validate(const nlohmann::json& object) const;

  const nlohmann::json& schema() const { return schema_; }

 private:
  nlohmann::json schema_;
};

}  // namespace remedy::api
