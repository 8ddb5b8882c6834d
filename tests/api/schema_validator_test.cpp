#include "api/schema_validator.h"
#include "api/crd_schemas.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using nlohmann::json;

const json kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "metadata": {"type": "object"},
    "spec": {
      "type": "object",
      "required": ["name"],
      "properties": {
        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5, "minLength": 2},
        "count": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
        "mode": {"type": "string", "enum": ["Evict", "Delete"]},
        "flag": {"type": "boolean"},
        "when": {"type": "string", "format": "date-time"},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                 "properties": {"known": {"type": "integer"}}},
        "replicas": {"x-kubernetes-int-or-string": true,
                     "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "items": {"type": "array", "maxItems": 2, "minItems": 1,
                  "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"}}}},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "action": {"type": "object",
                   "oneOf": [{"required": ["scale"]}, {"required": ["restart"]}],
                   "properties": {"scale": {"type": "object"}, "restart": {"type": "object"}}}
      }
    }
  }
})");

std::vector<std::string> errorsOf(const json& spec) {
  SchemaValidator validator(kSchema);
  std::vector<std::string> out;
  for (const ValidationError& e : validator.validate(json{{"spec", spec}})) out.push_back(e.str());
  return out;
}

TEST(SchemaValidator, AcceptsAConformingObject) {
  EXPECT_EQ(errorsOf(json::parse(R"({"name": "abc", "count": 3, "ratio": 0.5, "mode": "Evict",
      "flag": true, "when": "2024-05-01T12:00:00Z", "labels": {"a": "b"},
      "free": {"known": 1, "anything": {"x": [1]}}, "replicas": "+2",
      "items": [{"name": "a"}, {"name": "b"}], "tags": ["x", "y"],
      "action": {"scale": {}}})")),
            std::vector<std::string>{});
}

// The messages are kube-apiserver v1.33's for a custom resource (the same
// formats/structural_schema.h answers in the sandbox, and e2e/api_crds
// compares remedyctl validate with the real server's answers).
TEST(SchemaValidator, ReportsTypesEnumsPatternsAndBoundsAsTheApiServer) {
  EXPECT_EQ(errorsOf({{"name", 5}}),
            std::vector<std::string>{"spec.name: Invalid value: \"integer\": spec.name in body "
                                     "must be of type string: \"integer\""});
  EXPECT_EQ(
      errorsOf({{"name", "abc"}, {"mode", "Evcit"}}),
      std::vector<std::string>{
          "spec.mode: Unsupported value: \"Evcit\": supported values: \"Evict\", \"Delete\""});
  EXPECT_EQ(errorsOf({{"name", "ab1"}}),
            std::vector<std::string>{
                "spec.name: Invalid value: \"ab1\": spec.name in body should match '^[a-z]+$'"});
  EXPECT_EQ(errorsOf({{"name", "abcdef"}}),
            std::vector<std::string>{"spec.name: Too long: may not be more than 5 bytes"});
  EXPECT_EQ(
      errorsOf({{"name", "a"}}),
      std::vector<std::string>{
          "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long"});
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"count", 11}}),
            std::vector<std::string>{"spec.count: Invalid value: 11: spec.count in body should be "
                                     "less than or equal to 10"});
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"count", 0}}),
            std::vector<std::string>{"spec.count: Invalid value: 0: spec.count in body should be "
                                     "greater than or equal to 1"});
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"ratio", 0}}),
            std::vector<std::string>{
                "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"});
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"count", 1.5}}).at(0),
            "spec.count: Invalid value: \"number\": spec.count in body must be of type integer: "
            "\"number\"");
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"when", "yesterday"}}),
            std::vector<std::string>{"spec.when: Invalid value: \"yesterday\": spec.when in body "
                                     "must be of type date-time: \"yesterday\""});
}

TEST(SchemaValidator, ReportsMissingRequiredFieldsAndTreatsNullAsAbsent) {
  EXPECT_EQ(errorsOf(json::object()), std::vector<std::string>{"spec.name: Required value"});
  EXPECT_EQ(errorsOf({{"name", nullptr}}), std::vector<std::string>{"spec.name: Required value"});
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"count", nullptr}}), std::vector<std::string>{});
}

TEST(SchemaValidator, ReportsUnknownFieldsAsStrictFieldValidationDoes) {
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"cuont", 1}}),
            std::vector<std::string>{"spec.cuont: unknown field \"spec.cuont\""});
  // ... but not under x-kubernetes-preserve-unknown-fields, where declared fields still count.
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"free", {{"known", "x"}, {"other", 1}}}}),
            std::vector<std::string>{"spec.free.known: Invalid value: \"string\": spec.free.known "
                                     "in body must be of type integer: \"string\""});
}

TEST(SchemaValidator, NamesMapEntriesAsTheApiServerDoes) {
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"labels", {{"app.kubernetes.io/name", "long"}}}}),
            std::vector<std::string>{
                "spec.labels.app.kubernetes.io/name: Too long: may not be more than 3 bytes"});
}

TEST(SchemaValidator, ChecksListsAndTheirKeys) {
  EXPECT_EQ(errorsOf(json::parse(R"({"name": "abc", "items": [{"name": "a"}, {"name": "a"}]})")),
            std::vector<std::string>{
                "spec.items[1]: Duplicate value: map[string]interface {}{\"name\":\"a\"}"});
  EXPECT_EQ(errorsOf(json::parse(
                R"({"name": "abc", "items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})")),
            std::vector<std::string>{"spec.items: Too many: 3: must have at most 2 items"});
  EXPECT_EQ(errorsOf(json::parse(R"({"name": "abc", "items": []})")),
            std::vector<std::string>{
                "spec.items: Invalid value: 0: spec.items in body should have at least 1 items"});
  EXPECT_EQ(errorsOf(json::parse(R"({"name": "abc", "tags": ["x", "x"]})")),
            std::vector<std::string>{"spec.tags[1]: Duplicate value: \"x\""});
  EXPECT_EQ(errorsOf(json::parse(R"({"name": "abc", "items": [{}]})")),
            std::vector<std::string>{"spec.items[0].name: Required value"});
}

TEST(SchemaValidator, ReportsAFailedOneOfAtItsValue) {
  SchemaValidator validator(kSchema);
  std::vector<ValidationError> none =
      validator.validate(json::parse(R"({"spec": {"name": "abc", "action": {}}})"));
  ASSERT_EQ(none.size(), 2u);
  EXPECT_EQ(none[0].str(),
            "<nil>: Invalid value: \"\": \"spec.action\" must validate one and only one schema "
            "(oneOf). Found none valid");
  EXPECT_EQ(none[1].str(), "spec.action.scale: Required value");
  // Both at the value the oneOf applies to, so a better explanation there
  // replaces them.
  EXPECT_EQ(none[0].pointer, "/spec/action");
  EXPECT_EQ(none[1].pointer, "/spec/action");
  EXPECT_EQ(
      errorsOf(json::parse(R"({"name": "abc", "action": {"scale": {}, "restart": {}}})")),
      std::vector<std::string>{"<nil>: Invalid value: \"\": \"spec.action\" must validate "
                               "one and only one schema (oneOf). Found 2 valid alternatives"});
}

TEST(SchemaValidator, IntOrStringTakesEitherButNothingElse) {
  EXPECT_TRUE(errorsOf({{"name", "abc"}, {"replicas", 3}}).empty());
  EXPECT_TRUE(errorsOf({{"name", "abc"}, {"replicas", "+3"}}).empty());
  EXPECT_EQ(errorsOf({{"name", "abc"}, {"replicas", true}}).at(0),
            "spec.replicas: Invalid value: \"boolean\": spec.replicas in body must be of type "
            "integer,string: \"boolean\"");
}

TEST(SchemaValidator, LeavesMetadataToTheApiServer) {
  SchemaValidator validator(kSchema);
  EXPECT_TRUE(validator
                  .validate(json{{"metadata", {{"name", "x"}, {"labels", {{"a", "b"}}}}},
                                 {"spec", {{"name", "abc"}}}})
                  .empty());
}

TEST(SchemaValidator, ErrorsCarryAJsonPointer) {
  SchemaValidator validator(kSchema);
  std::vector<ValidationError> errors =
      validator.validate(json::parse(R"({"spec": {"name": "abc", "labels": {"a/b": "long"}}})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].pointer, "/spec/labels/a~1b");
}

TEST(CrdSchemas, ValidateIncidentsAndApprovals) {
  const SchemaValidator* incidents = schemaValidatorFor("Incident");
  ASSERT_NE(incidents, nullptr);
  json incident = json::parse(R"({"apiVersion": "remedy.dev/v1alpha1", "kind": "Incident",
      "metadata": {"name": "drill-1"},
      "spec": {"source": "Drill",
               "alert": {"name": "HighLatency", "labels": {"severity": "critical"}},
               "runbookRef": {"name": "high-api-latency"}, "dryRun": true}})");
  EXPECT_TRUE(incidents->validate(incident).empty());
  incident["spec"]["source"] = "Test";
  incident["spec"]["alert"]["status"] = "ok";
  incident["status"] = {{"phase", "Done"}};
  std::vector<std::string> errors;
  for (const ValidationError& e : incidents->validate(incident)) errors.push_back(e.str());
  // In the order of the object's keys (nlohmann::json sorts them).
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "spec.alert.status: Unsupported value: \"ok\": supported values: "
                        "\"firing\", \"resolved\"",
                        "spec.source: Unsupported value: \"Test\": supported values: "
                        "\"Alertmanager\", \"Manual\", \"Drill\"",
                        "status.phase: Unsupported value: \"Done\": supported values: "
                        "\"Pending\", \"AwaitingApproval\", \"Running\", \"Succeeded\", "
                        "\"Failed\", \"Escalated\", \"Skipped\", \"Cancelled\""}));

  const SchemaValidator* approvals = schemaValidatorFor("Approval");
  ASSERT_NE(approvals, nullptr);
  json approval = json::parse(R"({"apiVersion": "remedy.dev/v1alpha1", "kind": "Approval",
      "metadata": {"name": "a"}, "spec": {"incidentRef": {"name": "inc-1"}, "decision": "Reject",
      "approver": "alice"}})");
  EXPECT_TRUE(approvals->validate(approval).empty());
  approval["spec"].erase("approver");
  approval["spec"]["step"] = "Scale_Up";
  errors.clear();
  for (const ValidationError& e : approvals->validate(approval)) errors.push_back(e.str());
  EXPECT_EQ(errors,
            (std::vector<std::string>{"spec.step: Invalid value: \"Scale_Up\": spec.step in body "
                                      "should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
                                      "spec.approver: Required value"}));
}

}  // namespace
}  // namespace remedy::api
