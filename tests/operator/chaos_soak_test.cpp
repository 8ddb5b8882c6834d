// A chaos soak (#20): an alert storm through the webhooks of two
// remedy-operator replicas with leader election, while the harness, at
// random, SIGKILLs an operator and starts another, and makes the API server
// fail (bursts of 500, 503 and 429 with Retry-After, failed LISTs and
// WATCHes of Incidents, slow responses). Alerts answered with anything but
// 2xx are sent again, as Alertmanager does.
//
// Then an invariant checker reads the final state and the tape of every
// change (tests/support/change_tape.h), without asking the engine anything:
// - every alert that got a 2xx has exactly one Incident;
// - every Incident reaches a final phase, and no step failed because of an
//   injected API fault (the engine runs the attempt again: a fault delays a
//   step, never fails it);
// - every Deployment was scaled exactly once, by +1, and only if its
//   Incident's scale step says so: never twice, never silently;
// - every notify step that succeeded reached the receiver at least once,
//   every delivery of one step with the same Idempotency-Key;
// - at no moment did more Incidents of the Runbook run than its
//   maxConcurrent allows.
//
// The run prints its seed; REMEDY_SOAK_SEED=N replays the same choices
// (the timing of the processes still varies), and REMEDY_SOAK_SECONDS
// makes the chaos last longer than the default 30 s (bench/README.md).
#include "operator_fixture.h"

#include <cstdlib>
#include <iostream>
#include <random>

namespace remedy::testing {
namespace {

constexpr int kServices = 12;
constexpr int kMaxConcurrent = 3;

std::string serviceName(int i) { return "svc-" + std::to_string(i); }
std::string fingerprintOf(int i) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016x", 0x50a1c000 + i);
  return buffer;
}

class ChaosSoakTest : public OperatorE2ETest {
 protected:
  // The Runbook: one Deployment per alert scaled by +1, then a message.
  std::string runbook() const {
    return R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: soak
spec:
  triggers:
    - alertName: SoakAlert
  steps:
    - name: scale
      scale:
        target: {kind: Deployment, name: '{{ alert.labels.service }}'}
        replicas: "+1"
        maxReplicas: 5
    - name: tell
      notify:
        url: ')" +
           sink_.url("/soak/{{ alert.labels.service }}") +
           R"('
        message: '{{ alert.labels.service }} scaled'
  guardrails:
    maxConcurrent: )" +
           std::to_string(kMaxConcurrent) + "\n";
  }

  static uint64_t seed() {
    if (const char* s = std::getenv("REMEDY_SOAK_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
  }
  static std::chrono::seconds chaosTime() {
    if (const char* s = std::getenv("REMEDY_SOAK_SECONDS")) {
      return std::chrono::seconds(std::max(5L, std::strtol(s, nullptr, 10)));
    }
    return std::chrono::seconds(30);
  }

  // The operators alive now.
  std::vector<OperatorProcess*> running() {
    std::vector<OperatorProcess*> out;
    for (auto& op : operators_) {
      if (op->process.running()) out.push_back(op.get());
    }
    return out;
  }

  OperatorProcess& startReplica() {
    return startOperator(fastLease({"--watch-namespaces", namespace_}),
                         "soak-" + std::to_string(++started_));
  }

  NotificationSink sink_;
  int started_ = 0;
};

TEST_F(ChaosSoakTest, AnAlertStormUnderCrashesAndApiFaultsKeepsEveryPromise) {
  if (!sandbox_) GTEST_SKIP() << "the API faults come from the sandbox's fault hooks";
  const uint64_t soakSeed = seed();
  std::cout << "soak seed " << soakSeed << " (REMEDY_SOAK_SEED=" << soakSeed << " replays it)\n";
  RecordProperty("soak_seed", std::to_string(soakSeed));
  std::mt19937_64 random(soakSeed);
  auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(random) < p; };
  auto between = [&](int low, int high) {
    return std::uniform_int_distribution<>(low, high)(random);
  };

  for (int i = 0; i < kServices; ++i) createDeployment(serviceName(i), 1);
  applyRunbook(runbook());
  startReplica();
  startReplica();

  sandbox::Faults& faults = sandbox_->faults();
  std::vector<bool> accepted(kServices, false);
  int kills = 0;
  int faultBursts = 0;
  auto post = [&](int i) {
    auto live = running();
    if (live.empty()) return;
    OperatorProcess& op = *live[static_cast<size_t>(between(0, static_cast<int>(live.size()) - 1))];
    auto answer = postAlerts(
        op, webhookPayload("firing", json::array({testAlert("SoakAlert", fingerprintOf(i), "firing",
                                                            serviceName(i))})));
    if (answer.status >= 200 && answer.status <= 299) accepted[static_cast<size_t>(i)] = true;
  };

  auto chaosEnd = std::chrono::steady_clock::now() + chaosTime();
  while (std::chrono::steady_clock::now() < chaosEnd) {
    // The storm: alerts not yet accepted are sent again; accepted ones now
    // and then too (Alertmanager repeats firing alerts).
    for (int i = 0; i < kServices; ++i) {
      if (!accepted[static_cast<size_t>(i)] ? chance(0.5) : chance(0.05)) post(i);
    }
    if (chance(0.15)) {
      auto live = running();
      if (!live.empty()) {
        live[static_cast<size_t>(between(0, static_cast<int>(live.size()) - 1))]->process.kill();
        ++kills;
      }
    }
    if (running().size() < 2 && chance(0.5)) startReplica();
    switch (between(0, 9)) {
      case 0:
        faults.failNext(between(1, 8), 500);
        ++faultBursts;
        break;
      case 1:
        faults.failNext(between(1, 8), 503);
        ++faultBursts;
        break;
      case 2:
        faults.failNext(between(1, 8), 429);
        ++faultBursts;
        break;
      case 3:
        // LIST and WATCH of Incidents: the informers relist and rewatch.
        faults.failNextEndingWith(between(1, 3), 500, "/incidents");
        ++faultBursts;
        break;
      case 4:
        faults.setLatency(std::chrono::milliseconds(between(0, 2) * 50));
        break;
      default:
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(between(100, 600)));  // the pace
  }
  faults.clear();
  while (running().size() < 2) startReplica();
  // Alertmanager keeps sending what was not accepted.
  bool allAccepted = waitUntil(
      [&] {
        for (int i = 0; i < kServices; ++i) {
          if (!accepted[static_cast<size_t>(i)]) post(i);
        }
        return std::all_of(accepted.begin(), accepted.end(), [](bool a) { return a; });
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(allAccepted) << "seed " << soakSeed << allLogs();
  std::cout << "soak: " << kills << " operators killed, " << faultBursts << " fault bursts, "
            << started_ << " operators started\n";

  // Every Incident final.
  std::map<std::string, json> byService;
  bool settled = waitUntil(
      [&] {
        byService.clear();
        for (const auto& i : incidents()) {
          std::string service = i["spec"]["alert"]["labels"].value("service", "");
          if (byService.count(service)) return true;  // a duplicate: checked below
          byService[service] = i;
        }
        if (byService.size() < static_cast<size_t>(kServices)) return false;
        return std::all_of(byService.begin(), byService.end(),
                           [](const auto& e) { return isFinal(phaseOf(e.second)); });
      },
      std::chrono::seconds(120));
  auto all = incidents();
  std::string seedNote = "seed " + std::to_string(soakSeed);
  ASSERT_TRUE(settled) << seedNote << "\n" << json(all).dump(1) << allLogs();
  EXPECT_EQ(all.size(), static_cast<size_t>(kServices))
      << "exactly one Incident per alert; " << seedNote << "\n"
      << json(all).dump(1);

  std::map<std::string, int> byPhase;
  for (const auto& i : all) ++byPhase[phaseOf(i)];
  std::cout << "soak: Incidents by phase:";
  for (const auto& [phase, n] : byPhase) std::cout << " " << phase << " " << n;
  std::cout << "\n";
  for (const auto& i : all) {
    if (phaseOf(i) == "Succeeded") continue;
    std::cout << "soak: " << kube::nameOf(i) << " " << phaseOf(i) << ":";
    for (const auto& st : i["status"].value("steps", json::array())) {
      std::cout << " [" << st.value("name", "") << " " << st.value("phase", "") << " "
                << st.value("attempts", 0) << " attempts: " << st.value("message", "") << "]";
    }
    std::cout << "\n";
  }
  for (const auto& i : all) {
    for (const auto& st : i["status"].value("steps", json::array())) {
      EXPECT_FALSE(st.value("phase", "") == "Failed" &&
                   st.value("message", "").find("injected failure") != std::string::npos)
          << kube::nameOf(i) << " step " << st.value("name", "")
          << " failed on an API fault: " << st.value("message", "") << "; " << seedNote;
    }
  }

  syncTape();
  for (int i = 0; i < kServices; ++i) {
    std::string service = serviceName(i);
    ASSERT_TRUE(byService.count(service)) << service << " has no Incident; " << seedNote;
    const json& incident = byService[service];
    bool scaled = stepOf(incident, "scale").value("phase", "") == "Succeeded";
    // The effect, from the tape: each change of spec.replicas.
    std::vector<int> replicas;
    for (const auto& e : tape_->events(kDeploymentsKey, namespace_)) {
      if (e.name != service) continue;
      int r = (*e.object)["spec"].value("replicas", 0);
      if (replicas.empty() || replicas.back() != r) replicas.push_back(r);
    }
    std::vector<int> expected = scaled ? std::vector<int>{1, 2} : std::vector<int>{1};
    EXPECT_EQ(replicas, expected) << service << ": the scale step is "
                                  << stepOf(incident, "scale").dump() << "; " << seedNote;
    if (stepOf(incident, "tell").value("phase", "") == "Succeeded") {
      auto received = sink_.receivedAt("/soak/" + service);
      EXPECT_GE(received.size(), 1u) << service << ": a succeeded notify reached nobody";
      std::set<std::string> keys;
      for (const auto& r : received) keys.insert(r.idempotencyKey);
      EXPECT_EQ(keys, (std::set<std::string>{kube::uidOf(incident) + "/tell"}))
          << service << ": every delivery of the step carries its one Idempotency-Key";
    }
  }

  // maxConcurrent at every moment: Incidents of the Runbook that have made
  // an attempt and are not final, replayed from the tape in commit order.
  auto executing = [](const json& incident) {
    if (isFinal(phaseOf(incident))) return false;
    for (const auto& s : incident.value("status", json::object()).value("steps", json::array())) {
      if (s.value("attempts", 0) > 0) return true;
    }
    return false;
  };
  std::map<std::string, bool> runningByName;
  size_t most = 0;
  for (const auto& e : tape_->events(kIncidentsKey, namespace_)) {
    runningByName[e.name] = e.type != sandbox::EventType::Deleted && executing(*e.object);
    size_t runningNow = static_cast<size_t>(std::count_if(
        runningByName.begin(), runningByName.end(), [](const auto& p) { return p.second; }));
    most = std::max(most, runningNow);
  }
  EXPECT_LE(most, static_cast<size_t>(kMaxConcurrent))
      << "more Incidents ran at once than maxConcurrent; " << seedNote;
  std::cout << "soak: at most " << most << " Incidents running at once\n";
}

}  // namespace
}  // namespace remedy::testing
