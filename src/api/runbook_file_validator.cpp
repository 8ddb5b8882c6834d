#include "api/runbook_file_validator.h"

#include "api/common_types.h"
#include "api/runbook_validator.h"
#include "api/yaml_json.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace remedy::api {
namespace {

using json = nlohmann::json;

// Prefixes every error of an item of a List with the item's location.
void prefix(std::vector<ValidationError>& errors, const FieldPath& at) {
  for (ValidationError& e : errors) {
    std::string path = at.str();
    e.path = e.path.empty() ? path : path + (e.path[0] == '[' ? "" : ".") + e.path;
    e.pointer = at.pointer() + e.pointer;
  }
}

// The warnings of every Runbook in `object` (a Runbook or a List of them).
std::vector<ValidationError> warningsOf(const json& object) {
  if (!object.is_object()) return {};
  std::string kind =
      object.value("kind", json()).is_string() ? object["kind"].get<std::string>() : "";
  if (kind == "Runbook") return runbookWarnings(object);
  std::vector<ValidationError> out;
  if (kind == "List" && object.contains("items") && object["items"].is_array()) {
    const json& items = object["items"];
    for (size_t i = 0; i < items.size(); ++i) {
      std::vector<ValidationError> found = warningsOf(items[i]);
      prefix(found, FieldPath().child("items").index(i));
      out.insert(out.end(), found.begin(), found.end());
    }
  }
  return out;
}

std::vector<ValidationError> validateObject(const json& object) {
  FieldPath root;
  if (!object.is_object())
    return {{"", "a manifest must be a mapping, not " + std::string(object.type_name()), ""}};
  std::vector<ValidationError> errors;
  const json* apiVersion = object.contains("apiVersion") ? &object["apiVersion"] : nullptr;
  const json* kind = object.contains("kind") ? &object["kind"] : nullptr;
  if (apiVersion == nullptr || !apiVersion->is_string() || apiVersion->get<std::string>().empty()) {
    errors.push_back({"apiVersion", "Required value", "/apiVersion"});
  }
  if (kind == nullptr || !kind->is_string() || kind->get<std::string>().empty()) {
    errors.push_back({"kind", "Required value", "/kind"});
    return errors;
  }
  std::string kindName = kind->get<std::string>();
  std::string group;
  if (apiVersion != nullptr && apiVersion->is_string()) {
    std::string v = apiVersion->get<std::string>();
    group = v.find('/') == std::string::npos ? "" : v.substr(0, v.find('/'));
  }
  if (kindName == "List" && object.contains("items") && object["items"].is_array()) {
    const json& items = object["items"];
    for (size_t i = 0; i < items.size(); ++i) {
      std::vector<ValidationError> itemErrors = validateObject(items[i]);
      prefix(itemErrors, root.child("items").index(i));
      errors.insert(errors.end(), itemErrors.begin(), itemErrors.end());
    }
    return errors;
  }
  std::vector<ValidationError> found;
  if (kindName == "Runbook") {
    found = validateRunbook(object);
  } else if (group != kGroup) {
    return errors;  // not ours
  } else if (kindName == "Incident") {
    found = validateIncident(object);
  } else if (kindName == "Approval") {
    found = validateApproval(object);
  } else {
    found.push_back({"kind",
                     json(kindName).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                         " is not a remedy.dev kind; use Runbook, Incident or Approval",
                     "/kind"});
  }
  errors.insert(errors.end(), found.begin(), found.end());
  // A wrong apiVersion is reported once, by whichever check saw it first.
  std::vector<ValidationError> unique;
  for (ValidationError& e : errors) {
    bool seen = std::any_of(unique.begin(), unique.end(), [&](const ValidationError& u) {
      return u.pointer == e.pointer && u.message == e.message;
    });
    if (!seen) unique.push_back(std::move(e));
  }
  return unique;
}

}  // namespace

std::string FileError::str() const {
  std::string out = file + ":";
  if (line > 0) out += std::to_string(line) + ":";
  out += warning ? " warning: " : " ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

std::vector<FileError> validateManifestText(const std::string& text, const std::string& file) {
  Result<std::vector<YamlDocument>> docs = parseYamlDocuments(text);
  if (!docs.ok()) {
    // The parser's message starts with "line N: ".
    const std::string& message = docs.error();
    int line = 0;
    std::string rest = message;
    if (message.rfind("line ", 0) == 0) {
      size_t colon = message.find(':');
      line = std::stoi(message.substr(5, colon - 5));
      rest = message.substr(colon + 2);
    }
    return {{file, line, "", rest}};
  }
  std::vector<FileError> out;
  for (const YamlDocument& doc : docs.value()) {
    for (const YamlDocument::Problem& p : doc.problems) {
      out.push_back({file, p.line, p.error.path, p.error.message});
    }
    for (const ValidationError& e : validateObject(doc.json)) {
      out.push_back({file, doc.lineOf(e.pointer), e.path, e.message});
    }
    for (const ValidationError& e : warningsOf(doc.json)) {
      out.push_back({file, doc.lineOf(e.pointer), e.path, e.message, true});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const FileError& a, const FileError& b) { return a.line < b.line; });
  return out;
}

std::vector<FileError> validateManifestFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {{file, 0, "", "cannot read the file"}};
  std::ostringstream text;
  text << in.rdbuf();
  return validateManifestText(text.str(), file);
}

}  // namespace remedy::api
