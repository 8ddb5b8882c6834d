// Structural schemas of custom resources (a CRD version's
// schema.openAPIV3Schema), applied the way kube-apiserver's apiextensions
// server applies them to every create and update: unknown fields are pruned
// (or, under strict field validation, refused), non-nullable nulls dropped,
// defaults filled in, and the result validated. Validation messages are
// those of k8s.io/kube-openapi/pkg/validation as converted to field errors by
// apiextensions-apiserver (pkg/apiserver/validation/validation.go
// kubeOpenAPIResultToFieldErrors), so the sandbox answers with them and
// `remedyctl validate` prints them exactly as the API server does.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::formats {

// One field error, as a metav1.StatusCause and a place in the object.
struct FieldError {
  std::string reason;   // "FieldValueInvalid", "FieldValueRequired", ...
  std::string message;  // "Required value", "Invalid value: \"x\": spec.x in body ..."
  std::string field;    // "spec.steps[0].timeout"; "<nil>" for composition errors
  // The value's JSON pointer ("/spec/steps/0/timeout"): the field, or for a
  // "<nil>" error the value the failed anyOf/oneOf/allOf/not applies to.
  std::string pointer;
  // For an error of the alternative kube-openapi reports for a failed
  // anyOf/oneOf (the one with the fewest errors), the pointer of the value
  // that failed it: a checker that explains that value better may drop
  // these with the "<nil>" error itself.
  std::optional<std::string> alternativeOf = std::nullopt;
};

// Prunes, defaults and validates `object` in place, in the real server's
// order, and returns the field errors. Order: schema errors, then
// embedded-resource errors, then list-type (x-kubernetes-list-type set/map)
// errors. Empty when valid. Metadata of the root object is neither pruned
// nor validated here (the API server validates it as ObjectMeta).
std::vector<FieldError> validateCustomObject(nlohmann::json& object, const nlohmann::json& schema);

// The three steps of validateCustomObject on their own.
// Removes fields the schema does not specify, except under
// x-kubernetes-preserve-unknown-fields; apiVersion, kind and metadata of the
// root and of x-kubernetes-embedded-resource objects are kept
// (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go). Also
// drops nulls of fields that are neither nullable nor defaulted.
void pruneUnknownFields(nlohmann::json& object, const nlohmann::json& schema);
// Fills in `default`s for missing fields whose parent exists, and for
// non-nullable nulls (pkg/apiserver/schema/defaulting/algorithm.go).
void applyDefaults(nlohmann::json& object, const nlohmann::json& schema);
std::vector<FieldError> validateAgainstSchema(const nlohmann::json& object,
                                              const nlohmann::json& schema);

// A field of `original` that pruning removed (so `pruned` lacks it): `path`
// as the strict decoder names it ("spec.foo", "spec.items[0].bar"), and its
// JSON pointer.
struct UnknownField {
  std::string path;
  std::string pointer;
};
std::vector<UnknownField> unknownFields(const nlohmann::json& original,
                                        const nlohmann::json& pruned);
// The strict decoding error's text for one unknown field:
// `unknown field "spec.foo"`.
std::string unknownFieldMessage(const UnknownField& field);

// The aggregated text NewInvalid appends after "<Kind> \"<name>\" is invalid: ":
// one error as "field: message", several as "[a, b]" (duplicates once).
std::string invalidMessage(const std::vector<FieldError>& errors);

// Why `schema` is not a structural schema a v1 CRD may use, as
// "<path>: <message>" with paths relative to the schema
// ("properties[spec].type: Required value: must not be empty for specified
// object fields"). Empty when the schema is acceptable.
std::vector<std::string> checkStructural(const nlohmann::json& schema);
// The same problems as field errors, with `fieldPath` the schema's own path,
// e.g. "spec.versions[0].schema.openAPIV3Schema" (no pointers).
std::vector<FieldError> checkStructuralSchema(const nlohmann::json& schema,
                                              const std::string& fieldPath);

}  // namespace remedy::formats
