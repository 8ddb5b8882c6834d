// What the remedy-operator end-to-end tests add to tests/support/
// operator_harness.h:
// - a ChangeTape (tests/support/change_tape.h) on the Incidents, Runbooks,
//   Deployments and Pods of the test namespace and the Leases of the
//   operators' namespace: every change in resourceVersion order (nothing is
//   missed, as polling would), and a trigger that SIGKILLs an operator on a
//   chosen write: the instant it commits on the sandbox, just after it is
//   visible on kube-apiserver.
// - NotificationSink: a webhook receiver on loopback that records each
//   request with the time it arrived.
// - Deployments, gate ConfigMaps, alerts, Incident and metric reading.
#pragma once

#include "../support/change_tape.h"
#include "../support/operator_harness.h"
#include "http/server.h"
#include "kube/time_format.h"

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace remedy::testing {

inline constexpr const char* kIncidentsKey = "remedy.dev/incidents";
inline constexpr const char* kDeploymentsKey = "apps/deployments";
inline constexpr const char* kPodsKey = "/pods";
inline constexpr const char* kLeasesKey = "coordination.k8s.io/leases";
inline constexpr const char* kRestartedAt = "kubectl.kubernetes.io/restartedAt";

// An HTTP receiver for notify messages on 127.0.0.1: answers 200 and
// records each request with its arrival time; or, armed, SIGKILLs the
// sender as a request arrives, before answering it.
class NotificationSink {
 public:
  struct Received {
    std::string path;
    nlohmann::json body;  // null when the body is not JSON
    SteadyTime at;
    kube::WallTime wallAt;
    std::string idempotencyKey;  // the Idempotency-Key header
  };

  NotificationSink() {
    http::ServerConfig config;
    config.name = "sink";
    server_ = std::make_unique<http::HttpServer>(
        config, [this](const http::Request& request, http::Responder& responder) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            Received r{request.path, nlohmann::json::parse(request.body, nullptr, false),
                       std::chrono::steady_clock::now(), std::chrono::system_clock::now(),
                       request.header("Idempotency-Key")};
            if (killPid_ > 0 && request.path == killPath_) {
              // The sender dies before it can read an answer.
              ::kill(killPid_, SIGKILL);
              killPid_ = 0;
              unanswered_.push_back(r);
            } else {
              received_.push_back(r);
            }
          }
          responder.send(http::Response::json(200, "{\"ok\":true}"));
        });
    auto error = server_->start();
    EXPECT_FALSE(error.has_value()) << *error;
  }
  ~NotificationSink() { server_->stop(); }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  // The requests answered.
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  // The next request at `path` SIGKILLs `pid` as it arrives; it is
  // recorded in unanswered(), not received().
  void killOnNextRequest(const std::string& path, pid_t pid) {
    std::lock_guard<std::mutex> lock(mu_);
    killPath_ = path;
    killPid_ = pid;
  }
  // The requests whose sender was killed as they arrived.
  std::vector<Received> unanswered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return unanswered_;
  }
  std::vector<Received> receivedAt(const std::string& path) const {
    std::vector<Received> out;
    for (auto& r : received()) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }

 private:
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;  // guards everything below
  std::vector<Received> received_;
  std::vector<Received> unanswered_;
  std::string killPath_;
  pid_t killPid_ = 0;
};

// One sample of the Prometheus text format: the value of the first line
// of metric `name` carrying every label of `labels`.
inline std::optional<double> metricValue(const std::string& text, const std::string& name,
                                         const std::map<std::string, std::string>& labels = {}) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    std::string labelText;
    size_t valueAt = name.size();
    if (next == '{') {
      size_t close = line.find('}', name.size());
      if (close == std::string::npos) continue;
      labelText = line.substr(name.size() + 1, close - name.size() - 1);
      valueAt = close + 1;
    }
    bool all = std::all_of(labels.begin(), labels.end(), [&](const auto& label) {
      return labelText.find(label.first + "=\"" + label.second + "\"") != std::string::npos;
    });
    if (!all) continue;
    return std::strtod(line.c_str() + valueAt, nullptr);
  }
  return std::nullopt;
}

// The sum over every sample of metric `name` (nullopt when it has none).
inline std::optional<double> metricSum(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  std::optional<double> sum;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    size_t space = line.rfind(' ');
    sum = sum.value_or(0) + std::strtod(line.c_str() + space + 1, nullptr);
  }
  return sum;
}

inline int64_t generationOf(const nlohmann::json& object) {
  return object["metadata"].value("generation", 0);
}

class OperatorE2ETest : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (HasFatalFailure()) return;
    if (sandbox_) {
      tape_ = ChangeTape::onSandbox(sandbox_->store());
      return;
    }
    std::string error;
    kube::Resource replicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
    tape_ = ChangeTape::onApiServer(adminConfig(),
                                    {{incidentsResource(), namespace_},
                                     {runbooksResource(), namespace_},
                                     {kube::resources::deployments(), namespace_},
                                     {replicaSets, namespace_},
                                     {kube::resources::pods(), namespace_},
                                     {kube::resources::leases(), systemNamespace_}},
                                    &error);
    ASSERT_NE(tape_, nullptr) << error;
  }

  void TearDown() override {
    if (tape_) tape_->disarm();
    OperatorTest::TearDown();
    tape_.reset();
  }

  // Waits until the tape holds everything the server committed so far, and
  // checks it lost nothing: call before reading a history from it.
  void syncTape() {
    EXPECT_TRUE(tape_->sync()) << "the tape did not catch up with the server";
    std::string failures;
    for (const auto& f : tape_->failures()) failures += "  " + f + "\n";
    EXPECT_EQ(failures, "") << "the tape's watches failed";
  }

  // Fast leader election, as the tests want it: a lease of 2s.
  static std::vector<std::string> fastLease(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {
        "--leader-elect", "--lease-duration", "2s",   "--renew-deadline",
        "1500ms",         "--retry-period",   "500ms"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return flags;
  }

  // A Deployment of `replicas` pods labelled app=NAME; waits until they are
  // all available. Returns the Deployment.
  json createDeployment(const std::string& name, int replicas) {
    json d = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", name}, {"namespace", namespace_}, {"labels", {{"app", name}}}}},
        {"spec",
         {{"replicas", replicas},
          {"selector", {{"matchLabels", {{"app", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", name}}}}},
            {"spec",
             {{"containers", json::array({{{"name", name}, {"image", "nginx:1.27"}}})}}}}}}}};
    auto created = client_->create(kube::resources::deployments(), namespace_, d);
    EXPECT_TRUE(created.ok()) << created.status().toString();
    bool available = waitUntil([&] { return availableReplicas(name) == replicas; });
    EXPECT_TRUE(available) << "deployment " << name << " did not become available";
    return deployment(name);
  }

  json deployment(const std::string& name) {
    auto got = client_->get(kube::resources::deployments(), namespace_, name);
    return got.ok() ? *got : json();
  }

  int availableReplicas(const std::string& name) {
    json d = deployment(name);
    if (d.is_null()) return -1;
    const json status = d.value("status", json::object());
    if (status.value("observedGeneration", int64_t{0}) < d["metadata"].value("generation", 0)) {
      return -1;
    }
    return status.value("availableReplicas", 0);
  }

  // The pods labelled app=NAME, by name -> uid.
  std::map<std::string, std::string> pods(const std::string& app) {
    kube::ListOptions options;
    options.labelSelector = "app=" + app;
    auto list = client_->list(kube::resources::pods(), namespace_, options);
    std::map<std::string, std::string> out;
    if (!list.ok()) return out;
    for (const auto& p : (*list)["items"]) out[kube::nameOf(p)] = kube::uidOf(p);
    return out;
  }

  // A ConfigMap whose data.open a waitFor step waits to be "true".
  void createGate(const std::string& name) {
    auto created = client_->create(kube::resources::configMaps(), namespace_,
                                   configMap(name, {{"open", "false"}}));
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }
  void openGate(const std::string& name) {
    auto patched = client_->patch(kube::resources::configMaps(), namespace_, name,
                                  json{{"data", {{"open", "true"}}}}.dump());
    ASSERT_TRUE(patched.ok()) << patched.status().toString();
  }

  void applyRunbook(const std::string& yaml) {
    json created = applyYaml(runbooksResource(), yaml);
    ASSERT_FALSE(created.is_null());
  }

  // An alert about service `service` in the test namespace; startsAt is
  // fixed per fingerprint so firing and resolved name the same Incident.
  json testAlert(const std::string& name, const std::string& fingerprint,
                 const std::string& status = "firing", const std::string& service = "api") {
    auto& startsAt = startsAt_[fingerprint];
    if (startsAt.empty()) startsAt = kube::formatRfc3339(std::chrono::system_clock::now());
    std::string endsAt = status == "resolved"
                             ? kube::formatRfc3339(std::chrono::system_clock::now())
                             : "0001-01-01T00:00:00Z";
    return alert(name, {{"service", service}, {"namespace", namespace_}, {"severity", "critical"}},
                 fingerprint, startsAt, status, endsAt);
  }

  // Posts one alert; expects 200.
  void fire(OperatorProcess& op, const std::string& name, const std::string& fingerprint,
            const std::string& service = "api") {
    auto answer = postAlerts(
        op,
        webhookPayload("firing", json::array({testAlert(name, fingerprint, "firing", service)})));
    EXPECT_EQ(answer.status, 200) << answer.body;
  }
  void resolve(OperatorProcess& op, const std::string& name, const std::string& fingerprint,
               const std::string& service = "api") {
    auto answer = postAlerts(
        op, webhookPayload("resolved",
                           json::array({testAlert(name, fingerprint, "resolved", service)})));
    EXPECT_EQ(answer.status, 200) << answer.body;
  }

  // The name of the Incident of alert `name`, once it exists ("" if none
  // appeared in time).
  std::string awaitIncident(const std::string& alertName,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::string found;
    waitUntil(
        [&] {
          for (const auto& i : incidents()) {
            if (i["spec"]["alert"].value("name", "") == alertName) found = kube::nameOf(i);
          }
          return !found.empty();
        },
        timeout);
    return found;
  }

  static std::string phaseOf(const json& incident) {
    return incident.is_object() ? incident.value("status", json::object()).value("phase", "") : "";
  }
  static bool isFinal(const std::string& phase) {
    return phase == "Succeeded" || phase == "Failed" || phase == "Escalated" ||
           phase == "Skipped" || phase == "Cancelled";
  }
  // The step status named `step` ({} when absent).
  static json stepOf(const json& incident, const std::string& step) {
    if (!incident.is_object()) return json::object();
    for (const auto& s : incident.value("status", json::object()).value("steps", json::array())) {
      if (s.value("name", "") == step) return s;
    }
    return json::object();
  }
  // The outputs of step `step` ({} when none).
  static json outputsOf(const json& incident, const std::string& step) {
    return stepOf(incident, step).value("outputs", json::object());
  }

  // Waits until Incident `name` reaches a final phase; returns it.
  json awaitFinal(const std::string& name,
                  std::chrono::milliseconds timeout = std::chrono::seconds(45)) {
    json incident;
    waitUntil(
        [&] {
          incident = getIncident(name);
          return isFinal(phaseOf(incident));
        },
        timeout);
    return incident;
  }

  // Waits until `condition` holds for Incident `name`; returns it.
  json awaitIncidentState(const std::string& name,
                          const std::function<bool(const json&)>& condition,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    json incident;
    bool ok = waitUntil(
        [&] {
          incident = getIncident(name);
          return !incident.is_null() && condition(incident);
        },
        timeout);
    return ok ? incident : json();
  }

  json lease() {
    auto got = client_->get(kube::resources::leases(), systemNamespace_, "remedy-operator");
    return got.ok() ? *got : json();
  }
  std::string leaseHolder() {
    json l = lease();
    return l.is_null() ? "" : l["spec"].value("holderIdentity", "");
  }

  // Every operator log so far, for failure messages.
  std::string allLogs() const {
    std::string out;
    for (const auto& op : operators_) {
      out += "---- " + op->identity + " (" + op->logPath + ")\n" + op->log();
    }
    return out;
  }

  std::shared_ptr<ChangeTape> tape_;
  std::map<std::string, std::string> startsAt_;  // fingerprint -> startsAt
};

// Step-machine transitions seen on the tape.

// An Incident write that changed its status (every operator checkpoint).
inline bool isStatusWrite(const sandbox::StoreEvent& e) {
  if (e.storageKey != kIncidentsKey || e.type != sandbox::EventType::Modified || !e.previous) {
    return false;
  }
  return e.object->value("status", nlohmann::json()) !=
         e.previous->value("status", nlohmann::json());
}

// An Incident write that checkpointed a step as Running with a new attempt
// (the action has not run yet when this commits).
inline bool isStepCheckpoint(const sandbox::StoreEvent& e) {
  if (!isStatusWrite(e)) return false;
  auto steps = [](const nlohmann::json& incident) {
    return incident.value("status", nlohmann::json::object())
        .value("steps", nlohmann::json::array());
  };
  nlohmann::json now = steps(*e.object);
  nlohmann::json before = steps(*e.previous);
  for (size_t i = 0; i < now.size(); ++i) {
    int attempts = now[i].value("attempts", 0);
    int previous = i < before.size() ? before[i].value("attempts", 0) : 0;
    if (now[i].value("phase", "") == "Running" && attempts > previous) return true;
  }
  return false;
}

}  // namespace remedy::testing
