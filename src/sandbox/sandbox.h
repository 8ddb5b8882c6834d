// The sandbox: an in-memory Kubernetes API server with a small workload
// simulator, served over HTTPS (or plain HTTP) on loopback. Tests start one
// in-process; `remedyctl sandbox` runs one as its own process.
#pragma once

#include "http/certificates.h"
#include "sandbox/faults.h"
#include "sandbox/objects.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::sandbox {

struct SandboxOptions {
  std::string bindAddress = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  bool tls = true;
  // Enforce RBAC for every identity but the admin (group system:masters).
  bool authorization = false;
  // How long a new pod takes to become Running and Ready.
  std::chrono::milliseconds podReadyDelay{0};
  // How often a pod annotated sandbox.remedy.dev/crash-loop restarts.
  std::chrono::milliseconds crashLoopInterval{std::chrono::seconds(2)};
  // How often a watch that asked for bookmarks gets one.
  std::chrono::milliseconds bookmarkInterval{std::chrono::seconds(60)};
  // Watch events kept for resumption by resourceVersion.
  size_t historyLimit = 20000;
};

class Sandbox {
 public:
  explicit Sandbox(SandboxOptions options = {});
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::optional<std::string> start();
  void stop();

  // "https://127.0.0.1:PORT" (or http://).
  std::string url() const;
  uint16_t port() const;
  // PEM of the CA that signed the serving certificate and client certificates.
  std::string caCertificatePem() const;
  // The admin's bearer token (user "admin", group "system:masters").
  std::string adminToken() const;
  // Accepts a bearer token for a user and groups.
  void addToken(const std::string& token, const std::string& user,
                const std::vector<std::string>& groups);
  // A client certificate for a user and groups, signed by the sandbox CA.
  http::KeyPair issueClientCertificate(const std::string& user,
                                       const std::vector<std::string>& groups) const;
  // A kubeconfig (YAML) whose current context reaches this sandbox with
  // `token`, or as the admin when empty.
  std::string kubeconfig(const std::string& token = "",
                         const std::string& namespace_ = "default") const;

  Faults& faults();
  Objects& objects();
  Store& store();
  // The workload simulator has nothing left to do now (see
  // WorkloadSimulator::settled); true when stopped.
  bool workloadsSettled() const;

  // Fault injection: end every open watch.
  void closeAllWatches();
  // Fault injection: forget watch history, so any resume is 410 Gone.
  void expireResourceVersions();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace remedy::sandbox
