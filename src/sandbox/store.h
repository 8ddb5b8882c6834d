// The sandbox's storage: objects by resource, namespace and name, one global
// resourceVersion counter, a bounded history of changes, and watchers.
//
// The store knows nothing of API semantics (generation, finalizers, status
// rules): callers decide what to write; the store makes each write atomic,
// gives it the next resourceVersion and delivers it to watchers in order.
#pragma once

#include "sandbox/api_error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace remedy::sandbox {

using json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const json>;

enum class EventType { Added, Modified, Deleted };
const char* eventTypeName(EventType t);

struct StoreEvent {
  EventType type;
  std::string storageKey;  // "apps/deployments"
  std::string namespace_;
  std::string name;
  int64_t resourceVersion;
  ObjectPtr object;    // the new object; for Deleted, the last state with the new RV
  ObjectPtr previous;  // the state before this change (null for Added)
};

// A watcher's queue. The store pushes; the consumer pops.
class WatchChannel {
 public:
  // Waits up to `timeout` for an event. nullopt on timeout or when closed.
  std::optional<StoreEvent> next(std::chrono::milliseconds timeout);
  bool closed() const;
  // The resourceVersion up to which every change this watcher cares about
  // has been delivered, when its queue is empty: what a BOOKMARK may carry.
  std::optional<int64_t> bookmarkVersion() const;
  // Ends the watch: the consumer sees nullopt and closed() == true.
  void close();

 private:
  friend class Store;
  void push(StoreEvent e, size_t limit);
  void advance(int64_t resourceVersion);
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<StoreEvent> queue_;
  bool closed_ = false;
  int64_t progress_ = 0;  // the last resourceVersion the store has seen
};

class Store {
 public:
  // Keeps the last `historyLimit` events for watch resumption.
  explicit Store(size_t historyLimit = 20000);

  ObjectPtr get(const std::string& storageKey, const std::string& ns,
                const std::string& name) const;

  struct ListResult {
    std::vector<ObjectPtr> items;  // sorted by namespace, then name
    int64_t resourceVersion;
  };
  // ns "" lists every namespace.
  ListResult list(const std::string& storageKey, const std::string& ns) const;

  // The objects as they were at `resourceVersion` (what a paginated list's
  // later pages serve), or Gone when the history kept no longer reaches it.
  Result<ListResult> listAt(const std::string& storageKey, const std::string& ns,
                            int64_t resourceVersion) const;

  // Writes a new object; fails with `exists` when one of that name is there.
  // Sets metadata.resourceVersion.
  Result<ObjectPtr> create(const std::string& storageKey, json object,
                           const std::function<ApiError()>& exists);

  // Reads the current object and writes what `change` returns, atomically.
  // `change` gets null when there is no such object (return an error, or an
  // object to create it). Returning the same object unchanged (a no-op
  // update) writes nothing and bumps no resourceVersion, as the real server.
  // Returning json(nullptr) deletes the object.
  using Mutation = std::function<Result<json>(const ObjectPtr& current)>;
  Result<ObjectPtr> mutate(const std::string& storageKey, const std::string& ns,
                           const std::string& name, const Mutation& change);

  // Starts a watch of a resource (ns "" for all). fromResourceVersion 0:
  // changes from now on (the caller lists first for synthetic ADDED events);
  // N: every change after N, or Gone when N is older than the history kept.
  Result<std::shared_ptr<WatchChannel>> watch(const std::string& storageKey, const std::string& ns,
                                              int64_t fromResourceVersion);

  // Lists and starts a watch at the same resourceVersion, atomically.
  std::pair<ListResult, std::shared_ptr<WatchChannel>> listAndWatch(const std::string& storageKey,
                                                                    const std::string& ns);

  int64_t currentResourceVersion() const;
  // The oldest resourceVersion a watch may still resume from.
  int64_t oldestResumableVersion() const;

  // Fault injection: forget history, so every resume gets 410 Gone.
  void compact();
  // Fault injection and shutdown: end every open watch.
  void closeAllWatches();

  // In-process observers (the workload simulator, garbage collector, ...):
  // called after each change, in resourceVersion order, on the writing
  // thread with the store locked: an observer only enqueues work and never
  // calls back into the store.
  using Observer = std::function<void(const StoreEvent&)>;
  void addObserver(Observer observer);

 private:
  struct Watcher {
    std::string storageKey;
    std::string ns;
    std::shared_ptr<WatchChannel> channel;
  };
  void record(StoreEvent e);  // with mu_ held

  mutable std::mutex mu_;  // guards everything below but observers_
  int64_t resourceVersion_ = 1;
  int64_t compactedAt_ = 0;  // resume from RV <= this is Gone
  size_t historyLimit_;
  // storageKey -> "ns/name" -> object
  std::map<std::string, std::map<std::string, ObjectPtr>> objects_;
  std::deque<StoreEvent> history_;
  std::vector<Watcher> watchers_;
  std::vector<Observer> observers_;
};

}  // namespace remedy::sandbox
