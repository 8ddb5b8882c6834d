#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

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
  // False once the server has closed the connection.
  bool trySend(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size());
  }
  // Whether the server closes the connection within `limit` (what it
  // sends before is read and dropped).
  bool closedWithin(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (true) {
      // Rounded up: a wait never ends before the deadline.
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
              .count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
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

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Whether `done` comes to hold within `limit`.
bool eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(10000)) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// Sends `byte` on `client` every 50 ms, each read of the server far within
// any per-read timeout, until stopped or the server closes the connection.
class Dripper {
 public:
  Dripper(RawClient& client, std::string byte)
      : thread_([this, &client, byte] {
          while (!stop_ && client.trySend(byte)) std::this_thread::sleep_for(milliseconds(50));
        }) {}
  ~Dripper() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
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

TEST_F(HttpServerTest, HeaderTimeoutEndsAConnectionThatDripsItsHeaderFields) {
  ServerConfig config;
  config.headerTimeout = milliseconds(500);
  startServer(config);  // idleTimeout and requestTimeout: 60 s
  auto start = Clock::now();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n");
  Dripper drip(c, "x");  // a header field that never ends
  EXPECT_TRUE(c.closedWithin(milliseconds(10000)));
  auto took = Clock::now() - start;
  EXPECT_GE(took, milliseconds(500));
  EXPECT_LT(took, milliseconds(5000));
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, HeaderTimeoutEndsAConnectionThatSendsNothing) {
  ServerConfig config;
  config.headerTimeout = milliseconds(300);
  startServer(config);
  auto start = Clock::now();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.closedWithin(milliseconds(10000)));
  EXPECT_GE(Clock::now() - start, milliseconds(300));
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST_F(HttpServerTest, RequestTimeoutEndsARequestThatDripsItsBody) {
  ServerConfig config;
  config.requestTimeout = milliseconds(600);
  startServer(config);  // headerTimeout 10 s
  auto start = Clock::now();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
  Dripper drip(c, "b");  // 1000 bytes would take 50 s
  EXPECT_TRUE(c.closedWithin(milliseconds(10000)));
  auto took = Clock::now() - start;
  EXPECT_GE(took, milliseconds(600));
  EXPECT_LT(took, milliseconds(5000));
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpServerTest, DeadlinesOfALaterRequestCountFromItsFirstByte) {
  ServerConfig config;
  config.headerTimeout = milliseconds(400);
  startServer(config);
  RawClient c(server_->port());
  c.send("GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_NE(c.readUntil("body=").find("GET /one"), std::string::npos);
  // Idle for longer than the header timeout: only idleTimeout (60 s) holds
  // between requests.
  EXPECT_FALSE(c.closedWithin(milliseconds(800)));
  c.send("GET /two HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_NE(c.readUntil("body=").find("GET /two"), std::string::npos);
  auto start = Clock::now();
  c.send("GET /three HTTP/1.1\r\n");
  Dripper drip(c, "x");
  EXPECT_TRUE(c.closedWithin(milliseconds(10000)));
  EXPECT_GE(Clock::now() - start, milliseconds(400));
  EXPECT_EQ(requests_.load(), 2);
}

ServerConfig admittingWithToken() {
  ServerConfig config;
  config.admit = [](const Request& request) -> std::optional<Response> {
    if (request.header("authorization") == "Bearer t0ken") return std::nullopt;
    Response r = Response::text(401, "a token is required\n");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  };
  return config;
}

TEST_F(HttpServerTest, AdmissionRefusesAClientBeforeItsBodyIsRead) {
  startServer(admittingWithToken());
  RawClient c(server_->port());
  // The body never comes: the answer must not wait for it, and no 100
  // Continue invites it.
  c.send(
      "POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\nExpect: "
      "100-continue\r\n\r\n");
  std::string r = c.readUntil("a token is required\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("WWW-Authenticate: Bearer\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
  EXPECT_TRUE(c.closedWithin(milliseconds(5000)));
  EXPECT_EQ(requests_.load(), 0);

  RawClient ok(server_->port());
  ok.send(
      "POST /p HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken\r\nContent-Length: "
      "2\r\n\r\nhi");
  EXPECT_NE(ok.readUntil("body=hi").find("200 OK"), std::string::npos);
  EXPECT_EQ(server_->connections().admitted, 1u);
}

TEST_F(HttpServerTest, ANewConnectionClosesTheOldestPendingOneWhenPendingOnesHoldTheirShare) {
  ServerConfig config = admittingWithToken();
  config.maxConnections = 3;
  config.reservedConnections = 1;  // pending connections: at most 2
  startServer(config);
  RawClient oldest(server_->port());
  ASSERT_TRUE(eventually([&] { return server_->connections().pending == 1; }));
  RawClient second(server_->port());
  second.send("GET / HTTP/1.1\r\n");  // and nothing more for now
  ASSERT_TRUE(eventually([&] { return server_->connections().pending == 2; }));

  auto start = Clock::now();
  RawClient fresh(server_->port());
  fresh.send("GET /fresh HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken\r\n\r\n");
  EXPECT_NE(fresh.readUntil("body=").find("GET /fresh"), std::string::npos);
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  EXPECT_TRUE(oldest.closedWithin(milliseconds(5000)));
  EXPECT_EQ(server_->connections().closedForRoom, 1u);
  // The second one was left alone and may still finish.
  second.send("Host: t\r\nAuthorization: Bearer t0ken\r\n\r\n");
  EXPECT_NE(second.readUntil("body=").find("GET /"), std::string::npos);
  EXPECT_EQ(server_->connections().admitted, 2u);
}

TEST_F(HttpServerTest, AdmittedConnectionsKeepTheirSlots) {
  ServerConfig config = admittingWithToken();
  config.maxConnections = 2;
  config.reservedConnections = 1;  // pending connections: at most 1
  startServer(config);
  RawClient admitted(server_->port());
  admitted.send("GET /a HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken\r\n\r\n");
  EXPECT_NE(admitted.readUntil("body=").find("GET /a"), std::string::npos);
  RawClient pending(server_->port());
  ASSERT_TRUE(eventually([&] { return server_->connections().pending == 1; }));
  // A third connection takes the pending one's slot, not the admitted one's.
  RawClient third(server_->port());
  EXPECT_TRUE(pending.closedWithin(milliseconds(5000)));
  third.send("GET /c HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken\r\n\r\n");
  EXPECT_NE(third.readUntil("body=").find("GET /c"), std::string::npos);
  admitted.send("GET /a2 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken\r\n\r\n");
  EXPECT_NE(admitted.readUntil("body=").find("GET /a2"), std::string::npos);
  // Every slot admitted: a new connection is closed at once.
  ASSERT_TRUE(eventually([&] { return server_->connections().admitted == 2; }));
  RawClient turnedAway(server_->port());
  EXPECT_TRUE(turnedAway.closedWithin(milliseconds(5000)));
  EXPECT_EQ(server_->connections().admitted, 2u);
}
}  // namespace
}  // namespace remedy::http
