// YAML to JSON the way kubectl converts manifests, with the rules of
// formats/yaml_json.h (sigs.k8s.io/yaml over go-yaml v2: `yes`/`no`/`on`/`off`
// are booleans, `0755` is octal, quoted scalars are always strings), keeping
// the line of every node so errors can point into the file, and a key defined
// twice as a problem with its line.
#pragma once

#include "api/field_path.h"
#include "api/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace remedy::api {

struct YamlDocument {
  nlohmann::json json;
  // 1-based line of each node, keyed by JSON pointer ("" is the document).
  // For a mapping value it is the line of its key.
  std::map<std::string, int> lines;
  // Problems the JSON cannot show, such as a key defined twice, with their line.
  struct Problem {
    int line;
    ValidationError error;
  };
  std::vector<Problem> problems;

  // The line of `pointer`, or of its nearest ancestor present in the file
  // (a missing required field points at its parent).
  int lineOf(const std::string& pointer) const;
};

// Every document of a multi-document stream (`---` separated). Empty
// documents are skipped. A syntax error fails the whole stream, with its line.
Result<std::vector<YamlDocument>> parseYamlDocuments(const std::string& text);

// A single-document convenience: the JSON of the first document.
Result<nlohmann::json> yamlToJson(const std::string& text);

}  // namespace remedy::api
