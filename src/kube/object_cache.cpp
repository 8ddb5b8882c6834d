#include "kube/object_cache.h"

#include "kube/resource.h"

namespace remedy::kube {

std::vector<std::string> namespaceIndex(const json& object) { return {namespaceOf(object)}; }

void ObjectCache::addIndexer(const std::string& name, IndexFunc func) {
  std::lock_guard<std::mutex> lock(mu_);
  indexers_[name] = std::move(func);
  indices_[name].clear();
  for (const auto& [key, entry] : items_) {
    json object = entry->parse();
    for (auto& v : indexers_[name](object)) {
      indices_[name][v].insert(key);
      indexedValues_[key][name].push_back(v);
    }
  }
}

void ObjectCache::indexLocked(const std::string& key, const json& object) {
  for (const auto& [name, func] : indexers_) {
    for (auto& v : func(object)) {
      indices_[name][v].insert(key);
      indexedValues_[key][name].push_back(v);
    }
  }
}

void ObjectCache::unindexLocked(const std::string& key) {
  auto it = indexedValues_.find(key);
  if (it == indexedValues_.end()) return;
  for (const auto& [name, values] : it->second) {
    auto& index = indices_[name];
    for (const auto& v : values) {
      auto set = index.find(v);
      if (set == index.end()) continue;
      set->second.erase(key);
      if (set->second.empty()) index.erase(set);
    }
  }
  indexedValues_.erase(it);
}

ObjectCache::EntryPtr ObjectCache::upsert(const json& object) {
  auto entry = std::make_shared<Entry>();
  entry->key = objectKey(object);
  entry->resourceVersion = resourceVersionOf(object);
  entry->text = object.dump();
  entry->text.shrink_to_fit();
  std::lock_guard<std::mutex> lock(mu_);
  EntryPtr previous;
  auto it = items_.find(entry->key);
  if (it != items_.end()) {
    previous = it->second;
    textBytes_ -= previous->text.size();
    unindexLocked(entry->key);
  }
  textBytes_ += entry->text.size();
  indexLocked(entry->key, object);
  items_[entry->key] = entry;
  return previous;
}

ObjectCache::EntryPtr ObjectCache::erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  EntryPtr previous = it->second;
  textBytes_ -= previous->text.size();
  unindexLocked(key);
  items_.erase(it);
  return previous;
}

std::vector<ObjectCache::EntryPtr> ObjectCache::entriesNotIn(
    const std::set<std::string>& keep) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EntryPtr> out;
  for (const auto& [key, entry] : items_) {
    if (!keep.count(key)) out.push_back(entry);
  }
  return out;
}

ObjectCache::EntryPtr ObjectCache::entry(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::optional<json> ObjectCache::get(const std::string& key) const {
  EntryPtr e = entry(key);
  if (!e) return std::nullopt;
  return e->parse();
}

std::vector<json> ObjectCache::list() const {
  std::vector<EntryPtr> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, entry] : items_) entries.push_back(entry);
  }
  // Parse outside the lock: the reflector must not wait for readers.
  std::vector<json> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e->parse());
  return out;
}

void ObjectCache::forEach(const std::function<void(const json& object)>& visit) const {
  std::vector<EntryPtr> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries.reserve(items_.size());
    for (const auto& [key, entry] : items_) entries.push_back(entry);
  }
  for (const auto& e : entries) visit(e->parse());
}

std::vector<std::string> ObjectCache::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, entry] : items_) out.push_back(key);
  return out;
}

size_t ObjectCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

size_t ObjectCache::textBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return textBytes_;
}

std::vector<json> ObjectCache::byIndex(const std::string& indexName,
                                       const std::string& value) const {
  std::vector<EntryPtr> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto index = indices_.find(indexName);
    if (index == indices_.end()) return {};
    auto keys = index->second.find(value);
    if (keys == index->second.end()) return {};
    for (const auto& key : keys->second) entries.push_back(items_.at(key));
  }
  std::vector<json> out;
  for (const auto& e : entries) out.push_back(e->parse());
  return out;
}

}  // namespace remedy::kube
