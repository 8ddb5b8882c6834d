// A `remedyctl sandbox` child process over HTTPS for the benchmarks that
// measure this process's own memory: the API server's objects live in the
// child, so what this process holds is the client's alone.
#pragma once

#include "kube/kubeconfig.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

namespace remedy::bench {

class SandboxProcess {
 public:
  // Starts `remedyctl sandbox --tls` and waits (up to 20 s) for the
  // kubeconfig it writes; config() is empty when it did not come.
  explicit SandboxProcess(const std::string& remedyctl) {
    if (!mkdtemp(dir_)) return;
    kubeconfig_ = std::string(dir_) + "/kubeconfig";
    child_ = fork();
    if (child_ == 0) {
      execl(remedyctl.c_str(), remedyctl.c_str(), "sandbox", "--port", "0", "--tls",
            "--kubeconfig-out", kubeconfig_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    struct stat st {};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // The child announces itself only by writing the file: poll for it.
    while (stat(kubeconfig_.c_str(), &st) != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto config = kube::loadKubeconfig({kubeconfig_, "", ""});
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().toString().c_str());
      return;
    }
    config_ = *config;
    config_->qps = 0;  // unthrottled: measure the client, not its limiter
  }
  ~SandboxProcess() {
    if (child_ > 0) {
      kill(child_, SIGTERM);
      waitpid(child_, nullptr, 0);
    }
    if (!kubeconfig_.empty()) unlink(kubeconfig_.c_str());
    rmdir(dir_);
  }
  SandboxProcess(const SandboxProcess&) = delete;
  SandboxProcess& operator=(const SandboxProcess&) = delete;

  const std::optional<kube::Config>& config() const { return config_; }
  // The kubeconfig file the child wrote, for other processes to use.
  const std::string& kubeconfigPath() const { return kubeconfig_; }

 private:
  char dir_[32] = "/tmp/remedy-bench.XXXXXX";
  std::string kubeconfig_;
  pid_t child_ = -1;
  std::optional<kube::Config> config_;
};

}  // namespace remedy::bench
