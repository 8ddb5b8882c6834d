#include "api/crd_schemas.h"

#include "api/yaml_json.h"

#include <map>
#include <memory>

namespace remedy::api {
namespace generated {
// Defined in the generated embedded_crds.cpp: pieces ending with nullptr.
extern const char* const k_runbooks[];
extern const char* const k_incidents[];
extern const char* const k_approvals[];
extern const char* const k_runbookpolicies[];
}  // namespace generated

namespace {

const char* const* piecesFor(const std::string& kind) {
  if (kind == "Runbook") return generated::k_runbooks;
  if (kind == "Incident") return generated::k_incidents;
  if (kind == "Approval") return generated::k_approvals;
  if (kind == "RunbookPolicy") return generated::k_runbookpolicies;
  return nullptr;
}

struct Crd {
  nlohmann::json json;
  std::unique_ptr<SchemaValidator> validator;
};

const std::map<std::string, Crd>& crds() {
  static const std::map<std::string, Crd> all = [] {
    std::map<std::string, Crd> out;
    for (const char* kind : {"Runbook", "Incident", "Approval", "RunbookPolicy"}) {
      Result<nlohmann::json> parsed = yamlToJson(crdYaml(kind));
      Crd crd;
      // The embedded YAML is checked by tests/api; a parse failure here would
      // be a build defect, so the kind simply has no schema.
      if (parsed.ok()) {
        crd.json = parsed.value();
        const nlohmann::json* schema = nullptr;
        for (const auto& version : crd.json["spec"]["versions"]) {
          if (version.value("name", "") == "v1alpha1") {
            schema = &version["schema"]["openAPIV3Schema"];
          }
        }
        if (schema != nullptr) crd.validator = std::make_unique<SchemaValidator>(*schema);
      }
      out.emplace(kind, std::move(crd));
    }
    return out;
  }();
  return all;
}

}  // namespace

std::string crdYaml(const std::string& kind) {
  const char* const* pieces = piecesFor(kind);
  std::string text;
  for (; pieces != nullptr && *pieces != nullptr; ++pieces) text += *pieces;
  return text;
}

const nlohmann::json& crdJson(const std::string& kind) {
  static const nlohmann::json null;
  auto it = crds().find(kind);
  return it == crds().end() ? null : it->second.json;
}

const SchemaValidator* schemaValidatorFor(const std::string& kind) {
  auto it = crds().find(kind);
  return it == crds().end() ? nullptr : it->second.validator.get();
}

}  // namespace remedy::api
