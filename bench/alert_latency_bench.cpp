// Alert-to-first-action latency (#5): the time from an Incident's creation
// to the scale its Runbook's first step applies, over many Incidents. The
// sandbox (over HTTPS), the engine (engine::Engine with the Kubernetes
// actions, throttled like remedy-operator's API client) and the load
// generator all run in this process. See bench/README.md for the workload
// and the figures.
//
// usage: alert_latency_bench [--incidents N] [--rate R (0 = burst)] [--workers W]
//          [--deployments D] [--qps Q (0 = unthrottled)] [--burst B] [--clients C]
//          [--timeout SECONDS]
#include "actions/kubernetes_actions.h"
#include "api/yaml_json.h"
#include "engine/engine.h"
#include "engine/resources.h"
#include "intake/alert_identity.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "sandbox/sandbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace remedy;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr const char* kNamespace = "bench";
constexpr const char* kAlertName = "HighRequestLatency";

struct Options {
  int incidents = 1000;
  double rate = 50;  // Incidents created per second; 0: all at once
  int workers = 4;   // remedy-operator --workers default
  int deployments = 1000;
  double qps = 20;  // remedy-operator --kube-api-qps default
  int burst = 30;   // remedy-operator --kube-api-burst default
  int clients = 4;  // threads creating Incidents
  int timeoutSeconds = 3600;
};

// "VmHWM:" (peak) or "VmRSS:" (current) of this process, in KiB.
long statusKiB(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  }
  return 0;
}

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

// The Incident the intake creates for a firing alert (AlertIntake::create).
json incident(int deploymentIndex, int replicas) {
  std::map<std::string, std::string> labels = {{"alertname", kAlertName},
                                               {"namespace", kNamespace},
                                               {"deployment", deploymentName(deploymentIndex)},
                                               {"replicas", std::to_string(replicas)},
                                               {"severity", "critical"}};
  std::string fingerprint = intake::alertmanagerFingerprint(labels);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  intake::Timestamp startsAt;
  startsAt.seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  startsAt.nanos =
      int32_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1000000000);
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

// The engine's client, counting requests by verb and resource; the token
// bucket (QPS, burst) is the wrapped RestClient's.
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

// The ServiceAccounts' clients (impersonating over the engine's transport),
// their requests counted with the engine's own.
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

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    double v = std::atof(argv[i + 1]);
    if (f == "--incidents") {
      o.incidents = int(v);
    } else if (f == "--rate") {
      o.rate = v;
    } else if (f == "--workers") {
      o.workers = int(v);
    } else if (f == "--deployments") {
      o.deployments = int(v);
    } else if (f == "--qps") {
      o.qps = v;
    } else if (f == "--burst") {
      o.burst = int(v);
    } else if (f == "--clients") {
      o.clients = int(v);
    } else if (f == "--timeout") {
      o.timeoutSeconds = int(v);
    } else {
      fail("unknown flag " + f);
    }
  }
  if (o.incidents < 1 || o.deployments < 1 || o.workers < 1 || o.clients < 1 || o.rate < 0) {
    fail("--incidents, --deployments, --workers and --clients must be at least 1, --rate >= 0");
  }
  // The engine logs a line per step; keep the terminal for the results.
  spdlog::set_level(spdlog::level::warn);
  std::string loadBefore = loadAverage();

  sandbox::SandboxOptions so;
  sandbox::Sandbox sb(so);
  if (auto err = sb.start()) fail(*err);
  kube::Config config;
  config.server = sb.url();
  config.caPem = sb.caCertificatePem();
  config.bearerToken = sb.adminToken();
  config.qps = 0;  // the load generator and the observer are not throttled
  config.origin = "alert_latency_bench";
  auto client = kube::RestClient::fromConfig(config);
  if (!client.ok()) fail(client.status().toString());
  kube::Client& api = **client;

  // Namespaces, CRDs, Deployments (each Ready), the Runbook.
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
  parallelFor(o.deployments, 4, [&](int d) {
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
    if (ready == o.deployments) break;
    if (secondsSince(setupStart) > 120) fail("the Deployments did not become ready in 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  {
    auto spec = api::yamlToJson(kRunbookSpec);
    if (!spec.ok()) fail(spec.error());
    json rb = {{"apiVersion", "remedy.dev/v1alpha1"},
               {"kind", "Runbook"},
               {"metadata", {{"name", "scale-on-latency"}, {"namespace", kNamespace}}},
               {"spec", *spec}};
    check(api.create(engine::runbooks(), kNamespace, rb).status(), "runbook");
  }

  // Incident i scales Deployment i % D to 2 + i / D replicas, so every
  // Incident makes a change of its own, and (Deployment, replicas) says
  // which Incident made it.
  const int n = o.incidents;
  const int d = o.deployments;
  std::vector<std::atomic<int64_t>> createdAt(static_cast<size_t>(n));  // steady ns; 0: not yet
  std::vector<double> latencyMs(size_t(n), -1);
  std::mutex mu;  // guards latencyMs, observed, lastObserved
  int observed = 0;
  Clock::time_point lastObserved;
  int foreign = 0;  // replica changes no Incident asked for

  // Observer: a Deployment watch through an informer of its own client.
  auto observerClient = kube::RestClient::fromConfig(config);
  if (!observerClient.ok()) fail(observerClient.status().toString());
  kube::InformerOptions io;
  io.namespace_ = kNamespace;
  kube::Informer observer(**observerClient, kube::resources::deployments(), io);
  observer.addEventHandler(
      {nullptr,
       [&](const json& before, const json& after) {
         auto now = Clock::now();
         int from = before["spec"].value("replicas", 1);
         int to = after["spec"].value("replicas", 1);
         if (from == to) return;
         std::string name = kube::nameOf(after);
         int dep = std::atoi(name.c_str() + 4);  // "app-N"
         int i = (to - 2) * d + dep;
         std::lock_guard<std::mutex> lock(mu);
         if (to < 2 || i >= n || latencyMs[size_t(i)] >= 0 || createdAt[size_t(i)].load() == 0) {
           ++foreign;
           return;
         }
         auto t0 = Clock::time_point(std::chrono::nanoseconds(createdAt[size_t(i)].load()));
         latencyMs[size_t(i)] = std::chrono::duration<double, std::milli>(now - t0).count();
         ++observed;
         lastObserved = now;
       },
       nullptr});
  observer.start();
  if (!observer.waitForSync(std::chrono::seconds(60))) fail("the Deployment watch did not sync");

  // The engine, as remedy-operator runs it: its own throttled client, an
  // EventRecorder, the Kubernetes actions.
  kube::Config engineConfig = config;
  engineConfig.qps = o.qps;
  engineConfig.burst = o.burst;
  auto engineClient = kube::RestClient::fromConfig(engineConfig);
  if (!engineClient.ok()) fail(engineClient.status().toString());
  kube::EventRecorderOptions eo;
  eo.component = "remedy-operator";
  eo.host = "alert-latency-bench";
  CountingClient engineApi(**engineClient);
  kube::EventRecorder events(engineApi, eo);
  events.start();
  auto registry = actions::kubernetesActionRegistry();
  engine::EngineOptions eng;
  eng.incidentWorkers = o.workers;
  eng.maxFinishedIncidents = 0;  // keep every Incident for the tally
  eng.incident.pauseNamespace = "remedy-system";
  long rssBeforeEngine = statusKiB("VmRSS:");
  CountingServiceAccounts serviceAccounts(**engineClient, engineApi);
  engine::Engine engine(engineApi, serviceAccounts, *registry, kube::Clock::real(), &events, eng);
  check(engine.start(), "engine start");

  char workload[64];
  if (o.rate > 0) {
    std::snprintf(workload, sizeof workload, "paced at %g/s", o.rate);
  } else {
    std::snprintf(workload, sizeof workload, "burst from %d clients", o.clients);
  }
  std::printf(
      "alert-to-first-action benchmark: %d Incidents %s, %d Deployments, %d incident workers, "
      "engine API client qps %g burst %d (sandbox, engine and load in one process; load average "
      "%s)\n",
      n, workload, d, o.workers, o.qps, o.burst, loadBefore.c_str());
  std::fflush(stdout);

  // Load: Incident i is created at start + i / rate (or at once), each
  // timestamped just before its create call.
  std::atomic<int> createFailures{0};
  std::string firstCreateError;
  auto start = Clock::now();
  parallelFor(n, o.clients, [&](int i) {
    if (o.rate > 0)
      std::this_thread::sleep_until(start + std::chrono::duration<double>(i / o.rate));
    json inc = incident(i % d, 2 + i / d);
    createdAt[size_t(i)] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
    auto created = api.create(engine::incidents(), kNamespace, inc);
    if (!created.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (createFailures++ == 0) firstCreateError = created.status().toString();
    }
  });
  double createSecs = secondsSince(start);

  // Done when every Incident's scale is seen, or, once no scale has come
  // for two seconds, every Incident has finished (some without a scale).
  // The phases are counted from the engine's cache only then: copying the
  // cache is not free, and this process shares the CPU with the engine.
  bool timedOut = false;
  while (true) {
    bool stalled;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (observed + createFailures.load() >= n) break;
      stalled = Clock::now() - std::max(lastObserved, start) > std::chrono::seconds(2);
    }
    if (stalled) {
      int finished = 0;
      for (const auto& [phase, count] : engine.incidentsByPhase()) {
        if (phase == "Succeeded" || phase == "Failed" || phase == "Skipped" ||
            phase == "Escalated" || phase == "Cancelled") {
          finished += count;
        }
      }
      if (finished + createFailures.load() >= n) break;
    }
    if (secondsSince(start) > o.timeoutSeconds) {
      timedOut = true;
      break;
    }
    std::this_thread::sleep_for(stalled ? std::chrono::seconds(1) : std::chrono::milliseconds(20));
  }
  double totalSecs;
  std::vector<double> lat;
  {
    std::lock_guard<std::mutex> lock(mu);
    totalSecs = std::chrono::duration<double>(lastObserved - start).count();
    for (double l : latencyMs) {
      if (l >= 0) lat.push_back(l);
    }
  }
  std::string loadAfter = loadAverage();
  long peakRss = statusKiB("VmHWM:");
  auto phases = engine.incidentsByPhase();
  engine.stop();
  events.stop();
  observer.stop();

  std::string phaseText;
  for (const auto& [phase, count] : phases) {
    phaseText += (phaseText.empty() ? "" : ", ") + (phase.empty() ? "(none)" : phase) + " " +
                 std::to_string(count);
  }
  double throughput = totalSecs > 0 ? double(lat.size()) / totalSecs : 0;
  std::printf(
      "SUMMARY %zu/%d scaled%s: median %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; "
      "%.1f scales/s; peak RSS %.0f MiB\n",
      lat.size(), n, timedOut ? " (TIMED OUT)" : "", percentile(lat, 0.5), percentile(lat, 0.9),
      percentile(lat, 0.99), percentile(lat, 1.0), throughput, peakRss / 1024.0);
  std::printf("\n| measure | figure |\n| --- | --- |\n");
  std::printf("| Incidents created | %d in %.2f s (%.1f/s), %d failed%s%s |\n", n, createSecs,
              n / createSecs, createFailures.load(), firstCreateError.empty() ? "" : ": ",
              firstCreateError.c_str());
  std::printf("| scales observed | %zu (%d changes no Incident asked for) |\n", lat.size(),
              foreign);
  std::printf("| Incident phases at the end | %s |\n", phaseText.c_str());
  std::printf("| latency median | %.1f ms |\n", percentile(lat, 0.5));
  std::printf("| latency p90 | %.1f ms |\n", percentile(lat, 0.9));
  std::printf("| latency p99 | %.1f ms |\n", percentile(lat, 0.99));
  std::printf("| latency max | %.1f ms |\n", percentile(lat, 1.0));
  std::printf("| latency min | %.1f ms |\n", percentile(lat, 0.0));
  std::printf("| throughput | %.1f scales/s (first create to last scale, %.2f s) |\n", throughput,
              totalSecs);
  std::printf("| engine | %d reconciles, %d failed; %zu Events written |\n",
              engine.incidentController().reconciles(), engine.incidentController().failures(),
              events.written());
  std::string requests;
  long totalRequests = 0;
  for (const auto& [what, count] : engineApi.counts()) {
    if (what.rfind("watch", 0) == 0) continue;
    totalRequests += count;
    requests += (requests.empty() ? "" : ", ") + what + " " + std::to_string(count);
  }
  std::printf("| engine API requests | %ld, %.1f per Incident: %s |\n", totalRequests,
              double(totalRequests) / n, requests.c_str());
  std::printf("| peak RSS (sandbox + engine + load) | %.0f MiB (%.0f MiB before the engine) |\n",
              peakRss / 1024.0, rssBeforeEngine / 1024.0);
  std::printf("| load average before / after | %s / %s |\n", loadBefore.c_str(), loadAfter.c_str());
  sb.stop();
  return timedOut ? 1 : 0;
}
