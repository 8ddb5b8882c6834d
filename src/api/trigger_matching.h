// Matching an alert against a Runbook's triggers, with a specificity so the
// engine can pick the most specific Runbook when several match.
#pragma once

#include "api/matcher.h"
#include "api/result.h"
#include "api/runbook.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

// How specific a matching trigger is. Compared lexicographically, in field
// order: naming the alert beats any number of label constraints, an equality
// beats any number of regex matches, a regex match beats negative matchers,
// and a severity list breaks remaining ties.
struct Specificity {
  int alertName = 0;   // 1 when the trigger names the alert
  int equalities = 0;  // `labels` entries and `=` matchers
  int regexes = 0;     // `=~` matchers
  int negations = 0;   // `!=` and `!~` matchers
  int severities = 0;  // 1 when `severities` restricts

  // A single number with the same order (the CRD bounds each count below 100).
  long score() const;
  bool operator<(const Specificity& o) const;
  bool operator==(const Specificity& o) const;
};

class CompiledTrigger {
 public:
  static Result<CompiledTrigger> compile(const Trigger& trigger);

  // nullopt when the alert does not match. `labels` are the alert's labels;
  // a missing label matches as "" (as in Alertmanager).
  std::optional<Specificity> match(const std::string& alertName,
                                   const std::map<std::string, std::string>& labels) const;

 private:
  Trigger trigger_;
  std::vector<Matcher> matchers_;
};

// The most specific matching trigger of `spec`, or nullopt when none matches.
// Triggers that do not compile never match (validation reports them).
std::optional<Specificity> matchRunbook(const RunbookSpec& spec, const std::string& alertName,
                                        const std::map<std::string, std::string>& labels);

}  // namespace remedy::api
