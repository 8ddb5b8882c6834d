// What the Incident controller reads, from informers instead of the API
// server (controller-runtime's rule: reads come from the caches, writes go
// to the API server): Runbooks indexed by the alert names of their
// triggers, the pause ConfigMap (one object, by field selector), and an
// in-memory index of every Incident as the guardrails see it (IncidentView),
// by target, by Runbook and, for the active ones not matched yet, by
// namespace. A guardrail check then costs no API request and no work
// proportional to the Incidents that finished long ago.
//
// Rules kept:
// - A cache that has not synced answers nullopt: the caller fails closed
//   (waits), it never passes a guardrail on nothing.
// - Writes of this process are assumed at once (the scheduler's "assume",
//   kube-controller-manager's ControllerExpectations): a Runbook or Incident
//   written here is what the next read sees, even before its watch event
//   arrives, and an older event does not overwrite it. A claim records an
//   Incident as acting on its targets before its checkpoint is written, so
//   two workers of this process never both pass a guardrail only one may
//   pass; a claim whose write failed is dropped.
// - A write that conflicted (409) marks the version it was made from stale:
//   until the cache shows a newer one, the caller requeues (with the work
//   queue's backoff) instead of writing from it again or reading the API
//   server (controller-runtime's rule: reads come from the cache, the queue
//   owns the retries).
// - resourceVersions are compared only to tell an event older than a write
//   of this process or than a conflict (kube-apiserver's are etcd
//   revisions, the sandbox's too).
#pragma once

#include "engine/guardrail_check.h"
#include "kube/client.h"
#include "kube/informer.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::engine {

struct EngineCachesOptions {
  // Namespaces whose Runbooks and Incidents are cached; empty: all (one
  // cluster-wide watch per kind instead of one per namespace).
  std::vector<std::string> namespaces;
  std::string pauseNamespace = "remedy-system";
  std::string pauseName = "remedy-pause";
};

// The IncidentView of an Incident object; nullopt for a drill (drills change
// nothing and hold nothing) or an object that cannot be read.
std::optional<IncidentView> incidentViewOf(const nlohmann::json& incident);

class EngineCaches {
 public:
  EngineCaches(kube::Client& client, EngineCachesOptions options);
  ~EngineCaches();
  EngineCaches(const EngineCaches&) = delete;
  EngineCaches& operator=(const EngineCaches&) = delete;

  void start();
  void stop();
  bool synced() const;
  bool runbooksSynced() const;
  bool waitForSync(kube::Duration timeout) const;

  // The informers, for controllers to watch.
  std::vector<kube::Informer*> runbookInformers() const;
  std::vector<kube::Informer*> incidentInformers() const;
  kube::Informer& pauseInformer() const { return *pause_; }

  // Runbooks of `ns` with a trigger naming `alertName` or naming no alert
  // name (a superset of those that match); nullopt until synced.
  std::optional<std::vector<nlohmann::json>> runbooksForAlert(const std::string& ns,
                                                              const std::string& alertName) const;
  // The Runbook as last written here or seen by the informer, whichever is
  // newer; nullopt when the cache has none (or has not synced).
  std::optional<nlohmann::json> runbook(const std::string& ns, const std::string& name) const;
  // A Runbook this process has just written.
  void assumeRunbook(const nlohmann::json& written);

  // Whether the global pause is on; nullopt until the informer synced.
  std::optional<bool> paused() const;

  // The view of Incident ns/name, finished or not; nullopt when the cache
  // does not hold it.
  std::optional<IncidentView> incidentView(const std::string& ns, const std::string& name) const;
  // The other Incidents of `ns` a guardrail of Incident `self` may ask
  // about: those on one of `targets`, those of Runbook `runbook`, and the
  // active ones not matched yet; nullopt until synced.
  std::optional<std::vector<IncidentView>> incidentViews(
      const std::string& ns, const std::string& self, const std::string& runbook,
      const std::set<std::string>& targets) const;
  // The Incident as last written here or seen by the informer, whichever
  // is newer; synced false until the Incident informers have synced.
  struct IncidentRead {
    bool synced = false;
    std::optional<nlohmann::json> object;  // none: not in the cache
    // `object` is no newer than a version whose write conflicted.
    bool stale = false;
  };
  IncidentRead incident(const std::string& ns, const std::string& name) const;
  // An Incident this process has just written.
  void assumeIncident(const nlohmann::json& written);
  // Records Incident `key` as acting (on its view's targets, for its
  // Runbook) before its checkpoint is written; dropClaim undoes it when that
  // write fails. A later assumeIncident or informer event replaces it.
  void claim(const std::string& key, IncidentView view);
  void dropClaim(const std::string& key);

  // A status write of `sent` (an Incident or a Runbook, with the
  // resourceVersion it was read at) got 409: that version and older ones are
  // stale until the cache shows a newer one.
  void conflicted(const kube::Resource& resource, const nlohmann::json& sent);
  // Whether `copy` is no newer than a version of it whose write conflicted.
  bool stale(const kube::Resource& resource, const nlohmann::json& copy) const;

  // Incidents in the index (for tests and benchmarks).
  size_t incidentCount() const;

 private:
  struct Entry {
    std::string ns;
    IncidentView view;
    int64_t resourceVersion = 0;  // 0: unknown
    bool claimed = false;
  };
  void upsertIncident(const nlohmann::json& object, bool own);
  // The targets an Incident not matched yet will have, from the cached
  // Runbooks (IncidentView::predictedTargets).
  std::optional<std::set<std::string>> predictTargets(const nlohmann::json& object) const;
  void eraseIncident(const std::string& key);
  void indexLocked(const std::string& key, const Entry& entry);
  void unindexLocked(const std::string& key, const Entry& entry);

  const EngineCachesOptions options_;

  mutable std::mutex mu_;                                   // guards everything below
  std::map<std::string, Entry> incidents_;                  // ns/name
  std::map<std::string, std::set<std::string>> byTarget_;   // ns|TargetRef::key()
  std::map<std::string, std::set<std::string>> byRunbook_;  // ns/runbook
  std::map<std::string, std::set<std::string>> unmatched_;  // ns (active, no runbook)
  // What a claimed key held before its claim, to restore on dropClaim.
  std::map<std::string, std::optional<Entry>> beforeClaims_;
  std::map<std::string, nlohmann::json> runbookWrites_;  // ns/name
  // Incidents written here that the informer has not shown yet (ns/name);
  // dropped once it shows that version or a newer one.
  std::map<std::string, nlohmann::json> incidentWrites_;
  // "resource/ns/name" -> the resourceVersion of a write that conflicted;
  // dropped once a newer version is read.
  mutable std::map<std::string, int64_t> conflicts_;

  // Last, so they stop (and their handlers end) before the state above goes.
  std::vector<std::unique_ptr<kube::Informer>> runbooks_;
  std::vector<std::unique_ptr<kube::Informer>> incidentInformers_;
  std::unique_ptr<kube::Informer> pause_;
};

}  // namespace remedy::engine
