// How deeply JSON text nests, measured before it is parsed.
//
// Code over nlohmann::json values (dump(), schema validation, patches,
// conversions) recurses once per level of arrays and objects, so JSON from
// the network is measured first and refused past kMaxJsonDepth levels. Go's
// encoding/json, which kube-apiserver and Alertmanager use, refuses past
// 10,000 ("exceeded max depth"); Remedy refuses past 1,000, deep enough for
// any Kubernetes object or webhook payload and shallow enough for every
// recursion over it to stay far within a thread's stack.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace remedy::formats {

inline constexpr size_t kMaxJsonDepth = 1000;

// The deepest nesting of arrays and objects in `text`, strings skipped,
// counted without parsing; it stops counting once past `stopAbove`.
size_t jsonNestingDepth(std::string_view text, size_t stopAbove = kMaxJsonDepth);

// "nested more than N levels deep" when `text` nests past `maxDepth`, else "".
std::string jsonDepthProblem(std::string_view text, size_t maxDepth = kMaxJsonDepth);

}  // namespace remedy::formats
