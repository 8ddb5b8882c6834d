// Alertmanager matchers: `name=value`, `name!=value`, `name=~regex`,
// `name!~regex`, where the value may be double-quoted with Go escapes
// (`env="prod"`, `path=~"/api/.*"`). Regular expressions are fully anchored,
// as Alertmanager does (`=~"crit"` matches "crit", not "critical"), and a
// missing label matches as the empty string.
#pragma once

#include "api/result.h"

#include <map>
#include <memory>
#include <optional>
#include <regex>
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
  // Shared so Matchers stay cheap to copy; std::regex is immutable once built.
  std::shared_ptr<const std::regex> regex_;
};

// Compiles `pattern` anchored at both ends; the error says why it is invalid.
Result<std::shared_ptr<const std::regex>> compileAnchoredRegex(const std::string& pattern);

}  // namespace remedy::api
