#include "api/field_path.h"

#include "formats/json_pointer.h"

#include <sstream>

namespace remedy::api {

FieldPath FieldPath::parse(const std::string& dotted) {
  FieldPath path;
  std::string part;
  std::istringstream in(dotted);
  while (std::getline(in, part, '.')) {
    if (!part.empty()) path = path.child(part);
  }
  return path;
}

FieldPath FieldPath::child(const std::string& name) const {
  FieldPath copy = *this;
  copy.segments_.push_back({Kind::kField, name, 0});
  return copy;
}

FieldPath FieldPath::index(size_t i) const {
  FieldPath copy = *this;
  copy.segments_.push_back({Kind::kIndex, "", i});
  return copy;
}

FieldPath FieldPath::key(const std::string& key) const {
  FieldPath copy = *this;
  copy.segments_.push_back({Kind::kKey, key, 0});
  return copy;
}

std::string FieldPath::str() const {
  std::string out;
  for (const Segment& s : segments_) {
    switch (s.kind) {
      case Kind::kField:
        if (!out.empty()) out += '.';
        out += s.name;
        break;
      case Kind::kIndex:
        out += '[' + std::to_string(s.index) + ']';
        break;
      case Kind::kKey:
        out += '[' + s.name + ']';
        break;
    }
  }
  return out;
}

std::string FieldPath::pointer() const {
  std::string out;
  for (const Segment& s : segments_) {
    out += '/';
    if (s.kind == Kind::kIndex) {
      out += std::to_string(s.index);
      continue;
    }
    out += formats::escapeJsonPointerToken(s.name);
  }
  return out;
}

}  // namespace remedy::api
