#include "sandbox/yaml_json.h"

#include "formats/json_depth.h"
#include "formats/yaml_json.h"

#include <cmath>

namespace remedy::sandbox {

namespace {

ApiError yamlError(const formats::YamlError& e) {
  return ApiError::badRequest("error decoding YAML: yaml: line " + std::to_string(e.line) + ": " +
                              e.message);
}

// sigs.k8s.io/yaml writes the converted document with encoding/json, and the
// server's decoder reads it back: an integral float below 2^63 is an int64,
// an integer beyond int64 a float64 (the same conversion as
// formats::parseYamlDocument, for a YAML body that is JSON text).
void asYamlToJsonReadsIt(json& value) {
  if (value.is_number_float()) {
    double f = value.get<double>();
    if (std::isfinite(f) && std::trunc(f) == f && std::fabs(f) < 9.2233720368547758e18) {
      value = static_cast<int64_t>(f);
    }
  } else if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      value = static_cast<double>(value.get<uint64_t>());
    }
  } else if (value.is_structured()) {
    for (auto& child : value) asYamlToJsonReadsIt(child);
  }
}

}  // namespace

Result<json> parseBody(const std::string& body, bool allowYaml) {
  // kube-apiserver (Go's encoding/json) refuses past 10,000 levels; the
  // sandbox, whose code over the body recurses, past formats::kMaxJsonDepth.
  if (std::string problem = formats::jsonDepthProblem(body); !problem.empty()) {
    return ApiError::badRequest("error decoding " + std::string(allowYaml ? "YAML" : "JSON") +
                                ": " + problem);
  }
  try {
    json parsed = json::parse(body);
    if (allowYaml) asYamlToJsonReadsIt(parsed);
    return parsed;
  } catch (const json::exception& e) {
    if (!allowYaml) {
      return ApiError::badRequest(std::string("error decoding JSON: ") + e.what());
    }
  }
  auto doc = formats::parseYamlDocument(body);
  if (!doc.ok()) return yamlError(doc.error());
  return std::move(doc->json);
}

Result<std::vector<json>> parseYamlDocuments(const std::string& text) {
  auto docs = formats::parseYamlDocuments(text);
  if (!docs.ok()) return yamlError(docs.error());
  std::vector<json> out;
  for (auto& doc : docs.value()) out.push_back(std::move(doc.json));
  return out;
}

}  // namespace remedy::sandbox
