// Go's regexp syntax and messages on RE2. The expected messages are those of
// Go 1.26's regexp.Compile (kube-apiserver v1.33.13 as built for the tests
// prints the same after "must be a valid regular expression, but isn't: ").
#include "formats/go_regexp.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace remedy::formats {
namespace {

std::string compileError(const std::string& pattern) {
  auto re = GoRegexp::compile(pattern);
  return re.ok() ? "ok" : re.error().message;
}

TEST(GoRegexp, CompilesWhatGoCompilesAndRefusesWhatGoRefusesWithGosMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"^(?i)(abort|warn)?$", "ok"},
      {"^(?<word>[a-z]+)$", "ok"},
      {"(?P<n>a)(?P<n>b)", "ok"},
      {"(?<n>a)(?P<n>b)", "ok"},
      {"(?<1a>x)", "ok"},
      {"[[:alpha:]-z]", "ok"},
      {"\\Q(?<x>\\E", "ok"},
      {"[(?<x>a)]", "ok"},
      {"a{,5}", "ok"},
      {"(?U)a+", "ok"},
      {"\\z", "ok"},
      {"(?m)^a$", "ok"},
      {"(?s).", "ok"},
      {"\\b\\B", "ok"},
      {"[^\\x00-\\x{10FFFF}]", "ok"},
      {"[]a]", "ok"},
      {"[^]a]", "ok"},
      {"\\Qab", "ok"},
      {"()", "ok"},
      {"(|a)", "ok"},
      {"crit(al", "error parsing regexp: missing closing ): `crit(al`"},
      {"\\C", "error parsing regexp: invalid escape sequence: `\\C`"},
      {"[\\C]", "error parsing regexp: invalid escape sequence: `\\C`"},
      {"a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"},
      {"(a{2}){1000}", "error parsing regexp: invalid repeat count: `{1000}`"},
      {"a{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"},
      {"[z-a]", "error parsing regexp: invalid character class range: `z-a`"},
      {"[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"},
      {"\\pX", "error parsing regexp: invalid character class range: `\\pX`"},
      {"\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"},
      {"(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"},
      {"(?i", "error parsing regexp: invalid or unsupported Perl syntax: `(?i`"},
      {"(?P=n)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"},
      {"x**", "error parsing regexp: invalid nested repetition operator: `**`"},
      {"a**?", "error parsing regexp: invalid nested repetition operator: `**?`"},
      {"x{1000}{2}", "error parsing regexp: invalid nested repetition operator: `{1000}{2}`"},
      {"x{2}{3}{4}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"},
      {"\\8", "error parsing regexp: invalid escape sequence: `\\8`"},
      {"\\1", "error parsing regexp: invalid escape sequence: `\\1`"},
      {"\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"},
      {"\\cA", "error parsing regexp: invalid escape sequence: `\\c`"},
      {"[a-\\d]", "error parsing regexp: invalid escape sequence: `\\d`"},
      {"\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"},
      {"a)", "error parsing regexp: unexpected ): `a)`"},
      {"abc\\", "error parsing regexp: trailing backslash at end of expression: ``"},
      {"[a", "error parsing regexp: missing closing ]: `[a`"},
      {"*a", "error parsing regexp: missing argument to repetition operator: `*`"},
      {"\\Q\\E*", "error parsing regexp: missing argument to repetition operator: `*`"},
      {"(?:", "error parsing regexp: missing closing ): `(?:`"},
      {"(?<name>", "error parsing regexp: missing closing ): `(?<name>`"},
      {"(?<n>a", "error parsing regexp: missing closing ): `(?<n>a`"},
      {"(?<>a)", "error parsing regexp: invalid named capture: `(?<>`"},
      {"(?<n", "error parsing regexp: invalid named capture: `(?<n`"},
      {"(?P<name", "error parsing regexp: invalid named capture: `(?P<name`"},
      {"(?P<n!>a)", "error parsing regexp: invalid named capture: `(?P<n!>`"},
      {"(?<a-b>x)", "error parsing regexp: invalid named capture: `(?<a-b>`"},
      {"(?<=a)b", "error parsing regexp: invalid named capture: `(?<=a)b`"},
      {"(?<!a)b", "error parsing regexp: invalid named capture: `(?<!a)b`"},
      {"(?<=a>b)", "error parsing regexp: invalid named capture: `(?<=a>`"},
      // The first problem from the left is the one Go names.
      {"a**(?<>x)", "error parsing regexp: invalid nested repetition operator: `**`"},
      {"(a(?<>x)", "error parsing regexp: invalid named capture: `(?<>`"},
      {"[a(?<>x)", "error parsing regexp: missing closing ]: `[a(?<>x)`"},
  };
  for (const auto& [pattern, expected] : cases) {
    EXPECT_EQ(compileError(pattern), expected) << pattern;
  }
}

TEST(GoRegexp, TheErrorCarriesGosCodeAndFragment) {
  auto re = GoRegexp::compile("x**");
  ASSERT_FALSE(re.ok());
  EXPECT_EQ(re.error().code, "invalid nested repetition operator");
  EXPECT_EQ(re.error().expr, "**");
}

TEST(GoRegexp, NestingAsDeepAsGoRefusesIsRefused) {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '(') + "a" +
           std::string(static_cast<size_t>(depth), ')');
  };
  EXPECT_EQ(compileError(nested(999)), "ok");
  EXPECT_EQ(compileError(nested(1000)),
            "error parsing regexp: expression nests too deeply: `" + nested(1000) + "`");
}

TEST(GoRegexp, GroupNamesInGo122FormMatchLikeAnyGroup) {
  auto translated = translateGoRegexp("^(?<word>[a-z]+)-(?<n>[0-9])$");
  ASSERT_TRUE(translated.ok());
  EXPECT_EQ(translated.value(), "^(?P<word>[a-z]+)-(?P<n>[0-9])$");
  // Not inside a class, after a backslash or between \Q and \E.
  for (const char* literal : {"[(?<x>)]", "\\(?<x>)", "\\Q(?<x>)\\E", "[[:alpha:](?<x>)]"}) {
    auto same = translateGoRegexp(literal);
    ASSERT_TRUE(same.ok()) << literal;
    EXPECT_EQ(same.value(), literal);
  }
  auto re = GoRegexp::compile("^(?<word>[a-z]+)-(?<n>[0-9])$").value();
  EXPECT_TRUE(re.find("abc-1"));
  EXPECT_FALSE(re.find("abc-12"));
  auto literal = GoRegexp::compile("^\\Q(?<x>)\\E$").value();
  EXPECT_TRUE(literal.find("(?<x>)"));
  auto inClass = GoRegexp::compile("^[(?<x>)]+$").value();
  EXPECT_TRUE(inClass.find("?<>x"));
}

TEST(GoRegexp, FindIsUnanchoredLikeMatchString) {
  auto re = GoRegexp::compile("crit").value();
  EXPECT_TRUE(re.find("critical"));
  EXPECT_TRUE(re.find("a crit"));
  EXPECT_FALSE(re.find("CRIT"));
  EXPECT_FALSE(re.matchesAll("critical"));
  EXPECT_TRUE(re.matchesAll("crit"));
  // prometheus-operator's PrometheusRule CRD: a leading (?i) after ^.
  auto rule = GoRegexp::compile("^(?i)(abort|warn)?$").value();
  for (const char* yes : {"", "abort", "Abort", "WARN", "wArN"}) EXPECT_TRUE(rule.find(yes)) << yes;
  for (const char* no : {"abortx", "ignore", " warn"}) EXPECT_FALSE(rule.find(no)) << no;
}

TEST(GoRegexp, SemanticsAreGos) {
  // $ without (?m) matches only at the very end, not before a final newline.
  EXPECT_FALSE(GoRegexp::compile("^a$").value().find("a\n"));
  // . does not match a newline unless (?s).
  EXPECT_FALSE(GoRegexp::compile("^a.b$").value().find("a\nb"));
  EXPECT_TRUE(GoRegexp::compile("(?s)^a.b$").value().find("a\nb"));
  // Leftmost-first alternation and Unicode case folding (K matches the Kelvin sign).
  EXPECT_TRUE(GoRegexp::compile("(?i)^k$").value().find("\xE2\x84\xAA"));
  // \d is ASCII only, \pL is Unicode.
  EXPECT_FALSE(GoRegexp::compile("^\\d$").value().find("\xD9\xA3"));
  EXPECT_TRUE(GoRegexp::compile("^\\pL+$").value().find("\xC3\xA9t\xC3\xA9"));
}

TEST(GoRegexp, LongInputNeitherBacktracksNorOverflowsTheStack) {
  // Patterns that make backtracking engines exponential, or recursive ones
  // overflow their stack, on long input: RE2 is linear and iterative.
  std::string as(200000, 'a');
  EXPECT_TRUE(GoRegexp::compile("^(a|b)*$").value().find(as));
  EXPECT_FALSE(GoRegexp::compile("^(a+)+$").value().find(as + "!"));
  EXPECT_FALSE(GoRegexp::compile("(x+x+)+y").value().find(std::string(5000, 'x')));
  std::string big(8 << 20, 'a');
  EXPECT_TRUE(GoRegexp::compile("^(?:a|aa)*$").value().find(big));
}

TEST(GoRegexp, CopiesShareTheCompiledExpression) {
  GoRegexp a = GoRegexp::compile("^x+$").value();
  GoRegexp b = a;
  EXPECT_TRUE(b.find("xx"));
  EXPECT_EQ(b.pattern(), "^x+$");
}

}  // namespace
}  // namespace remedy::formats
