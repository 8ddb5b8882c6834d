// Incident memory benchmark: what the operator's informer cache of
// Incidents costs at the chart's retention (1,000 finished Incidents by
// default, plus the active ones: 1,500 here), for Incidents of the largest
// shape the intake lets through and of a typical one. The API server is a
// `remedyctl sandbox` child process, so this process's memory is the
// client's alone. See bench/README.md for the workload and figures.
//
// usage: incident_memory_bench PATH/TO/remedyctl [--incidents N] [--shape largest|typical]
//                              [--uncut]
// --uncut stores the alerts whole, as the intake did before it bounded them.
#include "api/crd_schemas.h"
#include "api/yaml_json.h"
#include "intake/incident_alert.h"
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "process_memory.h"
#include "sandbox_process.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace remedy;
using bench::heapInUse;
using bench::rssKiB;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

const kube::Resource kIncidents{"remedy.dev", "v1alpha1", "incidents", "Incident", true};

std::string text(char fill, size_t bytes, const std::string& start) {
  return start + std::string(bytes > start.size() ? bytes - start.size() : 0, fill);
}

json runbookSpec(const std::string& file) {
  std::ifstream in(std::string(REMEDY_SOURCE_DIR) + "/runbooks/examples/" + file);
  std::stringstream yaml;
  yaml << in.rdbuf();
  auto runbook = api::yamlToJson(yaml.str());
  return runbook.ok() ? (*runbook)["spec"] : json::object();
}

struct Shape {
  intake::LabelSet annotations;
  size_t steps = 0;
  size_t outputsPerStep = 0;
  size_t outputBytes = 0;
  size_t timelineEntries = 0;
  size_t messageBytes = 0;
  json runbook;
};

// The largest an Incident gets: an alert whose annotations the intake cuts
// to its bound, a long Runbook, six steps with outputs, a full timeline.
Shape largest() {
  Shape s;
  s.annotations = {{"description", text('d', 60000, "Connections to db-main are exhausted. ")},
                   {"message", text('m', 20000, "Pool of checkout-api at 100%. ")},
                   {"summary", text('s', 3000, "Database connection pool exhausted. ")},
                   {"runbook_url", "https://runbooks.example/DatabaseConnectionPoolExhausted"}};
  s.steps = 6;
  s.outputsPerStep = 5;
  s.outputBytes = 200;
  s.timelineEntries = 100;
  s.messageBytes = 300;
  s.runbook = runbookSpec("db-connection-pool-exhaustion.yaml");
  return s;
}

// What kube-prometheus alerts and the example Runbooks make.
Shape typical() {
  Shape s;
  s.annotations = {{"description", text('d', 180, "Pod shop/checkout-7d9f (checkout) is ")},
                   {"summary", "Pod is crash looping."},
                   {"runbook_url", "https://runbooks.example/KubePodCrashLooping"}};
  s.steps = 3;
  s.outputsPerStep = 2;
  s.outputBytes = 40;
  s.timelineEntries = 12;
  s.messageBytes = 90;
  s.runbook = runbookSpec("pod-restart-loop.yaml");
  return s;
}

json incident(const Shape& shape, int i, bool uncut) {
  intake::LabelSet labels = {{"alertname", "DatabaseConnectionPoolExhausted"},
                             {"namespace", "shop"},
                             {"pod", "checkout-7d9f8b6c5-" + std::to_string(10000 + i)},
                             {"container", "checkout"},
                             {"job", "checkout-metrics"},
                             {"instance", "10.0.3." + std::to_string(i % 250) + ":9090"},
                             {"service", "checkout"},
                             {"endpoint", "metrics"},
                             {"prometheus", "monitoring/k8s"},
                             {"severity", "critical"}};
  intake::LabelSet annotations = shape.annotations;
  if (!uncut) intake::fitAlertToIncident(labels, annotations, {});
  json alert = {{"name", labels["alertname"]},
                {"labels", labels},
                {"annotations", annotations},
                {"fingerprint", "a1b2c3d4e5f6" + std::to_string(1000 + i)},
                {"startsAt", "2026-12-07T03:00:00Z"}};
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Incident"},
          {"metadata",
           {{"name", "pool-exhausted-" + std::to_string(i)},
            {"labels",
             {{"app.kubernetes.io/managed-by", "remedy"},
              {"remedy.dev/alertname", "DatabaseConnectionPoolExhausted"}}},
            {"annotations", {{"remedy.dev/alertmanager-url", "http://alertmanager-0:9093"}}}}},
          {"spec", {{"source", "Alertmanager"}, {"alert", alert}}}};
}

json status(const Shape& shape, const json& created) {
  json steps = json::array();
  for (size_t k = 0; k < shape.steps; ++k) {
    json outputs = json::object();
    for (size_t o = 0; o < shape.outputsPerStep; ++o) {
      outputs["output" + std::to_string(o)] = text('o', shape.outputBytes, "pid 4242 ");
    }
    steps.push_back({{"name", "step-" + std::to_string(k)},
                     {"phase", "Succeeded"},
                     {"attempts", 1},
                     {"startedAt", "2026-12-07T03:00:01Z"},
                     {"finishedAt", "2026-12-07T03:00:02Z"},
                     {"message", text('x', shape.messageBytes, "terminated 3 backends ")},
                     {"outputs", outputs}});
  }
  json timeline = json::array();
  for (size_t k = 0; k < shape.timelineEntries; ++k) {
    timeline.push_back({{"time", "2026-12-07T03:00:02Z"},
                        {"type", "StepSucceeded"},
                        {"step", "step-" + std::to_string(k % (shape.steps ? shape.steps : 1))},
                        {"message", text('t', shape.messageBytes, "scaled shop/checkout ")}});
  }
  json alert = created["spec"]["alert"];
  json object = created;
  object["status"] = {{"phase", "Succeeded"},
                      {"runbook",
                       {{"name", "db-connection-pool-exhaustion"},
                        {"uid", "5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"},
                        {"generation", 3},
                        {"spec", shape.runbook},
                        {"serviceAccountName", "remedy-runner"}}},
                      {"inputs", {{"alert", alert}, {"source", "Alertmanager"}}},
                      {"startedAt", "2026-12-07T03:00:01Z"},
                      {"finishedAt", "2026-12-07T03:00:09Z"},
                      {"steps", steps},
                      {"timeline", timeline}};
  return object;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: incident_memory_bench PATH/TO/remedyctl [--incidents N] "
                 "[--shape largest|typical] [--uncut]\n");
    return 2;
  }
  int count = 1500;
  std::string shapeName = "largest";
  bool uncut = false;
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--uncut") uncut = true;
    if (f == "--incidents" && i + 1 < argc) count = std::atoi(argv[++i]);
    if (f == "--shape" && i + 1 < argc) shapeName = argv[++i];
  }
  if (shapeName != "largest" && shapeName != "typical") {
    std::fprintf(stderr, "--shape: \"%s\" is not largest or typical\n", shapeName.c_str());
    return 2;
  }
  Shape shape = shapeName == "largest" ? largest() : typical();
  bench::SandboxProcess sandbox(argv[1]);
  if (!sandbox.config()) return 1;
  const kube::Config& config = *sandbox.config();
  auto client = kube::RestClient::fromConfig(config);
  if (!client.ok()) return 1;
  auto crd =
      (*client)->create(kube::resources::customResourceDefinitions(), "", api::crdJson("Incident"));
  if (!crd.ok()) {
    std::fprintf(stderr, "the Incident CRD: %s\n", crd.status().toString().c_str());
    return 1;
  }

  std::printf("Incident memory benchmark: %d Incidents of the %s shape%s\n", count,
              shapeName.c_str(), uncut ? ", alerts uncut" : "");
  std::atomic<int> failed{0};
  {
    std::vector<std::thread> threads;
    std::atomic<int> next{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto c = kube::RestClient::fromConfig(config);
        kube::WriteOptions statusWrite;
        statusWrite.subresource = "status";
        for (int i; (i = next++) < count;) {
          auto created = (*c)->create(kIncidents, "default", incident(shape, i, uncut));
          auto written = created.ok() ? (*c)->update(kIncidents, "default", status(shape, *created),
                                                     statusWrite)
                                      : created;
          if (!written.ok() && failed++ == 0) {
            std::fprintf(stderr, "%s\n", written.status().toString().c_str());
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  if (failed > 0) return 1;

  malloc_trim(0);
  long before = rssKiB();
  size_t heapBefore = heapInUse();
  kube::Informer informer(**client, kIncidents, {"default", {}});
  informer.start();
  informer.waitForSync(std::chrono::minutes(5));
  // The reflector frees the parsed list only after it has handed the items
  // over; measure once it is watching.
  while (informer.reflector().watches() < 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  malloc_trim(0);
  long after = rssKiB();
  size_t heapAfter = heapInUse();
  size_t cached = informer.cache().size();
  size_t jsonBytes = informer.cache().textBytes();
  double live = double(heapAfter - heapBefore);
  double perIncident = live / double(cached ? cached : 1);
  std::printf(
      "CACHE  %zu Incidents, %.1f KiB of JSON each (%.1f MiB): live heap +%.1f MiB (%.1f KiB "
      "per Incident, %.2fx the JSON), RSS +%.1f MiB\n",
      cached, jsonBytes / 1024.0 / double(cached ? cached : 1), jsonBytes / 1048576.0,
      live / 1048576.0, perIncident / 1024.0, live / double(jsonBytes ? jsonBytes : 1),
      (after - before) / 1024.0);
  informer.stop();
  return cached == static_cast<size_t>(count) ? 0 : 1;
}
