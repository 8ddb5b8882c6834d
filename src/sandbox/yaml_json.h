// YAML and JSON bodies: the API server accepts YAML (application/yaml, and
// apply patches), converting it as sigs.k8s.io/yaml does (formats/yaml_json.h:
// YAML 1.1 booleans and octal, as kubectl reads manifests); the CLI reads
// manifests written in YAML.
#pragma once

#include "sandbox/api_error.h"

#include <string>
#include <vector>

namespace remedy::sandbox {

// Parses JSON, or YAML when allowed (the first document, as YAMLToJSON
// reads a body). A YAML body's JSON is the one the real server decodes, so
// an integral number written as a float (`1.0`) is an integer.
Result<json> parseBody(const std::string& body, bool allowYaml);
// Every document of a YAML stream, as JSON.
Result<std::vector<json>> parseYamlDocuments(const std::string& text);

}  // namespace remedy::sandbox
