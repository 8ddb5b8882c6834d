#include "kube/work_queue.h"

#include "kube/metrics.h"

namespace remedy::kube {

WorkQueue::WorkQueue(std::unique_ptr<RateLimiter> rateLimiter, const Clock& clock)
    : rateLimiter_(rateLimiter ? std::move(rateLimiter) : defaultControllerRateLimiter(clock)),
      clock_(clock) {}

WorkQueue::~WorkQueue() { shutDown(); }

void WorkQueue::addLocked(const std::string& item) {
  if (shuttingDown_) return;
  if (!dirty_.insert(item).second) return;
  // A key being processed is queued again only when its worker is done, so
  // two workers never hold the same key (queue.go Add).
  if (processing_.count(item)) return;
  queue_.push_back(item);
  queuedAt_[item] = clock_.now();
  if (!name_.empty()) metricsSink().queueDepth(name_, queue_.size());
  cv_.notify_one();
}

void WorkQueue::setName(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  name_ = std::move(name);
}

void WorkQueue::add(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  addLocked(item);
}

void WorkQueue::addAfter(const std::string& item, Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shuttingDown_) return;
  if (d.count() <= 0) {
    addLocked(item);
    return;
  }
  TimePoint readyAt = clock_.now() + d;
  auto it = waiting_.find(item);
  // delaying_queue.go: an item already waiting keeps the earlier time.
  if (it == waiting_.end() || readyAt < it->second) waiting_[item] = readyAt;
  cv_.notify_all();  // a waiting get() may need an earlier deadline
}

void WorkQueue::addRateLimited(const std::string& item) {
  addAfter(item, rateLimiter_->when(item));
}

void WorkQueue::forget(const std::string& item) { rateLimiter_->forget(item); }

int WorkQueue::numRequeues(const std::string& item) { return rateLimiter_->numRequeues(item); }

void WorkQueue::promoteDueLocked(TimePoint now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second <= now) {
      std::string item = it->first;
      it = waiting_.erase(it);
      addLocked(item);
    } else {
      ++it;
    }
  }
}

std::optional<TimePoint> WorkQueue::nextReadyLocked() const {
  std::optional<TimePoint> next;
  for (const auto& [item, at] : waiting_) {
    if (!next || at < *next) next = at;
  }
  return next;
}

std::optional<std::string> WorkQueue::get() { return getUntil(TimePoint::max()); }

std::optional<std::string> WorkQueue::getUntil(TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    TimePoint now = clock_.now();
    if (!shuttingDown_) promoteDueLocked(now);
    if (!queue_.empty()) {
      std::string item = std::move(queue_.front());
      queue_.pop_front();
      processing_.insert(item);
      dirty_.erase(item);
      auto queued = queuedAt_.find(item);
      if (queued != queuedAt_.end()) {
        if (!name_.empty()) metricsSink().queueLatency(name_, now - queued->second);
        queuedAt_.erase(queued);
      }
      if (!name_.empty()) metricsSink().queueDepth(name_, queue_.size());
      return item;
    }
    if (shuttingDown_ || now >= deadline) return std::nullopt;
    TimePoint wakeAt = deadline;
    if (auto next = nextReadyLocked(); next && *next < wakeAt) wakeAt = *next;
    if (wakeAt == TimePoint::max()) {
      cv_.wait(lock);
    } else {
      clock_.waitUntil(cv_, lock, wakeAt);
    }
  }
}

void WorkQueue::done(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(item);
  if (dirty_.count(item)) {
    queue_.push_back(item);
    queuedAt_[item] = clock_.now();
    cv_.notify_one();
  }
  if (processing_.empty()) cv_.notify_all();  // shutDownWithDrain waits for this
}

size_t WorkQueue::len() {
  std::lock_guard<std::mutex> lock(mu_);
  promoteDueLocked(clock_.now());
  return queue_.size();
}

size_t WorkQueue::waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  promoteDueLocked(clock_.now());
  return waiting_.size();
}

bool WorkQueue::isProcessing(const std::string& item) const {
  std::lock_guard<std::mutex> lock(mu_);
  return processing_.count(item) > 0;
}

void WorkQueue::shutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shuttingDown_ = true;
  // delaying_queue.go drops what still waits for its time on shutdown.
  waiting_.clear();
  cv_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  shuttingDown_ = true;
  waiting_.clear();
  cv_.notify_all();
  cv_.wait(lock, [this] { return processing_.empty(); });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shuttingDown_;
}

}  // namespace remedy::kube
