// Loads a Config from kubeconfig files, with the rules of
// k8s.io/client-go/tools/clientcmd (loader.go, client_config.go,
// validation.go):
// - an explicit path must exist; otherwise KUBECONFIG lists files separated
//   by ':' (missing ones are skipped) and they merge, the first file to set
//   a cluster, user, context or current-context winning; otherwise
//   ~/.kube/config;
// - relative file paths are relative to the file that names them;
// - *-data fields win over the file fields; a token wins over tokenFile but
//   the file is still re-read (rest.Config BearerTokenFile).
#pragma once

#include "kube/config.h"
#include "kube/status.h"

#include <string>

namespace remedy::kube {

struct KubeconfigOptions {
  std::string path;        // --kubeconfig; empty: KUBECONFIG, then ~/.kube/config
  std::string context;     // --context; empty: current-context
  std::string namespace_;  // --namespace override; empty: the context's
  EnvLookup env = processEnv();
};

Result<Config> loadKubeconfig(const KubeconfigOptions& options = {});
// Parses one kubeconfig document; `origin` names it in messages and
// `baseDir` resolves relative paths.
Result<Config> parseKubeconfig(const std::string& yaml, const std::string& origin,
                               const std::string& baseDir, const std::string& context = "");

// The order controller-runtime's config.GetConfig uses: an explicit path,
// KUBECONFIG, in-cluster, then ~/.kube/config.
Result<Config> defaultConfig(const KubeconfigOptions& options = {},
                             const InClusterOptions& inCluster = {});

}  // namespace remedy::kube
