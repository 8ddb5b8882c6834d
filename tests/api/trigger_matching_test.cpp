#include "api/trigger_matching.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using Labels = std::map<std::string, std::string>;

Trigger trigger(const std::string& json) {
  return fromJson<Trigger>(nlohmann::json::parse(json)).value();
}

std::optional<Specificity> match(const std::string& triggerJson, const std::string& alertName,
                                 const Labels& labels) {
  Result<CompiledTrigger> t = CompiledTrigger::compile(trigger(triggerJson));
  EXPECT_TRUE(t.ok());
  return t->match(alertName, labels);
}

const Labels kAlert = {{"alertname", "DatabaseConnectionPoolExhausted"},
                       {"namespace", "shop"},
                       {"service", "backend"},
                       {"severity", "critical"}};

TEST(TriggerMatching, MatchesOnAlertName) {
  EXPECT_TRUE(match(R"({"alertName": "DatabaseConnectionPoolExhausted"})",
                    "DatabaseConnectionPoolExhausted", kAlert));
  EXPECT_FALSE(match(R"({"alertName": "HighLatency"})", "DatabaseConnectionPoolExhausted", kAlert));
}

TEST(TriggerMatching, EveryConstraintMustHold) {
  const char* t = R"({"alertName": "DatabaseConnectionPoolExhausted",
                      "labels": {"service": "backend"},
                      "matchers": ["namespace=~\"shop|shop-staging\""],
                      "severities": ["critical", "warning"]})";
  EXPECT_TRUE(match(t, "DatabaseConnectionPoolExhausted", kAlert));
  Labels other = kAlert;
  other["service"] = "frontend";
  EXPECT_FALSE(match(t, "DatabaseConnectionPoolExhausted", other));
  other = kAlert;
  other["namespace"] = "shop-prod";
  EXPECT_FALSE(match(t, "DatabaseConnectionPoolExhausted", other));
  other = kAlert;
  other["severity"] = "info";
  EXPECT_FALSE(match(t, "DatabaseConnectionPoolExhausted", other));
  other.erase("severity");
  EXPECT_FALSE(match(t, "DatabaseConnectionPoolExhausted", other));
}

TEST(TriggerMatching, LabelEqualityNeedsTheLabelPresent) {
  EXPECT_FALSE(match(R"({"labels": {"team": "payments"}})", "X", kAlert));
}

TEST(TriggerMatching, SpecificityRanksNameThenEqualitiesThenRegexesThenNegations) {
  Specificity byName = *match(R"({"alertName": "DatabaseConnectionPoolExhausted"})",
                              "DatabaseConnectionPoolExhausted", kAlert);
  Specificity byManyLabels =
      *match(R"({"labels": {"service": "backend", "namespace": "shop", "severity": "critical"}})",
             "DatabaseConnectionPoolExhausted", kAlert);
  Specificity byNameAndLabel = *match(
      R"({"alertName": "DatabaseConnectionPoolExhausted", "labels": {"service": "backend"}})",
      "DatabaseConnectionPoolExhausted", kAlert);
  Specificity byNameAndRegex = *match(
      R"({"alertName": "DatabaseConnectionPoolExhausted", "matchers": ["service=~\"back.*\""]})",
      "DatabaseConnectionPoolExhausted", kAlert);
  Specificity byNameAndNegation = *match(
      R"({"alertName": "DatabaseConnectionPoolExhausted", "matchers": ["service!=\"frontend\""]})",
      "DatabaseConnectionPoolExhausted", kAlert);
  EXPECT_LT(byManyLabels, byName);
  EXPECT_LT(byName, byNameAndNegation);
  EXPECT_LT(byNameAndNegation, byNameAndRegex);
  EXPECT_LT(byNameAndRegex, byNameAndLabel);
  // score() orders the same way.
  EXPECT_LT(byManyLabels.score(), byName.score());
  EXPECT_LT(byName.score(), byNameAndNegation.score());
  EXPECT_LT(byNameAndNegation.score(), byNameAndRegex.score());
  EXPECT_LT(byNameAndRegex.score(), byNameAndLabel.score());
}

TEST(TriggerMatching, EqualityMatcherCountsLikeALabel) {
  Specificity viaLabel = *match(R"({"labels": {"service": "backend"}})", "X", kAlert);
  Specificity viaMatcher = *match(R"({"matchers": ["service=\"backend\""]})", "X", kAlert);
  EXPECT_EQ(viaLabel, viaMatcher);
}

TEST(TriggerMatching, ARunbookTakesItsMostSpecificMatchingTrigger) {
  RunbookSpec spec = fromJson<RunbookSpec>(nlohmann::json::parse(R"({
    "triggers": [
      {"severities": ["critical"]},
      {"alertName": "DatabaseConnectionPoolExhausted", "labels": {"service": "backend"}},
      {"alertName": "Other"}
    ]})"))
                         .value();
  std::optional<Specificity> s = matchRunbook(spec, "DatabaseConnectionPoolExhausted", kAlert);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->alertName, 1);
  EXPECT_EQ(s->equalities, 1);
  EXPECT_FALSE(matchRunbook(spec, "Nothing", {{"severity", "info"}}));
}

TEST(TriggerMatching, ATriggerWithABadMatcherDoesNotCompile) {
  EXPECT_FALSE(CompiledTrigger::compile(trigger(R"({"matchers": ["env=~\"(\""]})")).ok());
}

}  // namespace
}  // namespace remedy::api
