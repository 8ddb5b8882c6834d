// JSON patch (RFC 6902) and JSON merge patch (RFC 7386) as the sandbox
// applies them (src/sandbox/patch.h). The input is a target document and a
// patch, separated by a newline.
#include "sandbox/patch.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t newline = text.find('\n');
  if (newline == std::string_view::npos) return 0;
  json target = json::parse(text.substr(0, newline), nullptr, false);
  json patch = json::parse(text.substr(newline + 1), nullptr, false);
  if (target.is_discarded() || patch.is_discarded()) return 0;
  auto patched = remedy::sandbox::applyJsonPatch(target, patch);
  if (patched.ok()) (void)patched->dump();
  auto merged = remedy::sandbox::applyMergePatch(target, patch);
  if (merged.ok()) (void)merged->dump();
  return 0;
}
