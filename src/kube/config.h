// How to reach and authenticate to an API server: the rest.Config of
// client-go, filled from a kubeconfig (kubeconfig.h) or from the pod's
// service account (inClusterConfig).
#pragma once

#include "kube/clock.h"
#include "kube/status.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remedy::kube {

// users[].user.exec of a kubeconfig (client.authentication.k8s.io/v1).
struct ExecConfig {
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string apiVersion;
  std::string installHint;
  bool provideClusterInfo = false;
  std::string interactiveMode;  // Never, IfAvailable, Always
};

struct Config {
  // "https://host:port", with an optional path prefix.
  std::string server;

  // TLS. An empty caPem trusts the system roots.
  std::string caPem;
  bool insecureSkipTlsVerify = false;
  // Name used for SNI and to verify the serving certificate instead of the
  // host of `server`.
  std::string tlsServerName;
  std::string clientCertificatePem;
  std::string clientKeyPem;

  // Authentication. bearerTokenFile wins over bearerToken and is re-read
  // when it changes (client-go transport.NewCachedFileTokenSource).
  std::string bearerToken;
  std::string bearerTokenFile;
  std::optional<ExecConfig> exec;

  // The namespace of the context (or of the pod, in-cluster).
  std::string namespace_ = "default";

  // Client-side throttling: rest.Config defaults (DefaultQPS, DefaultBurst).
  double qps = 5.0;
  int burst = 10;
  // The name of this budget (qps, burst) in metrics and logs: a process
  // that gives each of its parts a client of its own tells them apart.
  std::string budget = "default";
  // Per-request timeout; 0 means none beyond the transport's idle limit.
  Duration timeout{0};
  // How often a 429 or 5xx answer with Retry-After is retried within one
  // call (client-go's default is 10). A caller that answers someone else
  // within a deadline (the alert webhook) wants few.
  int maxRetries = 10;
  std::string userAgent = "kube-cpp/0.1";

  // Where this came from, for messages: "kubeconfig /x/config, context foo".
  std::string origin;
};

// Reads environment variables; tests pass a fake.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup processEnv();

struct InClusterOptions {
  std::string serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
  EnvLookup env = processEnv();
};

// rest.InClusterConfig: KUBERNETES_SERVICE_HOST/PORT, the service account
// token (as a file re-read when it changes), its ca.crt, and the pod's
// namespace (POD_NAMESPACE, else the namespace file, else "default").
Result<Config> inClusterConfig(const InClusterOptions& options = {});

}  // namespace remedy::kube
