// The three PATCH formats of the Kubernetes API, applied to an object as the
// API server applies them (k8s.io/apiserver/pkg/endpoints/handlers/patch.go),
// including the status codes and messages of its failures. Pure functions:
// the caller decodes the body, picks the format from the Content-Type and
// refuses strategic merge patch on custom resources with 415.
#pragma once

#include <string>

#include "sandbox/api_error.h"

namespace remedy::sandbox {

// application/merge-patch+json: RFC 7386 as gopkg.in/evanphx/json-patch.v4
// MergePatch implements it. Object members set to null are removed, objects
// merge recursively, everything else (arrays included) replaces. A null or
// scalar patch is a 400 "Invalid JSON Patch"; an array patch yields a 422
// because the result is not an object.
Result<json> applyMergePatch(const json& target, const json& patch);

// application/json-patch+json: RFC 6902 operations add, remove, replace, move,
// copy and test, with json-patch.v4's leniencies (replace of a missing object
// member adds it; test of an absent member against null passes). A patch that
// is not a list of operation objects is a 400; an operation that fails is a
// 422 Invalid whose message is the generic "the server rejected our request
// due to an error in our request" (the server drops jsonpatch's own text);
// more than 10000 operations is a 413.
Result<json> applyJsonPatch(const json& target, const json& patch);

// application/strategic-merge-patch+json for built-in kinds, as
// k8s.io/apimachinery/pkg/util/strategicpatch StrategicMergeMapPatch applies
// it. `kind` selects the patch metadata of the Go types: lists with
// patchStrategy "merge" are merged by their patchMergeKey (containers and
// env by name, container ports by containerPort, Service ports by port,
// volumeMounts by mountPath, conditions by type, ownerReferences by uid,
// finalizers as a set, ...), every other list is replaced, maps merge.
// Directives: `$patch: replace|delete` (maps and merge-list elements),
// `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
// No directive key survives into the result.
Result<json> applyStrategicMergePatch(const json& target, const json& patch,
                                      const std::string& kind);

}  // namespace remedy::sandbox
