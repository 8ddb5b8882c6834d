// YAML and JSON bodies: the API server accepts YAML for apply patches, and
// the CLI reads manifests written in YAML.
#pragma once

#include "sandbox/api_error.h"

#include <string>
#include <vector>

namespace remedy::sandbox {

// Parses JSON, or YAML when allowed (one document).
Result<json> parseBody(const std::string& body, bool allowYaml);
// Every document of a YAML stream, as JSON.
Result<std::vector<json>> parseYamlDocuments(const std::string& text);

}  // namespace remedy::sandbox
