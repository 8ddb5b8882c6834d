// Inputs the fuzz targets (fuzz/) found, kept as the rules they broke.
#include "api/matcher.h"
#include "api/runbook_file_validator.h"
#include "api/template.h"
#include "api/when_expression.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace remedy::api {
namespace {

// nlohmann::json::dump throws on a string that is not UTF-8; the messages
// that quote what was written must not, whatever bytes it holds.

TEST(FuzzRegression, AMatcherThatIsNotUtf8IsAnErrorNotAThrow) {
  // fuzz/matcher: the error message quoted the matcher with dump().
  Result<Matcher> m = Matcher::parse(
      "msg=\" \x9e"
      "a\\s}\"hi\\\";\"");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("msg="), std::string::npos) << m.error();
}

TEST(FuzzRegression, AReferenceThatIsNotUtf8PrintsWithoutThrowing) {
  // fuzz/template: Reference::str() quoted a bracketed segment with dump().
  Result<Template> t = Template::parse("{{ alels[\"names\xfe\xff\xff\xef\"] }}");
  if (t.ok()) {
    for (const TemplateReference& r : t->references()) {
      EXPECT_NO_THROW((void)r.reference.str());
    }
  } else {
    EXPECT_FALSE(t.error().empty());
  }
  Reference ref{{"alert", "labels",
                 "a\xff"
                 "b"}};
  EXPECT_EQ(ref.str(),
            "alert.labels[\"a\xef\xbf\xbd"
            "b\"]");
}

TEST(FuzzRegression, AWhenLiteralThatIsNotUtf8IsCheckedWithoutThrowing) {
  // fuzz/when_expression: the check quoted the literal with dump().
  Result<WhenExpression> w = WhenExpression::parse(
      "a.b == 1 and (steps.x.phase in [\"Faile\xaf"
      "d\"] or not c.d < 2)");
  ASSERT_TRUE(w.ok()) << w.error();
  ReferenceScope scope;
  scope.earlierSteps = {{"x", "scale"}};
  scope.allSteps = scope.earlierSteps;
  std::vector<std::string> errors;
  ASSERT_NO_THROW(errors = w->check(scope));
  EXPECT_FALSE(errors.empty());
}

TEST(FuzzRegression, ANumberBeyondADurationsRangeIsNotADuration) {
  // fuzz/when_expression: 3.7e18 seconds converted to int64 milliseconds
  // with undefined behaviour.
  Result<WhenExpression> w = WhenExpression::parse("5m > 3777777777777777700");
  ASSERT_TRUE(w.ok()) << w.error();
  auto result = w->evaluate(nlohmann::json::object());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("not a duration"), std::string::npos) << result.error();
  Result<WhenExpression> fits = WhenExpression::parse("5m > 60");
  ASSERT_TRUE(fits.ok()) << fits.error();
  ASSERT_TRUE(fits->evaluate(nlohmann::json::object()).ok());
  EXPECT_TRUE(fits->evaluate(nlohmann::json::object()).value().value);
}

TEST(FuzzRegression, DeepNestingIsRefusedInsteadOfOverflowingTheStack) {
  // fuzz/when_expression: about 2,500 "(" ran the recursive parser off the
  // stack (under ASan); a Runbook could crash the operator that way.
  for (const std::string& open : {std::string("("), std::string("not ")}) {
    SCOPED_TRACE(open);
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += open;
    deep += "a.b == 1";
    Result<WhenExpression> w = WhenExpression::parse(deep);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().find("nested deeper than 100 levels"), std::string::npos) << w.error();
  }
  // A hundred levels are fine.
  std::string fine = std::string(100, '(') + "a.b == 1" + std::string(100, ')');
  ASSERT_TRUE(WhenExpression::parse(fine).ok());
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "not ";
  ASSERT_TRUE(WhenExpression::parse(nots + "a.b == 1").ok());
}

TEST(FuzzRegression, AManifestThatIsNotUtf8IsOneErrorWithItsLine) {
  // fuzz/runbook_manifest: the validator's message quoted the name.
  std::string text =
      "apiVersion: remedy.dev/v1alpha1\nkind: Runbook\nmetadata:\n  name: bad-\xba\xba\n"
      "  namespace: shop\nspec:\n  steps: []\n";
  std::vector<FileError> errors;
  ASSERT_NO_THROW(errors = validateManifestText(text, "bad.yaml"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_NE(errors[0].message.find("UTF-8"), std::string::npos) << errors[0].str();
}

// fuzz/matcher: str() wrote a backslash as it was, so the canonical form of
// `v!=papi\a\ \\d` read back as another value. It escapes it now, as
// Alertmanager's %q does.
TEST(FuzzRegression, AMatchersCanonicalFormReadsBackAsTheSameMatcher) {
  for (const char* text : {"v!=papi\\a\\ \\\\d", "a=~\"api\\.example\"", "m=\"x\\ry\""}) {
    Result<Matcher> m = Matcher::parse(text);
    ASSERT_TRUE(m.ok()) << text << ": " << m.error();
    Result<Matcher> again = Matcher::parse(m->str());
    ASSERT_TRUE(again.ok()) << m->str() << ": " << again.error();
    EXPECT_EQ(again->value(), m->value()) << text << " -> " << m->str();
  }
  EXPECT_EQ(Matcher::parse("v!=a\\b").value().str(), "v!=\"a\\\\b\"");
}

}  // namespace
}  // namespace remedy::api
