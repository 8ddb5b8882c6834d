#include "sandbox/yaml_json.h"

#include "formats/go_regexp.h"

#include <yaml-cpp/yaml.h>

namespace remedy::sandbox {

namespace {

// YAML 1.2 core-schema scalars, as sigs.k8s.io/yaml resolves plain scalars.
json scalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  static const formats::GoRegexp intRe = formats::GoRegexp::compile("^[-+]?[0-9]+$").value();
  static const formats::GoRegexp floatRe =
      formats::GoRegexp::compile("^[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$")
          .value();
  if (intRe.find(s)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (floatRe.find(s)) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : node) o[kv.first.as<std::string>()] = toJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& v : node) a.push_back(toJson(v));
      return a;
    }
    case YAML::NodeType::Scalar:
      return scalarToJson(node);
    default:
      return nullptr;
  }
}

}  // namespace

Result<json> parseBody(const std::string& body, bool allowYaml) {
  try {
    return json::parse(body);
  } catch (const json::exception& e) {
    if (!allowYaml) {
      return ApiError::badRequest(std::string("error decoding JSON: ") + e.what());
    }
  }
  try {
    return toJson(YAML::Load(body));
  } catch (const YAML::Exception& e) {
    return ApiError::badRequest(std::string("error decoding YAML: ") + e.what());
  }
}

Result<std::vector<json>> parseYamlDocuments(const std::string& text) {
  try {
    std::vector<json> docs;
    for (const auto& node : YAML::LoadAll(text)) {
      if (node.IsNull()) continue;
      docs.push_back(toJson(node));
    }
    return docs;
  } catch (const YAML::Exception& e) {
    return ApiError::badRequest(std::string("error decoding YAML: ") + e.what());
  }
}

}  // namespace remedy::sandbox
