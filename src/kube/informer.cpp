#include "kube/informer.h"

#include <set>

namespace remedy::kube {

Informer::Informer(Client& client, Resource resource, InformerOptions options, const Clock& clock)
    : resource_(resource),
      clock_(clock),
      reflector_(client, resource, options.namespace_, *this, options.reflector, clock) {}

Informer::~Informer() { stop(); }

void Informer::addEventHandler(EventHandler handler) {
  std::lock_guard<std::mutex> lock(handlersMu_);
  if (handler.onAdd) {
    cache_.forEach([&](const json& object) { handler.onAdd(object, !hasSynced()); });
  }
  handlers_.push_back(std::move(handler));
}

void Informer::start() {
  if (thread_.running()) return;
  thread_ = NamedThread("informer-" + resource_.resource, [this] { reflector_.run(stop_); });
}

void Informer::stop() {
  stop_.requestStop();
  thread_.join();
  std::lock_guard<std::mutex> lock(syncMu_);
  stopped_ = true;
  syncCv_.notify_all();
}

bool Informer::hasSynced() const {
  std::lock_guard<std::mutex> lock(syncMu_);
  return synced_;
}

bool Informer::waitForSync(Duration timeout) const {
  std::unique_lock<std::mutex> lock(syncMu_);
  TimePoint deadline = clock_.now() + timeout;
  while (!synced_ && !stopped_ && clock_.now() < deadline) {
    clock_.waitUntil(syncCv_, lock, deadline);
  }
  return synced_;
}

void Informer::replace(std::vector<json> items, const std::string& resourceVersion) {
  std::lock_guard<std::mutex> lock(handlersMu_);
  bool initial = !hasSynced();
  std::set<std::string> keys;
  for (const json& item : items) keys.insert(objectKey(item));
  // Objects gone while the watch was down: delete them with their last
  // known state (DeletedFinalStateUnknown).
  for (const auto& gone : cache_.entriesNotIn(keys)) {
    cache_.erase(gone->key);
    json last = gone->parse();
    for (auto& h : handlers_) {
      if (h.onDelete) h.onDelete(last, true);
    }
  }
  for (const json& item : items) {
    auto previous = cache_.upsert(item);
    if (!previous) {
      for (auto& h : handlers_) {
        if (h.onAdd) h.onAdd(item, initial);
      }
    } else if (previous->resourceVersion != resourceVersionOf(item)) {
      json old = previous->parse();
      for (auto& h : handlers_) {
        if (h.onUpdate) h.onUpdate(old, item);
      }
    }
  }
  std::lock_guard<std::mutex> syncLock(syncMu_);
  synced_ = true;
  syncCv_.notify_all();
}

void Informer::upsertAndNotify(const json& object) {
  std::lock_guard<std::mutex> lock(handlersMu_);
  auto previous = cache_.upsert(object);
  if (!previous) {
    for (auto& h : handlers_) {
      if (h.onAdd) h.onAdd(object, false);
    }
    return;
  }
  json old = previous->parse();
  for (auto& h : handlers_) {
    if (h.onUpdate) h.onUpdate(old, object);
  }
}

void Informer::added(const json& object) { upsertAndNotify(object); }
void Informer::modified(const json& object) { upsertAndNotify(object); }

void Informer::deleted(const json& object) {
  std::lock_guard<std::mutex> lock(handlersMu_);
  cache_.erase(objectKey(object));
  for (auto& h : handlers_) {
    if (h.onDelete) h.onDelete(object, false);
  }
}

}  // namespace remedy::kube
