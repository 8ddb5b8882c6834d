#include "api/yaml_json.h"

#include "formats/go_regexp.h"
#include "formats/json_pointer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

namespace remedy::api {
namespace {

// Resolves a plain (unquoted, untagged) scalar as go-yaml v2 does.
nlohmann::json resolvePlainScalar(const std::string& s) {
  static const std::set<std::string> kNull = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> kTrue = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                              "True", "TRUE", "on",  "On",  "ON"};
  static const std::set<std::string> kFalse = {"n",     "N",     "no",  "No",  "NO", "false",
                                               "False", "FALSE", "off", "Off", "OFF"};
  if (kNull.count(s)) return nullptr;
  if (kTrue.count(s)) return true;
  if (kFalse.count(s)) return false;

  static const formats::GoRegexp kInt =
      formats::GoRegexp::compile(R"(^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[1-9][0-9_]*|0)$)")
          .value();
  static const formats::GoRegexp kFloat =
      formats::GoRegexp::compile(R"(^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$)")
          .value();
  if (kInt.find(s)) {
    std::string digits;
    for (char c : s) {
      if (c != '_') digits += c;
    }
    bool negative = digits[0] == '-';
    size_t start = (digits[0] == '-' || digits[0] == '+') ? 1 : 0;
    std::string body = digits.substr(start);
    int base = 10;
    if (body.rfind("0b", 0) == 0) {
      base = 2;
      body = body.substr(2);
    } else if (body.rfind("0x", 0) == 0) {
      base = 16;
      body = body.substr(2);
    } else if (body.rfind("0o", 0) == 0) {
      base = 8;
      body = body.substr(2);
    } else if (body.size() > 1 && body[0] == '0') {
      base = 8;
      body = body.substr(1);
    }
    errno = 0;
    unsigned long long magnitude = std::strtoull(body.c_str(), nullptr, base);
    if (errno == 0) {
      if (!negative) {
        if (magnitude <= static_cast<unsigned long long>(INT64_MAX)) {
          return static_cast<int64_t>(magnitude);
        }
        return static_cast<uint64_t>(magnitude);
      }
      if (magnitude <= static_cast<unsigned long long>(INT64_MAX) + 1ULL) {
        return static_cast<int64_t>(0 - magnitude);
      }
    }
    // Out of range: fall through to a float, as go-yaml does.
  }
  if (kFloat.find(s)) {
    std::string digits;
    for (char c : s) {
      if (c != '_') digits += c;
    }
    return std::strtod(digits.c_str(), nullptr);
  }
  return s;
}

class Converter {
 public:
  explicit Converter(YamlDocument& doc) : doc_(doc) {}

  nlohmann::json convert(const YAML::Node& node, const std::string& pointer, int line) {
    doc_.lines[pointer] = line;
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        if (tag == "!" || tag == "tag:yaml.org,2002:str") return node.Scalar();
        return resolvePlainScalar(node.Scalar());
      }
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        size_t i = 0;
        for (const YAML::Node& item : node) {
          std::string childPointer = pointer + "/" + std::to_string(i++);
          out.push_back(convert(item, childPointer, item.Mark().line + 1));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        nlohmann::json out = nlohmann::json::object();
        std::map<std::string, int> firstLine;
        for (const auto& entry : node) {
          std::string key = entry.first.Scalar();
          int keyLine = entry.first.Mark().line + 1;
          std::string childPointer = pointer + "/" + formats::escapeJsonPointerToken(key);
          if (firstLine.count(key)) {
            doc_.problems.push_back({keyLine,
                                     {pointerToPath(childPointer),
                                      "key \"" + key + "\" is already defined at line " +
                                          std::to_string(firstLine[key]),
                                      childPointer}});
            continue;
          }
          firstLine[key] = keyLine;
          out[key] = convert(entry.second, childPointer, keyLine);
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  // A readable path for a problem found before any schema is known.
  static std::string pointerToPath(const std::string& pointer) {
    std::string out;
    size_t pos = 1;
    while (pos <= pointer.size()) {
      size_t next = pointer.find('/', pos);
      std::string token =
          pointer.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      bool numeric = !token.empty() && std::all_of(token.begin(), token.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
      if (numeric) {
        out += "[" + token + "]";
      } else {
        out += (out.empty() ? "" : ".") + token;
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    return out;
  }

  YamlDocument& doc_;
};

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

Result<std::vector<YamlDocument>> parseYamlDocuments(const std::string& text) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's only error channel is exceptions; they become a value here.
    return Error{"line " + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg};
  }
  std::vector<YamlDocument> docs;
  for (const YAML::Node& node : nodes) {
    if (!node || node.IsNull()) continue;
    YamlDocument doc;
    Converter converter(doc);
    doc.json = converter.convert(node, "", node.Mark().line + 1);
    docs.push_back(std::move(doc));
  }
  return docs;
}

Result<nlohmann::json> yamlToJson(const std::string& text) {
  Result<std::vector<YamlDocument>> docs = parseYamlDocuments(text);
  if (!docs.ok()) return Error{docs.error()};
  if (docs->empty()) return nlohmann::json(nullptr);
  return docs->front().json;
}

}  // namespace remedy::api
