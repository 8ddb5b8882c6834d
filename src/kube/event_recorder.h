// Writes core/v1 Events about objects, like client-go tools/record: callers
// never block (a bounded queue, 1000 by default, drops the newest when
// full, as the broadcaster's DropIfChannelFull does); one thread correlates
// (EventCorrelator: aggregation, de-duplication, spam filter) and writes,
// retrying transport failures up to 12 times, 10 s apart, but never an
// event the server refused.
#pragma once

#include "kube/client.h"
#include "kube/event_correlator.h"
#include "kube/named_thread.h"
#include "kube/stop_signal.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace remedy::kube {

struct EventRecorderOptions {
  std::string component;  // source.component, reportingComponent
  std::string host;       // source.host, reportingInstance
  size_t queueSize = 1000;
  int maxTries = 12;  // maxTriesPerEvent
  Duration retryInterval{std::chrono::seconds(10)};
  EventCorrelatorOptions correlator;
};

class EventRecorder {
 public:
  EventRecorder(Client& client, EventRecorderOptions options, const Clock& clock = Clock::real());
  ~EventRecorder();

  void start();
  // Stops after the event being written; queued events are dropped.
  void stop();

  // type is "Normal" or "Warning"; `object` needs apiVersion, kind and
  // metadata (name, namespace, uid).
  void event(const json& object, const std::string& type, const std::string& reason,
             const std::string& message);

  // True once the queue is empty and nothing is being written.
  bool waitIdle(Duration timeout);
  size_t dropped() const { return dropped_; }
  size_t written() const { return written_; }
  size_t skipped() const { return skipped_; }

 private:
  void loop();
  void write(json event);

  Client& client_;
  const EventRecorderOptions options_;
  const Clock& clock_;
  EventCorrelator correlator_;
  StopSignal stop_;
  NamedThread thread_;

  std::mutex mu_;  // guards queue_ and busy_
  std::condition_variable cv_;
  std::deque<json> queue_;
  bool busy_ = false;

  std::atomic<size_t> dropped_{0};
  std::atomic<size_t> written_{0};
  std::atomic<size_t> skipped_{0};
};

}  // namespace remedy::kube
