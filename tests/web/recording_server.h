// A webhook for the web action tests: src/http's HttpServer on a free
// loopback port (HTTP or HTTPS), recording every request and answering as the
// test says, including not at all (a stall) until the test ends.
#pragma once

#include "actions/egress_policy.h"
#include "http/server.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace remedy::actions::testing {

// The egress policy of these tests: their servers listen on 127.0.0.1, a
// loopback address the default policy denies, opened by its own CIDR.
inline std::shared_ptr<const EgressRules> loopbackEgress() {
  std::string error;
  auto rules = EgressRules::make({{"127.0.0.1/32"}, {}}, &error);
  EXPECT_TRUE(rules.has_value()) << error;
  return std::make_shared<const EgressRules>(rules.value_or(EgressRules()));
}

class RecordingServer {
 public:
  using Reply = std::function<void(const http::Request&, http::Responder&)>;

  explicit RecordingServer(std::optional<http::TlsConfig> tls = std::nullopt) {
    http::ServerConfig config;
    config.tls = std::move(tls);
    config.name = "webhook";
    server_ = std::make_unique<http::HttpServer>(
        config, [this](const http::Request& request, http::Responder& responder) {
          Reply reply;
          {
            std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(request);
            reply = reply_;
          }
          if (reply) {
            reply(request, responder);
          } else {
            responder.send(http::Response::text(200, "ok"));
          }
        });
    auto error = server_->start();
    EXPECT_FALSE(error.has_value()) << *error;
  }

  ~RecordingServer() {
    release();
    server_->stop();
  }

  // How to answer from now on.
  void reply(Reply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    reply_ = std::move(reply);
  }
  void replyWith(int status, std::string body, std::string contentType = "text/plain") {
    reply([=](const http::Request&, http::Responder& responder) {
      http::Response r;
      r.status = status;
      r.body = body;
      r.headers.emplace_back("Content-Type", contentType);
      responder.send(r);
    });
  }

  // Blocks the calling handler until the test ends (or release()).
  void waitForRelease() {
    std::unique_lock<std::mutex> lock(mu_);
    released_cv_.wait(lock, [&] { return released_; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    released_cv_.notify_all();
  }

  std::vector<http::Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  std::string url(const std::string& target = "/hook") const {
    return std::string(server_->tls() ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(server_->port()) + target;
  }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;  // guards everything below
  std::vector<http::Request> requests_;
  Reply reply_;
  bool released_ = false;
  std::condition_variable released_cv_;
};

}  // namespace remedy::actions::testing
