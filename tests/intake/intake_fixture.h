// An in-process sandbox with the Remedy CRDs, an AlertIntakeServer on a
// free loopback port in front of it, and a small HTTP/1.1 client over a TCP
// socket (curl for HTTPS), so the tests send what Alertmanager sends.
#pragma once

#include "../kube/sandbox_fixture.h"
#include "../support/child_process.h"
#include "api/yaml_json.h"
#include "intake/alert_intake.h"
#include "intake/alert_intake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace remedy::intake::testing {

using json = nlohmann::json;
using kube::testing::eventually;

struct HttpAnswer {
  int code = 0;                                // 0: no HTTP answer
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  json bodyJson() const {
    json j = json::parse(body, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }
  std::string message() const { return bodyJson().value("message", body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\nbody".
inline HttpAnswer parseHttpAnswer(const std::string& raw) {
  HttpAnswer a;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return a;
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  a.code = std::atoi(line.substr(9, 3).c_str());
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    a.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  a.body = raw.substr(end + 4);
  return a;
}

// A connected socket to 127.0.0.1:port, or -1.
inline int connectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One request on a new connection ("Connection: close"), read to the end.
// With sendBody false only the headers go out (for a body the server
// refuses by its Content-Length).
inline HttpAnswer httpRequest(uint16_t port, const std::string& method, const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, bool sendBody = true) {
  int fd = connectLoopback(port);
  if (fd < 0) return {};
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (sendBody) request += body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parseHttpAnswer(raw);
}

// The value of a counter (or a histogram's sample count) with one label,
// read back from the registry as a scrape would.
inline double metricValue(prometheus::Registry& registry, const std::string& name,
                          const std::string& label = "", const std::string& value = "") {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      bool match = label.empty();
      for (const auto& l : m.label) match = match || (l.name == label && l.value == value);
      if (!match) continue;
      if (family.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(m.histogram.sample_count);
      }
      return m.counter.value;
    }
  }
  return 0;
}

class IntakeTest : public kube::testing::SandboxTest {
 protected:
  static constexpr const char* kToken = "alertmanager-s3cret-7f1c9e";

  void SetUp() override {
    SandboxTest::SetUp();
    if (HasFatalFailure()) return;
    installCrds();
    dir_ = std::make_unique<remedy::testing::TempDir>("intake-test");
    tokenFile_ = dir_->path() + "/token";
    writeToken(kToken);
  }

  void TearDown() override {
    // Before client_ goes: the informers use it.
    server_.reset();
    extraInformer_.reset();
    extraClient_.reset();
    SandboxTest::TearDown();
  }

  void installCrds() {
    for (const char* kind : {"runbooks", "incidents", "approvals"}) {
      std::ifstream in(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml");
      std::stringstream text;
      text << in.rdbuf();
      auto crd = api::yamlToJson(text.str());
      ASSERT_TRUE(crd.ok()) << crd.error();
      auto created = client_->create(kube::resources::customResourceDefinitions(), "", *crd);
      ASSERT_TRUE(created.ok()) << created.status().toString();
    }
    ASSERT_TRUE(eventually([&] { return client_->list(incidentsResource(), namespace_).ok(); }));
  }

  void writeToken(const std::string& token) {
    std::ofstream(tokenFile_ + ".new") << token << "\n";
    ASSERT_EQ(std::rename((tokenFile_ + ".new").c_str(), tokenFile_.c_str()), 0);
  }

  AlertIntakeOptions intakeOptions() const {
    AlertIntakeOptions o;
    o.bearerTokenFile = tokenFile_;
    o.defaultNamespace = namespace_;
    return o;
  }

  AlertIntakeServerOptions serverOptions() const {
    AlertIntakeServerOptions o;
    o.bindAddress = "127.0.0.1";
    o.port = 0;
    return o;
  }

  // Waits until the intake's informer has listed, unless `client` (which
  // may not reach any server) is given or the informer is the test's.
  void startIntake(AlertIntakeOptions options, AlertIntakeServerOptions serverOptions,
                   kube::Client* client = nullptr) {
    bool wait = !client && !options.incidentInformer;
    server_ = std::make_unique<AlertIntakeServer>(client ? *client : *client_, registry_,
                                                  std::move(options), std::move(serverOptions));
    auto error = server_->start();
    ASSERT_FALSE(error.has_value()) << *error;
    if (wait) {
      ASSERT_TRUE(server_->intake().waitUntilReady(std::chrono::seconds(30)));
    }
  }
  void startIntake(AlertIntakeOptions options) { startIntake(std::move(options), serverOptions()); }
  void startIntake() { startIntake(intakeOptions()); }

  HttpAnswer post(const json& payload, const std::string& token = kToken) {
    return post(payload.dump(), token);
  }
  HttpAnswer post(const std::string& body, const std::string& token = kToken,
                  const std::string& contentType = "application/json") {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"User-Agent", "Alertmanager/0.25.0"}};
    if (!contentType.empty()) headers.emplace_back("Content-Type", contentType);
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return httpRequest(server_->port(), "POST", AlertIntake::kPath, headers, body);
  }

  // An alert as Alertmanager sends it.
  static json alert(const std::string& alertname, std::map<std::string, std::string> labels = {},
                    const std::string& startsAt = "2024-05-01T12:00:00.123456789Z",
                    const std::string& status = "firing") {
    labels["alertname"] = alertname;
    json a = {{"status", status},
              {"labels", labels},
              {"annotations", {{"summary", alertname + " is firing"}}},
              {"startsAt", startsAt},
              {"endsAt", status == "firing" ? "0001-01-01T00:00:00Z" : "2024-05-01T12:30:00Z"},
              {"generatorURL", "http://prometheus:9090/graph?g0.expr=up"}};
    a["fingerprint"] = alertmanagerFingerprint(labels);
    return a;
  }
  static json resolved(json a, const std::string& endsAt = "2024-05-01T12:30:00Z") {
    a["status"] = "resolved";
    a["endsAt"] = endsAt;
    return a;
  }

  // The webhook payload of one notification.
  // (A vector, not a json: `json x = {a}` copies `a` instead of making an array.)
  static json payload(const std::vector<json>& alerts, const std::string& receiver = "remedy",
                      const std::string& externalURL = "http://alertmanager-0:9093") {
    std::string status = "resolved";
    for (const auto& a : alerts) {
      if (a.is_object() && a.value("status", "") == "firing") status = "firing";
    }
    return {{"version", "4"},
            {"groupKey", "{}:{alertname=\"x\"}"},
            {"truncatedAlerts", 0},
            {"status", status},
            {"receiver", receiver},
            {"groupLabels", json::object()},
            {"commonLabels", json::object()},
            {"commonAnnotations", json::object()},
            {"externalURL", externalURL},
            {"alerts", json(alerts)}};
  }

  std::vector<json> incidents(const std::string& ns) {
    auto list = client_->list(incidentsResource(), ns);
    EXPECT_TRUE(list.ok()) << list.status().toString();
    std::vector<json> out;
    if (list.ok()) {
      for (const auto& item : (*list)["items"]) out.push_back(item);
    }
    return out;
  }
  std::vector<json> incidents() { return incidents(namespace_); }

  json incident(const std::string& ns, const std::string& name) {
    auto got = client_->get(incidentsResource(), ns, name);
    EXPECT_TRUE(got.ok()) << got.status().toString();
    return got.ok() ? *got : json::object();
  }

  void createNamespace(const std::string& name) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    auto created = client_->create(kube::resources::namespaces(), "", ns);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  double metric(const std::string& name, const std::string& label = "",
                const std::string& value = "") {
    return metricValue(registry_, name, label, value);
  }

  std::unique_ptr<remedy::testing::TempDir> dir_;
  std::string tokenFile_;
  prometheus::Registry registry_;
  // Outlive server_, which may use them.
  std::unique_ptr<kube::Client> extraClient_;
  std::unique_ptr<kube::Informer> extraInformer_;
  std::unique_ptr<AlertIntakeServer> server_;
};

}  // namespace remedy::intake::testing
