#include "http/client.h"
#include "http/certificates.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

namespace remedy::http {
namespace {

// A free loopback port nobody listens on.
uint16_t unusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class HttpClientTest : public ::testing::Test {
 protected:
  void start(std::optional<TlsConfig> tls = std::nullopt) {
    ServerConfig config;
    config.tls = std::move(tls);
    server_ = std::make_unique<HttpServer>(config, [this](const Request& req, Responder& resp) {
      if (req.path == "/slow") {
        std::unique_lock<std::mutex> lock(mu_);
        released_.wait(lock, [&] { return release_; });
      }
      if (req.path == "/stream") {
        auto& stream = resp.startStream(200, {{"Content-Type", "text/plain"}});
        stream.write("one,");
        stream.write("two");
        return;
      }
      if (req.path == "/big") {
        resp.send(Response::text(200, std::string(100000, 'x')));
        return;
      }
      resp.send(Response::json(201, "{\"method\":\"" + req.method + "\",\"body\":\"" + req.body +
                                        "\",\"query\":\"" + req.rawQuery + "\"}"));
    });
    auto error = server_->start();
    ASSERT_FALSE(error.has_value()) << *error;
  }
  void TearDown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      release_ = true;
    }
    released_.notify_all();
    if (server_) server_->stop();
  }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return std::string(server_->tls() ? "https" : "http") + "://" + host + ":" +
           std::to_string(server_->port()) + path;
  }

  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::condition_variable released_;
  bool release_ = false;
};

TEST_F(HttpClientTest, PostsABodyAndReadsTheAnswer) {
  start();
  ClientRequest request;
  request.url = url("/review?timeout=10s");
  request.body = "hello";
  request.headers = {{"Content-Type", "application/json"}};
  auto result = sendRequest(request);
  ASSERT_TRUE(result.response) << result.error;
  EXPECT_EQ(result.response->status, 201);
  EXPECT_EQ(result.response->headers["content-type"], "application/json");
  EXPECT_EQ(result.response->body,
            "{\"method\":\"POST\",\"body\":\"hello\",\"query\":\"timeout=10s\"}");
}

TEST_F(HttpClientTest, ReadsChunkedAnswers) {
  start();
  ClientRequest request;
  request.method = "GET";
  request.url = url("/stream");
  auto result = sendRequest(request);
  ASSERT_TRUE(result.response) << result.error;
  EXPECT_EQ(result.response->body, "one,two");
}

TEST_F(HttpClientTest, RefusedConnectionsAreDescribedAsGoDoes) {
  uint16_t port = unusedPort();
  ClientRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(port) + "/x";
  auto result = sendRequest(request);
  EXPECT_FALSE(result.response);
  EXPECT_EQ(result.error,
            "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
}

TEST_F(HttpClientTest, GivesUpAtTheDeadline) {
  start();
  ClientRequest request;
  request.url = url("/slow");
  request.timeout = std::chrono::milliseconds(300);
  auto began = std::chrono::steady_clock::now();
  auto result = sendRequest(request);
  EXPECT_FALSE(result.response);
  EXPECT_EQ(result.error, "context deadline exceeded");
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
}

TEST_F(HttpClientTest, AnswersOverTheLimitAreErrors) {
  start();
  ClientRequest request;
  request.method = "GET";
  request.url = url("/big");
  request.maxResponseBytes = 1000;
  auto result = sendRequest(request);
  EXPECT_FALSE(result.response);
  EXPECT_EQ(result.error, "the response is larger than 1000 bytes");
}

TEST_F(HttpClientTest, VerifiesTheServerAgainstTheGivenCaAndItsAddress) {
  CertificateAuthority ca("test-ca");
  KeyPair serving = ca.issueServer("webhook", {"localhost"}, {"127.0.0.1"});
  start(TlsConfig{serving.certificatePem, serving.privateKeyPem, "", false});
  ClientRequest request;
  request.url = url("/ok");
  request.caPem = ca.ca().certificatePem;
  auto trusted = sendRequest(request);
  ASSERT_TRUE(trusted.response) << trusted.error;
  EXPECT_EQ(trusted.response->status, 201);

  request.url = url("/ok", "localhost");
  auto byName = sendRequest(request);
  ASSERT_TRUE(byName.response) << byName.error;

  CertificateAuthority other("other-ca");
  request.url = url("/ok");
  request.caPem = other.ca().certificatePem;
  auto untrusted = sendRequest(request);
  EXPECT_FALSE(untrusted.response);
  EXPECT_EQ(untrusted.error,
            "tls: failed to verify certificate: x509: certificate signed by unknown authority");
}

TEST_F(HttpClientTest, RefusesACertificateForAnotherAddress) {
  CertificateAuthority ca("test-ca");
  KeyPair serving = ca.issueServer("webhook", {"webhook.example"}, {"10.0.0.1"});
  start(TlsConfig{serving.certificatePem, serving.privateKeyPem, "", false});
  ClientRequest request;
  request.url = url("/ok");
  request.caPem = ca.ca().certificatePem;
  auto result = sendRequest(request);
  EXPECT_FALSE(result.response);
  EXPECT_EQ(result.error,
            "tls: failed to verify certificate: x509: certificate is not valid for the requested "
            "host");
}

TEST_F(HttpClientTest, AReloadedCertificateServesNewConnections) {
  CertificateAuthority first("first-ca");
  CertificateAuthority second("second-ca");
  KeyPair a = first.issueServer("webhook", {}, {"127.0.0.1"});
  KeyPair b = second.issueServer("webhook", {}, {"127.0.0.1"});
  start(TlsConfig{a.certificatePem, a.privateKeyPem, "", false});
  ClientRequest request;
  request.url = url("/ok");
  request.caPem = second.ca().certificatePem;
  EXPECT_FALSE(sendRequest(request).response);
  auto error = server_->reloadTls(TlsConfig{b.certificatePem, b.privateKeyPem, "", false});
  ASSERT_FALSE(error.has_value()) << *error;
  auto result = sendRequest(request);
  ASSERT_TRUE(result.response) << result.error;
  EXPECT_TRUE(server_->reloadTls(TlsConfig{"not a certificate", "", "", false}).has_value());
  EXPECT_TRUE(sendRequest(request).response) << "a failed reload keeps the certificate";
}

TEST(CertificateInfo, ReadsValidityAndSubjectAltNames) {
  CertificateAuthority ca("test-ca");
  KeyPair serving = ca.issueServer("remedy", {"remedy.remedy-system.svc"}, {"127.0.0.1", "::1"});
  CertificateInfo info = inspectCertificate(serving.certificatePem);
  ASSERT_TRUE(info.valid);
  EXPECT_EQ(info.commonName, "remedy");
  EXPECT_EQ(info.dnsNames, std::vector<std::string>{"remedy.remedy-system.svc"});
  EXPECT_EQ(info.ipAddresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_GT(info.notAfter, std::chrono::system_clock::now() + std::chrono::hours(24 * 365));
  EXPECT_LT(info.notBefore, std::chrono::system_clock::now());
  EXPECT_TRUE(issuedBy(serving, ca.ca().certificatePem));
  EXPECT_FALSE(issuedBy(serving, CertificateAuthority("other").ca().certificatePem));
  KeyPair mismatched{serving.certificatePem, ca.issueServer("x", {}, {}).privateKeyPem};
  EXPECT_FALSE(issuedBy(mismatched, ca.ca().certificatePem));
  EXPECT_FALSE(inspectCertificate("garbage").valid);
}

}  // namespace
}  // namespace remedy::http
