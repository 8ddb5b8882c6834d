// Alertmanager matchers (src/api/matcher.h): parse any text; a matcher that
// parses prints a canonical form that parses back to the same matcher.
#include "api/matcher.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace remedy::api;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = Matcher::parse(text);
  if (!parsed.ok()) return 0;
  std::map<std::string, std::string> labels = {
      {"alertname", "HighLatency"}, {"env", "prod"}, {parsed->name(), parsed->value()}};
  bool matched = parsed->matches(labels);
  (void)parsed->matchesValue("");
  auto again = Matcher::parse(parsed->str());
  if (!again.ok()) std::abort();
  if (again->name() != parsed->name() || again->op() != parsed->op() ||
      again->value() != parsed->value() || again->matches(labels) != matched) {
    std::abort();
  }
  return 0;
}
