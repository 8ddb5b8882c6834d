#include "sandbox/schema.h"

#include "formats/structural_schema.h"

namespace remedy::sandbox {

namespace {

std::vector<StatusCause> causes(const std::vector<formats::FieldError>& errors) {
  std::vector<StatusCause> out;
  out.reserve(errors.size());
  for (const auto& e : errors) out.push_back({e.reason, e.message, e.field});
  return out;
}

std::vector<formats::FieldError> fieldErrors(const std::vector<StatusCause>& causes) {
  std::vector<formats::FieldError> out;
  out.reserve(causes.size());
  for (const auto& c : causes) out.push_back({c.reason, c.message, c.field, ""});
  return out;
}

}  // namespace

std::vector<StatusCause> validateCustomObject(json& object, const json& schema) {
  return causes(formats::validateCustomObject(object, schema));
}

void pruneUnknownFields(json& object, const json& schema) {
  formats::pruneUnknownFields(object, schema);
}

void applyDefaults(json& object, const json& schema) { formats::applyDefaults(object, schema); }

std::vector<StatusCause> validateAgainstSchema(const json& object, const json& schema) {
  return causes(formats::validateAgainstSchema(object, schema));
}

std::vector<std::string> unknownFields(const json& original, const json& pruned) {
  std::vector<std::string> out;
  for (const auto& f : formats::unknownFields(original, pruned)) out.push_back(f.path);
  return out;
}

std::string invalidMessage(const std::vector<StatusCause>& causes) {
  return formats::invalidMessage(fieldErrors(causes));
}

std::vector<std::string> checkStructural(const json& schema) {
  return formats::checkStructural(schema);
}

std::vector<StatusCause> checkStructuralSchema(const json& schema, const std::string& fieldPath) {
  return causes(formats::checkStructuralSchema(schema, fieldPath));
}

}  // namespace remedy::sandbox
