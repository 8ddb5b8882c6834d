#include "api/when_expression.h"

#include "api/action_catalog.h"
#include "api/duration.h"
#include "api/expression_scanner.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace remedy::api {

struct WhenExpression::Node {
  enum class Kind { kOr, kAnd, kNot, kCompare, kIn, kHas, kLiteral, kReference };
  enum class Type { kString, kNumber, kDuration, kBool };

  Kind kind = Kind::kLiteral;
  std::string op;  // for kCompare: "==", ...; for kIn: "in" or "not in"
  // kCompare and kIn: the comparison as written (for warnings).
  std::string source;
  // kHas: the one reference.
  std::vector<std::shared_ptr<const Node>> children;
  // kIn: the list.
  std::vector<std::shared_ptr<const Node>> list;
  // kLiteral:
  Type type = Type::kString;
  std::string text;  // the literal as written, or the string's value
  double number = 0;
  Duration duration{0};
  bool boolean = false;
  // kReference:
  Reference reference;
};

namespace {

using Node = WhenExpression::Node;
using NodePtr = std::shared_ptr<const Node>;

// A runtime value.
struct Value {
  Node::Type type = Node::Type::kString;
  std::string text;
  double number = 0;
  Duration duration{0};
  bool boolean = false;
  // The reference has no value; every comparison with it is false.
  bool missing = false;
};

std::optional<double> parseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), scan_(text, 0) {}

  Result<NodePtr> parseAll() {
    Result<NodePtr> node = parseOr();
    if (!node.ok()) return node;
    scan_.skipSpace();
    if (!scan_.atEnd()) return unexpected("\"and\", \"or\" or the end");
    return node;
  }

 private:
  Error fail(const std::string& why) const {
    return Error{"column " + std::to_string(scan_.pos() + 1) + ": " + why};
  }
  Error unexpected(const std::string& expected) {
    scan_.skipSpace();
    if (scan_.atEnd()) return fail("unexpected end; expected " + expected);
    std::string_view rest = text_.substr(scan_.pos());
    std::string word(rest.substr(0, std::min<size_t>(rest.find(' '), 12)));
    if (word.rfind("&&", 0) == 0 || word.rfind("||", 0) == 0) {
      return fail("write \"and\" and \"or\" instead of \"&&\" and \"||\"");
    }
    return fail("unexpected \"" + word + "\"; expected " + expected);
  }

  Result<NodePtr> parseOr() { return parseBinary(Node::Kind::kOr, "or"); }

  // Parentheses and "not" nest by recursion: deeper than this is refused
  // instead of running the parser (and later the evaluation) off the stack.
  static constexpr int kMaxNesting = 100;

  // Counts one level of nesting for as long as it lives.
  class Nested {
   public:
    explicit Nested(int& depth) : depth_(depth) { ++depth_; }
    ~Nested() { --depth_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;

   private:
    int& depth_;
  };
  Error tooDeep() const {
    return fail("nested deeper than " + std::to_string(kMaxNesting) +
                " levels of parentheses and \"not\"");
  }

  Result<NodePtr> parseBinary(Node::Kind kind, std::string_view keyword) {
    Result<NodePtr> left =
        kind == Node::Kind::kOr ? parseBinary(Node::Kind::kAnd, "and") : parseNot();
    if (!left.ok()) return left;
    auto node = std::make_shared<Node>();
    node->kind = kind;
    node->children.push_back(left.value());
    while (true) {
      scan_.skipSpace();
      if (!scan_.consumeKeyword(keyword)) break;
      Result<NodePtr> right =
          kind == Node::Kind::kOr ? parseBinary(Node::Kind::kAnd, "and") : parseNot();
      if (!right.ok()) return right;
      node->children.push_back(right.value());
    }
    if (node->children.size() == 1) return node->children[0];
    return NodePtr(node);
  }

  Result<NodePtr> parseNot() {
    scan_.skipSpace();
    if (scan_.consumeKeyword("not")) {
      Nested level(depth_);
      if (depth_ > kMaxNesting) return tooDeep();
      Result<NodePtr> operand = parseNot();
      if (!operand.ok()) return operand;
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::kNot;
      node->children.push_back(operand.value());
      return NodePtr(node);
    }
    if (scan_.peek() == '!' && scan_.peek(1) != '=') return fail("write \"not\" instead of \"!\"");
    return parseComparison();
  }

  Result<NodePtr> parseComparison() {
    scan_.skipSpace();
    size_t start = scan_.pos();
    auto written = [&] { return std::string(text_.substr(start, scan_.pos() - start)); };
    Result<NodePtr> left = parseOperand();
    if (!left.ok()) return left;
    scan_.skipSpace();
    size_t before = scan_.pos();
    bool negated = false;
    if (scan_.consumeKeyword("not")) {
      scan_.skipSpace();
      if (!scan_.consumeKeyword("in")) {
        scan_.setPos(before);
        return unexpected("\"in\" after \"not\"");
      }
      negated = true;
    }
    if (negated || scan_.consumeKeyword("in")) {
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::kIn;
      node->op = negated ? "not in" : "in";
      node->children.push_back(left.value());
      scan_.skipSpace();
      if (!scan_.consume("[")) return unexpected("\"[\" after \"in\"");
      scan_.skipSpace();
      if (!scan_.consume("]")) {
        while (true) {
          scan_.skipSpace();
          Result<NodePtr> item = parseLiteral();
          if (!item.ok()) return item;
          node->list.push_back(item.value());
          scan_.skipSpace();
          if (scan_.consume("]")) break;
          if (!scan_.consume(",")) return unexpected("\",\" or \"]\"");
        }
      }
      node->source = written();
      return NodePtr(node);
    }
    static const char* const kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (const char* op : kOps) {
      if (!scan_.consume(op)) continue;
      Result<NodePtr> right = parseOperand();
      if (!right.ok()) return right;
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::kCompare;
      node->op = op;
      node->children = {left.value(), right.value()};
      node->source = written();
      return NodePtr(node);
    }
    if (scan_.peek() == '=') return fail("write \"==\" to compare");
    return left;
  }

  Result<NodePtr> parseOperand() {
    scan_.skipSpace();
    if (scan_.consume("(")) {
      Nested level(depth_);
      if (depth_ > kMaxNesting) return tooDeep();
      Result<NodePtr> inner = parseOr();
      if (!inner.ok()) return inner;
      scan_.skipSpace();
      if (!scan_.consume(")")) return unexpected("\")\"");
      return inner;
    }
    if (std::optional<Result<NodePtr>> has = parseHas()) return *has;
    if (scan_.startsReference() && !startsBoolLiteral()) {
      size_t start = scan_.pos();
      Result<Reference> ref = scan_.readReference();
      if (!ref.ok()) return Error{ref.error()};
      const std::string& root = ref->path[0];
      if (root == "and" || root == "or" || root == "in" || root == "not") {
        scan_.setPos(start);
        return unexpected("a value");
      }
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::kReference;
      node->reference = ref.value();
      return NodePtr(node);
    }
    return parseLiteral();
  }

  // has(REFERENCE); nullopt when the text does not start with "has(".
  std::optional<Result<NodePtr>> parseHas() {
    auto refuse = [this](const std::string& why) {
      return std::optional<Result<NodePtr>>(Result<NodePtr>(fail(why)));
    };
    size_t start = scan_.pos();
    if (!scan_.consumeKeyword("has")) return std::nullopt;
    scan_.skipSpace();
    if (!scan_.consume("(")) {
      scan_.setPos(start);
      return std::nullopt;
    }
    scan_.skipSpace();
    if (scan_.peek() == ')')
      return refuse("has() takes a reference, such as has(alert.labels.lag)");
    if (!scan_.startsReference() || startsBoolLiteral()) {
      return refuse(
          "has() takes a reference, such as has(alert.labels.lag), not a literal or a "
          "condition");
    }
    size_t at = scan_.pos();
    Result<Reference> ref = scan_.readReference();
    if (!ref.ok()) return Result<NodePtr>(Error{ref.error()});
    const std::string& root = ref->path[0];
    if (root == "and" || root == "or" || root == "in" || root == "not" || root == "has") {
      scan_.setPos(at);
      return refuse("has() takes a reference, such as has(alert.labels.lag), not a condition");
    }
    scan_.skipSpace();
    if (!scan_.consume(")")) {
      if (scan_.atEnd()) return refuse("unexpected end; expected \")\" to close has(");
      return refuse("has() takes one reference and nothing else; expected \")\"");
    }
    auto refNode = std::make_shared<Node>();
    refNode->kind = Node::Kind::kReference;
    refNode->reference = ref.value();
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kHas;
    node->children.push_back(refNode);
    return Result<NodePtr>(NodePtr(node));
  }

  bool startsBoolLiteral() {
    size_t start = scan_.pos();
    bool yes = scan_.consumeKeyword("true") || scan_.consumeKeyword("false");
    scan_.setPos(start);
    return yes;
  }

  Result<NodePtr> parseLiteral() {
    scan_.skipSpace();
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kLiteral;
    if (scan_.startsString()) {
      Result<std::string> s = scan_.readString();
      if (!s.ok()) return Error{s.error()};
      node->type = Node::Type::kString;
      node->text = s.value();
      return NodePtr(node);
    }
    bool isTrue = scan_.consumeKeyword("true");
    if (isTrue || scan_.consumeKeyword("false")) {
      node->type = Node::Type::kBool;
      node->boolean = isTrue;
      node->text = isTrue ? "true" : "false";
      return NodePtr(node);
    }
    if (scan_.startsNumber()) {
      size_t start = scan_.pos();
      std::string text = scan_.readNumberText().value();
      node->text = text;
      if (std::optional<double> n = parseNumber(text)) {
        node->type = Node::Type::kNumber;
        node->number = *n;
        return NodePtr(node);
      }
      if (text[0] != '-') {
        Result<Duration> d = parseDuration(text);
        if (d.ok()) {
          node->type = Node::Type::kDuration;
          node->duration = d.value();
          return NodePtr(node);
        }
      }
      scan_.setPos(start);
      return fail("\"" + text + "\" is neither a number nor a duration such as 5m");
    }
    return unexpected("a value (a reference, a quoted string, a number or a duration)");
  }

  std::string_view text_;
  ExpressionScanner scan_;
  // Levels of parentheses and "not" open at the scan position.
  int depth_ = 0;
};

// ---- static checks ----

const char* typeName(Node::Type t) {
  switch (t) {
    case Node::Type::kString:
      return "a string";
    case Node::Type::kNumber:
      return "a number";
    case Node::Type::kDuration:
      return "a duration";
    case Node::Type::kBool:
      return "a boolean";
  }
  return "a value";
}

// The fixed set of values a reference can take, if any.
const std::vector<std::string>* enumeratedValues(const Reference& ref, std::string* what) {
  const auto& p = ref.path;
  if (p.size() == 3 && p[0] == "steps" && p[2] == "phase") {
    *what = "a step phase";
    return &stepPhases();
  }
  if (p.size() == 2 && p[0] == "alert" && p[1] == "status") {
    *what = "an alert status";
    return &alertStatuses();
  }
  return nullptr;
}

std::string describe(const Node& n) {
  if (n.kind == Node::Kind::kReference) return n.reference.str();
  if (n.kind == Node::Kind::kLiteral) {
    return n.type == Node::Type::kString
               ? nlohmann::json(n.text).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
               : n.text;
  }
  return "the condition";
}

std::string joinedValues(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

class Checker {
 public:
  explicit Checker(const ReferenceScope& scope) : scope_(scope) {}

  void checkCondition(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kOr:
      case Node::Kind::kAnd:
      case Node::Kind::kNot:
        for (const auto& child : n.children) checkCondition(*child);
        return;
      case Node::Kind::kCompare:
        checkComparison(n);
        return;
      case Node::Kind::kIn:
        checkIn(n);
        return;
      case Node::Kind::kHas:
        checkOperand(*n.children[0]);
        return;
      case Node::Kind::kLiteral:
        if (n.type != Node::Type::kBool) {
          errors.push_back(describe(n) + " is " + typeName(n.type) + ", not a condition");
        }
        return;
      case Node::Kind::kReference:
        checkOperand(n);
        errors.push_back(n.reference.str() + " is a value, not a condition; compare it, as in " +
                         n.reference.str() + " == \"...\"");
        return;
    }
  }

  std::vector<std::string> errors;

 private:
  void checkOperand(const Node& n) {
    if (n.kind == Node::Kind::kReference) {
      if (auto why = checkReference(n.reference, scope_)) {
        errors.push_back(n.reference.str() + " refers to " + *why);
      }
    } else if (n.kind != Node::Kind::kLiteral) {
      errors.push_back("a condition cannot be compared; compare values");
    }
  }

  void checkEnumerated(const Node& ref, const Node& literal) {
    std::string what;
    const std::vector<std::string>* values = enumeratedValues(ref.reference, &what);
    if (values == nullptr) return;
    if (literal.type != Node::Type::kString) {
      errors.push_back(ref.reference.str() + " is " + what + ", not " + typeName(literal.type));
    } else if (!std::count(values->begin(), values->end(), literal.text)) {
      std::string hint;
      if (auto close = closestName(literal.text, *values))
        hint = " (did you mean \"" + *close + "\"?)";
      errors.push_back(nlohmann::json(literal.text)
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       " is not " + what + hint + "; the values are " + joinedValues(*values));
    }
  }

  void checkComparison(const Node& n) {
    const Node& a = *n.children[0];
    const Node& b = *n.children[1];
    checkOperand(a);
    checkOperand(b);
    bool ordering = n.op != "==" && n.op != "!=";
    for (const Node* side : {&a, &b}) {
      std::string what;
      if (side->kind == Node::Kind::kLiteral && ordering &&
          (side->type == Node::Type::kBool || side->type == Node::Type::kString)) {
        errors.push_back("\"" + n.op + "\" compares numbers or durations, not " +
                         typeName(side->type) + " (" + describe(*side) + ")");
      }
      if (side->kind == Node::Kind::kReference && ordering &&
          enumeratedValues(side->reference, &what) != nullptr) {
        errors.push_back("\"" + n.op + "\" compares numbers or durations, and " +
                         side->reference.str() + " is " + what);
      }
    }
    if (a.kind == Node::Kind::kLiteral && b.kind == Node::Kind::kLiteral && a.type != b.type &&
        !((a.type == Node::Type::kNumber && b.type == Node::Type::kDuration) ||
          (a.type == Node::Type::kDuration && b.type == Node::Type::kNumber))) {
      errors.push_back("cannot compare " + std::string(typeName(a.type)) + " (" + describe(a) +
                       ") with " + typeName(b.type) + " (" + describe(b) + ")");
    }
    if (a.kind == Node::Kind::kReference && b.kind == Node::Kind::kLiteral) checkEnumerated(a, b);
    if (b.kind == Node::Kind::kReference && a.kind == Node::Kind::kLiteral) checkEnumerated(b, a);
  }

  void checkIn(const Node& n) {
    const Node& left = *n.children[0];
    checkOperand(left);
    for (const auto& item : n.list) {
      if (left.kind == Node::Kind::kReference) checkEnumerated(left, *item);
      if (left.kind == Node::Kind::kLiteral && left.type != item->type) {
        errors.push_back("cannot compare " + std::string(typeName(left.type)) + " (" +
                         describe(left) + ") with " + typeName(item->type) + " (" +
                         describe(*item) + ")");
      }
    }
  }

  const ReferenceScope& scope_;
};

void collectReferences(const Node& n, std::vector<Reference>* out) {
  if (n.kind == Node::Kind::kReference) out->push_back(n.reference);
  for (const auto& child : n.children) collectReferences(*child, out);
}

// ---- evaluation ----

class Evaluator {
 public:
  explicit Evaluator(const nlohmann::json& context) : context_(context) {}

  Result<bool> condition(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kOr:
      case Node::Kind::kAnd: {
        bool isOr = n.kind == Node::Kind::kOr;
        for (const auto& child : n.children) {
          Result<bool> v = condition(*child);
          if (!v.ok() || v.value() == isOr) return v;
        }
        return !isOr;
      }
      case Node::Kind::kNot: {
        Result<bool> v = condition(*n.children[0]);
        if (!v.ok()) return v;
        return !v.value();
      }
      case Node::Kind::kCompare:
        return compare(n);
      case Node::Kind::kIn: {
        Result<Value> left = value(*n.children[0]);
        if (!left.ok()) return Error{left.error()};
        if (left->missing) return false;
        bool found = false;
        for (const auto& item : n.list) {
          Result<Value> right = value(*item);
          Result<bool> eq = equal(left.value(), right.value());
          if (eq.ok() && eq.value()) found = true;
        }
        return n.op == "in" ? found : !found;
      }
      case Node::Kind::kHas: {
        Result<Value> v = value(*n.children[0]);
        if (!v.ok()) return Error{v.error()};
        return !v->missing;
      }
      case Node::Kind::kLiteral:
        if (n.type == Node::Type::kBool) return n.boolean;
        return Error{describe(n) + " is not a condition"};
      case Node::Kind::kReference: {
        Result<Value> v = value(n);
        if (!v.ok()) return Error{v.error()};
        if (v->missing) return false;
        if (v->text == "true") return true;
        if (v->text == "false") return false;
        return Error{n.reference.str() + " is \"" + v->text + "\", not true or false"};
      }
    }
    return Error{"unknown condition"};
  }

  std::map<std::string, std::string> seen;
  std::vector<std::string> missing;

 private:
  Result<Value> value(const Node& n) {
    Value v;
    if (n.kind == Node::Kind::kLiteral) {
      v.type = n.type;
      v.text = n.text;
      v.number = n.number;
      v.duration = n.duration;
      v.boolean = n.boolean;
      return v;
    }
    if (n.kind != Node::Kind::kReference) return Error{"a condition is not a value"};
    const nlohmann::json* found = lookupReference(n.reference, context_);
    const auto& p = n.reference.path;
    // Prometheus has no empty labels: an empty one is a missing one.
    bool emptyLabel = found != nullptr && p.size() == 3 && p[0] == "alert" && p[1] == "labels" &&
                      found->is_string() && found->get_ref<const std::string&>().empty();
    if (found == nullptr || found->is_null() || emptyLabel) {
      v.missing = true;
      std::string name = n.reference.str();
      if (std::find(missing.begin(), missing.end(), name) == missing.end()) {
        missing.push_back(name);
      }
      return v;
    }
    if (found->is_number()) {
      v.type = Node::Type::kNumber;
      v.number = found->get<double>();
      v.text = found->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else if (found->is_boolean()) {
      v.type = Node::Type::kBool;
      v.boolean = found->get<bool>();
      v.text = v.boolean ? "true" : "false";
    } else if (found->is_string()) {
      v.text = found->get<std::string>();
    } else {
      v.text = found->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    seen[n.reference.str()] = v.text;
    return v;
  }

  // A number of seconds as a Duration; nullopt beyond what int64
  // milliseconds hold (converting such a double is undefined behaviour;
  // found by fuzz/when_expression) and for NaN.
  static std::optional<Duration> secondsToDuration(double seconds) {
    double ms = seconds * 1000;
    if (!(ms > -9.2e18 && ms < 9.2e18)) return std::nullopt;
    return Duration(static_cast<int64_t>(ms));
  }

  // Converts `v` to `type`; nullopt when it cannot be.
  static std::optional<Value> convert(const Value& v, Node::Type type) {
    if (v.type == type) return v;
    Value out = v;
    out.type = type;
    switch (type) {
      case Node::Type::kNumber: {
        if (v.type != Node::Type::kString) return std::nullopt;
        std::optional<double> n = parseNumber(v.text);
        if (!n) return std::nullopt;
        out.number = *n;
        return out;
      }
      case Node::Type::kDuration: {
        if (v.type == Node::Type::kNumber) {
          std::optional<Duration> d = secondsToDuration(v.number);
          if (!d) return std::nullopt;
          out.duration = *d;
          return out;
        }
        if (v.type != Node::Type::kString) return std::nullopt;
        if (std::optional<double> n = parseNumber(v.text)) {
          std::optional<Duration> d = secondsToDuration(*n);
          if (!d) return std::nullopt;
          out.duration = *d;
          return out;
        }
        Result<Duration> d = parseDuration(v.text);
        if (!d.ok()) return std::nullopt;
        out.duration = d.value();
        return out;
      }
      case Node::Type::kBool:
        if (v.type != Node::Type::kString || (v.text != "true" && v.text != "false")) {
          return std::nullopt;
        }
        out.boolean = v.text == "true";
        return out;
      case Node::Type::kString:
        return out;
    }
    return std::nullopt;
  }

  // The type both sides are compared as: duration beats number beats bool beats string.
  static Node::Type commonType(const Value& a, const Value& b) {
    for (Node::Type t : {Node::Type::kDuration, Node::Type::kNumber, Node::Type::kBool}) {
      if (a.type == t || b.type == t) return t;
    }
    return Node::Type::kString;
  }

  static Result<bool> equal(const Value& a, const Value& b) {
    Node::Type t = commonType(a, b);
    std::optional<Value> x = convert(a, t);
    std::optional<Value> y = convert(b, t);
    if (!x || !y) return false;  // "abc" == 5 is simply false
    switch (t) {
      case Node::Type::kDuration:
        return x->duration == y->duration;
      case Node::Type::kNumber:
        return x->number == y->number;
      case Node::Type::kBool:
        return x->boolean == y->boolean;
      case Node::Type::kString:
        return x->text == y->text;
    }
    return false;
  }

  Result<bool> compare(const Node& n) {
    Result<Value> a = value(*n.children[0]);
    if (!a.ok()) return Error{a.error()};
    Result<Value> b = value(*n.children[1]);
    if (!b.ok()) return Error{b.error()};
    if (a->missing || b->missing) return false;
    if (n.op == "==" || n.op == "!=") {
      Result<bool> eq = equal(a.value(), b.value());
      return n.op == "==" ? eq.value() : !eq.value();
    }
    Node::Type t = commonType(a.value(), b.value());
    if (t != Node::Type::kDuration) t = Node::Type::kNumber;
    std::optional<Value> x = convert(a.value(), t);
    std::optional<Value> y = convert(b.value(), t);
    if (!x || !y) {
      const Node& bad = x ? *n.children[1] : *n.children[0];
      const Value& badValue = x ? b.value() : a.value();
      return Error{describe(bad) + " is \"" + badValue.text + "\", not " +
                   (t == Node::Type::kDuration ? "a duration" : "a number")};
    }
    double left = t == Node::Type::kDuration ? static_cast<double>(x->duration.count()) : x->number;
    double right =
        t == Node::Type::kDuration ? static_cast<double>(y->duration.count()) : y->number;
    if (n.op == "<") return left < right;
    if (n.op == "<=") return left <= right;
    if (n.op == ">") return left > right;
    return left >= right;
  }

  const nlohmann::json& context_;
};

// ---- warnings: comparisons that can only be false ----

bool isAlertLabel(const Node& n) {
  const auto& p = n.reference.path;
  return n.kind == Node::Kind::kReference && p.size() == 3 && p[0] == "alert" && p[1] == "labels";
}

bool isEmptyString(const Node& n) {
  return n.kind == Node::Kind::kLiteral && n.type == Node::Type::kString && n.text.empty();
}

// The references a comparison reads.
std::vector<std::string> comparedReferences(const Node& n) {
  std::vector<std::string> out;
  for (const auto& child : n.children) {
    if (child->kind == Node::Kind::kReference) out.push_back(child->reference.str());
  }
  return out;
}

// The operands of an `and`, with nested `and`s flattened.
void conjuncts(const Node& n, std::vector<const Node*>* out) {
  if (n.kind != Node::Kind::kAnd) {
    out->push_back(&n);
    return;
  }
  for (const auto& child : n.children) conjuncts(*child, out);
}

void collectWarnings(const Node& n, std::vector<std::string>* out) {
  const std::string falseAlways = " can only be false: ";
  if (n.kind == Node::Kind::kCompare) {
    const Node& a = *n.children[0];
    const Node& b = *n.children[1];
    if (n.op == "==" &&
        ((isAlertLabel(a) && isEmptyString(b)) || (isAlertLabel(b) && isEmptyString(a)))) {
      const Node& label = isAlertLabel(a) ? a : b;
      out->push_back(n.source + falseAlways +
                     "an empty alert label is a missing one, and a comparison with a missing "
                     "value is false; write not has(" +
                     label.reference.str() + ")");
    }
    if (a.kind == Node::Kind::kLiteral && b.kind == Node::Kind::kLiteral) {
      Evaluator evaluator(nlohmann::json::object());
      Result<bool> v = evaluator.condition(n);
      if (v.ok() && !v.value()) out->push_back(n.source + falseAlways + "it compares two literals");
    }
    return;
  }
  if (n.kind == Node::Kind::kIn) {
    const Node& left = *n.children[0];
    bool allEmpty = std::all_of(n.list.begin(), n.list.end(),
                                [](const NodePtr& item) { return isEmptyString(*item); });
    if (n.op == "in" && n.list.empty()) {
      out->push_back(n.source + falseAlways + "the list is empty");
    } else if (n.op == "in" && isAlertLabel(left) && allEmpty) {
      out->push_back(n.source + falseAlways +
                     "an empty alert label is a missing one, and a comparison with a missing "
                     "value is false; write not has(" +
                     left.reference.str() + ")");
    }
    return;
  }
  if (n.kind == Node::Kind::kAnd) {
    std::vector<const Node*> parts;
    conjuncts(n, &parts);
    std::vector<std::string> absent;
    for (const Node* part : parts) {
      if (part->kind == Node::Kind::kNot && part->children[0]->kind == Node::Kind::kHas) {
        absent.push_back(part->children[0]->children[0]->reference.str());
      }
    }
    for (const Node* part : parts) {
      if (part->kind != Node::Kind::kCompare && part->kind != Node::Kind::kIn) continue;
      for (const std::string& ref : comparedReferences(*part)) {
        if (std::count(absent.begin(), absent.end(), ref)) {
          out->push_back(part->source + falseAlways + "it reads " + ref + ", which not has(" + ref +
                         ") requires to be missing");
        }
      }
    }
  }
  for (const auto& child : n.children) collectWarnings(*child, out);
}

}  // namespace

Result<WhenExpression> WhenExpression::parse(std::string_view text) {
  Parser parser(text);
  Result<NodePtr> root = parser.parseAll();
  if (!root.ok()) return Error{root.error()};
  WhenExpression expr;
  expr.source_ = std::string(text);
  expr.root_ = root.value();
  return expr;
}

std::vector<Reference> WhenExpression::references() const {
  std::vector<Reference> refs;
  collectReferences(*root_, &refs);
  return refs;
}

std::vector<std::string> WhenExpression::check(const ReferenceScope& scope) const {
  Checker checker(scope);
  checker.checkCondition(*root_);
  return checker.errors;
}

std::vector<std::string> WhenExpression::warnings() const {
  std::vector<std::string> found;
  collectWarnings(*root_, &found);
  std::vector<std::string> out;
  for (std::string& w : found) {
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
  }
  return out;
}

Result<WhenResult> WhenExpression::evaluate(const nlohmann::json& context) const {
  Evaluator evaluator(context);
  Result<bool> value = evaluator.condition(*root_);
  if (!value.ok()) return Error{value.error()};
  return WhenResult{value.value(), std::move(evaluator.seen), std::move(evaluator.missing)};
}

}  // namespace remedy::api
