#include "api/schema_validator.h"

#include "api/reference.h"

#include <algorithm>
#include <set>

namespace remedy::api {
namespace {

void addError(std::vector<ValidationError>& out, const FieldPath& path, std::string message) {
  out.push_back({path.str(), std::move(message), path.pointer()});
}

bool hasType(const nlohmann::json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  return true;
}

size_t codePoints(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

bool flag(const nlohmann::json& schema, const char* name) {
  auto it = schema.find(name);
  return it != schema.end() && it->is_boolean() && it->get<bool>();
}

std::string typeOfValue(const nlohmann::json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_boolean()) return "boolean";
  return value.type_name();
}

const formats::GoRegexp& dateTimePattern() {
  static const formats::GoRegexp re =
      formats::GoRegexp::compile(
          R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?)"
          R"(([Zz]|[+-][0-9]{2}:[0-9]{2})$)")
          .value();
  return re;
}

// The field names of a oneOf whose branches are each `required: [field]`
// (the discriminated-union idiom), or empty.
std::vector<std::string> unionMembers(const nlohmann::json& oneOf) {
  std::vector<std::string> members;
  for (const auto& branch : oneOf) {
    if (!branch.is_object() || branch.size() != 1 || !branch.contains("required") ||
        branch["required"].size() != 1) {
      return {};
    }
    members.push_back(branch["required"][0].get<std::string>());
  }
  return members;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string displayValue(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

SchemaValidator::SchemaValidator(nlohmann::json schema) : schema_(std::move(schema)) {
  compilePatterns(schema_);
}

void SchemaValidator::compilePatterns(const nlohmann::json& schema) {
  if (schema.is_object()) {
    auto it = schema.find("pattern");
    if (it != schema.end() && it->is_string() && !patterns_.count(*it)) {
      // A pattern that does not compile is a schema bug; the API server
      // refuses such a CRD, and tests/api applies ours to the sandbox.
      auto re = formats::GoRegexp::compile(it->get<std::string>());
      patterns_[*it] = re.ok() ? std::optional<formats::GoRegexp>(re.value()) : std::nullopt;
    }
    for (const auto& [key, child] : schema.items()) {
      if (key != "enum" && key != "required" && key != "default") compilePatterns(child);
    }
  } else if (schema.is_array()) {
    for (const auto& child : schema) compilePatterns(child);
  }
}

const formats::GoRegexp* SchemaValidator::pattern(const std::string& source) const {
  auto it = patterns_.find(source);
  return it == patterns_.end() || !it->second ? nullptr : &*it->second;
}

std::vector<ValidationError> SchemaValidator::validate(const nlohmann::json& object) const {
  std::vector<ValidationError> out;
  validateNode(schema_, object, FieldPath(), false, out);
  return out;
}

void SchemaValidator::validateNode(const nlohmann::json& schema, const nlohmann::json& value,
                                   const FieldPath& path, bool valueOnly,
                                   std::vector<ValidationError>& out) const {
  if (!schema.is_object()) return;
  if (value.is_null()) {
    // The API server prunes null fields that are not nullable, so a null is
    // as good as absent (a required field is reported by its parent).
    return;
  }
  bool intOrString = flag(schema, "x-kubernetes-int-or-string");
  if (intOrString) {
    if (!value.is_number_integer() && !value.is_string()) {
      addError(out, path,
               "Invalid value: " + displayValue(value) + ": must be an integer or a string");
      return;
    }
  } else if (schema.contains("type")) {
    std::string type = schema["type"].get<std::string>();
    if (!hasType(value, type)) {
      addError(out, path,
               "Invalid value: " + displayValue(value) + ": must be of type " + type + ", not " +
                   typeOfValue(value));
      return;
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    if (std::find(it->begin(), it->end(), value) == it->end()) {
      std::string supported;
      for (const auto& e : *it) supported += (supported.empty() ? "" : ", ") + e.dump();
      std::string hint;
      if (value.is_string()) {
        std::vector<std::string> names;
        for (const auto& e : *it) {
          if (e.is_string()) names.push_back(e.get<std::string>());
        }
        if (auto close = closestName(value.get<std::string>(), names)) {
          hint = " (did you mean \"" + *close + "\"?)";
        }
      }
      addError(
          out, path,
          "Unsupported value: " + displayValue(value) + hint + ": supported values: " + supported);
    }
  }
  if (value.is_string()) validateString(schema, value.get<std::string>(), path, out);
  if (value.is_number()) {
    double v = value.get<double>();
    if (auto it = schema.find("minimum"); it != schema.end()) {
      bool exclusive = flag(schema, "exclusiveMinimum");
      if (exclusive ? v <= it->get<double>() : v < it->get<double>()) {
        addError(out, path,
                 "Invalid value: " + displayValue(value) + ": should be greater than " +
                     std::string(exclusive ? "" : "or equal to ") + it->dump());
      }
    }
    if (auto it = schema.find("maximum"); it != schema.end()) {
      bool exclusive = flag(schema, "exclusiveMaximum");
      if (exclusive ? v >= it->get<double>() : v > it->get<double>()) {
        addError(out, path,
                 "Invalid value: " + displayValue(value) + ": should be less than " +
                     std::string(exclusive ? "" : "or equal to ") + it->dump());
      }
    }
  }
  if (value.is_array()) validateArray(schema, value, path, valueOnly, out);
  if (value.is_object()) validateObject(schema, value, path, valueOnly, out);
  if (!intOrString) validateLogic(schema, value, path, out);
}

void SchemaValidator::validateString(const nlohmann::json& schema, const std::string& value,
                                     const FieldPath& path,
                                     std::vector<ValidationError>& out) const {
  size_t length = codePoints(value);
  if (auto it = schema.find("maxLength"); it != schema.end() && length > it->get<size_t>()) {
    addError(out, path, "Too long: may not be longer than " + it->dump());
  }
  if (auto it = schema.find("minLength"); it != schema.end() && length < it->get<size_t>()) {
    addError(out, path,
             "Invalid value: " + displayValue(value) + ": should be at least " + it->dump() +
                 " chars long");
  }
  if (auto it = schema.find("pattern"); it != schema.end()) {
    const formats::GoRegexp* re = pattern(it->get<std::string>());
    if (re != nullptr && !re->find(value)) {
      addError(out, path,
               "Invalid value: " + displayValue(value) + ": should match '" +
                   it->get<std::string>() + "'");
    }
  }
  if (auto it = schema.find("format"); it != schema.end() && *it == "date-time") {
    if (!dateTimePattern().find(value)) {
      addError(out, path,
               "Invalid value: " + displayValue(value) +
                   ": should be a date-time such as 2024-05-01T12:00:00Z");
    }
  }
}

void SchemaValidator::validateArray(const nlohmann::json& schema, const nlohmann::json& value,
                                    const FieldPath& path, bool valueOnly,
                                    std::vector<ValidationError>& out) const {
  if (auto it = schema.find("maxItems"); it != schema.end() && value.size() > it->get<size_t>()) {
    addError(out, path,
             "Too many: " + std::to_string(value.size()) + ": must have at most " + it->dump() +
                 " items");
  }
  if (auto it = schema.find("minItems"); it != schema.end() && value.size() < it->get<size_t>()) {
    addError(out, path,
             "Invalid value: " + std::to_string(value.size()) + " items: must have at least " +
                 it->dump() + " items");
  }
  if (auto it = schema.find("items"); it != schema.end()) {
    for (size_t i = 0; i < value.size(); ++i) {
      validateNode(*it, value[i], path.index(i), valueOnly, out);
    }
  }
  // list-type map: the key fields identify an item, so they must be unique.
  // The error names the key field (the API server names the item).
  if (schema.value("x-kubernetes-list-type", "") == "map" &&
      schema.contains("x-kubernetes-list-map-keys")) {
    std::map<std::string, size_t> seen;
    const auto& keys = schema["x-kubernetes-list-map-keys"];
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_object()) continue;
      nlohmann::json key = nlohmann::json::array();
      for (const auto& k : keys) {
        auto field = value[i].find(k.get<std::string>());
        key.push_back(field == value[i].end() ? nlohmann::json() : *field);
      }
      std::string text = key.size() == 1 ? key[0].dump() : key.dump();
      auto [it, inserted] = seen.emplace(text, i);
      if (!inserted) {
        FieldPath where =
            keys.size() == 1 ? path.index(i).child(keys[0].get<std::string>()) : path.index(i);
        addError(out, where, "Duplicate value: " + text);
      }
    }
  }
  if (schema.value("x-kubernetes-list-type", "") == "set") {
    for (size_t i = 0; i < value.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (value[i] == value[j]) {
          addError(out, path.index(i), "Duplicate value: " + displayValue(value[i]));
          break;
        }
      }
    }
  }
}

void SchemaValidator::validateObject(const nlohmann::json& schema, const nlohmann::json& value,
                                     const FieldPath& path, bool valueOnly,
                                     std::vector<ValidationError>& out) const {
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& properties = schema.contains("properties") ? schema["properties"] : empty;
  bool preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
  const nlohmann::json* additional = nullptr;
  if (auto it = schema.find("additionalProperties"); it != schema.end() && it->is_object()) {
    additional = &*it;
  }
  // metadata is validated by the API server as ObjectMeta, not by the CRD schema.
  bool isRootMetadata = path.str() == "metadata";
  for (auto it = value.begin(); it != value.end(); ++it) {
    auto prop = properties.find(it.key());
    if (prop != properties.end()) {
      validateNode(*prop, it.value(), path.child(it.key()), valueOnly, out);
    } else if (additional != nullptr) {
      validateNode(*additional, it.value(), path.key(it.key()), valueOnly, out);
    } else if (!preserve && !valueOnly && !isRootMetadata) {
      std::vector<std::string> names;
      for (auto p = properties.begin(); p != properties.end(); ++p) names.push_back(p.key());
      std::optional<std::string> close = closestName(it.key(), names);
      addError(out, path.child(it.key()),
               "unknown field \"" + it.key() + "\"" +
                   (close ? " (did you mean \"" + *close + "\"?)" : std::string()));
    }
  }
  if (auto it = schema.find("required"); it != schema.end()) {
    for (const auto& name : *it) {
      auto field = value.find(name.get<std::string>());
      if (field == value.end() || field->is_null()) {
        addError(out, path.child(name.get<std::string>()), "Required value");
      }
    }
  }
  if (auto it = schema.find("maxProperties");
      it != schema.end() && value.size() > it->get<size_t>()) {
    addError(out, path,
             "Too many: " + std::to_string(value.size()) + ": must have at most " + it->dump() +
                 " properties");
  }
  if (auto it = schema.find("minProperties");
      it != schema.end() && value.size() < it->get<size_t>()) {
    addError(out, path,
             "Invalid value: " + displayValue(value) + ": must have at least " + it->dump() +
                 " properties");
  }
}

bool SchemaValidator::matchesBranch(const nlohmann::json& branch,
                                    const nlohmann::json& value) const {
  std::vector<ValidationError> errors;
  // Branches of oneOf/anyOf carry value validations only (structural
  // schemas forbid types and properties there), so undeclared fields are
  // not errors inside them.
  validateNode(branch, value, FieldPath(), true, errors);
  return errors.empty();
}

void SchemaValidator::validateLogic(const nlohmann::json& schema, const nlohmann::json& value,
                                    const FieldPath& path,
                                    std::vector<ValidationError>& out) const {
  if (auto it = schema.find("oneOf"); it != schema.end() && it->is_array()) {
    std::vector<std::string> members = unionMembers(*it);
    std::vector<std::string> present;
    size_t matched = 0;
    for (size_t i = 0; i < it->size(); ++i) {
      if (matchesBranch((*it)[i], value)) {
        ++matched;
        if (!members.empty()) present.push_back(members[i]);
      }
    }
    if (matched != 1) {
      if (!members.empty()) {
        addError(out, path,
                 "Invalid value: must set exactly one of " + joinNames(members) +
                     (present.empty() ? "" : "; found " + joinNames(present)));
      } else {
        addError(
            out, path,
            "Invalid value: " + displayValue(value) + ": must match exactly one schema in oneOf");
      }
    }
  }
  if (auto it = schema.find("anyOf"); it != schema.end() && it->is_array()) {
    bool any = std::any_of(it->begin(), it->end(),
                           [&](const nlohmann::json& b) { return matchesBranch(b, value); });
    if (!any) {
      addError(
          out, path,
          "Invalid value: " + displayValue(value) + ": must match at least one schema in anyOf");
    }
  }
  if (auto it = schema.find("allOf"); it != schema.end() && it->is_array()) {
    for (const auto& branch : *it) validateNode(branch, value, path, true, out);
  }
  if (auto it = schema.find("not"); it != schema.end() && it->is_object()) {
    if (matchesBranch(*it, value)) {
      addError(out, path, "Invalid value: " + displayValue(value) + ": must not match the schema");
    }
  }
}

}  // namespace remedy::api
