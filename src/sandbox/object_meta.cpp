#include "sandbox/object_meta.h"

#include "formats/base64.h"
#include "formats/go_regexp.h"
#include "formats/rfc3339.h"
#include "sandbox/schema.h"

#include <openssl/rand.h>

#include <cstring>
#include <ctime>
#include <mutex>

namespace remedy::sandbox {

namespace {

// The expressions of k8s.io/apimachinery/pkg/util/validation, anchored.
const formats::GoRegexp& subdomainRe() {
  static const formats::GoRegexp re =
      formats::GoRegexp::compile(
          "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
          .value();
  return re;
}

const formats::GoRegexp& labelRe() {
  static const formats::GoRegexp re =
      formats::GoRegexp::compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").value();
  return re;
}

// Label values and the name part of qualified names.
const formats::GoRegexp& labelValueRe() {
  static const formats::GoRegexp re =
      formats::GoRegexp::compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$").value();
  return re;
}

std::string quote(const std::string& s) { return json(s).dump(); }

void checkQualifiedName(const std::string& key, const std::string& field,
                        std::vector<StatusCause>& causes) {
  std::string name = key;
  auto slash = key.find('/');
  if (slash != std::string::npos) {
    std::string prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 253 || !subdomainRe().find(prefix)) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + quote(key) +
                            ": prefix part a lowercase RFC 1123 subdomain must consist of lower "
                            "case alphanumeric characters, '-' or '.', and must start and end "
                            "with an alphanumeric character",
                        field});
      return;
    }
  }
  if (name.empty() || name.size() > 63 || !labelValueRe().find(name)) {
    causes.push_back({"FieldValueInvalid",
                      "Invalid value: " + quote(key) +
                          ": name part must consist of alphanumeric characters, '-', '_' or '.', "
                          "and must start and end with an alphanumeric character (e.g. "
                          "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                          "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                      field});
  }
}

}  // namespace

namespace {

std::mutex& wallClockMu() {
  static std::mutex mu;
  return mu;
}

std::function<std::chrono::system_clock::time_point()>& wallClockSource() {
  static std::function<std::chrono::system_clock::time_point()> source;
  return source;
}

}  // namespace

void setWallClock(std::function<std::chrono::system_clock::time_point()> source) {
  std::lock_guard<std::mutex> lock(wallClockMu());
  wallClockSource() = std::move(source);
}

std::chrono::system_clock::time_point wallNow() {
  std::lock_guard<std::mutex> lock(wallClockMu());
  const auto& source = wallClockSource();
  return source ? source() : std::chrono::system_clock::now();
}

std::string nowRfc3339() { return rfc3339After(0); }

std::string rfc3339After(int64_t seconds) {
  return formats::formatRfc3339(wallNow() + std::chrono::seconds(seconds));
}

std::string newUid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
  return out;
}

std::string randomSuffix(size_t n) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  unsigned char b[64];
  RAND_bytes(b, sizeof b);
  for (size_t i = 0; i < n; ++i) out.push_back(alphabet[b[i % sizeof b] % (sizeof alphabet - 1)]);
  return out;
}

std::vector<StatusCause> validateObjectMeta(const json& meta, NameRule nameRule) {
  std::vector<StatusCause> causes;
  std::string name = meta.value("name", "");
  if (nameRule == NameRule::PathSegment) {
    // k8s.io/apimachinery/pkg/api/validation/path.IsValidPathSegmentName.
    if (name == "." || name == "..") {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + quote(name) + ": may not be '" + name + "'",
                        "metadata.name"});
    } else if (name.empty() || name.find('/') != std::string::npos ||
               name.find('%') != std::string::npos) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + quote(name) + ": may not contain '/' or '%'",
                        "metadata.name"});
    }
  } else if (nameRule == NameRule::DnsLabel) {
    if (name.size() > 63 || !labelRe().find(name)) {
      causes.push_back(
          {"FieldValueInvalid",
           "Invalid value: " + quote(name) +
               ": a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
               "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
               "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
           "metadata.name"});
    }
  } else if (name.size() > 253 || !subdomainRe().find(name)) {
    causes.push_back(
        {"FieldValueInvalid",
         "Invalid value: " + quote(name) +
             ": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
             "'-' or '.', and must start and end with an alphanumeric character (e.g. "
             "'example.com', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
         "metadata.name"});
  }
  if (meta.contains("labels")) {
    if (!meta["labels"].is_object()) {
      causes.push_back({"FieldValueInvalid", "Invalid value: must be a map", "metadata.labels"});
    } else {
      for (auto& [k, v] : meta["labels"].items()) {
        checkQualifiedName(k, "metadata.labels", causes);
        std::string value = v.is_string() ? v.get<std::string>() : v.dump();
        if (!v.is_string() || value.size() > 63 || !labelValueRe().find(value)) {
          causes.push_back({"FieldValueInvalid",
                            "Invalid value: " + quote(value) +
                                ": a valid label must be an empty string or consist of "
                                "alphanumeric characters, '-', '_' or '.', and must start and end "
                                "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
                                "or '12345', regex used for validation is "
                                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                            "metadata.labels"});
        }
      }
    }
  }
  if (meta.contains("annotations")) {
    if (!meta["annotations"].is_object()) {
      causes.push_back(
          {"FieldValueInvalid", "Invalid value: must be a map", "metadata.annotations"});
    } else {
      size_t total = 0;
      for (auto& [k, v] : meta["annotations"].items()) {
        checkQualifiedName(k, "metadata.annotations", causes);
        if (!v.is_string()) {
          causes.push_back({"FieldValueInvalid",
                            "Invalid value: " + v.dump() + ": annotation values must be strings",
                            "metadata.annotations"});
        } else {
          total += k.size() + v.get<std::string>().size();
        }
      }
      if (total > 256 * 1024) {
        causes.push_back({"FieldValueTooLong", "Too long: may not be more than 262144 bytes",
                          "metadata.annotations"});
      }
    }
  }
  return causes;
}

// k8s.io/apiserver/pkg/storage: base64.RawURLEncoding of
// {"v":"meta.k8s.io/v1","rv":...,"start":...}.
std::string encodeContinue(const std::string& lastKey, int64_t resourceVersion) {
  return formats::encodeBase64Url(
      json{{"v", "meta.k8s.io/v1"}, {"rv", resourceVersion}, {"start", lastKey}}.dump());
}

std::optional<std::pair<std::string, int64_t>> decodeContinue(const std::string& token) {
  auto raw = formats::decodeBase64Url(token);
  if (!raw.ok()) return std::nullopt;
  json j = json::parse(raw.value(), nullptr, false);
  if (!j.is_object() || !j.contains("start") || !j["start"].is_string() || !j.contains("rv") ||
      !j["rv"].is_number_integer()) {
    return std::nullopt;
  }
  return std::make_pair(j["start"].get<std::string>(), j["rv"].get<int64_t>());
}

std::vector<StatusCause> validateCustomResourceDefinition(const json& crd) {
  std::vector<StatusCause> causes;
  const json& spec = crd.value("spec", json::object());
  const json& names = spec.value("names", json::object());
  std::string group = spec.value("group", "");
  std::string plural = names.value("plural", "");
  std::string name = crd["metadata"].value("name", "");
  if (group.empty()) {
    causes.push_back({"FieldValueRequired", "Required value", "spec.group"});
  } else if (group.find('.') == std::string::npos) {
    causes.push_back(
        {"FieldValueInvalid",
         "Invalid value: " + quote(group) + ": should be a domain with at least one dot",
         "spec.group"});
  }
  if (plural.empty())
    causes.push_back({"FieldValueRequired", "Required value", "spec.names.plural"});
  if (names.value("kind", "").empty()) {
    causes.push_back({"FieldValueRequired", "Required value", "spec.names.kind"});
  }
  if (!group.empty() && !plural.empty() && name != plural + "." + group) {
    causes.push_back(
        {"FieldValueInvalid",
         "Invalid value: " + quote(name) + ": must be spec.names.plural+\".\"+spec.group",
         "metadata.name"});
  }
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster") {
    causes.push_back(
        {"FieldValueNotSupported",
         "Unsupported value: " + quote(scope) + ": supported values: \"Cluster\", \"Namespaced\"",
         "spec.scope"});
  }
  const json& versions = spec.value("versions", json::array());
  if (!versions.is_array() || versions.empty()) {
    causes.push_back({"FieldValueRequired",
                      "Required value: must have exactly one version marked as storage version",
                      "spec.versions"});
    return causes;
  }
  // When every version carries the same schema, the API server's internal
  // CRD holds it once as spec.validation and names it so in errors
  // (apiextensions v1 conversion: hasIdenticalPerVersionSchema).
  bool identical = true;
  for (const auto& v : versions) {
    bool hasSchema = v.contains("schema") && v["schema"].contains("openAPIV3Schema");
    if (!hasSchema || v["schema"] != versions[0]["schema"]) identical = false;
  }
  if (identical) {
    for (auto& cause : checkStructuralSchema(versions[0]["schema"]["openAPIV3Schema"],
                                             "spec.validation.openAPIV3Schema")) {
      causes.push_back(std::move(cause));
    }
  }
  int storage = 0;
  for (size_t i = 0; i < versions.size(); ++i) {
    const json& v = versions[i];
    std::string path = "spec.versions[" + std::to_string(i) + "]";
    if (v.value("storage", false)) ++storage;
    if (v.contains("schema") && v["schema"].contains("openAPIV3Schema")) {
      if (identical) continue;
      for (auto& cause : checkStructuralSchema(v["schema"]["openAPIV3Schema"],
                                               path + ".schema.openAPIV3Schema")) {
        causes.push_back(std::move(cause));
      }
    } else {
      causes.push_back({"FieldValueRequired", "Required value: schemas are required",
                        path + ".schema.openAPIV3Schema"});
    }
  }
  if (storage != 1) {
    causes.push_back({"FieldValueInvalid",
                      "must have exactly one version marked as storage version", "spec.versions"});
  }
  return causes;
}

}  // namespace remedy::sandbox
