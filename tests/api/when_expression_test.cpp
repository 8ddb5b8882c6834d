#include "api/when_expression.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using nlohmann::json;

const json kContext = json::parse(R"({
  "alert": {"name": "DatabaseConnectionPoolExhausted", "status": "firing",
            "labels": {"env": "prod", "lag": "7200", "severity": "critical"},
            "annotations": {}},
  "params": {"threshold": "5000", "deployment": "backend"},
  "steps": {"activity": {"phase": "Succeeded",
                         "outputs": {"matched": "2", "oldestSeconds": "412", "age": "7m"}},
            "kill": {"phase": "Skipped", "outputs": {}}},
  "incident": {"name": "inc-1", "namespace": "shop", "source": "Alertmanager"}
})");

bool eval(const std::string& text) {
  Result<WhenExpression> e = WhenExpression::parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error());
  if (!e.ok()) return false;
  Result<WhenResult> r = e->evaluate(kContext);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
  return r.ok() && r->value;
}

std::string evalError(const std::string& text) {
  Result<WhenExpression> e = WhenExpression::parse(text);
  EXPECT_TRUE(e.ok()) << text;
  Result<WhenResult> r = e->evaluate(kContext);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error();
}

std::string parseError(const std::string& text) {
  Result<WhenExpression> e = WhenExpression::parse(text);
  EXPECT_FALSE(e.ok()) << text;
  return e.ok() ? "" : e.error();
}

ReferenceScope scopeAfterActivity() {
  ReferenceScope scope;
  scope.params = {"threshold", "deployment"};
  scope.allParams = scope.params;
  scope.earlierSteps = {{"activity", "postgres"}, {"kill", "postgres"}};
  scope.allSteps = {{"activity", "postgres"},
                    {"kill", "postgres"},
                    {"scale", "scale"},
                    {"verify", "prometheusCheck"}};
  scope.currentStep = "scale";
  return scope;
}

std::vector<std::string> check(const std::string& text) {
  Result<WhenExpression> e = WhenExpression::parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error());
  return e.ok() ? e->check(scopeAfterActivity()) : std::vector<std::string>{"parse error"};
}

TEST(WhenExpression, ComparesStrings) {
  EXPECT_TRUE(eval("alert.labels.env == \"prod\""));
  EXPECT_FALSE(eval("alert.labels.env != 'prod'"));
  EXPECT_TRUE(eval("alert.status == \"firing\""));
  EXPECT_TRUE(eval("steps.kill.phase == \"Skipped\""));
}

TEST(WhenExpression, ComparesNumbersConvertingStrings) {
  EXPECT_TRUE(eval("steps.activity.outputs.matched > 0"));
  EXPECT_TRUE(eval("steps.activity.outputs.matched == 2"));
  EXPECT_TRUE(eval("steps.activity.outputs.matched >= 2"));
  EXPECT_FALSE(eval("steps.activity.outputs.matched < 2"));
  EXPECT_TRUE(eval("alert.labels.lag > params.threshold"));
  EXPECT_TRUE(eval("-1 < 0.5"));
}

TEST(WhenExpression, ComparesDurationsReadingNumbersAsSeconds) {
  EXPECT_TRUE(eval("steps.activity.outputs.oldestSeconds > 5m"));
  EXPECT_FALSE(eval("steps.activity.outputs.oldestSeconds > 1h"));
  EXPECT_TRUE(eval("steps.activity.outputs.age >= 7m"));
  EXPECT_TRUE(eval("steps.activity.outputs.age < 1h30m"));
  EXPECT_TRUE(eval("90s == 1.5m"));
}

TEST(WhenExpression, CombinesWithAndOrNotAndParentheses) {
  EXPECT_TRUE(eval("alert.labels.env == \"prod\" and steps.activity.outputs.matched > 0"));
  EXPECT_FALSE(eval("alert.labels.env == \"dev\" and steps.activity.outputs.matched > 0"));
  EXPECT_TRUE(eval("alert.labels.env == \"dev\" or steps.activity.outputs.matched > 0"));
  EXPECT_TRUE(eval("not alert.labels.env == \"dev\""));
  EXPECT_FALSE(eval("not (alert.labels.env == \"prod\" or false)"));
  // and binds tighter than or.
  EXPECT_TRUE(eval("true or false and false"));
  EXPECT_FALSE(eval("(true or false) and false"));
}

TEST(WhenExpression, InAndNotIn) {
  EXPECT_TRUE(eval("alert.labels.severity in [\"warning\", \"critical\"]"));
  EXPECT_FALSE(eval("alert.labels.severity not in [\"warning\", \"critical\"]"));
  EXPECT_TRUE(eval("steps.activity.outputs.matched in [1, 2, 3]"));
  EXPECT_FALSE(eval("alert.labels.env in []"));
}

TEST(WhenExpression, AMissingLabelReadsAsEmpty) {
  EXPECT_TRUE(eval("alert.labels.team == \"\""));
  EXPECT_TRUE(eval("alert.annotations.summary != \"x\""));
}

TEST(WhenExpression, AMissingOutputIsAnErrorNamingIt) {
  EXPECT_EQ(evalError("steps.kill.outputs.affected > 0"), "steps.kill.outputs.affected is not set");
}

TEST(WhenExpression, AndShortCircuitsSoSkippedStepsCanBeGuarded) {
  EXPECT_FALSE(eval("steps.kill.phase == \"Succeeded\" and steps.kill.outputs.affected > 0"));
  EXPECT_TRUE(eval("steps.kill.phase == \"Skipped\" or steps.kill.outputs.affected > 0"));
}

TEST(WhenExpression, OrderingNonNumbersIsAnError) {
  EXPECT_EQ(evalError("alert.labels.env > 3"), "alert.labels.env is \"prod\", not a number");
  EXPECT_EQ(evalError("alert.labels.env > 3m"), "alert.labels.env is \"prod\", not a duration");
}

TEST(WhenExpression, EqualityAcrossTypesIsFalseNotAnError) {
  EXPECT_FALSE(eval("alert.labels.env == 3"));
  EXPECT_TRUE(eval("alert.labels.env != 3"));
}

TEST(WhenExpression, RecordsTheValuesItSaw) {
  Result<WhenExpression> e = WhenExpression::parse(
      "steps.activity.outputs.oldestSeconds > 5m and alert.labels.env == \"prod\"");
  ASSERT_TRUE(e.ok());
  Result<WhenResult> r = e->evaluate(kContext);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->value);
  EXPECT_EQ(r->values.at("steps.activity.outputs.oldestSeconds"), "412");
  EXPECT_EQ(r->values.at("alert.labels.env"), "prod");
}

TEST(WhenExpression, SyntaxErrorsSayWhere) {
  EXPECT_EQ(parseError("a == 1 && b == 2"),
            "column 8: write \"and\" and \"or\" instead of \"&&\" and \"||\"");
  EXPECT_EQ(parseError("!(a == 1)"), "column 1: write \"not\" instead of \"!\"");
  EXPECT_EQ(parseError("alert.status = \"firing\""), "column 14: write \"==\" to compare");
  EXPECT_NE(parseError("steps.a.outputs.n > 5x").find("\"5x\" is neither a number nor a duration"),
            std::string::npos);
  EXPECT_NE(parseError("(a == 1").find("expected \")\""), std::string::npos);
  EXPECT_NE(parseError("a in [1, 2").find("expected \",\" or \"]\""), std::string::npos);
  EXPECT_NE(parseError("a in [b]").find("expected a value"), std::string::npos);
  EXPECT_NE(parseError("a == 1 b").find("unexpected \"b\""), std::string::npos);
  EXPECT_NE(parseError("").find("unexpected end"), std::string::npos);
  EXPECT_NE(parseError("a == \"open").find("not closed"), std::string::npos);
}

TEST(WhenExpression, StaticCheckAcceptsAWellFormedCondition) {
  EXPECT_EQ(check("steps.activity.outputs.oldestSeconds > 5m and alert.labels.env == \"prod\""),
            std::vector<std::string>{});
  EXPECT_EQ(check("steps.kill.phase in [\"Skipped\", \"Failed\"] or params.threshold < 10"),
            std::vector<std::string>{});
}

TEST(WhenExpression, StaticCheckReportsUnknownAndLaterReferences) {
  EXPECT_EQ(check("params.treshold > 5"),
            std::vector<std::string>{
                "params.treshold refers to unknown parameter \"treshold\" (did you mean "
                "\"threshold\"?)"});
  EXPECT_EQ(check("steps.verify.phase == \"Succeeded\""),
            std::vector<std::string>{
                "steps.verify.phase refers to step \"verify\", which runs after this one"});
  EXPECT_EQ(check("steps.scale.phase == \"Succeeded\""),
            std::vector<std::string>{"steps.scale.phase refers to step \"scale\" itself"});
}

TEST(WhenExpression, StaticCheckReportsTypeErrors) {
  auto first = [](const std::vector<std::string>& errors) {
    return errors.empty() ? std::string() : errors[0];
  };
  EXPECT_EQ(first(check("alert.labels.env")),
            "alert.labels.env is a value, not a condition; compare it, as in alert.labels.env == "
            "\"...\"");
  EXPECT_EQ(first(check("\"yes\"")), "\"yes\" is a string, not a condition");
  EXPECT_EQ(first(check("\"a\" == 1")), "cannot compare a string (\"a\") with a number (1)");
  EXPECT_EQ(first(check("alert.labels.env > \"b\"")),
            "\">\" compares numbers or durations, not a string (\"b\")");
  EXPECT_EQ(first(check("steps.activity.phase > 1")),
            "\">\" compares numbers or durations, and steps.activity.phase is a step phase");
  EXPECT_EQ(first(check("steps.activity.phase == \"Done\"")),
            "\"Done\" is not a step phase; the values are Pending, AwaitingApproval, Running, "
            "Succeeded, Failed, Skipped, Cancelled");
  EXPECT_EQ(first(check("alert.status in [\"firing\", \"resolvd\"]")),
            "\"resolvd\" is not an alert status (did you mean \"resolved\"?); the values are "
            "firing, resolved");
  EXPECT_EQ(first(check("alert.status == 1")), "alert.status is an alert status, not a number");
  EXPECT_TRUE(check("5m > 300").empty()) << "a duration and a number compare as seconds";
  EXPECT_FALSE(check("true > 1").empty());
}

TEST(WhenExpression, ListsItsReferences) {
  Result<WhenExpression> e =
      WhenExpression::parse("a.b == 1 and (steps.x.phase in [\"Failed\"] or not c.d < 2)");
  ASSERT_TRUE(e.ok());
  std::vector<std::string> refs;
  for (const Reference& r : e->references()) refs.push_back(r.str());
  EXPECT_EQ(refs, (std::vector<std::string>{"a.b", "steps.x.phase", "c.d"}));
}

}  // namespace
}  // namespace remedy::api
