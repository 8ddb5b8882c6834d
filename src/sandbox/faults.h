// Fault injection: the failures a real control plane shows (dropped watches,
// compaction, 5xx and 429 bursts, slow responses), on demand, for tests.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace remedy::sandbox {

struct InjectedFailure {
  int code;
  std::string message;
  int retryAfterSeconds;
};

class Faults {
 public:
  // The next `count` API requests whose path contains `pathContains` (all
  // when empty) fail with `code`; 429 and 503 carry Retry-After.
  void failNext(int count, int code, std::string pathContains = "", int retryAfterSeconds = 1);
  // The same for requests whose path ends with `pathSuffix`: a collection
  // (".../incidents", its LIST and WATCH) apart from its objects and
  // subresources (".../incidents/a", ".../deployments/web/scale").
  void failNextEndingWith(int count, int code, std::string pathSuffix, int retryAfterSeconds = 1);
  // Every API request waits this long before it is served.
  void setLatency(std::chrono::milliseconds latency);
  void clear();

  // For the request handler: a failure to answer with, if one is due.
  std::optional<InjectedFailure> takeFailure(const std::string& path);
  std::chrono::milliseconds latency() const;

 private:
  mutable std::mutex mu_;  // guards everything below
  int failCount_ = 0;
  int failCode_ = 0;
  int retryAfter_ = 1;
  std::string failPath_;
  bool failPathIsSuffix_ = false;
  std::chrono::milliseconds latency_{0};
};

}  // namespace remedy::sandbox
