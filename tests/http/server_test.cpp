#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace remedy::http {
namespace {

// A raw HTTP/1.1 client over one connection, so the tests see exactly what
// the server writes.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), 0), ssize_t(s.size()));
  }
  // Reads until `needle` appears or the peer closes.
  std::string readUntil(const std::string& needle) {
    char buf[4096];
    while (buffer_.find(needle) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      buffer_.append(buf, size_t(n));
    }
    auto pos = buffer_.find(needle);
    std::string out = pos == std::string::npos ? buffer_ : buffer_.substr(0, pos + needle.size());
    buffer_.erase(0, out.size());
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void startServer(ServerConfig config = {}) {
    server_ = std::make_unique<HttpServer>(config, [this](const Request& req, Responder& resp) {
      ++requests_;
      if (req.path == "/stream") {
        auto& s = resp.startStream(200, {{"Content-Type", "application/json"}});
        s.write("{\"n\":1}\n");
        s.write("{\"n\":2}\n");
        return;
      }
      std::string echo =
          req.method + " " + req.path + " q=" + req.param("q").value_or("-") + " body=" + req.body;
      resp.send(Response::text(200, echo));
    });
    ASSERT_FALSE(server_->start().has_value());
  }
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> requests_{0};
};

TEST_F(HttpServerTest, AnswersWithContentLengthAndKeepsTheConnectionAlive) {
  startServer();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.send("GET /a%20b?q=x%2By HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string r1 = c.readUntil("body=");
  EXPECT_NE(r1.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(r1.find("Content-Length: "), std::string::npos);
  EXPECT_NE(r1.find("GET /a b q=x+y"), std::string::npos);
  c.send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(c.readUntil("body=hello").find("POST /p"), std::string::npos);
  EXPECT_EQ(requests_.load(), 2);
}

TEST_F(HttpServerTest, ReadsChunkedRequestBodies) {
  startServer();
  RawClient c(server_->port());
  c.send(
      "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_NE(c.readUntil("body=abcde").find("body=abcde"), std::string::npos);
}

// Regression: "-1" passed std::stoul and the body limit.
TEST_F(HttpServerTest, RefusesANegativeChunkSizeWith400AndCloses) {
  startServer();
  RawClient c(server_->port());
  c.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n");
  std::string r = c.readUntil("never");
  EXPECT_NE(r.find("HTTP/1.1 400 Bad Request"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, StreamsChunkedResponsesAndTerminatesThem) {
  startServer();
  RawClient c(server_->port());
  c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string r = c.readUntil("0\r\n\r\n");
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(r.find("8\r\n{\"n\":1}\n\r\n"), std::string::npos);
  EXPECT_NE(r.find("8\r\n{\"n\":2}\n\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, RefusesBodiesOverTheLimitWith413BeforeReadingThem) {
  ServerConfig config;
  config.maxBodyBytes = 10;
  startServer(config);
  RawClient c(server_->port());
  c.send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
  EXPECT_NE(c.readUntil("\r\n\r\n").find("413"), std::string::npos);
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, RefusesOversizedHeadersWith431) {
  ServerConfig config;
  config.maxHeaderBytes = 256;
  startServer(config);
  RawClient c(server_->port());
  c.send("GET / HTTP/1.1\r\nX-Long: " + std::string(1000, 'a') + "\r\n\r\n");
  EXPECT_NE(c.readUntil("\r\n\r\n").find("431"), std::string::npos);
}

TEST_F(HttpServerTest, StopEndsOpenConnections) {
  startServer();
  RawClient c(server_->port());
  c.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
  c.readUntil("body=");
  server_->stop();
  EXPECT_EQ(c.readUntil("never"), "");
}

}  // namespace
}  // namespace remedy::http
