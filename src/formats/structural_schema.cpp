#include "formats/structural_schema.h"

#include "formats/go_format.h"
#include "formats/go_regexp.h"
#include "formats/json_pointer.h"
#include "formats/result.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace remedy::formats {

namespace {

using json = nlohmann::json;

// strconv.FormatFloat(f, 'f', -1, 64), as swag.FormatFloat64 renders numbers
// before range checks.
std::string plainFloat(double f) { return goFormatFloat(f, 'f', 64); }

bool isInteger(const json& v) { return v.is_number_integer(); }

std::string goNumber(const json& v) {
  return v.is_number_float() ? goFloat(v.get<double>()) : v.dump();
}

// fmt's %#v of an unstructured value (map[string]interface{}, []interface{},
// string, int64, float64, bool, nil); a map's keys sorted, as fmt prints them.
std::string goSyntax(const json& v) {
  if (v.is_string()) return goQuote(v.get<std::string>());
  if (v.is_number()) return goNumber(v);
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "interface {}(nil)";
  std::string out;
  if (v.is_object()) {
    out = "map[string]interface {}{";
    bool first = true;
    for (const auto& [k, item] : v.items()) {  // nlohmann orders keys as Go's fmt does
      out += (first ? "" : ", ") + goQuote(k) + ":" + goSyntax(item);
      first = false;
    }
  } else {
    out = "[]interface {}{";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + goSyntax(v[i]);
  }
  return out + "}";
}

// field.Error.ErrorBody's rendering of a bad value: simple types with %v,
// strings with %q, anything else (maps, slices) with %#v.
std::string renderValue(const json& v) {
  if (v.is_string()) return goQuote(v.get<std::string>());
  if (v.is_number()) return goNumber(v);
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "null";
  return goSyntax(v);
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// ---------------------------------------------------------------------------
// Schema accessors

bool flag(const json& s, const char* name) {
  auto it = s.find(name);
  return it != s.end() && it->is_boolean() && it->get<bool>();
}

const json* member(const json& s, const char* name) {
  auto it = s.find(name);
  return it == s.end() ? nullptr : &*it;
}

const json* objectMember(const json& s, const char* name) {
  const json* m = member(s, name);
  return m && m->is_object() ? m : nullptr;
}

const json* propertySchema(const json& s, const std::string& name) {
  const json* props = objectMember(s, "properties");
  if (!props) return nullptr;
  auto it = props->find(name);
  return it != props->end() && it->is_object() ? &*it : nullptr;
}

const json* additionalSchema(const json& s) { return objectMember(s, "additionalProperties"); }

bool additionalAllowsAnything(const json& s) {
  const json* ap = member(s, "additionalProperties");
  return ap && ap->is_boolean() && ap->get<bool>();
}

const json* itemsSchema(const json& s) { return objectMember(s, "items"); }

// The property or additionalProperties schema of a member of an object.
const json* memberSchema(const json& s, const std::string& name) {
  if (const json* p = propertySchema(s, name)) return p;
  return additionalSchema(s);
}

bool nullable(const json& s) { return flag(s, "nullable"); }

std::optional<int64_t> intMember(const json& s, const char* name) {
  const json* m = member(s, name);
  if (!m || !m->is_number()) return std::nullopt;
  return m->is_number_float() ? static_cast<int64_t>(m->get<double>()) : m->get<int64_t>();
}

std::optional<double> numberMember(const json& s, const char* name) {
  const json* m = member(s, name);
  if (!m || !m->is_number()) return std::nullopt;
  return m->get<double>();
}

std::string childPath(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

std::string indexPath(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Where a value is: its path as the validator names it and its JSON pointer.
struct Loc {
  std::string name;
  std::string pointer;

  Loc child(const std::string& field) const {
    return {childPath(name, field), pointer + "/" + escapeJsonPointerToken(field)};
  }
  Loc index(size_t i) const { return {indexPath(name, i), pointer + "/" + std::to_string(i)}; }
  // A map entry as kube-openapi names it: "spec.labels.app".
  Loc dotted(const std::string& key) const {
    return {name + "." + key, pointer + "/" + escapeJsonPointerToken(key)};
  }
  // A map entry as field paths name it: "spec.labels[app]".
  Loc bracketed(const std::string& key) const {
    return {name + "[" + key + "]", pointer + "/" + escapeJsonPointerToken(key)};
  }
};

bool isMetaField(const std::string& key, const json& value) {
  return ((key == "apiVersion" || key == "kind") && value.is_string()) ||
         (key == "metadata" && value.is_object());
}

// ---------------------------------------------------------------------------
// Pruning (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go)

void prune(json& x, const json* s, bool resourceRoot);

// Under x-kubernetes-preserve-unknown-fields unknown fields stay, but the
// fields the schema does specify are still pruned below.
void skipPrune(json& x, const json* s, bool resourceRoot) {
  if (!s) return;
  if (x.is_object()) {
    bool embedded = resourceRoot || flag(*s, "x-kubernetes-embedded-resource");
    for (auto it = x.begin(); it != x.end(); ++it) {
      if (embedded && isMetaField(it.key(), *it)) continue;
      if (const json* sub = memberSchema(*s, it.key())) prune(*it, sub, false);
    }
  } else if (x.is_array()) {
    for (auto& v : x) skipPrune(v, itemsSchema(*s), false);
  }
}

void prune(json& x, const json* s, bool resourceRoot) {
  if (s && flag(*s, "x-kubernetes-preserve-unknown-fields")) {
    skipPrune(x, s, resourceRoot);
    return;
  }
  if (x.is_object()) {
    if (!s) {
      x = json::object();
      return;
    }
    bool embedded = resourceRoot || flag(*s, "x-kubernetes-embedded-resource");
    for (auto it = x.begin(); it != x.end();) {
      if (embedded && isMetaField(it.key(), *it)) {
        ++it;
      } else if (const json* sub = memberSchema(*s, it.key())) {
        prune(*it, sub, false);
        ++it;
      } else if (additionalAllowsAnything(*s)) {
        ++it;
      } else {
        it = x.erase(it);
      }
    }
  } else if (x.is_array()) {
    const json* items = s ? itemsSchema(*s) : nullptr;
    for (auto& v : x) prune(v, items, false);
  }
}

// defaulting.PruneNonNullableNullsWithoutDefaults: a null for a field that
// is not nullable is dropped before defaulting, so a default can apply.
void pruneNonNullableNulls(json& x, const json* s) {
  if (!s) return;
  if (x.is_object()) {
    for (auto it = x.begin(); it != x.end();) {
      const json* sub = memberSchema(*s, it.key());
      if (it->is_null() && sub && !nullable(*sub) && !sub->contains("default")) {
        it = x.erase(it);
      } else {
        pruneNonNullableNulls(*it, sub);
        ++it;
      }
    }
  } else if (x.is_array()) {
    for (auto& v : x) pruneNonNullableNulls(v, itemsSchema(*s));
  }
}

// ---------------------------------------------------------------------------
// Defaulting (pkg/apiserver/schema/defaulting/algorithm.go)

void defaultValues(json& x, const json* s) {
  if (!s) return;
  if (x.is_object()) {
    if (const json* props = objectMember(*s, "properties")) {
      for (const auto& [k, prop] : props->items()) {
        if (!prop.is_object() || !prop.contains("default")) continue;
        auto it = x.find(k);
        if (it == x.end() || (it->is_null() && !nullable(prop))) x[k] = prop["default"];
      }
    }
    for (auto it = x.begin(); it != x.end(); ++it) {
      if (const json* prop = propertySchema(*s, it.key())) {
        defaultValues(*it, prop);
      } else if (const json* ap = additionalSchema(*s)) {
        if (it->is_null() && !nullable(*ap)) *it = ap->value("default", json(nullptr));
        defaultValues(*it, ap);
      }
    }
  } else if (x.is_array()) {
    const json* items = itemsSchema(*s);
    for (auto& v : x) {
      if (v.is_null() && items && !nullable(*items)) v = items->value("default", json(nullptr));
      defaultValues(v, items);
    }
  }
}

// ---------------------------------------------------------------------------
// Validation (k8s.io/kube-openapi/pkg/validation/validate)

// One kube-openapi error, before conversion to a field error.
struct Problem {
  enum class Code {
    Required,
    Enum,
    TooLong,
    MaxItems,
    TooManyProperties,
    InvalidType,
    Other,
    Plain
  };
  Code code = Code::Other;
  std::string name;  // the validator's path: "spec.x", ".spec" for a required field at the root
  std::string pointer;
  std::optional<std::string> alternativeOf;  // see FieldError
  std::optional<json> value;
  int64_t valid = -1;
  json values;
  std::string message;
};
using Problems = std::vector<Problem>;

Problem problem(Problem::Code code, const Loc& at, std::optional<json> value, std::string message) {
  Problem p;
  p.code = code;
  p.name = at.name;
  p.pointer = at.pointer;
  p.value = std::move(value);
  p.message = std::move(message);
  return p;
}

// An error that is not an errors.Validation (composite schemas, number
// ranges): reported as field.Invalid at the nil path.
Problem plain(const Loc& at, std::string message) {
  Problem p = problem(Problem::Code::Plain, at, std::nullopt, std::move(message));
  p.name.clear();
  return p;
}

Problem invalidType(const Loc& at, const std::string& typeName, const std::string& value) {
  const std::string& path = at.name;
  return problem(Problem::Code::InvalidType, at, json(value),
                 path + " in body must be of type " + typeName + ": " + goQuote(value));
}

std::vector<std::string> schemaTypes(const json& s) {
  if (flag(s, "x-kubernetes-int-or-string")) return {"integer", "string"};
  const json* t = member(s, "type");
  if (t && t->is_string() && !t->get<std::string>().empty()) return {t->get<std::string>()};
  return {};
}

std::string normalizeFormat(std::string f) {
  f.erase(std::remove(f.begin(), f.end(), '-'), f.end());
  return f;
}

// Formats a CRD may use; others are ignored
// (pkg/apiserver/validation/formats.go StripUnsupportedFormatsPostProcess).
const std::set<std::string>& stringFormats() {
  static const std::set<std::string> formats = {
      "bsonobjectid", "uri",        "email",    "hostname", "ipv4",     "ipv6", "cidr",
      "mac",          "uuid",       "uuid3",    "uuid4",    "uuid5",    "isbn", "isbn10",
      "isbn13",       "creditcard", "ssn",      "hexcolor", "rgbcolor", "byte", "password",
      "date",         "duration",   "datetime", "quantity"};
  return formats;
}

std::string effectiveFormat(const json& s, const std::vector<std::string>& types) {
  const json* f = member(s, "format");
  if (!f || !f->is_string() || f->get<std::string>().empty()) return "";
  std::string format = f->get<std::string>();
  std::string type = types.size() == 1 ? types[0] : "";
  if (type.empty() || type == "string") {
    return stringFormats().count(normalizeFormat(format)) ? format : "";
  }
  if (type == "integer") return format == "int32" || format == "int64" ? format : "";
  if (type == "number") return format == "float" || format == "double" ? format : "";
  return "";
}

using PatternResult = Result<GoRegexp, RegexpError>;

// A CRD pattern compiled as Go compiles it (kube-openapi validate.Pattern:
// regexp.Compile, then MatchString, unanchored). Compiled patterns are kept
// per thread; the CRDs of a server have few.
const PatternResult& compilePattern(const std::string& pattern) {
  static thread_local std::map<std::string, PatternResult> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, GoRegexp::compile(pattern)).first;
  return it->second;
}

// One of this file's own expressions; they all compile (tests/sandbox).
const GoRegexp& fixedPattern(const std::string& pattern) { return compilePattern(pattern).value(); }

bool isDigits(const std::string& s, size_t from, size_t to) {
  if (from >= to || to > s.size()) return false;
  for (size_t i = from; i < to; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// strfmt.IsDate: time.Parse("2006-01-02", s).
bool isDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!isDigits(s, 0, 4) || !isDigits(s, 5, 7) || !isDigits(s, 8, 10)) return false;
  int year = std::stoi(s.substr(0, 4));
  int month = std::stoi(s.substr(5, 2));
  int day = std::stoi(s.substr(8, 2));
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= days[month - 1] + (month == 2 && leap ? 1 : 0);
}

// strfmt.IsDateTime.
bool isDateTime(const std::string& str) {
  if (str.size() < 4) return false;
  std::string lower = str;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  size_t t = lower.find('t');
  if (t == std::string::npos || !isDate(lower.substr(0, t))) return false;
  std::string rest = lower.substr(t + 1);
  if (rest.find('t') != std::string::npos) rest = rest.substr(0, rest.find('t'));
  auto m =
      fixedPattern(R"(^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$)")
          .findSubmatch(rest);
  if (!m) return false;
  return (*m)[1] <= "23" && (*m)[2] <= "59" && (*m)[3] <= "59";
}

// strfmt.ParseDuration: Go's time.ParseDuration, else any "<n> <unit>"
// (`(\d+)\s*([A-Za-zµ]+)`, anywhere in the text) with a unit it knows.
bool isDuration(const std::string& s) {
  if (s == "0" ||
      fixedPattern(R"(^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+$)").find(s)) {
    return true;
  }
  static const std::vector<std::vector<std::string>> units = {
      {"ns", "nano"}, {"us", "µs", "micro"}, {"ms", "milli"}, {"s", "sec"},
      {"m", "min"},   {"h", "hr", "hour"},   {"d", "day"},    {"w", "wk", "week"}};
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0;
  while (i < s.size()) {
    if (!isDigit(s[i])) {
      ++i;
      continue;
    }
    while (i < s.size() && isDigit(s[i])) ++i;
    // \s: [\t\n\f\r ]
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\f' || s[i] == '\r')) {
      ++i;
    }
    std::string unit;
    while (i < s.size()) {
      char c = s[i];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        ++i;
      } else if (s.compare(i, 2, "µ") == 0) {
        unit += "µ";
        i += 2;
      } else {
        break;
      }
    }
    if (unit.empty()) continue;
    for (const auto& variants : units) {
      for (size_t v = 0; v < variants.size(); ++v) {
        bool last = v + 1 == variants.size();
        if (unit == variants[v] ||
            (last && unit.compare(0, variants[v].size(), variants[v]) == 0)) {
          return true;
        }
      }
    }
  }
  return false;
}

bool isIPv4(const std::string& s) {
  return fixedPattern(R"(^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3})"
                      R"((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$)")
      .find(s);
}

// net.ParseIP for an address with colons: eight groups of up to four hex
// digits, at most one "::", optionally ending in an IPv4 address.
bool isIPv6(const std::string& s) {
  if (s.find(':') == std::string::npos) return false;
  std::string text = s;
  size_t lastColon = text.rfind(':');
  if (text.find('.', lastColon) != std::string::npos) {
    if (!isIPv4(text.substr(lastColon + 1))) return false;
    text = text.substr(0, lastColon + 1) + "0:0";
  }
  size_t gap = text.find("::");
  if (gap != std::string::npos && text.find("::", gap + 1) != std::string::npos) return false;
  auto countGroups = [](const std::string& part) -> int {
    if (part.empty()) return 0;
    int groups = 0;
    size_t start = 0;
    while (true) {
      size_t colon = part.find(':', start);
      std::string group = part.substr(start, colon == std::string::npos ? colon : colon - start);
      if (group.empty() || group.size() > 4) return -1;
      for (char c : group) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return -1;
      }
      ++groups;
      if (colon == std::string::npos) return groups;
      start = colon + 1;
    }
  };
  if (gap == std::string::npos) return countGroups(text) == 8;
  int left = countGroups(text.substr(0, gap));
  int right = countGroups(text.substr(gap + 2));
  return left >= 0 && right >= 0 && left + right < 8;
}

bool isCidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || !isDigits(s, slash + 1, s.size())) return false;
  std::string ip = s.substr(0, slash);
  int bits = std::stoi(s.substr(slash + 1, 4));
  if (isIPv4(ip)) return bits <= 32;
  return isIPv6(ip) && bits <= 128;
}

bool isFormat(const std::string& normalized, const std::string& v) {
  auto re = [&](const char* pattern) {
    return fixedPattern(std::string("(?i)") + pattern).find(v);
  };
  if (normalized == "datetime") return isDateTime(v);
  if (normalized == "date") return isDate(v);
  if (normalized == "duration") return isDuration(v);
  if (normalized == "uuid")
    return re(R"(^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$)");
  if (normalized == "uuid3")
    return re(R"(^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$)");
  if (normalized == "uuid4")
    return re(R"(^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$)");
  if (normalized == "uuid5")
    return re(R"(^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$)");
  if (normalized == "byte")
    return re(
        R"(^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$)");
  if (normalized == "ipv4") return isIPv4(v);
  if (normalized == "ipv6") return isIPv6(v);
  if (normalized == "cidr") return isCidr(v);
  if (normalized == "mac") return re(R"(^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$)");
  if (normalized == "hexcolor") return re(R"(^#?([0-9a-f]{3}|[0-9a-f]{6})$)");
  if (normalized == "bsonobjectid") return re(R"(^[0-9a-f]{24}$)");
  if (normalized == "hostname") {
    return re(R"(^([a-z0-9]((-?[a-z0-9]{0,62})?)|)"
              R"(([a-z0-9](([a-z0-9-]{0,61}[a-z0-9])?)(\.)){1,}([a-z]){2,63})$)");
  }
  if (normalized == "email") return re(R"(^[^@\s]+@[^@\s]+$)");
  if (normalized == "quantity") {
    return re(R"(^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$)");
  }
  // uri, isbn, creditcard, ssn, rgbcolor and password are accepted as written.
  return true;
}

std::pair<std::string, std::string> dataType(const json& v) {
  if (v.is_boolean()) return {"boolean", ""};
  if (v.is_string()) return {"string", ""};
  if (v.is_number_float()) return {"number", "float64"};
  if (v.is_number()) return {"integer", "int64"};
  if (v.is_array()) return {"array", ""};
  if (v.is_object()) return {"object", ""};
  return {"null", ""};
}

// swag.IsFloat64AJSONInteger.
bool isIntegral(double f) {
  if (std::isnan(f) || std::isinf(f) || std::fabs(f) > 9007199254740992.0) return false;
  double g = std::trunc(f);
  if (f == g) return true;
  double diff = std::fabs(f - g);
  return diff / std::min(std::fabs(f) + std::fabs(g), std::numeric_limits<double>::max()) < 1e-9;
}

void validate(const json& data, const json& s, const Loc& at, Problems& out);

void checkType(const json& data, const json& s, const Loc& at, Problems& out) {
  std::vector<std::string> types = schemaTypes(s);
  std::string format = effectiveFormat(s, types);
  if (types.empty() && format.empty()) return;
  auto contains = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) != types.end();
  };
  if (data.is_null()) {
    if (!types.empty() && !contains("null") && !nullable(s)) {
      out.push_back(invalidType(at, join(types, ","), "null"));
    }
    return;
  }
  auto [schType, dataFormat] = dataType(data);
  bool isFloatInt = schType == "number" && isIntegral(data.get<double>()) && contains("integer");
  bool isIntFloat = schType == "integer" && contains("number");
  bool stringOrArray = data.is_string() || data.is_array();
  if (!stringOrArray && !format.empty() &&
      !(contains(schType) || dataFormat == format || isFloatInt || isIntFloat)) {
    out.push_back(invalidType(at, format, dataFormat));
    return;
  }
  // kube-openapi skips the type check of strings and arrays against a
  // (string) format.
  if (!(contains("number") || contains("integer")) && !format.empty() && stringOrArray) return;
  if (!(contains(schType) || isFloatInt || isIntFloat)) {
    out.push_back(invalidType(at, join(types, ","), schType));
  }
}

// Marks the errors of the alternative that stands for a failed anyOf/oneOf.
void explainedBy(Problems& problems, const Loc& at) {
  for (Problem& p : problems) {
    if (!p.alternativeOf) p.alternativeOf = at.pointer;
  }
}

// The alternatives of anyOf/oneOf that fail are represented by the one with
// the fewest errors (kube-openapi keeps the one that matched most).
void checkComposition(const json& data, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  auto alternatives = [&](const char* name) {
    std::vector<const json*> subs;
    if (const json* list = member(s, name); list && list->is_array()) {
      for (const auto& sub : *list) {
        if (sub.is_object()) subs.push_back(&sub);
      }
    }
    return subs;
  };
  if (auto anyOf = alternatives("anyOf"); !anyOf.empty()) {
    std::optional<Problems> best;
    bool succeeded = false;
    for (const json* sub : anyOf) {
      Problems r;
      validate(data, *sub, at, r);
      if (r.empty()) {
        succeeded = true;
        break;
      }
      if (!best || r.size() < best->size()) best = std::move(r);
    }
    if (!succeeded) {
      out.push_back(plain(at, goQuote(path) + " must validate at least one schema (anyOf)"));
      explainedBy(*best, at);
      out.insert(out.end(), best->begin(), best->end());
    }
  }
  if (auto oneOf = alternatives("oneOf"); !oneOf.empty()) {
    std::optional<Problems> best;
    int validated = 0;
    for (const json* sub : oneOf) {
      Problems r;
      validate(data, *sub, at, r);
      if (r.empty()) {
        ++validated;
      } else if (validated == 0 && (!best || r.size() < best->size())) {
        best = std::move(r);
      }
    }
    if (validated != 1) {
      std::string detail = validated == 0
                               ? "Found none valid"
                               : "Found " + std::to_string(validated) + " valid alternatives";
      out.push_back(
          plain(at, goQuote(path) + " must validate one and only one schema (oneOf). " + detail));
      if (validated == 0 && best) {
        explainedBy(*best, at);
        out.insert(out.end(), best->begin(), best->end());
      }
    }
  }
  if (auto allOf = alternatives("allOf"); !allOf.empty()) {
    size_t validated = 0;
    for (const json* sub : allOf) {
      Problems r;
      validate(data, *sub, at, r);
      if (r.empty()) ++validated;
      out.insert(out.end(), r.begin(), r.end());
    }
    if (validated != allOf.size()) {
      out.push_back(plain(at, goQuote(path) + " must validate all the schemas (allOf)" +
                                  (validated == 0 ? ". None validated" : "")));
    }
  }
  if (const json* notSchema = objectMember(s, "not")) {
    Problems r;
    validate(data, *notSchema, at, r);
    if (r.empty()) out.push_back(plain(at, goQuote(path) + " must not validate the schema (not)"));
  }
}

size_t runeCount(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void checkString(const std::string& value, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  int64_t length = static_cast<int64_t>(runeCount(value));
  if (auto max = intMember(s, "maxLength"); max && length > *max) {
    Problem p =
        problem(Problem::Code::TooLong, at, json(value),
                path + " in body should be at most " + std::to_string(*max) + " chars long");
    p.valid = *max;
    out.push_back(std::move(p));
    return;
  }
  if (auto min = intMember(s, "minLength"); min && length < *min) {
    out.push_back(
        problem(Problem::Code::Other, at, json(value),
                path + " in body should be at least " + std::to_string(*min) + " chars long"));
    return;
  }
  const json* pattern = member(s, "pattern");
  if (pattern && pattern->is_string() && !pattern->get<std::string>().empty()) {
    std::string p = pattern->get<std::string>();
    const PatternResult& re = compilePattern(p);
    if (!re.ok()) {
      // Unreachable through the API (a CRD with such a pattern is refused);
      // kube-openapi's errors.FailedPattern text with the reason.
      out.push_back(problem(Problem::Code::Other, at, json(value),
                            path + " in body should match '" + p +
                                ", but pattern is invalid: " + re.error().message + "'"));
    } else if (!re->find(value)) {
      out.push_back(problem(Problem::Code::Other, at, json(value),
                            path + " in body should match '" + p + "'"));
    }
  }
}

// validate.IsValueValidAgainstRange: whether a number fits the schema's
// integer/number format.
std::optional<std::string> rangeError(const json& value, const std::string& typeName,
                                      const std::string& format, const std::string& prefix,
                                      const std::string& path) {
  std::string rep = value.is_number_float() ? plainFloat(value.get<double>()) : value.dump();
  bool ok = true;
  if (typeName == "integer") {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(rep.c_str(), &end, 10);
    ok = *end == '\0' && errno != ERANGE;
    if (ok && format == "int32")
      ok = v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
  } else if (format == "float") {
    ok = std::fabs(value.get<double>()) <= std::numeric_limits<float>::max();
  }
  if (ok) return std::nullopt;
  if (!format.empty()) {
    return prefix + " value must be of type " + typeName + " with format " + format + " in " + path;
  }
  return prefix + " value must be of type " + typeName + " (default format) in " + path;
}

void checkNumber(const json& data, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  std::vector<std::string> types = schemaTypes(s);
  std::string typeName;
  std::string format;
  if (types.size() == 1 && (types[0] == "integer" || types[0] == "number")) {
    typeName = types[0];
    std::string f = s.value("format", "");
    if ((typeName == "integer" && (f == "int32" || f == "int64")) ||
        (typeName == "number" && (f == "float" || f == "double"))) {
      format = f;
    }
  }
  if (auto err = rangeError(data, typeName, format, "Checked", path))
    out.push_back(plain(at, *err));
  bool intData = isInteger(data);
  double asFloat = data.get<double>();

  if (auto factor = numberMember(s, "multipleOf")) {
    auto boundary = rangeError(json(*factor), typeName, format, "MultipleOf", path);
    if (boundary) out.push_back(plain(at, *boundary));
    if (!boundary && intData) {
      int64_t f = static_cast<int64_t>(*factor);
      int64_t v = data.get<int64_t>();
      if (f <= 0) {
        out.push_back(problem(
            Problem::Code::Other, at, json(f),
            "factor MultipleOf declared for " + path + " must be positive: " + std::to_string(f)));
      } else if (v % f != 0) {
        out.push_back(problem(Problem::Code::Other, at, data,
                              path + " in body should be a multiple of " + std::to_string(f)));
      }
    } else if (*factor <= 0) {
      out.push_back(problem(
          Problem::Code::Other, at, json(*factor),
          "factor MultipleOf declared for " + path + " must be positive: " + goFloat(*factor)));
    } else {
      double mult = *factor < 1 ? 1 / *factor * asFloat : asFloat / *factor;
      if (!isIntegral(mult)) {
        out.push_back(problem(Problem::Code::Other, at, data,
                              path + " in body should be a multiple of " + goFloat(*factor)));
      }
    }
  }

  auto bound = [&](const char* name, const char* exclusiveName, bool isMax) {
    auto limit = numberMember(s, name);
    if (!limit) return;
    bool exclusive = flag(s, exclusiveName);
    auto boundary = rangeError(json(*limit), typeName, format,
                               isMax ? "Maximum boundary" : "Minimum boundary", path);
    if (boundary) out.push_back(plain(at, *boundary));
    bool fails = false;
    std::string shown;
    if (!boundary && intData) {
      int64_t l = static_cast<int64_t>(*limit);
      int64_t v = data.get<int64_t>();
      fails = isMax ? (exclusive ? v >= l : v > l) : (exclusive ? v <= l : v < l);
      shown = std::to_string(l);
    } else {
      fails = isMax ? (exclusive ? asFloat >= *limit : asFloat > *limit)
                    : (exclusive ? asFloat <= *limit : asFloat < *limit);
      shown = goFloat(*limit);
    }
    if (!fails) return;
    std::string relation = isMax ? (exclusive ? "less than " : "less than or equal to ")
                                 : (exclusive ? "greater than " : "greater than or equal to ");
    out.push_back(
        problem(Problem::Code::Other, at, data, path + " in body should be " + relation + shown));
  };
  bound("maximum", "exclusiveMaximum", true);
  bound("minimum", "exclusiveMinimum", false);
}

void checkArray(const json& data, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  if (const json* items = itemsSchema(s)) {
    for (size_t i = 0; i < data.size(); ++i) validate(data[i], *items, at.index(i), out);
  }
  int64_t size = static_cast<int64_t>(data.size());
  if (auto min = intMember(s, "minItems"); min && size < *min) {
    out.push_back(
        problem(Problem::Code::Other, at, json(size),
                path + " in body should have at least " + std::to_string(*min) + " items"));
  }
  if (auto max = intMember(s, "maxItems"); max && size > *max) {
    Problem p = problem(Problem::Code::MaxItems, at, json(size),
                        path + " in body should have at most " + std::to_string(*max) + " items");
    p.valid = *max;
    out.push_back(std::move(p));
  }
  if (flag(s, "uniqueItems")) {
    for (size_t i = 0; i < data.size(); ++i) {
      if (std::find(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(i), data[i]) !=
          data.begin() + static_cast<std::ptrdiff_t>(i)) {
        out.push_back(problem(Problem::Code::Other, at, std::nullopt,
                              path + " in body shouldn't contain duplicates"));
        break;
      }
    }
  }
}

void checkEnum(const json& data, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  const json* values = member(s, "enum");
  if (!values || !values->is_array() || values->empty()) return;
  // A null value matches no enum entry, not even null (basicCommonValidator).
  if (!data.is_null() && std::find(values->begin(), values->end(), data) != values->end()) return;
  Problem p =
      problem(Problem::Code::Enum, at, data, path + " in body should be one of " + values->dump());
  p.values = *values;
  out.push_back(std::move(p));
}

void checkObject(const json& data, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  int64_t keys = static_cast<int64_t>(data.size());
  if (auto min = intMember(s, "minProperties"); min && keys < *min) {
    out.push_back(
        problem(Problem::Code::Other, at, json(keys),
                path + " in body should have at least " + std::to_string(*min) + " properties"));
  }
  if (auto max = intMember(s, "maxProperties"); max && keys > *max) {
    Problem p =
        problem(Problem::Code::TooManyProperties, at, json(keys),
                path + " in body should have at most " + std::to_string(*max) + " properties");
    p.valid = *max;
    out.push_back(std::move(p));
  }
  const json* ap = member(s, "additionalProperties");
  if (ap && ap->is_boolean() && !ap->get<bool>()) {
    for (const auto& [k, v] : data.items()) {
      if (!propertySchema(s, k)) {
        out.push_back(problem(Problem::Code::Other, at, json(k),
                              path + "." + k + " in body is a forbidden property"));
      }
    }
  } else if (const json* apSchema = additionalSchema(s)) {
    for (const auto& [k, v] : data.items()) {
      if (!propertySchema(s, k)) validate(v, *apSchema, at.dotted(k), out);
    }
  }
  if (const json* props = objectMember(s, "properties")) {
    for (const auto& [name, prop] : props->items()) {
      auto it = data.find(name);
      if (it != data.end() && prop.is_object()) validate(*it, prop, at.child(name), out);
    }
  }
  if (const json* required = member(s, "required"); required && required->is_array()) {
    for (const auto& r : *required) {
      if (r.is_string() && !data.contains(r.get<std::string>())) {
        out.push_back(problem(Problem::Code::Required, at.dotted(r.get<std::string>()),
                              std::nullopt,
                              path + "." + r.get<std::string>() + " in body is required"));
      }
    }
  }
}

// SchemaValidator.Validate: the type, composition, string, format, number,
// array, enum and object validators in that order.
void validate(const json& data, const json& s, const Loc& at, Problems& out) {
  const std::string& path = at.name;
  checkType(data, s, at, out);
  if (data.is_null()) {
    checkEnum(data, s, at, out);
    return;
  }
  checkComposition(data, s, at, out);
  if (data.is_string()) {
    std::string value = data.get<std::string>();
    checkString(value, s, at, out);
    std::string format = effectiveFormat(s, schemaTypes(s));
    if (!format.empty() && !isFormat(normalizeFormat(format), value)) {
      out.push_back(problem(Problem::Code::InvalidType, at, data,
                            path + " in body must be of type " + format + ": " + goQuote(value)));
    }
  }
  if (data.is_number()) checkNumber(data, s, at, out);
  if (data.is_array()) checkArray(data, s, at, out);
  checkEnum(data, s, at, out);
  if (data.is_object()) checkObject(data, s, at, out);
}

// kubeOpenAPIResultToFieldErrors.
FieldError fieldError(const Problem& p) {
  using Code = Problem::Code;
  if (p.code == Code::Plain)
    return {"FieldValueInvalid", "Invalid value: \"\": " + p.message, "<nil>", p.pointer};
  std::string field = p.name;
  if (!field.empty() && field[0] == '.') field.erase(0, 1);
  if (field.empty()) field = "<nil>";
  json value = p.value.value_or(json(""));
  switch (p.code) {
    case Code::Required:
      return {"FieldValueRequired", "Required value", field, p.pointer};
    case Code::Enum: {
      std::vector<std::string> quoted;
      for (const auto& v : p.values)
        quoted.push_back(goQuote(v.is_string() ? v.get<std::string>() : v.dump()));
      std::string message = "Unsupported value: " + renderValue(value);
      if (!quoted.empty()) message += ": supported values: " + join(quoted, ", ");
      return {"FieldValueNotSupported", message, field, p.pointer};
    }
    case Code::TooLong: {
      std::string detail = p.valid >= 0 ? "may not be more than " + std::to_string(p.valid) +
                                              (p.valid == 1 ? " byte" : " bytes")
                                        : "value is too long";
      return {"FieldValueTooLong", "Too long: " + detail, field, p.pointer};
    }
    case Code::MaxItems:
    case Code::TooManyProperties: {
      int64_t actual = value.is_number_integer() ? value.get<int64_t>() : -1;
      std::string detail = p.valid >= 0 ? "must have at most " + std::to_string(p.valid) +
                                              (p.valid == 1 ? " item" : " items")
                                        : "has too many items";
      std::string shown = actual >= 0 ? std::to_string(actual) + ": " : "";
      return {"FieldValueTooMany", "Too many: " + shown + detail, field, p.pointer};
    }
    case Code::InvalidType:
      return {"FieldValueTypeInvalid", "Invalid value: " + renderValue(value) + ": " + p.message,
              field, p.pointer};
    default:
      return {"FieldValueInvalid", "Invalid value: " + renderValue(value) + ": " + p.message, field,
              p.pointer};
  }
}

FieldError toFieldError(const Problem& p) {
  FieldError e = fieldError(p);
  e.alternativeOf = p.alternativeOf;
  return e;
}

// ---------------------------------------------------------------------------
// Embedded resources (pkg/apiserver/schema/objectmeta/validation.go)

void checkEmbedded(const json& x, const json* s, const Loc& at, std::vector<FieldError>& out) {
  if (!s) return;
  if (x.is_object()) {
    if (flag(*s, "x-kubernetes-embedded-resource")) {
      for (const char* name : {"apiVersion", "kind"}) {
        Loc where = at.child(name);
        const std::string& field = where.name;
        auto it = x.find(name);
        if (it == x.end()) {
          out.push_back(
              {"FieldValueRequired", "Required value: must not be empty", field, where.pointer});
        } else if (!it->is_string()) {
          out.push_back({"FieldValueInvalid",
                         "Invalid value: " + renderValue(*it) + ": must be a string", field,
                         where.pointer});
        } else if (it->get<std::string>().empty()) {
          out.push_back({"FieldValueInvalid", "Invalid value: \"\": must not be empty", field,
                         where.pointer});
        } else if (std::string(name) == "apiVersion" &&
                   std::count(it->get_ref<const std::string&>().begin(),
                              it->get_ref<const std::string&>().end(), '/') > 1) {
          out.push_back({"FieldValueInvalid",
                         "Invalid value: " + renderValue(*it) +
                             ": unexpected GroupVersion string: " + it->get<std::string>(),
                         field, where.pointer});
        }
      }
    }
    for (const auto& [k, v] : x.items()) {
      if (const json* prop = propertySchema(*s, k)) {
        checkEmbedded(v, prop, at.child(k), out);
      } else if (const json* ap = additionalSchema(*s)) {
        checkEmbedded(v, ap, at.bracketed(k), out);
      }
    }
  } else if (x.is_array()) {
    for (size_t i = 0; i < x.size(); ++i) checkEmbedded(x[i], itemsSchema(*s), at.index(i), out);
  }
}

// ---------------------------------------------------------------------------
// x-kubernetes-list-type (pkg/apiserver/schema/listtype/validation.go)

void checkListTypes(const json& x, const json* s, const Loc& at, std::vector<FieldError>& out) {
  const std::string& path = at.name;
  if (!s) return;
  if (x.is_object()) {
    if (const json* ap = additionalSchema(*s)) {
      for (const auto& [k, v] : x.items()) checkListTypes(v, ap, at.bracketed(k), out);
    }
    for (const auto& [k, v] : x.items()) {
      if (const json* prop = propertySchema(*s, k)) checkListTypes(v, prop, at.child(k), out);
    }
    return;
  }
  if (!x.is_array()) return;
  std::string listType = s->value("x-kubernetes-list-type", "");
  const json* items = itemsSchema(*s);
  auto duplicate = [&](size_t i, const json& value) {
    out.push_back({"FieldValueDuplicate", "Duplicate value: " + renderValue(value),
                   indexPath(path, i), at.index(i).pointer});
  };
  if (listType == "set") {
    std::map<std::string, int> seen;
    for (size_t i = 0; i < x.size(); ++i) {
      if (++seen[x[i].dump()] == 2) duplicate(i, x[i]);
    }
  } else if (listType == "map") {
    bool objects = true;
    for (size_t i = 0; i < x.size() && objects; ++i) {
      if (!x[i].is_null() && !x[i].is_object()) {
        out.push_back({"FieldValueInvalid",
                       "Invalid value: " + renderValue(x[i]) +
                           ": must be an object for an array of list-type map",
                       indexPath(path, i), at.index(i).pointer});
        objects = false;
      }
    }
    std::vector<std::string> keys;
    if (const json* k = member(*s, "x-kubernetes-list-map-keys"); k && k->is_array()) {
      for (const auto& key : *k) {
        if (key.is_string()) keys.push_back(key.get<std::string>());
      }
    }
    if (objects && x.size() > 1 && !keys.empty()) {
      std::map<std::string, int> seen;
      for (size_t i = 0; i < x.size(); ++i) {
        json identity = json::object();
        for (const auto& key : keys) {
          if (x[i].is_object() && x[i].contains(key)) {
            identity[key] = x[i][key];
          } else if (const json* keySchema = items ? propertySchema(*items, key) : nullptr;
                     keySchema && keySchema->contains("default")) {
            identity[key] = (*keySchema)["default"];
          } else {
            identity[key] = json::object();
          }
        }
        if (++seen[identity.dump()] == 2) duplicate(i, identity);
      }
    }
  }
  if (items) {
    for (size_t i = 0; i < x.size(); ++i) checkListTypes(x[i], items, at.index(i), out);
  }
}

// ---------------------------------------------------------------------------
// Structural schema checks (pkg/apiserver/schema/validation.go and the CRD
// OpenAPI validation in pkg/apis/apiextensions/validation/validation.go)

struct SchemaProblem {
  enum class Type { Required, Forbidden, Invalid } type;
  std::string field;
  std::string detail;
  json value;

  std::string body() const {
    switch (type) {
      case Type::Required:
        return "Required value: " + detail;
      case Type::Forbidden:
        return "Forbidden: " + detail;
      case Type::Invalid:
        return "Invalid value: " + renderValue(value) + ": " + detail;
    }
    return detail;
  }
  std::string reason() const {
    switch (type) {
      case Type::Required:
        return "FieldValueRequired";
      case Type::Forbidden:
        return "FieldValueForbidden";
      case Type::Invalid:
        return "FieldValueInvalid";
    }
    return "FieldValueInvalid";
  }
};

enum class Level { Root, Item, Field };

class StructuralChecker {
 public:
  std::vector<SchemaProblem> problems;

  void node(const json& s, Level level, const std::string& path) {
    if (!s.is_object()) return;
    std::string type = s.value("type", "");
    bool preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    bool embedded = flag(s, "x-kubernetes-embedded-resource");
    bool intOrString = flag(s, "x-kubernetes-int-or-string");
    const json* props = objectMember(s, "properties");
    const json* ap = member(s, "additionalProperties");

    if (s.contains("$ref")) forbidden(path + ".$ref", "$ref is not supported");
    if (flag(s, "uniqueItems")) {
      forbidden(path + ".uniqueItems",
                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
    }
    if (props && !props->empty() && ap && !(ap->is_boolean() && ap->get<bool>())) {
      forbidden(path + ".additionalProperties",
                "additionalProperties and properties are mutual exclusive");
    }
    if (s.value("x-kubernetes-list-type", "") == "map" &&
        !s.contains("x-kubernetes-list-map-keys")) {
      required(path + ".x-kubernetes-list-map-keys",
               "must not be empty if x-kubernetes-list-type is map");
    }

    if (type == "array" && !s.contains("items")) required(path + ".items", "must be specified");
    if (const json* items = objectMember(s, "items")) node(*items, Level::Item, path + ".items");
    if (props) {
      for (const auto& [k, v] : props->items())
        node(v, Level::Field, path + ".properties[" + k + "]");
    }
    if (ap) {
      if (level == Level::Root)
        forbidden(path + ".additionalProperties", "must not be used at the root");
      if (ap->is_object()) node(*ap, Level::Field, path + ".additionalProperties");
    }
    if (intOrString && preserve) {
      invalid(path + ".x-kubernetes-preserve-unknown-fields", true,
              "must be false if x-kubernetes-int-or-string is true");
    }
    if (intOrString && embedded) {
      invalid(path + ".x-kubernetes-embedded-resource", true,
              "must be false if x-kubernetes-int-or-string is true");
    }
    valueValidation(s, isIntOrStringAnyOf(s), isIntOrStringAllOf(s), level, path);

    bool checkMetadata = level == Level::Root || embedded;
    if (embedded && type != "object") {
      if (type.empty()) {
        required(path + ".type", "must be object if x-kubernetes-embedded-resource is true");
      } else {
        invalid(path + ".type", type, "must be object if x-kubernetes-embedded-resource is true");
      }
    } else if (type.empty() && !intOrString && !preserve) {
      const char* detail = level == Level::Root   ? "must not be empty at the root"
                           : level == Level::Item ? "must not be empty for specified array items"
                                                  : "must not be empty for specified object fields";
      required(path + ".type", detail);
    }
    if (embedded && ap)
      forbidden(path + ".additionalProperties",
                "must not be used if x-kubernetes-embedded-resource is set");
    if (level == Level::Root && !type.empty() && type != "object")
      invalid(path + ".type", type, "must be object at the root");
    if (checkMetadata && props) {
      for (const char* name : {"kind", "apiVersion"}) {
        if (const json* p = propertySchema(s, name); p && p->value("type", "") != "string") {
          invalid(path + ".properties[" + name + "].type", p->value("type", ""), "must be string");
        }
      }
      if (const json* m = propertySchema(s, "metadata"); m && m->value("type", "") != "object") {
        invalid(path + ".properties[metadata].type", m->value("type", ""), "must be object");
      }
    }
    if (level == Level::Root) {
      if (const json* m = propertySchema(s, "metadata")) {
        // validateStructuralMetadataInvariants: type and default aside, and
        // properties naming only name and/or generateName, nothing may be
        // set (not even a description).
        json rest = *m;
        for (const char* allowed : {"type", "default"}) rest.erase(allowed);
        if (const json* mp = objectMember(*m, "properties")) {
          json others = *mp;
          others.erase("name");
          others.erase("generateName");
          if (others.empty()) rest.erase("properties");
        }
        if (!rest.empty()) {
          forbidden(path + ".properties[metadata]",
                    "must not specify anything other than name and generateName, but metadata is "
                    "implicitly specified");
        }
      }
    }
    if (embedded && !preserve && (!props || props->empty())) {
      required(path + ".properties",
               "must not be empty if x-kubernetes-embedded-resource is true without "
               "x-kubernetes-preserve-unknown-fields");
    }
  }

 private:
  void required(const std::string& field, const std::string& detail) {
    problems.push_back({SchemaProblem::Type::Required, field, detail, json()});
  }
  void forbidden(const std::string& field, const std::string& detail) {
    problems.push_back({SchemaProblem::Type::Forbidden, field, detail, json()});
  }
  void invalid(const std::string& field, const json& value, const std::string& detail) {
    problems.push_back({SchemaProblem::Type::Invalid, field, detail, value});
  }

  static bool isIntOrStringPair(const json* list) {
    static const json pair = json::parse(R"([{"type":"integer"},{"type":"string"}])");
    return list && *list == pair;
  }
  static bool isIntOrStringAnyOf(const json& s) { return isIntOrStringPair(member(s, "anyOf")); }
  static bool isIntOrStringAllOf(const json& s) {
    const json* allOf = member(s, "allOf");
    return allOf && allOf->is_array() && !allOf->empty() && (*allOf)[0].is_object() &&
           isIntOrStringPair(member((*allOf)[0], "anyOf"));
  }

  void valueValidation(const json& v, bool skipAnyOf, bool skipFirstAllOfAnyOf, Level level,
                       const std::string& path) {
    auto each = [&](const char* name, auto&& fn) {
      if (const json* list = member(v, name); list && list->is_array()) {
        for (size_t i = 0; i < list->size(); ++i)
          fn((*list)[i], i, path + "." + name + "[" + std::to_string(i) + "]");
      }
    };
    if (!skipAnyOf)
      each("anyOf",
           [&](const json& n, size_t, const std::string& p) { nested(n, false, level, p); });
    each("allOf", [&](const json& n, size_t i, const std::string& p) {
      nested(n, skipFirstAllOfAnyOf && i == 0, level, p);
    });
    each("oneOf", [&](const json& n, size_t, const std::string& p) { nested(n, false, level, p); });
    if (const json* notSchema = objectMember(v, "not"))
      nested(*notSchema, false, level, path + ".not");
    if (const json* pattern = member(v, "pattern"); pattern && pattern->is_string()) {
      const PatternResult& re = compilePattern(pattern->get<std::string>());
      if (!re.ok()) {
        invalid(path + ".pattern", *pattern,
                "must be a valid regular expression, but isn't: " + re.error().message);
      }
    }
  }

  // validateNestedValueValidation: under allOf/anyOf/oneOf/not only value
  // validations may appear.
  void nested(const json& v, bool skipAnyOf, Level level, const std::string& path) {
    if (!v.is_object()) return;
    valueValidation(v, skipAnyOf, false, level, path);
    if (const json* items = objectMember(v, "items")) nested(*items, false, level, path + ".items");
    if (const json* props = objectMember(v, "properties")) {
      for (const auto& [k, p] : props->items())
        nested(p, false, Level::Field, path + ".properties[" + k + "]");
    }
    if (!v.value("type", "").empty()) forbidden(path + ".type", "must be empty to be structural");
    if (v.contains("additionalProperties"))
      forbidden(path + ".additionalProperties", "must be undefined to be structural");
    if (v.contains("default")) forbidden(path + ".default", "must be undefined to be structural");
    if (!v.value("title", "").empty()) forbidden(path + ".title", "must be empty to be structural");
    if (!v.value("description", "").empty())
      forbidden(path + ".description", "must be empty to be structural");
    if (flag(v, "nullable")) forbidden(path + ".nullable", "must be false to be structural");
    for (const char* name : {"x-kubernetes-preserve-unknown-fields",
                             "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"}) {
      if (flag(v, name)) forbidden(path + "." + name, "must be false to be structural");
    }
    if (const json* keys = member(v, "x-kubernetes-list-map-keys");
        keys && keys->is_array() && !keys->empty()) {
      forbidden(path + ".x-kubernetes-list-map-keys", "must be empty to be structural");
    }
    if (v.contains("x-kubernetes-list-type"))
      forbidden(path + ".x-kubernetes-list-type", "must be undefined to be structural");
    if (propertySchema(v, "metadata")) {
      forbidden(path + ".properties[metadata]", "must not be specified in a nested context");
    }
  }
};

std::vector<SchemaProblem> structuralProblems(const json& schema, const std::string& fieldPath) {
  StructuralChecker checker;
  if (!schema.is_object()) {
    checker.problems.push_back({SchemaProblem::Type::Required, fieldPath + ".type",
                                "must not be empty at the root", json()});
    return checker.problems;
  }
  checker.node(schema, Level::Root, fieldPath);
  // ValidateStructural sorts by the error text so the order is stable.
  std::stable_sort(checker.problems.begin(), checker.problems.end(),
                   [](const SchemaProblem& a, const SchemaProblem& b) {
                     return a.field + ": " + a.body() < b.field + ": " + b.body();
                   });
  return checker.problems;
}

}  // namespace

void pruneUnknownFields(json& object, const json& schema) {
  if (!schema.is_object()) return;
  prune(object, &schema, true);
  pruneNonNullableNulls(object, &schema);
}

void applyDefaults(json& object, const json& schema) {
  if (!schema.is_object()) return;
  defaultValues(object, &schema);
}

std::vector<FieldError> validateAgainstSchema(const json& object, const json& schema) {
  std::vector<FieldError> causes;
  if (!schema.is_object()) return causes;
  Problems problems;
  validate(object, schema, Loc{}, problems);
  for (const auto& p : problems) causes.push_back(toFieldError(p));
  checkEmbedded(object, &schema, Loc{}, causes);
  checkListTypes(object, &schema, Loc{}, causes);
  return causes;
}

std::vector<FieldError> validateCustomObject(json& object, const json& schema) {
  pruneUnknownFields(object, schema);
  applyDefaults(object, schema);
  return validateAgainstSchema(object, schema);
}

namespace {

void collectUnknown(const json& original, const json& pruned, const Loc& at,
                    std::vector<UnknownField>& out) {
  if (original.is_object() && pruned.is_object()) {
    for (const auto& [k, v] : original.items()) {
      Loc where = at.child(k);
      if (!pruned.contains(k)) {
        if (!v.is_null()) out.push_back({where.name, where.pointer});
      } else {
        collectUnknown(v, pruned[k], where, out);
      }
    }
  } else if (original.is_array() && pruned.is_array() && original.size() == pruned.size()) {
    for (size_t i = 0; i < original.size(); ++i) {
      collectUnknown(original[i], pruned[i], at.index(i), out);
    }
  }
}

}  // namespace

std::vector<UnknownField> unknownFields(const json& original, const json& pruned) {
  std::vector<UnknownField> out;
  collectUnknown(original, pruned, Loc{}, out);
  return out;
}

std::string unknownFieldMessage(const UnknownField& field) {
  return "unknown field \"" + field.path + "\"";
}

std::string invalidMessage(const std::vector<FieldError>& causes) {
  std::vector<std::string> unique;
  for (const auto& c : causes) {
    std::string text = c.field + ": " + c.message;
    if (std::find(unique.begin(), unique.end(), text) == unique.end()) unique.push_back(text);
  }
  if (unique.size() == 1) return unique[0];
  return "[" + join(unique, ", ") + "]";
}

std::vector<std::string> checkStructural(const json& schema) {
  std::vector<std::string> out;
  for (const auto& p : structuralProblems(schema, "")) {
    std::string field = p.field.empty() ? "" : p.field.substr(1);
    out.push_back(field + ": " + p.body());
  }
  return out;
}

std::vector<FieldError> checkStructuralSchema(const json& schema, const std::string& fieldPath) {
  std::vector<FieldError> out;
  for (const auto& p : structuralProblems(schema, fieldPath))
    out.push_back({p.reason(), p.body(), p.field, ""});
  return out;
}

}  // namespace remedy::formats
