// The subset of kubectl's JSONPath (k8s.io/client-go/util/jsonpath) used by
// CRD additionalPrinterColumns[].jsonPath and `kubectl wait --for=jsonpath`:
//   .a.b          fields (a backslash escapes a dot: .metadata.labels.app\.kubernetes\.io/name)
//   ['k.with.dots'] ["k"]  quoted fields, also as a union: ['a','b']
//   .a[0] .a[-1] .a[0,2] .a[1:3] .a[::2]   indices, unions and slices
//   .a[*] .a.*    every element or value
//   ..name        recursive descent
//   .a[?(@.type=="Ready")].status   filters: ==, !=, <, <=, >, >= against
//                 string, number, true/false/null literals, or `[?(@.x)]` for presence
// An optional `{...}` around the whole path and a leading `$` are accepted.
// Missing keys and out-of-range indices give no results rather than errors,
// as the API server evaluates printer columns with AllowMissingKeys(true).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sandbox/api_error.h"

namespace remedy::sandbox {

class JsonPath {
 public:
  // Errors are 400 BadRequest naming the offending text.
  static Result<JsonPath> parse(const std::string& path);

  // The values the path selects, in document order (object keys sorted).
  std::vector<json> evaluate(const json& object) const;

  struct Step;

 private:
  std::shared_ptr<const std::vector<Step>> steps_;
};

// Parses and evaluates; a malformed path selects nothing.
std::vector<json> evaluateJsonPath(const json& object, const std::string& path);

}  // namespace remedy::sandbox
