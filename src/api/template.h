// Templates: the small, safe language of Runbook string fields.
//
//   text {{ EXPRESSION }} text
//   EXPRESSION := VALUE ( "|" FILTER )*
//   VALUE      := REFERENCE | "string" | 'string' | NUMBER
//   FILTER     := default("x") | default(5) | lower | upper | trim | promql | json | glob
//
// REFERENCE is one of the names listed in reference.h, such as
// alert.labels.deployment, params.replicas or steps.activity.outputs.matched.
// Filters apply left to right. `default(x)` replaces a missing or empty value;
// `lower`, `upper` and `trim` change a present value and pass a missing one on,
// so `{{ alert.labels.deployment | lower | default("api") }}` and
// `{{ alert.labels.deployment | default("api") | lower }}` both work.
// `promql` escapes a value for inside a double-quoted PromQL string
// (label="{{ alert.labels.x | promql }}") and `json` for inside a JSON string
// ("{{ alert.labels.x | json }}"): validation requires them where a
// prometheusCheck query or a JSON request body embeds a value, so an alert
// label cannot rewrite the query or the body around it. `glob` escapes a
// value for a Redis key pattern (session:{{ params.user | glob }}:*), so a
// "*" in it matches only a "*".
// A value still missing after the filters is an error naming the expression:
// an action never receives an empty string in place of a value. A literal
// "{{" is written {{ "{{" }}.
//
// There is no code execution: no function calls beyond the four filters, no
// loops, no access beyond the context. Output is bounded (kMaxRenderedSize).
#pragma once

#include "api/reference.h"
#include "api/result.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remedy::api {

inline constexpr size_t kMaxRenderedSize = 64 * 1024;

struct TemplateReference {
  Reference reference;
  std::string expression;  // the whole `{{ ... }}` as written
  bool hasDefault = false;
};

// Where an expression sits in its template and how it ends.
struct TemplateExpression {
  std::string source;      // the whole `{{ ... }}` as written
  size_t offset = 0;       // of its "{{" in the template's text
  bool isLiteral = false;  // a quoted string or a number, not a reference
  std::string lastFilter;  // "promql", "json", "lower", ...; "" for none
};

class Template {
 public:
  static Result<Template> parse(std::string_view text);

  const std::string& source() const { return source_; }
  // True when the text has no {{ }} at all.
  bool isLiteral() const;
  std::vector<TemplateReference> references() const;
  std::vector<TemplateExpression> expressions() const;

  // `context` is shaped as described in reference.h.
  Result<std::string> render(const nlohmann::json& context,
                             size_t maxSize = kMaxRenderedSize) const;

 private:
  enum class FilterKind { kDefault, kLower, kUpper, kTrim, kPromql, kJson, kGlob };
  struct Filter {
    FilterKind kind;
    std::string argument;
  };
  struct Expression {
    std::string source;
    std::optional<Reference> reference;
    std::string literal;
    std::vector<Filter> filters;
  };
  struct Part {
    std::string text;
    std::optional<Expression> expression;
  };

  static Result<Expression> parseExpression(std::string_view text, size_t open, size_t* end);

  std::string source_;
  std::vector<Part> parts_;
};

// True when `text` contains a template expression.
bool hasTemplate(std::string_view text);

// Parses and renders in one go.
Result<std::string> renderTemplate(std::string_view text, const nlohmann::json& context);

// `text` escaped for inside a double-quoted PromQL string (the `promql`
// filter) and for inside a JSON string (the `json` filter).
std::string escapePromqlString(const std::string& text);
std::string escapeJsonString(const std::string& text);
// `text` with Redis glob metacharacters (* ? [ ] \) escaped (the `glob` filter).
std::string escapeRedisGlob(const std::string& text);

// A JSON scalar as a template renders it: strings as is, numbers and booleans
// in JSON notation, objects and arrays as compact JSON.
std::string jsonValueText(const nlohmann::json& value);

}  // namespace remedy::api
