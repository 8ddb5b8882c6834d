// The C++ types read and write the three kinds without losing anything:
// toJson(fromJson(x)) == x for every example and for objects full of fields
// this version does not know or of the wrong type.
#include "api/approval.h"
#include "api/incident.h"
#include "api/runbook.h"
#include "api/template.h"
#include "api/yaml_json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace remedy::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<fs::path> exampleFiles() {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::directory_iterator(fs::path(REMEDY_SOURCE_DIR) / "runbooks/examples")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  return files;
}

json loadYaml(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return yamlToJson(text.str()).value();
}

const json kIncident = json::parse(R"({
  "apiVersion": "remedy.dev/v1alpha1",
  "kind": "Incident",
  "metadata": {"name": "inc-42", "namespace": "shop", "uid": "u-1", "generation": 3,
               "labels": {"remedy.dev/runbook": "db-pool"},
               "managedFields": [{"manager": "remedy-operator", "operation": "Update"}]},
  "spec": {"source": "Alertmanager",
           "alert": {"name": "DatabaseConnectionPoolExhausted", "status": "firing",
                     "labels": {"alertname": "DatabaseConnectionPoolExhausted",
                                "severity": "critical"},
                     "annotations": {"summary": "pool exhausted"},
                     "fingerprint": "a1b2c3", "startsAt": "2024-05-01T03:00:00Z",
                     "generatorURL": "http://prometheus/graph?g0.expr=x"},
           "dryRun": false},
  "status": {"phase": "Running",
             "runbook": {"name": "db-pool", "uid": "r-1", "generation": 7,
                         "spec": {"steps": [{"name": "a", "notify": {"url": "http://x"}}]}},
             "parameters": {"deployment": "backend"},
             "startedAt": "2024-05-01T03:00:05Z",
             "currentStep": "scale",
             "steps": [
               {"name": "activity", "phase": "Succeeded", "attempts": 1,
                "outputs": {"matched": "0"},
                "when": {"expression": "true", "result": true, "values": {}}},
               {"name": "kill", "phase": "Skipped",
                "when": {"expression": "steps.activity.outputs.matched > 0", "result": false,
                         "values": {"steps.activity.outputs.matched": "0"}}},
               {"name": "scale", "phase": "Running", "attempts": 2, "dryRun": false,
                "nextAttemptAt": "2024-05-01T03:01:00Z",
                "revert": {"state": "Pending", "dueAt": "2024-05-01T05:00:00Z", "onResolved": true,
                           "before": {"replicas": 3}, "after": {"replicas": 5}}}
             ],
             "approvals": [{"name": "appr-1", "step": "scale", "decision": "Approve",
                            "approver": "alice", "time": "2024-05-01T03:00:30Z"}],
             "escalations": [{"tier": 0, "name": "on-call", "firedAt": "2024-05-01T03:00:06Z"}],
             "observedGeneration": 3,
             "conditions": [{"type": "Completed", "status": "False", "reason": "Running",
                             "message": "", "lastTransitionTime": "2024-05-01T03:00:05Z",
                             "observedGeneration": 3}],
             "timeline": [{"time": "2024-05-01T03:00:05Z", "type": "StepStarted",
                           "step": "activity",
                           "message": "started"}],
             "droppedTimelineEntries": 0}
})");

const json kApproval = json::parse(R"({
  "apiVersion": "remedy.dev/v1alpha1", "kind": "Approval",
  "metadata": {"name": "appr-1", "namespace": "shop"},
  "spec": {"incidentRef": {"name": "inc-42"}, "step": "scale", "decision": "Approve",
           "approver": "alice", "comment": "go"},
  "status": {"state": "Accepted", "reason": "Counted", "message": "1 of 1 approvals",
             "processedAt": "2024-05-01T03:00:30Z", "observedGeneration": 1}
})");

// Adds a field named "futureField" to every object in `j`.
json withUnknownFieldsEverywhere(json j, int* added) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) value = withUnknownFieldsEverywhere(value, added);
    j["futureField"] = json{{"nested", {1, "two", nullptr}}};
    ++*added;
  } else if (j.is_array()) {
    for (auto& item : j) item = withUnknownFieldsEverywhere(item, added);
  }
  return j;
}

TEST(RunbookType, EveryExampleRoundTripsExactly) {
  int files = 0;
  for (const fs::path& path : exampleFiles()) {
    json original = loadYaml(path);
    Result<Runbook> runbook = Runbook::fromJson(original);
    ASSERT_TRUE(runbook.ok());
    EXPECT_EQ(runbook->toJson(), original) << path;
    EXPECT_TRUE(runbook->unknownFields.empty()) << path;
    EXPECT_TRUE(runbook->spec->unknownFields.empty()) << path;
    for (const Step& step : *runbook->spec->steps) {
      EXPECT_TRUE(step.unknownFields.empty()) << path << " " << *step.name;
      EXPECT_EQ(step.actionFields().size(), 1u);
    }
    ++files;
  }
  EXPECT_GT(files, 0);
}

TEST(RunbookType, UnknownFieldsAtEveryLevelSurvive) {
  for (const fs::path& path : exampleFiles()) {
    int added = 0;
    json original = withUnknownFieldsEverywhere(loadYaml(path), &added);
    ASSERT_GT(added, 20);
    Result<Runbook> runbook = Runbook::fromJson(original);
    ASSERT_TRUE(runbook.ok());
    EXPECT_EQ(runbook->toJson(), original) << path;
    EXPECT_TRUE(runbook->spec->unknownFields.contains("futureField"));
  }
}

TEST(RunbookType, KnownFieldsOfTheWrongTypeAreKeptAsTheyWere) {
  json original = json::parse(R"({
    "apiVersion": "remedy.dev/v1alpha1", "kind": "Runbook", "metadata": {"name": "x"},
    "spec": {"severity": "P9", "steps": [
      {"name": "s", "timeout": 30, "retries": {"limit": "three"},
       "scale": {"target": {"name": "api"}, "replicas": true, "minReplicas": 1.5}}]}})");
  Result<Runbook> runbook = Runbook::fromJson(original);
  ASSERT_TRUE(runbook.ok());
  EXPECT_EQ(runbook->toJson(), original);
  const Step& step = runbook->spec->steps->at(0);
  EXPECT_FALSE(runbook->spec->severity.has_value());
  EXPECT_FALSE(step.timeout.has_value());
  EXPECT_FALSE(step.scale->replicas.has_value());
  EXPECT_EQ(step.scale->unknownFields["replicas"], true);
}

TEST(RunbookType, ReadsTypedValues) {
  json original = loadYaml(fs::path(REMEDY_SOURCE_DIR) /
                           "runbooks/examples/db-connection-pool-exhaustion.yaml");
  Runbook rb = Runbook::fromJson(original).value();
  const RunbookSpec& spec = *rb.spec;
  EXPECT_EQ(spec.severity, Severity::kP0);
  EXPECT_EQ(*rb.metadata->namespace_, "shop");
  EXPECT_EQ(spec.triggers->at(0).matchers->at(0), "namespace=~\"shop|shop-staging\"");
  EXPECT_EQ(*spec.parameters->at(0).defaultValue, "backend");
  const Step* scale = spec.findStep("scale-backend");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->scale->replicas->stringValue(), "+2");
  EXPECT_EQ(*scale->scale->target->name, "{{ params.deployment }}");
  EXPECT_EQ(scale->scale->target->effectiveKind(), "Deployment");
  EXPECT_EQ(*scale->scale->target->effectiveApiVersion(), "apps/v1");
  const Step* verify = spec.findStep("verify");
  EXPECT_EQ(verify->onFailure, OnFailure::kEscalate);
  EXPECT_EQ(verify->prometheusCheck->operator_, ComparisonOperator::kLessThan);
  EXPECT_DOUBLE_EQ(*verify->prometheusCheck->threshold, 0.8);
  EXPECT_EQ(verify->effectiveTimeout(), std::chrono::minutes(15));
  const Step* raise = spec.findStep("raise-pool-size");
  EXPECT_EQ(raise->approval, StepApproval::kRequired);
  EXPECT_EQ(*raise->revert->after, "2h");
  EXPECT_TRUE(*raise->revert->onResolved);
  EXPECT_TRUE(raise->patch->strategicMergePatch->is_object());
  EXPECT_EQ(spec.findStep("activity")->effectiveTimeout(), std::chrono::minutes(5));
  EXPECT_EQ(spec.escalation->tiers->size(), 3u);
  EXPECT_EQ(*spec.escalation->tiers->at(1).after, "15m");
  EXPECT_EQ(spec.approval->onTimeout, ApprovalTimeoutAction::kSkip);
  EXPECT_EQ(spec.guardrails->maxExecutions->count, 3);
  EXPECT_EQ(spec.findStep("nope"), nullptr);
}

TEST(RunbookType, ChangedFieldsOverlayTheOriginal) {
  json original =
      loadYaml(fs::path(REMEDY_SOURCE_DIR) / "runbooks/examples/kafka-consumer-lag.yaml");
  original["spec"]["futureField"] = "kept";
  Runbook rb = Runbook::fromJson(original).value();
  rb.status.emplace();
  rb.status->observedGeneration = 4;
  rb.status->stepCount = static_cast<int32_t>(rb.spec->steps->size());
  Condition ready;
  ready.type = "Ready";
  ready.status = ConditionStatus::kTrue;
  ready.reason = "Valid";
  ready.message = "";
  ready.lastTransitionTime = "2024-05-01T00:00:00Z";
  rb.status->conditions = std::vector<Condition>{ready};
  rb.spec->description.reset();
  // Step 1 is scale-consumers.
  ASSERT_TRUE(rb.spec->steps->at(1).scale.has_value());
  rb.spec->steps->at(1).scale->replicas = IntOrString(int64_t{3});

  json out = rb.toJson();
  EXPECT_EQ(out["spec"]["futureField"], "kept");
  EXPECT_FALSE(out["spec"].contains("description"));
  EXPECT_EQ(out["spec"]["steps"][1]["scale"]["replicas"], 3);
  EXPECT_EQ(out["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(out["status"]["stepCount"], 9);
  EXPECT_EQ(out["spec"]["steps"][2], original["spec"]["steps"][2]);
  EXPECT_EQ(findCondition(rb.status->conditions, "Ready")->reason, "Valid");
  EXPECT_EQ(findCondition(rb.status->conditions, "Other"), nullptr);
}

TEST(RunbookType, FromJsonRefusesNonObjects) {
  EXPECT_FALSE(Runbook::fromJson(json::array()).ok());
  EXPECT_EQ(Runbook::fromJson(json("x")).error(), "expected a JSON object, got string");
}

TEST(IncidentType, RoundTripsAFullStatusExactly) {
  Result<Incident> incident = Incident::fromJson(kIncident);
  ASSERT_TRUE(incident.ok());
  EXPECT_EQ(incident->toJson(), kIncident);
  int added = 0;
  json decorated = withUnknownFieldsEverywhere(kIncident, &added);
  EXPECT_EQ(Incident::fromJson(decorated)->toJson(), decorated);
}

TEST(IncidentType, ReadsTypedValues) {
  Incident inc = Incident::fromJson(kIncident).value();
  EXPECT_EQ(inc.spec->source, IncidentSource::kAlertmanager);
  EXPECT_EQ(inc.spec->alert->status, AlertStatus::kFiring);
  EXPECT_EQ(inc.status->phase, IncidentPhase::kRunning);
  EXPECT_FALSE(isFinal(*inc.status->phase));
  EXPECT_TRUE(isFinal(IncidentPhase::kEscalated));
  EXPECT_EQ(inc.status->runbook->generation, 7);
  StepStatus* scale = inc.status->findStep("scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->revert->state, RevertState::kPending);
  EXPECT_EQ((*scale->revert->before)["replicas"], 3);
  EXPECT_EQ(inc.status->findStep("kill")->when->values->at("steps.activity.outputs.matched"), "0");
  EXPECT_EQ(inc.status->approvals->at(0).decision, ApprovalDecision::kApprove);
  EXPECT_EQ(inc.metadata->unknownFields["managedFields"][0]["manager"], "remedy-operator");
}

TEST(IncidentType, TimelineStaysWithinTheCrdBound) {
  IncidentStatus status;
  for (int i = 0; i < 130; ++i) {
    TimelineEntry entry;
    entry.type = "StepStarted";
    entry.message = std::to_string(i);
    status.appendTimeline(entry);
  }
  EXPECT_EQ(status.timeline->size(), kMaxTimelineEntries);
  EXPECT_EQ(status.timeline->front().message, "30");
  EXPECT_EQ(status.droppedTimelineEntries, 30);
}

TEST(IncidentType, BuildsTheTemplateContext) {
  Incident inc = Incident::fromJson(kIncident).value();
  json context = inc.templateContext();
  EXPECT_EQ(renderTemplate("{{ alert.labels.severity }} {{ alert.annotations.summary }} "
                           "{{ params.deployment }} {{ steps.activity.outputs.matched }} "
                           "{{ steps.kill.phase }} {{ incident.name }}/{{ incident.namespace }} "
                           "{{ incident.source }} {{ alert.status }}",
                           context)
                .value(),
            "critical pool exhausted backend 0 Skipped inc-42/shop Alertmanager firing");
}

TEST(ApprovalType, RoundTripsAndReadsTypedValues) {
  Result<Approval> approval = Approval::fromJson(kApproval);
  ASSERT_TRUE(approval.ok());
  EXPECT_EQ(approval->toJson(), kApproval);
  EXPECT_EQ(approval->spec->decision, ApprovalDecision::kApprove);
  EXPECT_EQ(approval->status->state, ApprovalState::kAccepted);
  int added = 0;
  json decorated = withUnknownFieldsEverywhere(kApproval, &added);
  EXPECT_EQ(Approval::fromJson(decorated)->toJson(), decorated);
}

TEST(IntOrString, KeepsItsRepresentation) {
  EXPECT_EQ(toJson(fromJson<ScaleAction>(json{{"replicas", 5}}).value()), json({{"replicas", 5}}));
  EXPECT_EQ(toJson(fromJson<ScaleAction>(json{{"replicas", "5"}}).value()),
            json({{"replicas", "5"}}));
  EXPECT_TRUE(fromJson<ScaleAction>(json{{"replicas", 5}})->replicas->isInt());
  EXPECT_EQ(fromJson<ScaleAction>(json{{"replicas", "-1"}})->replicas->str(), "-1");
}

TEST(Enums, HaveTheirApiSpelling) {
  EXPECT_STREQ(enumName(StepPhase::kAwaitingApproval), "AwaitingApproval");
  EXPECT_EQ(parseEnum<OnFailure>("Escalate"), OnFailure::kEscalate);
  EXPECT_EQ(parseEnum<OnFailure>("escalate"), std::nullopt);
  EXPECT_STREQ(enumName(AlertStatus::kResolved), "resolved");
}

}  // namespace
}  // namespace remedy::api
