// remedyctl watch: follows Incidents live, one line per transition (each new
// entry of an Incident's timeline), like `kubectl get -w`.
#include "cli/cluster.h"
#include "cli/incident_view.h"
#include "engine/resources.h"
#include "kube/resource.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

namespace remedy::cli {
namespace {

// How many timeline entries an Incident has had, dropped ones included: a
// new entry is one past this count.
int64_t entriesSeen(const json& incident) {
  const json status = incident.value("status", json::object());
  return status.value("droppedTimelineEntries", int64_t{0}) +
         static_cast<int64_t>(status.value("timeline", json::array()).size());
}

class Follower {
 public:
  explicit Follower(const Output& out) : out_(out) {}

  // The Incidents as they are when the watch starts: a line for each active one.
  void start(const std::vector<json>& incidents, bool all) {
    for (const auto& i : incidents) {
      seen_[key(i)] = entriesSeen(i);
      std::string phase = i.value("status", json::object()).value("phase", "Pending");
      if (!all && isFinalPhase(phase)) continue;
      std::string waiting = waitingFor(i, out_.now);
      const json timeline = i.value("status", json::object()).value("timeline", json::array());
      std::string time = timeline.empty()
                             ? i.value("metadata", json::object()).value("creationTimestamp", "")
                             : timeline.back().value("time", "");
      std::string text = waiting.empty() ? "" : "waiting for " + waiting;
      if (text.empty() && !timeline.empty()) text = message(timeline.back());
      print(time, i, "Now", phase, text);
    }
  }

  // A watch event: a line per timeline entry not printed yet.
  void observe(const std::string& type, const json& i) {
    std::string k = key(i);
    if (type == "DELETED") {
      print("", i, "", "Deleted", "");
      seen_.erase(k);
      return;
    }
    auto it = seen_.find(k);
    if (it == seen_.end()) {
      const json alert = i.value("spec", json::object()).value("alert", json::object());
      print(alert.value("startsAt", ""), i, "", "Created",
            "alert " + alert.value("name", "") + " " + alert.value("status", "firing"));
      it = seen_.emplace(k, 0).first;
    }
    const json status = i.value("status", json::object());
    const json timeline = status.value("timeline", json::array());
    int64_t dropped = status.value("droppedTimelineEntries", int64_t{0});
    int64_t total = dropped + static_cast<int64_t>(timeline.size());
    // Entries dropped before they were printed are counted, not lost silently.
    int64_t firstKept = dropped;
    if (it->second < firstKept) {
      print("", i, "", "Dropped",
            std::to_string(firstKept - it->second) + " entries left the record unseen");
      it->second = firstKept;
    }
    for (int64_t n = it->second; n < total; ++n) {
      const json& e = timeline[static_cast<size_t>(n - dropped)];
      print(e.value("time", ""), i, "", e.value("type", ""), message(e));
    }
    it->second = std::max(it->second, total);
  }

 private:
  static std::string key(const json& i) { return kube::namespaceOf(i) + "/" + kube::nameOf(i); }
  static std::string message(const json& e) {
    std::string step = e.value("step", "");
    std::string m = e.value("message", "");
    if (!step.empty() && m.rfind(step + ":", 0) != 0) m = step + ": " + m;
    return m;
  }

  void print(const std::string& time, const json& i, const std::string& phase,
             const std::string& type, const std::string& text) {
    std::string when = time.empty() ? "--:--:--" : utcClock(time);
    std::string p = phase.empty() ? "" : paint(out_, phaseColour(phase), phase) + " ";
    std::printf("%s  %s  %s%s%s%s\n", when.c_str(), key(i).c_str(), p.c_str(),
                paint(out_, Colour::kBold, type).c_str(), text.empty() ? "" : ": ", text.c_str());
    std::fflush(stdout);
  }

  const Output& out_;
  std::map<std::string, int64_t> seen_;
};

}  // namespace

int runWatch(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl watch: %s\n", error->c_str());
    return 2;
  }
  std::string color;
  bool all = false;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: remedyctl watch [-A | -n NAMESPACE] [--all] [--color auto]\n\n"
          "Follows Incidents live: first a line for each active Incident (what it waits\n"
          "for), then a line per transition as it happens (each new entry of an\n"
          "Incident's timeline: matched, step started, succeeded, failed, waiting,\n"
          "approved, reverted, escalated, finished). Times are UTC. Every namespace\n"
          "unless -n is given. Runs until interrupted.\n\nflags:\n"
          "  --all               a first line for finished Incidents too\n"
          "  --color WHEN        auto (on a terminal), always or never\n%s",
          kClusterFlagsHelp);
      return 0;
    } else if (a == "--color" && i + 1 < rest.size()) {
      color = rest[++i];
    } else if (a.rfind("--color=", 0) == 0) {
      color = a.substr(8);
    } else if (a == "--all") {
      all = true;
    } else if (a == "-A" || a == "--all-namespaces") {
      flags.namespace_.clear();
    } else {
      std::fprintf(stderr, "remedyctl watch: unexpected argument \"%s\"\n", a.c_str());
      return 2;
    }
  }
  Output out;
  if (auto error = makeOutput(color, &out)) {
    std::fprintf(stderr, "remedyctl watch: %s\n", error->c_str());
    return 2;
  }
  auto cluster = connect(flags, "watch");
  if (!cluster) return 1;
  kube::Client& client = *cluster->client;
  std::string ns = flags.namespace_;
  Follower follower(out);
  bool started = false;
  int failures = 0;
  while (true) {
    // List, then watch from the list's resourceVersion; after the watch ends
    // (server timeout, 410 Gone), list again: the timeline counts make the
    // lines printed exactly once across relists.
    auto list = kube::listAll(client, engine::incidents(), ns);
    if (!list.ok()) {
      std::fprintf(stderr, "remedyctl watch: listing incidents: %s\n",
                   list.status().message().c_str());
      if (++failures >= 5) return 1;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    failures = 0;
    std::vector<json> items = (*list).value("items", json::array()).get<std::vector<json>>();
    if (!started) {
      follower.start(items, all);
      started = true;
    } else {
      for (const auto& i : items) follower.observe("MODIFIED", i);
    }
    kube::ListOptions options;
    options.resourceVersion =
        (*list).value("metadata", json::object()).value("resourceVersion", "");
    options.timeoutSeconds = 300;
    options.allowWatchBookmarks = true;
    auto stream = client.watch(engine::incidents(), ns, options);
    if (!stream.ok()) {
      std::fprintf(stderr, "remedyctl watch: %s\n", stream.status().message().c_str());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    while (auto event = (*stream)->next()) {
      if (event->type == kube::WatchEventType::Error) break;
      if (event->type == kube::WatchEventType::Bookmark) continue;
      follower.observe(event->type == kube::WatchEventType::Deleted ? "DELETED" : "MODIFIED",
                       event->object);
    }
  }
}

}  // namespace remedy::cli
