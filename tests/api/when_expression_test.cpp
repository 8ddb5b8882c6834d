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

TEST(WhenExpression, AComparisonWithAMissingLabelIsFalseWhateverTheOperator) {
  for (const char* text :
       {"alert.labels.depth > 5000", "alert.labels.depth <= 5000", "alert.labels.team == \"\"",
        "alert.labels.team == \"x\"", "alert.labels.team != \"x\"",
        "alert.annotations.summary != \"x\"", "alert.labels.team in [\"a\", \"\"]",
        "alert.labels.team not in [\"a\"]", "params.missing == alert.labels.team",
        "alert.labels.team == alert.labels.other", "alert.labels.team != alert.labels.other"}) {
    EXPECT_FALSE(eval(text)) << text;
  }
}

TEST(WhenExpression, AnEmptyAlertLabelIsAMissingOne) {
  json context = kContext;
  context["alert"]["labels"]["team"] = "";
  Result<WhenExpression> e = WhenExpression::parse("alert.labels.team == \"\"");
  ASSERT_TRUE(e.ok());
  Result<WhenResult> r = e->evaluate(context);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->value);
  EXPECT_EQ(r->missing, std::vector<std::string>{"alert.labels.team"});
  e = WhenExpression::parse("has(alert.labels.team)");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->evaluate(context)->value);
  // An empty annotation is a value: annotations are not series labels.
  context["alert"]["annotations"]["summary"] = "";
  e = WhenExpression::parse("alert.annotations.summary == \"\"");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->evaluate(context)->value);
}

TEST(WhenExpression, AComparisonWithAMissingOutputOrParameterIsFalseNotAnError) {
  EXPECT_FALSE(eval("steps.kill.outputs.affected > 0"));
  EXPECT_FALSE(eval("steps.kill.outputs.affected == 0"));
  EXPECT_FALSE(eval("steps.nothere.phase != \"Succeeded\""));
  EXPECT_FALSE(eval("params.missing != \"x\""));
}

TEST(WhenExpression, MissingIsAPlainFalseThatNotAndOrCombine) {
  // not turns the false of a missing value into true...
  EXPECT_TRUE(eval("not (alert.labels.lag2 > 1)"));
  EXPECT_TRUE(eval("not alert.labels.team in [\"a\"]"));
  EXPECT_TRUE(eval("alert.labels.lag2 > 1 or alert.labels.env == \"prod\""));
  EXPECT_FALSE(eval("alert.labels.lag2 > 1 and alert.labels.env == \"prod\""));
  // ...so "present and at most 1" is written with has().
  EXPECT_FALSE(eval("has(alert.labels.lag2) and not (alert.labels.lag2 > 1)"));
  EXPECT_TRUE(eval("has(alert.labels.lag) and not (alert.labels.lag > 10000)"));
}

TEST(WhenExpression, HasTestsPresence) {
  EXPECT_TRUE(eval("has(alert.labels.lag)"));
  EXPECT_FALSE(eval("has(alert.labels.team)"));
  EXPECT_TRUE(eval("not has(alert.labels.team)"));
  EXPECT_TRUE(eval("has( steps.activity.outputs.matched )"));
  EXPECT_FALSE(eval("has(steps.kill.outputs.affected)"));
  EXPECT_TRUE(eval("has(params.threshold) and params.threshold == 5000"));
  EXPECT_FALSE(eval("has(params.missing)"));
  EXPECT_TRUE(
      eval("has(alert.labels.lag) and alert.labels.lag > 5000 or "
           "alert.labels.severity == \"critical\""));
}

TEST(WhenExpression, RecordsTheValuesItMissed) {
  Result<WhenExpression> e = WhenExpression::parse(
      "alert.labels.team == \"x\" or has(steps.kill.outputs.affected) or "
      "alert.labels.team != \"y\" or alert.labels.env == \"dev\"");
  ASSERT_TRUE(e.ok());
  Result<WhenResult> r = e->evaluate(kContext);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->value);
  EXPECT_EQ(r->missing,
            (std::vector<std::string>{"alert.labels.team", "steps.kill.outputs.affected"}));
  EXPECT_EQ(r->values.count("alert.labels.team"), 0u);
  EXPECT_EQ(r->values.at("alert.labels.env"), "prod");
}

TEST(WhenExpression, HasTakesOneReference) {
  EXPECT_EQ(parseError("has()"),
            "column 5: has() takes a reference, such as has(alert.labels.lag)");
  EXPECT_EQ(parseError("has(\"lag\")"),
            "column 5: has() takes a reference, such as has(alert.labels.lag), not a literal or "
            "a condition");
  EXPECT_EQ(parseError("has(5m)"),
            "column 5: has() takes a reference, such as has(alert.labels.lag), not a literal or "
            "a condition");
  EXPECT_EQ(parseError("has(true)"),
            "column 5: has() takes a reference, such as has(alert.labels.lag), not a literal or "
            "a condition");
  EXPECT_EQ(parseError("has(not alert.labels.lag)"),
            "column 5: has() takes a reference, such as has(alert.labels.lag), not a condition");
  EXPECT_EQ(parseError("has(alert.labels.lag > 1)"),
            "column 22: has() takes one reference and nothing else; expected \")\"");
  EXPECT_EQ(parseError("has(alert.labels.a, alert.labels.b)"),
            "column 19: has() takes one reference and nothing else; expected \")\"");
  EXPECT_EQ(parseError("has(alert.labels.lag"),
            "column 21: unexpected end; expected \")\" to close has(");
}

TEST(WhenExpression, HasIsCheckedAsAReferenceAndIsACondition) {
  EXPECT_TRUE(check("has(alert.labels.lag) and not has(steps.activity.outputs.matched)").empty());
  EXPECT_EQ(check("has(params.treshold)"),
            std::vector<std::string>{
                "params.treshold refers to unknown parameter \"treshold\" (did you mean "
                "\"threshold\"?)"});
  EXPECT_EQ(check("has(alert.labels.lag) == true"),
            std::vector<std::string>{"a condition cannot be compared; compare values"});
  // A label, parameter or step named "has" is still a reference.
  EXPECT_TRUE(eval("has(alert.labels.has) or alert.labels.has != \"x\" or true"));
}

std::vector<std::string> warnings(const std::string& text) {
  Result<WhenExpression> e = WhenExpression::parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error());
  return e.ok() ? e->warnings() : std::vector<std::string>{"parse error"};
}

TEST(WhenExpression, WarnsOfComparisonsThatCanOnlyBeFalse) {
  EXPECT_EQ(warnings("alert.labels.team == \"\""),
            std::vector<std::string>{
                "alert.labels.team == \"\" can only be false: an empty alert label is a missing "
                "one, and a comparison with a missing value is false; write not "
                "has(alert.labels.team)"});
  EXPECT_EQ(warnings("alert.labels.team in [\"\"] or true"),
            std::vector<std::string>{
                "alert.labels.team in [\"\"] can only be false: an empty alert label is a "
                "missing one, and a comparison with a missing value is false; write not "
                "has(alert.labels.team)"});
  EXPECT_EQ(
      warnings("alert.labels.env in []"),
      std::vector<std::string>{"alert.labels.env in [] can only be false: the list is empty"});
  EXPECT_EQ(warnings("1 > 2 or alert.status == \"firing\""),
            std::vector<std::string>{"1 > 2 can only be false: it compares two literals"});
  EXPECT_EQ(warnings("not has(alert.labels.lag) and (alert.labels.env == \"prod\" and "
                     "alert.labels.lag > 5000)"),
            std::vector<std::string>{
                "alert.labels.lag > 5000 can only be false: it reads alert.labels.lag, which not "
                "has(alert.labels.lag) requires to be missing"});
  for (const char* fine :
       {"alert.labels.team != \"\"", "alert.labels.team not in [\"\"]", "2 > 1",
        "has(alert.labels.lag) and alert.labels.lag > 5000",
        "not has(alert.labels.lag) or alert.labels.lag > 5000",
        "steps.activity.outputs.matched == \"\"", "alert.annotations.summary == \"\""}) {
    EXPECT_TRUE(warnings(fine).empty()) << fine;
  }
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
