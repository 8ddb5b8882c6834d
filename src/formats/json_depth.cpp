#include "formats/json_depth.h"

#include <algorithm>

namespace remedy::formats {

size_t jsonNestingDepth(std::string_view text, size_t stopAbove) {
  size_t depth = 0;
  size_t deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > stopAbove) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string jsonDepthProblem(std::string_view text, size_t maxDepth) {
  if (jsonNestingDepth(text, maxDepth) <= maxDepth) return "";
  return "arrays and objects nested more than " + std::to_string(maxDepth) + " levels deep";
}

}  // namespace remedy::formats
