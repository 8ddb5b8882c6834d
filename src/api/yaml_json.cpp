#include "api/yaml_json.h"

#include "formats/yaml_json.h"

#include <algorithm>

namespace remedy::api {
namespace {

// A readable path for a problem found before any schema is known.
std::string pointerToPath(const std::string& pointer) {
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
  auto parsed = formats::parseYamlDocuments(text);
  if (!parsed.ok()) {
    const formats::YamlError& e = parsed.error();
    return Error{"line " + std::to_string(e.line) + ": invalid YAML: " + e.message};
  }
  std::vector<YamlDocument> docs;
  for (formats::YamlDocument& parsedDoc : parsed.value()) {
    YamlDocument doc;
    doc.json = std::move(parsedDoc.json);
    doc.lines = std::move(parsedDoc.lines);
    for (const auto& d : parsedDoc.duplicates) {
      doc.problems.push_back(
          {d.line,
           {pointerToPath(d.pointer),
            "key \"" + d.key + "\" is already defined at line " + std::to_string(d.firstLine),
            d.pointer}});
    }
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
