// ChangeTape: every change an API server commits to chosen resources, in
// resourceVersion order per resource, and a kill switch on them: the first
// change matching a predicate SIGKILLs a chosen process. The crash tests use
// it to kill remedy-operator at a point of its step machine and then to read
// the history of every effect (replicas, restartedAt, evicted pods, Lease
// holders) from the server's side.
//
// Two sources, one interface (changes are recorded as sandbox::StoreEvent,
// the sandbox's own record of a change):
// - the sandbox (onSandbox): an observer on its store, called on the
//   writing thread as each change commits. Nothing is missed, and a kill
//   lands the instant the write commits, before the writer has read the
//   answer: an exact crash point on every run.
// - kube-apiserver (onApiServer): one watch per resource and namespace,
//   started before the test writes anything. A watch delivers every change
//   of its resource in resourceVersion order (kube-apiserver serves it from
//   its watch cache, which sees every etcd revision), so the history is as
//   complete as the store's; a watch that loses history (410 Expired) is
//   reported by failures(), never papered over. A kill lands when the change
//   reaches the watch, just after the write became visible: by then the
//   writer may have read the answer and gone on for a few milliseconds (its
//   next request may already be committed). Tests that kill on a change
//   therefore assert only what must hold wherever the kill lands (each
//   effect exactly once), and the exact crash point on the sandbox only.
//
// On kube-apiserver a kill is armed with a baseline: the server's current
// revision (the resourceVersion of a consistent list; kube-apiserver's
// resourceVersions are etcd revisions, one sequence for every resource, so
// this test compares them as numbers, which clients must not do in
// general). Only changes committed after it can trigger the kill, so a
// change by a process killed earlier that reaches a watch late never kills
// the next one. (A write the killed process had in flight can still commit
// after the baseline; that kills the next process early, one crash more,
// which the crash tests tolerate by design.)
#pragma once

#include "kube/client.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "kube/rest_client.h"
#include "sandbox/store.h"

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace remedy::testing {

using SteadyTime = std::chrono::steady_clock::time_point;

// The sandbox's storage key of a resource ("apps/deployments", "/pods"):
// the key ChangeTape files changes under on both servers.
inline std::string storageKeyOf(const kube::Resource& resource) {
  return resource.group + "/" + resource.resource;
}

class ChangeTape {
 public:
  using Change = sandbox::StoreEvent;
  using Predicate = std::function<bool(const Change&)>;

  // A resource in a namespace to watch on kube-apiserver.
  struct Watched {
    kube::Resource resource;
    std::string namespace_;
  };

  // Records every change `store` commits from now on. The store keeps its
  // observers for its whole life, so the tape is shared with it.
  static std::shared_ptr<ChangeTape> onSandbox(sandbox::Store& store) {
    auto tape = std::shared_ptr<ChangeTape>(new ChangeTape());
    store.addObserver([tape](const sandbox::StoreEvent& e) { tape->observe(e); });
    return tape;
  }

  // Watches each of `watched` on the server of `config` (an administrator)
  // and returns once every watch has started; nullptr with `error` set when
  // one could not.
  static std::shared_ptr<ChangeTape> onApiServer(const kube::Config& config,
                                                 const std::vector<Watched>& watched,
                                                 std::string* error) {
    auto tape = std::shared_ptr<ChangeTape>(new ChangeTape());
    auto client = kube::RestClient::fromConfig(config);
    if (!client.ok()) {
      *error = client.status().toString();
      return nullptr;
    }
    tape->client_ = std::move(client.value());
    for (const auto& w : watched) {
      auto feed = std::make_unique<Feed>();
      feed->watched = w;
      auto feedClient = kube::RestClient::fromConfig(config);
      if (!feedClient.ok()) {
        *error = feedClient.status().toString();
        return nullptr;
      }
      feed->client = std::move(feedClient.value());
      // The first list, here, so that nothing written after this returns
      // can be missed.
      auto status = tape->list(*feed);
      if (!status.ok()) {
        *error = storageKeyOf(w.resource) + " in " + w.namespace_ + ": " + status.toString();
        return nullptr;
      }
      tape->feeds_.push_back(std::move(feed));
    }
    for (auto& feed : tape->feeds_) {
      Feed* f = feed.get();
      ChangeTape* t = tape.get();
      f->thread = std::thread([t, f] { t->follow(*f); });
    }
    return tape;
  }

  ~ChangeTape() {
    stopping_ = true;
    for (auto& feed : feeds_) {
      {
        std::lock_guard<std::mutex> lock(feed->streamMu);
        if (feed->stream) feed->stream->cancel();
      }
      if (feed->thread.joinable()) feed->thread.join();
    }
  }

  ChangeTape(const ChangeTape&) = delete;
  ChangeTape& operator=(const ChangeTape&) = delete;

  // True on the sandbox: kills land the instant a change commits.
  bool exact() const { return feeds_.empty(); }

  // The next change matching `when` SIGKILLs `pid` (once; then disarmed),
  // or sends it `signal` (SIGSTOP: a paused process).
  // On kube-apiserver only changes committed after this call count.
  void killOnNext(pid_t pid, Predicate when, int signal = SIGKILL) {
    int64_t baseline = feeds_.empty() ? 0 : currentRevision();
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = pid;
    signal_ = signal;
    when_ = std::move(when);
    baseline_ = baseline;
  }
  void disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = 0;
  }
  // When the last kill happened.
  std::optional<SteadyTime> lastKillAt() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lastKillAt_;
  }
  // Why each kill happened ("<storageKey> <name> rv <N>: <what changed>").
  std::vector<std::string> kills() const {
    std::lock_guard<std::mutex> lock(mu_);
    return kills_;
  }

  // Every change of `storageKey` (in `ns` unless empty), oldest first.
  std::vector<Change> events(const std::string& storageKey, const std::string& ns = "") const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Change> out;
    for (const auto& e : events_) {
      if (e.storageKey == storageKey && (ns.empty() || e.namespace_ == ns)) out.push_back(e);
    }
    return out;
  }

  // Waits until the tape holds every change the server has committed to the
  // watched resources so far (at once on the sandbox): each object a fresh
  // list returns was seen at its resourceVersion, and each one it no longer
  // returns was seen deleted. False after `timeout`.
  bool sync(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto& feed : feeds_) {
      while (!caughtUp(*feed)) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    return true;
  }

  // What went wrong with the watches: a failed watch or lost history. Empty
  // when the tape is complete.
  std::vector<std::string> failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

  // What a change did, in a few words (for the kills' list).
  static std::string describe(const Change& e) {
    using json = nlohmann::json;
    if (e.type == sandbox::EventType::Deleted) return ": deleted";
    if (!e.previous) return ": created";
    const json& now = *e.object;
    const json& before = *e.previous;
    if (e.storageKey == "remedy.dev/incidents" &&
        now.value("status", json()) != before.value("status", json()) && now.contains("status")) {
      const json& s = now["status"];
      std::string out = ": phase " + s.value("phase", "") + ", step " + s.value("currentStep", "");
      for (const auto& st : s.value("steps", json::array())) {
        if (st.value("name", "") == s.value("currentStep", "")) {
          out += " " + st.value("phase", "") + " (attempt " +
                 std::to_string(st.value("attempts", 0)) + ")";
        }
      }
      return out;
    }
    if (now["metadata"].value("generation", 0) != before["metadata"].value("generation", 0)) {
      return ": generation " + std::to_string(now["metadata"].value("generation", 0));
    }
    if (now["metadata"].contains("deletionTimestamp") &&
        !before["metadata"].contains("deletionTimestamp")) {
      return ": deleting";
    }
    if (now.value("status", json()) != before.value("status", json())) return ": status";
    return ": modified";
  }

 private:
  using json = nlohmann::json;

  // One watched resource on kube-apiserver.
  struct Feed {
    Watched watched;
    std::unique_ptr<kube::RestClient> client;
    std::thread thread;
    std::string resourceVersion;  // of the last list, event or bookmark
    std::mutex streamMu;          // guards stream (cancelled from the destructor)
    std::unique_ptr<kube::WatchStream> stream;
  };

  ChangeTape() = default;

  static int64_t revisionOf(const json& object) {
    std::string rv = object.value("metadata", json::object()).value("resourceVersion", "");
    return rv.empty() ? 0 : std::stoll(rv);
  }
  static std::string idOf(const Feed& feed, const std::string& ns, const std::string& name) {
    return storageKeyOf(feed.watched.resource) + "/" + ns + "/" + name;
  }

  // kube-apiserver's current revision: the resourceVersion of a consistent
  // (quorum) list, which is at least that of every write committed before.
  int64_t currentRevision() {
    kube::ListOptions options;
    options.limit = 1;
    auto list = client_->list(kube::resources::namespaces(), "", options);
    if (!list.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      failures_.push_back("reading the current revision: " + list.status().toString());
      return 0;
    }
    return revisionOf(*list);
  }

  // Lists the feed's resource: what exists now is the state later changes
  // are compared with (no change recorded for it).
  kube::Status list(Feed& feed) {
    auto listed = kube::listAll(*feed.client, feed.watched.resource, feed.watched.namespace_);
    if (!listed.ok()) return listed.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& item : (*listed)["items"]) {
      known_[idOf(feed, kube::namespaceOf(item), kube::nameOf(item))] =
          std::make_shared<const json>(item);
    }
    feed.resourceVersion = (*listed)["metadata"].value("resourceVersion", "");
    return kube::Status();
  }

  // The feed's thread: watches from the last resourceVersion until the
  // tape goes away, resuming after a clean end of a watch.
  void follow(Feed& feed) {
    while (!stopping_) {
      kube::ListOptions options;
      options.resourceVersion = feed.resourceVersion;
      options.allowWatchBookmarks = true;
      options.timeoutSeconds = 600;
      auto stream = feed.client->watch(feed.watched.resource, feed.watched.namespace_, options);
      if (!stream.ok()) {
        if (stopping_) return;
        fail(feed, "starting a watch: " + stream.status().toString());
        return;
      }
      {
        std::lock_guard<std::mutex> lock(feed.streamMu);
        feed.stream = std::move(stream.value());
        if (stopping_) return;
      }
      while (auto event = feed.stream->next()) {
        if (event->type == kube::WatchEventType::Bookmark) {
          feed.resourceVersion = event->object["metadata"].value("resourceVersion", "");
          continue;
        }
        if (event->type == kube::WatchEventType::Error) {
          // 410 Expired and the like: the history between the last
          // resourceVersion and now is lost to this tape.
          fail(feed, "watch error: " + event->object.dump());
          return;
        }
        record(feed, *event);
      }
      if (stopping_) return;
      kube::Status status = feed.stream->status();
      if (!status.ok()) {
        fail(feed, "watch ended: " + status.toString());
        return;
      }
    }
  }

  void fail(const Feed& feed, const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back(storageKeyOf(feed.watched.resource) + " in " + feed.watched.namespace_ +
                        ": " + what);
  }

  void record(Feed& feed, const kube::WatchEvent& event) {
    Change change;
    change.type = event.type == kube::WatchEventType::Added      ? sandbox::EventType::Added
                  : event.type == kube::WatchEventType::Modified ? sandbox::EventType::Modified
                                                                 : sandbox::EventType::Deleted;
    change.storageKey = storageKeyOf(feed.watched.resource);
    change.namespace_ = kube::namespaceOf(event.object);
    change.name = kube::nameOf(event.object);
    change.resourceVersion = revisionOf(event.object);
    change.object = std::make_shared<const json>(event.object);
    feed.resourceVersion = event.object["metadata"].value("resourceVersion", "");
    std::string id = idOf(feed, change.namespace_, change.name);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto known = known_.find(id);
      if (known != known_.end() && change.type != sandbox::EventType::Added) {
        change.previous = known->second;
      }
      if (change.type == sandbox::EventType::Deleted) {
        known_.erase(id);
      } else {
        known_[id] = change.object;
      }
    }
    observe(change, /*fromWatch=*/true);
  }

  // Whether the tape has seen what a fresh list of `feed`'s resource shows.
  bool caughtUp(Feed& feed) {
    auto listed = kube::listAll(*client_, feed.watched.resource, feed.watched.namespace_);
    if (!listed.ok()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, int64_t> now;
    for (const auto& item : (*listed)["items"]) {
      now[idOf(feed, kube::namespaceOf(item), kube::nameOf(item))] = revisionOf(item);
    }
    std::string prefix = storageKeyOf(feed.watched.resource) + "/";
    for (const auto& [id, object] : known_) {
      if (id.compare(0, prefix.size(), prefix) != 0) continue;
      if (!now.count(id)) return false;  // deleted, and the tape has not seen it yet
    }
    for (const auto& [id, rv] : now) {
      auto known = known_.find(id);
      if (known == known_.end() || revisionOf(*known->second) < rv) return false;
    }
    return true;
  }

  // Every change, from the store (on its writing thread, with the store
  // locked: never calls back into it) or from a watch.
  void observe(const Change& e, bool fromWatch = false) {
    if (e.storageKey == "/events" || e.storageKey == "events.k8s.io/events") return;
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
    if (armed_ > 0 && when_ && (!fromWatch || e.resourceVersion > baseline_) && when_(e)) {
      ::kill(armed_, signal_);
      lastKillAt_ = std::chrono::steady_clock::now();
      kills_.push_back(e.storageKey + " " + e.name + " rv " + std::to_string(e.resourceVersion) +
                       describe(e));
      armed_ = 0;
    }
  }

  std::unique_ptr<kube::RestClient> client_;  // kube-apiserver: revisions and sync lists
  std::vector<std::unique_ptr<Feed>> feeds_;  // kube-apiserver: one per watched resource
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;  // guards everything below
  std::vector<Change> events_;
  // The last state of every object (id: storageKey/namespace/name) the
  // watches have seen and not seen deleted.
  std::map<std::string, std::shared_ptr<const json>> known_;
  std::vector<std::string> failures_;
  pid_t armed_ = 0;
  Predicate when_;
  int64_t baseline_ = 0;
  std::vector<std::string> kills_;
  std::optional<SteadyTime> lastKillAt_;
  int signal_ = SIGKILL;
};

}  // namespace remedy::testing
