// remedyctl get (alias ls): active and recent Incidents, active first, with
// what each waits for.
#include "cli/cluster.h"
#include "cli/incident_view.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

namespace remedy::cli {
namespace {

std::set<std::string> splitComma(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) out.insert(part);
  }
  return out;
}

const std::set<std::string> kPhases = {"Pending", "AwaitingApproval", "Running", "Succeeded",
                                       "Failed",  "Escalated",        "Skipped", "Cancelled",
                                       "active",  "finished"};

bool phaseSelected(const std::set<std::string>& phases, const std::string& phase) {
  if (phases.empty() || phases.count(phase)) return true;
  if (phases.count("active") && !isFinalPhase(phase)) return true;
  return phases.count("finished") && isFinalPhase(phase);
}

// When the Incident began: the alert's start, else its status' start.
std::string beganAt(const json& incident) {
  std::string t =
      incident.value("spec", json::object()).value("alert", json::object()).value("startsAt", "");
  if (t.empty()) t = incident.value("status", json::object()).value("startedAt", "");
  return t;
}

std::string currentStep(const json& status) {
  std::string step = status.value("currentStep", "");
  if (!step.empty()) return step;
  for (const auto& st : status.value("steps", json::array())) {
    std::string p = st.value("phase", "");
    if (p == "Running" || p == "AwaitingApproval") return st.value("name", "");
  }
  return "";
}

}  // namespace

int runGet(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl get: %s\n", error->c_str());
    return 2;
  }
  std::set<std::string> phases, runbooks;
  std::string format, color;
  bool allNamespaces = false, noHeaders = false;
  std::vector<std::string> names;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (a.rfind(std::string(flag) + "=", 0) == 0) return a.substr(std::strlen(flag) + 1);
      if (a == flag && i + 1 < rest.size()) return rest[++i];
      return std::nullopt;
    };
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: remedyctl get [INCIDENT...] [--phase P[,P]] [--runbook R[,R]] [-A | -n NS]\n"
          "                     [-o wide|json|yaml] [--no-headers] [--color auto]\n"
          "alias: remedyctl ls\n\n"
          "Lists Incidents, active ones first, then the most recent: phase, Runbook, alert,\n"
          "current step, what each waits for (approval, a guardrail, a retry, a revert)\n"
          "and age (since the alert started). Every namespace unless -n is given.\n\nflags:\n"
          "  --phase P[,P]       only these phases; also `active` and `finished`\n"
          "  --runbook R[,R]     only Incidents of these Runbooks\n"
          "  -A, --all-namespaces  every namespace (the default without -n)\n"
          "  -o FORMAT           wide (adds severity, source, started and finished), json,\n"
          "                      yaml\n"
          "  --no-headers        no header line\n"
          "  --color WHEN        auto (on a terminal), always or never\n%s",
          kClusterFlagsHelp);
      return 0;
    } else if (auto v = value("--phase")) {
      phases = splitComma(*v);
      for (const auto& p : phases) {
        if (!kPhases.count(p)) {
          std::fprintf(stderr,
                       "remedyctl get: --phase: \"%s\" is not a phase (Pending, "
                       "AwaitingApproval, Running, Succeeded, Failed, Escalated, Skipped, "
                       "Cancelled, active, finished)\n",
                       p.c_str());
          return 2;
        }
      }
    } else if (auto v = value("--runbook")) {
      runbooks = splitComma(*v);
    } else if (auto v = value("-o")) {
      format = *v;
    } else if (auto v = value("--output")) {
      format = *v;
    } else if (auto v = value("--color")) {
      color = *v;
    } else if (a == "-A" || a == "--all-namespaces") {
      allNamespaces = true;
    } else if (a == "--no-headers") {
      noHeaders = true;
    } else if (!a.empty() && a[0] != '-') {
      names.push_back(a);
    } else {
      std::fprintf(stderr, "remedyctl get: unexpected argument \"%s\"\n", a.c_str());
      return 2;
    }
  }
  if (!format.empty() && format != "wide" && format != "json" && format != "yaml") {
    std::fprintf(stderr, "remedyctl get: -o: \"%s\" is not wide, json or yaml\n", format.c_str());
    return 2;
  }
  Output out;
  if (auto error = makeOutput(color, &out)) {
    std::fprintf(stderr, "remedyctl get: %s\n", error->c_str());
    return 2;
  }
  auto cluster = connect(flags, "get");
  if (!cluster) return 1;
  std::string ns = allNamespaces || flags.namespace_.empty() ? "" : flags.namespace_;
  auto listed = listIncidents(*cluster->client, ns);
  if (!listed.ok()) {
    std::fprintf(stderr, "remedyctl get: listing incidents: %s\n",
                 listed.status().message().c_str());
    return 1;
  }
  std::vector<json> incidents;
  for (const auto& i : *listed) {
    const json status = i.value("status", json::object());
    std::string runbook = status.value("runbook", json::object()).value("name", "");
    if (!phaseSelected(phases, status.value("phase", "Pending"))) continue;
    if (!runbooks.empty() && !runbooks.count(runbook)) continue;
    if (!names.empty() && std::find(names.begin(), names.end(), kube::nameOf(i)) == names.end())
      continue;
    incidents.push_back(i);
  }
  // Active first; then the newest; then by namespace and name.
  std::stable_sort(incidents.begin(), incidents.end(), [](const json& a, const json& b) {
    bool fa = isFinalPhase(a.value("status", json::object()).value("phase", ""));
    bool fb = isFinalPhase(b.value("status", json::object()).value("phase", ""));
    if (fa != fb) return !fa;
    std::string ta = beganAt(a), tb = beganAt(b);
    if (ta != tb) return ta > tb;
    return std::make_pair(kube::namespaceOf(a), kube::nameOf(a)) <
           std::make_pair(kube::namespaceOf(b), kube::nameOf(b));
  });
  if (format == "json" || format == "yaml") {
    json list = {{"apiVersion", "v1"},
                 {"kind", "List"},
                 {"metadata", {{"resourceVersion", ""}}},
                 {"items", incidents}};
    std::string text = format == "json" ? list.dump(4) + "\n" : toYaml(list);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  if (!names.empty() && incidents.empty()) {
    std::fprintf(stderr, "remedyctl get: no incident named %s\n", names.front().c_str());
    return 1;
  }
  if (incidents.empty()) {
    std::fprintf(stderr, "No incidents found%s.\n",
                 ns.empty() ? "" : (" in namespace " + ns).c_str());
    return 0;
  }
  bool wide = format == "wide";
  std::vector<std::string> header = {"NAMESPACE", "NAME", "PHASE",       "RUNBOOK",
                                     "ALERT",     "STEP", "WAITING FOR", "AGE"};
  if (wide) header.insert(header.end(), {"SEVERITY", "SOURCE", "STARTED", "FINISHED"});
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> phaseOfRow;
  for (const auto& i : incidents) {
    const json spec = i.value("spec", json::object());
    const json alert = spec.value("alert", json::object());
    const json status = i.value("status", json::object());
    std::string phase = status.value("phase", "Pending");
    std::string age = "";
    if (auto began = kube::parseRfc3339(beganAt(i)))
      age = formatDuration(std::chrono::duration_cast<std::chrono::seconds>(out.now - *began));
    std::string waiting = waitingFor(i, out.now);
    std::vector<std::string> row = {kube::namespaceOf(i),
                                    kube::nameOf(i),
                                    phase,
                                    status.value("runbook", json::object()).value("name", ""),
                                    alert.value("name", ""),
                                    isFinalPhase(phase) ? "" : currentStep(status),
                                    waiting,
                                    age};
    if (wide) {
      row.push_back(alert.value("labels", json::object()).value("severity", ""));
      row.push_back(spec.value("source", ""));
      row.push_back(utcClock(status.value("startedAt", "")));
      row.push_back(utcClock(status.value("finishedAt", "")));
    }
    for (auto& cell : row) {
      if (cell.empty()) cell = "-";
    }
    rows.push_back(row);
    phaseOfRow.push_back(phase);
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto printRow = [&](const std::vector<std::string>& row, const std::string& phase) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      std::string cell = row[c];
      bool last = c + 1 == row.size();
      std::string padding = last ? "" : std::string(width[c] - cell.size() + 3, ' ');
      if (c == 2 && !phase.empty()) cell = paint(out, phaseColour(phase), cell);
      line += cell + padding;
    }
    std::printf("%s\n", line.c_str());
  };
  if (!noHeaders) printRow(header, "");
  for (size_t r = 0; r < rows.size(); ++r) printRow(rows[r], phaseOfRow[r]);
  return 0;
}

}  // namespace remedy::cli
