#include "engine/runbook_selector.h"

#include "api/matcher.h"
#include "api/template.h"
#include "engine/incident_reconciler.h"
#include "kube/resource.h"

#include <algorithm>

namespace remedy::engine {

using json = nlohmann::json;

std::vector<api::ValidationError> validateStored(const json& runbook) {
  json written = {{"apiVersion", runbook.value("apiVersion", "")},
                  {"kind", runbook.value("kind", "")},
                  {"metadata", json::object()},
                  {"spec", runbook.value("spec", json::object())}};
  for (const char* field : {"name", "namespace", "labels", "annotations"}) {
    if (runbook["metadata"].contains(field))
      written["metadata"][field] = runbook["metadata"][field];
  }
  return api::validateRunbook(written);
}

RunbookSelection selectRunbook(const std::vector<json>& runbooks, const std::string& alertName,
                               const std::map<std::string, std::string>& labels) {
  RunbookSelection out;
  std::string bestName;
  for (const auto& item : runbooks) {
    auto rb = api::Runbook::fromJson(item);
    if (!rb.ok() || !rb->spec || !validateStored(item).empty()) continue;
    auto match = api::matchRunbook(*rb->spec, alertName, labels);
    if (!match) continue;
    std::string name = kube::nameOf(item);
    out.candidates.push_back(name);
    // Most specific wins; ties go to the first name in order.
    if (!out.runbook || out.specificity < *match ||
        (*match == out.specificity && name < bestName)) {
      out.specificity = *match;
      bestName = name;
      out.runbook = item;
    }
  }
  std::sort(out.candidates.begin(), out.candidates.end());
  return out;
}

Parameters resolveParameters(const std::string& runbookName, const api::RunbookSpec& spec,
                             json& context) {
  Parameters out;
  for (const auto& p : spec.parameters.value_or(std::vector<api::Parameter>{})) {
    std::string name = p.name.value_or("");
    std::optional<std::string> value;
    std::string error;
    if (p.value) {
      auto rendered = api::renderTemplate(*p.value, context);
      if (rendered.ok()) {
        value = *rendered;
      } else {
        error = rendered.error();
      }
    }
    if ((!value || value->empty()) && p.defaultValue) value = *p.defaultValue;
    if (!value) {
      out.failureReason = "ParameterUnresolved";
      out.failure = "runbook " + runbookName + ": parameter " + name + ": " +
                    (error.empty() ? "no value and no default" : error);
      return out;
    }
    if (p.pattern) {
      // Validation checked it compiles; should it not, nothing matches.
      auto re = api::compileAnchoredRegex(*p.pattern);
      if (!re.ok() || !re->find(*value)) {
        out.failureReason = "ParameterInvalid";
        out.failure = "runbook " + runbookName + ": parameter " + name + ": \"" + *value +
                      "\" does not match " + *p.pattern;
        return out;
      }
    }
    out.values[name] = *value;
    context["params"][name] = *value;
  }
  return out;
}

std::optional<std::set<std::string>> predictTargets(const api::Incident& incident,
                                                    const std::vector<json>& runbooks) {
  const api::IncidentSpec spec = incident.spec.value_or(api::IncidentSpec{});
  std::optional<json> chosen;
  if (spec.runbookRef && spec.runbookRef->name) {
    for (const auto& rb : runbooks) {
      if (kube::nameOf(rb) == *spec.runbookRef->name && validateStored(rb).empty()) chosen = rb;
    }
  } else {
    api::Alert alert = spec.alert.value_or(api::Alert{});
    chosen = selectRunbook(runbooks, alert.name.value_or(""),
                           alert.labels.value_or(std::map<std::string, std::string>{}))
                 .runbook;
  }
  if (!chosen) return std::nullopt;
  auto runbook = api::Runbook::fromJson(*chosen);
  if (!runbook.ok() || !runbook->spec) return std::nullopt;
  json context = incident.templateContext();
  Parameters params = resolveParameters(kube::nameOf(*chosen), *runbook->spec, context);
  if (params.failureReason) return std::nullopt;
  api::Incident matched = incident;
  if (!matched.status) matched.status.emplace();
  matched.status->parameters = params.values;
  bool complete = true;
  std::set<std::string> out;
  for (const auto& t : incidentTargets(matched, *runbook->spec, &complete)) out.insert(t.key());
  if (!complete) return std::nullopt;
  return out;
}

}  // namespace remedy::engine
