// remedyctl drill and remedyctl revert: commands that act through Incidents
// and follow what the operator does with them.
#include "cli/cluster.h"
#include "engine/resources.h"
#include "kube/time_format.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

namespace remedy::cli {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

bool isFinalPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Escalated" || phase == "Skipped" ||
         phase == "Cancelled";
}

std::optional<std::pair<std::string, std::string>> keyValue(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

std::optional<std::chrono::seconds> parseSeconds(const std::string& text) {
  char* end = nullptr;
  long n = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || n <= 0) return std::nullopt;
  std::string unit = end;
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::seconds(n * 60);
  if (unit == "h") return std::chrono::seconds(n * 3600);
  return std::nullopt;
}

std::string randomHex(int n) {
  std::random_device rd;
  std::uniform_int_distribution<int> d(0, 15);
  std::string out;
  for (int i = 0; i < n; ++i) out += "0123456789abcdef"[d(rd)];
  return out;
}

void printStep(const json& st) {
  std::string phase = st.value("phase", "Pending");
  std::string line = "  [" + phase + "] " + st.value("name", "");
  if (st.value("dryRun", false)) line += " (dry run)";
  std::printf("%-40s %s\n", line.c_str(), st.value("message", "").c_str());
  if (st.contains("when")) {
    const json& w = st["when"];
    std::string values;
    const json seen = w.value("values", json::object());
    for (auto it = seen.begin(); it != seen.end(); ++it) {
      values += (values.empty() ? "" : ", ") + it.key() + "=" + it.value().get<std::string>();
    }
    std::printf("      when %s -> %s%s\n", w.value("expression", "").c_str(),
                w.value("result", false) ? "true" : "false",
                values.empty() ? "" : (" (" + values + ")").c_str());
  }
  const json outputs = st.value("outputs", json::object());
  for (auto it = outputs.begin(); it != outputs.end(); ++it) {
    std::string value = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    if (value.size() > 200) value = value.substr(0, 200) + "...";
    std::printf("      %s: %s\n", it.key().c_str(), value.c_str());
  }
}

}  // namespace

int runDrill(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl drill: %s\n", error->c_str());
    return 2;
  }
  std::string runbook;
  json labels = json::object();
  json annotations = json::object();
  bool notify = false;
  std::chrono::seconds timeout{300};
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: remedyctl drill RUNBOOK [--label k=v]... [--annotation k=v]... [--notify]\n"
          "                       [--timeout 5m] [-n NAMESPACE]\n\n"
          "Rehearses a Runbook: creates an Incident (source Drill, dry run) from a synthetic\n"
          "alert, follows it, and prints what each step would have done and which `when`\n"
          "branches were taken. Nothing is changed; drills never count toward cooldowns or\n"
          "maxExecutions. notify and http steps only say what they would send; escalation\n"
          "messages are sent only with --notify.\n\nflags:\n"
          "  --label k=v         an alert label (alertname defaults to the Runbook's first\n"
          "                      trigger)\n"
          "  --annotation k=v    an alert annotation\n"
          "  --notify            let escalation messages be sent for real\n"
          "  --timeout DURATION  how long to follow the drill (default 5m)\n%s",
          kClusterFlagsHelp);
      return 0;
    } else if ((a == "--label" || a == "--annotation") && i + 1 < rest.size()) {
      auto kv = keyValue(rest[++i]);
      if (!kv) {
        std::fprintf(stderr, "remedyctl drill: %s: \"%s\" is not key=value\n", a.c_str(),
                     rest[i].c_str());
        return 2;
      }
      (a == "--label" ? labels : annotations)[kv->first] = kv->second;
    } else if (a == "--notify") {
      notify = true;
    } else if (a == "--timeout" && i + 1 < rest.size()) {
      auto t = parseSeconds(rest[++i]);
      if (!t) {
        std::fprintf(stderr, "remedyctl drill: --timeout: \"%s\" is not a duration\n",
                     rest[i].c_str());
        return 2;
      }
      timeout = *t;
    } else if (!a.empty() && a[0] != '-' && runbook.empty()) {
      runbook = a;
    } else {
      std::fprintf(stderr, "remedyctl drill: unexpected argument \"%s\"\n", a.c_str());
      return 2;
    }
  }
  if (runbook.empty()) {
    std::fprintf(stderr, "remedyctl drill: name the Runbook to drill (see --help)\n");
    return 2;
  }
  auto cluster = connect(flags, "drill");
  if (!cluster) return 1;
  kube::Client& client = *cluster->client;
  const std::string& ns = cluster->namespace_;
  auto rb = client.get(engine::runbooks(), ns, runbook);
  if (!rb.ok()) {
    std::fprintf(stderr, "remedyctl drill: runbook %s/%s: %s\n", ns.c_str(), runbook.c_str(),
                 rb.status().message().c_str());
    return 1;
  }
  if (!labels.contains("alertname")) {
    for (const auto& trigger : (*rb)["spec"].value("triggers", json::array())) {
      if (trigger.contains("alertName")) {
        labels["alertname"] = trigger["alertName"];
        break;
      }
    }
  }
  std::string now = kube::formatRfc3339(std::chrono::system_clock::now());
  json alert = {{"name", labels.value("alertname", "Drill")},
                {"status", "firing"},
                {"labels", labels},
                {"annotations", annotations},
                {"startsAt", now},
                {"fingerprint", "drill" + randomHex(11)}};
  json incident = {
      {"apiVersion", "remedy.dev/v1alpha1"},
      {"kind", "Incident"},
      {"metadata",
       {{"generateName", "drill-" + runbook.substr(0, 40) + "-"},
        {"namespace", ns},
        {"labels", {{"remedy.dev/source", "Drill"}, {"remedy.dev/runbook", runbook}}}}},
      {"spec",
       {{"source", "Drill"},
        {"dryRun", true},
        {"runbookRef", {{"name", runbook}}},
        {"alert", alert}}}};
  if (notify) incident["metadata"]["annotations"] = {{"remedy.dev/drill-notify", "true"}};
  kube::WriteOptions create;
  create.fieldManager = "remedyctl";
  auto created = client.create(engine::incidents(), ns, incident, create);
  if (!created.ok()) {
    std::fprintf(stderr, "remedyctl drill: creating the drill Incident: %s\n",
                 created.status().message().c_str());
    return 1;
  }
  std::string name = kube::nameOf(*created);
  std::printf("drill of runbook %s/%s: incident %s (dry run, source Drill)\n", ns.c_str(),
              runbook.c_str(), name.c_str());
  std::fflush(stdout);

  std::set<std::string> printed;
  auto deadline = Clock::now() + timeout;
  json last;
  std::string phase;
  while (true) {
    auto got = client.get(engine::incidents(), ns, name);
    if (got.ok()) {
      last = *got;
      const json status = last.value("status", json::object());
      phase = status.value("phase", "");
      for (const auto& st : status.value("steps", json::array())) {
        std::string p = st.value("phase", "Pending");
        bool done = p == "Succeeded" || p == "Failed" || p == "Skipped" || p == "Cancelled";
        if (done && printed.insert(st.value("name", "")).second) printStep(st);
      }
      std::fflush(stdout);
      if (isFinalPhase(phase)) break;
    }
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "remedyctl drill: incident %s still %s after %llds\n", name.c_str(),
                   phase.empty() ? "unstarted" : phase.c_str(),
                   static_cast<long long>(timeout.count()));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const json status = last.value("status", json::object());
  for (const auto& e : status.value("escalations", json::array())) {
    std::printf("  escalation %s: %s %s\n", e.value("name", "").c_str(),
                e.value("state", "").c_str(), e.value("message", "").c_str());
  }
  std::string reason, message;
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "Completed") {
      reason = c.value("reason", "");
      message = c.value("message", "");
    }
  }
  std::printf("drill %s: %s (%s: %s); nothing was changed\n", name.c_str(), phase.c_str(),
              reason.c_str(), message.c_str());
  return phase == "Succeeded" ? 0 : 1;
}

int runRevert(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl revert: %s\n", error->c_str());
    return 2;
  }
  std::string name;
  std::chrono::seconds timeout{120};
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == "--help" || rest[i] == "-h") {
      std::printf(
          "usage: remedyctl revert INCIDENT [--timeout 2m] [-n NAMESPACE]\n\n"
          "Reverts the Incident's temporary changes now (the steps with `revert` whose\n"
          "revert is still pending), and prints what happened to each. A value someone\n"
          "changed since Remedy set it is left alone and reported.\n\nflags:\n"
          "  --timeout DURATION  how long to wait for the operator (default 2m)\n%s",
          kClusterFlagsHelp);
      return 0;
    } else if (rest[i] == "--timeout" && i + 1 < rest.size()) {
      auto t = parseSeconds(rest[++i]);
      if (!t) {
        std::fprintf(stderr, "remedyctl revert: --timeout: \"%s\" is not a duration\n",
                     rest[i].c_str());
        return 2;
      }
      timeout = *t;
    } else if (!rest[i].empty() && rest[i][0] != '-' && name.empty()) {
      name = rest[i];
    } else {
      std::fprintf(stderr, "remedyctl revert: unexpected argument \"%s\"\n", rest[i].c_str());
      return 2;
    }
  }
  if (name.empty()) {
    std::fprintf(stderr, "remedyctl revert: name the Incident (see --help)\n");
    return 2;
  }
  auto cluster = connect(flags, "revert");
  if (!cluster) return 1;
  kube::Client& client = *cluster->client;
  const std::string& ns = cluster->namespace_;
  auto pending = [](const json& incident) {
    std::vector<std::string> steps;
    for (const auto& st : incident.value("status", json::object()).value("steps", json::array())) {
      if (st.value("revert", json::object()).value("state", "") == "Pending") {
        steps.push_back(st.value("name", ""));
      }
    }
    return steps;
  };
  auto got = client.get(engine::incidents(), ns, name);
  if (!got.ok()) {
    std::fprintf(stderr, "remedyctl revert: incident %s/%s: %s\n", ns.c_str(), name.c_str(),
                 got.status().message().c_str());
    return 1;
  }
  std::vector<std::string> steps = pending(*got);
  if (steps.empty()) {
    std::printf("incident %s/%s has no pending revert\n", ns.c_str(), name.c_str());
    return 0;
  }
  json patch = {{"metadata",
                 {{"annotations",
                   {{"remedy.dev/revert-requested",
                     kube::formatRfc3339(std::chrono::system_clock::now())}}}}}};
  kube::PatchOptions options;
  options.fieldManager = "remedyctl";
  auto patched = client.patch(engine::incidents(), ns, name, patch.dump(), options);
  if (!patched.ok()) {
    std::fprintf(stderr, "remedyctl revert: %s\n", patched.status().message().c_str());
    return 1;
  }
  auto deadline = Clock::now() + timeout;
  while (true) {
    got = client.get(engine::incidents(), ns, name);
    if (got.ok() && pending(*got).empty()) break;
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "remedyctl revert: the operator has not reverted %s within %llds\n",
                   name.c_str(), static_cast<long long>(timeout.count()));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  int failures = 0;
  for (const auto& st : got->value("status", json::object()).value("steps", json::array())) {
    std::string step = st.value("name", "");
    if (std::find(steps.begin(), steps.end(), step) == steps.end()) continue;
    const json r = st.value("revert", json::object());
    std::string state = r.value("state", "");
    if (state != "Reverted") ++failures;
    std::printf("  %s: %s: %s\n", step.c_str(), state.c_str(), r.value("message", "").c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace remedy::cli
