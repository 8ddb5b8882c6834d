#include "intake/incident_index.h"

#include "api/incident.h"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace remedy::intake {
namespace {

bool isActive(const kube::json& incident) {
  auto status = incident.find("status");
  if (status == incident.end() || !status->is_object()) return true;
  auto phase = status->find("phase");
  if (phase == status->end() || !phase->is_string()) return true;
  auto parsed = api::parseEnum<api::IncidentPhase>(phase->get_ref<const std::string&>());
  return !parsed || !api::isFinal(*parsed);
}

}  // namespace

struct IncidentIndex::State {
  const kube::Clock& clock;
  const kube::Duration pendingTtl;

  mutable std::mutex mu;                   // guards everything below
  std::unordered_set<std::string> known;   // every Incident the informer has
  std::unordered_set<std::string> active;  // the active subset of known
  // Created here, not yet reported by the informer: key -> when.
  mutable std::unordered_map<std::string, kube::TimePoint> pending;

  State(const kube::Clock& c, kube::Duration ttl) : clock(c), pendingTtl(ttl) {}

  void upsert(const kube::json& object) {
    std::string key = kube::objectKey(object);
    std::lock_guard<std::mutex> lock(mu);
    known.insert(key);
    pending.erase(key);
    if (isActive(object)) {
      active.insert(key);
    } else {
      active.erase(key);
    }
  }

  void erase(const kube::json& object) {
    std::string key = kube::objectKey(object);
    std::lock_guard<std::mutex> lock(mu);
    known.erase(key);
    active.erase(key);
    pending.erase(key);
  }

  void expirePending() const {  // with mu held
    auto now = clock.now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (now - it->second > pendingTtl) {
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }
};

IncidentIndex::IncidentIndex(std::vector<kube::Informer*> informers, const kube::Clock& clock,
                             kube::Duration pendingTtl)
    : informers_(std::move(informers)), state_(std::make_shared<State>(clock, pendingTtl)) {
  std::shared_ptr<State> state = state_;
  kube::EventHandler handler;
  handler.onAdd = [state](const kube::json& object, bool) { state->upsert(object); };
  handler.onUpdate = [state](const kube::json&, const kube::json& object) {
    state->upsert(object);
  };
  handler.onDelete = [state](const kube::json& object, bool) { state->erase(object); };
  for (kube::Informer* informer : informers_) informer->addEventHandler(handler);
}

IncidentIndex::~IncidentIndex() = default;

bool IncidentIndex::synced() const {
  for (const kube::Informer* informer : informers_) {
    if (!informer->hasSynced()) return false;
  }
  return true;
}

bool IncidentIndex::waitForSync(kube::Duration timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const kube::Informer* informer : informers_) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (!informer->waitForSync(std::max<kube::Duration>(left, kube::Duration(0)))) return false;
  }
  return true;
}

bool IncidentIndex::contains(const std::string& key) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->known.count(key)) return true;
  state_->expirePending();
  return state_->pending.count(key) > 0;
}

size_t IncidentIndex::active() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->expirePending();
  return state_->active.size() + state_->pending.size();
}

void IncidentIndex::noteCreated(const std::string& key) {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->known.count(key)) return;
  state_->pending.emplace(key, state_->clock.now());
}

void IncidentIndex::keepWhatItReads(kube::json& incident) {
  kube::json metadata = kube::json::object();
  auto meta = incident.find("metadata");
  if (meta != incident.end() && meta->is_object()) {
    for (const char* field : {"name", "namespace", "resourceVersion"}) {
      auto value = meta->find(field);
      if (value != meta->end()) metadata[field] = std::move(*value);
    }
  }
  kube::json kept = {{"metadata", std::move(metadata)}};
  auto status = incident.find("status");
  if (status != incident.end() && status->is_object()) {
    auto phase = status->find("phase");
    if (phase != status->end()) kept["status"] = {{"phase", std::move(*phase)}};
  }
  incident = std::move(kept);
}

}  // namespace remedy::intake
