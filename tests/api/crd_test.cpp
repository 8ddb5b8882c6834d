// The CRDs in crds/ are what `kubectl explain` teaches and what the API
// server enforces, so they are held to the rules of structural schemas and to
// the API's own contract (printer columns, the action catalog, durations).
#include "api/action_catalog.h"
#include "api/crd_schemas.h"
#include "api/duration.h"
#include "api/schema_validator.h"
#include "api/yaml_json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace remedy::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CrdCase {
  std::string kind;
  std::string file;
  std::string plural;
  std::string shortName;
  std::vector<std::string> columns;  // printer columns shown by default, in order
};

const std::vector<CrdCase>& crdCases() {
  static const std::vector<CrdCase> cases = {
      {"Runbook",
       "remedy.dev_runbooks.yaml",
       "runbooks",
       "rb",
       {"Ready", "Steps", "Last Run", "Age"}},
      {"Incident",
       "remedy.dev_incidents.yaml",
       "incidents",
       "inc",
       {"Phase", "Runbook", "Alert", "Current Step", "Age"}},
      {"Approval",
       "remedy.dev_approvals.yaml",
       "approvals",
       "appr",
       {"Incident", "Step", "Decision", "Approver", "Age"}},
  };
  return cases;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

json loadCrd(const CrdCase& c) {
  Result<json> j = yamlToJson(readFile(fs::path(REMEDY_SOURCE_DIR) / "crds" / c.file));
  EXPECT_TRUE(j.ok()) << c.file << ": " << (j.ok() ? "" : j.error());
  return j.ok() ? j.value() : json();
}

const json& schemaOf(const json& crd) {
  return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

// Walks a schema and reports every violation of the structural-schema rules
// (Kubernetes docs, "Specifying a structural schema" in the CustomResourceDefinition
// task) and of "every field has a description".
void checkStructural(const json& node, const std::string& path, bool inLogic,
                     std::vector<std::string>& problems) {
  auto problem = [&](const std::string& what) { problems.push_back(path + ": " + what); };
  bool intOrString = node.value("x-kubernetes-int-or-string", false);
  bool preserve = node.value("x-kubernetes-preserve-unknown-fields", false);
  if (inLogic) {
    for (const char* forbidden : {"type", "description", "default", "additionalProperties",
                                  "nullable", "x-kubernetes-preserve-unknown-fields"}) {
      if (node.contains(forbidden))
        problem(std::string("\"") + forbidden + "\" inside a logical junctor");
    }
  } else {
    // The root's metadata is the one field without a description:
    // kube-apiserver refuses anything in it but type (and name/generateName).
    bool rootMetadata = path.find('.') == path.rfind('.') && path.size() > 9 &&
                        path.compare(path.size() - 9, 9, ".metadata") == 0;
    if (!node.contains("description") && !rootMetadata) problem("no description");
    if (!node.contains("type") && !intOrString && !preserve) problem("no type");
  }
  if (node.contains("properties") && node.contains("additionalProperties")) {
    problem("both properties and additionalProperties");
  }
  if (node.contains("properties") && node.value("type", "object") != "object") {
    problem("properties on a non-object");
  }
  if (node.contains("pattern")) {
    std::string pattern = node["pattern"];
    try {
      std::regex re(pattern);
    } catch (const std::regex_error&) {
      problem("pattern does not compile");
    }
    // Go's RE2 has no lookaround or backreferences.
    for (const char* unsupported : {"(?=", "(?!", "(?<", "\\1"}) {
      if (pattern.find(unsupported) != std::string::npos) problem("pattern not RE2-compatible");
    }
    if (pattern.find("(ms|s|m|h)") != std::string::npos && pattern != kDurationPattern) {
      problem("a duration pattern that differs from kDurationPattern");
    }
  }
  if (node.contains("enum") && node.contains("type")) {
    for (const auto& value : node["enum"]) {
      if (node["type"] == "string" && !value.is_string()) problem("enum value of the wrong type");
    }
  }
  if (node.contains("required") && node.contains("properties") && !inLogic) {
    for (const auto& name : node["required"]) {
      if (!node["properties"].contains(name.get<std::string>())) {
        problem("requires undeclared " + name.get<std::string>());
      }
    }
  }
  if (node.value("x-kubernetes-list-type", "") == "map") {
    for (const auto& key : node["x-kubernetes-list-map-keys"]) {
      const json& item = node["items"];
      bool required = item.contains("required") &&
                      std::find(item["required"].begin(), item["required"].end(), key) !=
                          item["required"].end();
      if (!required) problem("list-map key " + key.get<std::string>() + " is not required");
    }
  }
  if (node.contains("properties")) {
    for (auto it = node["properties"].begin(); it != node["properties"].end(); ++it) {
      checkStructural(it.value(), path + "." + it.key(), inLogic, problems);
    }
  }
  if (node.contains("items")) checkStructural(node["items"], path + "[]", inLogic, problems);
  if (node.contains("additionalProperties") && node["additionalProperties"].is_object()) {
    checkStructural(node["additionalProperties"], path + "{}", inLogic, problems);
  }
  for (const char* junctor : {"oneOf", "anyOf", "allOf"}) {
    if (!node.contains(junctor)) continue;
    for (const auto& branch : node[junctor]) {
      // The int-or-string idiom is the one place types may appear in anyOf.
      if (intOrString && std::string(junctor) == "anyOf") continue;
      checkStructural(branch, path + "." + junctor, true, problems);
      for (const auto& name : branch.value("required", json::array())) {
        if (!node["properties"].contains(name.get<std::string>())) {
          problems.push_back(path + ": " + junctor + " requires undeclared " +
                             name.get<std::string>());
        }
      }
    }
  }
}

// The schema node at a printer column's JSON path, such as .status.phase.
const json* nodeAt(const json& schema, const std::string& jsonPath) {
  std::string path = std::regex_replace(jsonPath, std::regex(R"(\[\?\(.*\)\])"), "[]");
  const json* node = &schema;
  std::stringstream in(path.substr(1));
  std::string segment;
  while (std::getline(in, segment, '.')) {
    bool list = segment.size() > 2 && segment.substr(segment.size() - 2) == "[]";
    if (list) segment = segment.substr(0, segment.size() - 2);
    if (!node->contains("properties") || !(*node)["properties"].contains(segment)) return nullptr;
    node = &(*node)["properties"][segment];
    if (list) node = &(*node)["items"];
  }
  return node;
}

TEST(Crds, AreNamespacedV1alpha1WithShortNamesCategoriesAndStatus) {
  for (const CrdCase& c : crdCases()) {
    json crd = loadCrd(c);
    EXPECT_EQ(crd["apiVersion"], "apiextensions.k8s.io/v1");
    EXPECT_EQ(crd["kind"], "CustomResourceDefinition");
    EXPECT_EQ(crd["metadata"]["name"], c.plural + ".remedy.dev");
    const json& spec = crd["spec"];
    EXPECT_EQ(spec["group"], "remedy.dev");
    EXPECT_EQ(spec["scope"], "Namespaced");
    EXPECT_EQ(spec["names"]["kind"], c.kind);
    EXPECT_EQ(spec["names"]["plural"], c.plural);
    EXPECT_EQ(spec["names"]["listKind"], c.kind + "List");
    EXPECT_EQ(spec["names"]["shortNames"], json::array({c.shortName}));
    EXPECT_EQ(spec["names"]["categories"], json::array({"remedy"}));
    ASSERT_EQ(spec["versions"].size(), 1u);
    const json& version = spec["versions"][0];
    EXPECT_EQ(version["name"], "v1alpha1");
    EXPECT_EQ(version["served"], true);
    EXPECT_EQ(version["storage"], true);
    EXPECT_EQ(version["subresources"], json({{"status", json::object()}}));
  }
}

TEST(Crds, HaveThePrinterColumnsOfTheIssue) {
  for (const CrdCase& c : crdCases()) {
    json crd = loadCrd(c);
    std::vector<std::string> shown;
    for (const auto& column : crd["spec"]["versions"][0]["additionalPrinterColumns"]) {
      if (column.value("priority", 0) == 0) shown.push_back(column["name"]);
      std::string path = column["jsonPath"];
      if (path.rfind(".metadata.", 0) == 0) continue;
      EXPECT_NE(nodeAt(schemaOf(crd), path), nullptr)
          << c.kind << " column " << column["name"] << " reads " << path << ", not in the schema";
    }
    EXPECT_EQ(shown, c.columns) << c.kind;
  }
  json runbooks = loadCrd(crdCases()[0]);
  EXPECT_EQ(runbooks["spec"]["versions"][0]["additionalPrinterColumns"][0]["jsonPath"],
            ".status.conditions[?(@.type==\"Ready\")].status");
}

TEST(Crds, SchemasAreStructuralAndDescribeEveryField) {
  for (const CrdCase& c : crdCases()) {
    json crd = loadCrd(c);
    const json& schema = schemaOf(crd);
    std::vector<std::string> problems;
    checkStructural(schema, c.kind, false, problems);
    for (const std::string& p : problems) ADD_FAILURE() << p;
    // metadata may say nothing but its type (kube-apiserver refuses even a
    // description: "must not specify anything other than name and
    // generateName, but metadata is implicitly specified").
    EXPECT_EQ(schema["properties"]["metadata"], json({{"type", "object"}})) << c.kind;
    EXPECT_EQ(schema["properties"]["spec"]["type"], "object");
    EXPECT_EQ(schema["properties"]["status"]["type"], "object");
  }
}

TEST(Crds, TheStructuralCheckCatchesViolations) {
  json bad = json::parse(R"json({"description": "root", "type": "object", "properties": {
      "a": {"type": "string"},
      "b": {"description": "b", "properties": {"c": {"description": "c", "type": "string"}}},
      "d": {"description": "d", "type": "object", "oneOf": [{"type": "object", "required": ["e"]}]},
      "f": {"description": "f", "type": "string", "pattern": "^(?!x)"}}})json");
  std::vector<std::string> problems;
  checkStructural(bad, "bad", false, problems);
  auto has = [&](const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p == text; });
  };
  EXPECT_TRUE(has("bad.a: no description"));
  EXPECT_TRUE(has("bad.b: no type"));
  EXPECT_TRUE(has("bad.d.oneOf: \"type\" inside a logical junctor"));
  EXPECT_TRUE(has("bad.d: oneOf requires undeclared e"));
  EXPECT_TRUE(has("bad.f: pattern not RE2-compatible"));
}

TEST(Crds, StepsAreADiscriminatedUnionOfTheActionCatalog) {
  json crd = loadCrd(crdCases()[0]);
  const json& step = schemaOf(crd)["properties"]["spec"]["properties"]["steps"]["items"];
  std::vector<std::string> union_;
  for (const auto& branch : step["oneOf"]) union_.push_back(branch["required"][0]);
  EXPECT_EQ(union_, actionFields());
  for (const ActionInfo& action : actionCatalog()) {
    ASSERT_TRUE(step["properties"].contains(action.field)) << action.field;
    std::string description = step["properties"][action.field]["description"];
    for (const std::string& output : action.outputs) {
      EXPECT_NE(description.find("`" + output + "`"), std::string::npos)
          << action.field << " does not document its output " << output;
    }
  }
  // Step names and parameters are list-type maps: the API server rejects duplicates.
  const json& spec = schemaOf(crd)["properties"]["spec"]["properties"];
  EXPECT_EQ(spec["steps"]["x-kubernetes-list-type"], "map");
  EXPECT_EQ(spec["parameters"]["x-kubernetes-list-type"], "map");
}

TEST(Crds, Issue10FieldsAreDesignedIn) {
  json runbook = loadCrd(crdCases()[0]);
  const json& spec = schemaOf(runbook)["properties"]["spec"]["properties"];
  const json& step = spec["steps"]["items"]["properties"];
  for (const char* field : {"when", "revert", "patch", "apply", "waitForResolved"}) {
    EXPECT_TRUE(step.contains(field)) << field;
  }
  EXPECT_TRUE(step["revert"]["properties"].contains("after"));
  EXPECT_TRUE(step["revert"]["properties"].contains("onResolved"));
  EXPECT_TRUE(spec["escalation"]["properties"]["tiers"]["items"]["properties"].contains("after"));
  json incident = loadCrd(crdCases()[1]);
  json sources = schemaOf(incident)["properties"]["spec"]["properties"]["source"]["enum"];
  EXPECT_EQ(sources, json::array({"Alertmanager", "Manual", "Drill"}));
}

TEST(Crds, RunbookPolicyIsClusterScopedStructuralAndNeverNamesASecret) {
  CrdCase c{"RunbookPolicy",
            "remedy.dev_runbookpolicies.yaml",
            "runbookpolicies",
            "rbp",
            {"Runbook Namespaces", "Age"}};
  json crd = loadCrd(c);
  EXPECT_EQ(crd["spec"]["scope"], "Cluster");
  EXPECT_EQ(crd["spec"]["names"]["shortNames"], json::array({"rbp"}));
  EXPECT_EQ(crd["spec"]["names"]["categories"], json::array({"remedy"}));
  const json& version = crd["spec"]["versions"][0];
  EXPECT_FALSE(version.contains("subresources"));
  std::vector<std::string> problems;
  checkStructural(schemaOf(crd), c.kind, false, problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  EXPECT_EQ(schemaOf(crd)["properties"]["metadata"], json({{"type", "object"}}));
  std::vector<std::string> shown;
  for (const auto& column : version["additionalPrinterColumns"]) {
    shown.push_back(column["name"]);
    std::string path = column["jsonPath"];
    if (path.rfind(".metadata.", 0) == 0) continue;
    EXPECT_NE(nodeAt(schemaOf(crd), path), nullptr) << path;
  }
  EXPECT_EQ(shown, c.columns);
  const json& kind = schemaOf(crd)["properties"]["spec"]["properties"]["targets"]["items"]
                                  ["properties"]["kinds"]["items"]["properties"]["kind"];
  EXPECT_EQ(kind["x-kubernetes-validations"][0]["rule"], "self != 'Secret'");
  EXPECT_EQ(crdYaml(c.kind), readFile(fs::path(REMEDY_SOURCE_DIR) / "crds" / c.file));
  // The schema validator enforces the bounds offline too.
  const SchemaValidator* validator = schemaValidatorFor(c.kind);
  ASSERT_NE(validator, nullptr);
  json policy = {{"apiVersion", "remedy.dev/v1alpha1"},
                 {"kind", "RunbookPolicy"},
                 {"metadata", {{"name", "p"}}},
                 {"spec", {{"runbookNamespaces", json::array()}, {"targets", json::array()}}}};
  EXPECT_FALSE(validator->validate(policy).empty());
}

// The Incident's spec is immutable but for the alert's status and endsAt:
// one CEL rule per field, and every map and string a rule compares bounded,
// so kube-apiserver's cost estimate accepts them (tests/tenancy checks the
// real server enforces them).
TEST(Crds, TheIncidentSpecIsImmutableWithBoundedRules) {
  json crd = loadCrd(crdCases()[1]);
  const json& spec = schemaOf(crd)["properties"]["spec"];
  std::vector<std::string> guarded;
  for (const auto& rule : spec["x-kubernetes-validations"]) guarded.push_back(rule["fieldPath"]);
  EXPECT_EQ(guarded, (std::vector<std::string>{".source", ".runbookRef", ".dryRun"}));
  const json& alert = spec["properties"]["alert"];
  guarded.clear();
  for (const auto& rule : alert["x-kubernetes-validations"]) {
    guarded.push_back(rule["fieldPath"]);
    EXPECT_EQ(rule["message"], "is immutable");
  }
  EXPECT_EQ(guarded, (std::vector<std::string>{".name", ".labels", ".annotations", ".fingerprint",
                                               ".startsAt", ".generatorURL"}));
  for (const char* field : {"status", "endsAt"}) {
    EXPECT_EQ(crdYaml("Incident").find(std::string("fieldPath: .") + field + "\n"),
              std::string::npos)
        << field << " must stay mutable: the alert resolving is news";
  }
  const json& props = alert["properties"];
  EXPECT_EQ(props["labels"]["maxProperties"], 128);
  EXPECT_EQ(props["labels"]["additionalProperties"]["maxLength"], 4096);
  EXPECT_EQ(props["annotations"]["maxProperties"], 128);
  EXPECT_EQ(props["annotations"]["additionalProperties"]["maxLength"], 65536);
  for (const char* field : {"name", "fingerprint", "generatorURL"}) {
    EXPECT_TRUE(props[field].contains("maxLength")) << field;
  }
}

TEST(Crds, TheEmbeddedCopyIsTheFileOnDisk) {
  for (const CrdCase& c : crdCases()) {
    EXPECT_EQ(crdYaml(c.kind), readFile(fs::path(REMEDY_SOURCE_DIR) / "crds" / c.file)) << c.kind;
    EXPECT_NE(schemaValidatorFor(c.kind), nullptr);
    EXPECT_EQ(crdJson(c.kind)["spec"]["names"]["kind"], c.kind);
  }
  EXPECT_EQ(schemaValidatorFor("Pod"), nullptr);
  EXPECT_EQ(crdYaml("Pod"), "");
}

}  // namespace
}  // namespace remedy::api
