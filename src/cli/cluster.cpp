#include "cli/cluster.h"

#include "kube/kubeconfig.h"
#include "kube/rest_client.h"

#include <cstdio>

namespace remedy::cli {

const char* const kClusterFlagsHelp =
    "  --kubeconfig PATH   kubeconfig file (default: KUBECONFIG, then ~/.kube/config)\n"
    "  --context NAME      kubeconfig context (default: the current one)\n"
    "  -n, --namespace NS  namespace (default: the context's)\n";

std::optional<std::string> takeClusterFlags(const Args& args, ClusterFlags* flags,
                                            Args* remaining) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) -> std::optional<std::string> {
      if (i + 1 >= args.size()) return a + ": needs a value";
      *out = args[++i];
      return std::nullopt;
    };
    std::optional<std::string> error;
    if (a == "--kubeconfig") {
      error = value(&flags->kubeconfig);
    } else if (a.rfind("--kubeconfig=", 0) == 0) {
      flags->kubeconfig = a.substr(13);
    } else if (a == "--context") {
      error = value(&flags->context);
    } else if (a == "-n" || a == "--namespace") {
      error = value(&flags->namespace_);
    } else if (a.rfind("--namespace=", 0) == 0) {
      flags->namespace_ = a.substr(12);
    } else {
      remaining->push_back(a);
    }
    if (error) return error;
  }
  return std::nullopt;
}

std::optional<Cluster> connect(const ClusterFlags& flags, const char* command) {
  kube::KubeconfigOptions options;
  options.path = flags.kubeconfig;
  options.context = flags.context;
  options.namespace_ = flags.namespace_;
  auto config = kube::loadKubeconfig(options);
  if (!config.ok()) {
    std::fprintf(stderr, "remedyctl %s: %s\n", command, config.status().message().c_str());
    return std::nullopt;
  }
  config->timeout = std::chrono::seconds(30);
  config->userAgent = "remedyctl/0.1";
  auto client = kube::RestClient::fromConfig(*config);
  if (!client.ok()) {
    std::fprintf(stderr, "remedyctl %s: %s\n", command, client.status().message().c_str());
    return std::nullopt;
  }
  Cluster c;
  c.client = std::move(client.value());
  c.namespace_ = flags.namespace_.empty() ? config->namespace_ : flags.namespace_;
  return c;
}

}  // namespace remedy::cli
