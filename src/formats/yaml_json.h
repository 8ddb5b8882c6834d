// YAML to JSON as Kubernetes converts it: sigs.k8s.io/yaml's YAMLToJSON over
// its copy of go-yaml v2, which kubectl applies to manifests and
// kube-apiserver to application/yaml request bodies and apply patches
// (apimachinery runtime/serializer/json, fieldmanager). YAML 1.1 scalars:
// `y`/`yes`/`on` and `n`/`no`/`off` are booleans, `0755` is octal, `0x1F`
// hexadecimal, `1_000` a thousand; quoted and block scalars are strings;
// timestamps stay strings. Mapping keys are resolved the same way and then
// written as text (`yes:` is the key "true", `0755:` the key "493"). A
// number reads back as encoding/json + the API server's decoder read it:
// an integral float below 1e21 that fits int64 is an integer (`1.0` is 1),
// a uint64 beyond int64 a float. A key defined twice keeps its last value,
// as YAMLToJSON does, and is reported as a problem (YAMLToJSONStrict refuses
// it). Every node's line is kept so errors can point into the file.
#pragma once

#include "formats/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace remedy::formats {

struct YamlDocument {
  nlohmann::json json;
  // 1-based line of each node, keyed by JSON pointer ("" is the document).
  // For a mapping value it is the line of its key.
  std::map<std::string, int> lines;
  // A key defined twice in one mapping.
  struct Duplicate {
    int line;             // of the second definition
    int firstLine;        // of the first
    std::string key;      // the key as JSON has it
    std::string pointer;  // where the value lives
  };
  std::vector<Duplicate> duplicates;

  // The line of `pointer`, or of its nearest ancestor present in the file
  // (a missing required field points at its parent).
  int lineOf(const std::string& pointer) const;
};

// An error of the whole stream: the message, and its 1-based line (0 when
// it has none).
struct YamlError {
  int line = 0;
  std::string message;
};

// Every document of a multi-document stream (`---` separated), as kubectl
// reads a file. Empty documents are skipped. A syntax error, or a value JSON
// cannot hold (a null or non-scalar key, .inf, .nan), fails the whole stream.
Result<std::vector<YamlDocument>, YamlError> parseYamlDocuments(const std::string& text);

// The first document only, as YAMLToJSON reads a request body (null when
// there is none).
Result<YamlDocument, YamlError> parseYamlDocument(const std::string& text);

}  // namespace remedy::formats
