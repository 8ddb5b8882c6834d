// Go regular expressions (package regexp: RE2 syntax, leftmost-first
// matching), as Kubernetes compiles CRD `pattern`s and Alertmanager compiles
// matchers. Matching runs on RE2, in time linear in the input and without
// recursion, so no input can make it overflow the stack.
#pragma once

#include "formats/result.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace remedy::formats {

// Why a pattern does not compile, as Go's regexp/syntax.Error says it.
struct RegexpError {
  std::string code;     // Go's ErrorCode, such as "missing closing )"
  std::string expr;     // the part of the pattern at fault
  std::string message;  // "error parsing regexp: <code>: `<expr>`"
};

class GoRegexp {
 public:
  // Compiles `pattern` with Go's syntax. Go 1.22's `(?<name>...)` is
  // accepted (Debian bookworm's RE2 only knows `(?P<name>...)`), and `\C`
  // refused (RE2 has it, Go does not). The error is Go's own text, such as
  // "error parsing regexp: missing closing ): `crit(al`".
  static Result<GoRegexp, RegexpError> compile(std::string_view pattern);

  // Whether the expression matches somewhere in `text`, unanchored, like
  // Go's (*Regexp).MatchString.
  bool find(std::string_view text) const;
  // Whether it matches all of `text`.
  bool matchesAll(std::string_view text) const;
  // The leftmost match and its groups ("" for a group that took no part),
  // like Go's FindStringSubmatch; nullopt when there is no match.
  std::optional<std::vector<std::string>> findSubmatch(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  GoRegexp(std::string pattern, std::shared_ptr<const re2::RE2> re);

  std::string pattern_;
  // Shared, so copies are cheap; RE2 is immutable and thread-safe once built.
  std::shared_ptr<const re2::RE2> re_;
};

// The rewrite compile() applies before RE2 parses `pattern`:
// `(?<name>` becomes `(?P<name>` outside character classes, escapes and
// \Q...\E; the result is otherwise the pattern as written. An error is a
// problem RE2 would not report as Go does (a bad group name, `\C`), with
// Go's message, whatever else is wrong with the pattern. Exposed for tests.
Result<std::string, RegexpError> translateGoRegexp(std::string_view pattern);

}  // namespace remedy::formats
