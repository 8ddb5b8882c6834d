// The webhook against clients that hold connections without finishing a
// request: the token is checked before the body is read, each request has a
// deadline for its header fields and one for the whole, and slots are kept
// for authenticated clients, so slow-drip connections cannot keep
// Alertmanager out.
#include "intake_fixture.h"

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace remedy::intake::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Connections that send a request line and then one byte of a header field
// every 100 ms, never ending it, each byte far within any per-read timeout.
class SlowDrip {
 public:
  SlowDrip(uint16_t port, int connections) {
    for (int i = 0; i < connections; ++i) {
      int fd = connectLoopback(port);
      if (fd < 0) continue;
      std::string start = "POST /api/v1/alerts HTTP/1.1\r\nHost: remedy\r\nX-Drip: ";
      if (::send(fd, start.data(), start.size(), MSG_NOSIGNAL) == ssize_t(start.size())) {
        fds_.push_back(fd);
      } else {
        ::close(fd);
      }
    }
    thread_ = std::thread([this] {
      while (!stop_) {
        for (int fd : fds_) ::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        std::this_thread::sleep_for(milliseconds(100));
      }
    });
  }
  ~SlowDrip() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) ::close(fd);
  }
  size_t opened() const { return fds_.size(); }
  // How many of them the server has closed.
  size_t closedByServer() const {
    size_t closed = 0;
    for (int fd : fds_) {
      pollfd p{fd, POLLIN, 0};
      char c;
      if (::poll(&p, 1, 0) > 0 && ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0) ++closed;
    }
    return closed;
  }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(IntakeTest, SixtyFourSlowDripConnectionsDoNotKeepAlertmanagerOut) {
  // The defaults: 64 connections, 16 of them for authenticated clients, 10 s
  // for the header fields (longer than the 5 s Alertmanager is given here:
  // the reserved slots, not the deadline, let it in).
  AlertIntakeServerOptions so = serverOptions();
  ASSERT_EQ(so.maxConnections, 64u);
  ASSERT_EQ(so.reservedConnections, 16u);
  ASSERT_EQ(so.headerTimeout, std::chrono::seconds(10));
  startIntake(intakeOptions(), so);

  SlowDrip drip(server_->port(), 64);
  ASSERT_EQ(drip.opened(), 64u);
  // Every slot unauthenticated clients may hold is held (48), the 16 extra
  // connections having each closed an older one.
  ASSERT_TRUE(eventually([&] {
    auto c = server_->connections();
    return c.pending == 48 && c.closedForRoom == 16;
  }));

  auto start = Clock::now();
  auto answer = post(payload({alert("KubePodCrashLooping", {{"pod", "web-1"}})}));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_EQ(answer.code, 200) << answer.body;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(incidents().size(), 1u);
  auto c = server_->connections();
  std::printf(
      "64 slow-drip connections: Alertmanager's POST answered %d in %lld ms; %zu drip "
      "connections closed for room, %zu still pending\n",
      answer.code, static_cast<long long>(took.count()), c.closedForRoom, c.pending);
  // Alertmanager's connection took the slot of the oldest drip connection.
  EXPECT_EQ(c.closedForRoom, 17u);
  EXPECT_TRUE(eventually([&] { return drip.closedByServer() == 17; }));
}

TEST_F(IntakeTest, TheTokenIsCheckedBeforeTheBodyIsRead) {
  startIntake();
  // A body announced and never sent: the 401 comes at once instead of after
  // the request deadline.
  auto start = Clock::now();
  auto wrong = httpRequest(server_->port(), "POST", AlertIntake::kPath,
                           {{"Content-Type", "application/json"},
                            {"Authorization", "Bearer not-the-token"},
                            {"Expect", "100-continue"}},
                           std::string(100000, ' '), /*sendBody=*/false);
  EXPECT_EQ(wrong.code, 401) << wrong.body;
  EXPECT_EQ(wrong.message(), "the bearer token is not valid");
  EXPECT_EQ(wrong.body.find("not-the-token"), std::string::npos);
  auto missing = httpRequest(server_->port(), "POST", AlertIntake::kPath,
                             {{"Content-Type", "application/json"}}, std::string(1000, ' '),
                             /*sendBody=*/false);
  EXPECT_EQ(missing.code, 401) << missing.body;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(metric("remedy_intake_requests_total", "code", "401"), 2);
  EXPECT_EQ(metric("remedy_intake_requests_refused_total", "reason", "unauthorized"), 2);
  EXPECT_EQ(server_->connections().admitted, 0u);
}

TEST_F(IntakeTest, ARequestSlowerThanItsDeadlineIsDropped) {
  AlertIntakeServerOptions so = serverOptions();
  so.headerTimeout = milliseconds(300);
  so.requestTimeout = milliseconds(600);
  startIntake(intakeOptions(), so);
  auto start = Clock::now();
  SlowDrip drip(server_->port(), 2);
  ASSERT_EQ(drip.opened(), 2u);
  EXPECT_TRUE(eventually([&] { return drip.closedByServer() == 2; }));
  EXPECT_GE(Clock::now() - start, milliseconds(300));
  EXPECT_EQ(post(payload({alert("A")})).code, 200);
}

TEST_F(IntakeTest, ServerRefusesToStartWithoutSlotsForUnauthenticatedClients) {
  AlertIntakeServerOptions so = serverOptions();
  so.maxConnections = 8;
  so.reservedConnections = 8;
  AlertIntakeServer server(*client_, registry_, intakeOptions(), so);
  auto error = server.start();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("reservedConnections (8) must be fewer than maxConnections (8)"),
            std::string::npos)
      << *error;
}

}  // namespace
}  // namespace remedy::intake::testing
