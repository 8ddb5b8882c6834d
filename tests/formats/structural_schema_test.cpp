// What formats/structural_schema.h adds to the sandbox's schema checks
// (tests/sandbox/schema_test.cpp has the messages, taken from
// kube-apiserver): where each error is, as a JSON pointer, the unknown
// fields as the strict decoder names them, and which errors stand for a
// failed oneOf.
#include "formats/structural_schema.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace remedy::formats {
namespace {

using nlohmann::json;

const json kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "properties": {
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 2}},
        "steps": {"type": "array", "items": {
          "type": "object",
          "oneOf": [{"required": ["scale"]}, {"required": ["restart"]}],
          "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"},
                         "scale": {"type": "object"}, "restart": {"type": "object"}}}}
      }
    }
  }
})");

TEST(StructuralSchema, EachErrorCarriesThePointerOfItsValue) {
  json object = json::parse(
      R"({"spec": {"labels": {"a/b~c": "long"}, "steps": [{"name": "X", "scale": {}}]}})");
  std::vector<FieldError> errors = validateCustomObject(object, kSchema);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "spec.labels.a/b~c");
  EXPECT_EQ(errors[0].pointer, "/spec/labels/a~1b~0c");
  EXPECT_EQ(errors[0].message, "Too long: may not be more than 2 bytes");
  EXPECT_EQ(errors[1].field, "spec.steps[0].name");
  EXPECT_EQ(errors[1].pointer, "/spec/steps/0/name");
  EXPECT_FALSE(errors[0].alternativeOf);
  EXPECT_FALSE(errors[1].alternativeOf);
}

TEST(StructuralSchema, AFailedOneOfAndItsAlternativeNameTheValue) {
  json object = json::parse(R"({"spec": {"steps": [{"name": "a"}]}})");
  std::vector<FieldError> errors = validateCustomObject(object, kSchema);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "<nil>");
  EXPECT_EQ(errors[0].message,
            "Invalid value: \"\": \"spec.steps[0]\" must validate one and only one schema "
            "(oneOf). Found none valid");
  EXPECT_EQ(errors[0].pointer, "/spec/steps/0");
  EXPECT_EQ(errors[1].field, "spec.steps[0].scale");
  EXPECT_EQ(errors[1].message, "Required value");
  EXPECT_EQ(errors[1].alternativeOf, std::optional<std::string>("/spec/steps/0"));
}

TEST(StructuralSchema, UnknownFieldsAreNamedAsTheStrictDecoderNamesThem) {
  json original = json::parse(
      R"({"spec": {"colour": "red", "steps": [{"name": "a", "scael": {}}], "labels": {"x": "y"}},
          "extra": null})");
  json pruned = original;
  pruneUnknownFields(pruned, kSchema);
  std::vector<UnknownField> unknown = unknownFields(original, pruned);
  ASSERT_EQ(unknown.size(), 2u);
  EXPECT_EQ(unknown[0].path, "spec.colour");
  EXPECT_EQ(unknown[0].pointer, "/spec/colour");
  EXPECT_EQ(unknownFieldMessage(unknown[1]), "unknown field \"spec.steps[0].scael\"");
  EXPECT_EQ(unknown[1].pointer, "/spec/steps/0/scael");
}

}  // namespace
}  // namespace remedy::formats
