#include "sandbox/store.h"

#include <algorithm>

namespace remedy::sandbox {

namespace {

// A watcher that falls this far behind is closed, as the API server's cacher
// closes a watcher whose buffer is full; the client then resumes or relists.
constexpr size_t kWatcherQueueLimit = 10000;

std::string objectKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

void setResourceVersion(json& object, int64_t rv) {
  object["metadata"]["resourceVersion"] = std::to_string(rv);
}

}  // namespace

const char* eventTypeName(EventType t) {
  switch (t) {
    case EventType::Added:
      return "ADDED";
    case EventType::Modified:
      return "MODIFIED";
    case EventType::Deleted:
      return "DELETED";
  }
  return "ERROR";
}

std::optional<StoreEvent> WatchChannel::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return closed_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  StoreEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool WatchChannel::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ && queue_.empty();
}

std::optional<int64_t> WatchChannel::bookmarkVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!queue_.empty() || closed_ || progress_ == 0) return std::nullopt;
  return progress_;
}

void WatchChannel::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  queue_.clear();
  cv_.notify_all();
}

void WatchChannel::advance(int64_t resourceVersion) {
  std::lock_guard<std::mutex> lock(mu_);
  progress_ = resourceVersion;
}

void WatchChannel::push(StoreEvent e, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  if (queue_.size() >= limit) {
    closed_ = true;
    queue_.clear();
  } else {
    queue_.push_back(std::move(e));
  }
  cv_.notify_all();
}

Store::Store(size_t historyLimit) : historyLimit_(historyLimit) {}

ObjectPtr Store::get(const std::string& storageKey, const std::string& ns,
                     const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto r = objects_.find(storageKey);
  if (r == objects_.end()) return nullptr;
  auto o = r->second.find(objectKey(ns, name));
  return o == r->second.end() ? nullptr : o->second;
}

Store::ListResult Store::list(const std::string& storageKey, const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  ListResult result{{}, resourceVersion_};
  auto r = objects_.find(storageKey);
  if (r == objects_.end()) return result;
  // Keys are "ns/name", so the map order is namespace, then name.
  auto begin = ns.empty() ? r->second.begin() : r->second.lower_bound(ns + "/");
  for (auto it = begin; it != r->second.end(); ++it) {
    if (!ns.empty() && it->first.compare(0, ns.size() + 1, ns + "/") != 0) break;
    result.items.push_back(it->second);
  }
  return result;
}

Result<Store::ListResult> Store::listAt(const std::string& storageKey, const std::string& ns,
                                        int64_t resourceVersion) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (resourceVersion < compactedAt_ || resourceVersion > resourceVersion_) {
    // k8s.io/apiserver/pkg/storage/etcd3/store.go: a continue token whose
    // revision was compacted.
    return ApiError::gone(
        "The provided continue parameter is too old to display a consistent list result. You "
        "can start a new list without the continue parameter, or use the continue token in this "
        "response to retrieve the remainder of the results. Continuing with the provided token "
        "results in an inconsistent list - objects that were created, modified, or deleted "
        "between the time the first chunk was returned and now may show up in the list.");
  }
  std::map<std::string, ObjectPtr> state;
  if (auto r = objects_.find(storageKey); r != objects_.end()) state = r->second;
  // Undo, newest first, every change made after the requested version.
  for (auto it = history_.rbegin(); it != history_.rend() && it->resourceVersion > resourceVersion;
       ++it) {
    if (it->storageKey != storageKey) continue;
    std::string key = objectKey(it->namespace_, it->name);
    if (it->type == EventType::Added) {
      state.erase(key);
    } else {
      state[key] = it->previous;
    }
  }
  ListResult result{{}, resourceVersion};
  for (const auto& [key, obj] : state) {
    if (!ns.empty() && key.compare(0, ns.size() + 1, ns + "/") != 0) continue;
    result.items.push_back(obj);
  }
  return result;
}

Result<ObjectPtr> Store::create(const std::string& storageKey, json object,
                                const std::function<ApiError()>& exists) {
  const auto& meta = object["metadata"];
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  std::lock_guard<std::mutex> lock(mu_);
  auto& bucket = objects_[storageKey];
  std::string key = objectKey(ns, name);
  if (bucket.count(key)) return exists();
  int64_t rv = ++resourceVersion_;
  setResourceVersion(object, rv);
  auto ptr = std::make_shared<const json>(std::move(object));
  bucket[key] = ptr;
  record({EventType::Added, storageKey, ns, name, rv, ptr, nullptr});
  return ptr;
}

Result<ObjectPtr> Store::mutate(const std::string& storageKey, const std::string& ns,
                                const std::string& name, const Mutation& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& bucket = objects_[storageKey];
  std::string key = objectKey(ns, name);
  auto it = bucket.find(key);
  ObjectPtr current = it == bucket.end() ? nullptr : it->second;
  Result<json> next = change(current);
  if (!next.ok()) return next.error();
  json& updated = next.value();
  if (updated.is_null()) {
    if (!current) return ObjectPtr();
    int64_t rv = ++resourceVersion_;
    json last = *current;
    setResourceVersion(last, rv);
    auto lastPtr = std::make_shared<const json>(std::move(last));
    bucket.erase(it);
    record({EventType::Deleted, storageKey, ns, name, rv, lastPtr, current});
    return lastPtr;
  }
  if (current) {
    // A write that changes nothing is not a write: no new resourceVersion,
    // no watch event (the API server short-circuits identical updates).
    json candidate = updated;
    candidate["metadata"]["resourceVersion"] = (*current)["metadata"].value("resourceVersion", "");
    if (candidate == *current) return current;
  }
  int64_t rv = ++resourceVersion_;
  setResourceVersion(updated, rv);
  auto ptr = std::make_shared<const json>(std::move(updated));
  bucket[key] = ptr;
  record(
      {current ? EventType::Modified : EventType::Added, storageKey, ns, name, rv, ptr, current});
  return ptr;
}

void Store::record(StoreEvent e) {
  history_.push_back(e);
  while (history_.size() > historyLimit_) {
    compactedAt_ = history_.front().resourceVersion;
    history_.pop_front();
  }
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (it->channel->closed()) {
      it = watchers_.erase(it);
      continue;
    }
    if (it->storageKey == e.storageKey && (it->ns.empty() || it->ns == e.namespace_)) {
      it->channel->push(e, kWatcherQueueLimit);
    }
    it->channel->advance(e.resourceVersion);
    ++it;
  }
  for (const auto& o : observers_) o(e);
}

Result<std::shared_ptr<WatchChannel>> Store::watch(const std::string& storageKey,
                                                   const std::string& ns,
                                                   int64_t fromResourceVersion) {
  std::lock_guard<std::mutex> lock(mu_);
  auto channel = std::make_shared<WatchChannel>();
  channel->advance(resourceVersion_);
  if (fromResourceVersion > 0) {
    // k8s.io/apiserver/pkg/storage/cacher/watch_cache.go: a resourceVersion
    // older than the oldest event kept is "too old" (410 Gone, reason Expired).
    if (fromResourceVersion < compactedAt_) {
      return ApiError::gone("too old resource version: " + std::to_string(fromResourceVersion) +
                            " (" + std::to_string(compactedAt_ + 1) + ")");
    }
    for (const auto& e : history_) {
      if (e.resourceVersion <= fromResourceVersion) continue;
      if (e.storageKey != storageKey || (!ns.empty() && e.namespace_ != ns)) continue;
      channel->push(e, kWatcherQueueLimit);
    }
  }
  watchers_.push_back({storageKey, ns, channel});
  return channel;
}

std::pair<Store::ListResult, std::shared_ptr<WatchChannel>> Store::listAndWatch(
    const std::string& storageKey, const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  ListResult result{{}, resourceVersion_};
  auto r = objects_.find(storageKey);
  if (r != objects_.end()) {
    for (const auto& [key, obj] : r->second) {
      if (!ns.empty() && key.compare(0, ns.size() + 1, ns + "/") != 0) continue;
      result.items.push_back(obj);
    }
  }
  auto channel = std::make_shared<WatchChannel>();
  channel->advance(resourceVersion_);
  watchers_.push_back({storageKey, ns, channel});
  return {std::move(result), channel};
}

int64_t Store::currentResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resourceVersion_;
}

int64_t Store::oldestResumableVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return compactedAt_;
}

void Store::compact() {
  std::lock_guard<std::mutex> lock(mu_);
  history_.clear();
  compactedAt_ = resourceVersion_;
}

void Store::closeAllWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& w : watchers_) w.channel->close();
  watchers_.clear();
}

void Store::addObserver(Observer observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observers_.push_back(std::move(observer));
}

}  // namespace remedy::sandbox
