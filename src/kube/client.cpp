#include "kube/client.h"

namespace remedy::kube {

const char* patchContentType(PatchType type) {
  switch (type) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::Json:
      return "application/json-patch+json";
    case PatchType::StrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::Apply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

const char* watchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::Added:
      return "ADDED";
    case WatchEventType::Modified:
      return "MODIFIED";
    case WatchEventType::Deleted:
      return "DELETED";
    case WatchEventType::Bookmark:
      return "BOOKMARK";
    case WatchEventType::Error:
      return "ERROR";
  }
  return "ERROR";
}

Result<std::string> Client::getText(const Resource& resource, const std::string& ns,
                                    const std::string& name, const TextGetOptions& options) {
  return Status::error(0, reason::kUnknown,
                       "this client cannot read " + resource.path(ns, name, options.subresource));
}

Result<json> listAll(Client& client, const Resource& resource, const std::string& ns,
                     ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  json all;
  while (true) {
    auto page = client.list(resource, ns, options);
    if (!page) return page;
    if (all.is_null()) {
      all = *page;
      all["items"] = json::array();
    }
    if (page->contains("items") && (*page)["items"].is_array()) {
      for (auto& item : (*page)["items"]) all["items"].push_back(std::move(item));
    }
    all["metadata"]["resourceVersion"] = (*page)["metadata"].value("resourceVersion", "");
    std::string next = (*page)["metadata"].value("continue", "");
    if (next.empty()) break;
    options.continueToken = next;
  }
  all["metadata"].erase("continue");
  return all;
}

Status evictPod(Client& client, const std::string& ns, const std::string& name,
                const DeleteOptions& options) {
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", name}, {"namespace", ns}}}};
  json deleteOptions = json::object();
  if (options.gracePeriodSeconds) deleteOptions["gracePeriodSeconds"] = *options.gracePeriodSeconds;
  if (!options.preconditionUid.empty())
    deleteOptions["preconditions"]["uid"] = options.preconditionUid;
  if (!deleteOptions.empty()) eviction["deleteOptions"] = deleteOptions;
  WriteOptions write;
  write.subresource = "eviction";
  write.dryRun = options.dryRun;
  return client.create(resources::pods(), ns, eviction, write).status();
}

}  // namespace remedy::kube
