// remedyctl test: runs Runbook test files offline (test_file.h; format in
// README.md). Each test gets its own in-process sandbox and the real engine
// (IncidentReconciler) and actions, driven by hand on a kube::FakeClock:
// a reconcile runs when the Incident changed, when the engine asked to be
// called again (the clock then jumps to that moment) or when the test's
// alerts and approvals say so. Before each reconcile the sandbox's workload
// simulator has finished what the last writes asked of it, so a run does
// not depend on how fast the machine is. External systems answer from the
// file's recordings through a WebClient (http, notify, the Prometheus steps) and
// recorded PostgreSQL and Redis servers (recorded_postgres.h,
// recorded_redis.h).
#include "actions/http_action.h"
#include "actions/kubernetes_actions.h"
#include "actions/notify_action.h"
#include "actions/postgres_action.h"
#include "actions/prometheus_action.h"
#include "actions/redis_action.h"
#include "admission/seal.h"
#include "api/crd_schemas.h"
#include "cli/commands.h"
#include "cli/recorded_postgres.h"
#include "cli/recorded_redis.h"
#include "cli/test_file.h"
#include "engine/engine_caches.h"
#include "engine/incident_reconciler.h"
#include "engine/resources.h"
#include "engine/runbook_reconciler.h"
#include "kube/base64.h"
#include "kube/clock.h"
#include "kube/impersonation.h"
#include "kube/rest_client.h"
#include "kube/time_format.h"
#include "sandbox/object_meta.h"
#include "sandbox/sandbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace remedy::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string formatOffset(kube::Duration d) {
  return api::formatDuration(std::chrono::duration_cast<api::Duration>(d));
}

// Polls `condition` until it holds or `timeout` of real time passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string percentDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string withoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

std::string queryParam(const std::string& url, const std::string& name) {
  size_t q = url.find('?');
  if (q == std::string::npos) return "";
  std::stringstream params(url.substr(q + 1));
  std::string pair;
  while (std::getline(params, pair, '&')) {
    if (pair.rfind(name + "=", 0) == 0) return percentDecode(pair.substr(name.size() + 1));
  }
  return "";
}

std::string number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.15g", v);
  return buffer;
}

// The external systems of a test, answering from its recordings at the
// fake clock's time; every request is remembered for the expectations.
class RecordedWeb : public actions::WebClient {
 public:
  struct Sent {
    std::string method, url, body;
    kube::Duration at;
  };

  RecordedWeb(const TestCase& test, const kube::FakeClock& clock, kube::TimePoint start)
      : test_(test), clock_(clock), start_(start), used_(test.http.size(), 0) {}

  actions::WebResponse send(const actions::WebRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    kube::Duration at = clock_.now() - start_;
    sent_.push_back({request.method, request.url, request.body, at});
    actions::WebResponse response;
    if (withoutQuery(request.url).size() >= 14 &&
        withoutQuery(request.url).rfind("/api/v1/query") == withoutQuery(request.url).size() - 13) {
      return prometheus(request, at);
    }
    for (size_t i = 0; i < test_.http.size(); ++i) {
      const RecordedHttp& h = test_.http[i];
      if (!h.method.empty() && lower(h.method) != lower(request.method)) continue;
      bool withQuery = h.url.find('?') != std::string::npos;
      if ((withQuery ? request.url : withoutQuery(request.url)) != h.url) continue;
      const auto& a = h.answers[std::min(used_[i]++, h.answers.size() - 1)];
      if (!a.error.empty()) {
        response.error = a.error;
        return response;
      }
      response.status = a.status;
      response.body = a.body;
      response.headers = a.headers;
      return response;
    }
    response.error = "no recorded answer for " + request.method + " " + withoutQuery(request.url) +
                     " in the test file (http)";
    return response;
  }

  std::vector<Sent> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  actions::WebResponse prometheus(const actions::WebRequest& request, kube::Duration at) const {
    actions::WebResponse response;
    std::string query = collapseSpaces(queryParam(request.url, "query"));
    for (const auto& q : test_.prometheus) {
      if (collapseSpaces(q.query) != query) continue;
      json result = json::array();
      double unix = std::chrono::duration<double>(clock_.wallNow().time_since_epoch()).count();
      for (const auto& s : q.series) {
        std::optional<double> value;
        for (const auto& [when, v] : s.points) {
          if (when <= at) value = v;
        }
        if (!value) continue;
        json metric = json::object();
        for (const auto& [k, v] : s.labels) metric[k] = v;
        result.push_back({{"metric", metric}, {"value", json::array({unix, number(*value)})}});
      }
      response.status = 200;
      response.body =
          json{{"status", "success"}, {"data", {{"resultType", "vector"}, {"result", result}}}}
              .dump();
      return response;
    }
    response.status = 400;
    response.body = json{{"status", "error"},
                         {"errorType", "bad_data"},
                         {"error", "no recorded series for the query \"" + query +
                                       "\" in the test file (prometheus)"}}
                        .dump();
    return response;
  }

  const TestCase& test_;
  const kube::FakeClock& clock_;
  const kube::TimePoint start_;
  mutable std::mutex mu_;  // guards used_ and sent_
  std::vector<size_t> used_;
  std::vector<Sent> sent_;
};

// A Deployment without a selector or pod template gets the usual ones
// (label app: NAME, one container "app"), so test files stay short.
json completed(json object, const std::string& ns) {
  if (!object["metadata"].contains("namespace")) object["metadata"]["namespace"] = ns;
  std::string kind = object.value("kind", "");
  if (kind == "Deployment" || kind == "StatefulSet") {
    std::string name = object["metadata"].value("name", "");
    json& spec = object["spec"];
    if (spec.is_null()) spec = json::object();
    if (!spec.contains("selector")) spec["selector"] = {{"matchLabels", {{"app", name}}}};
    if (!spec.contains("template")) {
      spec["template"] = {
          {"metadata", {{"labels", spec["selector"].value("matchLabels", json::object())}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
    }
    if (kind == "StatefulSet" && !spec.contains("serviceName")) spec["serviceName"] = name;
  }
  if (kind == "Pod" && !object.contains("spec")) {
    object["spec"] = {{"containers", json::array({{{"name", "app"}, {"image", "app:1"}}})}};
  }
  return object;
}

struct Failure {
  FilePlace place;
  std::string what;
  std::string expected;
  std::string actual;
};

// One test's run: the world, the engine, the clock and what happened.
class TestRun {
 public:
  TestRun(const TestFile& file, const TestCase& test)
      : file_(file), test_(test), start_(clock_.now()), wallStart_(clock_.wallNow()) {}
  ~TestRun() {
    caches_.reset();
    client_.reset();
    if (sandbox_) sandbox_->stop();
    sandbox::setWallClock(nullptr);
  }

  // An error that kept the test from running (not an expectation).
  std::optional<std::string> run();
  std::vector<Failure> check();
  // What the Incidents did, for a failing test.
  std::string story() const;
  kube::Duration elapsed() const { return clock_.now() - start_; }

 private:
  std::optional<std::string> setUp();
  std::optional<std::string> createObject(const json& object);
  std::optional<std::string> fire(size_t index);
  std::optional<std::string> resolve(size_t index);
  std::optional<std::string> approve(const TestApproval& a);
  std::optional<json> incident(size_t alert) const;
  std::string incidentName(size_t alert) const;
  void checkIncident(const IncidentExpectation& e, std::vector<Failure>* failures);
  void checkObject(const ObjectExpectation& e, std::vector<Failure>* failures);

  const TestFile& file_;
  const TestCase& test_;
  kube::FakeClock clock_;
  kube::TimePoint start_;
  kube::WallTime wallStart_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::unique_ptr<kube::RestClient> client_;
  std::unique_ptr<kube::ImpersonatingClients> serviceAccounts_;
  std::unique_ptr<engine::EngineCaches> caches_;
  std::shared_ptr<RecordedWeb> web_;
  std::unique_ptr<actions::ActionRegistry> registry_;
  admission::Sealer sealer_{*admission::SealKeys::fromKeys(std::string(48, 't'))};
  std::unique_ptr<engine::IncidentReconciler> reconciler_;
  std::set<size_t> fired_;
};

std::string TestRun::incidentName(size_t alert) const {
  std::string name = "test-" + std::to_string(alert) + "-" + lower(test_.alerts[alert].name);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  }
  return name.substr(0, 63);
}

std::optional<json> TestRun::incident(size_t alert) const {
  auto got = client_->get(engine::incidents(), test_.namespace_, incidentName(alert));
  if (!got.ok()) return std::nullopt;
  return *got;
}

std::optional<std::string> TestRun::setUp() {
  sandbox::setWallClock([this] { return clock_.wallNow(); });
  sandbox::SandboxOptions options;
  options.podReadyDelay = std::chrono::milliseconds(0);
  // A crash-looping pod keeps the restart count its test gave it.
  options.crashLoopInterval = std::chrono::hours(24 * 365);
  sandbox_ = std::make_unique<sandbox::Sandbox>(options);
  if (auto error = sandbox_->start()) return "starting the sandbox: " + *error;
  kube::Config config;
  config.server = sandbox_->url();
  config.caPem = sandbox_->caCertificatePem();
  config.bearerToken = sandbox_->adminToken();
  config.qps = 0;
  config.origin = "remedyctl test sandbox";
  auto client = kube::RestClient::fromConfig(config);
  if (!client.ok()) return "the sandbox's client: " + client.status().toString();
  client_ = std::move(*client);

  for (const char* kind : {"Runbook", "Incident", "Approval", "RunbookPolicy"}) {
    auto created =
        client_->create(kube::resources::customResourceDefinitions(), "", api::crdJson(kind));
    if (!created.ok()) return std::string("the ") + kind + " CRD: " + created.status().toString();
  }
  if (!eventually([&] {
        return client_->list(engine::runbooks(), test_.namespace_).ok() &&
               client_->list(engine::incidents(), test_.namespace_).ok() &&
               client_->list(engine::approvals(), test_.namespace_).ok();
      })) {
    return "the sandbox did not serve Remedy's CRDs";
  }
  std::set<std::string> namespaces = {test_.namespace_};
  for (const auto& o : test_.objects) {
    namespaces.insert(o["metadata"].value("namespace", test_.namespace_));
  }
  for (const auto& rb : file_.runbooks) {
    namespaces.insert(rb["metadata"].value("namespace", test_.namespace_));
  }
  for (const auto& ns : namespaces) {
    json object = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
    auto created = client_->create(kube::resources::namespaces(), "", object);
    if (!created.ok()) return "namespace " + ns + ": " + created.status().toString();
  }
  for (const auto& o : test_.objects) {
    if (auto error = createObject(o)) return error;
  }
  engine::EngineCachesOptions cachesOptions;
  cachesOptions.namespaces = {namespaces.begin(), namespaces.end()};
  cachesOptions.pauseNamespace = test_.namespace_;
  caches_ = std::make_unique<engine::EngineCaches>(*client_, cachesOptions);
  caches_->start();
  if (!caches_->waitForSync(std::chrono::seconds(30))) return "the engine's caches did not sync";
  // The Runbook controller reads from the caches: each Runbook is
  // reconciled once they show it, as its watch event would have them.
  engine::RunbookReconciler runbooks(*client_, *caches_, clock_);
  for (json rb : file_.runbooks) {
    std::string ns = rb["metadata"].value("namespace", test_.namespace_);
    rb["metadata"]["namespace"] = ns;
    auto created = client_->create(engine::runbooks(), ns, rb);
    if (!created.ok()) {
      return "Runbook " + rb["metadata"].value("name", "") + ": " + created.status().toString();
    }
    std::string name = kube::nameOf(*created);
    if (!eventually([&] { return caches_->runbook(ns, name).has_value(); })) {
      return "the engine did not see Runbook " + ns + "/" + name;
    }
    runbooks.reconcile(ns + "/" + name);
  }
  if (!eventually([&] { return sandbox_->workloadsSettled(); })) {
    return "the sandbox's workloads did not settle";
  }

  start_ = clock_.now();
  wallStart_ = clock_.wallNow();
  web_ = std::make_shared<RecordedWeb>(test_, clock_, start_);
  registry_ = actions::kubernetesActionRegistry();
  actions::WebActionOptions http;
  http.client = web_;
  registry_->add(actions::makeHttpAction(http));
  actions::NotifyOptions notify;
  notify.client = web_;
  registry_->add(actions::makeNotifyAction(notify));
  actions::PrometheusOptions prometheus;
  prometheus.client = web_;
  prometheus.defaultUrl = "http://prometheus.test:9090";
  registry_->add(actions::makePrometheusCheckAction(prometheus));
  registry_->add(actions::makePrometheusQueryAction(prometheus));
  actions::PostgresActionOptions postgres;
  postgres.connector = std::make_shared<RecordedPostgresServers>(test_.postgres, clock_, start_);
  registry_->add(actions::makePostgresAction(postgres));
  actions::RedisActionOptions redis;
  redis.connector = std::make_shared<RecordedRedisServers>(test_.redis, clock_, start_);
  registry_->add(actions::makeRedisAction(redis));
  serviceAccounts_ = std::make_unique<kube::ImpersonatingClients>(*client_);
  engine::IncidentReconcilerOptions reconcilerOptions;
  reconcilerOptions.pauseNamespace = test_.namespace_;
  reconcilerOptions.sealer = &sealer_;
  reconcilerOptions.retention = std::chrono::hours(24 * 365);
  reconciler_ = std::make_unique<engine::IncidentReconciler>(
      *client_, *caches_, *serviceAccounts_, *registry_, clock_, nullptr, reconcilerOptions);
  return std::nullopt;
}

std::optional<std::string> TestRun::createObject(const json& given) {
  json object = completed(given, test_.namespace_);
  std::string apiVersion = object.value("apiVersion", "");
  std::string kind = object.value("kind", "");
  std::string name = object["metadata"].value("name", "");
  auto resource = client_->resourceFor(apiVersion, kind);
  if (!resource.ok()) return "object " + kind + " " + name + ": " + resource.status().toString();
  std::string ns = resource->namespaced ? object["metadata"].value("namespace", "") : "";
  if (!resource->namespaced) object["metadata"].erase("namespace");
  auto created = client_->create(*resource, ns, object);
  if (!created.ok()) return "object " + kind + " " + name + ": " + created.status().toString();
  if (given.contains("status") && kind == "Pod") {
    // A pod's status as the test gives it (restart counts, states); the
    // simulated kubelet keeps the restart count and sets the rest.
    json patch = {{"status", given["status"]}};
    kube::PatchOptions p;
    p.subresource = "status";
    auto updated = client_->patch(*resource, ns, name, patch.dump(), p);
    if (!updated.ok()) return "status of pod " + name + ": " + updated.status().toString();
  }
  return std::nullopt;
}

std::optional<std::string> TestRun::fire(size_t index) {
  const TestAlert& a = test_.alerts[index];
  json labels = json::object();
  for (const auto& [k, v] : a.labels) labels[k] = v;
  json alert = {{"name", a.name},
                {"status", "firing"},
                {"labels", labels},
                {"startsAt", kube::formatRfc3339(clock_.wallNow())},
                {"fingerprint", "test" + std::to_string(1000000000000 + index)}};
  if (!a.annotations.empty()) {
    json annotations = json::object();
    for (const auto& [k, v] : a.annotations) annotations[k] = v;
    alert["annotations"] = annotations;
  }
  json object = {{"apiVersion", "remedy.dev/v1alpha1"},
                 {"kind", "Incident"},
                 {"metadata", {{"name", incidentName(index)}, {"namespace", test_.namespace_}}},
                 {"spec", {{"source", "Alertmanager"}, {"alert", alert}}}};
  kube::WriteOptions w;
  w.fieldManager = "remedy-intake";
  auto created = client_->create(engine::incidents(), test_.namespace_, object, w);
  if (!created.ok()) return "alerts[" + std::to_string(index) + "]: " + created.status().toString();
  fired_.insert(index);
  return std::nullopt;
}

std::optional<std::string> TestRun::resolve(size_t index) {
  json patch = {
      {"spec",
       {{"alert", {{"status", "resolved"}, {"endsAt", kube::formatRfc3339(clock_.wallNow())}}}}}};
  kube::PatchOptions p;
  p.fieldManager = "remedy-intake";
  auto patched =
      client_->patch(engine::incidents(), test_.namespace_, incidentName(index), patch.dump(), p);
  if (!patched.ok()) {
    return "alerts[" + std::to_string(index) + "].resolveAt: " + patched.status().toString();
  }
  return std::nullopt;
}

std::optional<std::string> TestRun::approve(const TestApproval& a) {
  auto inc = incident(a.alert);
  if (!inc) {
    return "an approval at " + api::formatDuration(a.at) + " for alerts[" +
           std::to_string(a.alert) + "], whose Incident does not exist then";
  }
  static int counter = 0;
  json approval = {
      {"apiVersion", "remedy.dev/v1alpha1"},
      {"kind", "Approval"},
      {"metadata",
       {{"name", incidentName(a.alert) + "-" + std::to_string(++counter)},
        {"namespace", test_.namespace_}}},
      {"spec",
       {{"incidentRef",
         {{"name", incidentName(a.alert)}, {"uid", (*inc)["metadata"].value("uid", "")}}},
        {"step", a.step},
        {"decision", a.decision},
        {"approver", a.approver},
        {"approverGroups", a.groups}}}};
  approval["metadata"]["annotations"] = {
      {admission::kApprovalSealAnnotation, sealer_.sealApproval(approval, clock_.wallNow())}};
  auto created = client_->create(engine::approvals(), test_.namespace_, approval);
  if (!created.ok()) return "approval: " + created.status().toString();
  return std::nullopt;
}

std::optional<std::string> TestRun::run() {
  if (auto error = setUp()) return error;
  // What happens when, from the file: (offset, kind, index).
  struct Event {
    kube::Duration at;
    int kind;  // 0 fire, 1 resolve, 2 approve
    size_t index;
  };
  std::vector<Event> events;
  for (size_t i = 0; i < test_.alerts.size(); ++i) {
    events.push_back({test_.alerts[i].at, 0, i});
    if (test_.alerts[i].resolveAt) events.push_back({*test_.alerts[i].resolveAt, 1, i});
  }
  for (size_t i = 0; i < test_.approvals.size(); ++i) {
    events.push_back({test_.approvals[i].at, 2, i});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });
  size_t nextEvent = 0;
  const kube::TimePoint end = start_ + test_.duration;
  // Per alert: when its Incident is reconciled next (nullopt: when it changes).
  std::vector<std::optional<kube::TimePoint>> due(test_.alerts.size());
  int reconcilesAtThisTime = 0;
  kube::TimePoint lastTime = clock_.now();
  while (true) {
    kube::TimePoint now = clock_.now();
    if (now != lastTime) reconcilesAtThisTime = 0;
    lastTime = now;
    while (nextEvent < events.size() && start_ + events[nextEvent].at <= now) {
      const Event& e = events[nextEvent++];
      std::optional<std::string> error;
      size_t alert = e.kind == 2 ? test_.approvals[e.index].alert : e.index;
      if (e.kind == 0) error = fire(e.index);
      if (e.kind == 1) error = resolve(e.index);
      if (e.kind == 2) error = approve(test_.approvals[e.index]);
      if (error) return error;
      due[alert] = now;
    }
    std::optional<size_t> next;
    for (size_t i = 0; i < due.size(); ++i) {
      if (due[i] && *due[i] <= now && fired_.count(i)) {
        next = i;
        break;
      }
    }
    if (next) {
      if (++reconcilesAtThisTime > 2000) {
        return "the engine did not settle: 2000 reconciles at " + formatOffset(now - start_);
      }
      if (!eventually([&] { return sandbox_->workloadsSettled(); })) {
        return "the sandbox's workloads did not settle at " + formatOffset(now - start_);
      }
      auto before = incident(*next);
      // The engine reads the Incident from its cache: reconciled once the
      // cache shows it as the API server holds it now, as its watch event
      // has it in the operator before the controller runs.
      if (before && !eventually([&] {
            auto cached = caches_->incident(test_.namespace_, incidentName(*next));
            return cached.object &&
                   kube::resourceVersionOf(*cached.object) == kube::resourceVersionOf(*before);
          })) {
        return "the engine's cache did not show Incident " + incidentName(*next) + " at " +
               formatOffset(now - start_);
      }
      std::string key = test_.namespace_ + "/" + incidentName(*next);
      kube::ReconcileResult result = reconciler_->reconcile(key);
      auto after = incident(*next);
      bool changed =
          before && after && kube::resourceVersionOf(*before) != kube::resourceVersionOf(*after);
      if (changed || result.requeue) {
        due[*next] = now;
        // Another Incident may wait for this one (guardrails): look again.
        if (changed) {
          for (size_t i = 0; i < due.size(); ++i) {
            if (i != *next && !due[i]) due[i] = now;
          }
        }
      } else if (result.requeueAfter > kube::Duration(0)) {
        due[*next] = now + result.requeueAfter;
      } else if (!result.error.ok()) {
        due[*next] = now + std::chrono::seconds(1);
      } else {
        due[*next] = std::nullopt;
      }
      continue;
    }
    std::optional<kube::TimePoint> wake;
    if (nextEvent < events.size()) wake = start_ + events[nextEvent].at;
    for (size_t i = 0; i < due.size(); ++i) {
      if (due[i] && fired_.count(i) && (!wake || *due[i] < *wake)) wake = *due[i];
    }
    if (!wake || *wake > end) break;
    clock_.step(*wake - now);
  }
  // The objects as the run left them, settled.
  if (!eventually([&] { return sandbox_->workloadsSettled(); })) {
    return "the sandbox's workloads did not settle at the end";
  }
  return std::nullopt;
}

std::string shown(const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : "absent"; }

const json* stepStatus(const json& incident, const std::string& name) {
  const json& steps = incident["status"]["steps"];
  if (!steps.is_array()) return nullptr;
  for (const auto& s : steps) {
    if (s.value("name", "") == name) return &s;
  }
  return nullptr;
}

std::string stepSummary(const json& s) {
  std::string out = s.value("phase", "Pending");
  std::string message = s.value("message", "");
  if (!message.empty()) out += " (" + message + ")";
  return out;
}

void TestRun::checkIncident(const IncidentExpectation& e, std::vector<Failure>* failures) {
  auto inc = incident(e.alert);
  std::string who = test_.alerts.size() > 1 ? "alerts[" + std::to_string(e.alert) + "]: " : "";
  if (!inc) {
    failures->push_back({e.place, who + "Incident", "an Incident", "none (the alert never fired)"});
    return;
  }
  const json status = inc->value("status", json::object());
  if (e.phase) {
    std::string actual = status.value("phase", "");
    std::string message;
    for (const auto& c : status.value("conditions", json::array())) {
      if (c.value("type", "") == "Completed") message = c.value("message", "");
    }
    if (actual != *e.phase) {
      failures->push_back(
          {e.place, who + "Incident phase", *e.phase,
           (actual.empty() ? "none" : actual) + (message.empty() ? "" : " (" + message + ")")});
    }
  }
  for (const auto& s : e.steps) {
    const json* st = stepStatus(*inc, s.name);
    std::string step = who + "step " + s.name;
    if (!st) {
      failures->push_back({s.place, step, "a step of that name", "no such step in the Runbook"});
      continue;
    }
    std::string phase = st->value("phase", "Pending");
    if (s.phase && phase != *s.phase) {
      failures->push_back({s.place, step + ": phase", *s.phase, stepSummary(*st)});
    }
    if (s.when) {
      if (!st->contains("when")) {
        failures->push_back(
            {s.place, step + ": when", *s.when ? "true" : "false", "not evaluated"});
      } else {
        bool result = (*st)["when"].value("result", false);
        if (result != *s.when) {
          std::string values;
          const json seen = (*st)["when"].value("values", json::object());
          for (auto it = seen.begin(); it != seen.end(); ++it) {
            values += (values.empty() ? "" : ", ") + it.key() + "=" +
                      (it.value().is_string() ? it.value().get<std::string>() : it->dump());
          }
          failures->push_back({s.place, step + ": when " + (*st)["when"].value("expression", ""),
                               *s.when ? "true" : "false",
                               std::string(result ? "true" : "false") +
                                   (values.empty() ? "" : " (" + values + ")")});
        }
      }
    }
    const json outputs = st->value("outputs", json::object());
    for (const auto& [k, v] : s.outputs) {
      std::optional<std::string> actual;
      if (outputs.contains(k)) {
        actual = outputs[k].is_string() ? outputs[k].get<std::string>() : outputs[k].dump();
      }
      if (actual != v) {
        failures->push_back({s.place, step + ": outputs." + k, shown(v), shown(actual)});
      }
    }
    if (s.messageContains) {
      std::string message = st->value("message", "");
      if (message.find(*s.messageContains) == std::string::npos) {
        failures->push_back({s.place, step + ": message",
                             "containing \"" + *s.messageContains + "\"", shown(message)});
      }
    }
    if (s.revert) {
      const json revert = st->value("revert", json::object());
      std::string state = revert.value("state", "");
      if (state != *s.revert) {
        std::string message = revert.value("message", "");
        failures->push_back({s.place, step + ": revert", *s.revert,
                             (state.empty() ? "no revert" : state) +
                                 (message.empty() ? "" : " (" + message + ")")});
      }
    }
  }
  if (e.stepsRun) {
    std::vector<std::string> ran;
    for (const auto& s : status.value("steps", json::array())) {
      std::string phase = s.value("phase", "Pending");
      if (phase != "Skipped" && phase != "Pending") ran.push_back(s.value("name", ""));
    }
    auto list = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
      return "[" + out + "]";
    };
    if (ran != *e.stepsRun) {
      failures->push_back({e.place, who + "steps run", list(*e.stepsRun), list(ran)});
    }
  }
  if (e.escalations) {
    auto describe = [](const std::string& name, const std::optional<std::string>& at,
                       const std::optional<std::string>& state) {
      return name + (at ? " at " + *at : "") + (state ? " " + *state : "");
    };
    std::vector<json> actual;
    for (const auto& x : status.value("escalations", json::array())) {
      // The notices that a step waits for approval are not tiers.
      if (!x.contains("approvalStep")) actual.push_back(x);
    }
    std::string expectedText, actualText;
    bool same = actual.size() == e.escalations->size();
    for (size_t i = 0; i < e.escalations->size(); ++i) {
      const auto& x = (*e.escalations)[i];
      expectedText +=
          (expectedText.empty() ? "" : ", ") +
          describe(x.name, x.at ? std::optional(api::formatDuration(*x.at)) : std::nullopt,
                   x.state);
    }
    for (size_t i = 0; i < actual.size(); ++i) {
      const json& a = actual[i];
      std::optional<std::string> at;
      auto fired = kube::parseRfc3339(a.value("firedAt", ""));
      kube::Duration offset{0};
      if (fired) {
        offset = *fired - wallStart_;
        at = formatOffset(offset);
      }
      std::string state = a.value("state", "");
      if (i < e.escalations->size()) {
        const auto& x = (*e.escalations)[i];
        std::optional<std::string> showAt = x.at ? at : std::nullopt;
        std::optional<std::string> showState =
            x.state ? std::optional<std::string>(state) : std::nullopt;
        actualText +=
            (actualText.empty() ? "" : ", ") + describe(a.value("name", ""), showAt, showState);
        if (a.value("name", "") != x.name) same = false;
        if (x.at && (!fired || std::chrono::duration_cast<api::Duration>(offset) != *x.at))
          same = false;
        if (x.state && state != *x.state) same = false;
      } else {
        actualText += (actualText.empty() ? "" : ", ") + describe(a.value("name", ""), at, state);
      }
    }
    if (!same) {
      failures->push_back(
          {e.place, who + "escalations", "[" + expectedText + "]", "[" + actualText + "]"});
    }
  }
}

void TestRun::checkObject(const ObjectExpectation& e, std::vector<Failure>* failures) {
  std::string ns = e.namespace_.empty() ? test_.namespace_ : e.namespace_;
  std::string what = e.kind + " " + e.name;
  auto resource = client_->resourceFor(e.apiVersion, e.kind);
  if (!resource.ok()) {
    failures->push_back({e.place, what, "a kind the sandbox serves", resource.status().message()});
    return;
  }
  auto got = client_->get(*resource, resource->namespaced ? ns : "", e.name);
  if (e.absent) {
    if (got.ok()) failures->push_back({e.place, what, "absent", "present"});
    return;
  }
  if (!got.ok()) {
    failures->push_back({e.place, what, "present", got.status().message()});
    return;
  }
  const json& o = *got;
  if (e.replicas) {
    const json spec = o.value("spec", json::object());
    std::string actual = spec.contains("replicas") ? spec["replicas"].dump() : "unset";
    if (actual != std::to_string(*e.replicas)) {
      failures->push_back({e.place, what + ": replicas", std::to_string(*e.replicas), actual});
    }
  }
  auto compare = [&](const std::string& field,
                     const std::map<std::string, std::optional<std::string>>& expected,
                     const json& actual, bool base64) {
    for (const auto& [k, v] : expected) {
      std::optional<std::string> a;
      if (actual.is_object() && actual.contains(k) && actual[k].is_string()) {
        a = actual[k].get<std::string>();
        if (base64) {
          auto decoded = kube::decodeBase64(*a);
          if (decoded.ok()) a = *decoded;
        }
      }
      if (a != v) failures->push_back({e.place, what + ": " + field + "." + k, shown(v), shown(a)});
    }
  };
  const json meta = o.value("metadata", json::object());
  compare("annotations", e.annotations, meta.value("annotations", json::object()), false);
  compare("labels", e.labels, meta.value("labels", json::object()), false);
  compare("data", e.data, o.value("data", json::object()), e.kind == "Secret");
  if (e.image) {
    std::optional<std::string> actual;
    const json containers = o.value("spec", json::object())
                                .value("template", json::object())
                                .value("spec", json::object())
                                .value("containers", json::array());
    if (!containers.empty()) actual = containers[0].value("image", "");
    if (actual != *e.image)
      failures->push_back({e.place, what + ": image", shown(e.image), shown(actual)});
  }
}

std::vector<Failure> TestRun::check() {
  std::vector<Failure> failures;
  for (const auto& e : test_.incidents) checkIncident(e, &failures);
  for (const auto& e : test_.objectsAfter) checkObject(e, &failures);
  auto sent = web_->sent();
  for (const auto& r : test_.requests) {
    int count = 0;
    for (const auto& s : sent) {
      if (!r.method.empty() && lower(r.method) != lower(s.method)) continue;
      bool withQuery = r.url.find('?') != std::string::npos;
      if ((withQuery ? s.url : withoutQuery(s.url)) != r.url) continue;
      if (r.bodyContains && s.body.find(*r.bodyContains) == std::string::npos) continue;
      ++count;
    }
    bool ok = r.count ? count == *r.count : count > 0;
    if (!ok) {
      std::string what =
          (r.method.empty() ? "" : r.method + " ") + r.url +
          (r.bodyContains ? " with a body containing \"" + *r.bodyContains + "\"" : "");
      std::string others;
      for (const auto& s : sent) {
        if (withoutQuery(s.url) != withoutQuery(r.url)) continue;
        std::string body = s.body.size() > 300 ? s.body.substr(0, 300) + "..." : s.body;
        others += "\n              " + s.method + " at " + formatOffset(s.at) + ": " + body;
      }
      failures.push_back({r.place, "requests: " + what,
                          r.count ? std::to_string(*r.count) : "at least 1",
                          std::to_string(count) + others});
    }
  }
  return failures;
}

std::string TestRun::story() const {
  std::string out;
  for (size_t i = 0; i < test_.alerts.size(); ++i) {
    auto inc = incident(i);
    if (!inc) continue;
    const json status = inc->value("status", json::object());
    out += "    incident " + incidentName(i) + ": " + status.value("phase", "") + "\n";
    for (const auto& s : status.value("steps", json::array())) {
      std::string line = "      " + s.value("name", "") + ": " + stepSummary(s);
      if (line.size() > 160) line = line.substr(0, 157) + "...";
      out += line + "\n";
    }
    for (const auto& x : status.value("escalations", json::array())) {
      out += "      escalation " + x.value("name", "") + ": " + x.value("state", "") + " at " +
             x.value("firedAt", "") + "\n";
    }
  }
  return out;
}

const char* const kHelp =
    "usage: remedyctl test [-v] FILE...\n\n"
    "Runs Runbook test files offline: each test starts its own in-process sandbox with\n"
    "the test's objects, runs the real engine and actions on a fake clock (a 30-minute\n"
    "escalation ladder takes milliseconds), fires and resolves the test's alerts, gives\n"
    "its approvals, answers http, notify and PromQL queries from its recordings, and\n"
    "compares the outcome with its expectations. No cluster and no network are used.\n"
    "The format is described in src/cli/README.md (remedyctl test).\n\n"
    "Exit 0 when every test passes; 1 when an expectation fails (each printed with\n"
    "the expected and the actual value); 2 when a file is malformed (file:line:\n"
    "field: message).\n\nflags:\n"
    "  -v, --verbose   print what each test's Incidents did, passing or not\n";

}  // namespace

int runTest(const Args& args) {
  std::vector<std::string> files;
  bool verbose = false;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::printf("%s", kHelp);
      return 0;
    } else if (a == "-v" || a == "--verbose") {
      verbose = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "remedyctl test: unknown flag \"%s\"\n", a.c_str());
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "%s", kHelp);
    return 2;
  }
  // The engine's own logs are not the test's output.
  spdlog::set_level(verbose ? spdlog::level::warn : spdlog::level::off);
  bool malformed = false;
  int tests = 0, failed = 0;
  for (const auto& path : files) {
    TestFileResult read = readTestFile(path);
    if (!read.file) {
      for (const auto& e : read.errors) std::printf("%s\n", e.str().c_str());
      malformed = true;
      continue;
    }
    for (const auto& test : read.file->tests) {
      ++tests;
      auto started = Clock::now();
      TestRun run(*read.file, test);
      auto error = run.run();
      std::vector<Failure> failures;
      if (!error) failures = run.check();
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      if (!error && failures.empty()) {
        std::printf("ok   %s: %s (%s of Runbook time in %.0f ms)\n", path.c_str(),
                    test.name.c_str(), formatOffset(run.elapsed()).c_str(), ms);
        if (verbose) std::printf("%s", run.story().c_str());
        std::fflush(stdout);
        continue;
      }
      ++failed;
      std::printf("FAIL %s: %s\n", test.place.str().c_str(), test.name.c_str());
      if (error)
        std::printf("  %s: the test could not run: %s\n", test.place.str().c_str(), error->c_str());
      for (const auto& f : failures) {
        std::printf("  %s: %s\n    expected: %s\n    actual:   %s\n", f.place.str().c_str(),
                    f.what.c_str(), f.expected.c_str(), f.actual.c_str());
      }
      std::printf("  what happened (%s of Runbook time):\n%s", formatOffset(run.elapsed()).c_str(),
                  run.story().c_str());
      std::fflush(stdout);
    }
  }
  if (tests > 0) {
    std::printf("%d test%s, %d failed\n", tests, tests == 1 ? "" : "s", failed);
  }
  if (malformed) return 2;
  return failed > 0 ? 1 : 0;
}

}  // namespace remedy::cli
