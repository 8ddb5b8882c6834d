#include "kube/reflector.h"

#include <spdlog/spdlog.h>

namespace remedy::kube {

Reflector::Reflector(Client& client, Resource resource, std::string ns, ReflectorSink& sink,
                     ReflectorOptions options, const Clock& clock)
    : client_(client),
      resource_(std::move(resource)),
      ns_(std::move(ns)),
      sink_(sink),
      options_(std::move(options)),
      clock_(clock),
      backoff_(clock, options_.backoff) {}

std::string Reflector::lastSyncResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastSyncResourceVersion_;
}

Status Reflector::lastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastError_;
}

void Reflector::setLastSync(const std::string& rv) {
  std::lock_guard<std::mutex> lock(mu_);
  lastSyncResourceVersion_ = rv;
}

void Reflector::setError(const Status& s) {
  ++failures_;
  std::lock_guard<std::mutex> lock(mu_);
  lastError_ = s;
}

std::string Reflector::relistResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (lastSyncUnavailable_) return "";
  if (lastSyncResourceVersion_.empty()) return "0";
  return lastSyncResourceVersion_;
}

void Reflector::run(StopSignal& stop) {
  // wait.BackoffUntil with sliding=true: back off after every round.
  while (!stop.stopRequested()) {
    Status s = listAndWatch(stop);
    if (stop.stopRequested()) break;
    if (!s.ok()) {
      setError(s);
      // Refusals never heal by themselves: say so where operators look.
      int code = s.code();
      if (code == 401 || code == 403 || code == 404) {
        spdlog::warn("reflector {}: {}", resource_.qualifiedName(), s.toString());
      } else {
        spdlog::debug("reflector {}: {}", resource_.qualifiedName(), s.toString());
      }
    }
    stop.waitFor(clock_, backoff_.next());
  }
}

Status Reflector::list() {
  ++lists_;
  std::string rv = relistResourceVersion();
  for (int attempt = 0; attempt < 2; ++attempt) {
    ListOptions options;
    options.labelSelector = options_.labelSelector;
    options.fieldSelector = options_.fieldSelector;
    options.resourceVersion = rv;
    options.limit = options_.pageSize;
    std::vector<json> items;
    std::string listVersion;
    Status failed;
    while (true) {
      auto page = client_.list(resource_, ns_, options);
      if (!page) {
        failed = page.status();
        break;
      }
      if (page->contains("items") && (*page)["items"].is_array()) {
        for (auto& item : (*page)["items"]) {
          if (options_.transform) options_.transform(item);
          items.push_back(std::move(item));
        }
      }
      const json& meta = (*page)["metadata"];
      listVersion = meta.value("resourceVersion", "");
      std::string next = meta.value("continue", "");
      if (next.empty()) break;
      options.continueToken = next;
      options.resourceVersion.clear();  // the continue token carries it
    }
    if (failed.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        lastSyncUnavailable_ = false;
        lastSyncResourceVersion_ = listVersion;
      }
      sink_.replace(std::move(items), listVersion);
      return Status();
    }
    // reflector.go: a list at a version the server no longer has is retried
    // at once as a consistent read.
    if (attempt == 0 && (isExpired(failed) || hasStatusCause(failed, "ResourceVersionTooLarge"))) {
      std::lock_guard<std::mutex> lock(mu_);
      lastSyncUnavailable_ = true;
      rv = "";
      continue;
    }
    return failed.withContext("list " + resource_.qualifiedName());
  }
  return Status();
}

Status Reflector::listAndWatch(StopSignal& stop) {
  if (Status s = list(); !s.ok()) return s;
  while (!stop.stopRequested()) {
    ListOptions options;
    options.labelSelector = options_.labelSelector;
    options.fieldSelector = options_.fieldSelector;
    options.resourceVersion = lastSyncResourceVersion();
    options.allowWatchBookmarks = true;
    double minSeconds = std::chrono::duration<double>(options_.minWatchTimeout).count();
    options.timeoutSeconds = static_cast<int64_t>(minSeconds * (1.0 + randomUnit()));
    if (options.timeoutSeconds < 1) options.timeoutSeconds = 1;
    ++watches_;
    auto stream = client_.watch(resource_, ns_, options);
    if (!stream) {
      Status s = stream.status();
      if (isConnectionFailed(s) || isTooManyRequests(s)) {
        // isWatchErrorRetriable: the server is there or coming back; resume
        // the watch rather than relist.
        setError(s);
        if (stop.waitFor(clock_, backoff_.next())) return Status();
        continue;
      }
      return s.withContext("watch " + resource_.qualifiedName());
    }
    WatchStream& w = **stream;
    Status s;
    {
      ScopedOnStop cancel(stop, [&w] { w.cancel(); });
      s = watchOnce(w, stop);
    }
    if (stop.stopRequested()) return Status();
    if (s.ok()) continue;  // a clean end: resume from the last version
    if (isTooManyRequests(s)) {
      setError(s);
      if (stop.waitFor(clock_, backoff_.next())) return Status();
      continue;
    }
    return s.withContext("watch " + resource_.qualifiedName());
  }
  return Status();
}

Status Reflector::watchOnce(WatchStream& stream, StopSignal& stop) {
  TimePoint start = clock_.now();
  int events = 0;
  while (auto event = stream.next()) {
    bool object = event->type == WatchEventType::Added || event->type == WatchEventType::Modified ||
                  event->type == WatchEventType::Deleted;
    if (object && options_.transform) options_.transform(event->object);
    switch (event->type) {
      case WatchEventType::Error:
        return Status::fromStatusObject(event->object);
      case WatchEventType::Bookmark:
        break;
      case WatchEventType::Added:
        sink_.added(event->object);
        break;
      case WatchEventType::Modified:
        sink_.modified(event->object);
        break;
      case WatchEventType::Deleted:
        sink_.deleted(event->object);
        break;
    }
    std::string rv = resourceVersionOf(event->object);
    if (!rv.empty()) setLastSync(rv);
    ++events;
  }
  if (stop.stopRequested()) return Status();
  // A broken connection ends the watch like a clean close (client-go's
  // StreamWatcher only logs it); either way the watch resumes from the last
  // version, unless it was suspiciously short.
  if (events == 0 && clock_.now() - start < options_.veryShortWatch) {
    Status why = stream.status();
    return Status::error(0, reason::kUnknown,
                         "very short watch: the watch ended within " +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                options_.veryShortWatch)
                                                .count()) +
                             "ms with no event" + (why.ok() ? "" : " (" + why.message() + ")"));
  }
  return Status();
}

}  // namespace remedy::kube
