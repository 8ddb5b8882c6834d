// What the remedy-operator end-to-end tests add to tests/support/
// operator_harness.h:
// - StoreTape: every change the sandbox's store commits, recorded in-process
//   in resourceVersion order (nothing is missed, as polling would), and a
//   trigger that SIGKILLs an operator the instant a chosen write commits,
//   before the operator has read the API server's answer: a crash at an
//   exact point of the step machine, every run.
// - NotificationSink: a webhook receiver on loopback that records each
//   request with the time it arrived.
// - Deployments, gate ConfigMaps, alerts, Incident and metric reading.
#pragma once

#include "../support/operator_harness.h"
#include "http/server.h"
#include "kube/time_format.h"
#include "sandbox/store.h"

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

using SteadyTime = std::chrono::steady_clock::time_point;

// The store's changes, and a kill switch on them (see the file comment).
class StoreTape {
 public:
  using Predicate = std::function<bool(const sandbox::StoreEvent&)>;

  // Installs the tape on `store`. The store keeps its observers for its
  // whole life, so the tape is shared with it.
  static std::shared_ptr<StoreTape> attach(sandbox::Store& store) {
    auto tape = std::make_shared<StoreTape>();
    store.addObserver([tape](const sandbox::StoreEvent& e) { tape->observe(e); });
    return tape;
  }

  // The next change matching `when` SIGKILLs `pid` (once; then disarmed).
  void killOnNext(pid_t pid, Predicate when) {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = pid;
    when_ = std::move(when);
  }
  void disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = 0;
  }
  // When the last kill happened.
  std::optional<SteadyTime> lastKillAt() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lastKillAt_;
  }
  // Why each kill happened ("<storageKey> <name> rv <N>: <reason>").
  std::vector<std::string> kills() const {
    std::lock_guard<std::mutex> lock(mu_);
    return kills_;
  }

  // Every change of `storageKey` (in `ns` unless empty), oldest first.
  std::vector<sandbox::StoreEvent> events(const std::string& storageKey,
                                          const std::string& ns = "") const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<sandbox::StoreEvent> out;
    for (const auto& e : events_) {
      if (e.storageKey == storageKey && (ns.empty() || e.namespace_ == ns)) out.push_back(e);
    }
    return out;
  }

  // What a change did, in a few words (for the kills' list).
  static std::string describe(const sandbox::StoreEvent& e) {
    if (e.type == sandbox::EventType::Deleted) return ": deleted";
    if (!e.previous) return ": created";
    const nlohmann::json& now = *e.object;
    const nlohmann::json& before = *e.previous;
    if (e.storageKey == kIncidentsKey &&
        now.value("status", nlohmann::json()) != before.value("status", nlohmann::json()) &&
        now.contains("status")) {
      const nlohmann::json& s = now["status"];
      std::string out = ": phase " + s.value("phase", "") + ", step " + s.value("currentStep", "");
      for (const auto& st : s.value("steps", nlohmann::json::array())) {
        if (st.value("name", "") == s.value("currentStep", "")) {
          out += " " + st.value("phase", "") + " (attempt " +
                 std::to_string(st.value("attempts", 0)) + ")";
        }
      }
      return out;
    }
    if (now["metadata"].value("generation", 0) != before["metadata"].value("generation", 0)) {
      return ": generation " + std::to_string(now["metadata"].value("generation", 0));
    }
    if (now.value("status", nlohmann::json()) != before.value("status", nlohmann::json())) {
      return ": status";
    }
    return ": modified";
  }

  // Called by the store on the writing thread with the store locked: it
  // never calls back into the store.
  void observe(const sandbox::StoreEvent& e) {
    if (e.storageKey == "/events" || e.storageKey == "events.k8s.io/events") return;
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
    if (armed_ > 0 && when_ && when_(e)) {
      ::kill(armed_, SIGKILL);
      lastKillAt_ = std::chrono::steady_clock::now();
      kills_.push_back(e.storageKey + " " + e.name + " rv " + std::to_string(e.resourceVersion) +
                       describe(e));
      armed_ = 0;
    }
  }

 private:
  mutable std::mutex mu_;  // guards everything below
  std::vector<sandbox::StoreEvent> events_;
  pid_t armed_ = 0;
  Predicate when_;
  std::vector<std::string> kills_;
  std::optional<SteadyTime> lastKillAt_;
};

// An HTTP receiver for notify messages on 127.0.0.1: answers 200 and
// records each request with its arrival time.
class NotificationSink {
 public:
  struct Received {
    std::string path;
    nlohmann::json body;  // null when the body is not JSON
    SteadyTime at;
    kube::WallTime wallAt;
  };

  NotificationSink() {
    http::ServerConfig config;
    config.name = "sink";
    server_ = std::make_unique<http::HttpServer>(config, [this](const http::Request& request,
                                                                http::Responder& responder) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back({request.path, nlohmann::json::parse(request.body, nullptr, false),
                             std::chrono::steady_clock::now(), std::chrono::system_clock::now()});
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
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
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
  mutable std::mutex mu_;  // guards received_
  std::vector<Received> received_;
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

class OperatorE2ETest : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (HasFatalFailure()) return;
    if (sandbox_) tape_ = StoreTape::attach(sandbox_->store());
  }

  void TearDown() override {
    if (tape_) tape_->disarm();
    OperatorTest::TearDown();
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

  std::shared_ptr<StoreTape> tape_;
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
