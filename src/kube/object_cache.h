// The informer's thread-safe store (client-go tools/cache thread_safe_store.go
// with indexers), keyed "namespace/name". Objects are kept as their compact
// JSON text, so a cached object costs about its JSON size; readers get a
// freshly parsed copy they may keep and change.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::kube {

using json = nlohmann::json;

// Values an object is indexed under (cache.IndexFunc).
using IndexFunc = std::function<std::vector<std::string>(const json& object)>;
// The index client-go names "namespace".
std::vector<std::string> namespaceIndex(const json& object);

class ObjectCache {
 public:
  struct Entry {
    std::string key;
    std::string resourceVersion;
    std::string text;  // compact JSON
    json parse() const { return json::parse(text); }
  };
  using EntryPtr = std::shared_ptr<const Entry>;

  // Adds an index; existing objects are indexed at once.
  void addIndexer(const std::string& name, IndexFunc func);

  // Inserts or replaces; returns the previous entry (null if none).
  EntryPtr upsert(const json& object);
  // Removes; returns the removed entry (null if none).
  EntryPtr erase(const std::string& key);
  // The entries whose keys are not in `keep` (used when a relist replaces
  // the contents).
  std::vector<EntryPtr> entriesNotIn(const std::set<std::string>& keep) const;

  EntryPtr entry(const std::string& key) const;
  std::optional<json> get(const std::string& key) const;
  std::vector<json> list() const;
  // Calls `visit` with each object, parsed one at a time: a reader of every
  // object holds one parsed copy at once, not a copy of the whole cache
  // (list()). Objects changed during the walk are seen as they were when
  // it began; `visit` runs without the lock and may read the cache.
  void forEach(const std::function<void(const json& object)>& visit) const;
  std::vector<std::string> keys() const;
  size_t size() const;
  // Objects whose index `indexName` contains `value`.
  std::vector<json> byIndex(const std::string& indexName, const std::string& value) const;
  // Bytes of JSON text held (for memory accounting).
  size_t textBytes() const;

 private:
  void indexLocked(const std::string& key, const json& object);
  void unindexLocked(const std::string& key);

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, EntryPtr> items_;
  std::map<std::string, IndexFunc> indexers_;
  // index name -> value -> keys
  std::map<std::string, std::map<std::string, std::set<std::string>>> indices_;
  // key -> index name -> values (to unindex without re-parsing)
  std::map<std::string, std::map<std::string, std::vector<std::string>>> indexedValues_;
  size_t textBytes_ = 0;
};

}  // namespace remedy::kube
