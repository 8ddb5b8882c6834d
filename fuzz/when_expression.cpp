// `when` conditions (src/api/when_expression.h): parse any text, check it
// against a Runbook's scope and evaluate it against an Incident's context.
#include "api/when_expression.h"
#include "fuzz_context.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace remedy::api;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = WhenExpression::parse(text);
  if (!parsed.ok()) return 0;
  for (const auto& ref : parsed->references()) (void)ref.str();
  ReferenceScope scope;
  scope.params = {"replicas", "pattern"};
  scope.allParams = {"replicas", "pattern", "wait"};
  scope.earlierSteps = {{"scale-up", "scale"}, {"diagnose", "postgres"}};
  scope.allSteps = {{"scale-up", "scale"}, {"diagnose", "postgres"}, {"verify", "prometheusCheck"}};
  scope.currentStep = "verify";
  (void)parsed->check(scope);
  (void)parsed->warnings();
  (void)parsed->evaluate(remedy::fuzz::incidentContext());
  return 0;
}
