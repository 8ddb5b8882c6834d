#include "kube/backoff.h"

#include <random>

namespace remedy::kube {

double randomUnit() {
  static std::mutex mu;
  static std::mt19937_64 engine{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

Duration jitter(Duration d, double maxFactor) {
  if (maxFactor <= 0.0) maxFactor = 1.0;
  return d + Duration(static_cast<Duration::rep>(randomUnit() * maxFactor * d.count()));
}

Duration Backoff::step() {
  if (steps < 1) {
    return jitterFactor > 0 ? jitter(duration, jitterFactor) : duration;
  }
  --steps;
  Duration d = duration;
  if (factor != 0) {
    duration = Duration(static_cast<Duration::rep>(duration.count() * factor));
    if (cap.count() > 0 && duration > cap) {
      duration = cap;
      steps = 0;
    }
  }
  if (jitterFactor > 0) d = jitter(d, jitterFactor);
  return d;
}

ExponentialBackoff::ExponentialBackoff(const Clock& clock, Options options)
    : clock_(clock), options_(options), current_(options.initial) {}

Duration ExponentialBackoff::next() {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.now();
  if (!started_ || now - lastBackoffStart_ > options_.resetAfter) current_ = options_.initial;
  started_ = true;
  lastBackoffStart_ = now;
  Duration d = current_;
  current_ = Duration(static_cast<Duration::rep>(current_.count() * options_.factor));
  if (current_ > options_.max) current_ = options_.max;
  if (d > options_.max) d = options_.max;
  return options_.jitterFactor > 0 ? jitter(d, options_.jitterFactor) : d;
}

}  // namespace remedy::kube
