// An in-process sandbox API server over HTTPS and clients for it, for the
// integration tests of src/kube. Each test works in its own namespace.
#pragma once

#include "kube/client.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "sandbox/sandbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace remedy::kube::testing {

// Polls `condition` until it holds or `timeout` passes (never a fixed sleep).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class SandboxTest : public ::testing::Test {
 protected:
  static sandbox::SandboxOptions defaultOptions() {
    sandbox::SandboxOptions o;
    o.bookmarkInterval = std::chrono::milliseconds(300);
    return o;
  }

  void SetUp() override { startSandbox(defaultOptions()); }

  void startSandbox(sandbox::SandboxOptions options) {
    sandbox_ = std::make_unique<sandbox::Sandbox>(options);
    auto error = sandbox_->start();
    ASSERT_FALSE(error.has_value()) << *error;
    client_ = newClient();
    ASSERT_NE(client_, nullptr);
    namespace_ = "t-" + std::to_string(counter()++);
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespace_}}}};
    auto created = client_->create(resources::namespaces(), "", ns);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  void TearDown() override {
    client_.reset();
    if (sandbox_) sandbox_->stop();
  }

  // Admin access over HTTPS, verifying the sandbox CA; unthrottled unless
  // the test says otherwise.
  Config adminConfig() const {
    Config c;
    c.server = sandbox_->url();
    c.caPem = sandbox_->caCertificatePem();
    c.bearerToken = sandbox_->adminToken();
    c.qps = 0;
    c.origin = "test sandbox";
    return c;
  }

  std::unique_ptr<RestClient> newClient(const Config& config) {
    auto c = RestClient::fromConfig(config);
    EXPECT_TRUE(c.ok()) << c.status().toString();
    return c.ok() ? std::move(c.value()) : nullptr;
  }
  std::unique_ptr<RestClient> newClient() { return newClient(adminConfig()); }

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

  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::unique_ptr<RestClient> client_;
  std::string namespace_;
};

}  // namespace remedy::kube::testing
