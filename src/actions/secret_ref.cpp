#include "actions/secret_ref.h"

#include "kube/base64.h"
#include "kube/resource.h"

namespace remedy::actions {

SecretValue readSecretKey(kube::Client& client, const std::string& ns,
                          const nlohmann::json& secretKeyRef, const std::string& field) {
  SecretValue out;
  std::string name = secretKeyRef.is_object() ? secretKeyRef.value("name", "") : "";
  std::string key = secretKeyRef.is_object() ? secretKeyRef.value("key", "") : "";
  if (name.empty() || key.empty()) {
    out.error = field + ": name and key are required";
    return out;
  }
  std::string where = field + ": Secret " + ns + "/" + name;
  auto secret = client.get(kube::resources::secrets(), ns, name);
  if (!secret.ok()) {
    int code = secret.status().code();
    out.retriable = code != 404 && code != 403;
    out.error = where + ": " + secret.status().message();
    return out;
  }
  const auto& data = secret->value("data", nlohmann::json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) {
    out.error = where + " has no key \"" + key + "\"";
    return out;
  }
  auto decoded = kube::decodeBase64(it->get<std::string>());
  if (!decoded.ok()) {
    out.error = where + ": key \"" + key + "\" is not valid base64";
    return out;
  }
  out.value = std::move(decoded.value());
  return out;
}

}  // namespace remedy::actions
