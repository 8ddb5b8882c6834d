#include "api/matcher.h"

#include <nlohmann/json.hpp>

namespace remedy::api {
namespace {

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Unquotes a Go-style double-quoted string; nullopt when malformed.
std::optional<std::string> unquote(std::string_view quoted) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '"') return std::nullopt;  // an unescaped quote inside
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 >= quoted.size()) return std::nullopt;
    char e = quoted[++i];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      // Keep other escapes (such as `\.` in a regex) as written, which is what
      // users mean when they write `=~"api\.example"`.
      default:
        out += '\\';
        out += e;
    }
  }
  return out;
}

std::string quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Result<formats::GoRegexp> compileAnchoredRegex(const std::string& pattern) {
  auto re = formats::GoRegexp::compile("^(?:" + pattern + ")$");
  if (!re.ok()) {
    return Error{
        nlohmann::json(pattern).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
        " is not a valid regular expression: " + re.error().message};
  }
  return std::move(re).value();
}

Result<Matcher> Matcher::parse(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return Error{nlohmann::json(std::string(text))
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                 " is not a matcher like env=\"prod\" or " +
                 "namespace=~\"shop|shop-staging\": " + why};
  };
  size_t i = 0;
  while (i < text.size() && isSpace(text[i])) ++i;
  size_t nameStart = i;
  if (i >= text.size() || !isNameStart(text[i])) return invalid("expected a label name");
  while (i < text.size() && isNameChar(text[i])) ++i;
  Matcher m;
  m.name_ = std::string(text.substr(nameStart, i - nameStart));
  while (i < text.size() && isSpace(text[i])) ++i;
  std::string_view rest = text.substr(i);
  if (rest.substr(0, 2) == "=~") {
    m.op_ = MatchOperator::kRegexMatch;
    i += 2;
  } else if (rest.substr(0, 2) == "!~") {
    m.op_ = MatchOperator::kRegexNoMatch;
    i += 2;
  } else if (rest.substr(0, 2) == "!=") {
    m.op_ = MatchOperator::kNotEqual;
    i += 2;
  } else if (rest.substr(0, 1) == "=") {
    m.op_ = MatchOperator::kEqual;
    i += 1;
  } else {
    return invalid("expected one of =, !=, =~, !~ after \"" + m.name_ + "\"");
  }
  size_t end = text.size();
  while (end > i && isSpace(text[end - 1])) --end;
  while (i < end && isSpace(text[i])) ++i;
  std::string_view raw = text.substr(i, end - i);
  if (!raw.empty() && raw.front() == '"') {
    std::optional<std::string> value = unquote(raw);
    if (!value) return invalid("the quoted value is not closed or has an unescaped quote");
    m.value_ = *value;
  } else {
    if (raw.find('"') != std::string_view::npos) {
      return invalid("a value with quotes must be enclosed in double quotes");
    }
    m.value_ = std::string(raw);
  }
  if (m.isRegex()) {
    auto regex = compileAnchoredRegex(m.value_);
    if (!regex.ok()) return invalid(regex.error());
    m.regex_ = regex.value();
  }
  return m;
}

bool Matcher::matchesValue(const std::string& labelValue) const {
  switch (op_) {
    case MatchOperator::kEqual:
      return labelValue == value_;
    case MatchOperator::kNotEqual:
      return labelValue != value_;
    case MatchOperator::kRegexMatch:
      return regex_->find(labelValue);
    case MatchOperator::kRegexNoMatch:
      return !regex_->find(labelValue);
  }
  return false;
}

bool Matcher::matches(const std::map<std::string, std::string>& labels) const {
  auto it = labels.find(name_);
  return matchesValue(it == labels.end() ? std::string() : it->second);
}

std::string Matcher::str() const {
  const char* op = "=";
  switch (op_) {
    case MatchOperator::kEqual:
      op = "=";
      break;
    case MatchOperator::kNotEqual:
      op = "!=";
      break;
    case MatchOperator::kRegexMatch:
      op = "=~";
      break;
    case MatchOperator::kRegexNoMatch:
      op = "!~";
      break;
  }
  return name_ + op + quote(value_);
}

}  // namespace remedy::api
