// The whole alerting chain, real end to end: a tiny exporter whose gauge the
// test sets, the Debian Prometheus (/usr/bin/prometheus) scraping it and
// evaluating an alerting rule every second, the Debian Alertmanager
// (/usr/bin/prometheus-alertmanager) receiving Prometheus's alerts and
// sending them (and their resolution) to remedy-operator's webhook with the
// harness's bearer token file, all on fresh loopback ports and temp dirs.
//
// Timing: the rule has `for: 0s`; Prometheus sends a firing alert at once
// and its resolution on the first evaluation that finds the expression
// empty (with an explicit endsAt, so Alertmanager's resolve_timeout never
// comes into play); Alertmanager flushes a new group at once (group_wait 0s)
// and later changes, such as the resolution, within group_interval (1s).
// Prometheus's own --rules.alert.resend-delay stays at its default (1m): the
// endsAt it sends with a firing alert is 4 x that ahead, so a slow machine
// never makes Alertmanager time the alert out before the test resolves it.
#pragma once

#include "../support/operator_harness.h"
#include "http/server.h"
#include "kube/base64.h"
#include "kube/resource.h"

#include <sys/stat.h>

#include <atomic>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace remedy::testing {

inline constexpr const char* kPrometheusPath = "/usr/bin/prometheus";
inline constexpr const char* kAlertmanagerPath = "/usr/bin/prometheus-alertmanager";

// Serves /metrics (Prometheus text format) with one gauge the test sets.
class GaugeExporter {
 public:
  explicit GaugeExporter(std::string metric) : metric_(std::move(metric)) {}
  ~GaugeExporter() {
    if (server_) server_->stop();
  }
  GaugeExporter(const GaugeExporter&) = delete;
  GaugeExporter& operator=(const GaugeExporter&) = delete;

  // Empty on success, else why not.
  std::string start() {
    http::ServerConfig config;
    config.bindAddress = "127.0.0.1";
    config.port = 0;
    config.name = "exporter";
    server_ = std::make_unique<http::HttpServer>(
        config, [this](const http::Request& request, http::Responder& responder) {
          if (request.path != "/metrics") {
            responder.send(http::Response::text(404, "not found\n"));
            return;
          }
          ++scrapes_;
          std::ostringstream body;
          body << "# HELP " << metric_ << " Set by the test.\n# TYPE " << metric_ << " gauge\n"
               << metric_ << " " << value_.load() << "\n";
          http::Response response = http::Response::text(200, body.str());
          response.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
          responder.send(std::move(response));
        });
    auto error = server_->start();
    return error ? *error : "";
  }

  void set(double value) { value_ = value; }
  int port() const { return server_ ? server_->port() : 0; }
  int scrapes() const { return scrapes_; }
  const std::string& metric() const { return metric_; }

 private:
  std::string metric_;
  std::atomic<double> value_{0};
  std::atomic<int> scrapes_{0};
  std::unique_ptr<http::HttpServer> server_;
};

// One Prometheus alerting rule.
struct AlertRule {
  std::string name;  // `alert:`
  std::string expr;  // PromQL without single quotes
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

class AlertingTest : public OperatorTest {
 protected:
  void SetUp() override {
    for (const char* binary : {kPrometheusPath, kAlertmanagerPath}) {
      // A missing server fails the run (scripts/install-deps.sh installs it).
      ASSERT_EQ(::access(binary, X_OK), 0) << binary << " is not installed";
    }
    OperatorTest::SetUp();
  }

  void TearDown() override {
    // Senders first, so nothing posts to an operator that is going away.
    if (prometheus_) prometheus_->stop();
    if (alertmanager_) alertmanager_->stop();
    exporter_.reset();
    OperatorTest::TearDown();
  }

  // Starts the exporter (gauge 0), Alertmanager sending to `op`'s webhook,
  // and Prometheus evaluating `rule` against the exporter every second.
  // Returns once all three answer and Prometheus scraped the exporter.
  void startAlerting(OperatorProcess& op, const std::string& metric, const AlertRule& rule) {
    exporter_ = std::make_unique<GaugeExporter>(metric);
    std::string error = exporter_->start();
    ASSERT_EQ(error, "");
    ASSERT_NO_FATAL_FAILURE(startAlertmanager(op.webhookPort));
    ASSERT_NO_FATAL_FAILURE(startPrometheus(rule));
    ASSERT_TRUE(waitUntil(
        [&] {
          return prometheusQuery("up%7Bjob%3D%22app%22%7D").find("\"value\":[") !=
                     std::string::npos &&
                 exporter_->scrapes() > 0;
        },
        std::chrono::seconds(30)))
        << "Prometheus never scraped the exporter\n"
        << diagnostics();
  }

  void startAlertmanager(int webhookPort) {
    std::string home = tempDir() + "/alertmanager";
    ::mkdir(home.c_str(), 0700);
    // group_by '...': one group per alert; group_wait 0s: a new alert goes
    // out at once; group_interval 1s: its resolution within a second.
    std::ofstream(home + "/alertmanager.yml") << "route:\n"
                                                 "  receiver: remedy\n"
                                                 "  group_by: ['...']\n"
                                                 "  group_wait: 0s\n"
                                                 "  group_interval: 1s\n"
                                                 "  repeat_interval: 1h\n"
                                                 "receivers:\n"
                                                 "  - name: remedy\n"
                                                 "    webhook_configs:\n"
                                                 "      - url: http://127.0.0.1:"
                                              << webhookPort
                                              << "/api/v1/alerts\n"
                                                 "        send_resolved: true\n"
                                                 "        max_alerts: 1000\n"
                                                 "        http_config:\n"
                                                 "          authorization:\n"
                                                 "            type: Bearer\n"
                                                 "            credentials_file: "
                                              << tokenPath() << "\n";
    // The port is free when chosen but could be taken before Alertmanager
    // binds it: try another one then.
    for (int attempt = 0; attempt < 3; ++attempt) {
      alertmanagerPort_ = freeLoopbackPort();
      ProcessOptions options;
      options.argv = {kAlertmanagerPath,
                      "--config.file=" + home + "/alertmanager.yml",
                      "--storage.path=" + home + "/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(alertmanagerPort_),
                      "--cluster.listen-address=",
                      "--log.level=debug"};
      options.workingDirectory = home;
      options.logPath = home + "/alertmanager.log";
      alertmanager_ = std::make_unique<ChildProcess>(options);
      bool ready = waitUntil(
          [&] {
            return !alertmanager_->running() ||
                   httpRequest(alertmanagerPort_, "GET", "/-/ready").status == 200;
          },
          std::chrono::seconds(30));
      if (!alertmanager_->running()) continue;
      ASSERT_TRUE(ready) << "Alertmanager not ready:\n" << tail(alertmanager_->log());
      return;
    }
    FAIL() << "Alertmanager did not start:\n" << tail(alertmanager_->log());
  }

  void startPrometheus(const AlertRule& rule) {
    std::string home = tempDir() + "/prometheus";
    ::mkdir(home.c_str(), 0700);
    {
      std::ofstream rules(home + "/rules.yml");
      rules << "groups:\n"
               "  - name: remedy-alerting-test\n"
               "    interval: 1s\n"
               "    rules:\n"
               "      - alert: "
            << rule.name << "\n        expr: '" << rule.expr << "'\n        for: 0s\n";
      rules << "        labels:\n";
      for (const auto& [k, v] : rule.labels) rules << "          " << k << ": '" << v << "'\n";
      rules << "        annotations:\n";
      for (const auto& [k, v] : rule.annotations) {
        rules << "          " << k << ": '" << v << "'\n";
      }
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      prometheusPort_ = freeLoopbackPort();
      std::ofstream(home + "/prometheus.yml") << "global:\n"
                                                 "  scrape_interval: 1s\n"
                                                 "  evaluation_interval: 1s\n"
                                                 "alerting:\n"
                                                 "  alertmanagers:\n"
                                                 "    - static_configs:\n"
                                                 "        - targets: ['127.0.0.1:"
                                              << alertmanagerPort_
                                              << "']\n"
                                                 "rule_files:\n"
                                                 "  - "
                                              << home
                                              << "/rules.yml\n"
                                                 "scrape_configs:\n"
                                                 "  - job_name: app\n"
                                                 "    static_configs:\n"
                                                 "      - targets: ['127.0.0.1:"
                                              << exporter_->port() << "']\n";
      ProcessOptions options;
      options.argv = {kPrometheusPath, "--config.file=" + home + "/prometheus.yml",
                      "--storage.tsdb.path=" + home + "/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(prometheusPort_),
                      "--log.level=info"};
      options.workingDirectory = home;
      options.logPath = home + "/prometheus.log";
      prometheus_ = std::make_unique<ChildProcess>(options);
      bool ready = waitUntil(
          [&] {
            return !prometheus_->running() ||
                   httpRequest(prometheusPort_, "GET", "/-/ready").status == 200;
          },
          std::chrono::seconds(30));
      if (!prometheus_->running()) continue;
      ASSERT_TRUE(ready) << "Prometheus not ready:\n" << tail(prometheus_->log());
      return;
    }
    FAIL() << "Prometheus did not start:\n" << tail(prometheus_->log());
  }

  // /api/v1/query?query=<already URL-encoded query>: the JSON answer as text.
  std::string prometheusQuery(const std::string& encodedQuery) {
    return httpRequest(prometheusPort_, "GET", "/api/v1/query?query=" + encodedQuery).body;
  }

  // The alerts Alertmanager holds (API v2), or an empty array.
  json alertmanagerAlerts() {
    auto answer = httpRequest(alertmanagerPort_, "GET", "/api/v2/alerts");
    if (answer.status != 200) return json::array();
    auto parsed = json::parse(answer.body, nullptr, false);
    return parsed.is_array() ? parsed : json::array();
  }

  // Creates a Deployment with `replicas` and waits until they are ready.
  void createDeployment(const std::string& name, int replicas) {
    json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", namespace_}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}}}}}}};
    auto created = client_->create(kube::resources::deployments(), namespace_, d);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    ASSERT_TRUE(waitUntil([&] {
      auto got = client_->get(kube::resources::deployments(), namespace_, name);
      return got.ok() && got->value("status", json::object()).value("readyReplicas", 0) == replicas;
    }));
  }

  int deploymentReplicas(const std::string& name) {
    auto got = client_->get(kube::resources::deployments(), namespace_, name);
    return got.ok() ? (*got)["spec"].value("replicas", -1) : -1;
  }

  // Applies a Runbook and waits until the operator found it valid.
  void applyRunbook(const std::string& yaml) {
    json runbook = applyYaml(runbooksResource(), yaml);
    ASSERT_FALSE(runbook.is_null());
    std::string name = runbook["metadata"]["name"];
    ASSERT_TRUE(waitUntil([&] {
      auto got = client_->get(runbooksResource(), namespace_, name);
      if (!got.ok()) return false;
      for (const auto& c :
           got->value("status", json::object()).value("conditions", json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") return true;
      }
      return false;
    })) << "Runbook "
        << name << " never became Ready\n"
        << diagnostics();
  }

  void createSecret(const std::string& name, const std::string& key, const std::string& value) {
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"type", "Opaque"},
                   {"data", {{key, kube::encodeBase64(value)}}}};
    auto created = client_->create(kube::resources::secrets(), namespace_, secret);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  // The only Incident of the namespace (null while there is none).
  json theIncident() {
    auto all = incidents();
    return all.size() == 1 ? all[0] : json();
  }

  static std::string phaseOf(const json& incident) {
    if (!incident.is_object()) return "";
    return incident.value("status", json::object()).value("phase", "");
  }

  static json stepStatus(const json& incident, const std::string& step) {
    if (!incident.is_object()) return json();
    for (const auto& s : incident.value("status", json::object()).value("steps", json::array())) {
      if (s.value("name", "") == step) return s;
    }
    return json();
  }

  static std::vector<json> timelineOf(const json& incident, const std::string& type) {
    std::vector<json> found;
    if (!incident.is_object()) return found;
    for (const auto& e :
         incident.value("status", json::object()).value("timeline", json::array())) {
      if (e.value("type", "") == type) found.push_back(e);
    }
    return found;
  }

  // Events about the Incident `name` with `reason`.
  std::vector<json> eventsFor(const std::string& name, const std::string& reason) {
    std::vector<json> found;
    auto list = client_->list(kube::resources::events(), namespace_);
    if (!list.ok()) return found;
    for (const auto& e : (*list).value("items", json::array())) {
      const json involved = e.value("involvedObject", json::object());
      if (involved.value("kind", "") == "Incident" && involved.value("name", "") == name &&
          e.value("reason", "") == reason) {
        found.push_back(e);
      }
    }
    return found;
  }

  // The ends of every log, for failure messages.
  std::string diagnostics() {
    std::string out;
    if (!operators_.empty()) out += "--- operator:\n" + tail(operators_.back()->log());
    if (alertmanager_) out += "--- alertmanager:\n" + tail(alertmanager_->log());
    if (prometheus_) out += "--- prometheus:\n" + tail(prometheus_->log());
    out += "--- alertmanager alerts: " + alertmanagerAlerts().dump() + "\n";
    out += "--- incidents:\n";
    for (const auto& i : incidents()) out += i.dump(1).substr(0, 6000) + "\n";
    return out;
  }

  static std::string tail(const std::string& log, size_t bytes = 4000) {
    return log.size() > bytes ? log.substr(log.size() - bytes) : log;
  }

  std::unique_ptr<GaugeExporter> exporter_;
  std::unique_ptr<ChildProcess> alertmanager_;
  std::unique_ptr<ChildProcess> prometheus_;
  int alertmanagerPort_ = 0;
  int prometheusPort_ = 0;
};

}  // namespace remedy::testing
