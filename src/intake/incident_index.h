// Which Incidents exist and how many are active (no final phase yet), kept
// up to date from an Informer's events, so a webhook request never lists
// Incidents. Incidents this process just created count at once, before
// their watch event arrives; such an entry expires if the watch never
// reports it (the object was deleted before the informer saw it).
#pragma once

#include "kube/clock.h"
#include "kube/informer.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace remedy::intake {

class IncidentIndex {
 public:
  // Adds handlers to each informer (before or after it started): one for
  // all namespaces, or one per managed namespace. The handlers share state
  // with this object, so they stay safe after it is destroyed.
  IncidentIndex(std::vector<kube::Informer*> informers,
                const kube::Clock& clock = kube::Clock::real(),
                kube::Duration pendingTtl = std::chrono::minutes(2));
  ~IncidentIndex();
  IncidentIndex(const IncidentIndex&) = delete;
  IncidentIndex& operator=(const IncidentIndex&) = delete;

  // The informer has listed once: contains() and active() mean something.
  bool synced() const;
  bool waitForSync(kube::Duration timeout) const;
  // "namespace/name" exists (or was just created here).
  bool contains(const std::string& key) const;
  // Incidents whose status.phase is absent or not final.
  size_t active() const;
  // An Incident created by this process.
  void noteCreated(const std::string& key);

  // Reduces an Incident to what the index reads (name, namespace,
  // resourceVersion, status.phase): the transform of an informer that feeds
  // only an index, which then caches a few dozen bytes per Incident instead
  // of the whole object (kube::InformerOptions::transform).
  static void keepWhatItReads(kube::json& incident);

 private:
  struct State;
  std::vector<kube::Informer*> informers_;
  std::shared_ptr<State> state_;
};

}  // namespace remedy::intake
