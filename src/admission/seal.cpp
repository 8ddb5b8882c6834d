#include "admission/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace remedy::admission {

namespace {

std::string base64Url(const unsigned char* data, size_t n) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  if (i + 1 == n) {
    uint32_t v = uint32_t(data[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (i + 2 == n) {
    uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

std::string readKeyFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read the seal key file " + path;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

int64_t unixSeconds(kube::WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

const json& metadataOf(const json& object) {
  static const json empty = json::object();
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : empty;
}

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string annotation(const json& object, const char* key) {
  return text(metadataOf(object).value("annotations", json::object()), key);
}

// What an Approval's seal covers.
json approvalCovered(const json& approval) {
  const json& meta = metadataOf(approval);
  json spec = approval.value("spec", json::object());
  if (!spec.is_object()) spec = json::object();
  json ref = spec.value("incidentRef", json::object());
  json groups = spec.value("approverGroups", json::array());
  if (!groups.is_array()) groups = json::array();
  return json::array({"remedy.dev/Approval", text(meta, "namespace"), text(meta, "name"),
                      text(ref, "name"), text(ref, "uid"), text(spec, "step"),
                      text(spec, "decision"), text(spec, "approver"), groups});
}

json creatorCovered(const std::string& ns, const std::string& name, const std::string& user,
                    const json& groups) {
  return json::array({"remedy.dev/Incident.creator", ns, name, user, groups});
}

}  // namespace

kube::Result<SealKeys> SealKeys::fromKeys(std::string current, std::vector<std::string> previous) {
  if (current.size() < kMinimumKeyBytes) {
    return kube::Status::configError("the seal key is " + std::to_string(current.size()) +
                                     " bytes long; it must have at least " +
                                     std::to_string(kMinimumKeyBytes));
  }
  for (const auto& p : previous) {
    if (p.size() < kMinimumKeyBytes) {
      return kube::Status::configError("a previous seal key is shorter than " +
                                       std::to_string(kMinimumKeyBytes) + " bytes");
    }
  }
  SealKeys keys;
  keys.current_ = std::move(current);
  keys.previous_ = std::move(previous);
  return keys;
}

kube::Result<SealKeys> SealKeys::fromFiles(const std::string& currentPath,
                                           const std::vector<std::string>& previousPaths) {
  std::string error;
  std::string current = readKeyFile(currentPath, &error);
  if (!error.empty()) return kube::Status::configError(error);
  std::vector<std::string> previous;
  for (const auto& path : previousPaths) {
    previous.push_back(readKeyFile(path, &error));
    if (!error.empty()) return kube::Status::configError(error);
  }
  auto keys = fromKeys(std::move(current), std::move(previous));
  if (!keys.ok()) return keys.status().withContext(currentPath);
  return keys;
}

std::string Sealer::mac(const std::string& key, const std::string& message) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &n);
  return base64Url(out, n);
}

std::string Sealer::seal(const json& covered, int64_t sealedAt) const {
  json message = covered;
  message.push_back(sealedAt);
  return "v1." + std::to_string(sealedAt) + "." + mac(keys_.current(), message.dump());
}

SealCheck Sealer::verify(const json& covered, const std::string& seal) const {
  SealCheck check;
  if (seal.empty()) {
    check.problem = "it has no seal";
    return check;
  }
  size_t first = seal.find('.');
  size_t second = first == std::string::npos ? first : seal.find('.', first + 1);
  if (seal.compare(0, first, "v1") != 0 || second == std::string::npos) {
    check.problem = "its seal is malformed";
    return check;
  }
  int64_t sealedAt = 0;
  try {
    size_t used = 0;
    std::string at = seal.substr(first + 1, second - first - 1);
    sealedAt = std::stoll(at, &used);
    if (used != at.size()) throw std::invalid_argument("trailing");
  } catch (...) {
    check.problem = "its seal is malformed";
    return check;
  }
  std::string given = seal.substr(second + 1);
  json message = covered;
  message.push_back(sealedAt);
  std::string text = message.dump();
  std::vector<const std::string*> keys = {&keys_.current()};
  for (const auto& p : keys_.previous()) keys.push_back(&p);
  for (const std::string* key : keys) {
    std::string expected = mac(*key, text);
    if (expected.size() == given.size() &&
        CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0) {
      check.valid = true;
      check.sealedAt = sealedAt;
      return check;
    }
  }
  check.problem =
      "its seal does not match it (it was changed after admission, copied from "
      "another object, or sealed with another key)";
  return check;
}

std::string Sealer::sealApproval(const json& approval, kube::WallTime at) const {
  return seal(approvalCovered(approval), unixSeconds(at));
}

SealCheck Sealer::verifyApproval(const json& approval) const {
  return verify(approvalCovered(approval), annotation(approval, kApprovalSealAnnotation));
}

std::string Sealer::sealCreator(const std::string& ns, const std::string& name,
                                const std::string& user, const std::vector<std::string>& groups,
                                kube::WallTime at) const {
  return seal(creatorCovered(ns, name, user, groups), unixSeconds(at));
}

SealCheck Sealer::verifyCreator(const json& incident, Creator* creator) const {
  const json& meta = metadataOf(incident);
  std::string user = annotation(incident, kCreatedByAnnotation);
  json groups = json::parse(annotation(incident, kCreatedByGroupsAnnotation), nullptr, false);
  if (groups.is_discarded() || !groups.is_array()) groups = json::array();
  SealCheck check =
      verify(creatorCovered(text(meta, "namespace"), text(meta, "name"), user, groups),
             annotation(incident, kCreatorSealAnnotation));
  if (check.valid && creator) {
    creator->user = user;
    creator->groups.clear();
    for (const auto& g : groups) {
      if (g.is_string()) creator->groups.push_back(g.get<std::string>());
    }
  }
  return check;
}

}  // namespace remedy::admission
