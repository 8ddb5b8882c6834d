#include "kube/transport.h"

#include <strings.h>

namespace remedy::kube {

std::string headerValue(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

}  // namespace remedy::kube
