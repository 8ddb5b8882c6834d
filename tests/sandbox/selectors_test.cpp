#include "sandbox/selectors.h"

#include <gtest/gtest.h>

namespace remedy::sandbox {
namespace {

LabelSelector mustParse(const std::string& s) {
  auto parsed = LabelSelector::parse(s);
  EXPECT_TRUE(parsed.ok()) << s << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : LabelSelector::nothing();
}

std::string parseError(const std::string& s) {
  auto parsed = LabelSelector::parse(s);
  EXPECT_FALSE(parsed.ok()) << s;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.error().code, 400);
  EXPECT_EQ(parsed.error().reason, "BadRequest");
  return parsed.error().message;
}

const json kLabels = {{"app", "web"}, {"env", "prod"}, {"replicas", "3"}};

TEST(LabelSelector, EmptySelectorMatchesEverything) {
  LabelSelector s = mustParse("");
  EXPECT_TRUE(s.matchesEverything());
  EXPECT_TRUE(s.matches(kLabels));
  EXPECT_TRUE(s.matches(nullptr));
  EXPECT_TRUE(mustParse("   ").matchesEverything());
}

TEST(LabelSelector, EqualityDoubleEqualsAndInequality) {
  EXPECT_TRUE(mustParse("app=web").matches(kLabels));
  EXPECT_TRUE(mustParse("app==web").matches(kLabels));
  EXPECT_FALSE(mustParse("app=db").matches(kLabels));
  EXPECT_TRUE(mustParse("app!=db").matches(kLabels));
  EXPECT_FALSE(mustParse("app!=web").matches(kLabels));
  EXPECT_FALSE(mustParse("missing=x").matches(kLabels));
}

TEST(LabelSelector, InequalityMatchesObjectsWithoutTheKey) {
  EXPECT_TRUE(mustParse("tier!=frontend").matches(kLabels));
  EXPECT_TRUE(mustParse("tier notin (frontend)").matches(kLabels));
}

TEST(LabelSelector, SetBasedRequirementsToleratingWhitespace) {
  EXPECT_TRUE(mustParse("env in (prod, staging)").matches(kLabels));
  EXPECT_TRUE(mustParse("  env   in(prod,staging)  ,app=web ").matches(kLabels));
  EXPECT_FALSE(mustParse("env in (staging)").matches(kLabels));
  EXPECT_FALSE(mustParse("env notin (prod,dev)").matches(kLabels));
  EXPECT_TRUE(mustParse("env notin (dev)").matches(kLabels));
}

TEST(LabelSelector, ExistsAndDoesNotExist) {
  EXPECT_TRUE(mustParse("app").matches(kLabels));
  EXPECT_FALSE(mustParse("tier").matches(kLabels));
  EXPECT_TRUE(mustParse("!tier").matches(kLabels));
  EXPECT_FALSE(mustParse("! app").matches(kLabels));
  EXPECT_TRUE(mustParse("app,!tier,env=prod").matches(kLabels));
}

TEST(LabelSelector, AllRequirementsMustMatch) {
  EXPECT_FALSE(mustParse("app=web,env=dev").matches(kLabels));
  EXPECT_TRUE(mustParse("app=web,env=prod").matches(kLabels));
}

TEST(LabelSelector, KeywordsAreValuesInsideParentheses) {
  json labels = {{"op", "in"}};
  EXPECT_TRUE(mustParse("op in (in,notin)").matches(labels));
  EXPECT_TRUE(mustParse("op=in").matches(labels));
}

TEST(LabelSelector, EmptyValueMatchesAnEmptyLabel) {
  json labels = {{"flag", ""}};
  EXPECT_TRUE(mustParse("flag=").matches(labels));
  EXPECT_TRUE(mustParse("flag in ()").matches(labels));
  EXPECT_FALSE(mustParse("flag=").matches(json::object()));
}

TEST(LabelSelector, GreaterThanAndLessThanCompareIntegers) {
  EXPECT_TRUE(mustParse("replicas>2").matches(kLabels));
  EXPECT_FALSE(mustParse("replicas>3").matches(kLabels));
  EXPECT_TRUE(mustParse("replicas<4").matches(kLabels));
  EXPECT_FALSE(mustParse("app>1").matches(kLabels));
}

TEST(LabelSelector, PrefixedKeys) {
  json labels = {{"app.kubernetes.io/name", "shop"}};
  EXPECT_TRUE(mustParse("app.kubernetes.io/name=shop").matches(labels));
}

TEST(LabelSelector, StringFormIsCanonicalAndSortedByKey) {
  EXPECT_EQ(mustParse("b==2, a in (y,x,y), !c, d").toString(), "a in (x,y),b==2,!c,d");
  EXPECT_EQ(mustParse("").toString(), "");
}

TEST(LabelSelector, MissingOperatorNamesTheUnexpectedToken) {
  EXPECT_EQ(parseError("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
}

TEST(LabelSelector, TrailingCommaNeedsAnIdentifier) {
  EXPECT_EQ(parseError("a=b,"), "found '', expected: identifier after ','");
}

TEST(LabelSelector, GarbageAfterARequirement) {
  EXPECT_EQ(parseError("a=b c"), "found 'c', expected: ',' or 'end of string'");
}

TEST(LabelSelector, SelectorStartingWithAnOperator) {
  EXPECT_EQ(parseError("=a"), "found '=', expected: !, identifier, or 'end of string'");
}

TEST(LabelSelector, SetOperatorsNeedParentheses) {
  EXPECT_EQ(parseError("a in x"), "unable to parse requirement: found 'x' expected: '('");
  EXPECT_EQ(parseError("a in (x"), "unable to parse requirement: found '', expected: ',' or ')'");
}

TEST(LabelSelector, NotWithoutKey) {
  EXPECT_EQ(parseError("!"), "unable to parse requirement: found '', expected: identifier");
}

TEST(LabelSelector, InvalidKeyIsReportedWithNilPath) {
  EXPECT_EQ(parseError("Foo_=bar"),
            "unable to parse requirement: <nil>: Invalid value: \"Foo_\": name part must consist "
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
}

TEST(LabelSelector, InvalidValueNamesTheValueAndKey) {
  EXPECT_EQ(parseError("a=b/c"),
            "unable to parse requirement: values[0][a]: Invalid value: \"b/c\": a valid label "
            "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
            "or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
}

TEST(LabelSelector, GreaterThanNeedsAnInteger) {
  EXPECT_EQ(parseError("a>x"),
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
            "operators, the value must be an integer");
}

TEST(LabelSelectorJson, MatchLabelsAndExpressionsAreAnded) {
  json sel = {{"matchLabels", {{"app", "web"}}},
              {"matchExpressions",
               {{{"key", "env"}, {"operator", "In"}, {"values", {"prod", "staging"}}},
                {{"key", "tier"}, {"operator", "DoesNotExist"}}}}};
  auto s = LabelSelector::fromLabelSelectorJson(sel);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->matches(kLabels));
  EXPECT_FALSE(s->matches({{"app", "web"}, {"env", "dev"}}));
  EXPECT_EQ(s->toString(), "app=web,env in (prod,staging),!tier");
}

TEST(LabelSelectorJson, NotInAndExists) {
  json sel = {{"matchExpressions",
               {{{"key", "env"}, {"operator", "NotIn"}, {"values", {"dev"}}},
                {{"key", "app"}, {"operator", "Exists"}}}}};
  auto s = LabelSelector::fromLabelSelectorJson(sel);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->matches(kLabels));
  EXPECT_FALSE(s->matches({{"env", "prod"}}));
}

TEST(LabelSelectorJson, EmptySelectorMatchesEverythingNullMatchesNothing) {
  auto empty = LabelSelector::fromLabelSelectorJson(json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->matches(kLabels));
  EXPECT_TRUE(empty->matchesEverything());
  auto null = LabelSelector::fromLabelSelectorJson(nullptr);
  ASSERT_TRUE(null.ok());
  EXPECT_FALSE(null->matches(kLabels));
  EXPECT_FALSE(null->matches(json::object()));
  EXPECT_TRUE(null->matchesNothing());
}

TEST(LabelSelectorJson, UnknownOperatorIsRejected) {
  auto s = LabelSelector::fromLabelSelectorJson(
      {{"matchExpressions", {{{"key", "a"}, {"operator", "Equals"}, {"values", {"b"}}}}}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "\"Equals\" is not a valid label selector operator");
}

TEST(LabelSelectorJson, InWithoutValuesIsRejected) {
  auto s = LabelSelector::fromLabelSelectorJson(
      {{"matchExpressions", {{{"key", "a"}, {"operator", "In"}, {"values", json::array()}}}}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
}

TEST(LabelSelectorJson, ExistsWithValuesIsRejected) {
  auto s = LabelSelector::fromLabelSelectorJson(
      {{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "values: Invalid value: [\"x\"]: values set must be empty for exists and does not "
            "exist");
}

TEST(LabelSelectorJson, InvalidMatchLabelKey) {
  auto s = LabelSelector::fromLabelSelectorJson({{"matchLabels", {{"a/b/c", "x"}}}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "key: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
            "and '/' (e.g. 'example.com/MyName')");
}

const json kPod = {{"metadata", {{"name", "web-1"}, {"namespace", "shop"}}},
                   {"spec", {{"nodeName", "node-a"}, {"hostNetwork", true}}},
                   {"status", {{"phase", "Running"}, {"replicas", 3}}}};
const std::vector<std::string> kPodFields = {"spec.nodeName", "status.phase", "spec.hostNetwork",
                                             "status.replicas"};

FieldSelector mustParseFields(const std::string& s) {
  auto parsed = FieldSelector::parse(s, kPodFields);
  EXPECT_TRUE(parsed.ok()) << s << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : FieldSelector();
}

TEST(FieldSelector, EmptySelectorMatchesEverything) {
  EXPECT_TRUE(mustParseFields("").empty());
  EXPECT_TRUE(mustParseFields("").matches(kPod));
}

TEST(FieldSelector, MetadataNameAndNamespace) {
  EXPECT_TRUE(mustParseFields("metadata.name=web-1").matches(kPod));
  EXPECT_TRUE(mustParseFields("metadata.namespace==shop").matches(kPod));
  EXPECT_FALSE(mustParseFields("metadata.name!=web-1").matches(kPod));
  EXPECT_TRUE(mustParseFields("metadata.name!=web-2").matches(kPod));
}

TEST(FieldSelector, MetadataFieldsAreAlwaysSelectable) {
  auto parsed = FieldSelector::parse("metadata.name=x,metadata.namespace=y", {});
  EXPECT_TRUE(parsed.ok());
}

TEST(FieldSelector, TermsAreAnded) {
  EXPECT_TRUE(mustParseFields("status.phase=Running,spec.nodeName=node-a").matches(kPod));
  EXPECT_FALSE(mustParseFields("status.phase=Running,spec.nodeName=node-b").matches(kPod));
}

TEST(FieldSelector, MissingFieldReadsAsEmpty) {
  json pending = {{"metadata", {{"name", "p"}}}, {"status", {{"phase", "Pending"}}}};
  EXPECT_TRUE(mustParseFields("spec.nodeName=").matches(pending));
  EXPECT_TRUE(mustParseFields("spec.nodeName!=node-a").matches(pending));
  EXPECT_FALSE(mustParseFields("spec.nodeName!=").matches(pending));
}

TEST(FieldSelector, NumbersAndBooleansCompareAsText) {
  EXPECT_TRUE(mustParseFields("spec.hostNetwork=true").matches(kPod));
  EXPECT_TRUE(mustParseFields("status.replicas=3").matches(kPod));
}

TEST(FieldSelector, ComputedFieldValues) {
  FieldSelector s = mustParseFields("spec.hostNetwork=false");
  EXPECT_TRUE(s.matches([](const std::string&) { return std::string("false"); }));
}

TEST(FieldSelector, EscapedCommaAndEqualsInValues) {
  FieldSelector s = mustParseFields("metadata.name=a\\,b\\=c");
  ASSERT_EQ(s.requirements().size(), 1u);
  EXPECT_EQ(s.requirements()[0].value, "a,b=c");
}

TEST(FieldSelector, UnsupportedFieldIsABadRequest) {
  auto parsed = FieldSelector::parse("spec.foo=bar", kPodFields);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, 400);
  EXPECT_EQ(parsed.error().reason, "BadRequest");
  EXPECT_EQ(parsed.error().message, "field label not supported: spec.foo");
}

TEST(FieldSelector, FirstUnsupportedFieldInSortedOrderIsReported) {
  auto parsed = FieldSelector::parse("spec.zzz=1,spec.aaa=2", kPodFields);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message, "field label not supported: spec.aaa");
}

TEST(FieldSelector, TermWithoutOperator) {
  auto parsed = FieldSelector::parse("metadata.name", kPodFields);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message,
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
}

TEST(FieldSelector, UnescapedEqualsInValue) {
  auto parsed = FieldSelector::parse("metadata.name=a=b", kPodFields);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message, "invalid field selector: unescaped character in value: 61");
}

TEST(FieldSelector, InvalidEscapeSequence) {
  auto parsed = FieldSelector::parse("metadata.name=a\\b", kPodFields);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message, "invalid field selector: invalid escape sequence: \\b");
}

TEST(FieldSelector, WhitespaceIsPartOfTheFieldName) {
  auto parsed = FieldSelector::parse("metadata.name = x", kPodFields);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message, "field label not supported: metadata.name ");
}

}  // namespace
}  // namespace remedy::sandbox
