// Templates (src/api/template.h): parse any text, list its references and
// render it against an Incident's context within a small output bound.
#include "api/template.h"
#include "fuzz_context.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace remedy::api;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hasTemplate(text);
  auto parsed = Template::parse(text);
  if (!parsed.ok()) return 0;
  for (const auto& ref : parsed->references()) (void)ref.reference.str();
  (void)parsed->expressions();
  (void)parsed->isLiteral();
  constexpr size_t kMax = 4096;
  auto rendered = parsed->render(remedy::fuzz::incidentContext(), kMax);
  if (rendered.ok() && rendered->size() > kMax) std::abort();
  return 0;
}
