#include "actions/patch_actions.h"

#include "actions/kubernetes_actions.h"
#include "formats/json_pointer.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

namespace remedy::actions {
namespace {

using kube::Status;

constexpr const char* kFieldManager = "remedy-operator";
// The baseline key holding {"existed"?, "before", "after"} as JSON text.
constexpr const char* kRecordedChange = "recordedChange";
// What one step may record: its baseline and its revert values are kept on
// the Incident's status.
constexpr size_t kMaxChangedFields = 256;
constexpr size_t kMaxRecordedBytes = 32 * 1024;
// Optimistic writes that lost to a concurrent change are redone this often
// (with a fresh read) before the attempt gives up as retriable.
constexpr int kWriteAttempts = 5;
constexpr size_t kMaxDescribedEntries = 20;
constexpr size_t kMaxDescribedValue = 80;

// ---- JSON pointers (RFC 6901, formats/json_pointer.h) ----

using formats::parseJsonPointer;

std::string escapeToken(const std::string& token) { return formats::escapeJsonPointerToken(token); }

bool isIndex(const std::string& token) {
  if (token.empty() || token.size() > 9) return false;
  if (token.size() > 1 && token[0] == '0') return false;
  return std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Token by token; array indices compare as numbers, so "/env/2" < "/env/10".
bool pointerLess(const std::string& a, const std::string& b) {
  auto ta = parseJsonPointer(a).value_or(std::vector<std::string>{});
  auto tb = parseJsonPointer(b).value_or(std::vector<std::string>{});
  for (size_t i = 0; i < ta.size() && i < tb.size(); ++i) {
    if (ta[i] == tb[i]) continue;
    if (isIndex(ta[i]) && isIndex(tb[i])) return std::stol(ta[i]) < std::stol(tb[i]);
    return ta[i] < tb[i];
  }
  return ta.size() < tb.size();
}

// One pointer is the other or one of its ancestors.
bool overlaps(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  return longer.compare(0, shorter.size(), shorter) == 0 && longer[shorter.size()] == '/';
}

json valueOrNull(const json& document, const std::string& pointer) {
  const json* v = valueAtPointer(document, pointer);
  return v ? *v : json(nullptr);
}

bool serverOwned(const std::string& pointer) {
  static const std::set<std::string> owned = {"/status",
                                              "/metadata/resourceVersion",
                                              "/metadata/generation",
                                              "/metadata/uid",
                                              "/metadata/creationTimestamp",
                                              "/metadata/managedFields",
                                              "/metadata/selfLink",
                                              "/metadata/deletionTimestamp",
                                              "/metadata/deletionGracePeriodSeconds"};
  return owned.count(pointer) > 0;
}

void record(FieldChanges& out, const std::string& pointer, const json& before, const json& after) {
  if (serverOwned(pointer) || before == after) return;
  out.before[pointer] = before;
  out.after[pointer] = after;
}

void diffInto(const std::string& pointer, const json& a, const json& b, FieldChanges& out) {
  if (serverOwned(pointer) || a == b) return;
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      std::string child = pointer + "/" + escapeToken(it.key());
      auto other = b.find(it.key());
      if (other == b.end()) {
        record(out, child, it.value(), nullptr);
      } else {
        diffInto(child, it.value(), *other, out);
      }
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) record(out, pointer + "/" + escapeToken(it.key()), nullptr, *it);
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    size_t common = std::min(a.size(), b.size());
    for (size_t i = 0; i < common; ++i) {
      diffInto(pointer + "/" + std::to_string(i), a[i], b[i], out);
    }
    for (size_t i = common; i < a.size(); ++i) {
      record(out, pointer + "/" + std::to_string(i), a[i], nullptr);
    }
    for (size_t i = common; i < b.size(); ++i) {
      record(out, pointer + "/" + std::to_string(i), nullptr, b[i]);
    }
    return;
  }
  record(out, pointer, a, b);
}

// Cut at a UTF-8 character boundary: status must stay valid UTF-8.
std::string shortened(std::string text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t cut = limit - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string shortValue(const json& value) {
  if (value.is_null()) return "<absent>";
  return shortened(value.dump(), kMaxDescribedValue);
}

std::string joinKinds(const std::vector<std::string>& kinds) {
  std::string out;
  for (const auto& k : kinds) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

bool allowed(const std::vector<std::string>& kinds, const std::string& kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string stringField(const json& object, const char* key, const std::string& fallback = "") {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

RevertOutcome revertFailure(const Status& s, const std::string& what) {
  return {isRetriableApiError(s) ? RevertKind::kRetriableFailure : RevertKind::kFailed,
          what + ": " + s.toString()};
}

std::optional<std::string> tooLarge(const FieldChanges& changes) {
  if (changes.before.size() > kMaxChangedFields) {
    return "changes " + std::to_string(changes.before.size()) + " fields, more than the " +
           std::to_string(kMaxChangedFields) + " Remedy records for a revert";
  }
  size_t bytes = changes.before.dump().size() + changes.after.dump().size();
  if (bytes > kMaxRecordedBytes) {
    return "changes values of " + std::to_string(bytes) + " bytes, more than the " +
           std::to_string(kMaxRecordedBytes) + " Remedy records for a revert";
  }
  return std::nullopt;
}

// The recorded change of the baseline, or an empty object.
json recordedChange(const Outputs& baseline) {
  auto it = baseline.find(kRecordedChange);
  if (it == baseline.end()) return json::object();
  json parsed = json::parse(it->second, nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}

json recordedMap(const json& recorded, const char* key) {
  auto it = recorded.find(key);
  return it != recorded.end() && it->is_object() ? *it : json::object();
}

// What a write changed (`observed`: the live object against what the write
// made of it), or what an earlier attempt changed when this one has nothing
// left to write, against `recorded`, the change computed before the first
// attempt:
// - a field the write changes to the value recorded then keeps the value
//   recorded before the first attempt (an earlier attempt may have set it
//   already, or a human changed it between prepare and now);
// - a recorded field the write leaves alone counts when it still holds the
//   recorded new value (an earlier attempt set it) and no field the write
//   changes overlaps it (the object's shape moved: the record is stale).
FieldChanges settle(const json& recorded, const FieldChanges& observed, const json& live,
                    const json& result) {
  const json before = recordedMap(recorded, "before");
  const json after = recordedMap(recorded, "after");
  FieldChanges out;
  for (auto it = observed.before.begin(); it != observed.before.end(); ++it) {
    const std::string& p = it.key();
    bool sameTarget = before.contains(p) && after.contains(p) && after[p] == observed.after[p];
    record(out, p, sameTarget ? before[p] : *it, valueOrNull(result, p));
  }
  for (auto it = before.begin(); it != before.end(); ++it) {
    const std::string& p = it.key();
    if (observed.before.contains(p) || !after.contains(p)) continue;
    bool overlapping = false;
    for (auto o = observed.before.begin(); o != observed.before.end(); ++o) {
      if (overlaps(o.key(), p)) overlapping = true;
    }
    if (overlapping || valueOrNull(live, p) != after[p]) continue;
    record(out, p, *it, valueOrNull(result, p));
  }
  return out;
}

ActionOutcome changedOutcome(std::string message, const FieldChanges& changes) {
  std::string text = describeChanges(changes.before, changes.after);
  auto outcome = ActionOutcome::succeeded(std::move(message), {{"changed", text}});
  if (!changes.empty()) {
    outcome.changedFrom = changes.before;
    outcome.changedTo = changes.after;
  }
  return outcome;
}

// ---- revert: restore `from` while `to` is live ----

// The recorded maps must hold JSON pointers only.
bool validRecord(const json& values) {
  if (!values.is_object()) return false;
  for (auto it = values.begin(); it != values.end(); ++it) {
    auto tokens = parseJsonPointer(it.key());
    if (!tokens || tokens->empty()) return false;
  }
  return true;
}

std::string parentOf(const std::string& pointer) { return pointer.substr(0, pointer.rfind('/')); }

// A JSON patch that checks every value Remedy set (test) and then puts back
// the values before: removals from the highest array index down, then
// replacements, then additions from the lowest index up, so indices stay
// right. The server applies it atomically or not at all.
json restoreOperations(const json& live, const json& from, const json& to) {
  std::set<std::string> pointers;
  for (auto it = from.begin(); it != from.end(); ++it) pointers.insert(it.key());
  for (auto it = to.begin(); it != to.end(); ++it) pointers.insert(it.key());
  std::vector<std::string> removes, replaces, adds;
  json ops = json::array();
  for (const auto& p : pointers) {
    json f = from.value(p, json(nullptr));
    json t = to.value(p, json(nullptr));
    if (!t.is_null()) {
      ops.push_back({{"op", "test"}, {"path", p}, {"value", t}});
    } else if (const json* parent = valueAtPointer(live, parentOf(p));
               parent && parent->is_object()) {
      // Absent tests as null (json-patch); only object members can be tested
      // this way, an index past an array's end cannot.
      ops.push_back({{"op", "test"}, {"path", p}, {"value", nullptr}});
    }
    if (f.is_null() && t.is_null()) continue;
    (f.is_null() ? removes : t.is_null() ? adds : replaces).push_back(p);
  }
  std::sort(removes.begin(), removes.end(),
            [](const std::string& a, const std::string& b) { return pointerLess(b, a); });
  std::sort(adds.begin(), adds.end(), pointerLess);
  for (const auto& p : removes) ops.push_back({{"op", "remove"}, {"path", p}});
  for (const auto& p : replaces)
    ops.push_back({{"op", "replace"}, {"path", p}, {"value", from[p]}});
  for (const auto& p : adds) ops.push_back({{"op", "add"}, {"path", p}, {"value", from[p]}});
  return ops;
}

// The first pointer whose live value is not `expected`'s, or nullopt.
std::optional<std::string> firstDifference(const json& live, const json& expected) {
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    if (valueOrNull(live, it.key()) != *it) return it.key();
  }
  return std::nullopt;
}

RevertOutcome restoreFields(kube::Client& client, const kube::Resource& resource,
                            const std::string& ns, const std::string& name, const std::string& what,
                            const json& from, const json& to, bool dryRun) {
  if (!validRecord(from) || !validRecord(to) || to.empty()) {
    return {RevertKind::kFailed, what + ": no change recorded to restore (changedFrom " +
                                     shortened(from.dump(), 200) + ", changedTo " +
                                     shortened(to.dump(), 200) + ")"};
  }
  std::string restoring = describeChanges(to, from);
  bool refusedOnce = false;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto live = client.get(resource, ns, name);
    if (!live.ok()) {
      if (kube::isNotFound(live.status())) {
        return {RevertKind::kFailed, what + " no longer exists: nothing to restore"};
      }
      return revertFailure(live.status(), "read " + what);
    }
    if (!firstDifference(*live, from)) {
      return {RevertKind::kReverted, what + " already has the values Remedy replaced"};
    }
    if (auto changed = firstDifference(*live, to)) {
      return {RevertKind::kRefused,
              what + ": " + *changed + " is " + shortValue(valueOrNull(*live, *changed)) +
                  ", not " + shortValue(to[*changed]) +
                  " as Remedy set it: someone changed it since, so it is left alone"};
    }
    json ops = restoreOperations(*live, from, to);
    // Checked locally first: a value whose parent someone removed cannot be
    // put back, and the object is left as it is.
    // (nlohmann's test does not take absent for null, so the tests are left
    // to the server.)
    json changes = json::array();
    for (const auto& op : ops) {
      if (op["op"] != "test") changes.push_back(op);
    }
    try {
      (void)live->patch(changes);
    } catch (const json::exception& e) {
      return {RevertKind::kRefused, what + " changed shape since Remedy set it (" +
                                        std::string(e.what()) + "), so it is left alone"};
    }
    if (dryRun) return {RevertKind::kReverted, "dry run: would restore " + what + ": " + restoring};
    kube::PatchOptions options;
    options.type = kube::PatchType::Json;
    options.fieldManager = kFieldManager;
    auto written = client.patch(resource, ns, name, ops.dump(), options);
    if (written.ok()) return {RevertKind::kReverted, "restored " + what + ": " + restoring};
    const Status& s = written.status();
    if (kube::isNotFound(s)) {
      return {RevertKind::kFailed, what + " no longer exists: nothing to restore"};
    }
    // 422: a test failed, someone changed a value between the read and the
    // write. The next read names it; a second 422 without a visible change
    // is the server refusing the restore itself.
    if (kube::isInvalid(s) && !refusedOnce) {
      refusedOnce = true;
      continue;
    }
    if (kube::isInvalid(s)) {
      return {RevertKind::kRefused, what + ": the server refused the restore: " + s.toString()};
    }
    return revertFailure(s, "restore " + what);
  }
  return {RevertKind::kRetriableFailure,
          what + " kept changing while its values were being restored; will try again"};
}

// ---- patch ----

struct PatchRequest {
  TargetObject target;
  kube::PatchType type = kube::PatchType::Merge;
  json document;
};

struct ParsedPatch {
  std::optional<PatchRequest> request;
  ActionOutcome error;
};

ActionOutcome invalid(const std::string& message) { return ActionOutcome::permanent(message); }

std::optional<std::string> checkJsonPatch(const json& ops) {
  if (!ops.is_array() || ops.empty()) return "patch.jsonPatch: must be a non-empty list";
  if (ops.size() > 64) return "patch.jsonPatch: more than 64 operations";
  static const std::set<std::string> kinds = {"add", "remove", "replace", "move", "copy", "test"};
  for (size_t i = 0; i < ops.size(); ++i) {
    std::string at = "patch.jsonPatch[" + std::to_string(i) + "]";
    const json& op = ops[i];
    if (!op.is_object()) return at + ": must be an object with op and path";
    std::string kind = stringField(op, "op");
    if (!kinds.count(kind)) {
      return at + ".op: \"" + kind + "\" is not one of add, remove, replace, move, copy, test";
    }
    if (!op.contains("path") || !op["path"].is_string() ||
        !parseJsonPointer(op["path"].get<std::string>())) {
      return at + ".path: must be a JSON pointer such as /spec/replicas";
    }
  }
  return std::nullopt;
}

ParsedPatch parsePatch(const json& params, const ActionContext& context,
                       const PatchActionOptions& options, bool checkKind) {
  ParsedPatch out;
  if (!params.is_object()) {
    out.error = invalid("patch: must be an object with target and a patch");
    return out;
  }
  const json target = params.value("target", json());
  if (!target.is_object()) {
    out.error = invalid("patch.target: required: an object with name (and kind, apiVersion)");
    return out;
  }
  for (const char* key : {"apiVersion", "kind", "name", "namespace"}) {
    if (target.contains(key) && !target[key].is_string()) {
      out.error = invalid(std::string("patch.target.") + key + ": must be a string");
      return out;
    }
  }
  std::string kind = stringField(target, "kind", "Deployment");
  if (kind == "Secret") {
    out.error = invalid("patch.target.kind: a Secret is never the target of a step");
    return out;
  }
  if (checkKind && !allowed(options.allowedKinds, kind)) {
    out.error =
        invalid("patch.target.kind: " + kind + " is not a kind this operator may patch (allowed: " +
                joinKinds(options.allowedKinds) + ")");
    return out;
  }
  PatchRequest request;
  std::vector<std::string> given;
  for (const char* key : {"mergePatch", "strategicMergePatch", "jsonPatch"}) {
    if (params.contains(key) && !params[key].is_null()) given.push_back(key);
  }
  if (given.size() != 1) {
    out.error =
        invalid("patch: exactly one of mergePatch, strategicMergePatch or jsonPatch is required, " +
                (given.empty() ? std::string("none is given") : "got " + joinKinds(given)));
    return out;
  }
  request.document = params[given[0]];
  if (given[0] == "jsonPatch") {
    request.type = kube::PatchType::Json;
    if (auto problem = checkJsonPatch(request.document)) {
      out.error = invalid(*problem);
      return out;
    }
  } else {
    request.type =
        given[0] == "mergePatch" ? kube::PatchType::Merge : kube::PatchType::StrategicMerge;
    if (!request.document.is_object()) {
      out.error = invalid("patch." + given[0] + ": must be an object");
      return out;
    }
  }
  auto resolved = resolveTarget(*context.client, target, context.defaultNamespace);
  if (!resolved.ok()) {
    out.error = apiFailure(resolved.status(),
                           "patch " + kind + " " + stringField(target, "name", "<no name>"));
    return out;
  }
  request.target = std::move(resolved.value());
  out.request = std::move(request);
  return out;
}

struct ComputedChange {
  json live;
  FieldChanges changes;
};

// Reads the object and asks the server what the patch would make of it (a
// dry run: the server's own merge, strategic merge and defaulting).
kube::Result<ComputedChange> computePatch(kube::Client& client, const PatchRequest& request) {
  const TargetObject& t = request.target;
  auto live = client.get(t.resource, t.ns, t.name);
  if (!live.ok()) return live.status();
  kube::PatchOptions options;
  options.type = request.type;
  options.fieldManager = kFieldManager;
  options.dryRun = true;
  auto wouldBe = client.patch(t.resource, t.ns, t.name, request.document.dump(), options);
  if (!wouldBe.ok()) return wouldBe.status();
  return ComputedChange{*live, diffFields(*live, *wouldBe)};
}

// The patch, made conditional on the resourceVersion it was computed
// against: a concurrent write makes it fail with 409 instead of landing on
// an object the change was not computed for.
std::string conditionalPatch(const PatchRequest& request, const std::string& resourceVersion) {
  json document = request.document;
  if (request.type == kube::PatchType::Json) {
    document.push_back(
        {{"op", "replace"}, {"path", "/metadata/resourceVersion"}, {"value", resourceVersion}});
  } else {
    if (!document.contains("metadata") || !document["metadata"].is_object()) {
      document["metadata"] = json::object();
    }
    document["metadata"]["resourceVersion"] = resourceVersion;
  }
  return document.dump();
}

class PatchAction : public Action {
 public:
  explicit PatchAction(PatchActionOptions options) : options_(std::move(options)) {}

  std::string field() const override { return "patch"; }

  ActionOutcome prepare(const json& params, const ActionContext& context) override {
    auto parsed = parsePatch(params, context, options_, true);
    if (!parsed.request) return parsed.error;
    const PatchRequest& request = *parsed.request;
    auto computed = computePatch(*context.client, request);
    if (!computed.ok()) return apiFailure(computed.status(), "patch " + request.target.describe());
    if (auto why = tooLarge(computed->changes)) {
      return ActionOutcome::permanent("patch " + request.target.describe() + ": the patch " + *why);
    }
    json recorded = {{"before", computed->changes.before}, {"after", computed->changes.after}};
    return ActionOutcome::succeeded("", {{kRecordedChange, recorded.dump()}});
  }

  ActionOutcome run(const json& params, const ActionContext& context) override {
    auto parsed = parsePatch(params, context, options_, true);
    if (!parsed.request) return parsed.error;
    const PatchRequest& request = *parsed.request;
    const TargetObject& t = request.target;
    json recorded = recordedChange(context.baseline);
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      auto computed = computePatch(*context.client, request);
      if (!computed.ok()) return apiFailure(computed.status(), "patch " + t.describe());
      const FieldChanges& changes = computed->changes;
      if (auto why = tooLarge(changes)) {
        return ActionOutcome::permanent("patch " + t.describe() + ": the patch " + *why);
      }
      if (changes.empty()) {
        // Nothing to write: an earlier attempt did it (the baseline says
        // what it replaced), or the values were there already.
        FieldChanges done = settle(recorded, changes, computed->live, computed->live);
        return changedOutcome(done.empty() ? t.describe() + " already has the patched values"
                                           : "patched " + t.describe() + ": " +
                                                 describeChanges(done.before, done.after),
                              done);
      }
      std::string text = describeChanges(changes.before, changes.after);
      if (context.dryRun) {
        return ActionOutcome::succeeded("dry run: would patch " + t.describe() + ": " + text,
                                        {{"changed", text}});
      }
      kube::PatchOptions options;
      options.type = request.type;
      options.fieldManager = kFieldManager;
      auto written = context.client->patch(
          t.resource, t.ns, t.name,
          conditionalPatch(request, kube::resourceVersionOf(computed->live)), options);
      if (!written.ok() && kube::isConflict(written.status())) continue;
      if (!written.ok()) return apiFailure(written.status(), "patch " + t.describe());
      FieldChanges done = settle(recorded, changes, computed->live, *written);
      return changedOutcome(
          "patched " + t.describe() + ": " + describeChanges(done.before, done.after), done);
    }
    return ActionOutcome::retriable(t.describe() + " kept changing while it was being patched");
  }

  RevertOutcome revert(const json& params, const json& changedFrom, const json& changedTo,
                       const ActionContext& context) override {
    auto target =
        resolveTarget(*context.client, params.value("target", json()), context.defaultNamespace);
    if (!target.ok()) return revertFailure(target.status(), "patch");
    return restoreFields(*context.client, target->resource, target->ns, target->name,
                         target->describe(), changedFrom, changedTo, context.dryRun);
  }

 private:
  PatchActionOptions options_;
};

// ---- apply ----

struct ApplyRequest {
  kube::Resource resource;
  std::string kind;
  std::string ns;
  std::string name;
  json manifest;  // namespace set, resourceVersion dropped
  json ownerRef;  // null unless ownedBy Incident
  std::string describe() const { return kind + " " + (ns.empty() ? name : ns + "/" + name); }
};

struct ParsedApply {
  std::optional<ApplyRequest> request;
  ActionOutcome error;
};

// `forRevert` skips what only matters for creating: the allow-list (a
// revert undoes Remedy's own change) and the owner.
ParsedApply parseApply(const json& params, const ActionContext& context,
                       const ApplyActionOptions& options, bool forRevert) {
  ParsedApply out;
  const json manifest = params.is_object() ? params.value("manifest", json()) : json();
  if (!manifest.is_object()) {
    out.error = invalid("apply.manifest: required: an object with apiVersion, kind and metadata");
    return out;
  }
  std::string apiVersion = stringField(manifest, "apiVersion");
  std::string kind = stringField(manifest, "kind");
  if (apiVersion.empty()) {
    out.error = invalid("apply.manifest.apiVersion: required");
    return out;
  }
  if (kind.empty()) {
    out.error = invalid("apply.manifest.kind: required");
    return out;
  }
  if (kind == "Secret") {
    out.error = invalid("apply.manifest.kind: a Secret is never the target of a step");
    return out;
  }
  if (!forRevert && !allowed(options.allowedKinds, kind)) {
    out.error = invalid("apply.manifest.kind: " + kind +
                        " is not a kind this operator may apply (allowed: " +
                        joinKinds(options.allowedKinds) + ")");
    return out;
  }
  const json metadata = manifest.value("metadata", json());
  std::string name = stringField(metadata, "name");
  if (!metadata.is_object() || name.empty()) {
    out.error = invalid("apply.manifest.metadata.name: required");
    return out;
  }
  std::string ownedBy = stringField(params, "ownedBy", "Incident");
  if (ownedBy != "Incident" && ownedBy != "None") {
    out.error = invalid("apply.ownedBy: \"" + ownedBy + "\" is not Incident or None");
    return out;
  }
  auto resource = context.client->resourceFor(apiVersion, kind);
  if (!resource.ok()) {
    out.error = apiFailure(resource.status(), "apply " + kind + " " + name);
    return out;
  }
  ApplyRequest request;
  request.resource = *resource;
  request.kind = kind;
  request.name = name;
  request.manifest = manifest;
  request.manifest["metadata"].erase("resourceVersion");
  if (request.resource.namespaced) {
    request.ns = stringField(metadata, "namespace", context.defaultNamespace);
    if (request.ns.empty()) request.ns = context.defaultNamespace;
    request.manifest["metadata"]["namespace"] = request.ns;
  } else {
    request.manifest["metadata"].erase("namespace");
  }
  if (ownedBy == "Incident" && !forRevert) {
    const json ownerMeta = context.owner.is_object()
                               ? context.owner.value("metadata", json::object())
                               : json::object();
    std::string ownerNs = stringField(ownerMeta, "namespace", context.defaultNamespace);
    if (stringField(ownerMeta, "uid").empty() || stringField(ownerMeta, "name").empty()) {
      out.error = invalid("apply.ownedBy: Incident, but the step has no owner to refer to");
      return out;
    }
    // A namespaced owner in another namespace counts as absent: the garbage
    // collector would delete the object at once (Kubernetes "Owners and
    // Dependents").
    if (!request.resource.namespaced || request.ns != ownerNs) {
      out.error =
          invalid("apply.ownedBy: the Incident can own objects of its namespace " + ownerNs +
                  " only, and " + request.describe() + " is not one: set ownedBy: None");
      return out;
    }
    request.ownerRef = {{"apiVersion", stringField(context.owner, "apiVersion")},
                        {"kind", stringField(context.owner, "kind")},
                        {"name", stringField(ownerMeta, "name")},
                        {"uid", stringField(ownerMeta, "uid")}};
  }
  out.request = std::move(request);
  return out;
}

bool ownedBy(const json& object, const json& ownerRef) {
  const json* refs = valueAtPointer(object, "/metadata/ownerReferences");
  if (!refs || !refs->is_array()) return false;
  return std::any_of(refs->begin(), refs->end(), [&](const json& r) {
    return r.is_object() && r.value("uid", "") == ownerRef.value("uid", "");
  });
}

// The fields a created object got from the manifest: every top-level field
// but apiVersion, kind, metadata and status, and the manifest's labels and
// annotations one by one (others may add their own later).
json appliedFields(const json& manifest, const json& object) {
  json fields = json::object();
  for (auto it = manifest.begin(); it != manifest.end(); ++it) {
    const std::string& key = it.key();
    if (key == "apiVersion" || key == "kind" || key == "metadata" || key == "status") continue;
    std::string p = "/" + escapeToken(key);
    fields[p] = valueOrNull(object, p);
  }
  for (const char* map : {"labels", "annotations"}) {
    const json entries = manifest["metadata"].value(map, json::object());
    if (!entries.is_object()) continue;
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      std::string p = std::string("/metadata/") + map + "/" + escapeToken(it.key());
      fields[p] = valueOrNull(object, p);
    }
  }
  return fields;
}

class ApplyAction : public Action {
 public:
  explicit ApplyAction(ApplyActionOptions options) : options_(std::move(options)) {}

  std::string field() const override { return "apply"; }

  ActionOutcome prepare(const json& params, const ActionContext& context) override {
    auto parsed = parseApply(params, context, options_, false);
    if (!parsed.request) return parsed.error;
    const ApplyRequest& request = *parsed.request;
    auto computed = compute(*context.client, request, json::object());
    if (!computed.ok()) return apiFailure(computed.status(), "apply " + request.describe());
    json recorded = {{"existed", computed->existed}};
    if (computed->existed) {
      if (auto why = tooLarge(computed->changes)) {
        return ActionOutcome::permanent("apply " + request.describe() + ": the manifest " + *why);
      }
      recorded["before"] = computed->changes.before;
      recorded["after"] = computed->changes.after;
    }
    return ActionOutcome::succeeded("", {{kRecordedChange, recorded.dump()}});
  }

  ActionOutcome run(const json& params, const ActionContext& context) override {
    auto parsed = parseApply(params, context, options_, false);
    if (!parsed.request) return parsed.error;
    const ApplyRequest& request = *parsed.request;
    std::string what = request.describe();
    json recorded = recordedChange(context.baseline);
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      auto computed = compute(*context.client, request, recorded);
      if (!computed.ok()) return apiFailure(computed.status(), "apply " + what);
      const Computed& c = *computed;
      if (auto why = tooLarge(c.changes)) {
        return ActionOutcome::permanent("apply " + what + ": the manifest " + *why);
      }
      if (context.dryRun) {
        std::string text =
            c.existed ? describeChanges(c.changes.before, c.changes.after) : "created " + what;
        return ActionOutcome::succeeded(
            "dry run: would " + (c.existed ? "apply " + what + ": " + text : "create " + what),
            {{"changed", text}});
      }
      if (c.existed && c.changes.empty()) {
        // Nothing to write: an earlier attempt applied it, or it was there.
        if (c.createdByRemedy) return created(request, c.live, "");
        FieldChanges done = settle(recorded, c.changes, c.live, c.live);
        return changedOutcome(
            done.empty() ? what + " already has the applied values"
                         : "applied " + what + ": " + describeChanges(done.before, done.after),
            done);
      }
      kube::PatchOptions options;
      options.type = kube::PatchType::Apply;
      options.fieldManager = kFieldManager;
      options.force = true;
      auto written =
          context.client->patch(request.resource, request.ns, request.name, c.body.dump(), options);
      if (!written.ok() && kube::isConflict(written.status())) continue;
      if (!written.ok()) return apiFailure(written.status(), "apply " + what);
      if (c.createdByRemedy) {
        return created(request, *written,
                       request.ownerRef.is_null() ? "" : ", owned by the Incident");
      }
      FieldChanges done = settle(recorded, c.changes, c.live, *written);
      return changedOutcome(
          "applied " + what + ": " + describeChanges(done.before, done.after) +
              (request.ownerRef.is_null() ? "" : " (it existed before: not owned by the Incident)"),
          done);
    }
    return ActionOutcome::retriable(what + " kept changing while it was being applied");
  }

  RevertOutcome revert(const json& params, const json& changedFrom, const json& changedTo,
                       const ActionContext& context) override {
    auto parsed = parseApply(params, context, options_, true);
    if (!parsed.request) return {RevertKind::kFailed, parsed.error.message};
    const ApplyRequest& request = *parsed.request;
    if (changedFrom.is_object() && changedFrom.contains("existed") &&
        changedFrom["existed"] == false) {
      return deleteCreated(*context.client, request, changedTo, context.dryRun);
    }
    return restoreFields(*context.client, request.resource, request.ns, request.name,
                         request.describe(), changedFrom, changedTo, context.dryRun);
  }

 private:
  struct Computed {
    bool existed = false;
    // Created by this step: now, or by an earlier attempt (the baseline
    // recorded that it did not exist).
    bool createdByRemedy = false;
    json live;
    json body;  // what to apply
    FieldChanges changes;
  };

  static kube::Result<Computed> compute(kube::Client& client, const ApplyRequest& request,
                                        const json& recorded) {
    Computed c;
    auto live = client.get(request.resource, request.ns, request.name);
    if (!live.ok() && !kube::isNotFound(live.status())) return live.status();
    c.existed = live.ok();
    if (c.existed) c.live = *live;
    c.createdByRemedy = !c.existed;
    if (c.existed && recorded.contains("existed") && recorded["existed"] == false) {
      // Missing before the first attempt: an earlier attempt created it,
      // unless it lacks the owner that attempt gave it (then someone else
      // did, and it is not Remedy's to delete).
      c.createdByRemedy = request.ownerRef.is_null() || ownedBy(c.live, request.ownerRef);
    }
    c.body = request.manifest;
    // Only an object Remedy creates gets the Incident as owner: owning one
    // that existed would have the garbage collector delete it with the
    // Incident.
    if (c.createdByRemedy && !request.ownerRef.is_null()) {
      json& refs = c.body["metadata"]["ownerReferences"];
      if (!refs.is_array()) refs = json::array();
      if (!ownedBy(c.body, request.ownerRef)) refs.push_back(request.ownerRef);
    }
    // Server-side apply treats a resourceVersion as a precondition: the
    // change computed below is the one that lands, or the write fails 409.
    if (c.existed && !c.createdByRemedy) {
      c.body["metadata"]["resourceVersion"] = kube::resourceVersionOf(c.live);
    }
    kube::PatchOptions options;
    options.type = kube::PatchType::Apply;
    options.fieldManager = kFieldManager;
    options.force = true;
    options.dryRun = true;
    auto wouldBe = client.patch(request.resource, request.ns, request.name, c.body.dump(), options);
    if (!wouldBe.ok()) return wouldBe.status();
    if (c.existed) c.changes = diffFields(c.live, *wouldBe);
    return c;
  }

  static ActionOutcome created(const ApplyRequest& request, const json& object,
                               const std::string& note) {
    std::string text = "created " + request.describe();
    auto outcome = ActionOutcome::succeeded(text + note, {{"changed", text}});
    outcome.changedFrom = {{"existed", false}};
    outcome.changedTo = appliedFields(request.manifest, object);
    return outcome;
  }

  static RevertOutcome deleteCreated(kube::Client& client, const ApplyRequest& request,
                                     const json& to, bool dryRun) {
    std::string what = request.describe();
    if (!validRecord(to)) {
      return {RevertKind::kFailed, what + ": no applied fields recorded to check"};
    }
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      auto live = client.get(request.resource, request.ns, request.name);
      if (!live.ok()) {
        if (kube::isNotFound(live.status())) {
          return {RevertKind::kReverted, what + ", which Remedy created, is already gone"};
        }
        return revertFailure(live.status(), "read " + what);
      }
      if (auto changed = firstDifference(*live, to)) {
        return {RevertKind::kRefused,
                what + ": " + *changed + " is " + shortValue(valueOrNull(*live, *changed)) +
                    ", not " + shortValue(to[*changed]) +
                    " as Remedy applied it: someone changed it since, so it is left alone"};
      }
      if (dryRun) {
        return {RevertKind::kReverted, "dry run: would delete " + what + ", which Remedy created"};
      }
      kube::DeleteOptions options;
      options.propagationPolicy = "Background";
      // Deleted only as read: a change in between wins (409) and the next
      // round looks at it.
      options.preconditionResourceVersion = kube::resourceVersionOf(*live);
      auto removed = client.remove(request.resource, request.ns, request.name, options);
      if (removed.ok())
        return {RevertKind::kReverted, "deleted " + what + ", which Remedy created"};
      if (kube::isNotFound(removed.status())) {
        return {RevertKind::kReverted, what + ", which Remedy created, is already gone"};
      }
      if (kube::isConflict(removed.status())) continue;
      return revertFailure(removed.status(), "delete " + what);
    }
    return {RevertKind::kRetriableFailure,
            what + " kept changing while it was being deleted; will try again"};
  }

  ApplyActionOptions options_;
};

}  // namespace

const json* valueAtPointer(const json& document, const std::string& pointer) {
  auto tokens = parseJsonPointer(pointer);
  if (!tokens) return nullptr;
  const json* node = &document;
  for (const auto& token : *tokens) {
    if (node->is_object()) {
      auto it = node->find(token);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      if (!isIndex(token)) return nullptr;
      size_t index = std::stoul(token);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

FieldChanges diffFields(const json& before, const json& after) {
  FieldChanges out;
  diffInto("", before, after, out);
  return out;
}

std::string describeChanges(const json& before, const json& after) {
  std::set<std::string> keys;
  if (before.is_object()) {
    for (auto it = before.begin(); it != before.end(); ++it) keys.insert(it.key());
  }
  if (after.is_object()) {
    for (auto it = after.begin(); it != after.end(); ++it) keys.insert(it.key());
  }
  std::vector<std::string> sorted(keys.begin(), keys.end());
  std::sort(sorted.begin(), sorted.end(), pointerLess);
  std::string out;
  size_t shown = 0;
  for (const auto& key : sorted) {
    if (shown == kMaxDescribedEntries) break;
    json from = before.is_object() ? before.value(key, json(nullptr)) : json(nullptr);
    json to = after.is_object() ? after.value(key, json(nullptr)) : json(nullptr);
    out += (out.empty() ? "" : "; ") + key + ": " + shortValue(from) + " -> " + shortValue(to);
    ++shown;
  }
  if (sorted.size() > shown) out += "; and " + std::to_string(sorted.size() - shown) + " more";
  return out;
}

std::unique_ptr<Action> makePatchAction(PatchActionOptions options) {
  return std::make_unique<PatchAction>(std::move(options));
}

std::unique_ptr<Action> makeApplyAction(ApplyActionOptions options) {
  return std::make_unique<ApplyAction>(std::move(options));
}

}  // namespace remedy::actions
