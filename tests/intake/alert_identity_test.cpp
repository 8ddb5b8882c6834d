#include "intake/alert_identity.h"
#include "intake/bearer_token.h"

#include "../support/child_process.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

namespace remedy::intake {
namespace {

// Values read back from Alertmanager 0.25 (GET /api/v2/alerts after posting
// these label sets).
TEST(AlertIdentity, FingerprintIsAlertmanagers) {
  EXPECT_EQ(alertmanagerFingerprint(
                {{"alertname", "HighLatency"}, {"service", "api"}, {"namespace", "shop"}}),
            "ac11aeed1b056964");
  EXPECT_EQ(alertmanagerFingerprint({{"alertname", "X"}}), "d2aeefc389ca7746");
  // FNV-1a's offset basis: the fingerprint of no labels.
  EXPECT_EQ(alertmanagerFingerprint({}), "cbf29ce484222325");
}

TEST(AlertIdentity, TimestampsOfOneInstantHaveOneCanonicalForm) {
  auto a = parseTimestamp("2024-05-01T12:00:00Z");
  auto b = parseTimestamp("2024-05-01T14:30:00+02:30");
  auto c = parseTimestamp("2024-05-01t12:00:00.000000000z");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(canonicalTimestamp(*a), "2024-05-01T12:00:00Z");
  EXPECT_EQ(canonicalTimestamp(*parseTimestamp("2024-05-01T12:00:00.123400Z")),
            "2024-05-01T12:00:00.1234Z");
  EXPECT_EQ(canonicalTimestamp(*parseTimestamp("1969-12-31T23:59:59.5Z")),
            "1969-12-31T23:59:59.5Z");
  EXPECT_EQ(canonicalTimestamp(*parseTimestamp("2024-02-29T00:00:00-01:00")),
            "2024-02-29T01:00:00Z");
}

TEST(AlertIdentity, GoZeroTimeIsRecognised) {
  auto zero = parseTimestamp("0001-01-01T00:00:00Z");
  ASSERT_TRUE(zero);
  EXPECT_TRUE(isZeroTime(*zero));
  EXPECT_EQ(canonicalTimestamp(*zero), "0001-01-01T00:00:00Z");
  EXPECT_FALSE(isZeroTime(*parseTimestamp("1970-01-01T00:00:00Z")));
}

TEST(AlertIdentity, MalformedTimestampsAreRefused) {
  for (const char* bad : {"", "yesterday", "2024-05-01", "2024-05-01 12:00:00Z",
                          "2024-05-01T12:00:00", "2024-13-01T12:00:00Z", "2023-02-29T12:00:00Z",
                          "2024-05-01T24:00:00Z", "2024-05-01T12:00:00.Z",
                          "2024-05-01T12:00:00+0200", "2024-05-01T12:00:00Zjunk", "1714564800"}) {
    EXPECT_FALSE(parseTimestamp(bad).has_value()) << bad;
  }
}

TEST(AlertIdentity, IncidentNameIsDeterministicAndAValidDnsLabel) {
  auto t = *parseTimestamp("2024-05-01T12:00:00Z");
  std::string name = incidentName("KubePodCrashLooping", "ac11aeed1b056964", t);
  EXPECT_EQ(name, incidentName("KubePodCrashLooping", "ac11aeed1b056964",
                               *parseTimestamp("2024-05-01T13:00:00+01:00")));
  EXPECT_TRUE(std::regex_match(name, std::regex("kube-pod-crash-looping-[0-9a-f]{16}"))) << name;

  std::regex dnsLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  for (const std::string& alertname :
       {std::string("HTTPErrorRateHigh"), std::string("disk_full:/var"), std::string("???"),
        std::string("Ünïcödé"), std::string(300, 'A'), std::string("--a--"),
        std::string("node:cpu:ratio_over_90_percent_for_a_very_long_while_indeed")}) {
    std::string n = incidentName(alertname, "ac11aeed1b056964", t);
    EXPECT_LE(n.size(), 63u) << n;
    EXPECT_TRUE(std::regex_match(n, dnsLabel)) << n;
    EXPECT_TRUE(isDnsLabel(n)) << n;
  }
}

TEST(AlertIdentity, AnotherFiringOrAnotherAlertGetsAnotherName) {
  auto t1 = *parseTimestamp("2024-05-01T12:00:00Z");
  auto t2 = *parseTimestamp("2024-05-01T12:00:00.000000001Z");
  std::set<std::string> names = {incidentName("A", "0000000000000001", t1),
                                 incidentName("A", "0000000000000001", t2),
                                 incidentName("A", "0000000000000002", t1)};
  EXPECT_EQ(names.size(), 3u);
}

TEST(AlertIdentity, LabelValueAndDnsLabelSyntax) {
  EXPECT_TRUE(isLabelValue(""));
  EXPECT_TRUE(isLabelValue("HighLatency"));
  EXPECT_TRUE(isLabelValue("a.b_c-d"));
  EXPECT_FALSE(isLabelValue("disk_full:/var"));
  EXPECT_FALSE(isLabelValue("-a"));
  EXPECT_FALSE(isLabelValue(std::string(64, 'a')));
  EXPECT_TRUE(isDnsLabel("shop-prod"));
  EXPECT_FALSE(isDnsLabel("Shop"));
  EXPECT_FALSE(isDnsLabel(""));
  EXPECT_FALSE(isDnsLabel("a.b"));
}

TEST(BearerToken, SecretsCompareByContentOnly) {
  EXPECT_TRUE(secretsEqual("token", "token"));
  EXPECT_FALSE(secretsEqual("token", "token2"));
  EXPECT_FALSE(secretsEqual("token", "tokeN"));
  EXPECT_FALSE(secretsEqual("", "x"));
}

TEST(BearerToken, FileIsReadAgainWhenItChanges) {
  testing::TempDir dir("intake-token");
  std::string path = dir.path() + "/token";
  { std::ofstream(path) << "first-token\n"; }
  BearerTokenFile file(path);
  ASSERT_FALSE(file.load().has_value());
  EXPECT_TRUE(file.matches("first-token"));  // the trailing newline is not part of it
  EXPECT_FALSE(file.matches("second-token"));
  EXPECT_FALSE(file.matches(""));

  // A Secret volume update: a new file renamed over the old one.
  { std::ofstream(path + ".new") << "second-token"; }
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
  EXPECT_TRUE(file.matches("second-token"));
  EXPECT_FALSE(file.matches("first-token"));

  // An empty file does not open the door: the last good token stays.
  { std::ofstream(path + ".new") << "\n"; }
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
  EXPECT_FALSE(file.matches(""));
  EXPECT_TRUE(file.matches("second-token"));
}

TEST(BearerToken, ErrorsNameTheFileNeverTheContent) {
  testing::TempDir dir("intake-token");
  BearerTokenFile missing(dir.path() + "/absent");
  auto error = missing.load();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find(dir.path() + "/absent"), std::string::npos) << *error;

  std::string path = dir.path() + "/big";
  { std::ofstream(path) << std::string(5000, 'k'); }
  BearerTokenFile big(path);
  error = big.load();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->find("kkkk"), std::string::npos) << *error;
}

}  // namespace
}  // namespace remedy::intake
