// Base64 (RFC 4648, standard alphabet) for Secret data and kubeconfig
// `*-data` fields.
#pragma once

#include "kube/status.h"

#include <string>

namespace remedy::kube {

// Ignores padding and line breaks; an error for any other non-alphabet byte.
Result<std::string> decodeBase64(const std::string& in);
std::string encodeBase64(const std::string& in);

}  // namespace remedy::kube
