#include "formats/yaml_json.h"

#include "formats/go_format.h"
#include "formats/go_regexp.h"
#include "formats/json_depth.h"
#include "formats/json_pointer.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <variant>

namespace remedy::formats {
namespace {

// go-yaml's reader (reader.go, yaml_parser_update_buffer) refuses a stream
// that is not UTF-8 before it parses anything; yaml-cpp does not, and a
// string that is not UTF-8 cannot be written as JSON (nlohmann::json::dump
// throws). The first problem, with its 1-based line, in go-yaml's words;
// nullopt for valid UTF-8 (no overlong forms, surrogates or code points
// beyond U+10FFFF, as RFC 3629).
std::optional<YamlError> utf8Problem(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  int line = 1;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == '\n') ++line;
      ++i;
      continue;
    }
    size_t width = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      width = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      width = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      width = 4;
      cp = c & 0x07;
    } else {
      return YamlError{line, "invalid leading UTF-8 octet"};
    }
    if (i + width > n) return YamlError{line, "incomplete UTF-8 octet sequence"};
    for (size_t k = 1; k < width; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return YamlError{line, "invalid trailing UTF-8 octet"};
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((width == 2 && cp < 0x80) || (width == 3 && cp < 0x800) || (width == 4 && cp < 0x10000)) {
      return YamlError{line, "invalid length of a UTF-8 sequence"};
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return YamlError{line, "invalid Unicode character"};
    }
    i += width;
  }
  return std::nullopt;
}

// yaml-cpp's LoadAll never returns on some streams (a "," where a node
// should start, alone or after a document): its parser reports an empty
// document without consuming the token, again and again, and LoadAll
// collects them until memory runs out. go-yaml stops there with "did not
// find expected node content". This first pass counts the documents the
// parser reports, through its events and without building nodes: a stream
// holds at most one document more than it has lines starting with a
// document marker ("---" or "..."), so a parser past that is stuck.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { last = mark; }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { last = mark; }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    last = mark;
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    last = mark;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    last = mark;
  }
  void OnMapEnd() override {}
  YAML::Mark last;
};

// nullopt when yaml-cpp's parser comes to the end of `text`; the error where
// it stopped making progress otherwise. Throws YAML::Exception as the
// parser does.
std::optional<YamlError> parserStuck(const std::string& text) {
  size_t markers = 0;
  for (size_t start = 0; start < text.size();) {
    if (text.compare(start, 3, "---") == 0 || text.compare(start, 3, "...") == 0) ++markers;
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (size_t documents = 0; parser.HandleNextDocument(counter);) {
    if (++documents > markers + 1) {
      return YamlError{counter.last.line + 1, "did not find expected node content"};
    }
  }
  return std::nullopt;
}

// A scalar as go-yaml v2's resolve() leaves it.
struct Null {};
using Scalar = std::variant<Null, bool, int64_t, uint64_t, double, std::string>;

// strconv.ParseUint(s, 0, 64): an optional 0b/0o/0x prefix (either case),
// else a leading 0 for octal; no sign.
std::optional<uint64_t> parseGoUint(const std::string& text) {
  std::string s = text;
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s[0] == '0') {
    char second = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : '\0';
    if (second == 'b') {
      base = 2;
      s = s.substr(2);
    } else if (second == 'o') {
      base = 8;
      s = s.substr(2);
    } else if (second == 'x') {
      base = 16;
      s = s.substr(2);
    } else {
      base = 8;
      s = s.substr(1);
    }
  }
  uint64_t n = 0;
  for (char c : s) {
    int digit = -1;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      digit = (c | 0x20) - 'a' + 10;
    }
    if (digit < 0 || digit >= base) return std::nullopt;
    if (n > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(digit)) /
                static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  return n;
}

// strconv.ParseInt(s, 0, 64): an optional sign, then as parseGoUint.
std::optional<int64_t> parseGoInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  bool negative = s[0] == '-';
  size_t start = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  std::optional<uint64_t> magnitude = parseGoUint(s.substr(start));
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (*magnitude > kMax) return std::nullopt;
    return static_cast<int64_t>(*magnitude);
  }
  if (*magnitude > kMax + 1) return std::nullopt;
  return static_cast<int64_t>(0 - *magnitude);
}

// strconv.ParseFloat of a decimal float; nullopt when it overflows.
std::optional<double> parseFloat(const std::string& s) {
  double f = std::strtod(s.c_str(), nullptr);
  if (std::isinf(f)) return std::nullopt;
  return f;
}

const GoRegexp& goRegexp(const char* pattern) {
  // Only this file's own expressions, which compile (tests/formats).
  static thread_local std::map<std::string, GoRegexp> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, GoRegexp::compile(pattern).value()).first;
  return it->second;
}

// go-yaml v2 resolve() of a plain scalar (sigs.k8s.io/yaml/goyaml.v2/resolve.go).
Scalar resolvePlain(const std::string& in) {
  static const std::map<std::string, Scalar> kMap = [] {
    std::map<std::string, Scalar> m;
    for (const char* s : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
      m[s] = true;
    for (const char* s :
         {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
      m[s] = false;
    for (const char* s : {"", "~", "null", "Null", "NULL"}) m[s] = Null{};
    for (const char* s : {".nan", ".NaN", ".NAN"}) m[s] = std::numeric_limits<double>::quiet_NaN();
    for (const char* s : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
      m[s] = std::numeric_limits<double>::infinity();
    for (const char* s : {"-.inf", "-.Inf", "-.INF"})
      m[s] = -std::numeric_limits<double>::infinity();
    return m;
  }();
  // The first byte hints at what the scalar may be; others are strings.
  char hint = 0;
  if (in.empty()) {
    hint = 'N';
  } else {
    char c = in[0];
    if (c == '+' || c == '-') {
      hint = 'S';
    } else if (c >= '0' && c <= '9') {
      hint = 'D';
    } else if (std::string("yYnNtTfFoO~").find(c) != std::string::npos) {
      hint = 'M';
    } else if (c == '.') {
      hint = '.';
    }
  }
  if (hint == 0) return in;
  if (auto it = kMap.find(in); it != kMap.end()) return it->second;
  if (hint == '.') {
    if (goRegexp(R"(^\.[0-9]+([eE][-+]?[0-9]+)?$)").find(in)) {
      if (auto f = parseFloat(in)) return *f;
    }
  } else if (hint == 'D' || hint == 'S') {
    // Timestamps are tried first, but an interface{} gets them back as the
    // text, so they fall through to a string here.
    std::string plain;
    for (char c : in) {
      if (c != '_') plain += c;
    }
    if (auto i = parseGoInt(plain)) return *i;
    if (auto u = parseGoUint(plain)) return *u;
    if (goRegexp(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)").find(plain)) {
      if (auto f = parseFloat(plain)) return *f;
    }
  }
  return in;
}

Scalar resolve(const YAML::Node& node) {
  if (node.IsNull()) return Null{};
  const std::string& tag = node.Tag();
  // "!" is a quoted or block scalar; "!!str" an explicit string.
  if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:binary") {
    return node.Scalar();
  }
  return resolvePlain(node.Scalar());
}

std::string goKind(const Scalar& s) {
  switch (s.index()) {
    case 0:
      return "<nil>";
    case 1:
      return "bool";
    case 2:
      return "int";
    case 3:
      return "uint64";
    case 4:
      return "float64";
    default:
      return "string";
  }
}

// yaml-cpp expands an alias wherever it is used, so a few lines of anchors
// can stand for billions of nodes ("billion laughs"), and an anchor used
// inside itself for a cycle. go-yaml v2 refuses a document whose aliases
// make up most of a large decode ("document contains excessive aliasing",
// decode.go allowedAliasRatio); here a document may decode to at most
// max(400000, 10 x its bytes) nodes, which a document without aliases never
// reaches, nested at most kMaxJsonDepth (1,000) deep: the conversion
// recurses once per level, and its frames (larger still under
// AddressSanitizer) must stay far within a thread's stack.
constexpr size_t kMinNodeBudget = 400000;
constexpr size_t kNodesPerByte = 10;
constexpr int kMaxDepth = static_cast<int>(kMaxJsonDepth);

class Converter {
 public:
  Converter(YamlDocument& doc, size_t textBytes)
      : doc_(doc), nodeBudget_(std::max(kMinNodeBudget, kNodesPerByte * textBytes)) {}

  std::optional<YamlError> error;

  nlohmann::json convert(const YAML::Node& node, const std::string& pointer, int line,
                         int depth = 0) {
    if (error) return nullptr;
    if (++nodes_ > nodeBudget_) {
      fail(line, "document contains excessive aliasing");
      return nullptr;
    }
    if (depth > kMaxDepth) {
      fail(line, "document nested too deep (an anchor used inside itself?)");
      return nullptr;
    }
    doc_.lines[pointer] = line;
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar:
        return value(resolve(node), line);
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        size_t i = 0;
        for (const YAML::Node& item : node) {
          std::string childPointer = pointer + "/" + std::to_string(i++);
          out.push_back(convert(item, childPointer, item.Mark().line + 1, depth + 1));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        nlohmann::json out = nlohmann::json::object();
        std::map<std::string, int> firstLine;
        for (const auto& entry : node) {
          int keyLine = entry.first.Mark().line + 1;
          std::optional<std::string> key = keyText(entry.first, keyLine);
          if (!key) return nullptr;
          std::string childPointer = pointer + "/" + escapeJsonPointerToken(*key);
          if (auto first = firstLine.find(*key); first != firstLine.end()) {
            doc_.duplicates.push_back({keyLine, first->second, *key, childPointer});
          } else {
            firstLine[*key] = keyLine;
          }
          // The last definition wins, as in YAMLToJSON.
          out[*key] = convert(entry.second, childPointer, keyLine, depth + 1);
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  // A resolved scalar as encoding/json writes it and the API server's
  // decoder reads it back.
  nlohmann::json value(const Scalar& s, int line) {
    switch (s.index()) {
      case 0:
        return nullptr;
      case 1:
        return std::get<bool>(s);
      case 2:
        return std::get<int64_t>(s);
      case 3:
        // Beyond int64: read back as a float64.
        return static_cast<double>(std::get<uint64_t>(s));
      case 4: {
        double f = std::get<double>(s);
        if (!std::isfinite(f)) {
          fail(line, "json: unsupported value: " + goFormatFloat(f, 'g'));
          return nullptr;
        }
        // An integral float is written without a fraction below 1e21, and
        // such text reads back as an integer when int64 holds it.
        if (std::trunc(f) == f && std::fabs(f) < 9.2233720368547758e18) {
          return static_cast<int64_t>(f);
        }
        return f;
      }
      default:
        return std::get<std::string>(s);
    }
  }

  // sigs.k8s.io/yaml convertToJSONableObject: a key becomes text.
  std::optional<std::string> keyText(const YAML::Node& key, int line) {
    if (!key.IsScalar() && !key.IsNull()) {
      fail(line, "unsupported map key: a key must be a scalar");
      return std::nullopt;
    }
    Scalar s = resolve(key);
    switch (s.index()) {
      case 1:
        return std::get<bool>(s) ? "true" : "false";
      case 2:
        return std::to_string(std::get<int64_t>(s));
      case 4: {
        std::string text = goFormatFloat(std::get<double>(s), 'g', 32);
        if (text == "+Inf") return ".inf";
        if (text == "-Inf") return "-.inf";
        if (text == "NaN") return ".nan";
        return text;
      }
      case 5:
        return std::get<std::string>(s);
      default:
        fail(line, "unsupported map key of type: " + goKind(s) +
                       ", key: " + (s.index() == 0 ? std::string("<nil>") : key.Scalar()));
        return std::nullopt;
    }
  }

  void fail(int line, std::string message) {
    if (!error) error = YamlError{line, std::move(message)};
  }

  YamlDocument& doc_;
  size_t nodeBudget_;
  size_t nodes_ = 0;
};

Result<YamlDocument, YamlError> convertDocument(const YAML::Node& node, size_t textBytes) {
  YamlDocument doc;
  Converter converter(doc, textBytes);
  int line = node.Mark().line + 1;
  doc.json = converter.convert(node, "", line > 0 ? line : 1);
  if (converter.error) return *converter.error;
  return doc;
}

}  // namespace

int YamlDocument::lineOf(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    auto it = lines.find(p);
    if (it != lines.end()) return it->second;
    if (p.empty()) return 0;
    p = p.substr(0, p.rfind('/'));
  }
}

Result<std::vector<YamlDocument>, YamlError> parseYamlDocuments(const std::string& text) {
  if (auto problem = utf8Problem(text)) return *problem;
  std::vector<YAML::Node> nodes;
  try {
    if (auto stuck = parserStuck(text)) return *stuck;
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's only error channel is exceptions; they become a value here.
    return YamlError{e.mark.line + 1, e.msg};
  }
  std::vector<YamlDocument> docs;
  for (const YAML::Node& node : nodes) {
    if (!node || node.IsNull()) continue;
    Result<YamlDocument, YamlError> doc = convertDocument(node, text.size());
    if (!doc.ok()) return doc.error();
    docs.push_back(std::move(doc).value());
  }
  return docs;
}

Result<YamlDocument, YamlError> parseYamlDocument(const std::string& text) {
  if (auto problem = utf8Problem(text)) return *problem;
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return YamlError{e.mark.line + 1, e.msg};
  }
  if (!node || node.IsNull()) {
    YamlDocument doc;
    doc.json = nullptr;
    return doc;
  }
  return convertDocument(node, text.size());
}

}  // namespace remedy::formats
