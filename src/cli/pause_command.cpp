// remedyctl pause / resume: the global pause switch, a ConfigMap
// (remedy-pause, data.paused) in the operator's namespace that the operator
// watches. Paused, no Incident starts a new step; running steps finish.
#include "cli/cluster.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace remedy::cli {
namespace {

using json = nlohmann::json;

int setPaused(const Args& args, bool paused) {
  const char* command = paused ? "pause" : "resume";
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl %s: %s\n", command, error->c_str());
    return 2;
  }
  std::string reason;
  std::string name = "remedy-pause";
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == "--help" || rest[i] == "-h") {
      std::printf(
          "usage: remedyctl %s [--reason TEXT] [--name NAME] [-n NAMESPACE]\n\n"
          "%s every Remedy operator watching the pause ConfigMap (NAME, default remedy-pause,\n"
          "in NAMESPACE, default remedy-system: the operator's --pause-namespace).\n%s\n"
          "flags:\n  --reason TEXT       why, recorded on the ConfigMap\n"
          "  --name NAME         the ConfigMap (the operator's --pause-name)\n"
          "  -n, --namespace NS  the operator's --pause-namespace (default remedy-system)\n"
          "  --kubeconfig PATH   kubeconfig file (default: KUBECONFIG, then ~/.kube/config)\n"
          "  --context NAME      kubeconfig context (default: the current one)\n",
          command, paused ? "Pauses" : "Resumes",
          paused ? "While paused no Incident starts a step; a step already running finishes."
                 : "Incidents waiting on the pause continue at once.");
      return 0;
    } else if (rest[i] == "--reason" && i + 1 < rest.size()) {
      reason = rest[++i];
    } else if (rest[i] == "--name" && i + 1 < rest.size()) {
      name = rest[++i];
    } else {
      std::fprintf(stderr, "remedyctl %s: unexpected argument \"%s\"\n", command, rest[i].c_str());
      return 2;
    }
  }
  if (flags.namespace_.empty()) flags.namespace_ = "remedy-system";
  auto cluster = connect(flags, command);
  if (!cluster) return 1;
  kube::Client& client = *cluster->client;
  std::string now = kube::formatRfc3339(std::chrono::system_clock::now());
  json data = {{"paused", paused ? "true" : "false"}, {"changedAt", now}};
  data["reason"] = reason.empty() ? nullptr : json(reason);
  json patch = {{"data", data}};
  kube::PatchOptions options;
  options.fieldManager = "remedyctl";
  auto patched =
      client.patch(kube::resources::configMaps(), flags.namespace_, name, patch.dump(), options);
  if (!patched.ok() && kube::isNotFound(patched.status())) {
    if (!reason.empty())
      data["reason"] = reason;
    else
      data.erase("reason");
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata",
                {{"name", name},
                 {"namespace", flags.namespace_},
                 {"labels", {{"app.kubernetes.io/part-of", "remedy"}}}}},
               {"data", data}};
    kube::WriteOptions create;
    create.fieldManager = "remedyctl";
    patched = client.create(kube::resources::configMaps(), flags.namespace_, cm, create);
  }
  if (!patched.ok()) {
    std::fprintf(stderr, "remedyctl %s: configmap %s/%s: %s\n", command, flags.namespace_.c_str(),
                 name.c_str(), patched.status().message().c_str());
    return 1;
  }
  std::printf("remedy %s (configmap %s/%s)%s\n", paused ? "paused" : "resumed",
              flags.namespace_.c_str(), name.c_str(),
              reason.empty() ? "" : (": " + reason).c_str());
  return 0;
}

}  // namespace

int runPause(const Args& args) { return setPaused(args, true); }
int runResume(const Args& args) { return setPaused(args, false); }

}  // namespace remedy::cli
