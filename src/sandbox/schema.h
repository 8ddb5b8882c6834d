// Structural schemas of custom resources, as the sandbox's StatusCauses: the
// one implementation is formats/structural_schema.h (kube-apiserver's
// apiextensions pruning, defaulting and kube-openapi validation, with its
// messages), shared with `remedyctl validate`.
#pragma once

#include <string>
#include <vector>

#include "sandbox/api_error.h"

namespace remedy::sandbox {

// Prunes, defaults and validates `object` in place, in the real server's
// order, and returns the field errors as StatusCauses: `field` is the path
// ("spec.steps[0].timeout"), `message` the error body ("Required value",
// "Invalid value: \"x\": spec.x in body must be of type integer: \"string\"").
// Order: schema errors, then embedded-resource errors, then list-type
// (x-kubernetes-list-type set/map) errors. Empty when valid.
// The caller turns a non-empty result into ApiError::invalid; metadata of
// the root object is neither pruned nor validated here.
std::vector<StatusCause> validateCustomObject(json& object, const json& schema);

// The three steps of validateCustomObject on their own.
// Removes fields the schema does not specify, except under
// x-kubernetes-preserve-unknown-fields; apiVersion, kind and metadata of the
// root and of x-kubernetes-embedded-resource objects are kept
// (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go). Also
// drops nulls of fields that are neither nullable nor defaulted.
void pruneUnknownFields(json& object, const json& schema);
// Fills in `default`s for missing fields whose parent exists, and for
// non-nullable nulls (pkg/apiserver/schema/defaulting/algorithm.go).
void applyDefaults(json& object, const json& schema);
std::vector<StatusCause> validateAgainstSchema(const json& object, const json& schema);
// The fields of `original` that pruning removed from `pruned`, as the strict
// decoder names them: "spec.foo", "spec.items[0].bar".
std::vector<std::string> unknownFields(const json& original, const json& pruned);

// The aggregated text NewInvalid appends after "<Kind> \"<name>\" is invalid: ":
// one cause as "field: message", several as "[a, b]" (duplicates once).
std::string invalidMessage(const std::vector<StatusCause>& causes);

// Why `schema` is not a structural schema a v1 CRD may use, as
// "<path>: <message>" with paths relative to the schema
// ("properties[spec].type: Required value: must not be empty for specified
// object fields"). Empty when the schema is acceptable.
std::vector<std::string> checkStructural(const json& schema);
// The same problems as causes, with `fieldPath` the schema's own path,
// e.g. "spec.versions[0].schema.openAPIV3Schema".
std::vector<StatusCause> checkStructuralSchema(const json& schema, const std::string& fieldPath);

}  // namespace remedy::sandbox
