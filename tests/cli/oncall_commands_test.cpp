// get, describe and report on recorded Incidents, compared with golden files.
#include "cli_fixture.h"

#include <gmock/gmock.h>

namespace remedy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The recorded Incidents, by what happened to them.
const char* kSucceededReverted = "high-latency-1f5d21be13c72de7";
const char* kSkippedByCooldown = "high-latency-0897780ad3ec78cb";
const char* kApprovedAfterFailure = "high-error-rate-b732996cf9b905c5";
const char* kFailed = "redis-high-memory-ea21d66a504bfd50";
const char* kEscalated = "backend-service-down-9e6e982b60426fd7";
const char* kAwaitingApproval = "database-connection-pool-exhausted-619b57b4ebfd60de";

std::string namespaceOf(const std::string& incident) {
  return incident == std::string(kEscalated) ? "payments" : "shop";
}

// Printable columns of a line, colour escapes left out.
size_t columns(const std::string& line) {
  size_t n = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\033') {
      while (i < line.size() && line[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

class OnCallCommandsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure()) return;
    loadAll();
  }
};

TEST_F(OnCallCommandsTest, GetListsActiveIncidentsFirstWithWhatTheyWaitFor) {
  auto [code, out] = remedyctl({"get"});
  EXPECT_EQ(code, 0) << out;
  expectGolden("get.txt", out);
  EXPECT_THAT(out, HasSubstr("approval of raise-pool"));
  EXPECT_THAT(out, Not(HasSubstr("\033[")));  // not a terminal: no colour
}

TEST_F(OnCallCommandsTest, LsIsGetAndFiltersByPhaseRunbookAndNamespace) {
  auto [code, wide] = remedyctl({"ls", "-o", "wide"});
  EXPECT_EQ(code, 0) << wide;
  expectGolden("get-wide.txt", wide);
  auto [c1, active] = remedyctl({"ls", "--phase", "active"});
  EXPECT_EQ(c1, 0) << active;
  expectGolden("get-active.txt", active);
  auto [c2, latency] = remedyctl({"get", "--runbook", "api-latency", "-n", "shop", "--no-headers"});
  EXPECT_EQ(c2, 0) << latency;
  expectGolden("get-runbook.txt", latency);
  auto [c3, failed] = remedyctl({"get", "--phase", "Failed,Escalated"});
  EXPECT_EQ(c3, 0);
  EXPECT_THAT(failed, HasSubstr(kFailed));
  EXPECT_THAT(failed, HasSubstr(kEscalated));
  EXPECT_THAT(failed, Not(HasSubstr(kSucceededReverted)));
  auto [c4, bad] = remedyctl({"get", "--phase", "Done"});
  EXPECT_EQ(c4, 2);
  EXPECT_THAT(bad, HasSubstr("--phase: \"Done\" is not a phase"));
}

TEST_F(OnCallCommandsTest, GetPrintsJsonAndYamlLikeKubectl) {
  auto [code, out] = remedyctl({"get", kFailed, "-n", "shop", "-o", "json"});
  ASSERT_EQ(code, 0) << out;
  json list = json::parse(out);
  EXPECT_EQ(list["kind"], "List");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["status"]["phase"], "Failed");
  auto [c2, yaml] = remedyctl({"get", kFailed, "-n", "shop", "-o", "yaml"});
  ASSERT_EQ(c2, 0) << yaml;
  auto parsed = api::yamlToJson(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << yaml;
  EXPECT_EQ(*parsed, list);
}

class DescribeTest : public OnCallCommandsTest,
                     public ::testing::WithParamInterface<const char*> {};

TEST_P(DescribeTest, MatchesTheGoldenTimelineAndFitsIn80Columns) {
  std::string name = GetParam();
  auto [code, out] = remedyctl({"describe", name, "-n", namespaceOf(name)});
  EXPECT_EQ(code, 0) << out;
  expectGolden("describe-" + name + ".txt", out);
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(columns(line), 80u) << line;
  }
}

INSTANTIATE_TEST_SUITE_P(RecordedIncidents, DescribeTest,
                         ::testing::Values(kSucceededReverted, kSkippedByCooldown,
                                           kApprovedAfterFailure, kFailed, kEscalated,
                                           kAwaitingApproval));

TEST_F(OnCallCommandsTest, DescribeColoursOnlyWhenAsked) {
  auto [code, plain] = remedyctl({"describe", kFailed, "-n", "shop"});
  EXPECT_EQ(code, 0);
  EXPECT_THAT(plain, Not(HasSubstr("\033[")));
  auto [c2, coloured] = remedyctl({"describe", kFailed, "-n", "shop", "--color", "always"});
  EXPECT_EQ(c2, 0);
  EXPECT_THAT(coloured, HasSubstr("\033[31mFailed"));
  std::istringstream lines(coloured);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(columns(line), 80u) << line;
}

TEST_F(OnCallCommandsTest, DescribeOfAMissingIncidentFailsNamingIt) {
  auto [code, out] = remedyctl({"describe", "nope", "-n", "shop"});
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out, HasSubstr("incident shop/nope"));
}

class ReportTest : public OnCallCommandsTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(ReportTest, MarkdownFollowsThePostIncidentTemplate) {
  std::string name = GetParam();
  auto [code, out] = remedyctl({"report", name, "-n", namespaceOf(name)});
  EXPECT_EQ(code, 0) << out;
  expectGolden("report-" + name + ".md", out);
  for (const char* section :
       {"## Summary", "## Impact", "## Detection", "## Timeline (UTC)", "## Actions taken",
        "### Automatically, by Remedy", "### By people", "## Reverted", "## Escalation",
        "## Root cause", "## Prevention", "## Follow-ups"}) {
    EXPECT_THAT(out, HasSubstr("\n" + std::string(section) + "\n")) << section;
  }
}

INSTANTIATE_TEST_SUITE_P(RecordedIncidents, ReportTest,
                         ::testing::Values(kSucceededReverted, kApprovedAfterFailure, kFailed,
                                           kEscalated, kAwaitingApproval));

TEST_F(OnCallCommandsTest, ReportAsJsonCarriesTheImpactWindowActionsAndFollowUps) {
  auto [code, out] = remedyctl({"report", kAwaitingApproval, "-n", "shop", "--format", "json"});
  ASSERT_EQ(code, 0) << out;
  expectGolden("report-awaiting-approval.json", out);
  json r = json::parse(out);
  EXPECT_EQ(r["impact"]["ongoing"], true);
  EXPECT_EQ(r["reverted"][0]["state"], "Pending");
  EXPECT_EQ(r["actions"]["automatic"][1]["phase"], "AwaitingApproval");
  bool decide = false;
  for (const auto& f : r["followUps"])
    decide |= f.get<std::string>().rfind("Decide on step", 0) == 0;
  EXPECT_TRUE(decide) << r["followUps"].dump(2);

  auto [c2, reverted] = remedyctl({"report", kSucceededReverted, "-n", "shop", "--format=json"});
  ASSERT_EQ(c2, 0) << reverted;
  json done = json::parse(reverted);
  EXPECT_EQ(done["impact"]["ongoing"], false);
  EXPECT_EQ(done["reverted"][0]["state"], "Reverted");
  auto [c3, bad] = remedyctl({"report", kFailed, "-n", "shop", "--format", "pdf"});
  EXPECT_EQ(c3, 2);
  EXPECT_THAT(bad, HasSubstr("--format: \"pdf\""));
}

}  // namespace
}  // namespace remedy::testing
