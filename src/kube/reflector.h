// Keeps a sink in step with the server: LIST, then WATCH from the list's
// resourceVersion, with client-go's rules (tools/cache/reflector.go):
// - the first list asks for resourceVersion "0", later ones for the last
//   version seen; a 410 on a list relists from "" (a consistent read);
// - watches ask for bookmarks and a random timeoutSeconds in
//   [minWatchTimeout, 2*minWatchTimeout]; a watch that ends cleanly is
//   resumed from the last resourceVersion seen, without relisting;
// - a watch ending in 410 Expired, an ERROR event or any other failure
//   ends this round: the reflector backs off and relists;
// - connection failures and 429 when starting a watch back off and retry
//   the watch without relisting;
// - a watch that ends within a second having delivered nothing counts as a
//   failure ("very short watch");
// - between rounds it backs off exponentially (800ms doubling to 30s,
//   reset after 2 minutes without failure).
#pragma once

#include "kube/backoff.h"
#include "kube/client.h"
#include "kube/stop_signal.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::kube {

// What the reflector feeds. Calls come from the reflector's thread, in the
// server's order.
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // The full state after a list.
  virtual void replace(std::vector<json> items, const std::string& resourceVersion) = 0;
  virtual void added(const json& object) = 0;
  virtual void modified(const json& object) = 0;
  virtual void deleted(const json& object) = 0;
};

struct ReflectorOptions {
  std::string labelSelector;
  std::string fieldSelector;
  Duration minWatchTimeout{std::chrono::minutes(5)};
  int64_t pageSize = 500;  // pager.go default
  ExponentialBackoff::Options backoff;
  // A watch shorter than this with no event is a failure.
  Duration veryShortWatch{std::chrono::seconds(1)};
  // Applied to every listed and watched object before the sink gets it
  // (client-go's TransformFunc, SharedIndexInformer.SetTransform), so an
  // informer whose readers need a few fields caches only those; a list
  // holds each page's objects reduced, not whole. It must keep
  // metadata.name, metadata.namespace and metadata.resourceVersion.
  std::function<void(json& object)> transform;
};

class Reflector {
 public:
  Reflector(Client& client, Resource resource, std::string ns, ReflectorSink& sink,
            ReflectorOptions options = {}, const Clock& clock = Clock::real());

  // Runs until `stop` is requested.
  void run(StopSignal& stop);

  std::string lastSyncResourceVersion() const;
  // Counters, for tests and metrics.
  int lists() const { return lists_; }
  int watches() const { return watches_; }
  // Failed lists and watches (each one that made it back off or relist).
  int failures() const { return failures_; }
  Status lastError() const;

 private:
  Status listAndWatch(StopSignal& stop);
  Status list();
  // OK for a clean end; the failure otherwise.
  Status watchOnce(WatchStream& stream, StopSignal& stop);
  std::string relistResourceVersion() const;
  void setLastSync(const std::string& rv);
  void setError(const Status& s);

  Client& client_;
  const Resource resource_;
  const std::string ns_;
  ReflectorSink& sink_;
  const ReflectorOptions options_;
  const Clock& clock_;
  ExponentialBackoff backoff_;

  mutable std::mutex mu_;  // guards the three below
  std::string lastSyncResourceVersion_;
  bool lastSyncUnavailable_ = false;
  Status lastError_;

  std::atomic<int> lists_{0};
  std::atomic<int> watches_{0};
  std::atomic<int> failures_{0};
};

}  // namespace remedy::kube
