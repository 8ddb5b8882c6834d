#include "sandbox/sandbox.h"

#include "formats/base64.h"
#include "http/server.h"
#include "sandbox/admission_webhooks.h"
#include "sandbox/api_server.h"
#include "sandbox/object_meta.h"
#include "sandbox/workload_simulator.h"

#include <openssl/rand.h>

namespace remedy::sandbox {

namespace {

std::string randomHex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

}  // namespace

struct Sandbox::Impl {
  SandboxOptions options;
  Registry registry;
  Store store;
  Objects objects{store, registry};
  AdmissionWebhooks webhooks{store};
  Faults faults;
  http::CertificateAuthority ca{"remedy-sandbox-ca"};
  std::string adminToken = randomHex(24);
  std::unique_ptr<ApiServer> api;
  std::unique_ptr<http::HttpServer> server;
  std::unique_ptr<WorkloadSimulator> simulator;

  explicit Impl(SandboxOptions o) : options(std::move(o)), store(options.historyLimit) {
    objects.setAdmissionChain(&webhooks);
  }

  void bootstrap() {
    auto nsType = registry.find("", "v1", "namespaces");
    for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      objects.create(*nsType, "", {{"metadata", {{"name", ns}}}}, {});
    }
    for (auto& [key, object] : bootstrapRbacObjects()) {
      auto slash = key.find('/');
      auto type = registry.findAnyVersion(key.substr(0, slash), key.substr(slash + 1));
      if (type) objects.create(*type, "", object, {});
    }
  }
};

Sandbox::Sandbox(SandboxOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Sandbox::~Sandbox() { stop(); }

std::optional<std::string> Sandbox::start() {
  auto& i = *impl_;
  i.bootstrap();
  ApiServerOptions ao;
  ao.authorization = i.options.authorization;
  ao.bookmarkInterval = i.options.bookmarkInterval;
  i.api = std::make_unique<ApiServer>(i.objects, i.faults, ao);
  i.api->addToken(i.adminToken, UserInfo{"admin", {kSystemMasters}});
  http::ServerConfig sc;
  sc.bindAddress = i.options.bindAddress;
  sc.port = i.options.port;
  sc.name = "sandbox";
  if (i.options.tls) {
    http::KeyPair serving = i.ca.issueServer(
        "remedy-sandbox",
        {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
        {"127.0.0.1", "::1"});
    sc.tls = http::TlsConfig{serving.certificatePem, serving.privateKeyPem,
                             i.ca.ca().certificatePem, false};
  }
  ApiServer* api = i.api.get();
  i.server = std::make_unique<http::HttpServer>(
      sc, [api](const http::Request& req, http::Responder& resp) { api->handle(req, resp); });
  if (auto err = i.server->start()) return err;
  i.api->setServerAddress(i.options.bindAddress + ":" + std::to_string(i.server->port()));
  i.simulator = std::make_unique<WorkloadSimulator>(i.objects, i.options.podReadyDelay,
                                                    i.options.crashLoopInterval);
  i.simulator->start();
  return std::nullopt;
}

void Sandbox::stop() {
  if (!impl_) return;
  auto& i = *impl_;
  if (i.simulator) i.simulator->stop();
  if (i.api) i.api->shutdown();
  i.store.closeAllWatches();
  if (i.server) i.server->stop();
}

std::string Sandbox::url() const {
  std::string host = impl_->options.bindAddress;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->options.tls ? "https://" : "http://") + host + ":" +
         std::to_string(port());
}

uint16_t Sandbox::port() const { return impl_->server ? impl_->server->port() : 0; }

std::string Sandbox::caCertificatePem() const { return impl_->ca.ca().certificatePem; }

std::string Sandbox::adminToken() const { return impl_->adminToken; }

void Sandbox::addToken(const std::string& token, const std::string& user,
                       const std::vector<std::string>& groups) {
  impl_->api->addToken(token, UserInfo{user, groups});
}

http::KeyPair Sandbox::issueClientCertificate(const std::string& user,
                                              const std::vector<std::string>& groups) const {
  return impl_->ca.issueClient(user, groups);
}

std::string Sandbox::kubeconfig(const std::string& token, const std::string& namespace_) const {
  std::string out = "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n";
  out += "    server: " + url() + "\n";
  if (impl_->options.tls) {
    out += "    certificate-authority-data: " + formats::encodeBase64(caCertificatePem()) + "\n";
  }
  out += "users:\n- name: sandbox-user\n  user:\n";
  out += "    token: " + (token.empty() ? adminToken() : token) + "\n";
  out += "contexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: sandbox-user\n";
  out += "    namespace: " + namespace_ + "\n";
  out += "current-context: sandbox\n";
  return out;
}

Faults& Sandbox::faults() { return impl_->faults; }
Objects& Sandbox::objects() { return impl_->objects; }
bool Sandbox::workloadsSettled() const { return !impl_->simulator || impl_->simulator->settled(); }
Store& Sandbox::store() { return impl_->store; }

void Sandbox::closeAllWatches() { impl_->store.closeAllWatches(); }

void Sandbox::expireResourceVersions() { impl_->store.compact(); }

}  // namespace remedy::sandbox
