#include "api/yaml_json.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using nlohmann::json;

json yaml(const std::string& text) {
  Result<json> j = yamlToJson(text);
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error());
  return j.ok() ? j.value() : json();
}

TEST(YamlToJson, ResolvesScalarsAsKubectlDoes) {
  json j = yaml(R"(
null1: ~
null2: null
null3:
is_yes: yes
is_off: off
is_on: On
t: true
f: FALSE
int: 42
neg: -7
octal: 0755
hex: 0x1F
under: 1_000
float: 1.5
exp: 1e3
str: hello
quoted: "42"
single: 'true'
version: 1.10
time: 2024-05-01T03:00:00Z
plus: "+2"
big: 99999999999999999999
)");
  EXPECT_TRUE(j["null1"].is_null());
  EXPECT_TRUE(j["null2"].is_null());
  EXPECT_TRUE(j["null3"].is_null());
  EXPECT_EQ(j["is_yes"], true);
  EXPECT_EQ(j["is_off"], false);
  EXPECT_EQ(j["is_on"], true);
  EXPECT_EQ(j["t"], true);
  EXPECT_EQ(j["f"], false);
  EXPECT_EQ(j["int"], 42);
  EXPECT_TRUE(j["int"].is_number_integer());
  EXPECT_EQ(j["neg"], -7);
  EXPECT_EQ(j["octal"], 493);
  EXPECT_EQ(j["hex"], 31);
  EXPECT_EQ(j["under"], 1000);
  EXPECT_EQ(j["float"], 1.5);
  EXPECT_EQ(j["exp"], 1000.0);
  EXPECT_EQ(j["str"], "hello");
  EXPECT_EQ(j["quoted"], "42");
  EXPECT_EQ(j["single"], "true");
  EXPECT_EQ(j["version"], 1.1) << "an unquoted 1.10 is a number, as in kubectl";
  EXPECT_EQ(j["time"], "2024-05-01T03:00:00Z");
  EXPECT_EQ(j["plus"], "+2");
  EXPECT_TRUE(j["big"].is_number_float());
}

TEST(YamlToJson, KeepsBlockScalarsAsStrings) {
  json j = yaml("a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\nc: !!str 5\n");
  EXPECT_EQ(j["a"], "line 1\nline 2\n");
  EXPECT_EQ(j["b"], "folded text");
  EXPECT_EQ(j["c"], "5");
}

TEST(YamlToJson, ConvertsNestedStructuresAndFlowStyle) {
  json j = yaml("spec:\n  steps:\n    - name: a\n      scale: {target: {name: x}, replicas: 3}\n");
  EXPECT_EQ(j, json::parse(
                   R"({"spec": {"steps": [{"name": "a",
                                  "scale": {"target": {"name": "x"}, "replicas": 3}}]}})"));
}

TEST(YamlDocuments, RecordsTheLineOfEveryNode) {
  Result<std::vector<YamlDocument>> docs = parseYamlDocuments(
      "kind: Runbook\n"         // 1
      "spec:\n"                 // 2
      "  steps:\n"              // 3
      "    - name: a\n"         // 4
      "      scale:\n"          // 5
      "        replicas: 3\n"   // 6
      "    - name: b/c\n"       // 7
      "  labels: {a/b: x}\n");  // 8
  ASSERT_TRUE(docs.ok());
  const YamlDocument& doc = docs->at(0);
  EXPECT_EQ(doc.lineOf("/kind"), 1);
  EXPECT_EQ(doc.lineOf("/spec/steps"), 3);
  EXPECT_EQ(doc.lineOf("/spec/steps/0"), 4);
  EXPECT_EQ(doc.lineOf("/spec/steps/0/scale/replicas"), 6);
  EXPECT_EQ(doc.lineOf("/spec/steps/1/name"), 7);
  EXPECT_EQ(doc.lineOf("/spec/labels/a~1b"), 8);
  // A missing field points at its nearest present ancestor.
  EXPECT_EQ(doc.lineOf("/spec/steps/0/scale/target/name"), 5);
}

TEST(YamlDocuments, SplitsStreamsAndSkipsEmptyDocuments) {
  Result<std::vector<YamlDocument>> docs =
      parseYamlDocuments("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ(docs->at(0).json["a"], 1);
  EXPECT_EQ(docs->at(1).json["b"], 2);
  EXPECT_EQ(docs->at(1).lineOf("/b"), 7);
}

TEST(YamlDocuments, ReportsDuplicateKeysWithBothLines) {
  Result<std::vector<YamlDocument>> docs = parseYamlDocuments("a:\n  x: 1\n  z: 2\n  x: 3\n");
  ASSERT_TRUE(docs.ok());
  const YamlDocument& doc = docs->at(0);
  ASSERT_EQ(doc.problems.size(), 1u);
  EXPECT_EQ(doc.problems[0].line, 4);
  EXPECT_EQ(doc.problems[0].error.str(), "a.x: key \"x\" is already defined at line 2");
  EXPECT_EQ(doc.json["a"]["x"], 3) << "the last definition wins, as in sigs.k8s.io/yaml";
}

TEST(YamlDocuments, SyntaxErrorsCarryTheirLine) {
  Result<std::vector<YamlDocument>> docs = parseYamlDocuments("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().rfind("line ", 0), 0u) << docs.error();
  EXPECT_NE(docs.error().find("invalid YAML"), std::string::npos);
}

}  // namespace
}  // namespace remedy::api
