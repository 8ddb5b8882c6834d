// Reading one key of a Secret named by a step's `secretKeyRef` ({name, key}).
// Errors name the Secret, the key and the step field, never a value.
#pragma once

#include "kube/client.h"

#include <nlohmann/json.hpp>

#include <string>

namespace remedy::actions {

struct SecretValue {
  std::string value;
  // The failure, if any: 404 (no such Secret or key) and 403 are permanent
  // for the step; other failures (API server unavailable) are retriable.
  bool retriable = false;
  std::string error;
  bool ok() const { return error.empty(); }
};

// `field` is the step field for messages ("postgres.connection.secretKeyRef").
SecretValue readSecretKey(kube::Client& client, const std::string& ns,
                          const nlohmann::json& secretKeyRef, const std::string& field);

}  // namespace remedy::actions
