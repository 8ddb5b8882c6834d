// Operator memory benchmark (#17): the resident set of the remedy-operator
// process itself (not the API server's), idle, with active Incidents that
// wait for an approval, with finished Incidents retained, and after a
// restart that lists them all. The API server is a `remedyctl sandbox` child
// process over HTTPS and the operator is the real binary, a second child
// process started as the chart starts it (leader election on); its memory is
// read from /proc/PID/status and /proc/PID/smaps. See bench/README.md for the
// workload and the figures.
//
// usage: operator_memory_bench PATH/TO/remedyctl PATH/TO/remedy-operator
//          [--active N] [--finished N] [--no-restart] [-- remedy-operator flags...]
// Flags after "--" are passed to remedy-operator after the benchmark's own,
// so they win.
#include "../tests/support/child_process.h"
#include "../tests/support/loopback_http.h"
#include "api/yaml_json.h"
#include "intake/alert_identity.h"
#include "kube/rest_client.h"
#include "sandbox_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace remedy;
using remedy::testing::freeLoopbackPort;
using remedy::testing::httpRequest;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr const char* kNamespace = "shop";
constexpr const char* kSystemNamespace = "remedy-system";
constexpr const char* kGatedAlert = "CheckoutLatencyHigh";
constexpr const char* kFinishedAlert = "KubePodCrashLooping";

const kube::Resource kIncidents{"remedy.dev", "v1alpha1", "incidents", "Incident", true};
const kube::Resource kRunbooks{"remedy.dev", "v1alpha1", "runbooks", "Runbook", true};

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Polls `condition` every `every` until it holds or `timeout` passes.
bool waitUntil(const std::function<bool()>& condition, std::chrono::seconds timeout,
               std::chrono::milliseconds every = std::chrono::milliseconds(200)) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

// The sum of the samples of metric `name` whose labels contain `label`
// (e.g. `phase="Succeeded"`, or "" for all); nullopt when there is none.
std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::string& label = "") {
  std::istringstream in(text);
  std::string line;
  std::optional<double> sum;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    size_t space = line.rfind(' ');
    if (!label.empty() && line.substr(0, space).find(label) == std::string::npos) continue;
    sum = sum.value_or(0) + std::strtod(line.c_str() + space + 1, nullptr);
  }
  return sum;
}

// remedy-operator as a child process, in its own process group, its output
// in a log file.
class OperatorProcess {
 public:
  OperatorProcess(const std::vector<std::string>& argv, const std::string& logPath) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~OperatorProcess() { stop(); }
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  // SIGTERM, then SIGKILL after 30 s.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!waitUntil([&] { return !running(); }, std::chrono::seconds(30))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

// What /proc/PID/status and /proc/PID/smaps say of a process's memory, KiB.
struct MemorySample {
  long rss = 0, hwm = 0, rssAnon = 0, rssFile = 0;
  int threads = 0;
  long binary = 0;        // the executable's own pages
  long libraries = 0;     // shared libraries' pages
  long heap = 0;          // [heap]: the main malloc arena (brk)
  long threadStacks = 0;  // anonymous 8 MiB read-write mappings: thread stacks
  int threadStackCount = 0;
  long otherAnon = 0;  // other anonymous mappings: the threads' malloc arenas, large blocks
  std::vector<std::pair<long, std::string>> topLibraries;  // Rss, path
};

MemorySample sample(pid_t pid) {
  MemorySample s;
  std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  std::string line;
  auto field = [&](const char* name, long* out) {
    if (line.rfind(name, 0) == 0) *out = std::stol(line.substr(std::strlen(name)));
  };
  while (std::getline(status, line)) {
    field("VmRSS:", &s.rss);
    field("VmHWM:", &s.hwm);
    field("RssAnon:", &s.rssAnon);
    field("RssFile:", &s.rssFile);
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  char exe[4096] = {0};
  ssize_t n = ::readlink((dir + "/exe").c_str(), exe, sizeof exe - 1);
  std::string binary = n > 0 ? std::string(exe, size_t(n)) : "";
  std::ifstream smaps(dir + "/smaps");
  std::map<std::string, long> byFile;
  std::string name, perms;
  long size = 0;
  while (std::getline(smaps, line)) {
    size_t space = line.find(' ');
    if (space == std::string::npos || space == 0) continue;
    if (line[space - 1] != ':') {
      // A mapping's header, "start-end perms offset dev inode [path]"; its
      // fields ("Rss:    12 kB") follow.
      std::istringstream header(line);
      std::string range, offset, device, inode;
      header >> range >> perms >> offset >> device >> inode;
      name.clear();
      std::getline(header >> std::ws, name);
      continue;
    }
    if (line.rfind("Size:", 0) == 0) size = std::stol(line.substr(5));
    if (line.rfind("Rss:", 0) != 0) continue;
    long rss = std::stol(line.substr(4));
    if (!name.empty() && name[0] == '/') {
      if (name == binary) {
        s.binary += rss;
      } else {
        s.libraries += rss;
        byFile[name] += rss;
      }
    } else if (name == "[heap]") {
      s.heap += rss;
    } else if (name.empty() && perms.rfind("rw", 0) == 0 && size == 8192) {
      s.threadStacks += rss;
      ++s.threadStackCount;
    } else if (name.empty() || name == "[stack]") {
      s.otherAnon += rss;
    }
  }
  for (const auto& [path, rss] : byFile) s.topLibraries.emplace_back(rss, path);
  std::sort(s.topLibraries.rbegin(), s.topLibraries.rend());
  if (s.topLibraries.size() > 8) s.topLibraries.resize(8);
  return s;
}

double mib(long kib) { return double(kib) / 1024.0; }

void print(const char* phase, const MemorySample& s) {
  std::printf(
      "%-30s VmRSS %7.1f MiB  VmHWM %7.1f MiB  (anon %.1f, file %.1f)  threads %d\n"
      "%-30s binary %.1f, libraries %.1f, [heap] %.1f, thread stacks %.1f (%d), other anon "
      "%.1f MiB\n",
      phase, mib(s.rss), mib(s.hwm), mib(s.rssAnon), mib(s.rssFile), s.threads, "", mib(s.binary),
      mib(s.libraries), mib(s.heap), mib(s.threadStacks), s.threadStackCount, mib(s.otherAnon));
  std::fflush(stdout);
}

// The Runbook whose only step waits for an approval, so its Incidents stay
// active (AwaitingApproval) for the approval's timeout.
json gatedRunbook() {
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Runbook"},
          {"metadata", {{"name", "checkout-scale-out"}, {"namespace", kNamespace}}},
          {"spec",
           {{"triggers", json::array({{{"alertName", kGatedAlert}}})},
            {"approval", {{"groups", json::array({"sre"})}, {"timeout", "24h"}}},
            {"steps", json::array({{{"name", "scale-out"},
                                    {"approval", "Required"},
                                    {"scale",
                                     {{"target", {{"kind", "Deployment"}, {"name", "checkout"}}},
                                      {"replicas", "+1"},
                                      {"maxReplicas", 10}}}}})}}}};
}

// An Incident as the intake creates it for alert `alertName` number `i`.
json intakeIncident(const std::string& alertName, int i) {
  intake::LabelSet labels = {{"alertname", alertName},
                             {"namespace", kNamespace},
                             {"pod", "checkout-7d9f8b6c5-" + std::to_string(10000 + i)},
                             {"container", "checkout"},
                             {"job", "kube-state-metrics"},
                             {"service", "checkout"},
                             {"prometheus", "monitoring/k8s"},
                             {"severity", "critical"}};
  std::string fingerprint = intake::alertmanagerFingerprint(labels);
  intake::Timestamp startsAt{1796612400 + i, 0};
  std::string name = intake::incidentName(alertName, fingerprint, startsAt);
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Incident"},
          {"metadata",
           {{"name", name},
            {"namespace", kNamespace},
            {"labels",
             {{"app.kubernetes.io/managed-by", "remedy"},
              {"remedy.dev/alertname", alertName},
              {"remedy.dev/fingerprint", fingerprint}}},
            {"annotations",
             {{"remedy.dev/alertmanager-url", "http://alertmanager-0:9093"},
              {"remedy.dev/alertmanager-receiver", "remedy"}}}}},
          {"spec",
           {{"source", "Alertmanager"},
            {"alert",
             {{"name", alertName},
              {"status", "firing"},
              {"labels", labels},
              {"annotations",
               {{"description", "Pod shop/checkout-7d9f8b6c5-" + std::to_string(10000 + i) +
                                    " (checkout) is restarting 1.2 times / 10 minutes."},
                {"summary", "Pod is crash looping."},
                {"runbook_url", "https://runbooks.example/KubePodCrashLooping"}}},
              {"fingerprint", fingerprint},
              {"startsAt", intake::canonicalTimestamp(startsAt)},
              {"generatorURL", "http://prometheus-0:9090/graph?g0.expr=rate"}}}}}};
}

// The status of a finished Incident of the typical shape of
// incident_memory_bench: the pod-restart-loop Runbook's snapshot, 3
// steps with 2 short outputs each, 12 timeline entries.
json finishedStatus(const json& created, const json& runbookSpec) {
  json steps = json::array();
  for (int k = 0; k < 3; ++k) {
    steps.push_back({{"name", "step-" + std::to_string(k)},
                     {"phase", "Succeeded"},
                     {"attempts", 1},
                     {"startedAt", "2026-12-07T03:00:01Z"},
                     {"finishedAt", "2026-12-07T03:00:02Z"},
                     {"message", "evicted 1 crash-looping pod of StatefulSet shop/checkout"},
                     {"outputs", {{"deleted", "1"}, {"pods", "checkout-7d9f8b6c5-10001"}}}});
  }
  json timeline = json::array();
  for (int k = 0; k < 12; ++k) {
    timeline.push_back(
        {{"time", "2026-12-07T03:00:02Z"},
         {"type", "StepSucceeded"},
         {"step", "step-" + std::to_string(k % 3)},
         {"message", "step step-" + std::to_string(k % 3) +
                         " succeeded: evicted 1 crash-looping pod of shop/checkout"}});
  }
  return {{"phase", "Succeeded"},
          {"runbook",
           {{"name", "pod-restart-loop"},
            {"uid", "5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"},
            {"generation", 1},
            {"spec", runbookSpec},
            {"serviceAccountName", "remedy-runner"}}},
          {"inputs", {{"alert", created["spec"]["alert"]}, {"source", "Alertmanager"}}},
          {"startedAt", "2026-12-07T03:00:01Z"},
          {"finishedAt", "2026-12-07T03:00:09Z"},
          {"steps", steps},
          {"timeline", timeline}};
}

// Creates Incidents `from`..`to`-1 from 4 clients; with `status`, writes it
// (again after a conflict with the operator's own write). Returns the
// failures.
int createIncidents(const kube::Config& config, const std::string& alertName, int from, int to,
                    const std::function<json(const json&)>& status) {
  std::atomic<int> next{from};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto client = kube::RestClient::fromConfig(config);
      if (!client.ok()) {
        ++failed;
        return;
      }
      kube::WriteOptions statusWrite;
      statusWrite.subresource = "status";
      for (int i; (i = next++) < to;) {
        auto created = (*client)->create(kIncidents, kNamespace, intakeIncident(alertName, i));
        kube::Result<json> written = created;
        for (int attempt = 0; status && created.ok() && attempt < 5; ++attempt) {
          json object = *created;
          object["status"] = status(*created);
          written = (*client)->update(kIncidents, kNamespace, object, statusWrite);
          if (written.ok() || !kube::isConflict(written.status())) break;
          created = (*client)->get(kIncidents, kNamespace, kube::nameOf(*created));
        }
        if (!written.ok() && failed++ == 0) {
          std::fprintf(stderr, "incident %d: %s\n", i, written.status().toString().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return failed;
}

// JSON bytes (compact, as the operator's caches hold it) of the Incidents in
// the namespace, active and finished.
std::pair<size_t, size_t> incidentJsonBytes(kube::Client& client, size_t* active,
                                            size_t* finished) {
  std::pair<size_t, size_t> bytes{0, 0};
  kube::ListOptions options;
  options.limit = 500;
  while (true) {
    auto page = client.list(kIncidents, kNamespace, options);
    if (!page.ok()) break;
    for (const auto& item : (*page)["items"]) {
      std::string phase = item.value("status", json::object()).value("phase", "");
      bool done = phase == "Succeeded" || phase == "Failed" || phase == "Escalated" ||
                  phase == "Skipped" || phase == "Cancelled";
      (done ? bytes.second : bytes.first) += item.dump().size();
      ++*(done ? finished : active);
    }
    std::string next = (*page)["metadata"].value("continue", "");
    if (next.empty()) break;
    options.continueToken = next;
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: operator_memory_bench PATH/TO/remedyctl PATH/TO/remedy-operator "
                 "[--active N] [--finished N] [--no-restart] [-- remedy-operator flags...]\n");
    return 2;
  }
  std::string operatorBinary = argv[2];
  int activeCount = 1000;
  int finishedCount = 10000;
  bool restart = true;
  std::vector<std::string> extraFlags;
  for (int i = 3; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--") {
      extraFlags.assign(argv + i + 1, argv + argc);
      break;
    }
    if (f == "--active" && i + 1 < argc) activeCount = std::atoi(argv[++i]);
    if (f == "--finished" && i + 1 < argc) finishedCount = std::atoi(argv[++i]);
    if (f == "--no-restart") restart = false;
  }

  bench::SandboxProcess sandbox(argv[1]);
  if (!sandbox.config()) return 1;
  const kube::Config& config = *sandbox.config();
  auto made = kube::RestClient::fromConfig(config);
  if (!made.ok()) return 1;
  kube::RestClient& client = **made;

  for (const char* kind : {"runbooks", "incidents", "approvals", "runbookpolicies"}) {
    auto crd = api::yamlToJson(
        readText(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml"));
    if (!crd.ok()) {
      std::fprintf(stderr, "CRD %s: %s\n", kind, crd.error().c_str());
      return 1;
    }
    auto created = client.create(kube::resources::customResourceDefinitions(), "", *crd);
    if (!created.ok()) {
      std::fprintf(stderr, "CRD %s: %s\n", kind, created.status().toString().c_str());
      return 1;
    }
  }
  for (const char* ns : {kSystemNamespace, kNamespace}) {
    auto created =
        client.create(kube::resources::namespaces(), "",
                      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    if (!created.ok()) {
      std::fprintf(stderr, "namespace %s: %s\n", ns, created.status().toString().c_str());
      return 1;
    }
  }
  if (!waitUntil([&] { return client.list(kIncidents, kNamespace).ok(); },
                 std::chrono::seconds(30))) {
    std::fprintf(stderr, "the Incident CRD was not served\n");
    return 1;
  }
  auto runbook = client.create(kRunbooks, kNamespace, gatedRunbook());
  if (!runbook.ok()) {
    std::fprintf(stderr, "runbook: %s\n", runbook.status().toString().c_str());
    return 1;
  }
  auto restartLoop = api::yamlToJson(
      readText(std::string(REMEDY_SOURCE_DIR) + "/runbooks/examples/pod-restart-loop.yaml"));
  json finishedRunbookSpec = restartLoop.ok() ? (*restartLoop)["spec"] : json::object();

  char dir[] = "/tmp/remedy-operator-bench.XXXXXX";
  if (!::mkdtemp(dir)) return 1;
  std::string tokenPath = std::string(dir) + "/webhook-token";
  std::ofstream(tokenPath) << "operator-memory-bench-token\n";
  std::string logPath = std::string(dir) + "/remedy-operator.log";

  int webhookPort = freeLoopbackPort();
  int metricsPort = freeLoopbackPort();
  int healthPort = freeLoopbackPort();
  int maxFinished = std::max(1000, finishedCount);
  std::vector<std::string> operatorArgv = {operatorBinary,
                                           "--kubeconfig",
                                           sandbox.kubeconfigPath(),
                                           "--webhook-bind-address",
                                           "127.0.0.1",
                                           "--webhook-port",
                                           std::to_string(webhookPort),
                                           "--webhook-token-file",
                                           tokenPath,
                                           "--metrics-bind-address",
                                           "127.0.0.1",
                                           "--metrics-port",
                                           std::to_string(metricsPort),
                                           "--health-port",
                                           std::to_string(healthPort),
                                           "--leader-election-namespace",
                                           kSystemNamespace,
                                           "--incident-namespace",
                                           kNamespace,
                                           "--max-finished-incidents",
                                           std::to_string(maxFinished),
                                           "--log-format",
                                           "text"};
  operatorArgv.insert(operatorArgv.end(), extraFlags.begin(), extraFlags.end());
  std::string flags;
  for (size_t i = 1; i < operatorArgv.size(); ++i) flags += " " + operatorArgv[i];
  std::printf("Operator memory benchmark: %d active Incidents, %d finished\n", activeCount,
              finishedCount);
  std::printf("remedy-operator%s\n(log: %s)\n", flags.c_str(), logPath.c_str());

  auto op = std::make_unique<OperatorProcess>(operatorArgv, logPath);
  auto scrape = [&] { return httpRequest(metricsPort, "GET", "/metrics").body; };
  // Ready (its caches synced) and leading (the engine's too).
  auto awaitLeading = [&] {
    bool up = waitUntil(
        [&] {
          if (!op->running()) return true;
          return httpRequest(healthPort, "GET", "/readyz").status == 200 &&
                 metric(scrape(), "remedy_leader").value_or(0) == 1;
        },
        std::chrono::seconds(120));
    if (!up || !op->running()) {
      std::fprintf(stderr, "remedy-operator did not become ready and lead (log: %s)\n",
                   logPath.c_str());
      return false;
    }
    return true;
  };
  auto incidentsIn = [&](const std::string& text, const char* phase) {
    return metric(text, "remedy_incidents", std::string("phase=\"") + phase + "\"").value_or(-1);
  };
  auto queuesEmpty = [&](const std::string& text) {
    return metric(text, "remedy_workqueue_depth").value_or(0) == 0;
  };
  if (!awaitLeading()) return 1;
  // Idle: the Runbook judged valid, nothing queued.
  bool idle = waitUntil(
      [&] {
        auto got = client.get(kRunbooks, kNamespace, "checkout-scale-out");
        if (!got.ok()) return false;
        for (const auto& c : got->value("status", json::object()).value("conditions", json())) {
          if (c.value("type", "") == "Ready" && c.value("status", "") == "True") {
            return queuesEmpty(scrape());
          }
        }
        return false;
      },
      std::chrono::seconds(60));
  if (!idle) {
    std::fprintf(stderr, "the Runbook was not judged Ready (log: %s)\n", logPath.c_str());
    return 1;
  }
  MemorySample idleSample = sample(op->pid());
  print("idle", idleSample);
  for (const auto& [rss, path] : idleSample.topLibraries) {
    std::printf("    %7.1f MiB  %s\n", mib(rss), path.c_str());
  }

  auto started = Clock::now();
  if (createIncidents(config, kGatedAlert, 0, activeCount, nullptr) > 0) return 1;
  bool waiting = waitUntil(
      [&] {
        std::string text = scrape();
        return incidentsIn(text, "AwaitingApproval") == activeCount && queuesEmpty(text);
      },
      std::chrono::seconds(1800), std::chrono::seconds(1));
  if (!waiting) {
    std::fprintf(stderr, "the Incidents did not all await approval (log: %s)\n", logPath.c_str());
    return 1;
  }
  std::printf("(%d Incidents created and awaiting approval in %.0f s)\n", activeCount,
              std::chrono::duration<double>(Clock::now() - started).count());
  MemorySample activeSample = sample(op->pid());
  print((std::to_string(activeCount) + " active").c_str(), activeSample);

  started = Clock::now();
  auto status = [&](const json& created) { return finishedStatus(created, finishedRunbookSpec); };
  if (createIncidents(config, kFinishedAlert, 0, finishedCount, status) > 0) return 1;
  bool retained = waitUntil(
      [&] {
        std::string text = scrape();
        return incidentsIn(text, "Succeeded") == finishedCount && queuesEmpty(text);
      },
      std::chrono::seconds(1800), std::chrono::seconds(2));
  if (!retained) {
    std::fprintf(stderr, "the operator did not see every finished Incident (log: %s)\n",
                 logPath.c_str());
    return 1;
  }
  std::printf("(%d finished Incidents created and seen in %.0f s)\n", finishedCount,
              std::chrono::duration<double>(Clock::now() - started).count());
  MemorySample finishedSample = sample(op->pid());
  print((std::to_string(activeCount) + " active, " + std::to_string(finishedCount) + " finished")
            .c_str(),
        finishedSample);

  std::optional<MemorySample> restartSample;
  if (restart) {
    op.reset();
    op = std::make_unique<OperatorProcess>(operatorArgv, logPath);
    if (!awaitLeading()) return 1;
    bool seen = waitUntil(
        [&] {
          std::string text = scrape();
          return incidentsIn(text, "Succeeded") == finishedCount &&
                 incidentsIn(text, "AwaitingApproval") == activeCount && queuesEmpty(text);
        },
        std::chrono::seconds(600), std::chrono::seconds(2));
    if (!seen) {
      std::fprintf(stderr, "the restarted operator did not see every Incident (log: %s)\n",
                   logPath.c_str());
      return 1;
    }
    restartSample = sample(op->pid());
    print("restarted, all listed", *restartSample);
  }

  size_t active = 0, finished = 0;
  auto [activeBytes, finishedBytes] = incidentJsonBytes(client, &active, &finished);
  double activeJson = double(activeBytes) / double(active ? active : 1) / 1024.0;
  double finishedJson = double(finishedBytes) / double(finished ? finished : 1) / 1024.0;
  double perActive =
      double(activeSample.rss - idleSample.rss) / double(activeCount ? activeCount : 1);
  double perFinished =
      double(finishedSample.rss - activeSample.rss) / double(finishedCount ? finishedCount : 1);
  std::printf("JSON per Incident: active %.2f KiB (%zu), finished %.2f KiB (%zu)\n", activeJson,
              active, finishedJson, finished);
  std::printf(
      "RSS per Incident: active %.2f KiB (%.2f beyond its JSON), finished %.2f KiB (%.2f "
      "beyond its JSON)\n",
      perActive, perActive - activeJson, perFinished, perFinished - finishedJson);
  std::printf(
      "targets: idle <= 20 MiB: %.1f; %d active <= 80 MiB: %.1f; finished <= 3 KiB "
      "beyond the JSON: %.2f\n",
      mib(idleSample.rss), activeCount, mib(activeSample.rss), perFinished - finishedJson);
  op.reset();
  ::unlink(tokenPath.c_str());
  ::unlink(logPath.c_str());
  ::rmdir(dir);
  return 0;
}
