// remedyctl approve and remedyctl approvals: deciding on steps that wait for
// approval, and seeing what waits for whom. The Approval carries no
// approver: Remedy's admission webhook writes the user the API server
// authenticated, and seals it.
#include "api/duration.h"
#include "cli/cluster.h"
#include "engine/resources.h"
#include "kube/time_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

namespace remedy::cli {
namespace {

using json = nlohmann::json;

std::string randomSuffix(int n) {
  std::random_device rd;
  std::uniform_int_distribution<int> d(0, 35);
  std::string out;
  for (int i = 0; i < n; ++i) out += "0123456789abcdefghijklmnopqrstuvwxyz"[d(rd)];
  return out;
}

std::vector<std::string> waitingSteps(const json& incident) {
  std::vector<std::string> steps;
  for (const auto& st : incident.value("status", json::object()).value("steps", json::array())) {
    if (st.value("phase", "") == "AwaitingApproval") steps.push_back(st.value("name", ""));
  }
  return steps;
}

std::string waitingSince(const json& incident) {
  for (const auto& c :
       incident.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "AwaitingApproval" && c.value("status", "") == "True") {
      return c.value("lastTransitionTime", "");
    }
  }
  return "";
}

// A DNS-1123 name for the Approval: the Incident's and the step's, cut to
// fit, and a random suffix (the name is sealed, so it is chosen here, not
// by generateName).
std::string approvalName(const std::string& incident, const std::string& step) {
  std::string name = incident.substr(0, 180) + "-" + step.substr(0, 60) + "-" + randomSuffix(5);
  return name;
}

constexpr const char* kApproveHelp =
    "usage: remedyctl approve INCIDENT [--step STEP] [--reject] [-m REASON] [flags]\n"
    "\n"
    "Approves (or rejects) a step of INCIDENT that waits for approval, as the user your\n"
    "kubeconfig authenticates: Remedy's admission webhook records who you are; you never\n"
    "name yourself. Without --step, the one step that waits.\n"
    "\n"
    "  --step STEP      the step to decide on\n"
    "  --reject         reject instead of approve (one rejection cancels the step)\n"
    "  -m, --message    why, for the audit trail\n";

}  // namespace

int runApprove(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl approve: %s\n", error->c_str());
    return 2;
  }
  std::string incidentName, step, message;
  bool reject = false;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s%s", kApproveHelp, kClusterFlagsHelp);
      return 0;
    }
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (i + 1 >= rest.size()) {
        std::fprintf(stderr, "remedyctl approve: %s needs a value\n", flag);
        return std::nullopt;
      }
      return rest[++i];
    };
    if (a == "--step") {
      auto v = value("--step");
      if (!v) return 2;
      step = *v;
    } else if (a.rfind("--step=", 0) == 0) {
      step = a.substr(7);
    } else if (a == "-m" || a == "--message") {
      auto v = value("--message");
      if (!v) return 2;
      message = *v;
    } else if (a.rfind("--message=", 0) == 0) {
      message = a.substr(10);
    } else if (a == "--reject") {
      reject = true;
    } else if (!a.empty() && a[0] != '-' && incidentName.empty()) {
      incidentName = a;
    } else {
      std::fprintf(stderr, "remedyctl approve: unexpected argument \"%s\" (see --help)\n",
                   a.c_str());
      return 2;
    }
  }
  if (incidentName.empty()) {
    std::fprintf(stderr, "remedyctl approve: name the Incident (see --help)\n");
    return 2;
  }
  auto cluster = connect(flags, "approve");
  if (!cluster) return 1;
  kube::Client& client = *cluster->client;
  const std::string& ns = cluster->namespace_;
  auto got = client.get(engine::incidents(), ns, incidentName);
  if (!got.ok()) {
    std::fprintf(stderr, "remedyctl approve: incident %s/%s: %s\n", ns.c_str(),
                 incidentName.c_str(), got.status().message().c_str());
    return 1;
  }
  std::vector<std::string> waiting = waitingSteps(*got);
  if (step.empty()) {
    if (waiting.size() != 1) {
      std::fprintf(stderr,
                   waiting.empty()
                       ? "remedyctl approve: incident %s/%s has no step waiting for approval\n"
                       : "remedyctl approve: incident %s/%s has several steps waiting for "
                         "approval: name one with --step\n",
                   ns.c_str(), incidentName.c_str());
      return 1;
    }
    step = waiting[0];
  } else if (std::find(waiting.begin(), waiting.end(), step) == waiting.end()) {
    std::fprintf(stderr,
                 "remedyctl approve: warning: step %s of incident %s/%s is not waiting for "
                 "approval now; the Approval counts only if it starts waiting later\n",
                 step.c_str(), ns.c_str(), incidentName.c_str());
  }
  json spec = {{"incidentRef", {{"name", incidentName}}},
               {"step", step},
               {"decision", reject ? "Reject" : "Approve"}};
  if (!message.empty()) spec["comment"] = message;
  json approval = {{"apiVersion", "remedy.dev/v1alpha1"},
                   {"kind", "Approval"},
                   {"metadata", {{"name", approvalName(incidentName, step)}, {"namespace", ns}}},
                   {"spec", spec}};
  kube::WriteOptions options;
  options.fieldManager = "remedyctl";
  auto created = client.create(engine::approvals(), ns, approval, options);
  if (!created.ok()) {
    std::fprintf(stderr, "remedyctl approve: %s\n", created.status().message().c_str());
    for (const auto& c : created.status().causes()) {
      std::fprintf(stderr, "  %s: %s\n", c.field.c_str(), c.message.c_str());
    }
    return 1;
  }
  std::string name = kube::nameOf(*created);
  std::printf("approval %s/%s: %s of step %s of incident %s by %s\n", ns.c_str(), name.c_str(),
              reject ? "rejection" : "approval", step.c_str(), incidentName.c_str(),
              (*created)["spec"].value("approver", "").c_str());
  // What the operator made of it, when it says so soon.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = client.get(engine::approvals(), ns, name);
    if (now.ok() && now->contains("status")) {
      const json& st = (*now)["status"];
      std::printf("%s: %s (%s)\n", st.value("state", "").c_str(), st.value("reason", "").c_str(),
                  st.value("message", "").c_str());
      return st.value("state", "") == "Refused" ? 1 : 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::printf("the operator has not processed it yet: kubectl get approval %s -n %s\n",
              name.c_str(), ns.c_str());
  return 0;
}

int runApprovals(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl approvals: %s\n", error->c_str());
    return 2;
  }
  for (const auto& a : rest) {
    if (a == "-h" || a == "--help") {
      std::printf(
          "usage: remedyctl approvals [flags]\n\nThe steps that wait for approval: the "
          "Incident, the step, since when, until when, and who may approve.\n%s",
          kClusterFlagsHelp);
      return 0;
    }
    std::fprintf(stderr, "remedyctl approvals: unexpected argument \"%s\"\n", a.c_str());
    return 2;
  }
  auto cluster = connect(flags, "approvals");
  if (!cluster) return 1;
  kube::Client& client = *cluster->client;
  const std::string& ns = cluster->namespace_;
  auto list = kube::listAll(client, engine::incidents(), ns);
  if (!list.ok()) {
    std::fprintf(stderr, "remedyctl approvals: %s\n", list.status().message().c_str());
    return 1;
  }
  std::printf("%-32s %-24s %-22s %-22s %s\n", "INCIDENT", "STEP", "SINCE", "UNTIL", "APPROVERS");
  for (const auto& incident : (*list)["items"]) {
    std::vector<std::string> steps = waitingSteps(incident);
    if (steps.empty()) continue;
    std::string since = waitingSince(incident);
    std::string until = "-", approvers = "RBAC: verb approve";
    // The Runbook as the Incident runs it (its snapshot on status).
    const json policy = incident.value("status", json::object())
                            .value("runbook", json::object())
                            .value("spec", json::object())
                            .value("approval", json::object());
    std::string who;
    for (const auto& v : policy.value("users", json::array())) {
      who += (who.empty() ? "" : ",") + v.get<std::string>();
    }
    for (const auto& v : policy.value("groups", json::array())) {
      who += (who.empty() ? "" : ",") + std::string("group:") + v.get<std::string>();
    }
    if (!who.empty()) approvers = who;
    auto parsedSince = kube::parseRfc3339(since);
    auto timeout = api::parseDuration(policy.value("timeout", "30m"));
    if (parsedSince && timeout.ok()) until = kube::formatRfc3339(*parsedSince + *timeout);
    for (const auto& step : steps) {
      std::printf("%-32s %-24s %-22s %-22s %s\n", kube::nameOf(incident).c_str(), step.c_str(),
                  since.c_str(), until.c_str(), approvers.c_str());
    }
  }
  return 0;
}

}  // namespace remedy::cli
