// Maps a kind to the resource that serves it, from the API server's
// discovery documents (/api/v1, /apis/GROUP/VERSION). Cached per
// group-version and refetched on a miss, as client-go's deferred discovery
// REST mapper resets itself when a kind is not found.
#pragma once

#include "kube/resource.h"
#include "kube/status.h"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::kube {

class Discovery {
 public:
  // `get` fetches a path and decodes its JSON.
  explicit Discovery(std::function<Result<json>(const std::string& path)> get);

  Result<Resource> resourceFor(const std::string& apiVersion, const std::string& kind);
  // Forgets everything (after CRDs change, for example).
  void invalidate();

 private:
  Result<std::vector<Resource>> fetch(const std::string& apiVersion);
  std::function<Result<json>(const std::string&)> get_;
  std::mutex mu_;                                       // guards cache_
  std::map<std::string, std::vector<Resource>> cache_;  // apiVersion -> resources
};

}  // namespace remedy::kube
