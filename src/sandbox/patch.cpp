#include "sandbox/patch.h"

#include "formats/json_pointer.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

namespace remedy::sandbox {

namespace {

// An error that is not a metav1.Status reaches the client as a 500 with an
// empty (Unknown) reason and the error text as message
// (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/status.go ErrorToAPIStatus).
ApiError unknownError(const std::string& message) {
  ApiError e;
  e.code = 500;
  e.message = message;
  return e;
}

// errors.NewGenericServerResponse(422, ...): the server's own message is
// replaced by the generic one, and details are empty.
ApiError genericInvalid() {
  ApiError e;
  e.code = 422;
  e.reason = "Invalid";
  e.message = "the server rejected our request due to an error in our request";
  e.details = json::object();
  return e;
}

// The JSON value names of encoding/json's UnmarshalTypeError.
std::string jsonValueName(const json& v) {
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  return "number";
}

// reflect.TypeOf(v).String() for a decoded JSON value.
std::string goTypeName(const json& v) {
  if (v.is_object()) return "map[string]interface {}";
  if (v.is_array()) return "[]interface {}";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number_float()) return "float64";
  if (v.is_number()) return "int64";
  return "<nil>";
}

// fmt's %v of a decoded JSON value, for error texts that embed values.
std::string goValue(const json& v) {
  if (v.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (const auto& [k, child] : v.items()) {
      out += (first ? "" : " ") + k + ":" + goValue(child);
      first = false;
    }
    return out + "]";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + goValue(v[i]);
    return out + "]";
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  return v.dump();
}

// ---------------------------------------------------------------------------
// JSON merge patch

void pruneNulls(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it->is_null()) {
        it = v.erase(it);
      } else {
        pruneNulls(*it);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& e : v) pruneNulls(e);
  }
}

void mergeDocs(json& doc, const json& patch);

json mergeValue(json cur, json patch) {
  if (!cur.is_object()) {
    pruneNulls(patch);
    return patch;
  }
  if (!patch.is_object()) return patch;
  mergeDocs(cur, patch);
  return cur;
}

void mergeDocs(json& doc, const json& patch) {
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      doc.erase(k);
      continue;
    }
    auto it = doc.find(k);
    if (it == doc.end() || it->is_null()) {
      json value = v;
      pruneNulls(value);
      doc[k] = std::move(value);
    } else {
      *it = mergeValue(std::move(*it), v);
    }
  }
}

// ---------------------------------------------------------------------------
// JSON patch

std::vector<std::string> splitPointer(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? slash : slash - start);
    parts.push_back(formats::unescapeJsonPointerToken(part));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

// strconv.Atoi.
std::optional<int64_t> atoi(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size() || s.size() - i > 18) return std::nullopt;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return std::nullopt;
  }
  return std::stoll(s);
}

struct Location {
  json* container = nullptr;
  std::string key;
};

// jsonpatch findObject: the container holding the last path segment. As in
// json-patch.v4, the text before the first '/' is ignored.
std::optional<Location> findObject(json& doc, const std::string& path) {
  std::vector<std::string> parts = splitPointer(path);
  if (parts.size() < 2) return std::nullopt;
  json* cur = &doc;
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    json* next = nullptr;
    if (cur->is_object()) {
      auto it = cur->find(parts[i]);
      if (it != cur->end()) next = &*it;
    } else if (cur->is_array()) {
      auto idx = atoi(parts[i]);
      int64_t size = static_cast<int64_t>(cur->size());
      if (idx && *idx < 0 && *idx >= -size) *idx += size;
      if (idx && *idx >= 0 && *idx < size) next = &(*cur)[static_cast<size_t>(*idx)];
    }
    if (!next || !(next->is_object() || next->is_array())) return std::nullopt;
    cur = next;
  }
  return Location{cur, parts.back()};
}

// container.get: a missing object member is "nothing", not an error; a bad
// array index is an error.
std::optional<std::optional<json>> getAt(const Location& at) {
  if (at.container->is_object()) {
    auto it = at.container->find(at.key);
    if (it == at.container->end()) return std::optional<json>();
    return std::optional<json>(*it);
  }
  auto idx = atoi(at.key);
  int64_t size = static_cast<int64_t>(at.container->size());
  if (!idx) return std::nullopt;
  if (*idx < 0) {
    if (*idx < -size) return std::nullopt;
    *idx += size;
  }
  if (*idx >= size) return std::nullopt;
  return std::optional<json>((*at.container)[static_cast<size_t>(*idx)]);
}

bool addAt(const Location& at, json value) {
  if (at.container->is_object()) {
    (*at.container)[at.key] = std::move(value);
    return true;
  }
  json& ary = *at.container;
  if (at.key == "-") {
    ary.push_back(std::move(value));
    return true;
  }
  auto idx = atoi(at.key);
  int64_t size = static_cast<int64_t>(ary.size()) + 1;
  if (!idx || *idx >= size) return false;
  if (*idx < 0) {
    if (*idx < -size) return false;
    *idx += size;
  }
  ary.insert(ary.begin() + *idx, std::move(value));
  return true;
}

bool removeAt(const Location& at) {
  if (at.container->is_object()) return at.container->erase(at.key) == 1;
  json& ary = *at.container;
  auto idx = atoi(at.key);
  int64_t size = static_cast<int64_t>(ary.size());
  if (!idx || *idx >= size) return false;
  if (*idx < 0) {
    if (*idx < -size) return false;
    *idx += size;
  }
  ary.erase(ary.begin() + *idx);
  return true;
}

bool setAt(const Location& at, json value) {
  if (at.container->is_object()) {
    (*at.container)[at.key] = std::move(value);
    return true;
  }
  auto idx = atoi(at.key);
  int64_t size = static_cast<int64_t>(at.container->size());
  if (!idx) return false;
  if (*idx < 0) {
    if (*idx < -size) return false;
    *idx += size;
  }
  if (*idx >= size) return false;
  (*at.container)[static_cast<size_t>(*idx)] = std::move(value);
  return true;
}

std::optional<std::string> stringMember(const json& op, const char* name) {
  auto it = op.find(name);
  if (it == op.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// One operation; false when it does not apply.
bool applyOperation(json& doc, const json& op) {
  if (!op.is_object()) return false;
  std::string kind = stringMember(op, "op").value_or("unknown");
  auto path = stringMember(op, "path");
  json value = op.contains("value") ? op["value"] : json(nullptr);
  if (!path) return false;
  if (kind == "add") {
    auto at = findObject(doc, *path);
    return at && addAt(*at, std::move(value));
  }
  if (kind == "remove") {
    auto at = findObject(doc, *path);
    return at && removeAt(*at);
  }
  if (kind == "replace") {
    if (path->empty()) {
      if (!value.is_object() && !value.is_array()) return false;
      doc = std::move(value);
      return true;
    }
    auto at = findObject(doc, *path);
    return at && getAt(*at) && setAt(*at, std::move(value));
  }
  if (kind == "test") {
    if (path->empty()) return doc.dump() == value.dump();
    auto at = findObject(doc, *path);
    if (!at) return false;
    auto current = getAt(*at);
    if (!current) return false;
    // json-patch.v4 compares scalars by their compact encoding and treats an
    // absent member like null.
    json actual = current->value_or(json(nullptr));
    return actual.dump() == value.dump();
  }
  if (kind == "move" || kind == "copy") {
    auto from = stringMember(op, "from");
    if (!from) return false;
    auto src = findObject(doc, *from);
    if (!src) return false;
    auto moved = getAt(*src);
    if (!moved) return false;
    if (kind == "move" && !removeAt(*src)) return false;
    // Copying an absent object member copies null, as json-patch.v4 does.
    json v = moved->value_or(json(nullptr));
    auto dst = findObject(doc, *path);
    return dst && addAt(*dst, std::move(v));
  }
  return false;
}

// ---------------------------------------------------------------------------
// Strategic merge patch

const char* const kDirective = "$patch";
const char* const kRetainKeys = "$retainKeys";
const char* const kSetElementOrder = "$setElementOrder";
const char* const kDeleteFromPrimitiveList = "$deleteFromPrimitiveList";

// The patch metadata of one field of a Go API type: its patchStrategy and
// patchMergeKey struct tags, and the type of the value (or list element)
// when that type has patch metadata of its own.
struct FieldMeta {
  bool mergeList = false;
  std::string mergeKey;  // empty for merged lists of primitives
  std::string type;
};

using TypeTable = std::map<std::string, std::map<std::string, FieldMeta>>;

FieldMeta child(const std::string& type) { return FieldMeta{false, "", type}; }
FieldMeta mergedBy(const std::string& key, const std::string& type = "") {
  return FieldMeta{true, key, type};
}

// Transcribed from the patchStrategy/patchMergeKey tags in k8s.io/api
// (core/v1, apps/v1, batch/v1, meta/v1 types.go). Lists not named here have
// no patch strategy and are replaced (e.g. tolerations, node taints, args).
const TypeTable& patchTypes() {
  static const TypeTable table = {
      {"ObjectMeta", {{"finalizers", mergedBy("")}, {"ownerReferences", mergedBy("uid")}}},
      {"PodTemplateSpec", {{"metadata", child("ObjectMeta")}, {"spec", child("PodSpec")}}},
      {"PodSpec",
       {{"containers", mergedBy("name", "Container")},
        {"initContainers", mergedBy("name", "Container")},
        {"ephemeralContainers", mergedBy("name", "Container")},
        {"volumes", mergedBy("name")},
        {"imagePullSecrets", mergedBy("name")},
        {"hostAliases", mergedBy("ip")},
        {"topologySpreadConstraints", mergedBy("topologyKey")},
        {"schedulingGates", mergedBy("name")},
        {"resourceClaims", mergedBy("name")}}},
      {"Container",
       {{"ports", mergedBy("containerPort")},
        {"env", mergedBy("name")},
        {"volumeMounts", mergedBy("mountPath")},
        {"volumeDevices", mergedBy("devicePath")}}},
      {"PodStatus",
       {{"conditions", mergedBy("type")},
        {"podIPs", mergedBy("ip")},
        {"hostIPs", mergedBy("ip")},
        {"resourceClaimStatuses", mergedBy("name")}}},
      {"WorkloadSpec", {{"template", child("PodTemplateSpec")}}},
      {"JobTemplateSpec", {{"metadata", child("ObjectMeta")}, {"spec", child("WorkloadSpec")}}},
      {"CronJobSpec", {{"jobTemplate", child("JobTemplateSpec")}}},
      {"ConditionsStatus", {{"conditions", mergedBy("type")}}},
      {"ServiceSpec", {{"ports", mergedBy("port")}}},
      {"NodeSpec", {{"podCIDRs", mergedBy("")}}},
      {"NodeStatus", {{"conditions", mergedBy("type")}, {"addresses", mergedBy("type")}}},
      // Top-level types, one per kind.
      {"Pod",
       {{"metadata", child("ObjectMeta")},
        {"spec", child("PodSpec")},
        {"status", child("PodStatus")}}},
      {"PodTemplate", {{"metadata", child("ObjectMeta")}, {"template", child("PodTemplateSpec")}}},
      {"Workload",
       {{"metadata", child("ObjectMeta")},
        {"spec", child("WorkloadSpec")},
        {"status", child("ConditionsStatus")}}},
      {"CronJob",
       {{"metadata", child("ObjectMeta")},
        {"spec", child("CronJobSpec")},
        {"status", child("ConditionsStatus")}}},
      {"Service",
       {{"metadata", child("ObjectMeta")},
        {"spec", child("ServiceSpec")},
        {"status", child("ConditionsStatus")}}},
      {"Node",
       {{"metadata", child("ObjectMeta")},
        {"spec", child("NodeSpec")},
        {"status", child("NodeStatus")}}},
      {"ServiceAccount", {{"metadata", child("ObjectMeta")}, {"secrets", mergedBy("name")}}},
      {"Object", {{"metadata", child("ObjectMeta")}, {"status", child("ConditionsStatus")}}},
  };
  return table;
}

std::string rootType(const std::string& kind) {
  static const std::map<std::string, std::string> kinds = {
      {"Pod", "Pod"},
      {"PodTemplate", "PodTemplate"},
      {"Deployment", "Workload"},
      {"ReplicaSet", "Workload"},
      {"StatefulSet", "Workload"},
      {"DaemonSet", "Workload"},
      {"Job", "Workload"},
      {"ReplicationController", "Workload"},
      {"CronJob", "CronJob"},
      {"Service", "Service"},
      {"Node", "Node"},
      {"ServiceAccount", "ServiceAccount"},
  };
  auto it = kinds.find(kind);
  return it == kinds.end() ? "Object" : it->second;
}

const FieldMeta* lookupField(const std::string& type, const std::string& field) {
  auto t = patchTypes().find(type);
  if (t == patchTypes().end()) return nullptr;
  auto f = t->second.find(field);
  return f == t->second.end() ? nullptr : &f->second;
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool hasDirective(const json& v) { return v.is_object() && v.contains(kDirective); }

enum class Kind { Null, Object, Array, String, Number, Bool };

Kind kindOf(const json& v) {
  if (v.is_object()) return Kind::Object;
  if (v.is_array()) return Kind::Array;
  if (v.is_string()) return Kind::String;
  if (v.is_number()) return Kind::Number;
  if (v.is_boolean()) return Kind::Bool;
  return Kind::Null;
}

ApiError noMergeKey(const json& m, const std::string& key) {
  return unknownError("map: " + goValue(m) + " does not contain declared merge key: " + key);
}

ApiError badArgType(const std::string& expected, const json& actual) {
  return unknownError("expected a " + expected + ", but received a " + goTypeName(actual));
}

ApiError badPatchType(const json& directive, const json& m) {
  return unknownError("unknown patch type: " + goValue(directive) + " in map: " + goValue(m));
}

Result<json> mergeMap(json original, json patch, const std::string& type);
Result<json> mergeSlice(json original, json patch, const FieldMeta& meta, bool isDeleteList);

// The value a patch introduces for a field the original lacks: nulls are
// dropped (discardNullValuesFromPatch) and directives applied against
// nothing, so none is stored. Maps carrying `$patch` are dropped by the
// caller (removeDirectives).
Result<json> newValue(const json& patchValue, const FieldMeta* meta) {
  if (patchValue.is_object()) return mergeMap(json::object(), patchValue, meta ? meta->type : "");
  if (!patchValue.is_array()) return patchValue;
  if (meta && meta->mergeList) return mergeSlice(json::array(), patchValue, *meta, false);
  json out = json::array();
  for (const auto& e : patchValue) {
    if (hasDirective(e)) continue;
    auto v = newValue(e, nullptr);
    if (!v.ok()) return v;
    out.push_back(std::move(*v));
  }
  return out;
}

// index(): position of `item` in `list`, by merge key value for maps.
int indexOf(const json& list, const json& item, const std::string& mergeKey, bool isMap) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (isMap) {
      if (list[i].is_object() && item.is_object() && list[i].contains(mergeKey) &&
          item.contains(mergeKey) && list[i][mergeKey] == item[mergeKey]) {
        return static_cast<int>(i);
      }
    } else if (list[i] == item) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::optional<ApiError> validateMergeKeys(const json& list, const std::string& mergeKey) {
  for (const auto& item : list) {
    if (!item.is_object()) return badArgType("map[string]interface {}", item);
    if (!item.contains(mergeKey)) return noMergeKey(item, mergeKey);
  }
  return std::nullopt;
}

// normalizeElementOrder: patch items keep the order of `patchOrder`, server-only
// items the order of `serverOrder`, and the two are interleaved by
// mergeSortedSlice. An item the server has not seen goes before the server
// item it is compared with, which is why a container added by a plain patch
// comes first.
Result<json> normalizeElementOrder(json patchItems, json serverOnly, const json& patchOrder,
                                   const json& serverOrder, const std::string& mergeKey,
                                   bool isMap) {
  if (isMap) {
    for (const json* list :
         std::initializer_list<const json*>{&patchItems, &patchOrder, &serverOnly, &serverOrder}) {
      if (auto err = validateMergeKeys(*list, mergeKey)) return *err;
    }
  }
  auto sortBy = [&](json& items, const json& order) {
    std::vector<json> v(items.begin(), items.end());
    auto rank = [&](const json& item) {
      int i = indexOf(order, item, mergeKey, isMap);
      return i < 0 ? std::numeric_limits<int>::max() : i;
    };
    std::stable_sort(v.begin(), v.end(),
                     [&](const json& a, const json& b) { return rank(a) < rank(b); });
    items = json(v);
  };
  sortBy(patchItems, patchOrder);
  sortBy(serverOnly, serverOrder);
  json out = json::array();
  size_t i = 0;
  size_t j = 0;
  while (i < serverOnly.size() || j < patchItems.size()) {
    if (i >= serverOnly.size()) {
      out.push_back(patchItems[j++]);
    } else if (j >= patchItems.size()) {
      out.push_back(serverOnly[i++]);
    } else {
      int li = indexOf(serverOrder, serverOnly[i], mergeKey, isMap);
      int ri = indexOf(serverOrder, patchItems[j], mergeKey, isMap);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(serverOnly[i++]);
      } else {
        out.push_back(patchItems[j++]);
      }
    }
  }
  return out;
}

// Splits `merged` into the items present in `by` and the others.
Result<std::pair<json, json>> partition(const json& merged, const json& by,
                                        const std::string& mergeKey, bool isMap) {
  json in = json::array();
  json out = json::array();
  for (const auto& v : merged) {
    if (isMap) {
      if (!v.is_object()) return badArgType("map[string]interface {}", v);
      if (!v.contains(mergeKey)) return noMergeKey(v, mergeKey);
      for (const auto& b : by) {
        if (!b.is_object())
          return unknownError("value for key " + goValue(v[mergeKey]) + " is not a map.");
      }
    }
    (indexOf(by, v, mergeKey, isMap) >= 0 ? in : out).push_back(v);
  }
  return std::make_pair(std::move(in), std::move(out));
}

// sliceElementType: the kind shared by every element of both lists.
Result<Kind> elementKind(const json& a, const json& b) {
  std::optional<Kind> kind;
  for (const json* list : {&a, &b}) {
    for (const auto& v : *list) {
      Kind k = kindOf(v);
      if (!kind) {
        // mergepatch.ErrNoListOfLists is answered with the generic 422.
        if (k == Kind::Array) return genericInvalid();
        kind = k;
      } else if (*kind != k) {
        return unknownError("list element types are not identical: [" + goValue(a) + " " +
                            goValue(b) + "]");
      }
    }
  }
  return kind.value_or(Kind::Null);
}

Result<json> mergeSlice(json original, json patch, const FieldMeta& meta, bool isDeleteList) {
  if (original.empty() && patch.empty()) return original;
  auto kind = elementKind(original, patch);
  if (!kind.ok()) return kind.error();
  bool isMap = *kind == Kind::Object;
  json merged = json::array();
  if (!isMap) {
    if (isDeleteList) {
      for (const auto& v : original) {
        if (indexOf(patch, v, "", false) < 0) merged.push_back(v);
      }
      return merged;
    }
    for (const json* list : {&original, &patch}) {
      for (const auto& v : *list) {
        if (indexOf(merged, v, "", false) < 0) merged.push_back(v);
      }
    }
  } else {
    if (meta.mergeKey.empty()) {
      return unknownError("cannot merge lists without merge key for type string");
    }
    const std::string& key = meta.mergeKey;
    json plain = json::array();
    bool replace = false;
    for (const auto& v : patch) {
      if (!hasDirective(v)) {
        plain.push_back(v);
        continue;
      }
      const json& directive = v[kDirective];
      if (directive == "delete") {
        if (!v.contains(key)) return noMergeKey(v, key);
        for (auto it = original.begin(); it != original.end();) {
          if (!it->is_object()) {
            return unknownError("value for key " + std::to_string(it - original.begin()) +
                                " is not a map.");
          }
          it = (it->contains(key) && (*it)[key] == v[key]) ? original.erase(it) : it + 1;
        }
      } else if (directive == "replace") {
        replace = true;
      } else if (directive == "merge") {
        return unknownError("merging lists cannot yet be specified in the patch");
      } else {
        return badPatchType(directive, v);
      }
    }
    if (replace) {
      json out = json::array();
      for (const auto& v : plain) {
        auto item = mergeMap(json::object(), v, meta.type);
        if (!item.ok()) return item;
        out.push_back(std::move(*item));
      }
      return out;
    }
    patch = std::move(plain);
    merged = original;
    for (const auto& v : patch) {
      if (!v.contains(key)) return noMergeKey(v, key);
      std::optional<size_t> found;
      for (size_t i = 0; i < merged.size(); ++i) {
        if (!merged[i].is_object()) {
          return unknownError("value for key " + std::to_string(i) + " is not a map.");
        }
        if (merged[i].contains(key) && merged[i][key] == v[key]) {
          found = i;
          break;
        }
      }
      auto item = mergeMap(found ? merged[*found] : json::object(), v, meta.type);
      if (!item.ok()) return item;
      if (found) {
        merged[*found] = std::move(*item);
      } else {
        merged.push_back(std::move(*item));
      }
    }
  }
  auto parts = partition(merged, patch, meta.mergeKey, isMap);
  if (!parts.ok()) return parts.error();
  return normalizeElementOrder(std::move(parts->first), std::move(parts->second), patch, original,
                               meta.mergeKey, isMap);
}

std::optional<ApiError> applyRetainKeys(json& original, json& patch) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return std::nullopt;
  json retain = *it;
  patch.erase(it);
  const ApiError invalid = ApiError::badRequest("invalid patch format of retainKeys");
  if (!retain.is_array()) return invalid;
  auto retained = [&](const std::string& k) {
    return std::find(retain.begin(), retain.end(), json(k)) != retain.end();
  };
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null() || startsWith(k, kDeleteFromPrimitiveList) || startsWith(k, kSetElementOrder)) {
      continue;
    }
    if (!retained(k)) return invalid;
  }
  for (auto o = original.begin(); o != original.end();) {
    o = retained(o.key()) ? std::next(o) : original.erase(o);
  }
  return std::nullopt;
}

// The parallel list's key without its directive prefix ("$setElementOrder/containers").
std::optional<std::string> directiveField(const std::string& key, const std::string& prefix) {
  size_t slash = key.find('/');
  if (slash == std::string::npos || key.substr(0, slash) != prefix) return std::nullopt;
  return key.substr(slash + 1);
}

std::optional<ApiError> validatePatchWithSetOrderList(const json& patchList, const json& setOrder,
                                                      const std::string& mergeKey) {
  if (setOrder.empty() || patchList.empty()) return std::nullopt;
  json nonDelete = json::array();
  for (const auto& v : patchList) {
    if (!mergeKey.empty()) {
      if (!v.is_object()) return badArgType("map[string]interface {}", v);
      if (v.value(kDirective, json()) == "delete") continue;
    }
    nonDelete.push_back(v);
  }
  size_t p = 0;
  size_t s = 0;
  while (p < nonDelete.size() && s < setOrder.size()) {
    if (hasDirective(nonDelete[p])) {
      ++p;
      continue;
    }
    bool equal = false;
    if (mergeKey.empty()) {
      equal = nonDelete[p] == setOrder[s];
    } else {
      for (const json* m : std::initializer_list<const json*>{&nonDelete[p], &setOrder[s]}) {
        if (!m->is_object()) return badArgType("map[string]interface {}", *m);
        if (!m->contains(mergeKey)) return noMergeKey(*m, mergeKey);
      }
      equal = nonDelete[p][mergeKey] == setOrder[s][mergeKey];
    }
    if (equal) ++p;
    ++s;
  }
  if (p < nonDelete.size() && s >= setOrder.size()) {
    return unknownError("the order in patch list:\n" + goValue(patchList) +
                        "\n doesn't match $setElementOrder list:\n" + goValue(setOrder));
  }
  return std::nullopt;
}

// mergePatchIntoOriginal: each `$setElementOrder/<list>` merges its list now
// and puts the result in that order; precedence is $setElementOrder, then
// the patch's order, then the live order.
std::optional<ApiError> mergeOrderedLists(json& original, json& patch, const std::string& type) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : patch.items()) {
    if (startsWith(k, kSetElementOrder)) keys.push_back(k);
  }
  for (const auto& key : keys) {
    json setOrder = patch[key];
    patch.erase(key);
    if (!setOrder.is_array()) return badArgType("[]interface {}", setOrder);
    auto field = directiveField(key, kSetElementOrder);
    if (!field) return ApiError::badRequest("invalid patch format of setElementOrder list");
    bool hasOriginal = original.contains(*field);
    bool hasPatch = patch.contains(*field) && !patch[*field].is_null();
    json originalList = hasOriginal ? original[*field] : json::array();
    json patchList = hasPatch ? patch[*field] : json::array();
    if (!originalList.is_array()) return badArgType("[]interface {}", originalList);
    if (!patchList.is_array()) return badArgType("[]interface {}", patchList);
    const FieldMeta* meta = lookupField(type, *field);
    std::string mergeKey = meta ? meta->mergeKey : "";
    if (auto err = validatePatchWithSetOrderList(patchList, setOrder, mergeKey)) return err;
    Result<json> merged = json::array();
    if (hasOriginal && hasPatch) {
      merged = meta && meta->mergeList ? mergeSlice(originalList, patchList, *meta, false)
                                       : newValue(patchList, meta);
    } else if (hasOriginal) {
      merged = originalList;
    } else if (hasPatch) {
      merged = newValue(patchList, meta);
    } else {
      continue;
    }
    if (!merged.ok()) return merged.error();
    auto kind = elementKind(originalList, patchList);
    if (!kind.ok()) return kind.error();
    bool isMap = *kind == Kind::Object && !mergeKey.empty();
    auto parts = partition(*merged, setOrder, mergeKey, isMap);
    if (!parts.ok()) return parts.error();
    auto ordered = normalizeElementOrder(std::move(parts->first), std::move(parts->second),
                                         setOrder, originalList, mergeKey, isMap);
    if (!ordered.ok()) return ordered.error();
    original[*field] = std::move(*ordered);
    patch.erase(*field);
  }
  return std::nullopt;
}

Result<json> mergeMap(json original, json patch, const std::string& type) {
  if (auto it = patch.find(kDirective); it != patch.end()) {
    if (*it == "replace") {
      patch.erase(it);
      return mergeMap(json::object(), std::move(patch), type);
    }
    if (*it == "delete") return json::object();
    return badPatchType(*it, patch);
  }
  if (!original.is_object()) original = json::object();
  if (auto err = applyRetainKeys(original, patch)) return *err;
  if (auto err = mergeOrderedLists(original, patch, type)) return *err;

  for (const auto& [patchKey, patchValue] : patch.items()) {
    std::string key = patchKey;
    bool isDeleteList = false;
    if (startsWith(patchKey, kDeleteFromPrimitiveList)) {
      auto field = directiveField(patchKey, kDeleteFromPrimitiveList);
      if (!field) return ApiError::badRequest("invalid patch format of primitive list");
      key = *field;
      isDeleteList = true;
    }
    if (patchValue.is_null()) {
      original.erase(key);
      continue;
    }
    const FieldMeta* meta = lookupField(type, key);
    auto current = original.find(key);
    if (current == original.end() || kindOf(*current) != kindOf(patchValue)) {
      if (isDeleteList) continue;
      if (hasDirective(patchValue)) {
        original.erase(key);
        continue;
      }
      auto value = newValue(patchValue, meta);
      if (!value.ok()) return value;
      original[key] = std::move(*value);
      continue;
    }
    Result<json> merged = json();
    if (patchValue.is_object()) {
      merged = mergeMap(std::move(*current), patchValue, meta ? meta->type : "");
    } else if (patchValue.is_array()) {
      if (meta && meta->mergeList) {
        merged = mergeSlice(std::move(*current), patchValue, *meta, isDeleteList);
      } else if (isDeleteList) {
        json kept = json::array();
        for (const auto& v : *current) {
          if (indexOf(patchValue, v, "", false) < 0) kept.push_back(v);
        }
        merged = std::move(kept);
      } else {
        merged = newValue(patchValue, meta);
      }
    } else {
      merged = patchValue;
    }
    if (!merged.ok()) return merged;
    original[key] = std::move(*merged);
  }
  return original;
}

bool isDirectiveKey(const std::string& k) {
  return k == kDirective || k == kRetainKeys ||
         startsWith(k, std::string(kSetElementOrder) + "/") ||
         startsWith(k, std::string(kDeleteFromPrimitiveList) + "/");
}

void stripDirectives(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (isDirectiveKey(it.key())) {
        it = v.erase(it);
      } else {
        stripDirectives(*it);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& e : v) stripDirectives(e);
  }
}

}  // namespace

Result<json> applyMergePatch(const json& target, const json& patch) {
  if (patch.is_array()) {
    // json-patch.v4 returns the array itself; decoding it as an object fails.
    json result = patch;
    pruneNulls(result);
    StatusCause cause{"FieldValueInvalid",
                      "Invalid value: " + json(result.dump()).dump() +
                          ": couldn't get version/kind; json parse error: json: cannot unmarshal "
                          "array into Go value of type struct { APIVersion string "
                          "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                          "\"json:\\\"kind,omitempty\\\"\" }",
                      "patch"};
    return ApiError::invalid("", "", "", {cause});
  }
  if (!patch.is_object()) return ApiError::badRequest("Invalid JSON Patch");
  json doc = target.is_object() ? target : json::object();
  mergeDocs(doc, patch);
  return doc;
}

Result<json> applyJsonPatch(const json& target, const json& patch) {
  if (patch.is_null()) return target;
  if (!patch.is_array()) {
    return ApiError::badRequest("json: cannot unmarshal " + jsonValueName(patch) +
                                " into Go value of type jsonpatch.Patch");
  }
  for (const auto& op : patch) {
    if (!op.is_object() && !op.is_null()) {
      return ApiError::badRequest("json: cannot unmarshal " + jsonValueName(op) +
                                  " into Go value of type jsonpatch.Operation");
    }
  }
  constexpr size_t kMaxOperations = 10000;
  if (patch.size() > kMaxOperations) {
    return ApiError::requestEntityTooLarge("The allowed maximum operations in a JSON patch is " +
                                           std::to_string(kMaxOperations) + ", got " +
                                           std::to_string(patch.size()));
  }
  json doc = target;
  for (const auto& op : patch) {
    if (!applyOperation(doc, op)) return genericInvalid();
  }
  return doc;
}

Result<json> applyStrategicMergePatch(const json& target, const json& patch,
                                      const std::string& kind) {
  if (patch.is_null()) return target;
  if (!patch.is_object()) {
    return ApiError::badRequest("json: cannot unmarshal " + jsonValueName(patch) +
                                " into Go value of type map[string]interface {}");
  }
  auto merged = mergeMap(target.is_object() ? target : json::object(), patch, rootType(kind));
  if (!merged.ok()) return merged;
  stripDirectives(*merged);
  return merged;
}

}  // namespace remedy::sandbox
