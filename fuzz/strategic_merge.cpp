// Strategic merge patch (src/sandbox/patch.h) on the kinds whose patch
// metadata the sandbox knows. The input is a target document and a patch,
// separated by a newline; the first byte picks the kind.
#include "sandbox/patch.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  static const char* const kKinds[] = {"Deployment",  "Pod",  "Service", "ConfigMap",
                                       "StatefulSet", "Node", "Unknown"};
  if (size < 1) return 0;
  const char* kind = kKinds[data[0] % (sizeof kKinds / sizeof kKinds[0])];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t newline = text.find('\n');
  if (newline == std::string_view::npos) return 0;
  json target = json::parse(text.substr(0, newline), nullptr, false);
  json patch = json::parse(text.substr(newline + 1), nullptr, false);
  if (target.is_discarded() || patch.is_discarded()) return 0;
  auto patched = remedy::sandbox::applyStrategicMergePatch(target, patch, kind);
  if (patched.ok()) (void)patched->dump();
  return 0;
}
