#include "sandbox/impersonation.h"

#include "formats/go_format.h"
#include "sandbox/object_meta.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace remedy::sandbox {
namespace {

const char* const kServiceAccountPrefix = "system:serviceaccount:";
const char* const kAuthenticationGroup = "authentication.k8s.io";
const char* const kExtraPrefix = "impersonate-extra-";

// One thing a request asks to impersonate: a v1.ObjectReference in the real
// filter (Kind, Namespace, Name, APIVersion, FieldPath).
struct Requested {
  std::string kind;  // ServiceAccount, User, Group, UserExtra, UID
  std::string ns;
  std::string name;
  std::string apiVersion;
  std::string fieldPath;  // the extra's key
};

// Go's %v of a v1.ObjectReference: its seven fields separated by spaces
// (Kind Namespace Name UID APIVersion ResourceVersion FieldPath).
std::string goValue(const Requested& r) {
  return "{" + r.kind + " " + r.ns + " " + r.name + "  " + r.apiVersion + "  " + r.fieldPath + "}";
}

// A repeated header arrives joined with ", " (see the header comment).
std::vector<std::string> values(const http::Request& request, const std::string& name) {
  std::vector<std::string> out;
  std::string joined = request.header(name);
  if (joined.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t at = joined.find(", ", start);
    out.push_back(joined.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 2;
  }
  return out;
}

bool validName(const std::string& name, NameRule rule) {
  return validateObjectMeta(json{{"name", name}}, rule).empty();
}

// url.PathUnescape of an extra's key; a malformed escape keeps the key as is.
std::string pathUnescape(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] != '%') {
      out += key[i];
      continue;
    }
    if (i + 2 >= key.size() || !std::isxdigit(static_cast<unsigned char>(key[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(key[i + 2]))) {
      return key;
    }
    out += static_cast<char>(std::stoi(key.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> splitServiceAccountUserName(
    const std::string& user) {
  std::string prefix = kServiceAccountPrefix;
  if (user.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string rest = user.substr(prefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string::npos || rest.find(':', colon + 1) != std::string::npos) {
    return std::nullopt;
  }
  std::string ns = rest.substr(0, colon);
  std::string name = rest.substr(colon + 1);
  if (!validName(ns, NameRule::DnsLabel) || !validName(name, NameRule::DnsSubdomain)) {
    return std::nullopt;
  }
  return std::make_pair(ns, name);
}

ImpersonationOutcome impersonate(
    const http::Request& request, const UserInfo& requestor,
    const std::function<bool(const Attributes&, std::string* reason)>& authorize) {
  ImpersonationOutcome out;
  std::vector<Requested> requested;
  std::string user = request.header("impersonate-user");
  if (!user.empty()) {
    if (auto sa = splitServiceAccountUserName(user)) {
      requested.push_back({"ServiceAccount", sa->first, sa->second, "", ""});
    } else {
      requested.push_back({"User", "", user, "", ""});
    }
  }
  auto groups = values(request, "impersonate-group");
  for (const auto& g : groups) requested.push_back({"Group", "", g, "", ""});
  bool extras = false;
  for (const auto& [name, joined] : request.headers) {
    if (name.compare(0, std::string(kExtraPrefix).size(), kExtraPrefix) != 0) continue;
    extras = true;
    std::string key = pathUnescape(name.substr(std::string(kExtraPrefix).size()));
    for (const auto& v : values(request, name)) {
      requested.push_back({"UserExtra", "", v, std::string(kAuthenticationGroup) + "/v1", key});
    }
  }
  std::string uid = request.header("impersonate-uid");
  if (!uid.empty()) {
    requested.push_back({"UID", "", uid, std::string(kAuthenticationGroup) + "/v1", ""});
  }
  if ((!groups.empty() || extras || !uid.empty()) && user.empty()) {
    std::string list;
    for (size_t i = 0; i < requested.size(); ++i) list += (i ? " " : "") + goValue(requested[i]);
    out.internalError = "Internal Server Error: " + formats::goQuote(request.target) +
                        ": requested [" + list + "] without impersonating a user";
    return out;
  }
  if (requested.empty()) return out;

  UserInfo acting;
  for (const auto& r : requested) {
    Attributes a;
    a.user = requestor;
    a.verb = "impersonate";
    a.namespace_ = r.ns;
    a.name = r.name;
    if (r.kind == "ServiceAccount") {
      a.resource = "serviceaccounts";
      acting.name = serviceAccountUserName(r.ns, r.name);
      if (groups.empty()) {
        acting.groups = {"system:serviceaccounts", "system:serviceaccounts:" + r.ns};
      }
    } else if (r.kind == "User") {
      a.resource = "users";
      acting.name = r.name;
    } else if (r.kind == "Group") {
      a.resource = "groups";
      acting.groups.push_back(r.name);
    } else if (r.kind == "UserExtra") {
      a.apiGroup = kAuthenticationGroup;
      a.resource = "userextras";
      a.subresource = r.fieldPath;
    } else {
      a.apiGroup = kAuthenticationGroup;
      a.resource = "uids";
    }
    std::string reason;
    if (!authorize(a, &reason)) {
      ApiError e = ApiError::forbidden(requestor.name, a.verb, a.apiGroup, a.resource,
                                       a.subresource, a.namespace_, a.name);
      if (!reason.empty()) e.message += ": " + reason;
      out.forbidden = e;
      return out;
    }
  }
  auto has = [&](const char* g) {
    return std::find(acting.groups.begin(), acting.groups.end(), g) != acting.groups.end();
  };
  if (acting.name != "system:anonymous") {
    if (!has("system:authenticated") && !has("system:unauthenticated")) {
      acting.groups.push_back("system:authenticated");
    }
  } else if (!has("system:unauthenticated")) {
    acting.groups.push_back("system:unauthenticated");
  }
  out.user = std::move(acting);
  return out;
}

}  // namespace remedy::sandbox
