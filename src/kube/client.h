// The API client as an interface: what controllers, informers, leader
// election and events are written against. RestClient implements it over
// HTTP; tests may implement it over anything.
#pragma once

#include "kube/clock.h"
#include "kube/resource.h"
#include "kube/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remedy::kube {

struct GetOptions {
  std::string subresource;  // "status", "scale"
  std::string resourceVersion;
  Duration timeout{0};  // 0: the client's default
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;
  std::string resourceVersionMatch;  // "NotOlderThan", "Exact"
  int64_t limit = 0;
  std::string continueToken;
  // Watch only.
  int64_t timeoutSeconds = 0;
  bool allowWatchBookmarks = false;
  Duration timeout{0};
};

// Create and update. `subresource` targets e.g. "status" or "eviction"; the
// object's metadata.name names the parent for subresources.
struct WriteOptions {
  std::string subresource;
  std::string fieldManager;
  bool dryRun = false;
  Duration timeout{0};
};

enum class PatchType { Merge, Json, StrategicMerge, Apply };
const char* patchContentType(PatchType type);

struct PatchOptions {
  PatchType type = PatchType::Merge;
  std::string subresource;
  std::string fieldManager;   // required for Apply
  std::optional<bool> force;  // Apply: take over conflicting fields
  bool dryRun = false;
  Duration timeout{0};
};

struct DeleteOptions {
  std::string propagationPolicy;  // "Orphan", "Background", "Foreground"
  std::optional<int64_t> gracePeriodSeconds;
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;
  Duration timeout{0};
};

// A GET whose answer is text, not JSON (pods/log): the subresource and its
// query parameters, as the server names them.
struct TextGetOptions {
  std::string subresource;
  std::vector<std::pair<std::string, std::string>> params;
  // At most this many bytes of the body are kept; 0: all of it.
  size_t maxBytes = 0;
  Duration timeout{0};
};

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };
const char* watchEventTypeName(WatchEventType t);

struct WatchEvent {
  WatchEventType type;
  json object;  // for Error, a metav1.Status
};

class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Blocks for the next event; nullopt when the stream ended: status() is
  // then OK for a clean end (server timeout or close) or the failure.
  virtual std::optional<WatchEvent> next() = 0;
  virtual Status status() const = 0;
  // From any thread: ends a blocked next().
  virtual void cancel() = 0;
};

class Client {
 public:
  virtual ~Client() = default;

  virtual Result<json> get(const Resource& resource, const std::string& ns, const std::string& name,
                           const GetOptions& options = {}) = 0;
  // One page (see `limit` and `continueToken`); listAll() below follows pages.
  virtual Result<json> list(const Resource& resource, const std::string& ns,
                            const ListOptions& options = {}) = 0;
  virtual Result<json> create(const Resource& resource, const std::string& ns, const json& object,
                              const WriteOptions& options = {}) = 0;
  // Replaces the object named by its metadata; 409 Conflict when its
  // resourceVersion is stale.
  virtual Result<json> update(const Resource& resource, const std::string& ns, const json& object,
                              const WriteOptions& options = {}) = 0;
  virtual Result<json> patch(const Resource& resource, const std::string& ns,
                             const std::string& name, const std::string& body,
                             const PatchOptions& options = {}) = 0;
  // The deleted object, or the Status the server answered with.
  virtual Result<json> remove(const Resource& resource, const std::string& ns,
                              const std::string& name, const DeleteOptions& options = {}) = 0;
  virtual Result<std::unique_ptr<WatchStream>> watch(const Resource& resource,
                                                     const std::string& ns,
                                                     const ListOptions& options) = 0;
  // Discovery: the resource serving `kind` in `apiVersion` ("apps/v1").
  virtual Result<Resource> resourceFor(const std::string& apiVersion, const std::string& kind) = 0;
  // The body of a text subresource; errors decoded from metav1.Status as for
  // every other verb. Default: a client that cannot fetch text says so.
  virtual Result<std::string> getText(const Resource& resource, const std::string& ns,
                                      const std::string& name, const TextGetOptions& options);
};

// Lists every page (pager.go: 500 per page) into one List object.
Result<json> listAll(Client& client, const Resource& resource, const std::string& ns,
                     ListOptions options = {});

// policy/v1 Eviction of a pod: 429 when a PodDisruptionBudget refuses it.
Status evictPod(Client& client, const std::string& ns, const std::string& name,
                const DeleteOptions& options = {});

}  // namespace remedy::kube
