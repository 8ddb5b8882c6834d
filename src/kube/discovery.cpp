#include "kube/discovery.h"

namespace remedy::kube {

Discovery::Discovery(std::function<Result<json>(const std::string& path)> get)
    : get_(std::move(get)) {}

void Discovery::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

Result<std::vector<Resource>> Discovery::fetch(const std::string& apiVersion) {
  auto slash = apiVersion.find('/');
  std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
  std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  auto list = get_(path);
  if (!list) return list.status().withContext("discovery " + path);
  std::vector<Resource> out;
  if (list->contains("resources") && (*list)["resources"].is_array()) {
    for (const json& r : (*list)["resources"]) {
      std::string name = r.value("name", "");
      // "deployments/status" and the like are subresources.
      if (name.empty() || name.find('/') != std::string::npos) continue;
      out.push_back({group, version, name, r.value("kind", ""), r.value("namespaced", true)});
    }
  }
  return out;
}

Result<Resource> Discovery::resourceFor(const std::string& apiVersion, const std::string& kind) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(apiVersion);
    if (it != cache_.end()) {
      for (const Resource& r : it->second) {
        if (r.kind == kind) return r;
      }
    }
  }
  // A miss: the group-version may be new (a CRD just registered) or have
  // changed, so fetch it again before giving up.
  auto fresh = fetch(apiVersion);
  if (!fresh) return fresh.status();
  std::lock_guard<std::mutex> lock(mu_);
  cache_[apiVersion] = *fresh;
  for (const Resource& r : *fresh) {
    if (r.kind == kind) return r;
  }
  return Status::error(404, reason::kNotFound,
                       "no resource serves kind \"" + kind + "\" in " + apiVersion);
}

}  // namespace remedy::kube
