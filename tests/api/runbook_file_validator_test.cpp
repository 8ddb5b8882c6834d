#include "api/runbook_file_validator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace remedy::api {
namespace {

std::vector<std::string> validate(const std::string& text) {
  std::vector<std::string> out;
  for (const FileError& e : validateManifestText(text, "rb.yaml")) out.push_back(e.str());
  return out;
}

const char* kValid = R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: restart-api
spec:
  triggers:
    - alertName: ApiDown
  steps:
    - name: restart
      rolloutRestart:
        target: {name: api}
)";

TEST(ValidateManifest, AValidRunbookHasNoErrors) {
  EXPECT_EQ(validate(kValid), std::vector<std::string>{});
}

TEST(ValidateManifest, PrintsFileLinePathAndMessage) {
  std::string text = kValid;
  text += "      timeout: soon\n";
  EXPECT_EQ(validate(text),
            std::vector<std::string>{"rb.yaml:12: spec.steps[0].timeout: \"soon\" is not a "
                                     "duration such as \"30s\", \"5m\" or \"1h30m\""});
}

TEST(ValidateManifest, WarnsOfAWhenThatCanOnlyBeFalseWithoutRefusingIt) {
  std::string text = kValid;
  text += "      when: alert.labels.team == \"\" or alert.labels.env in []\n";
  std::vector<FileError> found = validateManifestText(text, "rb.yaml");
  ASSERT_EQ(found.size(), 2u);
  for (const FileError& e : found) EXPECT_TRUE(e.warning) << e.str();
  EXPECT_EQ(found[0].str(),
            "rb.yaml:12: warning: spec.steps[0].when: alert.labels.team == \"\" can only be "
            "false: an empty alert label is a missing one, and a comparison with a missing value "
            "is false; write not has(alert.labels.team)");
  EXPECT_EQ(found[1].str(),
            "rb.yaml:12: warning: spec.steps[0].when: alert.labels.env in [] can only be false: "
            "the list is empty");
  // has() validates like any reference.
  text = kValid;
  text += "      when: has(alert.labels.team) and not has(params.x)\n";
  EXPECT_EQ(validate(text),
            std::vector<std::string>{
                "rb.yaml:12: spec.steps[0].when: params.x refers to unknown parameter \"x\""});
}

TEST(ValidateManifest, ChecksEveryDocumentAndSkipsOtherApiGroups) {
  std::string text = std::string(R"(apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
)") + kValid + R"(---
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: second
spec:
  triggers:
    - alertName: ApiDown
  steps:
    - name: restart
      rolloutRestart:
        target: {name: api}
    - name: restart
      onFailure: Ignore
      rolloutRestart:
        target: {name: api}
)";
  EXPECT_EQ(validate(text),
            (std::vector<std::string>{
                "rb.yaml:29: spec.steps[1].name: duplicate step name \"restart\" (also "
                "spec.steps[0])",
                "rb.yaml:30: spec.steps[1].onFailure: Unsupported value: \"Ignore\": supported "
                "values: \"Abort\", \"Continue\", \"Escalate\""}));
}

TEST(ValidateManifest, ChecksIncidentsAndApprovalsAgainstTheirSchemas) {
  EXPECT_EQ(validate(R"(apiVersion: remedy.dev/v1alpha1
kind: Incident
metadata:
  name: manual-1
spec:
  source: Manual
  alert:
    status: firing
---
apiVersion: remedy.dev/v1alpha1
kind: Approval
metadata:
  name: ok
spec:
  incidentRef: {name: manual-1}
  decision: Approve
  approver: alice
)"),
            std::vector<std::string>{"rb.yaml:7: spec.alert.name: Required value"});
}

TEST(ValidateManifest, ChecksTheItemsOfAList) {
  std::string text = R"(apiVersion: v1
kind: List
items:
  - apiVersion: remedy.dev/v1alpha1
    kind: Runbook
    metadata: {name: a}
    spec:
      steps:
        - name: s
          scale: {target: {name: api}, replicas: "+x"}
)";
  EXPECT_EQ(validate(text),
            std::vector<std::string>{"rb.yaml:10: items[0].spec.steps[0].scale.replicas: \"+x\" "
                                     "is not a number or a relative change like \"+2\""});
}

TEST(ValidateManifest, ReportsMissingKindsAndUnknownRemedyKinds) {
  EXPECT_EQ(validate("metadata: {name: x}\n"),
            (std::vector<std::string>{"rb.yaml:1: apiVersion: Required value",
                                      "rb.yaml:1: kind: Required value"}));
  EXPECT_EQ(validate("apiVersion: remedy.dev/v1alpha1\nkind: Runbok\n"),
            std::vector<std::string>{"rb.yaml:2: kind: \"Runbok\" is not a remedy.dev kind; use "
                                     "Runbook, Incident or Approval"});
  EXPECT_EQ(validate("- a\n- b\n"),
            std::vector<std::string>{"rb.yaml:1: a manifest must be a mapping, not array"});
}

TEST(ValidateManifest, ReportsYamlErrorsWithTheirLine) {
  std::vector<std::string> errors = validate("apiVersion: v1\nkind: [Runbook\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("rb.yaml:", 0), 0u);
  EXPECT_NE(errors[0].find("invalid YAML"), std::string::npos);
  EXPECT_EQ(
      validate(std::string(kValid) + "      timeout: 1m\n      timeout: 2m\n"),
      std::vector<std::string>{
          "rb.yaml:13: spec.steps[0].timeout: key \"timeout\" is already defined at line 12"});
}

TEST(ValidateManifest, ReadsFiles) {
  std::filesystem::path path = std::filesystem::temp_directory_path() / "remedy_api_file_test.yaml";
  {
    std::ofstream out(path);
    out << kValid << "      retries: {limit: -1}\n";
  }
  std::vector<FileError> errors = validateManifestFile(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, path.string());
  EXPECT_EQ(errors[0].line, 12);
  EXPECT_EQ(errors[0].path, "spec.steps[0].retries.limit");
  EXPECT_EQ(errors[0].message,
            "Invalid value: -1: spec.steps[0].retries.limit in body should be greater than or "
            "equal to 0");

  std::vector<FileError> missing = validateManifestFile("/nonexistent/rb.yaml");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].str(), "/nonexistent/rb.yaml: cannot read the file");
}

}  // namespace
}  // namespace remedy::api
