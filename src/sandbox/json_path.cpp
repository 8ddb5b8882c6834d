#include "sandbox/json_path.h"

#include <optional>
#include <variant>

namespace remedy::sandbox {

namespace {

struct Filter;

}  // namespace

struct JsonPath::Step {
  enum class Kind { Field, Wildcard, Recursive, Indices, Slice, Filter };
  Kind kind = Kind::Field;
  std::vector<std::string> names;  // Field: one name, or a union of quoted names
  std::vector<int64_t> indices;    // Indices
  std::optional<int64_t> start;    // Slice
  std::optional<int64_t> end;
  int64_t stride = 1;
  std::shared_ptr<const Filter> filter;

  static Step of(Kind kind) {
    Step step;
    step.kind = kind;
    return step;
  }
};

namespace {

using Step = JsonPath::Step;
using Steps = std::vector<Step>;

struct Operand {
  bool isPath = false;
  bool fromRoot = false;  // `$...` instead of `@...`
  Steps path;
  json literal;
};

struct Filter {
  Operand left;
  std::string op;  // "exists", "==", "!=", "<", "<=", ">", ">="
  Operand right;
};

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class PathParser {
 public:
  explicit PathParser(const std::string& s) : s_(s) {}

  std::variant<Steps, std::string> parse() {
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '$') ++pos_;
    auto steps = parseSteps(false);
    if (std::holds_alternative<std::string>(steps)) return steps;
    skipSpace();
    if (pos_ != s_.size()) return unexpected();
    return steps;
  }

 private:
  std::string unexpected() const {
    if (pos_ >= s_.size()) return "unexpected end of JSONPath " + quoted();
    return "unexpected '" + std::string(1, s_[pos_]) + "' at position " + std::to_string(pos_) +
           " in JSONPath " + quoted();
  }
  std::string quoted() const { return "\"" + s_ + "\""; }

  void skipSpace() {
    while (pos_ < s_.size() && isSpace(s_[pos_])) ++pos_;
  }
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  // A field name ends at '.', '[', and inside a filter also at whitespace,
  // an operator or ')'. A backslash takes the next character literally.
  bool endsName(char c, bool inFilter) const {
    if (c == '.' || c == '[') return true;
    if (!inFilter) return false;
    return isSpace(c) || c == '=' || c == '!' || c == '<' || c == '>' || c == ')';
  }

  std::string parseName(bool inFilter) {
    std::string name;
    while (pos_ < s_.size() && !endsName(s_[pos_], inFilter)) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      name += s_[pos_++];
    }
    return name;
  }

  std::variant<Steps, std::string> parseSteps(bool inFilter) {
    Steps steps;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (inFilter && (isSpace(c) || c == '=' || c == '!' || c == '<' || c == '>' || c == ')')) {
        break;
      }
      if (c == '.') {
        ++pos_;
        if (at('.')) {
          ++pos_;
          steps.push_back(Step::of(Step::Kind::Recursive));
          if (at('[')) continue;
        }
        if (at('*')) {
          ++pos_;
          steps.push_back(Step::of(Step::Kind::Wildcard));
          continue;
        }
        std::string name = parseName(inFilter);
        if (name.empty()) {
          // "." alone names the current node.
          if (!steps.empty() && steps.back().kind == Step::Kind::Recursive) return unexpected();
          continue;
        }
        Step step;
        step.names.push_back(std::move(name));
        steps.push_back(std::move(step));
      } else if (c == '[') {
        ++pos_;
        auto step = parseBracket();
        if (auto* err = std::get_if<std::string>(&step)) return *err;
        steps.push_back(std::get<Step>(std::move(step)));
      } else {
        return unexpected();
      }
    }
    return steps;
  }

  std::variant<Step, std::string> closeBracket(Step step) {
    skipSpace();
    if (!at(']')) return unexpected();
    ++pos_;
    return step;
  }

  std::variant<Step, std::string> parseBracket() {
    skipSpace();
    if (at('*')) {
      ++pos_;
      return closeBracket(Step::of(Step::Kind::Wildcard));
    }
    if (at('?')) {
      ++pos_;
      skipSpace();
      if (!at('(')) return unexpected();
      ++pos_;
      auto filter = parseFilter();
      if (auto* err = std::get_if<std::string>(&filter)) return *err;
      skipSpace();
      if (!at(')')) return unexpected();
      ++pos_;
      Step step = Step::of(Step::Kind::Filter);
      step.filter = std::make_shared<const Filter>(std::get<Filter>(std::move(filter)));
      return closeBracket(std::move(step));
    }
    if (at('\'') || at('"')) {
      Step step;
      while (true) {
        auto name = parseQuoted();
        if (!name) return unexpected();
        step.names.push_back(*name);
        skipSpace();
        if (!at(',')) break;
        ++pos_;
        skipSpace();
      }
      return closeBracket(std::move(step));
    }
    size_t close = s_.find(']', pos_);
    if (close == std::string::npos) return unexpected();
    std::string inside = s_.substr(pos_, close - pos_);
    auto step = parseIndices(inside);
    if (!step) return "invalid array index '" + inside + "' in JSONPath " + quoted();
    pos_ = close + 1;
    return *step;
  }

  std::optional<std::string> parseQuoted() {
    char q = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) return std::nullopt;
    ++pos_;
    return out;
  }

  static std::optional<int64_t> parseInt(std::string s) {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && isSpace(s[b])) ++b;
    while (e > b && isSpace(s[e - 1])) --e;
    s = s.substr(b, e - b);
    if (s.empty()) return std::nullopt;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) return std::nullopt;
    for (size_t j = i; j < s.size(); ++j) {
      if (s[j] < '0' || s[j] > '9') return std::nullopt;
    }
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return std::nullopt;
    }
  }

  static std::optional<Step> parseIndices(const std::string& inside) {
    if (inside.find(':') != std::string::npos) {
      std::vector<std::string> parts;
      size_t start = 0;
      while (true) {
        size_t colon = inside.find(':', start);
        parts.push_back(inside.substr(start, colon == std::string::npos ? colon : colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
      if (parts.size() > 3) return std::nullopt;
      Step step = Step::of(Step::Kind::Slice);
      auto blank = [](const std::string& p) {
        return p.find_first_not_of(" \t") == std::string::npos;
      };
      if (!blank(parts[0])) {
        if (!(step.start = parseInt(parts[0]))) return std::nullopt;
      }
      if (!blank(parts[1])) {
        if (!(step.end = parseInt(parts[1]))) return std::nullopt;
      }
      if (parts.size() == 3 && !blank(parts[2])) {
        auto stride = parseInt(parts[2]);
        if (!stride || *stride <= 0) return std::nullopt;
        step.stride = *stride;
      }
      return step;
    }
    Step step = Step::of(Step::Kind::Indices);
    size_t start = 0;
    while (true) {
      size_t comma = inside.find(',', start);
      auto index =
          parseInt(inside.substr(start, comma == std::string::npos ? comma : comma - start));
      if (!index) return std::nullopt;
      step.indices.push_back(*index);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return step;
  }

  std::variant<Operand, std::string> parseOperand() {
    skipSpace();
    Operand operand;
    if (at('@') || at('$')) {
      operand.isPath = true;
      operand.fromRoot = at('$');
      ++pos_;
      auto steps = parseSteps(true);
      if (auto* err = std::get_if<std::string>(&steps)) return *err;
      operand.path = std::get<Steps>(std::move(steps));
      return operand;
    }
    if (at('\'') || at('"')) {
      auto s = parseQuoted();
      if (!s) return unexpected();
      operand.literal = *s;
      return operand;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && !isSpace(s_[pos_]) && s_[pos_] != ')' && s_[pos_] != '=' &&
           s_[pos_] != '!' && s_[pos_] != '<' && s_[pos_] != '>') {
      ++pos_;
    }
    std::string word = s_.substr(start, pos_ - start);
    json literal = json::parse(word, nullptr, false);
    if (word.empty() || literal.is_discarded() || literal.is_object() || literal.is_array()) {
      pos_ = start;
      return unexpected();
    }
    operand.literal = std::move(literal);
    return operand;
  }

  std::variant<Filter, std::string> parseFilter() {
    Filter filter;
    auto left = parseOperand();
    if (auto* err = std::get_if<std::string>(&left)) return *err;
    filter.left = std::get<Operand>(std::move(left));
    skipSpace();
    if (at(')')) {
      if (!filter.left.isPath) return unexpected();
      filter.op = "exists";
      return filter;
    }
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (s_.compare(pos_, std::char_traits<char>::length(op), op) == 0) {
        filter.op = op;
        pos_ += filter.op.size();
        break;
      }
    }
    if (filter.op.empty()) return unexpected();
    auto right = parseOperand();
    if (auto* err = std::get_if<std::string>(&right)) return *err;
    filter.right = std::get<Operand>(std::move(right));
    return filter;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

using Nodes = std::vector<const json*>;

Nodes evaluateSteps(const Steps& steps, Nodes nodes, const json& root);

void collectDescendants(const json& node, Nodes& out) {
  out.push_back(&node);
  if (node.is_object() || node.is_array()) {
    for (const auto& child : node) collectDescendants(child, out);
  }
}

std::optional<json> operandValue(const Operand& operand, const json& element, const json& root) {
  if (!operand.isPath) return operand.literal;
  Nodes found = evaluateSteps(operand.path, {operand.fromRoot ? &root : &element}, root);
  if (found.empty()) return std::nullopt;
  return *found.front();
}

// text/template's comparison functions, as the jsonpath filter uses them:
// numbers compare as numbers, strings as strings; other kinds only by equality.
bool compare(const json& left, const std::string& op, const json& right) {
  if (op == "==") return left == right;
  if (op == "!=") return left != right;
  bool ordered = (left.is_number() && right.is_number()) || (left.is_string() && right.is_string());
  if (!ordered) return false;
  if (op == "<") return left < right;
  if (op == "<=") return left <= right;
  if (op == ">") return left > right;
  if (op == ">=") return left >= right;
  return false;
}

bool passes(const Filter& filter, const json& element, const json& root) {
  auto left = operandValue(filter.left, element, root);
  if (filter.op == "exists") return left.has_value();
  auto right = operandValue(filter.right, element, root);
  if (!left || !right) return false;
  return compare(*left, filter.op, *right);
}

Nodes applyStep(const Step& step, const Nodes& nodes, const json& root) {
  Nodes out;
  for (const json* node : nodes) {
    switch (step.kind) {
      case Step::Kind::Field:
        if (!node->is_object()) break;
        for (const auto& name : step.names) {
          auto it = node->find(name);
          if (it != node->end()) out.push_back(&*it);
        }
        break;
      case Step::Kind::Wildcard:
        if (node->is_object() || node->is_array()) {
          for (const auto& child : *node) out.push_back(&child);
        }
        break;
      case Step::Kind::Recursive:
        collectDescendants(*node, out);
        break;
      case Step::Kind::Indices:
        if (!node->is_array()) break;
        for (int64_t index : step.indices) {
          int64_t size = static_cast<int64_t>(node->size());
          int64_t i = index < 0 ? index + size : index;
          if (i >= 0 && i < size) out.push_back(&(*node)[static_cast<size_t>(i)]);
        }
        break;
      case Step::Kind::Slice: {
        if (!node->is_array()) break;
        int64_t size = static_cast<int64_t>(node->size());
        int64_t begin = step.start.value_or(0);
        int64_t end = step.end.value_or(size);
        if (begin < 0) begin += size;
        if (end < 0) end += size;
        begin = std::max<int64_t>(begin, 0);
        end = std::min(end, size);
        for (int64_t i = begin; i < end; i += step.stride) {
          out.push_back(&(*node)[static_cast<size_t>(i)]);
        }
        break;
      }
      case Step::Kind::Filter:
        if (!node->is_array()) break;
        for (const auto& element : *node) {
          if (passes(*step.filter, element, root)) out.push_back(&element);
        }
        break;
    }
  }
  return out;
}

Nodes evaluateSteps(const Steps& steps, Nodes nodes, const json& root) {
  for (const auto& step : steps) {
    nodes = applyStep(step, nodes, root);
    if (nodes.empty()) break;
  }
  return nodes;
}

}  // namespace

Result<JsonPath> JsonPath::parse(const std::string& path) {
  std::string body = path;
  size_t b = body.find_first_not_of(" \t\n\r");
  size_t e = body.find_last_not_of(" \t\n\r");
  body = b == std::string::npos ? "" : body.substr(b, e - b + 1);
  if (body.size() >= 2 && body.front() == '{' && body.back() == '}') {
    body = body.substr(1, body.size() - 2);
  }
  if (body.find_first_not_of(" \t\n\r") == std::string::npos) {
    return ApiError::badRequest("empty JSONPath " + std::string("\"") + path + "\"");
  }
  PathParser parser(body);
  auto steps = parser.parse();
  if (auto* err = std::get_if<std::string>(&steps)) return ApiError::badRequest(*err);
  JsonPath result;
  result.steps_ = std::make_shared<const Steps>(std::get<Steps>(std::move(steps)));
  return result;
}

std::vector<json> JsonPath::evaluate(const json& object) const {
  std::vector<json> out;
  if (!steps_) return out;
  for (const json* node : evaluateSteps(*steps_, {&object}, object)) out.push_back(*node);
  return out;
}

std::vector<json> evaluateJsonPath(const json& object, const std::string& path) {
  auto parsed = JsonPath::parse(path);
  if (!parsed.ok()) return {};
  return parsed->evaluate(object);
}

}  // namespace remedy::sandbox
