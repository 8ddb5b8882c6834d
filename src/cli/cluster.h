// What the cluster-facing remedyctl commands share: the common flags
// (--kubeconfig, --context, -n/--namespace) and a client built from them.
#pragma once

#include "cli/commands.h"
#include "kube/client.h"
#include "kube/config.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::cli {

struct ClusterFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_;  // empty: the context's
};

// Takes the common flags out of `args`; the rest (in order) go to
// `remaining`. An error names the flag.
std::optional<std::string> takeClusterFlags(const Args& args, ClusterFlags* flags, Args* remaining);

struct Cluster {
  std::unique_ptr<kube::Client> client;
  std::string namespace_;  // the flag's, else the context's
};

// The client, or nullptr after printing why to stderr.
std::optional<Cluster> connect(const ClusterFlags& flags, const char* command);

extern const char* const kClusterFlagsHelp;

}  // namespace remedy::cli
