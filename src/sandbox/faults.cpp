#include "sandbox/faults.h"

namespace remedy::sandbox {

void Faults::failNext(int count, int code, std::string pathContains, int retryAfterSeconds) {
  std::lock_guard<std::mutex> lock(mu_);
  failCount_ = count;
  failCode_ = code;
  failPath_ = std::move(pathContains);
  failPathIsSuffix_ = false;
  retryAfter_ = retryAfterSeconds;
}

void Faults::failNextEndingWith(int count, int code, std::string pathSuffix,
                                int retryAfterSeconds) {
  std::lock_guard<std::mutex> lock(mu_);
  failCount_ = count;
  failCode_ = code;
  failPath_ = std::move(pathSuffix);
  failPathIsSuffix_ = true;
  retryAfter_ = retryAfterSeconds;
}

void Faults::setLatency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = latency;
}

void Faults::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  failCount_ = 0;
  latency_ = std::chrono::milliseconds(0);
}

std::optional<InjectedFailure> Faults::takeFailure(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failCount_ <= 0) return std::nullopt;
  if (failPathIsSuffix_) {
    if (path.size() < failPath_.size() ||
        path.compare(path.size() - failPath_.size(), failPath_.size(), failPath_) != 0) {
      return std::nullopt;
    }
  } else if (!failPath_.empty() && path.find(failPath_) == std::string::npos) {
    return std::nullopt;
  }
  --failCount_;
  return InjectedFailure{failCode_, "injected failure (sandbox fault injection)", retryAfter_};
}

std::chrono::milliseconds Faults::latency() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latency_;
}

}  // namespace remedy::sandbox
