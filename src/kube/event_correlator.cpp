#include "kube/event_correlator.h"

#include "kube/time_format.h"
#include "kube/token_bucket.h"

#include <cstdio>
#include <mutex>
#include <set>

namespace remedy::kube {
namespace {

// A map that forgets its least recently used entries beyond a capacity
// (k8s.io/utils/lru).
template <typename V>
class Lru {
 public:
  explicit Lru(size_t capacity) : capacity_(capacity) {}
  V* get(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.second);
    return &it->second.first;
  }
  V& put(const std::string& key, V value) {
    if (V* existing = get(key)) {
      *existing = std::move(value);
      return *existing;
    }
    order_.push_front(key);
    auto& slot = map_[key];
    slot = {std::move(value), order_.begin()};
    if (map_.size() > capacity_) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    return map_[key].first;
  }

 private:
  size_t capacity_;
  std::list<std::string> order_;
  std::map<std::string, std::pair<V, std::list<std::string>::iterator>> map_;
};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string involved(const json& e, const char* key) {
  return e.contains("involvedObject") ? str(e["involvedObject"], key) : "";
}

std::string source(const json& e, const char* key) {
  return e.contains("source") ? str(e["source"], key) : "";
}

// events_cache.go getSpamKey.
std::string spamKey(const json& e) {
  return source(e, "component") + "\x1f" + source(e, "host") + "\x1f" + involved(e, "kind") +
         "\x1f" + involved(e, "namespace") + "\x1f" + involved(e, "name") + "\x1f" +
         involved(e, "uid") + "\x1f" + involved(e, "apiVersion") + "\x1f" + str(e, "type");
}

// EventAggregatorByReasonFunc: similar events differ only by message.
std::string aggregateKey(const json& e) {
  return spamKey(e) + "\x1f" + str(e, "reason") + "\x1f" + str(e, "reportingComponent") + "\x1f" +
         str(e, "reportingInstance");
}

// getEventKey: identical events.
std::string eventKey(const json& e) {
  return spamKey(e) + "\x1f" + involved(e, "fieldPath") + "\x1f" + str(e, "reason") + "\x1f" +
         str(e, "message");
}

}  // namespace

struct EventCorrelator::State {
  explicit State(size_t size) : spam(size), aggregates(size), observations(size) {}
  struct AggregateRecord {
    std::set<std::string> localKeys;
    TimePoint lastTimestamp{};
  };
  struct Observation {
    int64_t count = 0;
    std::string firstTimestamp;
    std::string name;
    std::string resourceVersion;
  };
  std::mutex mu;  // guards everything below
  Lru<std::shared_ptr<TokenBucket>> spam;
  Lru<AggregateRecord> aggregates;
  Lru<Observation> observations;
};

EventCorrelator::EventCorrelator(const Clock& clock, EventCorrelatorOptions options)
    : state_(std::make_unique<State>(options.cacheSize)), clock_(clock), options_(options) {}

EventCorrelator::~EventCorrelator() = default;

CorrelationResult EventCorrelator::correlate(json event) {
  std::lock_guard<std::mutex> lock(state_->mu);
  CorrelationResult result;
  TimePoint now = clock_.now();
  std::string nowText = formatRfc3339(clock_.wallNow());

  // Aggregation (EventAggregate).
  std::string key = eventKey(event);
  std::string aggKey = aggregateKey(event);
  State::AggregateRecord record;
  if (auto* found = state_->aggregates.get(aggKey)) record = *found;
  if (record.lastTimestamp == TimePoint() || now - record.lastTimestamp > options_.maxInterval) {
    record = State::AggregateRecord{};
  }
  record.localKeys.insert(str(event, "message"));
  record.lastTimestamp = now;
  if (record.localKeys.size() >= options_.maxEvents) {
    // Do not grow the set beyond the threshold.
    record.localKeys.erase(record.localKeys.begin());
    state_->aggregates.put(aggKey, record);
    char suffix[32];
    std::snprintf(
        suffix, sizeof suffix, ".%llx",
        static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            clock_.wallNow().time_since_epoch())
                                            .count()));
    json aggregate = event;
    aggregate["metadata"] = {{"name", involved(event, "name") + suffix},
                             {"namespace", str(event["metadata"], "namespace")}};
    aggregate["count"] = 1;
    aggregate["firstTimestamp"] = nowText;
    aggregate["lastTimestamp"] = nowText;
    aggregate["message"] = "(combined from similar events): " + str(event, "message");
    event = std::move(aggregate);
    key = aggKey;
  } else {
    state_->aggregates.put(aggKey, record);
  }

  // De-duplication (eventObserve).
  State::Observation observation;
  if (auto* found = state_->observations.get(key)) observation = *found;
  if (observation.count > 0) {
    event["metadata"]["name"] = observation.name;
    event["metadata"]["resourceVersion"] = observation.resourceVersion;
    event["firstTimestamp"] = observation.firstTimestamp;
    event["count"] = observation.count + 1;
    result.patch = {{"count", observation.count + 1},
                    {"lastTimestamp", str(event, "lastTimestamp")},
                    {"message", str(event, "message")}};
  }
  state_->observations.put(
      key, {event.value("count", int64_t{1}), str(event, "firstTimestamp"),
            str(event["metadata"], "name"), str(event["metadata"], "resourceVersion")});

  // Spam filter (EventSourceObjectSpamFilter), on the result.
  std::string spam = spamKey(event);
  std::shared_ptr<TokenBucket> bucket;
  if (auto* found = state_->spam.get(spam)) bucket = *found;
  if (!bucket) {
    bucket = std::make_shared<TokenBucket>(options_.spamQps, options_.spamBurst, clock_);
    state_->spam.put(spam, bucket);
  }
  if (!bucket->tryAccept()) {
    result.skip = true;
    return result;
  }
  result.event = std::move(event);
  return result;
}

void EventCorrelator::updateState(const json& written) {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::string key = eventKey(written);
  std::string message = str(written, "message");
  if (message.rfind("(combined from similar events): ", 0) == 0) key = aggregateKey(written);
  state_->observations.put(
      key, {written.value("count", int64_t{1}), str(written, "firstTimestamp"),
            str(written["metadata"], "name"), str(written["metadata"], "resourceVersion")});
}

}  // namespace remedy::kube
