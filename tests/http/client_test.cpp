#include "http/client.h"
#include "http/certificates.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
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

// One kept-alive TLS connection, as a Kubernetes client keeps to its API
// server (the server's certificate is not checked: not what is tested).
class KeptAliveTlsClient {
 public:
  explicit KeptAliveTlsClient(uint16_t port) : ctx_(SSL_CTX_new(TLS_client_method())) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    connected_ = connected_ && SSL_connect(ssl_) == 1;
  }
  ~KeptAliveTlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool connected() const { return connected_; }

  // The status line of the answer to a GET of `path`, "" when the
  // connection ended first.
  std::string get(const std::string& path) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) return "";
    std::string in;
    char buf[4096];
    size_t headerEnd = std::string::npos;
    size_t length = 0;
    while (headerEnd == std::string::npos || in.size() < headerEnd + 4 + length) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return "";
      in.append(buf, static_cast<size_t>(n));
      if (headerEnd == std::string::npos &&
          (headerEnd = in.find("\r\n\r\n")) != std::string::npos) {
        size_t at = in.find("Content-Length: ");
        if (at != std::string::npos && at < headerEnd) length = std::stoul(in.substr(at + 16));
      }
    }
    return in.substr(0, in.find("\r\n"));
  }

  // Whether the server ends the connection (or sends anything unasked)
  // within `wait`.
  bool endedWithin(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
};

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
      if (req.path == "/stale-openssl-error") {
        // A handler that used OpenSSL and left the reason of a failure on
        // its thread's error queue, as a refused certificate does.
        ERR_raise(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED);
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

TEST_F(HttpClientTest, ARefusedCertificateLeavesTheCallersOpenSslErrorQueueEmpty) {
  CertificateAuthority ca("test-ca");
  KeyPair serving = ca.issueServer("webhook", {}, {"127.0.0.1"});
  start(TlsConfig{serving.certificatePem, serving.privateKeyPem, "", false});
  CertificateAuthority other("other-ca");
  ClientRequest request;
  request.url = url("/ok");
  request.caPem = other.ca().certificatePem;
  ASSERT_FALSE(sendRequest(request).response);
  // The sandbox calls webhooks on the thread that serves its own TLS
  // clients; a reason left queued there would be taken for theirs.
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

// The sandbox's handlers call webhooks over TLS on the thread that serves
// the client's connection; what OpenSSL left queued on that thread must not
// end the client's kept-alive connection while the server waits for its
// next request.
TEST_F(HttpClientTest, AnOpenSslErrorLeftByAHandlerDoesNotEndAKeptAliveConnection) {
  CertificateAuthority ca("test-ca");
  KeyPair serving = ca.issueServer("api", {}, {"127.0.0.1"});
  start(TlsConfig{serving.certificatePem, serving.privateKeyPem, "", false});
  KeptAliveTlsClient client(server_->port());
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.get("/stale-openssl-error"), "HTTP/1.1 201 Created");
  // The server now waits for the next request on an empty socket: where it
  // took the stale reason for a failed read, it closed at once.
  EXPECT_FALSE(client.endedWithin(std::chrono::milliseconds(300)));
  EXPECT_EQ(client.get("/ok"), "HTTP/1.1 201 Created");
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
