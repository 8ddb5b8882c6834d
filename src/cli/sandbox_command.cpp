#include "cli/commands.h"
#include "sandbox/sandbox.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace remedy::cli {

namespace {

void sandboxUsage(FILE* out) {
  std::fprintf(out,
               "usage: remedyctl sandbox [flags]\n\n"
               "Runs an in-memory Kubernetes API server with a small workload simulator until\n"
               "interrupted, and writes a kubeconfig that kubectl and remedy-operator can use.\n\n"
               "flags:\n"
               "  --port N                 port to listen on (default 6443; 0 picks a free one)\n"
               "  --bind ADDRESS           address to listen on (default 127.0.0.1)\n"
               "  --tls                    serve HTTPS with a CA generated at start-up\n"
               "  --kubeconfig-out PATH    write a kubeconfig for the admin there\n"
               "  --authorization          enforce RBAC for every identity but the admin\n"
               "  --pod-ready-delay MS     how long new pods take to become Ready (default 0)\n"
               "  --crash-loop-interval MS how often crash-looping pods restart (default 2000)\n"
               "  --bookmark-interval S    seconds between watch bookmarks (default 60)\n");
}

bool writeFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return false;
    f << content;
    if (!f.good()) return false;
  }
  chmod(tmp.c_str(), 0600);
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int runSandbox(const Args& args) {
  sandbox::SandboxOptions options;
  options.port = 6443;
  options.tls = false;
  std::string kubeconfigOut;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "remedyctl sandbox: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return args[++i];
    };
    auto number = [&](const std::string& flag, const std::string& v) -> long {
      try {
        size_t used = 0;
        long n = std::stol(v, &used);
        if (used == v.size() && n >= 0) return n;
      } catch (...) {
      }
      std::fprintf(stderr, "remedyctl sandbox: %s: \"%s\" is not a non-negative integer\n",
                   flag.c_str(), v.c_str());
      std::exit(2);
    };
    if (a == "--help" || a == "-h") {
      sandboxUsage(stdout);
      return 0;
    } else if (a == "--port") {
      long p = number(a, value());
      if (p > 65535) {
        std::fprintf(stderr, "remedyctl sandbox: --port: %ld is not a port\n", p);
        return 2;
      }
      options.port = static_cast<uint16_t>(p);
    } else if (a == "--bind") {
      options.bindAddress = value();
    } else if (a == "--tls") {
      options.tls = true;
    } else if (a == "--kubeconfig-out") {
      kubeconfigOut = value();
    } else if (a == "--authorization") {
      options.authorization = true;
    } else if (a == "--pod-ready-delay") {
      options.podReadyDelay = std::chrono::milliseconds(number(a, value()));
    } else if (a == "--crash-loop-interval") {
      options.crashLoopInterval = std::chrono::milliseconds(number(a, value()));
    } else if (a == "--bookmark-interval") {
      options.bookmarkInterval = std::chrono::seconds(number(a, value()));
    } else {
      std::fprintf(stderr, "remedyctl sandbox: unknown flag %s\n\n", a.c_str());
      sandboxUsage(stderr);
      return 2;
    }
  }

  // Signals are taken synchronously by this thread; block them before any
  // thread starts so none of the server's threads receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sandbox::Sandbox sb(options);
  if (auto err = sb.start()) {
    std::fprintf(stderr, "remedyctl sandbox: %s\n", err->c_str());
    return 1;
  }
  if (!kubeconfigOut.empty() && !writeFileAtomically(kubeconfigOut, sb.kubeconfig())) {
    std::fprintf(stderr, "remedyctl sandbox: cannot write %s\n", kubeconfigOut.c_str());
    return 1;
  }
  std::printf("sandbox: serving the Kubernetes API at %s\n", sb.url().c_str());
  if (!kubeconfigOut.empty()) {
    std::printf("sandbox: kubeconfig written to %s (kubectl --kubeconfig %s get pods)\n",
                kubeconfigOut.c_str(), kubeconfigOut.c_str());
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("sandbox: stopping\n");
  std::fflush(stdout);
  sb.stop();
  return 0;
}

}  // namespace remedy::cli
