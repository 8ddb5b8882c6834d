// Runbook manifests through validation (src/api): YAML or JSON text as
// `remedyctl validate` reads it, and, when the text is a JSON object, the
// object as the operator validates and decodes it.
#include "api/runbook.h"
#include "api/runbook_file_validator.h"
#include "api/runbook_validator.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace remedy::api;
  std::string text(reinterpret_cast<const char*>(data), size);
  for (const FileError& e : validateManifestText(text, "fuzz.yaml")) {
    if (e.message.empty()) std::abort();  // every error says what is wrong
    (void)e.str();
  }
  nlohmann::json object = nlohmann::json::parse(text, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return 0;
  (void)validateRunbook(object);
  (void)validateIncident(object);
  (void)validateApproval(object);
  auto runbook = Runbook::fromJson(object);
  if (runbook.ok()) (void)runbook->toJson().dump();
  return 0;
}
