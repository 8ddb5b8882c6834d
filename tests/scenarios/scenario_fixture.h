// The scenarios' world: remedy-operator as a process (tests/support/
// operator_harness.h) working on the shop's namespace (`shop` on the
// in-process sandbox, the test's own on the real control plane), with real
// PostgreSQL, Redis and Prometheus where a scenario needs them; remedyctl as a process; helpers
// that read Incidents, approve steps, and record the resourceVersion of every object of a
// namespace.
//
// Link: remedy_sandbox remedy_kube remedy_api libpq (no hiredis: the Redis
// helper here speaks RESP itself).
#pragma once

#include "../support/operator_harness.h"
#include "../support/postgres_server.h"
#include "../support/prometheus_server.h"
#include "kube/base64.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace remedy::testing {

// The shop's namespace on the sandbox (shop_ is the one a test uses).
inline constexpr const char* kShop = "shop";

inline kube::Resource replicaSetsResource() {
  return {"apps", "v1", "replicasets", "ReplicaSet", true};
}

// Every namespaced kind whose objects a drill must leave alone (Events,
// Incidents and Approvals are written by the drill and the test themselves).
inline std::vector<kube::Resource> watchedKinds() {
  return {kube::resources::pods(),
          kube::resources::services(),
          kube::resources::configMaps(),
          kube::resources::secrets(),
          {"", "v1", "serviceaccounts", "ServiceAccount", true},
          kube::resources::deployments(),
          kube::resources::statefulSets(),
          replicaSetsResource(),
          {"apps", "v1", "daemonsets", "DaemonSet", true},
          {"batch", "v1", "jobs", "Job", true},
          {"batch", "v1", "cronjobs", "CronJob", true},
          {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true},
          {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true},
          kube::resources::leases(),
          {"rbac.authorization.k8s.io", "v1", "roles", "Role", true},
          {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true},
          runbooksResource()};
}

// "resource/name" -> resourceVersion.
using ObjectVersions = std::map<std::string, std::string>;

// What differs between two snapshots, one line per object ("" when equal).
inline std::string describeDifferences(const ObjectVersions& before, const ObjectVersions& after) {
  std::string out;
  for (const auto& [key, rv] : before) {
    auto it = after.find(key);
    if (it == after.end()) {
      out += "  deleted: " + key + "\n";
    } else if (it->second != rv) {
      out += "  changed: " + key + " (resourceVersion " + rv + " -> " + it->second + ")\n";
    }
  }
  for (const auto& [key, rv] : after) {
    if (!before.count(key)) out += "  created: " + key + "\n";
  }
  return out;
}

// A finished remedyctl run.
struct CommandResult {
  int exitCode = -1;   // -1: did not exit within the timeout (then killed)
  std::string output;  // stdout and stderr together
};

// A real redis-server on a free loopback port (as user `redis` when root),
// with a minimal RESP client for checking from the outside.
class RedisProcess {
 public:
  RedisProcess() = default;
  ~RedisProcess() { process_.stop(); }
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // "" on success, else why not.
  std::string start() {
    dir_ = std::make_unique<TempDir>("remedy-scenario-redis", unprivilegedUser("redis"));
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = freeLoopbackPort();
      ProcessOptions p;
      p.argv = {"/usr/bin/redis-server",
                "--port",
                std::to_string(port_),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir_->path(),
                "--daemonize",
                "no"};
      p.user = unprivilegedUser("redis");
      p.logPath = dir_->path() + "/redis.log";
      process_.start(p);
      bool up = waitUntil([&] { return !process_.running() || command({"PING"}) == "PONG"; },
                          std::chrono::seconds(20));
      if (up && process_.running()) return "";
      process_.stop();
    }
    return "redis-server did not start: " + process_.log();
  }

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // One command; the reply as text (an array's elements joined by '\n',
  // an error as "ERR ...", nil as "(nil)"); "" when nothing answered.
  std::string command(const std::vector<std::string>& args) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return "";
    }
    std::string request = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) request += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    buffer_.clear();
    fd_ = fd;
    std::string reply;
    bool ok = readReply(&reply);
    ::close(fd);
    fd_ = -1;
    return ok ? reply : "";
  }

 private:
  bool readLine(std::string* line) {
    while (true) {
      auto end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        *line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  bool readBytes(size_t count, std::string* out) {
    while (buffer_.size() < count + 2) {
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    *out = buffer_.substr(0, count);
    buffer_.erase(0, count + 2);
    return true;
  }
  bool readReply(std::string* out) {
    std::string line;
    if (!readLine(&line) || line.empty()) return false;
    char type = line[0];
    std::string rest = line.substr(1);
    if (type == '+' || type == '-' || type == ':') {
      *out = rest;
      return true;
    }
    if (type == '$') {
      long n = std::atol(rest.c_str());
      if (n < 0) {
        *out = "(nil)";
        return true;
      }
      return readBytes(static_cast<size_t>(n), out);
    }
    if (type == '*') {
      long n = std::atol(rest.c_str());
      out->clear();
      for (long i = 0; i < n; ++i) {
        std::string item;
        if (!readReply(&item)) return false;
        *out += (i == 0 ? "" : "\n") + item;
      }
      return true;
    }
    return false;
  }

  std::unique_ptr<TempDir> dir_;
  ChildProcess process_;
  int port_ = 0;
  int fd_ = -1;
  std::string buffer_;
};

// The value of env var `var` in a pod spec (or a pod template's spec), ""
// when absent.
inline std::string envOf(const json& podSpec, const std::string& var) {
  for (const auto& c : podSpec.value("containers", json::array())) {
    for (const auto& e : c.value("env", json::array())) {
      if (e.value("name", "") == var) return e.value("value", "");
    }
  }
  return "";
}

class ScenarioTest : public OperatorTest {
 protected:
  // As OperatorTest::SetUp, with a sandbox whose crash-looping pods restart
  // once an hour (so a pod in CrashLoopBackOff keeps its resourceVersion
  // while a test compares them), plus the shop's namespace: `shop` on the
  // sandbox, the test's own namespace on the control plane every test of
  // the run shares (which the operators there watch).
  void SetUp() override {
    sandbox::SandboxOptions options = defaultSandboxOptions();
    options.crashLoopInterval = std::chrono::hours(1);
    startApiServer(options);
    if (HasFatalFailure()) return;
    dir_ = std::make_unique<TempDir>("remedy-scenario");
    installCrds();
    if (HasFatalFailure()) return;
    kubeconfigPath_ = adminKubeconfigFile(dir_->path());
    tokenPath_ = dir_->path() + "/webhook-token";
    webhookToken_ = "scenario-token-" + std::to_string(::getpid());
    std::ofstream(tokenPath_) << webhookToken_ << "\n";
    sealKeyPath_ = dir_->path() + "/approval-seal-key";
    std::ofstream(sealKeyPath_) << kSealKey << "\n";
    systemNamespace_ = onRealApiServer() ? namespace_ + "-system" : "remedy-system";
    shop_ = onRealApiServer() ? namespace_ : kShop;
    for (const std::string& name : {systemNamespace_, shop_}) {
      createNamespace(name);
      if (HasFatalFailure()) return;
    }
    // The shop's Runbooks act as its runner.
    grantRunner(shop_);
  }

  // ---- objects in shop ----

  json create(const kube::Resource& resource, json object) {
    object["metadata"]["namespace"] = shop_;
    auto created = client_->create(resource, shop_, object);
    EXPECT_TRUE(created.ok()) << kube::nameOf(object) << ": " << created.status().toString();
    return created.ok() ? *created : json();
  }

  json get(const kube::Resource& resource, const std::string& name) {
    auto got = client_->get(resource, shop_, name);
    return got.ok() ? *got : json();
  }

  void putSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    json encoded = json::object();
    for (const auto& [k, v] : data) encoded[k] = kube::encodeBase64(v);
    create(kube::resources::secrets(), {{"apiVersion", "v1"},
                                        {"kind", "Secret"},
                                        {"metadata", {{"name", name}}},
                                        {"type", "Opaque"},
                                        {"data", encoded}});
  }

  // A Deployment whose pods carry app=<name> and one container <container>
  // with `env` (name -> value, in this order).
  static json deployment(const std::string& name, int replicas, const std::string& container,
                         const std::vector<std::pair<std::string, std::string>>& env = {}) {
    json vars = json::array();
    for (const auto& [k, v] : env) vars.push_back({{"name", k}, {"value", v}});
    json c = {{"name", container}, {"image", "registry.example/" + container + ":1.4.2"}};
    if (!vars.empty()) c["env"] = vars;
    return {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"labels", {{"app", name}}}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}, {"app.kubernetes.io/part-of", "shop"}}}}},
                {"spec", {{"containers", json::array({c})}}}}}}}};
  }

  // Waits until the Deployment's rollout of its current template is complete
  // and every pod of it is Ready (as `kubectl rollout status` does).
  bool waitRolledOut(const std::string& name,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return waitUntil(
        [&] {
          json d = get(kube::resources::deployments(), name);
          if (d.is_null() || !d.contains("status")) return false;
          const json& s = d["status"];
          int64_t want = d["spec"].value("replicas", 1);
          return s.value("observedGeneration", int64_t{0}) ==
                     d["metadata"].value("generation", int64_t{0}) &&
                 s.value("updatedReplicas", int64_t{0}) == want &&
                 s.value("replicas", int64_t{0}) == want &&
                 s.value("availableReplicas", int64_t{0}) == want;
        },
        timeout);
  }

  // Reads a manifest file of the repository (YAML) into JSON.
  static json readManifest(const std::string& relativePath) {
    std::ifstream in(std::string(REMEDY_SOURCE_DIR) + "/" + relativePath);
    std::stringstream text;
    text << in.rdbuf();
    auto object = api::yamlToJson(text.str());
    EXPECT_TRUE(object.ok()) << relativePath << ": " << object.error();
    return object.ok() ? *object : json();
  }

  // Creates a Runbook (YAML text) in shop and waits until it is Ready.
  json applyRunbook(const std::string& yaml) {
    auto object = api::yamlToJson(yaml);
    EXPECT_TRUE(object.ok()) << object.error();
    if (!object.ok()) return json();
    return createRunbook(*object);
  }
  json createRunbook(const json& runbook) {
    json created = create(runbooksResource(), runbook);
    std::string name = kube::nameOf(runbook);
    bool ready = waitUntil([&] {
      json rb = get(runbooksResource(), name);
      for (const auto& c : rb.value("status", json::object()).value("conditions", json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") return true;
      }
      return false;
    });
    EXPECT_TRUE(ready) << "runbook " << name
                       << " never became Ready: " << get(runbooksResource(), name).dump();
    return get(runbooksResource(), name);
  }

  // ---- Incidents in shop ----

  std::vector<json> shopIncidents(const std::string& labelSelector = "") {
    kube::ListOptions options;
    options.labelSelector = labelSelector;
    auto list = client_->list(incidentsResource(), shop_, options);
    if (!list.ok()) return {};
    return (*list)["items"].get<std::vector<json>>();
  }

  json incident(const std::string& name) { return get(incidentsResource(), name); }

  static json stepOf(const json& incident, const std::string& step) {
    for (const auto& st : incident.value("status", json::object()).value("steps", json::array())) {
      if (st.value("name", "") == step) return st;
    }
    return json::object();
  }
  static std::string phaseOf(const json& incident) {
    return incident.value("status", json::object()).value("phase", "");
  }
  static std::string outputOf(const json& incident, const std::string& step,
                              const std::string& key) {
    return stepOf(incident, step).value("outputs", json::object()).value(key, "");
  }
  static bool isFinal(const std::string& phase) {
    return phase == "Succeeded" || phase == "Failed" || phase == "Escalated" ||
           phase == "Skipped" || phase == "Cancelled";
  }

  // Waits until the Incident reaches a final phase; returns it.
  json waitFinished(const std::string& name,
                    std::chrono::milliseconds timeout = std::chrono::seconds(45)) {
    json last;
    waitUntil(
        [&] {
          last = incident(name);
          return isFinal(phaseOf(last));
        },
        timeout);
    return last;
  }

  // Waits until `condition` holds for the Incident; returns its last read.
  json waitIncident(const std::string& name, const std::function<bool(const json&)>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    json last;
    waitUntil(
        [&] {
          last = incident(name);
          return !last.is_null() && condition(last);
        },
        timeout);
    return last;
  }

  // Posts one firing alert (labels include namespace=shop) and returns the
  // name of the Incident made of it ("" when none appeared).
  std::string fire(OperatorProcess& op, const std::string& alertName, json labels,
                   const std::string& fingerprint) {
    labels["namespace"] = shop_;
    std::string startsAt = kube::formatRfc3339(std::chrono::system_clock::now());
    auto answer = postAlerts(
        op,
        webhookPayload("firing", json::array({alert(alertName, labels, fingerprint, startsAt)})));
    EXPECT_EQ(answer.status, 200) << answer.body;
    std::string name;
    waitUntil([&] {
      for (const auto& i : shopIncidents()) {
        if (i["spec"]["alert"].value("fingerprint", "") == fingerprint) {
          name = kube::nameOf(i);
          return true;
        }
      }
      return false;
    });
    EXPECT_FALSE(name.empty()) << "no Incident for alert " << alertName << "\n" << op.log();
    return name;
  }

  // An Approval of `step` of the Incident by `approver`, a member of the
  // groups the Runbook's approval policy names (as the webhook would seal
  // them from the approver's authentication).
  void approve(const std::string& incidentName, const std::string& step,
               const std::string& approver) {
    std::vector<std::string> groups = {"system:authenticated"};
    json incident = get(incidentsResource(), incidentName);
    for (const auto& g : incident.value("status", json::object())
                             .value("runbook", json::object())
                             .value("spec", json::object())
                             .value("approval", json::object())
                             .value("groups", json::array())) {
      groups.push_back(g.get<std::string>());
    }
    create(approvalsResource(),
           sealedApproval({{"apiVersion", "remedy.dev/v1alpha1"},
                           {"kind", "Approval"},
                           {"metadata",
                            {{"name", incidentName.substr(0, 40) + "-" + step.substr(0, 20)},
                             {"namespace", shop_}}},
                           {"spec",
                            {{"incidentRef", {{"name", incidentName}}},
                             {"step", step},
                             {"decision", "Approve"},
                             {"approver", approver},
                             {"comment", "approved by the scenario test"}}}},
                          groups));
  }

  // ---- the whole namespace ----

  ObjectVersions objectVersions(std::string ns = "") {
    if (ns.empty()) ns = shop_;
    ObjectVersions out;
    for (const auto& resource : watchedKinds()) {
      auto list = kube::listAll(*client_, resource, ns);
      EXPECT_TRUE(list.ok()) << resource.resource << ": " << list.status().toString();
      if (!list.ok()) continue;
      for (const auto& item : (*list)["items"]) {
        out[resource.resource + "/" + kube::nameOf(item)] = kube::resourceVersionOf(item);
      }
    }
    return out;
  }

  // ---- remedyctl ----

  // The build's remedyctl, or $REMEDY_REMEDYCTL (to try a fixed build).
  static std::string remedyctlBinary() {
    if (const char* binary = std::getenv("REMEDY_REMEDYCTL")) return binary;
    return std::string(REMEDY_BINARY_DIR) + "/src/cli/remedyctl";
  }

  // Starts `remedyctl ARGS --kubeconfig <the sandbox's>`; its output goes to
  // a file of its own (see commandResult()).
  std::unique_ptr<ChildProcess> startRemedyctl(std::vector<std::string> args,
                                               std::string* logPath) {
    static std::atomic<int> runs{0};
    *logPath = tempDir() + "/remedyctl-" + std::to_string(runs++) + ".log";
    ProcessOptions p;
    p.argv = {remedyctlBinary()};
    for (auto& a : args) p.argv.push_back(std::move(a));
    p.argv.push_back("--kubeconfig");
    p.argv.push_back(kubeconfigPath());
    p.logPath = *logPath;
    auto process = std::make_unique<ChildProcess>();
    process->start(p);
    return process;
  }

  // Waits for a remedyctl started by startRemedyctl (killing it after `timeout`).
  static CommandResult commandResult(ChildProcess& process, const std::string& logPath,
                                     std::chrono::milliseconds timeout) {
    CommandResult result;
    if (waitUntil([&] { return !process.running(); }, timeout)) {
      int status = process.exitStatus();
      result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else {
      process.kill();
    }
    std::ifstream in(logPath);
    std::stringstream text;
    text << in.rdbuf();
    result.output = text.str();
    return result;
  }

  CommandResult remedyctl(std::vector<std::string> args,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    std::string logPath;
    auto process = startRemedyctl(std::move(args), &logPath);
    return commandResult(*process, logPath, timeout);
  }

  std::string shop_;  // the shop's namespace
};

// A PostgreSQL session's backend pids as pg_stat_activity shows them, of
// client backends other than Remedy's own (application_name remedy).
inline std::set<int> workloadBackends(PostgresServer& pg) {
  std::set<int> pids;
  for (const auto& row :
       pg.query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND coalesce(application_name, '') <> 'remedy' AND pid <> pg_backend_pid()")) {
    pids.insert(std::atoi(row[0]->c_str()));
  }
  return pids;
}

// Records the pods of a namespace it sees, every few milliseconds, in the
// background: name -> the value of one env var of the pod's first container.
class PodRecorder {
 public:
  // `client` is the recorder's own (a client is used by one thread at a time).
  PodRecorder(std::unique_ptr<kube::Client> client, std::string ns, std::string envVar)
      : client_(std::move(client)), ns_(std::move(ns)), envVar_(std::move(envVar)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        auto list = client_->list(kube::resources::pods(), ns_);
        if (list.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          for (const auto& pod : (*list)["items"]) {
            seen_[kube::nameOf(pod)] = envOf(pod.value("spec", json::object()), envVar_);
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~PodRecorder() {
    stop_ = true;
    thread_.join();
  }
  PodRecorder(const PodRecorder&) = delete;
  PodRecorder& operator=(const PodRecorder&) = delete;

  // The pods seen with the env var at `value`.
  std::set<std::string> podsWith(const std::string& value) {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> out;
    for (const auto& [name, v] : seen_) {
      if (v == value) out.insert(name);
    }
    return out;
  }

 private:
  std::unique_ptr<kube::Client> client_;
  std::string ns_;
  std::string envVar_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // guards seen_
  std::map<std::string, std::string> seen_;
  std::thread thread_;
};

}  // namespace remedy::testing
