#include "formats/go_regexp.h"

#include <re2/re2.h>

#include <optional>
#include <vector>

namespace remedy::formats {
namespace {

// Go's regexp/syntax limits the height of a parse tree to 1000
// (parse.go maxHeight); every capture group adds a level.
constexpr int kMaxCaptureNesting = 1000;

RegexpError goError(const std::string& code, std::string_view expr) {
  RegexpError e{code, std::string(expr), ""};
  e.message = "error parsing regexp: " + e.code + ": `" + e.expr + "`";
  return e;
}

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// regexp/syntax isValidCaptureName: one or more word characters.
bool isValidCaptureName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!isWordChar(c)) return false;
  }
  return true;
}

struct Translation {
  std::string out;  // the pattern for RE2
  // The first problem Go reports differently from RE2; `out` then holds
  // the translation of the input before it.
  std::optional<RegexpError> error;
  int maxCaptureNesting = 0;
};

Translation translate(std::string_view p) {
  Translation t;
  std::vector<bool> groups;  // open groups, true when capturing
  int captures = 0;
  bool inClass = false;
  size_t classStart = 0;  // first position of a class's members
  size_t i = 0;
  auto copy = [&](size_t n) {
    t.out.append(p.substr(i, n));
    i += n;
  };
  while (i < p.size()) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) {
        copy(1);  // a trailing backslash: RE2 says so as Go does
        continue;
      }
      char d = p[i + 1];
      if (d == 'Q' && !inClass) {
        // \Q...\E (or to the end) is literal text.
        size_t end = p.find("\\E", i + 2);
        copy(end == std::string_view::npos ? p.size() - i : end + 2 - i);
        continue;
      }
      if (d == 'C') {
        t.error = goError("invalid escape sequence", "\\C");
        return t;
      }
      copy(2);
      continue;
    }
    if (inClass) {
      if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
        size_t end = p.find(":]", i + 2);
        if (end != std::string_view::npos) {
          copy(end + 2 - i);
          continue;
        }
      }
      if (c == ']' && i > classStart) inClass = false;
      copy(1);
      continue;
    }
    if (c == '[') {
      inClass = true;
      copy(1);
      if (i < p.size() && p[i] == '^') copy(1);
      classStart = i;
      continue;
    }
    if (c == '(') {
      std::string_view rest = p.substr(i);
      bool python = rest.size() > 4 && rest.compare(0, 4, "(?P<") == 0;
      bool go122 = rest.size() > 3 && rest.compare(0, 3, "(?<") == 0;
      if (python || go122) {
        // parse.go parsePerlFlags: the name runs to the first '>'.
        size_t end = rest.find('>');
        if (end == std::string_view::npos) {
          t.error = goError("invalid named capture", rest);
          return t;
        }
        size_t begin = python ? 4 : 3;
        std::string_view name = rest.substr(begin, end - begin);
        if (!isValidCaptureName(name)) {
          t.error = goError("invalid named capture", rest.substr(0, end + 1));
          return t;
        }
        t.out += "(?P<";
        t.out.append(name);
        t.out += '>';
        i += end + 1;
        groups.push_back(true);
      } else {
        groups.push_back(rest.size() < 2 || rest[1] != '?');
        copy(1);
      }
      if (groups.back()) {
        ++captures;
        if (captures > t.maxCaptureNesting) t.maxCaptureNesting = captures;
      }
      continue;
    }
    if (c == ')' && !groups.empty()) {
      if (groups.back()) --captures;
      groups.pop_back();
    }
    copy(1);
  }
  return t;
}

// Go's text for RE2's error: the codes correspond one to one (Go's parser is
// a port of RE2's), and so do the offending fragments, except where Go names
// the whole pattern.
RegexpError fromRe2(const re2::RE2& re, std::string_view original) {
  switch (re.error_code()) {
    case re2::RE2::ErrorBadEscape:
      return goError("invalid escape sequence", re.error_arg());
    case re2::RE2::ErrorBadCharClass:
      return goError("invalid character class", re.error_arg());
    case re2::RE2::ErrorBadCharRange:
      return goError("invalid character class range", re.error_arg());
    case re2::RE2::ErrorMissingBracket:
      return goError("missing closing ]", re.error_arg());
    case re2::RE2::ErrorMissingParen:
      return goError("missing closing )", original);
    case re2::RE2::ErrorUnexpectedParen:
      return goError("unexpected )", original);
    case re2::RE2::ErrorTrailingBackslash:
      return goError("trailing backslash at end of expression", "");
    case re2::RE2::ErrorRepeatArgument:
      return goError("missing argument to repetition operator", re.error_arg());
    case re2::RE2::ErrorRepeatSize:
      return goError("invalid repeat count", re.error_arg());
    case re2::RE2::ErrorRepeatOp:
      return goError("invalid nested repetition operator", re.error_arg());
    case re2::RE2::ErrorBadPerlOp:
      return goError("invalid or unsupported Perl syntax", re.error_arg());
    case re2::RE2::ErrorBadUTF8:
      return goError("invalid UTF-8", re.error_arg());
    case re2::RE2::ErrorBadNamedCapture:
      return goError("invalid named capture", re.error_arg());
    case re2::RE2::ErrorPatternTooLarge:
      return goError("expression too large", original);
    default:
      return goError("regexp/syntax: internal error", re.error_arg());
  }
}

re2::RE2::Options options() {
  re2::RE2::Options o;  // UTF-8, leftmost-first, Perl classes: Go's defaults
  o.set_log_errors(false);
  return o;
}

}  // namespace

Result<std::string, RegexpError> translateGoRegexp(std::string_view pattern) {
  Translation t = translate(pattern);
  if (t.error) return *t.error;
  return t.out;
}

Result<GoRegexp, RegexpError> GoRegexp::compile(std::string_view pattern) {
  Translation t = translate(pattern);
  if (t.error) {
    // Go reports the first problem from the left: one RE2 finds in the text
    // before ours wins, unless it only comes from cutting the text there
    // (a group or class left open).
    re2::RE2 before(t.out, options());
    if (!before.ok() && before.error_code() != re2::RE2::ErrorMissingParen &&
        before.error_code() != re2::RE2::ErrorMissingBracket) {
      return fromRe2(before, pattern);
    }
    return *t.error;
  }
  auto re = std::make_shared<const re2::RE2>(t.out, options());
  if (!re->ok()) return fromRe2(*re, pattern);
  if (t.maxCaptureNesting >= kMaxCaptureNesting) {
    return goError("expression nests too deeply", pattern);
  }
  return GoRegexp(std::string(pattern), std::move(re));
}

GoRegexp::GoRegexp(std::string pattern, std::shared_ptr<const re2::RE2> re)
    : pattern_(std::move(pattern)), re_(std::move(re)) {}

bool GoRegexp::find(std::string_view text) const {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool GoRegexp::matchesAll(std::string_view text) const {
  return re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

std::optional<std::vector<std::string>> GoRegexp::findSubmatch(std::string_view text) const {
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re_->NumberOfCapturingGroups()) + 1);
  if (!re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), re2::RE2::UNANCHORED,
                  groups.data(), static_cast<int>(groups.size()))) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(groups.size());
  for (const re2::StringPiece& g : groups) {
    out.push_back(g.data() == nullptr ? std::string() : std::string(g.data(), g.size()));
  }
  return out;
}

}  // namespace remedy::formats
