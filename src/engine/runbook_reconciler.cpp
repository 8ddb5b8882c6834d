#include "engine/runbook_reconciler.h"

#include "api/runbook.h"
#include "api/runbook_validator.h"
#include "engine/conditions.h"
#include "engine/resources.h"
#include "kube/time_format.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace remedy::engine {

using json = nlohmann::json;

RunbookReconciler::RunbookReconciler(kube::Client& client, EngineCaches& caches,
                                     const kube::Clock& clock, kube::EventRecorder* events,
                                     RunbookReconcilerOptions options)
    : client_(client),
      caches_(caches),
      clock_(clock),
      events_(events),
      options_(std::move(options)) {}

kube::ReconcileResult RunbookReconciler::reconcile(const std::string& key) {
  auto [ns, name] = kube::splitObjectKey(key);
  // From the cache, never the API server: every Incident's reservation on
  // status.history wakes this controller, which has nothing to write then.
  // The status write below carries the resourceVersion read, so a stale
  // copy costs a 409, after which the key is requeued (with the queue's
  // backoff) until the cache shows a newer version.
  if (!caches_.runbooksSynced()) return kube::ReconcileResult{true, {}, {}};
  std::optional<json> cached = caches_.runbook(ns, name);
  // Deleted, or not seen yet: its watch event brings it back to the queue.
  if (!cached) return kube::ReconcileResult::done();
  if (caches_.stale(runbooks(), *cached)) return kube::ReconcileResult{true, {}, {}};
  json object = std::move(*cached);
  int64_t generation = object["metadata"].value("generation", int64_t{1});

  // Validate what the user wrote, not what the server added to metadata.
  json metadata = object["metadata"];
  json written = {{"apiVersion", object.value("apiVersion", "")},
                  {"kind", object.value("kind", "")},
                  {"metadata", json::object()},
                  {"spec", object.value("spec", json::object())}};
  for (const char* field : {"name", "namespace", "labels", "annotations"}) {
    if (metadata.contains(field)) written["metadata"][field] = metadata[field];
  }
  auto errors = api::validateRunbook(written);
  // Who it would act as is the operator's business: only the names it may
  // impersonate.
  const json& spec = written["spec"];
  std::string account = spec.is_object() && spec.contains("serviceAccountName") &&
                                spec["serviceAccountName"].is_string()
                            ? spec["serviceAccountName"].get<std::string>()
                            : options_.defaultServiceAccount;
  const auto& allowed = options_.serviceAccountNames;
  if (std::find(allowed.begin(), allowed.end(), account) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    api::FieldPath path = api::FieldPath().child("spec").child("serviceAccountName");
    errors.push_back(
        {path.str(),
         json(account).dump() +
             " is not a ServiceAccount the operator may act as (it may act as: " + list + ")",
         path.pointer()});
  }

  json oldStatus = object.value("status", json::object());
  auto decoded = api::fromJson<api::RunbookStatus>(oldStatus);
  // A status we cannot read is rewritten from scratch rather than failing.
  api::RunbookStatus status = decoded.ok() ? decoded.value() : api::RunbookStatus{};
  std::string now = kube::formatRfc3339(clock_.wallNow());
  if (errors.empty()) {
    // Warnings (a `when` comparison that can only be false) do not make the
    // Runbook unready; they are said in the condition's message.
    std::vector<api::ValidationError> warnings = api::runbookWarnings(written);
    std::string message = "the spec passed validation";
    if (!warnings.empty()) {
      message += "; warnings: " + truncateMessage(api::formatErrors(warnings), 1024);
    }
    setCondition(status.conditions, "Ready", api::ConditionStatus::kTrue, "Valid", message,
                 generation, now);
  } else {
    setCondition(status.conditions, "Ready", api::ConditionStatus::kFalse, "InvalidSpec",
                 api::formatErrors(errors), generation, now);
  }
  status.observedGeneration = generation;
  const json& steps = object["spec"].value("steps", json::array());
  status.stepCount = steps.is_array() ? static_cast<int32_t>(steps.size()) : 0;
  if (!status.executions) status.executions = 0;

  json newStatus = api::toJson(status);
  if (newStatus == oldStatus) return kube::ReconcileResult::done();
  object["status"] = newStatus;
  kube::WriteOptions options;
  options.subresource = "status";
  options.fieldManager = "remedy-operator";
  auto updated = client_.update(runbooks(), ns, object, options);
  if (!updated.ok()) {
    // Conflict: someone wrote first; reconciled again once the cache shows
    // their version.
    if (kube::isConflict(updated.status())) caches_.conflicted(runbooks(), object);
    if (kube::isConflict(updated.status()) || kube::isNotFound(updated.status())) {
      return kube::isConflict(updated.status()) ? kube::ReconcileResult{true, {}, {}}
                                                : kube::ReconcileResult::done();
    }
    return kube::ReconcileResult::failed(updated.status());
  }
  caches_.assumeRunbook(*updated);
  bool wasInvalid = oldStatus.dump().find("\"InvalidSpec\"") != std::string::npos;
  if (!errors.empty()) {
    spdlog::warn("runbook={} generation={} ready=False reason=InvalidSpec errors={}", key,
                 generation, errors.size());
    if (events_) {
      events_->event(*updated, "Warning", "InvalidSpec",
                     truncateMessage(api::formatErrors(errors), 1024));
    }
  } else {
    spdlog::info("runbook={} generation={} ready=True", key, generation);
    if (events_ && wasInvalid) events_->event(*updated, "Normal", "Valid", "the spec is valid");
  }
  return kube::ReconcileResult::done();
}

}  // namespace remedy::engine
