#include "api/action_catalog.h"

namespace remedy::api {

const std::vector<ActionInfo>& actionCatalog() {
  // Keep in sync with the step schema in crds/remedy.dev_runbooks.yaml (its
  // oneOf and each action's description, which lists the outputs).
  static const std::vector<ActionInfo> catalog = {
      {"scale", {"previousReplicas", "replicas"}, false, true, ""},
      {"rolloutRestart", {"restartedAt"}, false, false, ""},
      // Not revertible: undoing a rollback would deploy again the template
      // that failed; a fix goes forward as a new rollout.
      {"rolloutUndo", {"previousRevision", "revision", "replicaSet"}, false, false, ""},
      {"deletePods", {"matched", "deleted", "pods"}, false, false, ""},
      {"waitFor", {"value"}, false, false, ""},
      {"runJob", {"jobName", "logTail"}, false, false, ""},
      // The backend operations' outputs, then a query's.
      {"postgres",
       {"total", "matched", "affected", "oldestSeconds", "pids", "report", "rows", "columns",
        "value", "table", "truncated"},
       false,
       false,
       ""},
      // INFO reports every field of a section; the other operations add theirs.
      {"redis",
       {"count", "slowestMicroseconds", "slowestCommand", "entries", "totalBytes", "keys",
        "complete", "top", "largestKey", "largestBytes", "previousValue", "value", "matched",
        "deleted"},
       true,
       true,
       ""},
      {"http", {"status", "body"}, false, false, ""},
      {"prometheusCheck", {"value", "samples"}, false, false, ""},
      // And label_NAME, one per label of the first sample.
      {"prometheusQuery",
       {"series", "value", "metric", "labels", "samples", "truncated"},
       false,
       false,
       "label_"},
      {"notify", {"status"}, false, false, ""},
      {"patch", {"changed"}, false, true, ""},
      {"apply", {"changed"}, false, true, ""},
      {"waitForResolved", {"resolvedAt"}, false, false, ""},
      {"podLogs", {"pod", "container", "text", "lines", "truncated"}, false, false, ""},
  };
  return catalog;
}

const ActionInfo* findAction(const std::string& field) {
  for (const ActionInfo& info : actionCatalog()) {
    if (info.field == field) return &info;
  }
  return nullptr;
}

std::vector<std::string> actionFields() {
  std::vector<std::string> fields;
  for (const ActionInfo& info : actionCatalog()) fields.push_back(info.field);
  return fields;
}

const std::vector<std::string>& stepPhases() {
  static const std::vector<std::string> phases = {
      "Pending", "AwaitingApproval", "Running", "Succeeded", "Failed", "Skipped", "Cancelled"};
  return phases;
}

const std::vector<std::string>& alertStatuses() {
  static const std::vector<std::string> statuses = {"firing", "resolved"};
  return statuses;
}

}  // namespace remedy::api
