// Decides what an event becomes before it is written, as client-go
// tools/record/events_cache.go does:
// - spam filter: per source and involved object (and type), a token bucket
//   of 25 events refilled at one per 5 minutes; beyond it events are
//   dropped;
// - aggregation: more than 10 distinct messages for the same object and
//   reason within 10 minutes become one event "(combined from similar
//   events): <message>";
// - de-duplication: an event identical to one already written updates that
//   one (count + 1, lastTimestamp) instead of creating another.
// Pure logic with a clock: unit-tested without a server.
#pragma once

#include "kube/clock.h"

#include <nlohmann/json.hpp>

#include <list>
#include <map>
#include <memory>
#include <string>

namespace remedy::kube {

using json = nlohmann::json;

struct EventCorrelatorOptions {
  size_t maxEvents = 10;                            // defaultAggregateMaxEvents
  Duration maxInterval{std::chrono::seconds(600)};  // defaultAggregateIntervalInSeconds
  int spamBurst = 25;                               // defaultSpamBurst
  double spamQps = 1.0 / 300.0;                     // defaultSpamQPS
  size_t cacheSize = 4096;                          // maxLruCacheEntries
};

struct CorrelationResult {
  bool skip = false;  // dropped by the spam filter
  json event;         // what to create, or the full updated event
  // When not null: patch the existing event named event.metadata.name with
  // this (count, lastTimestamp, message) instead of creating.
  json patch;
};

class EventCorrelator {
 public:
  explicit EventCorrelator(const Clock& clock = Clock::real(), EventCorrelatorOptions options = {});
  ~EventCorrelator();

  // `event` is a complete core/v1 Event with count 1 and both timestamps
  // set to now.
  CorrelationResult correlate(json event);
  // Records what the server stored (name, resourceVersion, count), so the
  // next identical event patches it.
  void updateState(const json& written);

 private:
  struct State;
  std::unique_ptr<State> state_;
  const Clock& clock_;
  const EventCorrelatorOptions options_;
};

}  // namespace remedy::kube
