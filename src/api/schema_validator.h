// Validates JSON against a CRD's structural openAPIV3Schema the way the API
// server does (types, enums, patterns, bounds, required fields, oneOf/anyOf,
// x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields, list-type
// map keys), and reports fields the schema does not declare as kubectl's
// default strict field validation does. Messages follow the API server's
// field errors: "Required value", "Unsupported value: ...", "Invalid value: ...".
#pragma once

#include "api/field_path.h"
#include "formats/go_regexp.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schema);

  // Every violation in `object` (a whole API object: apiVersion, kind,
  // metadata, spec, status).
  std::vector<ValidationError> validate(const nlohmann::json& object) const;

  const nlohmann::json& schema() const { return schema_; }

 private:
  void validateNode(const nlohmann::json& schema, const nlohmann::json& value,
                    const FieldPath& path, bool valueOnly, std::vector<ValidationError>& out) const;
  void validateObject(const nlohmann::json& schema, const nlohmann::json& value,
                      const FieldPath& path, bool valueOnly,
                      std::vector<ValidationError>& out) const;
  void validateArray(const nlohmann::json& schema, const nlohmann::json& value,
                     const FieldPath& path, bool valueOnly,
                     std::vector<ValidationError>& out) const;
  void validateString(const nlohmann::json& schema, const std::string& value, const FieldPath& path,
                      std::vector<ValidationError>& out) const;
  void validateLogic(const nlohmann::json& schema, const nlohmann::json& value,
                     const FieldPath& path, std::vector<ValidationError>& out) const;
  bool matchesBranch(const nlohmann::json& branch, const nlohmann::json& value) const;
  const formats::GoRegexp* pattern(const std::string& source) const;
  void compilePatterns(const nlohmann::json& schema);

  nlohmann::json schema_;
  // Compiled once at construction; read-only afterwards, so a validator may
  // be shared between threads.
  std::map<std::string, std::optional<formats::GoRegexp>> patterns_;
};

// A value for an error message: strings quoted, long values shortened.
std::string displayValue(const nlohmann::json& value);

}  // namespace remedy::api
