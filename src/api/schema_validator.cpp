#include "api/schema_validator.h"

#include "formats/json_pointer.h"
#include "formats/structural_schema.h"

namespace remedy::api {
namespace {

// Where an error is placed for its line and for merging with the semantic
// checks (runbook_validator.cpp merge): a failed oneOf's errors at the
// oneOf's value; a duplicate item of a list-type map with one key at that
// key ("spec.parameters[1]: Duplicate value: map[string]interface
// {}{\"name\":\"a\"}" at /spec/parameters/1/name, where "duplicate
// parameter name" is reported).
std::string placeOf(const formats::FieldError& e) {
  if (e.alternativeOf) return *e.alternativeOf;
  const std::string prefix = "Duplicate value: map[string]interface {}{\"";
  if (e.reason == "FieldValueDuplicate" && e.message.rfind(prefix, 0) == 0 &&
      e.message.find(", \"") == std::string::npos) {
    // One key: its name is the quoted text up to the closing quote and ':'.
    size_t end = e.message.find("\":", prefix.size());
    if (end != std::string::npos) {
      std::string key = e.message.substr(prefix.size(), end - prefix.size());
      if (key.find_first_of("\\\"") == std::string::npos) {
        return e.pointer + "/" + formats::escapeJsonPointerToken(key);
      }
    }
  }
  return e.pointer;
}

}  // namespace

SchemaValidator::SchemaValidator(nlohmann::json schema) : schema_(std::move(schema)) {}

std::vector<ValidationError> SchemaValidator::validate(const nlohmann::json& object) const {
  std::vector<ValidationError> out;
  nlohmann::json checked = object;
  nlohmann::json pruned = object;
  formats::pruneUnknownFields(pruned, schema_);
  for (const formats::UnknownField& f : formats::unknownFields(checked, pruned)) {
    out.push_back({f.path, formats::unknownFieldMessage(f), f.pointer});
  }
  for (const formats::FieldError& e : formats::validateCustomObject(checked, schema_)) {
    out.push_back({e.field, e.message, placeOf(e)});
  }
  return out;
}

}  // namespace remedy::api
