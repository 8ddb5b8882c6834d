// The example Runbooks in runbooks/examples/ are valid, and each file in
// runbooks/invalid/ yields the error its first line announces, at that line:
//   # expect: line 15: spec.steps[1]: has 2 actions (scale, rolloutRestart); a step takes exactly
//   one
// must appear as `FILE:15: spec.steps[1]: has 2 actions ...` in the output.
#include "api/action_catalog.h"
#include "api/runbook_file_validator.h"
#include "api/runbook_validator.h"
#include "api/yaml_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace remedy::api {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> yamlFiles(const std::string& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(REMEDY_SOURCE_DIR) / folder)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ":15: path: message" from "# expect: line 15: path: message".
std::string expectation(const fs::path& path) {
  std::istringstream in(readFile(path));
  std::string line;
  std::getline(in, line);
  const std::string marker = "# expect: line ";
  if (line.rfind(marker, 0) != 0) return "";
  std::string rest = line.substr(marker.size());
  return ":" + rest;
}

std::string joinLines(const std::vector<FileError>& errors) {
  std::string out;
  for (const FileError& e : errors) out += e.str() + "\n";
  return out;
}

TEST(ExampleRunbooks, ThereIsOneForEveryAction) {
  std::set<std::string> used;
  for (const fs::path& file : yamlFiles("runbooks/examples")) {
    Result<std::vector<YamlDocument>> docs = parseYamlDocuments(readFile(file));
    ASSERT_TRUE(docs.ok()) << file << ": " << docs.error();
    for (const YamlDocument& doc : docs.value()) {
      for (const auto& step : doc.json["spec"]["steps"]) {
        for (auto it = step.begin(); it != step.end(); ++it) used.insert(it.key());
      }
    }
  }
  // Every action of the catalog, so a new action needs an example.
  for (const std::string& action : actionFields()) {
    EXPECT_TRUE(used.count(action)) << "no example uses " << action;
  }
}

// Every Runbook of the library: runbooks/**/*.yaml but the invalid ones
// and the test files.
std::vector<fs::path> libraryRunbooks() {
  std::vector<fs::path> files;
  fs::path root = fs::path(REMEDY_SOURCE_DIR) / "runbooks";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path& p = entry.path();
    std::string rel = fs::relative(p, root).generic_string();
    if (p.extension() != ".yaml" || rel.rfind("invalid/", 0) == 0) continue;
    if (rel.find("/tests/") != std::string::npos || rel.find(".test.yaml") != std::string::npos) {
      continue;
    }
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Valid, and without warnings (a `when` comparison that can only be false).
TEST(LibraryRunbooks, AreValidWithoutWarnings) {
  std::vector<fs::path> files = libraryRunbooks();
  ASSERT_GE(files.size(), yamlFiles("runbooks/examples").size());
  for (const fs::path& file : files) {
    std::vector<FileError> errors = validateManifestFile(file.string());
    EXPECT_TRUE(errors.empty()) << joinLines(errors);
  }
}

// Each Runbook of the library has a `remedyctl test` file naming it.
TEST(LibraryRunbooks, EachHasATestFile) {
  std::string tests;
  fs::path root = fs::path(REMEDY_SOURCE_DIR) / "runbooks";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.substr(name.size() - 10) == ".test.yaml") {
      tests += readFile(entry.path());
    }
  }
  for (const fs::path& file : libraryRunbooks()) {
    std::string name = file.filename().string();
    // remedyctl test has no fake PostgreSQL or Redis yet, nor pods of a
    // Deployment it can name in an alert (src/cli/README.md); runbooks/README.md
    // says which Runbooks that leaves without a test file.
    std::string text = readFile(file);
    if (text.find("\n      postgres:") != std::string::npos ||
        text.find("\n      redis:") != std::string::npos ||
        text.find("owner: Deployment") != std::string::npos) {
      continue;
    }
    EXPECT_NE(tests.find("/" + name), std::string::npos) << name << " has no test file";
  }
}

TEST(InvalidRunbooks, ThereAreAtLeastTwentyDistinctMistakes) {
  std::set<std::string> expectations;
  for (const fs::path& file : yamlFiles("runbooks/invalid")) {
    std::string expected = expectation(file);
    EXPECT_FALSE(expected.empty()) << file << " does not start with \"# expect: line N: \"";
    expectations.insert(expected);
  }
  EXPECT_GE(expectations.size(), 20u);
}

TEST(InvalidRunbooks, EachYieldsItsExpectedMessage) {
  for (const fs::path& file : yamlFiles("runbooks/invalid")) {
    std::string expected = expectation(file);
    std::vector<FileError> errors = validateManifestFile(file.string());
    std::string all = joinLines(errors);
    EXPECT_NE(all.find(expected), std::string::npos)
        << file.filename() << "\n  expected: " << expected << "\n  got:\n"
        << all;
  }
}

}  // namespace
}  // namespace remedy::api
