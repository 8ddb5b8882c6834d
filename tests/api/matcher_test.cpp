#include "api/matcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using ::testing::HasSubstr;

using Labels = std::map<std::string, std::string>;

Matcher parse(const std::string& text) {
  Result<Matcher> m = Matcher::parse(text);
  EXPECT_TRUE(m.ok()) << text << ": " << (m.ok() ? "" : m.error());
  return m.value();
}

TEST(Matcher, ParsesTheFourOperators) {
  EXPECT_EQ(parse("env=prod").op(), MatchOperator::kEqual);
  EXPECT_EQ(parse("env!=prod").op(), MatchOperator::kNotEqual);
  EXPECT_EQ(parse("env=~prod").op(), MatchOperator::kRegexMatch);
  EXPECT_EQ(parse("env!~prod").op(), MatchOperator::kRegexNoMatch);
}

TEST(Matcher, AcceptsQuotedAndUnquotedValuesAndSpaces) {
  Matcher m = parse("  namespace =~ \"shop|shop-staging\" ");
  EXPECT_EQ(m.name(), "namespace");
  EXPECT_EQ(m.value(), "shop|shop-staging");
  EXPECT_EQ(parse("env=prod").value(), "prod");
  EXPECT_EQ(parse("env=\"\"").value(), "");
  EXPECT_EQ(parse("msg=\"say \\\"hi\\\"\"").value(), "say \"hi\"");
}

TEST(Matcher, KeepsRegexEscapesInQuotedValues) {
  Matcher m = parse(R"(host=~"api\.example\.com")");
  EXPECT_TRUE(m.matches({{"host", "api.example.com"}}));
  EXPECT_FALSE(m.matches({{"host", "apixexample.com"}}));
}

TEST(Matcher, RegexesAreFullyAnchoredAsInAlertmanager) {
  Matcher m = parse("severity=~\"crit\"");
  EXPECT_TRUE(m.matches({{"severity", "crit"}}));
  EXPECT_FALSE(m.matches({{"severity", "critical"}}));
  EXPECT_FALSE(m.matches({{"severity", "subcrit"}}));
  Matcher alternatives = parse("severity=~\"warning|critical\"");
  EXPECT_TRUE(alternatives.matches({{"severity", "critical"}}));
  EXPECT_FALSE(alternatives.matches({{"severity", "warning-ish"}}));
}

TEST(Matcher, RegexesAreGoRegexpsAsInAlertmanager) {
  // Alertmanager compiles "^(?:" + value + ")$" with Go's regexp package;
  // the expectations are Go 1.26's answers.
  Matcher caseless = parse(R"m(severity=~"(?i)crit")m");
  EXPECT_TRUE(caseless.matches({{"severity", "CRIT"}}));
  EXPECT_TRUE(caseless.matches({{"severity", "crit"}}));
  EXPECT_FALSE(caseless.matches({{"severity", "critical"}}));
  Matcher letters = parse(R"m(name=~"\pL+")m");
  EXPECT_TRUE(letters.matches({{"name", "\xC3\xA9t\xC3\xA9"}}));
  EXPECT_FALSE(letters.matches({{"name", "a1"}}));
  Matcher named = parse(R"m(severity=~"(?<sev>crit|warn)")m");
  EXPECT_TRUE(named.matches({{"severity", "warn"}}));
  EXPECT_FALSE(named.matches({{"severity", "CRIT"}}));

  auto refusal = [](const std::string& text) {
    Result<Matcher> m = Matcher::parse(text);
    return m.ok() ? std::string("accepted") : m.error();
  };
  // Lookaround is not Go syntax (std::regex took it).
  EXPECT_THAT(refusal(R"m(a=~"(?=x)")m"),
              HasSubstr(R"m("(?=x)" is not a valid regular expression: error parsing regexp: )m"
                        "invalid or unsupported Perl syntax: `(?=`"));
  EXPECT_THAT(refusal(R"m(a=~"a[")m"),
              HasSubstr(R"m("a[" is not a valid regular expression: error parsing regexp: )m"
                        "missing closing ]: `[)$`"));
  EXPECT_THAT(refusal(R"m(a=~"crit(al")m"),
              HasSubstr(R"m("crit(al" is not a valid regular expression: error parsing regexp: )m"
                        "missing closing ): `^(?:crit(al)$`"));
}

TEST(Matcher, AMissingLabelMatchesAsTheEmptyString) {
  EXPECT_TRUE(parse("env=\"\"").matches({}));
  EXPECT_TRUE(parse("env!=prod").matches({}));
  EXPECT_FALSE(parse("env=prod").matches({}));
  EXPECT_TRUE(parse("env!~\".+\"").matches({}));
  EXPECT_FALSE(parse("env=~\".+\"").matches({}));
}

TEST(Matcher, NegativeOperatorsInvert) {
  Labels labels = {{"container", "istio-proxy"}};
  EXPECT_FALSE(parse("container!~\"istio-proxy|linkerd-proxy\"").matches(labels));
  EXPECT_TRUE(parse("container!~\"istio-proxy|linkerd-proxy\"").matches({{"container", "app"}}));
  EXPECT_FALSE(parse("container!=istio-proxy").matches(labels));
}

TEST(Matcher, RefusesMalformedMatchersWithAReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {Case{"", "expected a label name"}, Case{"=prod", "expected a label name"},
                        Case{"1env=prod", "expected a label name"},
                        Case{"env~=prod", "expected one of =, !=, =~, !~ after \"env\""},
                        Case{"env", "expected one of"}, Case{"env=\"prod", "not closed"},
                        Case{"env=pr\"od", "enclosed in double quotes"},
                        Case{"env=~\"(\"", "is not a valid regular expression"},
                        Case{"env=~\"a[\"", "is not a valid regular expression"}}) {
    Result<Matcher> m = Matcher::parse(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_NE(m.error().find(c.why), std::string::npos) << c.text << " -> " << m.error();
    EXPECT_NE(m.error().find("is not a matcher like"), std::string::npos) << m.error();
  }
}

TEST(Matcher, PrintsACanonicalForm) {
  EXPECT_EQ(parse("env = prod").str(), "env=\"prod\"");
  EXPECT_EQ(parse("a!~\"x|y\"").str(), "a!~\"x|y\"");
}

}  // namespace
}  // namespace remedy::api
