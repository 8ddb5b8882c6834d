#include "kube/event_recorder.h"

#include "kube/time_format.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace remedy::kube {

EventRecorder::EventRecorder(Client& client, EventRecorderOptions options, const Clock& clock)
    : client_(client),
      options_(std::move(options)),
      clock_(clock),
      correlator_(clock, options_.correlator) {}

EventRecorder::~EventRecorder() { stop(); }

void EventRecorder::start() {
  if (!thread_.running()) thread_ = NamedThread("event-recorder", [this] { loop(); });
}

void EventRecorder::stop() {
  stop_.requestStop();
  cv_.notify_all();
  thread_.join();
}

void EventRecorder::event(const json& object, const std::string& type, const std::string& reason,
                          const std::string& message) {
  std::string ns = namespaceOf(object);
  WallTime now = clock_.wallNow();
  char suffix[32];
  std::snprintf(
      suffix, sizeof suffix, ".%llx",
      static_cast<unsigned long long>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()));
  std::string nowText = formatRfc3339(now);
  json involved = {{"apiVersion", object.value("apiVersion", "")},
                   {"kind", object.value("kind", "")},
                   {"name", nameOf(object)}};
  if (!ns.empty()) involved["namespace"] = ns;
  if (!uidOf(object).empty()) involved["uid"] = uidOf(object);
  if (!resourceVersionOf(object).empty()) involved["resourceVersion"] = resourceVersionOf(object);
  json e = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      // record/event.go makeEvent: cluster-scoped objects' events go
      // to the default namespace.
      {"metadata", {{"name", nameOf(object) + suffix}, {"namespace", ns.empty() ? "default" : ns}}},
      {"involvedObject", involved},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"source", {{"component", options_.component}, {"host", options_.host}}},
      {"firstTimestamp", nowText},
      {"lastTimestamp", nowText},
      {"count", 1},
      {"reportingComponent", options_.component},
      {"reportingInstance", options_.host}};
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= options_.queueSize) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(e));
  cv_.notify_one();
}

bool EventRecorder::waitIdle(Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  TimePoint deadline = clock_.now() + timeout;
  while ((!queue_.empty() || busy_) && clock_.now() < deadline) {
    clock_.waitUntil(cv_, lock, deadline);
  }
  return queue_.empty() && !busy_;
}

void EventRecorder::loop() {
  while (true) {
    json e;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stop_.stopRequested(); });
      if (stop_.stopRequested()) return;
      e = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    write(std::move(e));
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
    cv_.notify_all();
  }
}

void EventRecorder::write(json e) {
  CorrelationResult result = correlator_.correlate(std::move(e));
  if (result.skip) {
    ++skipped_;
    return;
  }
  const json& event = result.event;
  std::string ns = namespaceOf(event);
  for (int tries = 1;; ++tries) {
    bool patched = !result.patch.is_null();
    PatchOptions patch;
    patch.type = PatchType::StrategicMerge;
    Result<json> written =
        patched ? client_.patch(resources::events(), ns, nameOf(event), result.patch.dump(), patch)
                : Result<json>(Status::error(404, reason::kNotFound, "not written yet"));
    // recordEvent: the event to update may have been deleted; create it.
    if (!patched || isNotFound(written.status())) {
      json fresh = event;
      fresh["metadata"].erase("resourceVersion");
      written = client_.create(resources::events(), ns, fresh);
    }
    if (written) {
      correlator_.updateState(*written);
      ++written_;
      return;
    }
    Status s = written.status();
    // A refusal from the server will not change on retry.
    if (s.code() != 0 || isCancelled(s)) {
      spdlog::warn("event {}/{} {}: {}", ns, nameOf(event), event.value("reason", ""),
                   s.toString());
      return;
    }
    if (tries >= options_.maxTries) {
      spdlog::warn("event {}/{}: dropped after {} tries: {}", ns, nameOf(event), tries,
                   s.toString());
      return;
    }
    if (stop_.waitFor(clock_, options_.retryInterval)) return;
  }
}

}  // namespace remedy::kube
