// FieldPath: where in an object a value lives, printed the way Kubernetes
// prints field paths in API errors (`spec.steps[2].scale.replicas`,
// `spec.triggers[0].labels[app.kubernetes.io/name]`), and as an RFC 6901 JSON
// pointer (`/spec/steps/2/scale/replicas`) for looking up source positions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace remedy::api {

class FieldPath {
 public:
  FieldPath() = default;
  // A path of dotted field names, such as "spec.steps".
  static FieldPath parse(const std::string& dotted);

  // A struct field: `.name`.
  FieldPath child(const std::string& name) const;
  // A list element: `[2]`.
  FieldPath index(size_t i) const;
  // A map entry: `[key]`.
  FieldPath key(const std::string& key) const;

  bool empty() const { return segments_.empty(); }
  std::string str() const;
  std::string pointer() const;

 private:
  enum class Kind { kField, kIndex, kKey };
  struct Segment {
    Kind kind;
    std::string name;
    size_t index = 0;
  };
  std::vector<Segment> segments_;
};

// One problem with an object, with the path of the offending field.
// `path` is in Kubernetes' notation, `pointer` the same location as a JSON
// pointer (used to find the line of the field in a YAML file).
struct ValidationError {
  std::string path;
  std::string message;
  std::string pointer;

  // "path: message", or just the message for the whole object.
  std::string str() const { return path.empty() ? message : path + ": " + message; }
};

}  // namespace remedy::api
