#include "sandbox/schema.h"

#include <gtest/gtest.h>

namespace remedy::sandbox {
namespace {

json j(const char* text) { return json::parse(text); }

// A schema shaped like a Runbook's: the usual CRD features in one place.
const json kSchema = j(R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["steps"],
      "properties": {
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
        "mode": {"type": "string", "enum": ["Abort", "Continue"], "default": "Abort"},
        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 10, "minLength": 2},
        "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "port": {"x-kubernetes-int-or-string": true},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                  "properties": {"known": {"type": "object",
                                           "properties": {"a": {"type": "string"}}}}},
        "at": {"type": "string", "format": "date-time"},
        "small": {"type": "integer", "format": "int32"},
        "optional": {"type": "string", "nullable": true},
        "steps": {
          "type": "array",
          "items": {
            "type": "object",
            "required": ["name"],
            "properties": {
              "name": {"type": "string"},
              "timeout": {"type": "string", "default": "5m"},
              "retries": {"type": "integer", "default": 0}
            }
          }
        }
      }
    },
    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
  }
})");

json validObject() {
  return j(R"({"apiVersion": "remedy.dev/v1alpha1", "kind": "Runbook",
               "metadata": {"name": "r", "namespace": "shop", "labels": {"a": "b"}},
               "spec": {"steps": [{"name": "first"}]}})");
}

std::vector<StatusCause> validateSpec(const json& spec, const json& schema = kSchema) {
  json object = validObject();
  object["spec"] = spec;
  return validateCustomObject(object, schema);
}

// The single cause of validating `spec`, as "field: message".
std::string onlyError(const json& spec, const json& schema = kSchema) {
  auto causes = validateSpec(spec, schema);
  EXPECT_EQ(causes.size(), 1u) << invalidMessage(causes);
  if (causes.empty()) return "";
  return causes[0].field + ": " + causes[0].message;
}

json withSteps(json spec) {
  spec["steps"] = j(R"([{"name": "a"}])");
  return spec;
}

// ------------------------------------------------------------------- pruning

TEST(SchemaPruning, RemovesFieldsTheSchemaDoesNotSpecify) {
  json o = validObject();
  o["spec"]["unknown"] = 1;
  o["spec"]["steps"][0]["bogus"] = true;
  o["status"] = j(R"({"phase": "Running", "junk": {"a": 1}})");
  o["topLevel"] = "x";
  EXPECT_TRUE(validateCustomObject(o, kSchema).empty());
  EXPECT_FALSE(o["spec"].contains("unknown"));
  EXPECT_FALSE(o["spec"]["steps"][0].contains("bogus"));
  EXPECT_EQ(o["status"], j(R"({"phase": "Running"})"));
  EXPECT_FALSE(o.contains("topLevel"));
}

TEST(SchemaPruning, KeepsApiVersionKindAndMetadataOfTheRoot) {
  json o = validObject();
  o["metadata"]["annotations"] = {{"x", "y"}};
  pruneUnknownFields(o, kSchema);
  EXPECT_EQ(o["apiVersion"], "remedy.dev/v1alpha1");
  EXPECT_EQ(o["kind"], "Runbook");
  EXPECT_EQ(o["metadata"]["annotations"]["x"], "y");
  EXPECT_EQ(o["metadata"]["labels"]["a"], "b");
}

TEST(SchemaPruning, PreserveUnknownFieldsKeepsUnknownButPrunesSpecifiedChildren) {
  json o = validObject();
  o["spec"]["extra"] = j(R"({"anything": {"deep": 1}, "known": {"a": "x", "b": "pruned"}})");
  pruneUnknownFields(o, kSchema);
  EXPECT_EQ(o["spec"]["extra"], j(R"({"anything": {"deep": 1}, "known": {"a": "x"}})"));
}

TEST(SchemaPruning, AdditionalPropertiesKeepsEveryKey) {
  json o = validObject();
  o["spec"]["labels"] = {{"x", "1"}, {"y", "2"}};
  pruneUnknownFields(o, kSchema);
  EXPECT_EQ(o["spec"]["labels"], j(R"({"x": "1", "y": "2"})"));
}

TEST(SchemaPruning, EmbeddedResourceKeepsTypeMetaAndMetadata) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                   "properties": {"spec": {"type": "object",
                                           "properties": {"n": {"type": "integer"}}}}}}}}})");
  json o = j(R"({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                       "spec": {"n": 1, "drop": 2}, "other": 3}}})");
  pruneUnknownFields(o, schema);
  EXPECT_EQ(
      o["spec"]["template"],
      j(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"n": 1}})"));
}

TEST(SchemaPruning, NullsOfNonNullableFieldsAreDroppedNullableKept) {
  json o = validObject();
  o["spec"]["name"] = nullptr;
  o["spec"]["optional"] = nullptr;
  pruneUnknownFields(o, kSchema);
  EXPECT_FALSE(o["spec"].contains("name"));
  EXPECT_TRUE(o["spec"].contains("optional"));
  EXPECT_TRUE(o["spec"]["optional"].is_null());
}

// ---------------------------------------------------------------- defaulting

TEST(SchemaDefaults, FillsMissingFieldsWhoseParentExists) {
  json o = validObject();
  EXPECT_TRUE(validateCustomObject(o, kSchema).empty());
  EXPECT_EQ(o["spec"]["mode"], "Abort");
  EXPECT_EQ(o["spec"]["steps"][0]["timeout"], "5m");
  EXPECT_EQ(o["spec"]["steps"][0]["retries"], 0);
  EXPECT_FALSE(o.contains("status"));
}

TEST(SchemaDefaults, ExistingValuesAreKept) {
  json o = validObject();
  o["spec"]["mode"] = "Continue";
  o["spec"]["steps"][0]["timeout"] = "1m";
  validateCustomObject(o, kSchema);
  EXPECT_EQ(o["spec"]["mode"], "Continue");
  EXPECT_EQ(o["spec"]["steps"][0]["timeout"], "1m");
}

TEST(SchemaDefaults, NonNullableNullIsDefaulted) {
  json o = validObject();
  o["spec"]["mode"] = nullptr;
  validateCustomObject(o, kSchema);
  EXPECT_EQ(o["spec"]["mode"], "Abort");
}

TEST(SchemaDefaults, DefaultedObjectGetsItsOwnDefaults) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "default": {},
      "properties": {"a": {"type": "string", "default": "x"}}}}})");
  json o = j(R"({"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "n"}})");
  validateCustomObject(o, schema);
  EXPECT_EQ(o["spec"], j(R"({"a": "x"})"));
}

TEST(SchemaDefaults, AdditionalPropertiesAndItemsNullsAreDefaulted) {
  json schema = j(R"({"type": "object", "properties": {
      "m": {"type": "object", "additionalProperties": {"type": "string", "default": "d"}},
      "l": {"type": "array", "items": {"type": "integer", "default": 7}}}})");
  json o = j(R"({"m": {"k": null}, "l": [1, null]})");
  applyDefaults(o, schema);
  EXPECT_EQ(o, j(R"({"m": {"k": "d"}, "l": [1, 7]})"));
}

// ---------------------------------------------------------------- validation

TEST(SchemaValidation, ValidObjectHasNoErrors) { EXPECT_TRUE(validateSpec(withSteps({})).empty()); }

TEST(SchemaValidation, WrongTypeNamesTheExpectedAndActualType) {
  auto causes = validateSpec(withSteps({{"replicas", "three"}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueTypeInvalid");
  EXPECT_EQ(causes[0].field, "spec.replicas");
  EXPECT_EQ(causes[0].message,
            "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"");
}

TEST(SchemaValidation, IntegerAcceptsAnIntegralFloatNumberAcceptsAnInteger) {
  EXPECT_TRUE(validateSpec(withSteps({{"replicas", 2.0}})).empty());
  EXPECT_TRUE(validateSpec(withSteps({{"ratio", 0}})).empty());
}

TEST(SchemaValidation, FractionForAnIntegerIsAlsoOutOfTheIntegerRange) {
  auto causes = validateSpec(withSteps({{"replicas", 2.5}}));
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].message,
            "Invalid value: \"number\": spec.replicas in body must be of type integer: \"number\"");
  EXPECT_EQ(causes[1].field, "<nil>");
  EXPECT_EQ(causes[1].message,
            "Invalid value: \"\": Checked value must be of type integer (default format) in "
            "spec.replicas");
}

// kube-openapi compares an integer value with int64(bound), so a fractional
// bound is truncated for integers (MaximumNativeType).
TEST(SchemaValidation, IntegerValuesCompareWithTheTruncatedBound) {
  EXPECT_EQ(onlyError(withSteps({{"ratio", 1}})),
            "spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1");
}

TEST(SchemaValidation, IntOrStringAcceptsBothAndNothingElse) {
  EXPECT_TRUE(validateSpec(withSteps({{"port", 8080}})).empty());
  EXPECT_TRUE(validateSpec(withSteps({{"port", "http"}})).empty());
  EXPECT_EQ(onlyError(withSteps({{"port", true}})),
            "spec.port: Invalid value: \"boolean\": spec.port in body must be of type "
            "integer,string: \"boolean\"");
}

TEST(SchemaValidation, NullIsOnlyAcceptedWhenNullable) {
  EXPECT_TRUE(validateSpec(withSteps({{"optional", nullptr}})).empty());
  json spec = withSteps({{"tags", {"a", nullptr}}});
  EXPECT_EQ(onlyError(spec),
            "spec.tags[1]: Invalid value: \"null\": spec.tags[1] in body must be "
            "of type string: \"null\"");
}

TEST(SchemaValidation, MissingRequiredFields) {
  auto causes = validateSpec(j(R"({"steps": [{"timeout": "1m"}]})"));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueRequired");
  EXPECT_EQ(causes[0].field, "spec.steps[0].name");
  EXPECT_EQ(causes[0].message, "Required value");
  EXPECT_EQ(onlyError(json::object()), "spec.steps: Required value");
}

TEST(SchemaValidation, RequiredAtTheRoot) {
  json schema =
      j(R"({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}})");
  json o = validObject();
  o.erase("spec");
  auto causes = validateCustomObject(o, schema);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec");
  EXPECT_EQ(causes[0].message, "Required value");
}

TEST(SchemaValidation, EnumListsTheSupportedValues) {
  auto causes = validateSpec(withSteps({{"mode", "Panic"}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueNotSupported");
  EXPECT_EQ(causes[0].message,
            "Unsupported value: \"Panic\": supported values: \"Abort\", \"Continue\"");
}

TEST(SchemaValidation, NumericEnumValuesAreQuoted) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "n": {"type": "integer", "enum": [1, 2]}}}}})");
  EXPECT_EQ(onlyError({{"n", 3}}, schema),
            "spec.n: Unsupported value: 3: supported values: \"1\", \"2\"");
  EXPECT_TRUE(validateSpec({{"n", 2}}, schema).empty());
}

TEST(SchemaValidation, MinimumAndMaximum) {
  EXPECT_EQ(onlyError(withSteps({{"replicas", 0}})),
            "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or "
            "equal to 1");
  EXPECT_EQ(
      onlyError(withSteps({{"replicas", 11}})),
      "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10");
}

TEST(SchemaValidation, ExclusiveMaximumWithAFloatBound) {
  EXPECT_EQ(onlyError(withSteps({{"ratio", 1.5}})),
            "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5");
  EXPECT_TRUE(validateSpec(withSteps({{"ratio", 1.25}})).empty());
}

TEST(SchemaValidation, MultipleOf) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "i": {"type": "integer", "multipleOf": 5}, "f": {"type": "number", "multipleOf": 0.5}}}}})");
  EXPECT_EQ(onlyError({{"i", 7}}, schema),
            "spec.i: Invalid value: 7: spec.i in body should be a multiple of 5");
  EXPECT_EQ(onlyError({{"f", 0.75}}, schema),
            "spec.f: Invalid value: 0.75: spec.f in body should be a multiple of 0.5");
  EXPECT_TRUE(validateSpec({{"i", 10}, {"f", 1.5}}, schema).empty());
}

TEST(SchemaValidation, PatternIsSearchedNotAnchored) {
  EXPECT_EQ(onlyError(withSteps({{"name", "abc1"}})),
            "spec.name: Invalid value: \"abc1\": spec.name in body should match '^[a-z]+$'");
}

TEST(SchemaValidation, PatternsUseGoSpellings) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "p": {"type": "string", "pattern": "(?i)^[a-z]+\\z"}}}}})");
  EXPECT_TRUE(validateSpec({{"p", "AbC"}}, schema).empty());
  EXPECT_EQ(validateSpec({{"p", "ab1"}}, schema).size(), 1u);
}

TEST(SchemaValidation, PatternsAreGoRegexpsMatchedUnanchoredAsByKubeApiserver) {
  // prometheus-operator's PrometheusRule CRD uses ^(?i)...; Go 1.22 names
  // groups (?<w>...). The messages are kube-apiserver v1.33's for this schema.
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "onFailure": {"type": "string", "pattern": "^(?i)(abort|warn)?$"},
      "word": {"type": "string", "pattern": "[a-z]+"},
      "named": {"type": "string", "pattern": "^(?<w>[a-z]+)-(?P<n>[0-9])$"}}}}})");
  EXPECT_TRUE(checkStructural(schema).empty());
  EXPECT_TRUE(
      validateSpec({{"onFailure", "Warn"}, {"word", "ABCx1"}, {"named", "ab-1"}}, schema).empty());
  EXPECT_TRUE(validateSpec({{"onFailure", ""}}, schema).empty());
  std::vector<std::string> messages;
  for (const auto& c :
       validateSpec({{"onFailure", "ignore"}, {"word", "123"}, {"named", "ab-12"}}, schema)) {
    messages.push_back(c.field + ": " + c.message);
  }
  EXPECT_EQ(messages,
            (std::vector<std::string>{
                "spec.named: Invalid value: \"ab-12\": spec.named in body should match "
                "'^(?<w>[a-z]+)-(?P<n>[0-9])$'",
                "spec.onFailure: Invalid value: \"ignore\": spec.onFailure in body should match "
                "'^(?i)(abort|warn)?$'",
                "spec.word: Invalid value: \"123\": spec.word in body should match '[a-z]+'"}));
}

TEST(SchemaValidation, MaxLengthIsTooLongWithoutTheValue) {
  auto causes = validateSpec(withSteps({{"name", "abcdefghijkl"}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueTooLong");
  EXPECT_EQ(causes[0].message, "Too long: may not be more than 10 bytes");
}

TEST(SchemaValidation, MinLengthCountsCharactersNotBytes) {
  EXPECT_EQ(onlyError(withSteps({{"name", "a"}})),
            "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long");
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "s": {"type": "string", "maxLength": 5}}}}})");
  EXPECT_TRUE(validateSpec({{"s", "h\u00e9llo"}}, schema).empty());
}

TEST(SchemaValidation, StringChecksStopAtTheFirstFailure) {
  auto causes = validateSpec(withSteps({{"name", "ABCDEFGHIJKLM"}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueTooLong");
}

TEST(SchemaValidation, ItemCounts) {
  EXPECT_EQ(onlyError(withSteps({{"tags", json::array()}})),
            "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items");
  auto causes = validateSpec(withSteps({{"tags", {"a", "b", "c", "d", "e"}}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueTooMany");
  EXPECT_EQ(causes[0].message, "Too many: 5: must have at most 3 items");
}

TEST(SchemaValidation, UniqueItems) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "u": {"type": "array", "uniqueItems": true, "items": {"type": "integer"}}}}}})");
  EXPECT_EQ(onlyError({{"u", {1, 2, 1}}}, schema),
            "spec.u: Invalid value: \"\": spec.u in body shouldn't contain duplicates");
}

TEST(SchemaValidation, PropertyCounts) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "m": {"type": "object", "minProperties": 1, "maxProperties": 2,
            "additionalProperties": {"type": "string"}}}}}})");
  EXPECT_EQ(onlyError({{"m", json::object()}}, schema),
            "spec.m: Invalid value: 0: spec.m in body should have at least 1 properties");
  EXPECT_EQ(onlyError({{"m", {{"a", "1"}, {"b", "2"}, {"c", "3"}}}}, schema),
            "spec.m: Too many: 3: must have at most 2 items");
}

TEST(SchemaValidation, MapValuesAreValidatedWithTheirKeyInThePath) {
  EXPECT_EQ(onlyError(withSteps({{"labels", {{"team", "payments"}}}})),
            "spec.labels.team: Too long: may not be more than 3 bytes");
  EXPECT_EQ(onlyError(withSteps({{"labels", {{"n", 5}}}})),
            "spec.labels.n: Invalid value: \"integer\": spec.labels.n in body must be of type "
            "string: \"integer\"");
}

TEST(SchemaValidation, DateTimeFormat) {
  EXPECT_TRUE(validateSpec(withSteps({{"at", "2024-05-01T10:00:00Z"}})).empty());
  EXPECT_TRUE(validateSpec(withSteps({{"at", "2024-05-01T10:00:00.123+02:00"}})).empty());
  auto causes = validateSpec(withSteps({{"at", "yesterday"}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueTypeInvalid");
  EXPECT_EQ(
      causes[0].message,
      "Invalid value: \"yesterday\": spec.at in body must be of type date-time: \"yesterday\"");
}

TEST(SchemaValidation, OtherStringFormats) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "d": {"type": "string", "format": "duration"}, "u": {"type": "string", "format": "uuid"},
      "ip": {"type": "string", "format": "ipv4"}, "day": {"type": "string", "format": "date"},
      "unknown": {"type": "string", "format": "no-such-format"}}}}})");
  EXPECT_TRUE(validateSpec({{"d", "1h30m"},
                            {"u", "123e4567-e89b-12d3-a456-426614174000"},
                            {"ip", "10.0.0.1"},
                            {"day", "2024-02-29"},
                            {"unknown", "x"}},
                           schema)
                  .empty());
  EXPECT_EQ(
      validateSpec({{"d", "soon"}, {"u", "x"}, {"ip", "300.1.1.1"}, {"day", "2023-02-29"}}, schema)
          .size(),
      4u);
}

TEST(SchemaValidation, Int32FormatRangeIsAnUnattributedError) {
  EXPECT_TRUE(validateSpec(withSteps({{"small", 2147483647}})).empty());
  auto causes = validateSpec(withSteps({{"small", 3000000000LL}}));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "<nil>");
  EXPECT_EQ(causes[0].message,
            "Invalid value: \"\": Checked value must be of type integer with format int32 in "
            "spec.small");
}

TEST(SchemaValidation, ErrorsInListItemsCarryTheIndex) {
  auto causes = validateSpec(j(R"({"steps": [{"name": "a"}, {"name": 5, "timeout": 3}]})"));
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].field, "spec.steps[1].name");
  EXPECT_EQ(causes[1].field, "spec.steps[1].timeout");
  EXPECT_EQ(causes[1].message,
            "Invalid value: \"integer\": spec.steps[1].timeout in body must be "
            "of type string: \"integer\"");
}

const json kComposition = j(R"({"type": "object", "properties": {"spec": {"type": "object",
    "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
    "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
    "not": {"required": ["c"]}}}})");

TEST(SchemaValidation, OneOfNeedsExactlyOneMatch) {
  auto causes = validateSpec({{"a", "x"}, {"b", "y"}}, kComposition);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "<nil>");
  EXPECT_EQ(causes[0].message,
            "Invalid value: \"\": \"spec\" must validate one and only one schema "
            "(oneOf). Found 2 valid alternatives");
  causes = validateSpec(json::object(), kComposition);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].message,
            "Invalid value: \"\": \"spec\" must validate one and only one schema "
            "(oneOf). Found none valid");
  EXPECT_EQ(causes[1].field, "spec.a");
  EXPECT_TRUE(validateSpec({{"a", "x"}}, kComposition).empty());
}

TEST(SchemaValidation, AnyOfAllOfAndNot) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object",
      "properties": {"n": {"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 0}],
                           "allOf": [{"minimum": -5}], "not": {"enum": [3]}}}}}})");
  auto causes = validateSpec({{"n", 5}}, schema);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].message,
            "Invalid value: \"\": \"spec.n\" must validate at least one schema (anyOf)");
  EXPECT_EQ(causes[1].message,
            "Invalid value: 5: spec.n in body should be greater than or equal to 10");
  causes = validateSpec({{"n", -7}}, schema);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[1].message,
            "Invalid value: \"\": \"spec.n\" must validate all the schemas "
            "(allOf). None validated");
  causes = validateSpec({{"n", 3}}, schema);
  ASSERT_GE(causes.size(), 1u);
  EXPECT_EQ(causes.back().message,
            "Invalid value: \"\": \"spec.n\" must not validate the schema (not)");
}

TEST(SchemaValidation, EmbeddedResourcesNeedApiVersionAndKind) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                   "x-kubernetes-preserve-unknown-fields": true}}}}})");
  auto causes = validateSpec({{"template", {{"kind", ""}}}}, schema);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].field, "spec.template.apiVersion");
  EXPECT_EQ(causes[0].message, "Required value: must not be empty");
  EXPECT_EQ(causes[1].field, "spec.template.kind");
  EXPECT_EQ(causes[1].message, "Invalid value: \"\": must not be empty");
  EXPECT_TRUE(
      validateSpec({{"template", {{"apiVersion", "v1"}, {"kind", "Pod"}}}}, schema).empty());
}

TEST(SchemaValidation, ListTypeSetRejectsDuplicates) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}}}}})");
  auto causes = validateSpec({{"s", {"a", "b", "a", "a"}}}, schema);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueDuplicate");
  EXPECT_EQ(causes[0].field, "spec.s[2]");
  EXPECT_EQ(causes[0].message, "Duplicate value: \"a\"");
}

TEST(SchemaValidation, ListTypeMapRejectsDuplicateKeys) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "m": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                       "v": {"type": "integer"}}}}}}}})");
  auto causes = validateSpec(
      j(R"({"m": [{"name": "a", "v": 1}, {"name": "b"}, {"name": "a", "v": 2}]})"), schema);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.m[2]");
  EXPECT_EQ(causes[0].message, "Duplicate value: map[string]interface {}{\"name\":\"a\"}");
}

TEST(SchemaValidation, ListTypeMapNeedsObjects) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "m": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"x-kubernetes-int-or-string": true}}}}}})");
  auto causes = validateSpec(j(R"({"m": [{"name": "a"}, 5]})"), schema);
  ASSERT_FALSE(causes.empty());
  EXPECT_EQ(causes.back().field, "spec.m[1]");
  EXPECT_EQ(causes.back().message,
            "Invalid value: 5: must be an object for an array of list-type map");
}

TEST(SchemaValidation, SchemaErrorsComeBeforeListTypeErrors) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
      "n": {"type": "integer"}}}}})");
  auto causes = validateSpec(j(R"({"s": ["a", "a"], "n": "x"})"), schema);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].field, "spec.n");
  EXPECT_EQ(causes[1].field, "spec.s[1]");
}

TEST(SchemaValidation, PruningHappensBeforeValidation) {
  // An unknown field with a wrong type is pruned, never reported.
  EXPECT_TRUE(validateSpec(withSteps({{"notInSchema", {{"deep", "x"}}}})).empty());
}

TEST(SchemaValidation, NullSchemaAcceptsAnything) {
  json o = validObject();
  o["spec"]["anything"] = 1;
  EXPECT_TRUE(validateCustomObject(o, nullptr).empty());
  EXPECT_EQ(o["spec"]["anything"], 1);
}

TEST(InvalidMessage, OneCauseInlineSeveralInBracketsDuplicatesOnce) {
  StatusCause a{"FieldValueRequired", "Required value", "spec.a"};
  StatusCause b{"FieldValueInvalid", "Invalid value: 1: bad", "spec.b"};
  EXPECT_EQ(invalidMessage({a}), "spec.a: Required value");
  EXPECT_EQ(invalidMessage({a, b, a}), "[spec.a: Required value, spec.b: Invalid value: 1: bad]");
}

// ------------------------------------------------------- structural schemas

TEST(StructuralSchema, AcceptsAStructuralSchema) { EXPECT_TRUE(checkStructural(kSchema).empty()); }

TEST(StructuralSchema, EveryFieldNeedsAType) {
  json schema = j(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "x": {"description": "no type"}}}}})");
  EXPECT_EQ(checkStructural(schema),
            std::vector<std::string>{"properties[spec].properties[x].type: Required value: must "
                                     "not be empty for specified object fields"});
}

TEST(StructuralSchema, RootAndItemsNeedATypeAndArraysNeedItems) {
  EXPECT_EQ(checkStructural(j(R"({"properties": {}})")),
            std::vector<std::string>{"type: Required value: must not be empty at the root"});
  json schema = j(R"({"type": "object", "properties": {"a": {"type": "array"},
                       "b": {"type": "array", "items": {"minimum": 1}}}})");
  EXPECT_EQ(checkStructural(schema),
            (std::vector<std::string>{"properties[a].items: Required value: must be specified",
                                      "properties[b].items.type: Required value: must not be empty "
                                      "for specified array items"}));
}

TEST(StructuralSchema, IntOrStringAndPreserveUnknownFieldsNeedNoType) {
  json schema = j(R"({"type": "object", "properties": {
      "a": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
      "b": {"x-kubernetes-preserve-unknown-fields": true}}})");
  EXPECT_TRUE(checkStructural(schema).empty());
}

TEST(StructuralSchema, PropertiesAndAdditionalPropertiesAreExclusive) {
  json schema = j(R"({"type": "object", "properties": {"m": {"type": "object",
      "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}})");
  EXPECT_EQ(checkStructural(schema),
            std::vector<std::string>{"properties[m].additionalProperties: Forbidden: "
                                     "additionalProperties and properties are mutual exclusive"});
}

TEST(StructuralSchema, RootMustBeAnObjectWithoutAdditionalProperties) {
  auto problems =
      checkStructural(j(R"({"type": "object", "additionalProperties": {"type": "string"}})"));
  EXPECT_EQ(problems, std::vector<std::string>{
                          "additionalProperties: Forbidden: must not be used at the root"});
  EXPECT_EQ(
      checkStructural(j(R"({"type": "string"})")),
      std::vector<std::string>{"type: Invalid value: \"string\": must be object at the root"});
}

TEST(StructuralSchema, ValueValidationsMayNotDeclareTypes) {
  json schema = j(R"({"type": "object", "properties": {"x": {"type": "string",
      "anyOf": [{"type": "string", "minLength": 1}]}}})");
  EXPECT_EQ(checkStructural(schema),
            std::vector<std::string>{
                "properties[x].anyOf[0].type: Forbidden: must be empty to be structural"});
}

TEST(StructuralSchema, MetadataMayOnlyRestrictNameAndGenerateName) {
  json ok = j(R"({"type": "object", "properties": {"metadata": {"type": "object",
      "properties": {"name": {"type": "string", "maxLength": 20}}}}})");
  EXPECT_TRUE(checkStructural(ok).empty());
  json bad = j(R"({"type": "object", "properties": {"metadata": {"type": "object",
      "properties": {"labels": {"type": "object"}}}}})");
  const std::vector<std::string> forbidden = {
      "properties[metadata]: Forbidden: must not specify anything other than name and "
      "generateName, but metadata is implicitly specified"};
  EXPECT_EQ(checkStructural(bad), forbidden);
  // Not even a description (kube-apiserver v1.33 refuses it).
  json described = j(R"({"type": "object", "properties": {"metadata": {"type": "object",
      "description": "Standard object metadata."}}})");
  EXPECT_EQ(checkStructural(described), forbidden);
}

TEST(StructuralSchema, EmbeddedResourceMustBeAnObject) {
  json schema = j(R"({"type": "object", "properties": {"t": {"type": "string",
      "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}}})");
  EXPECT_EQ(checkStructural(schema),
            std::vector<std::string>{"properties[t].type: Invalid value: \"string\": must be "
                                     "object if x-kubernetes-embedded-resource is true"});
}

TEST(StructuralSchema, PatternsMustCompileAsGoRegexps) {
  // kube-apiserver v1.33's messages for these patterns.
  auto problems = checkStructural(j(R"json({"type": "object", "properties": {
      "a": {"type": "string", "pattern": "crit(al"},
      "g": {"type": "string", "pattern": "(?=x)"},
      "p": {"type": "string", "pattern": "(?<>a)"},
      "c": {"type": "string", "pattern": "\\C"}}})json"));
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "properties[a].pattern: Invalid value: \"crit(al\": must be a valid regular "
                "expression, but isn't: error parsing regexp: missing closing ): `crit(al`",
                "properties[c].pattern: Invalid value: \"\\\\C\": must be a valid regular "
                "expression, but isn't: error parsing regexp: invalid escape sequence: `\\C`",
                "properties[g].pattern: Invalid value: \"(?=x)\": must be a valid regular "
                "expression, but isn't: error parsing regexp: invalid or unsupported Perl "
                "syntax: `(?=`",
                "properties[p].pattern: Invalid value: \"(?<>a)\": must be a valid regular "
                "expression, but isn't: error parsing regexp: invalid named capture: `(?<>`"}));
}

TEST(StructuralSchema, UniqueItemsIsForbidden) {
  json schema = j(R"({"type": "object", "properties": {"l": {"type": "array", "uniqueItems": true,
      "items": {"type": "string"}}}})");
  EXPECT_EQ(checkStructural(schema),
            std::vector<std::string>{"properties[l].uniqueItems: Forbidden: uniqueItems cannot be "
                                     "set to true since the runtime complexity becomes quadratic"});
}

TEST(StructuralSchema, CausesCarryTheSchemaPath) {
  json schema = j(R"({"type": "object", "properties": {"spec": {}}})");
  auto causes = checkStructuralSchema(schema, "spec.versions[0].schema.openAPIV3Schema");
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueRequired");
  EXPECT_EQ(causes[0].field, "spec.versions[0].schema.openAPIV3Schema.properties[spec].type");
  EXPECT_EQ(causes[0].message, "Required value: must not be empty for specified object fields");
}

}  // namespace
}  // namespace remedy::sandbox
