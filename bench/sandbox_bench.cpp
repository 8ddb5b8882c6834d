// Sandbox benchmark: GET and PATCH requests per second over loopback
// keep-alive connections, and watch event delivery latency with many
// watchers. The workload is fixed; see bench/README.md for the figures.
//
// usage: sandbox_bench [--requests N] [--clients N] [--watchers N] [--events N]
#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

// A minimal keep-alive HTTP/1.1 client, so the figures measure the server.
class Connection {
 public:
  Connection(uint16_t port, std::string token) : token_(std::move(token)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }

  int request(const std::string& method, const std::string& path, const std::string& body = "",
              const std::string& contentType = "application/json") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " +
                      token_ + "\r\nAccept: application/json\r\n";
    if (!body.empty()) {
      req += "Content-Type: " + contentType + "\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    req += "\r\n" + body;
    sendAll(req);
    return readResponse();
  }

  void startWatch(const std::string& path) {
    sendAll("GET " + path + " HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token_ +
            "\r\n\r\n");
    readHeaders();
  }

  // Reads one newline-terminated watch event from the chunked stream.
  std::string nextLine() {
    while (true) {
      auto nl = decoded_.find('\n');
      if (nl != std::string::npos) {
        std::string line = decoded_.substr(0, nl);
        decoded_.erase(0, nl + 1);
        return line;
      }
      // One chunk: size line, data, CRLF.
      std::string sizeLine = readLine();
      size_t size = std::stoul(sizeLine, nullptr, 16);
      if (size == 0) return "";
      fill(size + 2);
      decoded_.append(buf_, 0, size);
      buf_.erase(0, size + 2);
    }
  }

 private:
  void sendAll(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) std::exit(1);
      off += size_t(n);
    }
  }
  void fill(size_t n) {
    char tmp[65536];
    while (buf_.size() < n) {
      ssize_t r = ::recv(fd_, tmp, sizeof tmp, 0);
      if (r <= 0) std::exit(1);
      buf_.append(tmp, size_t(r));
    }
  }
  std::string readLine() {
    size_t pos;
    while ((pos = buf_.find("\r\n")) == std::string::npos) fill(buf_.size() + 1);
    std::string line = buf_.substr(0, pos);
    buf_.erase(0, pos + 2);
    return line;
  }
  std::pair<int, size_t> readHeaders() {
    std::string status = readLine();
    int code = std::stoi(status.substr(9, 3));
    size_t length = 0;
    for (std::string h; !(h = readLine()).empty();) {
      if (strncasecmp(h.c_str(), "content-length:", 15) == 0) length = std::stoul(h.substr(15));
    }
    return {code, length};
  }
  int readResponse() {
    auto [code, length] = readHeaders();
    fill(length);
    buf_.erase(0, length);
    return code;
  }

  int fd_;
  std::string token_;
  std::string buf_;
  std::string decoded_;
};

struct Options {
  int requests = 20000;
  int clients = 4;
  int watchers = 100;
  int events = 200;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

void runRequests(const char* label, uint16_t port, const std::string& token, const Options& o,
                 const std::function<int(Connection&, int)>& one) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&] {
      Connection conn(port, token);
      for (int i; (i = next++) < o.requests;) {
        int code = one(conn, i);
        if (code >= 300) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%-6s %d requests, %d clients: %.0f requests/s (%d failed)\n", label, o.requests,
              o.clients, o.requests / secs, failures.load());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (f == "--requests") o.requests = v;
    if (f == "--clients") o.clients = v;
    if (f == "--watchers") o.watchers = v;
    if (f == "--events") o.events = v;
  }
  remedy::sandbox::SandboxOptions so;
  so.tls = false;
  remedy::sandbox::Sandbox sb(so);
  if (auto err = sb.start()) {
    std::fprintf(stderr, "%s\n", err->c_str());
    return 1;
  }
  uint16_t port = sb.port();
  std::string token = sb.adminToken();
  {
    Connection c(port, token);
    for (int i = 0; i < 100; ++i) {
      json cm = {{"metadata", {{"name", "cm-" + std::to_string(i)}}},
                 {"data", {{"key", std::string(512, 'x')}}}};
      c.request("POST", "/api/v1/namespaces/default/configmaps", cm.dump());
    }
  }
  std::printf("sandbox benchmark (plain HTTP on loopback, ConfigMaps of ~0.6 KiB)\n");
  runRequests("GET", port, token, o, [](Connection& c, int i) {
    return c.request("GET", "/api/v1/namespaces/default/configmaps/cm-" + std::to_string(i % 100));
  });
  runRequests("PATCH", port, token, o, [](Connection& c, int i) {
    json patch = {{"data", {{"n", std::to_string(i)}}}};
    return c.request("PATCH", "/api/v1/namespaces/default/configmaps/cm-" + std::to_string(i % 100),
                     patch.dump(), "application/merge-patch+json");
  });

  // Watch latency: each event carries its send time in an annotation-free
  // field; every watcher records receipt time minus write time.
  std::mutex mu;
  std::vector<double> latencies;
  std::map<std::string, Clock::time_point> sentAt;
  std::atomic<int> ready{0};
  std::vector<std::thread> watchers;
  for (int w = 0; w < o.watchers; ++w) {
    watchers.emplace_back([&] {
      Connection c(port, token);
      c.startWatch(
          "/api/v1/namespaces/default/"
          "configmaps?watch=true&fieldSelector=metadata.name%3Dprobe&resourceVersion=" +
          std::to_string(sb.store().currentResourceVersion()));
      ++ready;
      for (int received = 0; received < o.events - 1;) {
        std::string line = c.nextLine();
        if (line.empty()) break;
        auto now = Clock::now();
        json e = json::parse(line);
        std::string seq = e["object"]["data"].value("seq", "");
        std::lock_guard<std::mutex> lock(mu);
        auto it = sentAt.find(seq);
        if (it == sentAt.end()) continue;
        latencies.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
        ++received;
      }
    });
  }
  while (ready < o.watchers) std::this_thread::yield();
  {
    Connection c(port, token);
    c.request("POST", "/api/v1/namespaces/default/configmaps",
              json{{"metadata", {{"name", "probe"}}}, {"data", {{"seq", "-1"}}}}.dump());
    for (int i = 0; i < o.events - 1; ++i) {
      std::string seq = std::to_string(i);
      {
        std::lock_guard<std::mutex> lock(mu);
        sentAt[seq] = Clock::now();
      }
      c.request("PATCH", "/api/v1/namespaces/default/configmaps/probe",
                json{{"data", {{"seq", seq}}}}.dump(), "application/merge-patch+json");
      // Pace the writes so latency, not queueing, is measured.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  sb.closeAllWatches();
  for (auto& t : watchers) t.join();
  std::printf(
      "WATCH  %d watchers, %d events: delivery latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      o.watchers, o.events - 1, percentile(latencies, 0.5), percentile(latencies, 0.99),
      percentile(latencies, 1.0));
  sb.stop();
  return 0;
}
