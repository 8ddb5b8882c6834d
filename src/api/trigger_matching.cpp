#include "api/trigger_matching.h"

#include <algorithm>
#include <tuple>

namespace remedy::api {

long Specificity::score() const {
  return alertName * 100000000L + equalities * 1000000L + regexes * 10000L + negations * 100L +
         severities;
}

bool Specificity::operator<(const Specificity& o) const {
  return std::tie(alertName, equalities, regexes, negations, severities) <
         std::tie(o.alertName, o.equalities, o.regexes, o.negations, o.severities);
}

bool Specificity::operator==(const Specificity& o) const {
  return std::tie(alertName, equalities, regexes, negations, severities) ==
         std::tie(o.alertName, o.equalities, o.regexes, o.negations, o.severities);
}

Result<CompiledTrigger> CompiledTrigger::compile(const Trigger& trigger) {
  CompiledTrigger compiled;
  compiled.trigger_ = trigger;
  for (const std::string& text : trigger.matchers.value_or(std::vector<std::string>{})) {
    Result<Matcher> m = Matcher::parse(text);
    if (!m.ok()) return Error{m.error()};
    compiled.matchers_.push_back(m.value());
  }
  return compiled;
}

std::optional<Specificity> CompiledTrigger::match(
    const std::string& alertName, const std::map<std::string, std::string>& labels) const {
  Specificity s;
  if (trigger_.alertName) {
    if (*trigger_.alertName != alertName) return std::nullopt;
    s.alertName = 1;
  }
  for (const auto& [name, value] : trigger_.labels.value_or(std::map<std::string, std::string>{})) {
    auto it = labels.find(name);
    if (it == labels.end() || it->second != value) return std::nullopt;
    ++s.equalities;
  }
  for (const Matcher& m : matchers_) {
    if (!m.matches(labels)) return std::nullopt;
    if (m.isNegative()) {
      ++s.negations;
    } else if (m.isRegex()) {
      ++s.regexes;
    } else {
      ++s.equalities;
    }
  }
  if (trigger_.severities && !trigger_.severities->empty()) {
    auto it = labels.find("severity");
    if (it == labels.end()) return std::nullopt;
    const auto& allowed = *trigger_.severities;
    if (std::find(allowed.begin(), allowed.end(), it->second) == allowed.end()) {
      return std::nullopt;
    }
    s.severities = 1;
  }
  return s;
}

std::optional<Specificity> matchRunbook(const RunbookSpec& spec, const std::string& alertName,
                                        const std::map<std::string, std::string>& labels) {
  std::optional<Specificity> best;
  for (const Trigger& trigger : spec.triggers.value_or(std::vector<Trigger>{})) {
    Result<CompiledTrigger> compiled = CompiledTrigger::compile(trigger);
    if (!compiled.ok()) continue;
    std::optional<Specificity> s = compiled->match(alertName, labels);
    if (s && (!best || *best < *s)) best = s;
  }
  return best;
}

}  // namespace remedy::api
