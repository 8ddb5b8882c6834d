// Alert-to-first-action latency (#5, #17): the time from an Incident's
// creation to the scale its Runbook's first step applies, over many
// Incidents, for the operator path and, in the same process run, for a bare
// baseline that makes only the unavoidable calls; and, with --idle, the time
// from the webhook's 200 to the first action of single alerts on an idle
// remedy-operator process. See bench/README.md for the workloads and the
// figures.
//
// Burst or paced (the default mode): the sandbox (over HTTPS), the engine
// (engine::Engine with the Kubernetes actions, on remedy-operator's four
// client budgets: the intake's creates the Incidents, then the engine's, the
// follow-ups' and the Events') and the load generator run in this process.
// Then, on a fresh sandbox with the same Deployments, the baseline: one
// client whose budget is the sum of the four, --clients threads creating the
// same Incidents, and --workers threads that, for each Incident a watch
// shows, patch the Deployment's scale subresource and write the Incident's
// status. Both runs are timed alike: from just before the create call to the
// moment a watch sees the Deployment's spec.replicas change.
//
// usage: alert_latency_bench [--incidents N] [--rate R (0 = burst)] [--workers W]
//          [--deployments D] [--qps Q (the engine's; 0 = every budget lifted)] [--burst B]
//          [--intake-qps Q] [--intake-burst B] [--followups-qps Q] [--followups-burst B]
//          [--events-qps Q] [--events-burst B] [--baseline 0|1] [--clients C]
//          [--timeout SECONDS]
//        alert_latency_bench --idle N --operator PATH/TO/remedy-operator [--trace 1]
//          [--quiet-ms MS (default: the engine budget's burst / qps, a full bucket)]
#include "../tests/support/loopback_http.h"
#include "actions/kubernetes_actions.h"
#include "api/yaml_json.h"
#include "engine/engine.h"
#include "engine/resources.h"
#include "intake/alert_identity.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "sandbox/sandbox.h"
#include "sandbox/store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace remedy;
using remedy::testing::HttpAnswer;
using remedy::testing::httpRequest;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr const char* kNamespace = "bench";
constexpr const char* kAlertName = "HighRequestLatency";

// A client budget: requests per second sustained (<= 0: unlimited) and in
// a burst.
struct Budget {
  double qps;
  int burst;
};

struct Options {
  int incidents = 1000;
  double rate = 50;  // Incidents created per second; 0: all at once
  int workers = 4;   // remedy-operator --workers default
  int deployments = 1000;
  // remedy-operator's budgets and their defaults (operator/options.h).
  Budget engine{20, 30};    // --kube-api-qps, --kube-api-burst
  Budget intake{10, 50};    // --intake-qps, --intake-burst
  Budget followups{5, 10};  // --followups-qps, --followups-burst
  Budget events{5, 25};     // --events-qps, --events-burst
  bool baseline = true;     // run the bare baseline after the operator path
  int clients = 4;          // threads creating Incidents
  int timeoutSeconds = 3600;
  int idle = 0;  // > 0: single alerts on an idle remedy-operator process instead
  std::string operatorBinary;
  bool trace = false;  // --idle: print each alert's writes as the sandbox commits them
  // --idle: before each alert, how long the operator's engine budget must
  // have been unused (ms); -1: its burst / qps, a full token bucket.
  long quietMs = -1;
};

// The baseline's budget: the sum of the operator's (unlimited when one is).
Budget sumOfBudgets(const Options& o) {
  Budget sum{0, 0};
  bool unlimited = false;
  for (const Budget& b : {o.engine, o.intake, o.followups, o.events}) {
    unlimited = unlimited || b.qps <= 0;
    sum.qps += b.qps;
    sum.burst += b.burst;
  }
  if (unlimited) sum.qps = 0;
  return sum;
}

std::string budgetText(const Budget& b) {
  if (b.qps <= 0) return "unthrottled";
  char text[64];
  std::snprintf(text, sizeof text, "qps %g burst %d", b.qps, b.burst);
  return text;
}

// "VmHWM:" (peak) or "VmRSS:" (current) of this process, in KiB.
long statusKiB(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  }
  return 0;
}

// Sets VmHWM to the current RSS (Linux >= 4.0, proc(5) clear_refs), so each
// run's peak is its own.
void resetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::string loadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p * double(v.size())));  // nearest rank
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double msBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string deploymentName(int d) { return "app-" + std::to_string(d); }

json deployment(int d) {
  std::string name = deploymentName(d);
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", kNamespace}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx"}}})}}}}}}}};
}

// One step, no guardrails: each Incident scales the Deployment its alert
// names to the replica count its alert carries.
constexpr const char* kRunbookSpec = R"(
triggers:
  - alertName: HighRequestLatency
parameters:
  - name: deployment
    value: '{{ alert.labels.deployment }}'
steps:
  - name: scale-up
    scale:
      target:
        name: '{{ params.deployment }}'
      replicas: '{{ alert.labels.replicas }}'
)";

intake::LabelSet alertLabels(int deploymentIndex, int replicas) {
  return {{"alertname", kAlertName},
          {"namespace", kNamespace},
          {"deployment", deploymentName(deploymentIndex)},
          {"replicas", std::to_string(replicas)},
          {"severity", "critical"}};
}

intake::Timestamp wallNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  intake::Timestamp t;
  t.seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  t.nanos = int32_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1000000000);
  return t;
}

// The Incident the intake creates for a firing alert (AlertIntake::create).
json incident(int deploymentIndex, int replicas) {
  intake::LabelSet labels = alertLabels(deploymentIndex, replicas);
  std::string fingerprint = intake::alertmanagerFingerprint(labels);
  intake::Timestamp startsAt = wallNow();
  json alert = {{"name", kAlertName},
                {"status", "firing"},
                {"labels", labels},
                {"annotations", {{"summary", "p99 latency above 500 ms"}}},
                {"fingerprint", fingerprint},
                {"startsAt", intake::canonicalTimestamp(startsAt)},
                {"generatorURL", "http://prometheus.example/graph"}};
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Incident"},
          {"metadata",
           {{"name", intake::incidentName(kAlertName, fingerprint, startsAt)},
            {"namespace", kNamespace},
            {"labels",
             {{"app.kubernetes.io/managed-by", "remedy"},
              {"remedy.dev/alertname", kAlertName},
              {"remedy.dev/fingerprint", fingerprint}}}}},
          {"spec", {{"source", "Alertmanager"}, {"alert", alert}}}};
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "alert_latency_bench: %s\n", what.c_str());
  std::exit(1);
}

void check(const kube::Status& s, const std::string& what) {
  if (!s.ok()) fail(what + ": " + s.toString());
}

// Runs `one(i)` for i in [0, n) on `threads` threads.
void parallelFor(int n, int threads, const std::function<void(int)>& one) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next++) < n;) one(i);
    });
  }
  for (auto& t : pool) t.join();
}

// A client counting requests by verb and resource; the token bucket (QPS,
// burst) is the wrapped RestClient's.
class CountingClient : public kube::Client {
 public:
  // Counts into `sink` when given (a tenant's client counted with the
  // engine's), else into itself.
  explicit CountingClient(kube::Client& inner, CountingClient* sink = nullptr)
      : inner_(inner), sink_(sink) {}

  kube::Result<json> get(const kube::Resource& r, const std::string& ns, const std::string& name,
                         const kube::GetOptions& o) override {
    count("get", r, o.subresource);
    return inner_.get(r, ns, name, o);
  }
  kube::Result<json> list(const kube::Resource& r, const std::string& ns,
                          const kube::ListOptions& o) override {
    count("list", r, "");
    return inner_.list(r, ns, o);
  }
  kube::Result<json> create(const kube::Resource& r, const std::string& ns, const json& object,
                            const kube::WriteOptions& o) override {
    count("create", r, o.subresource);
    return inner_.create(r, ns, object, o);
  }
  kube::Result<json> update(const kube::Resource& r, const std::string& ns, const json& object,
                            const kube::WriteOptions& o) override {
    count("update", r, o.subresource);
    return inner_.update(r, ns, object, o);
  }
  kube::Result<json> patch(const kube::Resource& r, const std::string& ns, const std::string& name,
                           const std::string& body, const kube::PatchOptions& o) override {
    count("patch", r, o.subresource);
    return inner_.patch(r, ns, name, body, o);
  }
  kube::Result<json> remove(const kube::Resource& r, const std::string& ns, const std::string& name,
                            const kube::DeleteOptions& o) override {
    count("delete", r, "");
    return inner_.remove(r, ns, name, o);
  }
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const kube::Resource& r,
                                                         const std::string& ns,
                                                         const kube::ListOptions& o) override {
    count("watch", r, "");
    return inner_.watch(r, ns, o);
  }
  kube::Result<kube::Resource> resourceFor(const std::string& apiVersion,
                                           const std::string& kind) override {
    return inner_.resourceFor(apiVersion, kind);
  }

  std::map<std::string, long> counts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }

 private:
  void count(const char* verb, const kube::Resource& r, const std::string& subresource) {
    if (sink_) {
      sink_->count(verb, r, subresource);
      return;
    }
    std::string key =
        std::string(verb) + " " + r.resource + (subresource.empty() ? "" : "/") + subresource;
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[key];
  }

  kube::Client& inner_;
  CountingClient* sink_;
  mutable std::mutex mu_;
  std::map<std::string, long> counts_;
};

// The ServiceAccounts' clients (impersonating over a budget's transport),
// their requests counted with that budget's own.
class CountingServiceAccounts : public kube::ServiceAccountClients {
 public:
  CountingServiceAccounts(kube::RestClient& base, CountingClient& sink)
      : impersonating_(base), sink_(sink) {}
  kube::Client& serviceAccount(const std::string& ns, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& client = clients_[{ns, name}];
    if (!client) {
      client = std::make_unique<CountingClient>(impersonating_.serviceAccount(ns, name), &sink_);
    }
    return *client;
  }

 private:
  kube::ImpersonatingClients impersonating_;
  CountingClient& sink_;
  std::mutex mu_;  // guards clients_
  std::map<std::pair<std::string, std::string>, std::unique_ptr<CountingClient>> clients_;
};

// A sandbox over HTTPS in this process with the bench namespace, Remedy's
// CRDs, `deployments` Deployments of one ready pod each and the Runbook.
class Cluster {
 public:
  explicit Cluster(int deployments) {
    if (auto err = sb_.start()) fail(*err);
    config_.server = sb_.url();
    config_.caPem = sb_.caCertificatePem();
    config_.bearerToken = sb_.adminToken();
    config_.qps = 0;  // the load generator and the observer are not throttled
    config_.origin = "alert_latency_bench";
    admin_ = client(Budget{0, 1}, "admin");
    kube::Client& api = *admin_;
    for (const char* ns : {kNamespace, "remedy-system"}) {
      json n = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
      check(api.create(kube::resources::namespaces(), "", n).status(), "namespace");
    }
    for (const char* kind : {"runbooks", "incidents", "approvals", "runbookpolicies"}) {
      std::ifstream in(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml");
      std::stringstream text;
      text << in.rdbuf();
      auto crd = api::yamlToJson(text.str());
      if (!crd.ok()) fail(std::string("crds/remedy.dev_") + kind + ".yaml: " + crd.error());
      check(api.create(kube::resources::customResourceDefinitions(), "", *crd).status(), kind);
    }
    auto setupStart = Clock::now();
    parallelFor(deployments, 4, [&](int d) {
      check(api.create(kube::resources::deployments(), kNamespace, deployment(d)).status(),
            "deployment " + deploymentName(d));
    });
    while (true) {
      auto list = kube::listAll(api, kube::resources::deployments(), kNamespace);
      check(list.status(), "list deployments");
      int ready = 0;
      for (const auto& d : (*list)["items"]) {
        if (d.value("status", json::object()).value("readyReplicas", 0) == 1) ++ready;
      }
      if (ready == deployments) break;
      if (secondsSince(setupStart) > 120) fail("the Deployments did not become ready in 120 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto spec = api::yamlToJson(kRunbookSpec);
    if (!spec.ok()) fail(spec.error());
    json rb = {{"apiVersion", "remedy.dev/v1alpha1"},
               {"kind", "Runbook"},
               {"metadata", {{"name", "scale-on-latency"}, {"namespace", kNamespace}}},
               {"spec", *spec}};
    check(api.create(engine::runbooks(), kNamespace, rb).status(), "runbook");
  }
  ~Cluster() { sb_.stop(); }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  kube::Client& admin() { return *admin_; }
  sandbox::Sandbox& sandbox() { return sb_; }
  // A client of its own (its own connection pool and token bucket).
  std::unique_ptr<kube::RestClient> client(const Budget& budget, const std::string& name,
                                           kube::Duration timeout = std::chrono::seconds(30),
                                           int maxRetries = 10) const {
    kube::Config c = config_;
    c.qps = budget.qps;
    c.burst = budget.burst;
    c.budget = name;
    c.timeout = timeout;
    c.maxRetries = maxRetries;
    auto made = kube::RestClient::fromConfig(c);
    if (!made.ok()) fail(made.status().toString());
    return std::move(made.value());
  }

 private:
  sandbox::Sandbox sb_;
  kube::Config config_;
  std::unique_ptr<kube::RestClient> admin_;
};

// Incident i scales Deployment i % D to 2 + i / D replicas, so every
// Incident makes a change of its own, and (Deployment, replicas) says which
// Incident made it. The tally timestamps each create and, from a
// Deployment watch through an informer of its own client, each scale.
class ScaleTally {
 public:
  ScaleTally(Cluster& cluster, int incidents, int deployments)
      : n_(incidents),
        d_(deployments),
        createdAt_(size_t(incidents)),
        latencyMs_(size_t(incidents), -1),
        client_(cluster.client(Budget{0, 1}, "observer")) {
    kube::InformerOptions io;
    io.namespace_ = kNamespace;
    observer_ = std::make_unique<kube::Informer>(*client_, kube::resources::deployments(), io);
    observer_->addEventHandler(
        {nullptr, [this](const json& before, const json& after) { observe(before, after); },
         nullptr});
    observer_->start();
    if (!observer_->waitForSync(std::chrono::seconds(60))) {
      fail("the Deployment watch did not sync");
    }
  }
  ~ScaleTally() { observer_->stop(); }

  json incidentFor(int i) const { return incident(i % d_, 2 + i / d_); }
  // Just before Incident i's create call.
  void creating(int i) {
    createdAt_[size_t(i)] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
  }
  void createFailed(const kube::Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (createFailures_++ == 0) firstCreateError_ = s.toString();
  }

  // Waits until every Incident's scale is seen, or, once no scale has come
  // for two seconds, `allFinished` says every Incident is done (some
  // without a scale); false on the timeout.
  bool wait(Clock::time_point start, int timeoutSeconds, const std::function<bool()>& allFinished) {
    while (true) {
      bool stalled;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (observed_ + createFailures_ >= n_) return true;
        stalled = Clock::now() - std::max(lastObserved_, start) > std::chrono::seconds(2);
      }
      if (stalled && allFinished()) return true;
      if (secondsSince(start) > timeoutSeconds) return false;
      std::this_thread::sleep_for(stalled ? std::chrono::seconds(1)
                                          : std::chrono::milliseconds(20));
    }
  }

  std::vector<double> latencies() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<double> out;
    for (double l : latencyMs_) {
      if (l >= 0) out.push_back(l);
    }
    return out;
  }
  Clock::time_point lastObserved() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lastObserved_;
  }
  int foreign() const {
    std::lock_guard<std::mutex> lock(mu_);
    return foreign_;
  }
  int createFailures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return createFailures_;
  }
  std::string firstCreateError() const {
    std::lock_guard<std::mutex> lock(mu_);
    return firstCreateError_;
  }

 private:
  void observe(const json& before, const json& after) {
    auto now = Clock::now();
    int from = before["spec"].value("replicas", 1);
    int to = after["spec"].value("replicas", 1);
    if (from == to) return;
    std::string name = kube::nameOf(after);
    int dep = std::atoi(name.c_str() + 4);  // "app-N"
    int i = (to - 2) * d_ + dep;
    std::lock_guard<std::mutex> lock(mu_);
    if (to < 2 || i >= n_ || latencyMs_[size_t(i)] >= 0 || createdAt_[size_t(i)].load() == 0) {
      ++foreign_;
      return;
    }
    auto t0 = Clock::time_point(std::chrono::nanoseconds(createdAt_[size_t(i)].load()));
    latencyMs_[size_t(i)] = msBetween(t0, now);
    ++observed_;
    lastObserved_ = now;
  }

  const int n_;
  const int d_;
  std::vector<std::atomic<int64_t>> createdAt_;  // steady ns; 0: not yet
  mutable std::mutex mu_;                        // guards everything below
  std::vector<double> latencyMs_;
  int observed_ = 0;
  Clock::time_point lastObserved_;
  int foreign_ = 0;  // replica changes no Incident asked for
  int createFailures_ = 0;
  std::string firstCreateError_;
  std::unique_ptr<kube::RestClient> client_;
  std::unique_ptr<kube::Informer> observer_;
};

// What one run measured.
struct RunFigures {
  std::string name;
  int incidents = 0;
  std::vector<double> latencyMs;  // of the Incidents whose scale was seen
  double createSecs = 0;
  int createFailures = 0;
  std::string firstCreateError;
  double totalSecs = 0;  // first create to last scale
  int foreign = 0;
  bool timedOut = false;
  long peakRssKiB = 0;
  std::string loadBefore, loadAfter;
  // "budget: verb resource[/subresource]" -> requests (watches left out).
  std::map<std::string, long> requests;
  long eventRequests = 0;
  std::vector<std::pair<std::string, std::string>> rows;  // run-specific table rows

  double throughput() const { return totalSecs > 0 ? double(latencyMs.size()) / totalSecs : 0; }
  long allRequests() const {
    long all = 0;
    for (const auto& [what, count] : requests) all += count;
    return all;
  }
};

void addRequests(RunFigures& f, const std::string& budget, const CountingClient& c) {
  for (const auto& [what, count] : c.counts()) {
    if (what.rfind("watch", 0) == 0) continue;
    f.requests[budget + ": " + what] += count;
    if (what == "create events" || what == "patch events") f.eventRequests += count;
  }
}

// Creates the Incidents (all at once from o.clients threads, or paced at
// o.rate) through `creator`, each timestamped just before its create call;
// the seconds it took.
double createIncidents(const Options& o, ScaleTally& tally, kube::Client& creator,
                       Clock::time_point start) {
  parallelFor(o.incidents, o.clients, [&](int i) {
    if (o.rate > 0)
      std::this_thread::sleep_until(start + std::chrono::duration<double>(i / o.rate));
    json inc = tally.incidentFor(i);
    tally.creating(i);
    auto created = creator.create(engine::incidents(), kNamespace, inc);
    if (!created.ok()) tally.createFailed(created.status());
  });
  return secondsSince(start);
}

void finish(RunFigures& f, const ScaleTally& tally, Clock::time_point start) {
  f.latencyMs = tally.latencies();
  f.totalSecs = std::chrono::duration<double>(tally.lastObserved() - start).count();
  f.foreign = tally.foreign();
  f.createFailures = tally.createFailures();
  f.firstCreateError = tally.firstCreateError();
  f.loadAfter = loadAverage();
  f.peakRssKiB = statusKiB("VmHWM:");
}

// The operator path: the engine as remedy-operator wires it, each part of
// the operator on a client and budget of its own.
RunFigures runOperator(const Options& o) {
  RunFigures f;
  f.name = "operator";
  f.incidents = o.incidents;
  resetPeakRss();
  f.loadBefore = loadAverage();
  Cluster cluster(o.deployments);
  ScaleTally tally(cluster, o.incidents, o.deployments);

  // As runOperator (operator/operator.cpp) makes them: timeouts, retries.
  auto intakeRest = cluster.client(o.intake, "intake", std::chrono::seconds(10), 1);
  auto engineRest = cluster.client(o.engine, "engine");
  auto followupsRest = cluster.client(o.followups, "followups");
  auto eventsRest = cluster.client(o.events, "events", std::chrono::seconds(10));
  CountingClient intakeApi(*intakeRest);
  CountingClient engineApi(*engineRest);
  CountingClient followupsApi(*followupsRest);
  CountingClient eventsApi(*eventsRest);
  kube::EventRecorderOptions eo;
  eo.component = "remedy-operator";
  eo.host = "alert-latency-bench";
  kube::EventRecorder events(eventsApi, eo);
  events.start();
  auto registry = actions::kubernetesActionRegistry();
  CountingServiceAccounts serviceAccounts(*engineRest, engineApi);
  CountingServiceAccounts followupServiceAccounts(*followupsRest, followupsApi);
  engine::EngineOptions eng;
  eng.incidentWorkers = o.workers;
  eng.maxFinishedIncidents = 0;  // keep every Incident for the tally
  eng.incident.pauseNamespace = "remedy-system";
  eng.incident.followupClient = &followupsApi;
  eng.incident.followupServiceAccounts = &followupServiceAccounts;
  eng.sweeperClient = &followupsApi;
  long rssBeforeEngine = statusKiB("VmRSS:");
  engine::Engine engine(engineApi, serviceAccounts, *registry, kube::Clock::real(), &events, eng);
  check(engine.start(), "engine start");

  auto start = Clock::now();
  f.createSecs = createIncidents(o, tally, intakeApi, start);
  // The phases are counted from the engine's cache only when the scales
  // stall: copying the cache is not free, and this process shares the CPU
  // with the engine.
  f.timedOut = !tally.wait(start, o.timeoutSeconds, [&] {
    int finished = 0;
    for (const auto& [phase, count] : engine.incidentsByPhase()) {
      if (phase == "Succeeded" || phase == "Failed" || phase == "Skipped" || phase == "Escalated" ||
          phase == "Cancelled") {
        finished += count;
      }
    }
    return finished + tally.createFailures() >= o.incidents;
  });
  finish(f, tally, start);
  auto phases = engine.incidentsByPhase();
  int reconciles = engine.incidentController().reconciles();
  int failures = engine.incidentController().failures();
  engine.stop();
  events.stop();
  addRequests(f, "intake", intakeApi);
  addRequests(f, "engine", engineApi);
  addRequests(f, "followups", followupsApi);
  addRequests(f, "events", eventsApi);

  std::string phaseText;
  for (const auto& [phase, count] : phases) {
    phaseText += (phaseText.empty() ? "" : ", ") + (phase.empty() ? "(none)" : phase) + " " +
                 std::to_string(count);
  }
  f.rows.emplace_back("budgets", "intake " + budgetText(o.intake) + ", engine " +
                                     budgetText(o.engine) + ", follow-ups " +
                                     budgetText(o.followups) + ", Events " + budgetText(o.events));
  f.rows.emplace_back("Incident phases at the end", phaseText);
  f.rows.emplace_back("engine", std::to_string(reconciles) + " reconciles, " +
                                    std::to_string(failures) + " failed; " +
                                    std::to_string(events.written()) + " Events written");
  f.rows.emplace_back("RSS before the engine", std::to_string(rssBeforeEngine / 1024) + " MiB");
  return f;
}

// The bare baseline: the same Incidents created through one client whose
// budget is the sum of the operator's, and `workers` threads that, for each
// Incident its watch shows, patch the scale its alert names and write the
// Incident's status through that client. Nothing else: no Runbook read, no
// guardrail, no Lease, no Event, no read before a write.
class BareController {
 public:
  BareController(kube::Client& client, int workers) : client_(client) {
    kube::InformerOptions io;
    io.namespace_ = kNamespace;
    informer_ = std::make_unique<kube::Informer>(client_, engine::incidents(), io);
    informer_->addEventHandler(
        {[this](const json& incident, bool) { enqueue(incident); }, nullptr, nullptr});
    informer_->start();
    if (!informer_->waitForSync(std::chrono::seconds(60))) fail("the Incident watch did not sync");
    for (int w = 0; w < workers; ++w) workers_.emplace_back([this] { work(); });
  }
  ~BareController() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    informer_->stop();
  }
  BareController(const BareController&) = delete;
  BareController& operator=(const BareController&) = delete;

  int done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  int failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  std::string firstError() const {
    std::lock_guard<std::mutex> lock(mu_);
    return firstError_;
  }

 private:
  void enqueue(const json& incident) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(incident);
    }
    wake_.notify_one();
  }

  void work() {
    while (true) {
      json incident;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        incident = std::move(queue_.front());
        queue_.pop_front();
      }
      kube::Status s = act(incident);
      std::lock_guard<std::mutex> lock(mu_);
      ++done_;
      if (!s.ok() && failed_++ == 0) firstError_ = s.toString();
    }
  }

  kube::Status act(json incident) {
    const json& labels = incident["spec"]["alert"]["labels"];
    std::string target = labels.value("deployment", "");
    int replicas = std::atoi(labels.value("replicas", "0").c_str());
    std::string startedAt = intake::canonicalTimestamp(wallNow());
    kube::PatchOptions po;
    po.subresource = "scale";
    json scale = {{"spec", {{"replicas", replicas}}}};
    auto scaled =
        client_.patch(kube::resources::deployments(), kNamespace, target, scale.dump(), po);
    if (!scaled.ok()) return scaled.status();
    std::string finishedAt = intake::canonicalTimestamp(wallNow());
    incident["status"] = {{"phase", "Succeeded"},
                          {"startedAt", startedAt},
                          {"finishedAt", finishedAt},
                          {"steps", json::array({{{"name", "scale-up"},
                                                  {"phase", "Succeeded"},
                                                  {"attempts", 1},
                                                  {"startedAt", startedAt},
                                                  {"finishedAt", finishedAt}}})}};
    kube::WriteOptions wo;
    wo.subresource = "status";
    return client_.update(engine::incidents(), kNamespace, incident, wo).status();
  }

  kube::Client& client_;
  std::unique_ptr<kube::Informer> informer_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  std::deque<json> queue_;
  bool stopping_ = false;
  int done_ = 0;
  int failed_ = 0;
  std::string firstError_;
  std::vector<std::thread> workers_;
};

RunFigures runBaseline(const Options& o) {
  RunFigures f;
  f.name = "baseline";
  f.incidents = o.incidents;
  resetPeakRss();
  f.loadBefore = loadAverage();
  Cluster cluster(o.deployments);
  ScaleTally tally(cluster, o.incidents, o.deployments);
  Budget budget = sumOfBudgets(o);
  auto rest = cluster.client(budget, "baseline");
  CountingClient api(*rest);
  auto controller = std::make_unique<BareController>(api, o.workers);
  auto start = Clock::now();
  f.createSecs = createIncidents(o, tally, api, start);
  f.timedOut = !tally.wait(start, o.timeoutSeconds, [&] {
    return controller->done() + tally.createFailures() >= o.incidents;
  });
  // Every status written, so that the counts are the whole run's.
  while (controller->done() + tally.createFailures() < o.incidents &&
         secondsSince(start) < o.timeoutSeconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  finish(f, tally, start);
  int done = controller->done();
  int failed = controller->failed();
  std::string firstError = controller->firstError();
  controller.reset();
  addRequests(f, "baseline", api);
  f.rows.emplace_back("budget", budgetText(budget) + " (the sum of the operator's)");
  f.rows.emplace_back("Incidents acted on", std::to_string(done) + ", " + std::to_string(failed) +
                                                " failed" + (firstError.empty() ? "" : ": ") +
                                                firstError);
  return f;
}

void printRun(const RunFigures& f) {
  const auto& lat = f.latencyMs;
  std::printf(
      "\n%s: %zu/%d scaled%s: median %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; "
      "%.1f scales/s; peak RSS %.0f MiB\n",
      f.name.c_str(), lat.size(), f.incidents, f.timedOut ? " (TIMED OUT)" : "",
      percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99), percentile(lat, 1.0),
      f.throughput(), f.peakRssKiB / 1024.0);
  std::printf("\n| %s | figure |\n| --- | --- |\n", f.name.c_str());
  std::printf("| Incidents created | %d in %.2f s (%.1f/s), %d failed%s%s |\n", f.incidents,
              f.createSecs, f.incidents / f.createSecs, f.createFailures,
              f.firstCreateError.empty() ? "" : ": ", f.firstCreateError.c_str());
  std::printf("| scales observed | %zu (%d changes no Incident asked for) |\n", lat.size(),
              f.foreign);
  for (const auto& [what, value] : f.rows) {
    std::printf("| %s | %s |\n", what.c_str(), value.c_str());
  }
  std::printf("| latency median / p90 / p99 / max / min | %.1f / %.1f / %.1f / %.1f / %.1f ms |\n",
              percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99),
              percentile(lat, 1.0), percentile(lat, 0.0));
  std::printf("| throughput | %.1f scales/s (first create to last scale, %.2f s) |\n",
              f.throughput(), f.totalSecs);
  std::string requests;
  for (const auto& [what, count] : f.requests) {
    requests += (requests.empty() ? "" : ", ") + what + " " + std::to_string(count);
  }
  long all = f.allRequests();
  std::printf(
      "| API requests (with the creates) | %ld, %.1f per Incident; without Events %ld, "
      "%.1f per Incident: %s |\n",
      all, double(all) / f.incidents, all - f.eventRequests,
      double(all - f.eventRequests) / f.incidents, requests.c_str());
  std::printf("| peak RSS (sandbox + %s + load) | %.0f MiB |\n", f.name.c_str(),
              f.peakRssKiB / 1024.0);
  std::printf("| load average before / after | %s / %s |\n", f.loadBefore.c_str(),
              f.loadAfter.c_str());
  std::fflush(stdout);
}

void printSideBySide(const RunFigures& op, const RunFigures& base) {
  std::printf(
      "\n| measure | operator | baseline | operator / baseline |\n| --- | --- | --- | --- |\n");
  const std::pair<const char*, double> percentiles[] = {
      {"latency median", 0.5}, {"latency p90", 0.9}, {"latency p99", 0.99}, {"latency max", 1.0}};
  for (const auto& [name, p] : percentiles) {
    double a = percentile(op.latencyMs, p);
    double b = percentile(base.latencyMs, p);
    std::printf("| %s | %.1f ms | %.1f ms | %.2f |\n", name, a, b, b > 0 ? a / b : 0);
  }
  std::printf("| throughput | %.1f scales/s | %.1f scales/s | %.2f |\n", op.throughput(),
              base.throughput(), base.throughput() > 0 ? op.throughput() / base.throughput() : 0);
  double opAll = double(op.allRequests()) / op.incidents;
  double baseAll = double(base.allRequests()) / base.incidents;
  double opBare = double(op.allRequests() - op.eventRequests) / op.incidents;
  double baseBare = double(base.allRequests() - base.eventRequests) / base.incidents;
  std::printf("| API requests per Incident (with the create) | %.2f | %.2f | %.2f |\n", opAll,
              baseAll, opAll / baseAll);
  std::printf("| without Events | %.2f | %.2f | %.2f |\n", opBare, baseBare, opBare / baseBare);
  // VmHWM restarts from the RSS the operator run left (its heap is kept by
  // the allocator), so the baseline's peak is no measure of the baseline.
  std::printf("| peak RSS | %.0f MiB | %.0f MiB (after the operator run) | |\n",
              op.peakRssKiB / 1024.0, base.peakRssKiB / 1024.0);
  std::printf("| load average before | %s | %s | |\n", op.loadBefore.c_str(),
              base.loadBefore.c_str());
  std::printf("RATIO p99 %.2f max %.2f (operator / baseline; the issue's target: at most 1.5)\n",
              percentile(base.latencyMs, 0.99) > 0
                  ? percentile(op.latencyMs, 0.99) / percentile(base.latencyMs, 0.99)
                  : 0,
              percentile(base.latencyMs, 1.0) > 0
                  ? percentile(op.latencyMs, 1.0) / percentile(base.latencyMs, 1.0)
                  : 0);
}

// ---- One alert at a time on an idle remedy-operator process (--idle) ----

// A loopback port the kernel found free (a moment's race with other
// processes, acceptable for a benchmark run by hand).
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail("no free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// remedy-operator as a child process, its output in `logPath`; SIGTERM on
// destruction (SIGKILL after 10 s).
class OperatorProcess {
 public:
  OperatorProcess(const std::vector<std::string>& argv, const std::string& logPath)
      : logPath_(logPath) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (pid_ < 0) fail("fork");
  }
  ~OperatorProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  bool running() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string logTail() const {
    std::ifstream in(logPath_);
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

 private:
  std::string logPath_;
  pid_t pid_ = -1;
};

// When each Deployment's spec.replicas changed and each Incident finished,
// as the sandbox's store commits them (on the writing thread).
class CommitTimes {
 public:
  explicit CommitTimes(sandbox::Store& store) {
    store.addObserver([this](const sandbox::StoreEvent& e) { observe(e); });
  }
  // Waits up to `timeout` for Deployment `name`'s scale; nullopt if none came.
  std::optional<Clock::time_point> scaled(const std::string& name, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    bool seen = changed_.wait_for(lock, timeout, [&] { return scaledAt_.count(name) > 0; });
    if (!seen) return std::nullopt;
    return scaledAt_[name];
  }
  // Waits up to `timeout` for the Incident of alert `fingerprint` to finish.
  bool finished(const std::string& fingerprint, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return finished_.count(fingerprint) > 0; });
  }
  // The writes to Incidents, Leases, Runbooks and Deployments' spec.replicas
  // since `from`, each "+MS what", in commit order.
  std::string writesSince(Clock::time_point from) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    char line[160];
    for (const auto& [at, what] : writes_) {
      if (at < from) continue;
      std::snprintf(line, sizeof line, "%s+%.1f %s", out.empty() ? "" : ", ", msBetween(from, at),
                    what.c_str());
      out += line;
    }
    return out;
  }

 private:
  void observe(const sandbox::StoreEvent& e) {
    auto now = Clock::now();
    record(e, now);
    if (e.type != sandbox::EventType::Modified || !e.object || !e.previous) return;
    const json& after = *e.object;
    const json& before = *e.previous;
    if (e.storageKey == "apps/deployments") {
      int from = before.value("spec", json::object()).value("replicas", 1);
      int to = after.value("spec", json::object()).value("replicas", 1);
      if (from == to) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        scaledAt_.emplace(e.name, now);
      }
      changed_.notify_all();
    } else if (e.storageKey.find("incidents") != std::string::npos) {
      std::string phase = after.value("status", json::object()).value("phase", "");
      if (phase != "Succeeded" && phase != "Failed" && phase != "Skipped") return;
      std::string fingerprint =
          after["metadata"].value("labels", json::object()).value("remedy.dev/fingerprint", "");
      {
        std::lock_guard<std::mutex> lock(mu_);
        finished_.insert(fingerprint);
      }
      changed_.notify_all();
    }
  }

  void record(const sandbox::StoreEvent& e, Clock::time_point now) {
    const char* kind = nullptr;
    for (const char* k : {"incidents", "leases", "runbooks", "deployments"}) {
      if (e.storageKey.size() >= std::strlen(k) &&
          e.storageKey.compare(e.storageKey.size() - std::strlen(k), std::string::npos, k) == 0) {
        kind = k;
      }
    }
    if (!kind || !e.object) return;
    std::string what = std::string(kind) + " " + sandbox::eventTypeName(e.type);
    const json& after = *e.object;
    if (std::strcmp(kind, "deployments") == 0) {
      int to = after.value("spec", json::object()).value("replicas", 1);
      int from = e.previous ? e.previous->value("spec", json::object()).value("replicas", 1) : to;
      if (from == to) return;  // the workload simulator's status writes
      what = "scale to " + std::to_string(to);
    } else if (std::strcmp(kind, "incidents") == 0) {
      const json status = after.value("status", json::object());
      what += " " + status.value("phase", std::string("-"));
      for (const auto& step : status.value("steps", json::array())) {
        what += "/" + step.value("phase", std::string("-"));
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    writes_.emplace_back(now, what);
  }

  std::mutex mu_;  // guards scaledAt_, finished_, writes_
  std::vector<std::pair<Clock::time_point, std::string>> writes_;
  std::condition_variable changed_;
  std::map<std::string, Clock::time_point> scaledAt_;  // the first change only
  std::set<std::string> finished_;
};

// The operator's API requests on its engine budget so far, from /metrics
// (remedy_kube_client_requests_total{budget="engine"}); -1 without an answer.
double engineRequests(int metricsPort) {
  HttpAnswer answer = httpRequest(metricsPort, "GET", "/metrics", "", {});
  if (answer.status != 200) return -1;
  std::istringstream in(answer.body);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind("remedy_kube_client_requests_total{", 0) != 0) continue;
    if (line.find("budget=\"engine\"") == std::string::npos) continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

// Waits until the operator has made no request on its engine budget for
// `quiet`, so that its token bucket is full again (burst / qps), as on an
// operator that has had nothing to do; false after 60 s.
bool waitQuiet(int metricsPort, std::chrono::milliseconds quiet) {
  double last = engineRequests(metricsPort);
  auto since = Clock::now();
  auto deadline = since + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    if (Clock::now() - since >= quiet) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    double now = engineRequests(metricsPort);
    if (now != last) {
      last = now;
      since = Clock::now();
    }
  }
  return false;
}

json webhookPayload(const intake::LabelSet& labels) {
  json alert = {{"status", "firing"},
                {"labels", labels},
                {"annotations", {{"summary", "p99 latency above 500 ms"}}},
                {"startsAt", intake::canonicalTimestamp(wallNow())},
                {"endsAt", "0001-01-01T00:00:00Z"},
                {"generatorURL", "http://prometheus.example/graph"},
                {"fingerprint", intake::alertmanagerFingerprint(labels)}};
  return {{"version", "4"},
          {"receiver", "remedy"},
          {"status", "firing"},
          {"groupKey", "{}:{}"},
          {"truncatedAlerts", 0},
          {"groupLabels", json::object()},
          {"commonLabels", json::object()},
          {"commonAnnotations", json::object()},
          {"externalURL", "http://alertmanager.example"},
          {"alerts", json::array({alert})}};
}

// Single alerts on an idle remedy-operator: its default flags, against the
// sandbox of this process, alerts posted to its webhook with a bearer token
// one at a time, each after the previous Incident finished and the
// operator's engine budget went unused for --quiet-ms (its token bucket full
// again). The first alert (the operator's first Incident: it becomes the
// leader, its caches sync) is shown apart.
int runIdle(const Options& o) {
  if (o.operatorBinary.empty()) fail("--idle needs --operator PATH/TO/remedy-operator");
  std::string loadBefore = loadAverage();
  const int alerts = o.idle + 1;
  Cluster cluster(alerts);
  CommitTimes commits(cluster.sandbox().store());
  char dir[] = "/tmp/alert-latency-bench.XXXXXX";
  if (!::mkdtemp(dir)) fail("mkdtemp");
  std::string kubeconfigPath = std::string(dir) + "/kubeconfig";
  std::string tokenPath = std::string(dir) + "/webhook-token";
  std::string token = "alert-latency-bench-" + std::to_string(::getpid());
  std::ofstream(kubeconfigPath) << cluster.sandbox().kubeconfig();
  std::ofstream(tokenPath) << token << "\n";
  int webhookPort = freePort();
  int metricsPort = freePort();
  int healthPort = freePort();
  OperatorProcess op(
      {o.operatorBinary, "--kubeconfig", kubeconfigPath, "--webhook-bind-address", "127.0.0.1",
       "--webhook-port", std::to_string(webhookPort), "--webhook-token-file", tokenPath,
       "--metrics-bind-address", "127.0.0.1", "--metrics-port", std::to_string(metricsPort),
       "--health-port", std::to_string(healthPort), "--log-format", "text", "--log-level", "warn"},
      std::string(dir) + "/operator.log");
  auto readyBy = Clock::now() + std::chrono::seconds(60);
  while (httpRequest(healthPort, "GET", "/readyz", "", {}).status != 200) {
    if (!op.running() || Clock::now() > readyBy) {
      fail("remedy-operator did not become ready:\n" + op.logTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // An idle operator's engine budget is full: burst / qps after its last request.
  auto quiet = std::chrono::milliseconds(
      o.quietMs >= 0 ? o.quietMs
                     : (o.engine.qps > 0 ? long(1000 * o.engine.burst / o.engine.qps) : 0));
  std::printf(
      "one alert at a time on an idle remedy-operator (default flags; sandbox in this "
      "process), each once the previous finished and the engine budget was unused for "
      "%ld ms; load average %s\n",
      long(quiet.count()), loadBefore.c_str());
  std::fflush(stdout);

  std::vector<double> answerMs, afterAnswerMs, afterPostMs;
  for (int k = 0; k < alerts; ++k) {
    if (!waitQuiet(metricsPort, quiet)) fail("the operator's engine never went quiet");
    intake::LabelSet labels = alertLabels(k, 2);
    std::string body = webhookPayload(labels).dump();
    auto posted = Clock::now();
    HttpAnswer answer =
        httpRequest(webhookPort, "POST", "/api/v1/alerts", body,
                    {"Authorization: Bearer " + token, "Content-Type: application/json"});
    auto answered = Clock::now();
    if (answer.status != 200) {
      fail("alert " + std::to_string(k) + ": the webhook answered " +
           std::to_string(answer.status) + " " + answer.body + "\n" + op.logTail());
    }
    // The first alert also waits for the operator to lead.
    auto scaledAt = commits.scaled(deploymentName(k), std::chrono::seconds(k == 0 ? 60 : 30));
    if (!scaledAt) fail("alert " + std::to_string(k) + ": no scale\n" + op.logTail());
    if (!commits.finished(intake::alertmanagerFingerprint(labels), std::chrono::seconds(30))) {
      fail("alert " + std::to_string(k) + ": its Incident did not finish\n" + op.logTail());
    }
    if (o.trace) {
      std::printf("alert %d: 200 +%.1f; %s\n", k, msBetween(posted, answered),
                  commits.writesSince(posted).c_str());
    }
    double answerTook = msBetween(posted, answered);
    double afterAnswer = msBetween(answered, *scaledAt);
    double afterPost = msBetween(posted, *scaledAt);
    if (k == 0) {
      std::printf(
          "first alert (not counted): 200 after %.1f ms, first action %.1f ms after the "
          "200\n",
          answerTook, afterAnswer);
      continue;
    }
    answerMs.push_back(answerTook);
    afterAnswerMs.push_back(afterAnswer);
    afterPostMs.push_back(afterPost);
  }
  std::printf(
      "\n| %d single alerts, idle operator | median | p90 | max | min |\n"
      "| --- | --- | --- | --- | --- |\n",
      o.idle);
  const std::pair<const char*, const std::vector<double>*> rows[] = {
      {"the webhook's 200 to the first action", &afterAnswerMs},
      {"the post to the webhook's 200", &answerMs},
      {"the post to the first action", &afterPostMs}};
  for (const auto& [what, v] : rows) {
    std::printf("| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms |\n", what, percentile(*v, 0.5),
                percentile(*v, 0.9), percentile(*v, 1.0), percentile(*v, 0.0));
  }
  std::printf(
      "IDLE 200-to-first-action median %.1f ms, p90 %.1f ms, max %.1f ms (target: 50 ms); "
      "load average after %s\n",
      percentile(afterAnswerMs, 0.5), percentile(afterAnswerMs, 0.9),
      percentile(afterAnswerMs, 1.0), loadAverage().c_str());
  ::unlink(kubeconfigPath.c_str());
  ::unlink(tokenPath.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::set<std::string> given;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    std::string text = argv[i + 1];
    double v = std::atof(text.c_str());
    given.insert(f);
    if (f == "--incidents") {
      o.incidents = int(v);
    } else if (f == "--rate") {
      o.rate = v;
    } else if (f == "--workers") {
      o.workers = int(v);
    } else if (f == "--deployments") {
      o.deployments = int(v);
    } else if (f == "--qps") {
      o.engine.qps = v;
    } else if (f == "--burst") {
      o.engine.burst = int(v);
    } else if (f == "--intake-qps") {
      o.intake.qps = v;
    } else if (f == "--intake-burst") {
      o.intake.burst = int(v);
    } else if (f == "--followups-qps") {
      o.followups.qps = v;
    } else if (f == "--followups-burst") {
      o.followups.burst = int(v);
    } else if (f == "--events-qps") {
      o.events.qps = v;
    } else if (f == "--events-burst") {
      o.events.burst = int(v);
    } else if (f == "--baseline") {
      o.baseline = v != 0;
    } else if (f == "--clients") {
      o.clients = int(v);
    } else if (f == "--timeout") {
      o.timeoutSeconds = int(v);
    } else if (f == "--idle") {
      o.idle = int(v);
    } else if (f == "--quiet-ms") {
      o.quietMs = long(v);
    } else if (f == "--trace") {
      o.trace = v != 0;
    } else if (f == "--operator") {
      o.operatorBinary = text;
    } else {
      fail("unknown flag " + f);
    }
  }
  if ((argc - 1) % 2 != 0) fail(std::string("flag ") + argv[argc - 1] + " has no value");
  // --qps 0: every budget lifted (the operator's, and so the baseline's),
  // unless given on its own.
  if (o.engine.qps <= 0) {
    if (!given.count("--intake-qps")) o.intake.qps = 0;
    if (!given.count("--followups-qps")) o.followups.qps = 0;
    if (!given.count("--events-qps")) o.events.qps = 0;
  }
  if (o.incidents < 1 || o.deployments < 1 || o.workers < 1 || o.clients < 1 || o.rate < 0 ||
      o.idle < 0) {
    fail(
        "--incidents, --deployments, --workers and --clients must be at least 1, --rate and "
        "--idle >= 0");
  }
  // The engine logs a line per step; keep the terminal for the results.
  spdlog::set_level(spdlog::level::warn);
  if (o.idle > 0) return runIdle(o);

  char workload[64];
  if (o.rate > 0) {
    std::snprintf(workload, sizeof workload, "paced at %g/s", o.rate);
  } else {
    std::snprintf(workload, sizeof workload, "burst from %d clients", o.clients);
  }
  std::printf(
      "alert-to-first-action benchmark: %d Incidents %s, %d Deployments, %d workers; operator "
      "budgets: intake %s, engine %s, follow-ups %s, Events %s; baseline %s (sandbox, engine or "
      "baseline, and load in one process; load average %s)\n",
      o.incidents, workload, o.deployments, o.workers, budgetText(o.intake).c_str(),
      budgetText(o.engine).c_str(), budgetText(o.followups).c_str(), budgetText(o.events).c_str(),
      o.baseline ? budgetText(sumOfBudgets(o)).c_str() : "not run", loadAverage().c_str());
  std::fflush(stdout);
  RunFigures op = runOperator(o);
  std::printf(
      "SUMMARY %zu/%d scaled%s: median %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; "
      "%.1f scales/s; peak RSS %.0f MiB\n",
      op.latencyMs.size(), o.incidents, op.timedOut ? " (TIMED OUT)" : "",
      percentile(op.latencyMs, 0.5), percentile(op.latencyMs, 0.9), percentile(op.latencyMs, 0.99),
      percentile(op.latencyMs, 1.0), op.throughput(), op.peakRssKiB / 1024.0);
  printRun(op);
  if (!o.baseline) return op.timedOut ? 1 : 0;
  RunFigures base = runBaseline(o);
  printRun(base);
  printSideBySide(op, base);
  return op.timedOut || base.timedOut ? 1 : 0;
}
