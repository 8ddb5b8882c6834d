// `when` conditions: a small, safe boolean language over the Incident's
// context (see reference.h), for conditional steps (issue 10).
//
//   CONDITION  := OR
//   OR         := AND ( "or" AND )*
//   AND        := NOT ( "and" NOT )*
//   NOT        := "not" NOT | COMPARISON
//   COMPARISON := OPERAND ( ("==" | "!=" | "<" | "<=" | ">" | ">=") OPERAND
//                         | ["not"] "in" "[" LITERAL ("," LITERAL)* "]" )?
//   OPERAND    := "(" OR ")" | "has" "(" REFERENCE ")" | LITERAL | REFERENCE
//   LITERAL    := "string" | 'string' | NUMBER | DURATION (5m, 1h30m) | true | false
//
// Values in the context are strings; a comparison converts them to the other
// side's type: to a number next to a number, to a duration next to a duration
// (a number then counts seconds, so `steps.activity.outputs.oldestSeconds > 5m`
// works). Ordering (<, <=, >, >=) needs numbers or durations. `and` and `or`
// short-circuit, so `steps.a.phase == "Succeeded" and steps.a.outputs.n > 0`
// never reads the outputs of a step that did not succeed.
//
// A missing value (an alert label the alert does not carry, or carries
// empty, as Prometheus has no empty labels; an output a step did not
// produce; a parameter without a value) makes every comparison that reads
// it false, `!=` and `not in` included, as PromQL drops a series that lacks
// the label instead of comparing it. That false is a plain false: `not`,
// `and` and `or` combine it as any other, so `not (a > 1)` is true when `a`
// is missing. `has(REFERENCE)` is true when the value is present; write
// `has(a) and not (a > 1)` for "a is present and at most 1".
#pragma once

#include "api/reference.h"
#include "api/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace remedy::api {

struct WhenResult {
  bool value = false;
  // Every reference read, with the value seen (for the Skipped record).
  std::map<std::string, std::string> values;
  // Every reference read that had no value, in the order read.
  std::vector<std::string> missing;
};

class WhenExpression {
 public:
  struct Node;

  static Result<WhenExpression> parse(std::string_view text);

  const std::string& source() const { return source_; }
  std::vector<Reference> references() const;
  // Every unresolvable reference and type error, as messages; empty when fine.
  std::vector<std::string> check(const ReferenceScope& scope) const;
  // Parts of the condition that can only be false whatever the Incident
  // (an alert label compared with "", two literals compared, a comparison
  // with a value `and`-ed with its absence), as messages; empty when none.
  std::vector<std::string> warnings() const;
  Result<WhenResult> evaluate(const nlohmann::json& context) const;

 private:
  std::string source_;
  std::shared_ptr<const Node> root_;
};

}  // namespace remedy::api
