// remedyctl: the Remedy command line (also installed as the kubectl plugin
// kubectl-remedy).
#include "cli/commands.h"

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

namespace {

struct Command {
  std::function<int(const remedy::cli::Args&)> run;
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> c = {
      {"sandbox",
       {remedy::cli::runSandbox,
        "run an in-memory Kubernetes API server and write a kubeconfig for it"}},
      {"approve",
       {remedy::cli::runApprove,
        "approve or reject a step that waits, as the user your kubeconfig authenticates"}},
      {"approvals",
       {remedy::cli::runApprovals, "the steps that wait for approval, since and until when"}},
      {"drill",
       {remedy::cli::runDrill,
        "rehearse a Runbook: a dry-run Incident from a synthetic alert, and its plan"}},
      {"pause", {remedy::cli::runPause, "stop every Incident before its next step"}},
      {"resume", {remedy::cli::runResume, "let paused Incidents continue"}},
      {"revert", {remedy::cli::runRevert, "undo an Incident's temporary changes now"}},
      {"get", {remedy::cli::runGet, "list active and recent Incidents and what they wait for"}},
      {"ls", {remedy::cli::runGet, "the same as get"}},
      {"describe", {remedy::cli::runDescribe, "what Remedy did about an Incident, and why"}},
      {"report",
       {remedy::cli::runReport, "a post-incident review of an Incident (Markdown, JSON)"}},
      {"watch", {remedy::cli::runWatch, "follow Incidents live, a line per transition"}},
      {"test",
       {remedy::cli::runTest,
        "run Runbook test files offline on a fake clock: expected vs actual per failure"}},
      {"validate",
       {remedy::cli::runValidate,
        "check Runbook manifests offline: file:line: path: message per error"}},
  };
  return c;
}

void usage(FILE* out) {
  std::fprintf(out, "usage: remedyctl COMMAND [flags]\n\ncommands:\n");
  for (const auto& [name, c] : commands())
    std::fprintf(out, "  %-10s %s\n", name.c_str(), c.summary);
  std::fprintf(out, "\nrun 'remedyctl COMMAND --help' for a command's flags\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::fprintf(stderr, "remedyctl: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  return it->second.run(remedy::cli::Args(argv + 2, argv + argc));
}
