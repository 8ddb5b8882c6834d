// A real Prometheus (/usr/bin/prometheus, the Debian package) for tests: on a
// free loopback port, with its TSDB in a TempDir, scraping itself every
// second and evaluating the given recording rules every second. start()
// returns once /-/ready answers 200 and every rule's series exists.
#pragma once

#include "child_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace remedy::testing {

inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";

// One HTTP/1.0 GET on 127.0.0.1:port (the server closes the connection after
// the answer). Returns "" when nothing answered within 2 seconds.
inline std::string loopbackHttpGet(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n = 0;
      while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) answer.append(buffer, size_t(n));
    }
  }
  ::close(fd);
  return answer;
}

struct RecordingRule {
  std::string record;  // the series name, such as "remedy_test_value"
  std::string expr;    // PromQL, such as "vector(3)"
};

class PrometheusServer {
 public:
  explicit PrometheusServer(std::vector<RecordingRule> rules = {{"remedy_test_value", "vector(3)"}})
      : rules_(std::move(rules)) {}
  ~PrometheusServer() { process_.stop(); }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  static bool installed() { return ::access(kPrometheusBinary, X_OK) == 0; }

  // Empty on success, else what went wrong (with the end of Prometheus's log).
  std::string start(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    dir_ = std::make_unique<TempDir>("remedy-prometheus");
    // The port is free when chosen but could be taken before Prometheus binds
    // it: try another one then.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = freeLoopbackPort();
      writeFiles();
      ProcessOptions options;
      options.argv = {kPrometheusBinary, "--config.file=" + dir_->path() + "/prometheus.yml",
                      "--storage.tsdb.path=" + dir_->path() + "/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                      "--log.level=warn"};
      options.workingDirectory = dir_->path();
      options.logPath = dir_->path() + "/prometheus.log";
      process_.start(options);
      bool ready = waitUntil(
          [&] {
            if (!process_.running()) return true;
            std::string answer = loopbackHttpGet(port_, "/-/ready");
            return answer.size() > 12 && answer.rfind("HTTP/1.", 0) == 0 &&
                   answer.compare(9, 3, "200") == 0;
          },
          timeout);
      if (!process_.running()) continue;
      if (!ready) return "Prometheus not ready within the timeout: " + logTail();
      for (const auto& rule : rules_) {
        bool exists = waitUntil(
            [&] {
              std::string answer = loopbackHttpGet(port_, "/api/v1/query?query=" + rule.record);
              return answer.find("\"result\":[{") != std::string::npos;
            },
            timeout);
        if (!exists) return "the series " + rule.record + " never appeared: " + logTail();
      }
      return "";
    }
    return "Prometheus did not start: " + logTail();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string logTail() const {
    std::string log = process_.log();
    return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
  }

 private:
  void writeFiles() {
    // An expr must not contain a single quote (YAML single-quoted string).
    std::ofstream rules(dir_->path() + "/rules.yml");
    rules << "groups:\n  - name: remedy-test\n    interval: 1s\n    rules:\n";
    for (const auto& rule : rules_) {
      rules << "      - record: " << rule.record << "\n        expr: '" << rule.expr << "'\n";
    }
    std::ofstream config(dir_->path() + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           << "rule_files:\n  - " << dir_->path() << "/rules.yml\n"
           << "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
           << "      - targets: ['127.0.0.1:" << port_ << "']\n";
  }

  std::vector<RecordingRule> rules_;
  std::unique_ptr<TempDir> dir_;
  ChildProcess process_;
  int port_ = 0;
};

}  // namespace remedy::testing
