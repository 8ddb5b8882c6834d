// A reflector feeding an ObjectCache, with event handlers and a HasSynced
// signal (client-go tools/cache shared_informer.go). Handlers run on the
// informer's thread in the server's order of events, so for one key they
// never see changes out of order; they must be quick (enqueue a key) and
// must not add handlers. Unlike client-go there is no periodic resync: a
// relist that finds an object unchanged (same resourceVersion) does not
// call onUpdate; controllers use requeueAfter instead.
#pragma once

#include "kube/client.h"
#include "kube/named_thread.h"
#include "kube/object_cache.h"
#include "kube/reflector.h"
#include "kube/stop_signal.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace remedy::kube {

struct EventHandler {
  // isInInitialList: the object came with the informer's first list.
  std::function<void(const json& object, bool isInInitialList)> onAdd;
  std::function<void(const json& oldObject, const json& newObject)> onUpdate;
  // finalStateUnknown: the deletion was noticed by a relist, and `object`
  // is the last state the cache had (cache.DeletedFinalStateUnknown).
  std::function<void(const json& object, bool finalStateUnknown)> onDelete;
};

struct InformerOptions {
  std::string namespace_;  // "" for all namespaces
  ReflectorOptions reflector;
};

class Informer : private ReflectorSink {
 public:
  Informer(Client& client, Resource resource, InformerOptions options = {},
           const Clock& clock = Clock::real());
  ~Informer() override;
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before or after start(); when added late, the handler first gets an
  // onAdd for every cached object.
  void addEventHandler(EventHandler handler);
  void addIndexer(const std::string& name, IndexFunc func) { cache_.addIndexer(name, func); }

  void start();
  void stop();
  bool hasSynced() const;
  // True once synced; false if `timeout` passes first or the informer stops.
  bool waitForSync(Duration timeout) const;

  std::optional<json> get(const std::string& key) const { return cache_.get(key); }
  std::optional<json> get(const std::string& ns, const std::string& name) const {
    return cache_.get(objectKey(ns, name));
  }
  std::vector<json> list() const { return cache_.list(); }
  // Each cached object, parsed one at a time (see ObjectCache::forEach).
  void forEach(const std::function<void(const json& object)>& visit) const {
    cache_.forEach(visit);
  }
  std::vector<json> byIndex(const std::string& index, const std::string& value) const {
    return cache_.byIndex(index, value);
  }
  const ObjectCache& cache() const { return cache_; }
  const Reflector& reflector() const { return reflector_; }
  const Resource& resource() const { return resource_; }

 private:
  void replace(std::vector<json> items, const std::string& resourceVersion) override;
  void added(const json& object) override;
  void modified(const json& object) override;
  void deleted(const json& object) override;
  void upsertAndNotify(const json& object);

  const Resource resource_;
  const Clock& clock_;
  ObjectCache cache_;
  Reflector reflector_;
  StopSignal stop_;
  NamedThread thread_;

  std::mutex handlersMu_;  // guards handlers_; held while handlers run
  std::vector<EventHandler> handlers_;

  mutable std::mutex syncMu_;  // guards synced_ and stopped_
  mutable std::condition_variable syncCv_;
  bool synced_ = false;
  bool stopped_ = false;
};

}  // namespace remedy::kube
