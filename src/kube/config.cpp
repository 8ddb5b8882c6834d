#include "kube/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace remedy::kube {
namespace {

std::optional<std::string> readSmallFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t start = s.find_first_not_of(" \n\r\t");
  return start == std::string::npos ? "" : s.substr(start);
}

}  // namespace

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<Config> inClusterConfig(const InClusterOptions& options) {
  auto host = options.env("KUBERNETES_SERVICE_HOST");
  auto port = options.env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    // rest.ErrNotInCluster
    return Status::configError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be "
        "set");
  }
  Config config;
  // net.JoinHostPort brackets IPv6 literals.
  std::string hostPart = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;
  config.server = "https://" + hostPart + ":" + *port;
  config.origin = "in-cluster service account " + options.serviceAccountDir;

  std::string error;
  std::string tokenPath = options.serviceAccountDir + "/token";
  auto token = readSmallFile(tokenPath, &error);
  if (!token) {
    return Status::configError("in-cluster config: cannot read the service account token " +
                               tokenPath + ": " + error);
  }
  config.bearerToken = trim(*token);
  // The kubelet rotates projected tokens; rest.InClusterConfig sets
  // BearerTokenFile so the transport re-reads it.
  config.bearerTokenFile = tokenPath;

  std::string caPath = options.serviceAccountDir + "/ca.crt";
  auto ca = readSmallFile(caPath, &error);
  if (!ca) {
    return Status::configError("in-cluster config: cannot read the cluster CA " + caPath + ": " +
                               error);
  }
  config.caPem = *ca;

  // clientcmd inClusterClientConfig.Namespace.
  if (auto ns = options.env("POD_NAMESPACE"); ns && !ns->empty()) {
    config.namespace_ = *ns;
  } else if (auto nsFile = readSmallFile(options.serviceAccountDir + "/namespace", &error);
             nsFile && !trim(*nsFile).empty()) {
    config.namespace_ = trim(*nsFile);
  }
  return config;
}

}  // namespace remedy::kube
