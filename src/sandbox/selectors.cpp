#include "sandbox/selectors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <variant>
#include "formats/go_format.h"

namespace remedy::sandbox {

namespace {

std::string joinStrings(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool isQualifiedNamePart(const std::string& s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
bool isDns1123Subdomain(const std::string& s) {
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto lowerAlnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (label.empty() || !lowerAlnum(label.front()) || !lowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!lowerAlnum(c) && c != '-') return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// Messages of k8s.io/apimachinery/pkg/util/validation (validation.go).
const char* kQualifiedNameRegexError =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const char* kDns1123SubdomainError =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const char* kLabelValueError =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

// validation.IsQualifiedName.
std::vector<std::string> qualifiedNameErrors(const std::string& value) {
  std::vector<std::string> errs;
  std::string name = value;
  size_t slash = value.find('/');
  if (slash != std::string::npos) {
    if (value.find('/', slash + 1) != std::string::npos) {
      return {std::string("a qualified name ") + kQualifiedNameRegexError +
              " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
    std::string prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      if (prefix.size() > 253) errs.push_back("prefix part must be no more than 253 characters");
      if (!isDns1123Subdomain(prefix))
        errs.push_back(std::string("prefix part ") + kDns1123SubdomainError);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part must be no more than 63 characters");
  }
  if (!isQualifiedNamePart(name))
    errs.push_back(std::string("name part ") + kQualifiedNameRegexError);
  return errs;
}

// validation.IsValidLabelValue.
std::vector<std::string> labelValueErrors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back("must be no more than 63 characters");
  if (!value.empty() && !isQualifiedNamePart(value)) errs.push_back(kLabelValueError);
  return errs;
}

// A field.Error rendered as field.Error.Error(): "<field>: Invalid value: <v>: <detail>".
std::string invalidValue(const std::string& field, const std::string& renderedValue,
                         const std::string& detail) {
  return field + ": Invalid value: " + renderedValue + ": " + detail;
}

std::string renderStringList(const std::vector<std::string>& values) { return json(values).dump(); }

// utilerrors.NewAggregate(...).Error(): one error alone, several in brackets.
std::string aggregate(const std::vector<std::string>& errs) {
  std::vector<std::string> unique;
  for (const auto& e : errs) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique[0];
  return "[" + joinStrings(unique, ", ") + "]";
}

bool parseInt64(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return false;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE) return false;
  *out = v;
  return true;
}

using Op = LabelRequirement::Operator;

// labels.NewRequirement: validates the key, the operator's arity and each
// value. The requirement's field path is nil, so errors name "key",
// "values" and "values[i][<key>]".
std::optional<std::string> validateRequirement(const std::string& key, Op op,
                                               const std::vector<std::string>& values) {
  std::vector<std::string> errs;
  auto keyErrs = qualifiedNameErrors(key);
  if (!keyErrs.empty())
    errs.push_back(invalidValue("key", formats::goQuote(key), joinStrings(keyErrs, "; ")));
  switch (op) {
    case Op::In:
    case Op::NotIn:
      if (values.empty()) {
        errs.push_back(invalidValue("values", renderStringList(values),
                                    "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case Op::Equals:
    case Op::DoubleEquals:
    case Op::NotEquals:
      if (values.size() != 1) {
        errs.push_back(invalidValue("values", renderStringList(values),
                                    "exact-match compatibility requires one single value"));
      }
      break;
    case Op::Exists:
    case Op::DoesNotExist:
      if (!values.empty()) {
        errs.push_back(invalidValue("values", renderStringList(values),
                                    "values set must be empty for exists and does not exist"));
      }
      break;
    case Op::GreaterThan:
    case Op::LessThan:
      if (values.size() != 1) {
        errs.push_back(invalidValue("values", renderStringList(values),
                                    "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        int64_t ignored = 0;
        if (!parseInt64(values[i], &ignored)) {
          errs.push_back(invalidValue("values[" + std::to_string(i) + "]",
                                      formats::goQuote(values[i]),
                                      "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    auto valueErrs = labelValueErrors(values[i]);
    if (!valueErrs.empty()) {
      errs.push_back(invalidValue("values[" + std::to_string(i) + "][" + key + "]",
                                  formats::goQuote(values[i]), joinStrings(valueErrs, "; ")));
    }
  }
  if (errs.empty()) return std::nullopt;
  return aggregate(errs);
}

LabelRequirement makeRequirement(std::string key, Op op, std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return LabelRequirement{std::move(key), op, std::move(values)};
}

// The lexer and parser of k8s.io/apimachinery/pkg/labels/selector.go, token
// for token, so that error messages name the same offending text.
enum class Token {
  Error,
  EndOfString,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
};

struct ScannedItem {
  Token tok = Token::Error;
  std::string literal;
};

const std::map<std::string, Token>& stringToToken() {
  static const std::map<std::string, Token> m = {
      {")", Token::ClosedPar},     {",", Token::Comma},    {"!", Token::DoesNotExist},
      {"==", Token::DoubleEquals}, {"=", Token::Equals},   {">", Token::GreaterThan},
      {"in", Token::In},           {"<", Token::LessThan}, {"!=", Token::NotEquals},
      {"notin", Token::NotIn},     {"(", Token::OpenPar},
  };
  return m;
}

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool isSpecialSymbol(char c) {
  switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '>':
    case '<':
      return true;
    default:
      return false;
  }
}

class Lexer {
 public:
  explicit Lexer(const std::string& s) : s_(s) {}

  ScannedItem lex() {
    char ch = read();
    while (isWhitespace(ch)) ch = read();
    if (ch == 0) return {Token::EndOfString, ""};
    unread();
    return isSpecialSymbol(ch) ? scanSpecialSymbol() : scanIdOrKeyword();
  }

 private:
  // A NUL byte ends the input, as in the Go lexer.
  char read() {
    char c = pos_ < s_.size() ? s_[pos_] : 0;
    ++pos_;
    return c;
  }
  void unread() { --pos_; }

  ScannedItem scanIdOrKeyword() {
    std::string buffer;
    while (true) {
      char ch = read();
      if (ch == 0) break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        unread();
        break;
      }
      buffer += ch;
    }
    auto it = stringToToken().find(buffer);
    if (it != stringToToken().end()) return {it->second, buffer};
    return {Token::Identifier, buffer};
  }

  ScannedItem scanSpecialSymbol() {
    ScannedItem last;
    bool found = false;
    std::string buffer;
    while (true) {
      char ch = read();
      if (ch == 0) break;
      if (!isSpecialSymbol(ch)) {
        unread();
        break;
      }
      buffer += ch;
      auto it = stringToToken().find(buffer);
      if (it != stringToToken().end()) {
        last = {it->second, buffer};
        found = true;
      } else if (found) {
        unread();
        break;
      }
    }
    if (!found) return {Token::Error, "error expected: keyword found '" + buffer + "'"};
    return last;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

enum class Context { KeyAndOperator, Values };

class Parser {
 public:
  explicit Parser(const std::string& selector) {
    Lexer lexer(selector);
    while (true) {
      items_.push_back(lexer.lex());
      if (items_.back().tok == Token::EndOfString) break;
    }
  }

  // labels.Parser.parse.
  std::variant<std::vector<LabelRequirement>, std::string> parse() {
    std::vector<LabelRequirement> requirements;
    while (true) {
      ScannedItem next = lookahead(Context::Values);
      switch (next.tok) {
        case Token::Identifier:
        case Token::DoesNotExist: {
          auto r = parseRequirement();
          if (auto* err = std::get_if<std::string>(&r)) {
            return "unable to parse requirement: " + *err;
          }
          requirements.push_back(std::get<LabelRequirement>(std::move(r)));
          ScannedItem after = consume(Context::Values);
          if (after.tok == Token::EndOfString) return requirements;
          if (after.tok == Token::Comma) {
            ScannedItem t2 = lookahead(Context::Values);
            if (t2.tok != Token::Identifier && t2.tok != Token::DoesNotExist) {
              return "found '" + t2.literal + "', expected: identifier after ','";
            }
            break;
          }
          return "found '" + after.literal + "', expected: ',' or 'end of string'";
        }
        case Token::EndOfString:
          return requirements;
        default:
          return "found '" + next.literal + "', expected: !, identifier, or 'end of string'";
      }
    }
  }

 private:
  ScannedItem lookahead(Context context) const {
    ScannedItem item = position_ < items_.size() ? items_[position_] : items_.back();
    if (context == Context::Values && (item.tok == Token::In || item.tok == Token::NotIn)) {
      item.tok = Token::Identifier;
    }
    return item;
  }

  ScannedItem consume(Context context) {
    ScannedItem item = lookahead(context);
    ++position_;
    return item;
  }

  std::variant<LabelRequirement, std::string> parseRequirement() {
    // parseKeyAndInferOperator
    std::optional<Op> op;
    ScannedItem item = consume(Context::Values);
    if (item.tok == Token::DoesNotExist) {
      op = Op::DoesNotExist;
      item = consume(Context::Values);
    }
    if (item.tok != Token::Identifier) return "found '" + item.literal + "', expected: identifier";
    std::string key = item.literal;
    auto keyErrs = qualifiedNameErrors(key);
    if (!keyErrs.empty()) {
      // The parser's path is nil here, which field.Path prints as "<nil>".
      return invalidValue("<nil>", formats::goQuote(key), joinStrings(keyErrs, "; "));
    }
    Token next = lookahead(Context::Values).tok;
    if ((next == Token::EndOfString || next == Token::Comma) && !op) op = Op::Exists;
    if (op) return finish(key, *op, {});

    // parseOperator
    ScannedItem opItem = consume(Context::KeyAndOperator);
    switch (opItem.tok) {
      case Token::In:
        op = Op::In;
        break;
      case Token::Equals:
        op = Op::Equals;
        break;
      case Token::DoubleEquals:
        op = Op::DoubleEquals;
        break;
      case Token::GreaterThan:
        op = Op::GreaterThan;
        break;
      case Token::LessThan:
        op = Op::LessThan;
        break;
      case Token::NotIn:
        op = Op::NotIn;
        break;
      case Token::NotEquals:
        op = Op::NotEquals;
        break;
      default:
        return "found '" + opItem.literal + "', expected: in, notin, =, ==, !=, gt, lt";
    }
    std::variant<std::vector<std::string>, std::string> values =
        (*op == Op::In || *op == Op::NotIn) ? parseValues() : parseExactValue();
    if (auto* err = std::get_if<std::string>(&values)) return *err;
    return finish(key, *op, std::get<std::vector<std::string>>(std::move(values)));
  }

  static std::variant<LabelRequirement, std::string> finish(const std::string& key, Op op,
                                                            std::vector<std::string> values) {
    LabelRequirement r = makeRequirement(key, op, std::move(values));
    if (auto err = validateRequirement(r.key, r.op, r.values)) return *err;
    return r;
  }

  std::variant<std::vector<std::string>, std::string> parseValues() {
    ScannedItem open = consume(Context::Values);
    if (open.tok != Token::OpenPar) return "found '" + open.literal + "' expected: '('";
    ScannedItem next = lookahead(Context::Values);
    switch (next.tok) {
      case Token::Identifier:
      case Token::Comma: {
        auto values = parseIdentifiersList();
        if (std::holds_alternative<std::string>(values)) return values;
        if (consume(Context::Values).tok != Token::ClosedPar) {
          return "found '" + next.literal + "', expected: ')'";
        }
        return values;
      }
      case Token::ClosedPar:
        consume(Context::Values);
        return std::vector<std::string>{""};
      default:
        return "found '" + next.literal + "', expected: ',', ')' or identifier";
    }
  }

  std::variant<std::vector<std::string>, std::string> parseIdentifiersList() {
    std::set<std::string> values;
    while (true) {
      ScannedItem item = consume(Context::Values);
      switch (item.tok) {
        case Token::Identifier: {
          values.insert(item.literal);
          ScannedItem next = lookahead(Context::Values);
          if (next.tok == Token::Comma) continue;
          if (next.tok == Token::ClosedPar)
            return std::vector<std::string>(values.begin(), values.end());
          return "found '" + next.literal + "', expected: ',' or ')'";
        }
        case Token::Comma: {
          if (values.empty()) values.insert("");
          Token next = lookahead(Context::Values).tok;
          if (next == Token::ClosedPar) {
            values.insert("");
            return std::vector<std::string>(values.begin(), values.end());
          }
          if (next == Token::Comma) {
            consume(Context::Values);
            values.insert("");
          }
          break;
        }
        default:
          return "found '" + item.literal + "', expected: ',', or identifier";
      }
    }
  }

  std::variant<std::vector<std::string>, std::string> parseExactValue() {
    Token next = lookahead(Context::Values).tok;
    if (next == Token::EndOfString || next == Token::Comma) return std::vector<std::string>{""};
    ScannedItem item = consume(Context::Values);
    if (item.tok == Token::Identifier) return std::vector<std::string>{item.literal};
    return "found '" + item.literal + "', expected: identifier";
  }

  std::vector<ScannedItem> items_;
  size_t position_ = 0;
};

void sortByKey(std::vector<LabelRequirement>& requirements) {
  std::stable_sort(
      requirements.begin(), requirements.end(),
      [](const LabelRequirement& a, const LabelRequirement& b) { return a.key < b.key; });
}

std::string labelString(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

// labels.Requirement.Matches.
bool LabelRequirement::matches(const json& labels) const {
  bool has = labels.is_object() && labels.contains(key);
  auto hasValue = [&](const std::string& v) {
    return std::binary_search(values.begin(), values.end(), v);
  };
  switch (op) {
    case Operator::In:
    case Operator::Equals:
    case Operator::DoubleEquals:
      return has && hasValue(labelString(labels[key]));
    case Operator::NotIn:
    case Operator::NotEquals:
      return !has || !hasValue(labelString(labels[key]));
    case Operator::Exists:
      return has;
    case Operator::DoesNotExist:
      return !has;
    case Operator::GreaterThan:
    case Operator::LessThan: {
      int64_t actual = 0;
      int64_t bound = 0;
      if (!has || values.size() != 1 || !parseInt64(labelString(labels[key]), &actual) ||
          !parseInt64(values[0], &bound)) {
        return false;
      }
      return op == Operator::GreaterThan ? actual > bound : actual < bound;
    }
  }
  return false;
}

std::string LabelRequirement::toString() const {
  std::string out = op == Operator::DoesNotExist ? "!" + key : key;
  switch (op) {
    case Operator::Exists:
    case Operator::DoesNotExist:
      return out;
    case Operator::Equals:
      out += "=";
      break;
    case Operator::DoubleEquals:
      out += "==";
      break;
    case Operator::NotEquals:
      out += "!=";
      break;
    case Operator::GreaterThan:
      out += ">";
      break;
    case Operator::LessThan:
      out += "<";
      break;
    case Operator::In:
      out += " in (";
      break;
    case Operator::NotIn:
      out += " notin (";
      break;
  }
  out += joinStrings(values, ",");
  if (op == Operator::In || op == Operator::NotIn) out += ")";
  return out;
}

LabelSelector LabelSelector::nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::parse(const std::string& selector) {
  Parser parser(selector);
  auto parsed = parser.parse();
  if (auto* err = std::get_if<std::string>(&parsed)) return ApiError::badRequest(*err);
  LabelSelector s;
  s.requirements_ = std::get<std::vector<LabelRequirement>>(std::move(parsed));
  sortByKey(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::fromLabelSelectorJson(const json& selector) {
  if (selector.is_null()) return nothing();
  if (!selector.is_object()) {
    return ApiError::badRequest("invalid label selector: " + selector.dump() +
                                " is not a metav1.LabelSelector object");
  }
  LabelSelector s;
  const json matchLabels = selector.value("matchLabels", json::object());
  const json matchExpressions = selector.value("matchExpressions", json::array());
  if (matchLabels.is_object()) {
    for (const auto& [k, v] : matchLabels.items()) {
      std::vector<std::string> values = {labelString(v)};
      if (auto err = validateRequirement(k, Op::Equals, values)) return ApiError::badRequest(*err);
      s.requirements_.push_back(makeRequirement(k, Op::Equals, values));
    }
  }
  if (matchExpressions.is_array()) {
    for (const auto& e : matchExpressions) {
      std::string op = e.is_object() ? e.value("operator", "") : "";
      std::string key = e.is_object() ? e.value("key", "") : "";
      std::vector<std::string> values;
      if (e.is_object() && e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) values.push_back(labelString(v));
      }
      Op parsedOp;
      if (op == "In") {
        parsedOp = Op::In;
      } else if (op == "NotIn") {
        parsedOp = Op::NotIn;
      } else if (op == "Exists") {
        parsedOp = Op::Exists;
      } else if (op == "DoesNotExist") {
        parsedOp = Op::DoesNotExist;
      } else {
        return ApiError::badRequest(formats::goQuote(op) +
                                    " is not a valid label selector operator");
      }
      if (auto err = validateRequirement(key, parsedOp, values)) return ApiError::badRequest(*err);
      s.requirements_.push_back(makeRequirement(key, parsedOp, values));
    }
  }
  sortByKey(s.requirements_);
  return s;
}

bool LabelSelector::matches(const json& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const LabelRequirement& r) { return r.matches(labels); });
}

std::string LabelSelector::toString() const {
  std::vector<std::string> parts;
  for (const auto& r : requirements_) parts.push_back(r.toString());
  return joinStrings(parts, ",");
}

namespace {

// fields.splitTerms: split on commas that are not escaped with a backslash.
std::vector<std::string> splitTerms(const std::string& selector) {
  std::vector<std::string> terms;
  if (selector.empty()) return terms;
  size_t start = 0;
  bool inSlash = false;
  for (size_t i = 0; i < selector.size(); ++i) {
    char c = selector[i];
    if (inSlash) {
      inSlash = false;
    } else if (c == '\\') {
      inSlash = true;
    } else if (c == ',') {
      terms.push_back(selector.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(selector.substr(start));
  return terms;
}

// fields.UnescapeValue.
std::variant<std::string, std::string> unescapeValue(const std::string& s) {
  enum { kValue, kError };
  std::string out;
  bool inSlash = false;
  for (char c : s) {
    if (inSlash) {
      if (c != '\\' && c != ',' && c != '=') {
        return std::variant<std::string, std::string>(
            std::in_place_index<kError>,
            std::string("invalid field selector: invalid escape sequence: \\") + c);
      }
      out += c;
      inSlash = false;
      continue;
    }
    if (c == '\\') {
      inSlash = true;
    } else if (c == ',' || c == '=') {
      // %v of a Go rune prints its code point.
      return std::variant<std::string, std::string>(
          std::in_place_index<kError>,
          "invalid field selector: unescaped character in value: " + std::to_string(int(c)));
    } else {
      out += c;
    }
  }
  if (inSlash) {
    return std::variant<std::string, std::string>(
        std::in_place_index<kError>, "invalid field selector: invalid escape sequence: \\");
  }
  return std::variant<std::string, std::string>(std::in_place_index<kValue>, out);
}

}  // namespace

Result<FieldSelector> FieldSelector::parse(const std::string& selector,
                                           const std::vector<std::string>& supportedFields) {
  std::vector<std::string> parts = splitTerms(selector);
  std::sort(parts.begin(), parts.end());
  FieldSelector s;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    size_t at = std::string::npos;
    std::string op;
    for (size_t i = 0; i < part.size() && at == std::string::npos; ++i) {
      for (const char* candidate : {"!=", "==", "="}) {
        if (part.compare(i, std::char_traits<char>::length(candidate), candidate) == 0) {
          at = i;
          op = candidate;
          break;
        }
      }
    }
    if (at == std::string::npos) {
      return ApiError::badRequest("invalid selector: '" + selector + "'; can't understand '" +
                                  part + "'");
    }
    auto value = unescapeValue(part.substr(at + op.size()));
    if (value.index() == 1) return ApiError::badRequest(std::get<1>(value));
    s.requirements_.push_back({part.substr(0, at), op != "!=", std::get<0>(value)});
  }
  // The terms are converted in sorted order, so the first unsupported one in
  // that order is the one reported (fields.andTerm.Transform).
  for (const auto& r : s.requirements_) {
    bool supported =
        r.field == "metadata.name" || r.field == "metadata.namespace" ||
        std::find(supportedFields.begin(), supportedFields.end(), r.field) != supportedFields.end();
    if (!supported) return ApiError::badRequest("field label not supported: " + r.field);
  }
  return s;
}

bool FieldSelector::matches(const json& object) const {
  return matches([&](const std::string& field) { return fieldValue(object, field); });
}

bool FieldSelector::matches(
    const std::function<std::string(const std::string& field)>& fieldValue) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const FieldRequirement& r) {
    return (fieldValue(r.field) == r.value) == r.equals;
  });
}

std::string FieldSelector::fieldValue(const json& object, const std::string& dottedPath) {
  const json* cur = &object;
  size_t start = 0;
  while (true) {
    size_t dot = dottedPath.find('.', start);
    std::string part =
        dottedPath.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return "";
    auto it = cur->find(part);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_number() || cur->is_boolean()) return cur->dump();
  return "";
}

}  // namespace remedy::sandbox
