// The API server a test runs against: the in-process sandbox, or the real
// control plane (kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler, kwok) that this ctest run started with
// e2e/cluster/cluster.sh as the `real_cluster` fixture.
//
// REMEDY_TEST_APISERVER selects it for the process: `sandbox` (the default)
// or `real`. ctest runs the suites written for both once per server (the real
// runs are named `real.<Suite>.<Test>`); by hand:
//   REMEDY_TEST_APISERVER=real build/tests/operator_tests --gtest_filter=...
// with a control plane up (ctest -R cluster.up, or cluster.sh up) at
// REMEDY_CLUSTER_DIR (default: <build>/control-plane/run).
//
// Each test gets its own namespace on either server. On the real one,
// objects outside it (CRDs, ClusterRoles) are shared by every test of the
// run, so tests create them idempotently and name cluster-scoped objects
// after their namespace.
#pragma once

#include "http/certificates.h"
#include "kube/base64.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/kubeconfig.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "sandbox/sandbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace remedy::testing {

enum class ApiServerKind { Sandbox, Real };

inline ApiServerKind apiServerUnderTest() {
  const char* value = std::getenv("REMEDY_TEST_APISERVER");
  std::string v = value ? value : "";
  if (v.empty() || v == "sandbox") return ApiServerKind::Sandbox;
  if (v == "real") return ApiServerKind::Real;
  throw std::invalid_argument("REMEDY_TEST_APISERVER=" + v + ": want sandbox or real");
}

inline std::string readTextFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The control plane e2e/cluster/cluster.sh started (see its header for the
// files it writes).
class RealCluster {
 public:
  // The cluster at REMEDY_CLUSTER_DIR, or <build>/control-plane/run; nullopt
  // with `error` set when it is not up.
  static std::optional<RealCluster> fromEnvironment(std::string* error) {
    const char* dir = std::getenv("REMEDY_CLUSTER_DIR");
#ifdef REMEDY_BINARY_DIR
    std::string path = dir ? dir : std::string(REMEDY_BINARY_DIR) + "/control-plane/run";
#else
    std::string path = dir ? dir : "";
#endif
    if (path.empty() || ::access((path + "/cluster.env").c_str(), R_OK) != 0) {
      *error = "no control plane at '" + path +
               "' (cluster.env missing): run `ctest -R cluster.up` or "
               "`e2e/cluster/cluster.sh up DIR` and set REMEDY_CLUSTER_DIR";
      return std::nullopt;
    }
    RealCluster cluster;
    cluster.dir_ = path;
    std::istringstream env(readTextFile(path + "/cluster.env"));
    for (std::string line; std::getline(env, line);) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "SERVER") cluster.server_ = value;
      if (key == "BIN_DIR") cluster.binDir_ = value;
    }
    return cluster;
  }

  const std::string& dir() const { return dir_; }
  const std::string& server() const { return server_; }
  // etcd, kube-apiserver, ..., helm.
  const std::string& binDir() const { return binDir_; }
  std::string adminKubeconfigPath() const { return dir_ + "/admin.kubeconfig"; }
  // alice (groups sre, oncall), bob (dev), carol (sre), dave (none): client
  // certificates signed by the cluster CA.
  std::string userKubeconfigPath(const std::string& user) const {
    return dir_ + "/users/" + user + ".kubeconfig";
  }
  std::string caFile() const { return dir_ + "/pki/ca.crt"; }

  kube::Config adminConfig() const { return configFrom(adminKubeconfigPath()); }
  kube::Config userConfig(const std::string& user) const {
    return configFrom(userKubeconfigPath(user));
  }

 private:
  static kube::Config configFrom(const std::string& path) {
    kube::KubeconfigOptions options;
    options.path = path;
    auto config = kube::loadKubeconfig(options);
    if (!config.ok()) throw std::runtime_error(path + ": " + config.status().toString());
    config->qps = 0;
    return *config;
  }

  std::string dir_;
  std::string server_;
  std::string binDir_;
};

// Polls `condition` until it holds or `timeout` passes (never a fixed sleep).
inline bool eventuallyTrue(const std::function<bool()>& condition,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// A test against the API server REMEDY_TEST_APISERVER names, in a namespace
// of its own: `client_` is an administrator, `sandbox_` is set only on the
// sandbox (tests that need the sandbox's own features, such as its store or
// fault injection, are registered for the sandbox only).
class ApiServerTest : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  static sandbox::SandboxOptions defaultSandboxOptions() {
    sandbox::SandboxOptions o;
    o.bookmarkInterval = std::chrono::milliseconds(300);
    return o;
  }

  // The sandbox's options for SetUp; a suite that needs RBAC enforced on the
  // sandbox too (as kube-apiserver always does) turns on authorization.
  virtual sandbox::SandboxOptions sandboxOptions() { return defaultSandboxOptions(); }

  void SetUp() override { startApiServer(sandboxOptions()); }

  // Starts the sandbox with `options`, or connects to the real control plane
  // (which ignores them), then creates the test's namespace.
  void startApiServer(const sandbox::SandboxOptions& options) {
    kind_ = apiServerUnderTest();
    if (kind_ == ApiServerKind::Real) {
      std::string error;
      cluster_ = RealCluster::fromEnvironment(&error);
      ASSERT_TRUE(cluster_.has_value()) << error;
    } else {
      sandbox_ = std::make_unique<sandbox::Sandbox>(options);
      auto error = sandbox_->start();
      ASSERT_FALSE(error.has_value()) << *error;
    }
    client_ = newClient(adminConfig());
    ASSERT_NE(client_, nullptr);
    namespace_ = "t-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++);
    createNamespace(namespace_);
  }

  void TearDown() override {
    // The real API server's namespace controller removes what the test left
    // (in the background: nothing waits for it).
    if (client_ && onRealApiServer()) {
      for (const auto& ns : namespaces_) client_->remove(kube::resources::namespaces(), "", ns);
    }
    client_.reset();
    if (sandbox_) sandbox_->stop();
  }

  bool onRealApiServer() const { return kind_ == ApiServerKind::Real; }
  const char* apiServerName() const { return onRealApiServer() ? "kube-apiserver" : "sandbox"; }

  // Administrator access, unthrottled.
  kube::Config adminConfig() const {
    if (onRealApiServer()) return cluster_->adminConfig();
    kube::Config c;
    c.server = sandbox_->url();
    c.caPem = sandbox_->caCertificatePem();
    c.bearerToken = sandbox_->adminToken();
    c.qps = 0;
    c.origin = "test sandbox";
    return c;
  }

  // The test users of both API servers, authenticated by client
  // certificates: alice (groups sre, oncall), bob (dev), carol (sre), dave
  // (no groups). On the sandbox, certificates signed by its CA with the same
  // subjects (CN the user, O the groups) as e2e/cluster/cluster.sh makes.
  // Groups in the order of the certificate's subject, which is the order
  // the API server reports them (cluster.sh writes alice's as O=oncall, O=sre).
  static std::vector<std::string> testUserGroups(const std::string& user) {
    if (user == "alice") return {"oncall", "sre"};
    if (user == "bob") return {"dev"};
    if (user == "carol") return {"sre"};
    return {};
  }
  kube::Config userConfig(const std::string& user) const {
    if (onRealApiServer()) {
      kube::Config c = cluster_->userConfig(user);
      c.qps = 0;
      return c;
    }
    http::KeyPair pair = sandbox_->issueClientCertificate(user, testUserGroups(user));
    kube::Config c;
    c.server = sandbox_->url();
    c.caPem = sandbox_->caCertificatePem();
    c.clientCertificatePem = pair.certificatePem;
    c.clientKeyPem = pair.privateKeyPem;
    c.qps = 0;
    c.origin = "test sandbox user " + user;
    return c;
  }
  // A kubeconfig file for a test user (for kubectl and remedyctl), written
  // into `dir` for the sandbox.
  std::string userKubeconfigFile(const std::string& dir, const std::string& user) const {
    if (onRealApiServer()) return cluster_->userKubeconfigPath(user);
    http::KeyPair pair = sandbox_->issueClientCertificate(user, testUserGroups(user));
    auto b64 = [](const std::string& s) { return kube::encodeBase64(s); };
    std::string path = dir + "/" + user + ".kubeconfig";
    std::ofstream(path) << "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n"
                        << "    server: " << sandbox_->url() << "\n"
                        << "    certificate-authority-data: " << b64(sandbox_->caCertificatePem())
                        << "\nusers:\n- name: " << user << "\n  user:\n"
                        << "    client-certificate-data: " << b64(pair.certificatePem) << "\n"
                        << "    client-key-data: " << b64(pair.privateKeyPem) << "\n"
                        << "contexts:\n- name: " << user << "\n  context:\n    cluster: sandbox\n"
                        << "    user: " << user << "\n    namespace: " << namespace_ << "\n"
                        << "current-context: " << user << "\n";
    return path;
  }

  // The administrator's kubeconfig as a file, for processes (kubectl,
  // remedy-operator): written into `dir` for the sandbox.
  std::string adminKubeconfigFile(const std::string& dir) const {
    if (onRealApiServer()) return cluster_->adminKubeconfigPath();
    std::string path = dir + "/admin.kubeconfig";
    std::ofstream(path) << sandbox_->kubeconfig();
    return path;
  }

  std::unique_ptr<kube::RestClient> newClient(const kube::Config& config) {
    auto c = kube::RestClient::fromConfig(config);
    EXPECT_TRUE(c.ok()) << c.status().toString();
    return c.ok() ? std::move(c.value()) : nullptr;
  }
  std::unique_ptr<kube::RestClient> newClient() { return newClient(adminConfig()); }

  // Creates namespace `name` (removed at the end of the test on the real
  // API server; the sandbox goes away with the test).
  void createNamespace(const std::string& name) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    auto created = client_->create(kube::resources::namespaces(), "", ns);
    if (!created.ok() && created.status().reason() == "AlreadyExists") return;
    ASSERT_TRUE(created.ok()) << created.status().toString();
    namespaces_.push_back(name);
  }

  // Creates a cluster-scoped or shared object unless it exists (CRDs, on a
  // control plane shared by the whole run), and waits until a CRD is
  // Established.
  void ensureCreated(const kube::Resource& resource, const json& object) {
    auto created = client_->create(resource, "", object);
    if (!created.ok()) {
      ASSERT_EQ(created.status().reason(), "AlreadyExists") << created.status().toString();
    }
    if (object.value("kind", "") != "CustomResourceDefinition") return;
    std::string name = object["metadata"]["name"];
    bool established = eventuallyTrue([&] {
      auto got = client_->get(resource, "", name);
      if (!got.ok()) return false;
      for (const auto& c :
           got->value("status", json::object()).value("conditions", json::array())) {
        if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
      }
      return false;
    });
    ASSERT_TRUE(established) << "CRD " << name << " not Established";
  }

  json configMap(const std::string& name, json data = json::object()) const {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"data", data}};
  }

  static std::atomic<int>& counter() {
    static std::atomic<int> n{0};
    return n;
  }

  ApiServerKind kind_ = ApiServerKind::Sandbox;
  std::optional<RealCluster> cluster_;         // the real control plane
  std::unique_ptr<sandbox::Sandbox> sandbox_;  // the sandbox; null on the real one
  std::unique_ptr<kube::RestClient> client_;   // an administrator
  std::string namespace_;                      // the test's own
  std::vector<std::string> namespaces_;        // created by the test
};

}  // namespace remedy::testing
