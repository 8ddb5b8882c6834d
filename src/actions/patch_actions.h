// The patch and apply actions: change an object in place (patch) or
// server-side apply one (apply), on kinds the operator allows only. Both
// record exactly what they changed as JSON pointer -> value maps (changedFrom:
// the values before, null for a field that did not exist; changedTo: the
// values set, null for a field removed), and their revert restores the
// values before only while every value Remedy set is still live.
//
// Idempotency (see action.h): `prepare` computes the change with a server
// dry run and records the values before in the baseline (output
// `recordedChange`), so a retry after a crash still reports what was there
// before the first attempt; a run that finds the values already in place
// writes nothing.
#pragma once

#include "actions/action.h"

#include <memory>
#include <string>
#include <vector>

namespace remedy::actions {

struct PatchActionOptions {
  // Kinds the patch action may change.
  std::vector<std::string> allowedKinds = {"Deployment", "StatefulSet", "ConfigMap"};
};

struct ApplyActionOptions {
  // Kinds the apply action may create or change.
  std::vector<std::string> allowedKinds = {"NetworkPolicy", "ConfigMap"};
};

// Where `after` differs from `before`, as JSON pointer -> value maps (null
// for absent). Objects and arrays present on both sides are compared member
// by member (arrays by index), so a changed env var reads
// "/spec/template/spec/containers/0/env/2/value"; a member present on one
// side only is one entry holding the whole value. Fields the server owns
// (status, metadata.resourceVersion, generation, managedFields, uid,
// creationTimestamp) are left out.
struct FieldChanges {
  json before = json::object();
  json after = json::object();
  bool empty() const { return before.empty(); }
};
FieldChanges diffFields(const json& before, const json& after);

// "path: old -> new; ..." for people (the `changed` output): at most 20
// entries, long values shortened, absent values as <absent>.
std::string describeChanges(const json& before, const json& after);

// The value at a JSON pointer (RFC 6901), or nullptr when absent or when
// `pointer` is not one.
const json* valueAtPointer(const json& document, const std::string& pointer);

// The `patch` step: one of mergePatch, strategicMergePatch or jsonPatch on
// `target` (kind defaults to Deployment). Output `changed`.
std::unique_ptr<Action> makePatchAction(PatchActionOptions options = {});

// The `apply` step: server-side apply of `manifest` (field manager
// remedy-operator, forced), owned by the Incident when it creates the object
// (ownedBy: Incident, the default). changedFrom is {"existed": false} when it
// created the object, whose revert deletes it again. Output `changed`.
std::unique_ptr<Action> makeApplyAction(ApplyActionOptions options = {});

}  // namespace remedy::actions
