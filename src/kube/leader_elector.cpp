#include "kube/leader_elector.h"

#include "kube/backoff.h"
#include "kube/named_thread.h"
#include "kube/time_format.h"

#include <spdlog/spdlog.h>

namespace remedy::kube {
namespace {

int64_t wholeSeconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

Status validate(const LeaderElectionConfig& c) {
  // leaderelection.go NewLeaderElector.
  if (c.leaseDuration <= c.renewDeadline) {
    return Status::configError("leaseDuration must be greater than renewDeadline");
  }
  if (c.renewDeadline <=
      Duration(static_cast<Duration::rep>(c.jitterFactor * c.retryPeriod.count()))) {
    return Status::configError("renewDeadline must be greater than retryPeriod*jitterFactor");
  }
  if (c.leaseDuration < std::chrono::seconds(1) ||
      c.leaseDuration != std::chrono::duration_cast<std::chrono::seconds>(c.leaseDuration)) {
    return Status::configError("leaseDuration must be a whole number of seconds");
  }
  if (c.retryPeriod.count() <= 0) return Status::configError("retryPeriod must be positive");
  if (c.fenceMargin >= c.renewDeadline) {
    return Status::configError("fenceMargin must be shorter than renewDeadline");
  }
  if (c.identity.empty()) return Status::configError("identity must not be empty");
  if (c.name.empty() || c.namespace_.empty()) {
    return Status::configError("the lease needs a namespace and a name");
  }
  return Status();
}

bool withinFence(TimePoint lastRenew, TimePoint now, Duration renewDeadline, Duration margin) {
  return now - lastRenew < renewDeadline - margin;
}

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config, const Clock& clock)
    : client_(client), config_(std::move(config)), clock_(clock) {}

bool LeaderElector::isLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

bool LeaderElector::mayAct() const {
  Duration margin =
      config_.fenceMargin > Duration::zero() ? config_.fenceMargin : config_.retryPeriod;
  TimePoint now = clock_.now();
  std::lock_guard<std::mutex> lock(mu_);
  return leading_ && withinFence(lastRenew_, now, config_.renewDeadline, margin);
}

std::string LeaderElector::leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observedHolder_;
}

void LeaderElector::observe(const json& lease, bool changed) {
  // with mu_ held
  const json& spec = lease.contains("spec") ? lease["spec"] : json::object();
  std::string raw = spec.dump();
  if (!changed && raw == observedRaw_) return;
  observedRaw_ = raw;
  observedHolder_ = spec.value("holderIdentity", "");
  observedDurationSeconds_ = spec.value("leaseDurationSeconds", int64_t{0});
  observedTransitions_ = spec.value("leaseTransitions", int64_t{0});
  observedAcquireTime_ = spec.value("acquireTime", "");
  observedTime_ = clock_.now();
}

bool LeaderElector::tryAcquireOrRenew() {
  // Before the request: the lease is valid for others from no earlier than this.
  TimePoint began = clock_.now();
  std::string now = formatRfc3339Micro(clock_.wallNow());
  json spec = {{"holderIdentity", config_.identity},
               {"leaseDurationSeconds", wholeSeconds(config_.leaseDuration)},
               {"acquireTime", now},
               {"renewTime", now}};
  GetOptions getOptions;
  getOptions.timeout = config_.renewDeadline;
  auto current = client_.get(resources::leases(), config_.namespace_, config_.name, getOptions);
  WriteOptions writeOptions;
  writeOptions.timeout = config_.renewDeadline;
  if (!current) {
    if (!isNotFound(current.status())) {
      spdlog::warn("leader election {}/{}: {}", config_.namespace_, config_.name,
                   current.status().toString());
      return false;
    }
    spec["leaseTransitions"] = 0;
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", config_.name}, {"namespace", config_.namespace_}}},
                  {"spec", spec}};
    auto created = client_.create(resources::leases(), config_.namespace_, lease, writeOptions);
    if (!created) {
      if (!isAlreadyExists(created.status())) {
        spdlog::warn("leader election: creating lease {}/{}: {}", config_.namespace_, config_.name,
                     created.status().toString());
      }
      return false;
    }
    std::lock_guard<std::mutex> lock(mu_);
    observe(*created, true);
    leading_ = true;
    lastRenew_ = began;
    return true;
  }
  json lease = std::move(current.value());
  {
    std::lock_guard<std::mutex> lock(mu_);
    observe(lease, false);
    bool heldByOther = !observedHolder_.empty() && observedHolder_ != config_.identity;
    bool valid = observedTime_ + std::chrono::seconds(observedDurationSeconds_) > clock_.now();
    if (heldByOther && leading_) {
      lostToOther_ = true;
      return false;
    }
    if (heldByOther && valid) return false;
    if (observedHolder_ == config_.identity) {
      if (!observedAcquireTime_.empty()) spec["acquireTime"] = observedAcquireTime_;
      spec["leaseTransitions"] = observedTransitions_;
    } else {
      spec["leaseTransitions"] = observedTransitions_ + 1;
    }
  }
  lease["spec"] = spec;
  // The update carries the resourceVersion just read: a racing candidate
  // gets 409 Conflict and stays a follower.
  auto updated = client_.update(resources::leases(), config_.namespace_, lease, writeOptions);
  if (!updated) {
    if (!isConflict(updated.status())) {
      spdlog::warn("leader election: updating lease {}/{}: {}", config_.namespace_, config_.name,
                   updated.status().toString());
    }
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  observe(*updated, true);
  leading_ = true;
  lastRenew_ = began;
  return true;
}

bool LeaderElector::release() {
  if (!isLeader()) return true;
  auto current = client_.get(resources::leases(), config_.namespace_, config_.name);
  if (!current) return false;
  json lease = std::move(current.value());
  if (lease["spec"].value("holderIdentity", "") != config_.identity) return true;
  std::string now = formatRfc3339Micro(clock_.wallNow());
  int64_t transitions = lease["spec"].value("leaseTransitions", int64_t{0});
  lease["spec"] = {{"holderIdentity", ""},
                   {"leaseDurationSeconds", 1},
                   {"acquireTime", now},
                   {"renewTime", now},
                   {"leaseTransitions", transitions}};
  auto updated = client_.update(resources::leases(), config_.namespace_, lease);
  std::lock_guard<std::mutex> lock(mu_);
  leading_ = false;
  if (updated) observe(*updated, true);
  return updated.ok();
}

bool LeaderElector::acquire(StopSignal& stop) {
  while (!stop.stopRequested()) {
    bool ok = tryAcquireOrRenew();
    std::string holder;
    bool report = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (observedHolder_ != reportedLeader_) {
        reportedLeader_ = observedHolder_;
        holder = observedHolder_;
        report = true;
      }
    }
    if (report && config_.onNewLeader) config_.onNewLeader(holder);
    if (ok) return true;
    if (stop.waitFor(clock_, jitter(config_.retryPeriod, config_.jitterFactor))) break;
  }
  return false;
}

void LeaderElector::renew(StopSignal& stop) {
  while (!stop.stopRequested()) {
    TimePoint deadline = clock_.now() + config_.renewDeadline;
    bool renewed = false;
    while (!stop.stopRequested()) {
      if (tryAcquireOrRenew()) {
        renewed = true;
        break;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (lostToOther_) break;
      }
      TimePoint now = clock_.now();
      if (now >= deadline) break;
      TimePoint next = std::min(deadline, now + config_.retryPeriod);
      if (stop.waitUntil(clock_, next)) return;
    }
    if (stop.stopRequested()) return;
    if (!renewed) {
      spdlog::warn("leader election {}/{}: {} lost the lease", config_.namespace_, config_.name,
                   config_.identity);
      return;
    }
    if (stop.waitFor(clock_, config_.retryPeriod)) return;
  }
}

void LeaderElector::run(StopSignal& stop) {
  if (!acquire(stop)) return;
  StopSignal leading;
  ScopedOnStop chain(stop, [&leading] { leading.requestStop(); });
  NamedThread work;
  if (config_.onStartedLeading) {
    work = NamedThread("leader-work", [this, &leading] { config_.onStartedLeading(leading); });
  }
  renew(stop);
  // Lost or stopping: the work stops first, so it never runs while another
  // candidate may already lead.
  leading.requestStop();
  work.join();
  if (stop.stopRequested() && config_.releaseOnCancel) {
    release();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    leading_ = false;
  }
  if (config_.onStoppedLeading) config_.onStoppedLeading();
}

}  // namespace remedy::kube
