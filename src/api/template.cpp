#include "api/template.h"

#include "api/expression_scanner.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace remedy::api {
namespace {

std::string trimmed(const std::string& s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  return s.substr(begin, end - begin);
}

bool isNumberLiteral(const std::string& text) {
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

}  // namespace

std::string jsonValueText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string escapePromqlString(const std::string& text) {
  // PromQL reads a double-quoted string with Go's escapes (strconv.Unquote);
  // a raw line break ends the string with an error.
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
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
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string escapeJsonString(const std::string& text) {
  std::string quoted =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

std::string escapeRedisGlob(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool hasTemplate(std::string_view text) { return text.find("{{") != std::string_view::npos; }

Result<Template::Expression> Template::parseExpression(std::string_view text, size_t open,
                                                       size_t* end) {
  ExpressionScanner scan(text, open + 2);
  Expression expr;
  // Where the expression ends, for error messages naming it.
  auto shown = [&]() {
    size_t close = text.find("}}", open + 2);
    return std::string(close == std::string_view::npos ? text.substr(open)
                                                       : text.substr(open, close + 2 - open));
  };
  auto fail = [&](const std::string& why) { return Error{shown() + ": " + why}; };

  scan.skipSpace();
  if (scan.startsString()) {
    Result<std::string> literal = scan.readString();
    if (!literal.ok()) return fail(literal.error());
    expr.literal = literal.value();
  } else if (scan.startsNumber()) {
    expr.literal = scan.readNumberText().value();
    if (!isNumberLiteral(expr.literal)) {
      return fail(nlohmann::json(expr.literal)
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                  " is not a number");
    }
  } else if (scan.startsReference()) {
    Result<Reference> ref = scan.readReference();
    if (!ref.ok()) return fail(ref.error());
    expr.reference = ref.value();
  } else if (scan.atEnd()) {
    return Error{"\"{{\" at column " + std::to_string(open + 1) + " is not closed with \"}}\""};
  } else if (scan.peek() == '}' && scan.peek(1) == '}') {
    return fail("empty expression");
  } else {
    return fail("unexpected \"" + std::string(1, scan.peek()) + "\" at column " +
                std::to_string(scan.pos() + 1) + "; expected a reference such as " +
                "alert.labels.NAME or a quoted string");
  }
  while (true) {
    scan.skipSpace();
    if (scan.consume("}}")) break;
    if (scan.atEnd()) {
      return Error{"\"{{\" at column " + std::to_string(open + 1) + " is not closed with \"}}\""};
    }
    if (!scan.consume("|")) {
      return fail("unexpected \"" + std::string(1, scan.peek()) + "\" at column " +
                  std::to_string(scan.pos() + 1) + "; expected \"|\" or \"}}\"");
    }
    scan.skipSpace();
    std::string name = scan.readIdentifier();
    Filter filter{FilterKind::kLower, ""};
    if (name == "lower") {
      filter.kind = FilterKind::kLower;
    } else if (name == "upper") {
      filter.kind = FilterKind::kUpper;
    } else if (name == "trim") {
      filter.kind = FilterKind::kTrim;
    } else if (name == "promql") {
      filter.kind = FilterKind::kPromql;
    } else if (name == "json") {
      filter.kind = FilterKind::kJson;
    } else if (name == "glob") {
      filter.kind = FilterKind::kGlob;
    } else if (name == "default") {
      filter.kind = FilterKind::kDefault;
      scan.skipSpace();
      if (!scan.consume("(")) return fail("default needs a value, as in default(\"api\")");
      scan.skipSpace();
      if (scan.startsString()) {
        Result<std::string> arg = scan.readString();
        if (!arg.ok()) return fail(arg.error());
        filter.argument = arg.value();
      } else if (scan.startsNumber()) {
        filter.argument = scan.readNumberText().value();
        if (!isNumberLiteral(filter.argument)) {
          return fail(nlohmann::json(filter.argument)
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                      " is not a number");
        }
      } else {
        return fail("default takes a quoted string or a number, as in default(\"api\")");
      }
      scan.skipSpace();
      if (!scan.consume(")")) return fail("expected \")\" after the value of default");
    } else {
      std::string why =
          name.empty() ? "expected a filter after \"|\"" : "unknown filter \"" + name + "\"";
      std::optional<std::string> close =
          closestName(name, {"default", "lower", "upper", "trim", "promql", "json", "glob"});
      if (close) why += " (did you mean \"" + *close + "\"?)";
      return fail(why +
                  "; filters are default(\"...\"), lower, upper, trim, promql, json and glob");
    }
    expr.filters.push_back(filter);
  }
  *end = scan.pos();
  expr.source = std::string(text.substr(open, *end - open));
  return expr;
}

Result<Template> Template::parse(std::string_view text) {
  Template t;
  t.source_ = std::string(text);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.parts_.push_back({std::string(text.substr(pos)), std::nullopt});
      break;
    }
    if (open > pos) t.parts_.push_back({std::string(text.substr(pos, open - pos)), std::nullopt});
    size_t end = 0;
    Result<Expression> expr = parseExpression(text, open, &end);
    if (!expr.ok()) return Error{expr.error()};
    t.parts_.push_back({"", std::move(expr).value()});
    pos = end;
  }
  return t;
}

bool Template::isLiteral() const {
  return std::none_of(parts_.begin(), parts_.end(),
                      [](const Part& p) { return p.expression.has_value(); });
}

std::vector<TemplateReference> Template::references() const {
  std::vector<TemplateReference> refs;
  for (const Part& part : parts_) {
    if (!part.expression || !part.expression->reference) continue;
    bool hasDefault = std::any_of(part.expression->filters.begin(), part.expression->filters.end(),
                                  [](const Filter& f) { return f.kind == FilterKind::kDefault; });
    refs.push_back({*part.expression->reference, part.expression->source, hasDefault});
  }
  return refs;
}

std::vector<TemplateExpression> Template::expressions() const {
  std::vector<TemplateExpression> out;
  size_t offset = 0;
  for (const Part& part : parts_) {
    if (!part.expression) {
      offset += part.text.size();
      continue;
    }
    const Expression& expr = *part.expression;
    TemplateExpression e;
    e.source = expr.source;
    e.offset = offset;
    e.isLiteral = !expr.reference;
    if (!expr.filters.empty()) {
      switch (expr.filters.back().kind) {
        case FilterKind::kDefault:
          e.lastFilter = "default";
          break;
        case FilterKind::kLower:
          e.lastFilter = "lower";
          break;
        case FilterKind::kUpper:
          e.lastFilter = "upper";
          break;
        case FilterKind::kTrim:
          e.lastFilter = "trim";
          break;
        case FilterKind::kPromql:
          e.lastFilter = "promql";
          break;
        case FilterKind::kJson:
          e.lastFilter = "json";
          break;
        case FilterKind::kGlob:
          e.lastFilter = "glob";
          break;
      }
    }
    out.push_back(std::move(e));
    offset += expr.source.size();
  }
  return out;
}

Result<std::string> Template::render(const nlohmann::json& context, size_t maxSize) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.expression) {
      out += part.text;
    } else {
      const Expression& expr = *part.expression;
      std::optional<std::string> value;
      if (expr.reference) {
        const nlohmann::json* found = lookupReference(*expr.reference, context);
        if (found != nullptr) value = jsonValueText(*found);
      } else {
        value = expr.literal;
      }
      for (const Filter& filter : expr.filters) {
        switch (filter.kind) {
          case FilterKind::kDefault:
            if (!value || value->empty()) value = filter.argument;
            break;
          case FilterKind::kLower:
            if (value) {
              std::transform(value->begin(), value->end(), value->begin(),
                             [](unsigned char c) { return std::tolower(c); });
            }
            break;
          case FilterKind::kUpper:
            if (value) {
              std::transform(value->begin(), value->end(), value->begin(),
                             [](unsigned char c) { return std::toupper(c); });
            }
            break;
          case FilterKind::kTrim:
            if (value) value = trimmed(*value);
            break;
          case FilterKind::kPromql:
            if (value) value = escapePromqlString(*value);
            break;
          case FilterKind::kJson:
            if (value) value = escapeJsonString(*value);
            break;
          case FilterKind::kGlob:
            if (value) value = escapeRedisGlob(*value);
            break;
        }
      }
      if (!value) {
        return Error{expr.source + ": " + expr.reference->str() +
                     " is not set; add | default(\"...\") to provide a fallback"};
      }
      out += *value;
    }
    if (out.size() > maxSize) {
      return Error{"rendering \"" + source_.substr(0, 80) + "\" exceeds " +
                   std::to_string(maxSize) + " bytes"};
    }
  }
  return out;
}

Result<std::string> renderTemplate(std::string_view text, const nlohmann::json& context) {
  Result<Template> t = Template::parse(text);
  if (!t.ok()) return Error{t.error()};
  return t->render(context);
}

}  // namespace remedy::api
