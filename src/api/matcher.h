// Alertmanager matchers: `name=value`, `name!=value`, `name=~regex`,
// `name!~regex`, where the value may be double-quoted with Go escapes
// (`env="prod"`, `path=~"/api/.*"`). Regular expressions are Go's, fully
// anchored as Alertmanager anchors them (pkg/labels/matcher.go compiles
// "^(?:" + value + ")$": `=~"crit"` matches "crit", not "critical"), and a
// missing label matches as the empty string.
#pragma once

#include "api/result.h"
#include "formats/go_regexp.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace remedy::api {

enum class MatchOperator { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

class Matcher {
 public:
  static Result<Matcher> parse(std::string_view text);

  const std::string& name() const { return name_; }
  MatchOperator op() const { return op_; }
  const std::string& value() const { return value_; }
  bool isRegex() const {
    return op_ == MatchOperator::kRegexMatch || op_ == MatchOperator::kRegexNoMatch;
  }
  bool isNegative() const {
    return op_ == MatchOperator::kNotEqual || op_ == MatchOperator::kRegexNoMatch;
  }

  bool matches(const std::map<std::string, std::string>& labels) const;
  bool matchesValue(const std::string& labelValue) const;

  // Canonical form: name, operator, double-quoted value.
  std::string str() const;

 private:
  std::string name_;
  MatchOperator op_ = MatchOperator::kEqual;
  std::string value_;
  std::optional<formats::GoRegexp> regex_;
};

// Compiles `pattern` as a Go regexp anchored at both ends, as Alertmanager
// does: "^(?:" + pattern + ")$". The error quotes the pattern and gives Go's
// message, such as `"crit(al" is not a valid regular expression: error
// parsing regexp: missing closing ): `^(?:crit(al)$``.
Result<formats::GoRegexp> compileAnchoredRegex(const std::string& pattern);

}  // namespace remedy::api
