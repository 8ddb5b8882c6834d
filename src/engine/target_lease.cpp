#include "engine/target_lease.h"

#include "kube/time_format.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <optional>

namespace remedy::engine {

using json = nlohmann::json;

namespace {

constexpr const char* kTargetAnnotation = "remedy.dev/target";

// FNV-1a, 64 bits: stable across builds and platforms, unlike std::hash.
uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

TargetLeases::TargetLeases(kube::Client& client, std::string ns, const kube::Clock& clock)
    : client_(client), ns_(std::move(ns)), clock_(clock) {}

std::string TargetLeases::leaseName(const std::string& targetKey) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(targetKey)));
  return std::string("remedy-target-") + hex;
}

TargetLeases::Outcome TargetLeases::acquire(const std::string& targetKey, const std::string& holder,
                                            const HolderActive& holderActive) {
  using Kind = Outcome::Kind;
  std::string name = leaseName(targetKey);
  if (holds(targetKey, holder)) return {};
  std::string now = kube::formatRfc3339Micro(clock_.wallNow());
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata",
                 {{"name", name},
                  {"namespace", ns_},
                  {"labels", {{"app.kubernetes.io/managed-by", "remedy"}}},
                  {"annotations", {{kTargetAnnotation, targetKey}}}}},
                {"spec", {{"holderIdentity", holder}, {"acquireTime", now}}}};
  auto created = client_.create(kube::resources::leases(), ns_, lease);
  if (created.ok()) {
    remember(name, holder, std::move(created.value()));
    return {};
  }
  if (kube::isNotFound(created.status())) return {Kind::kNoNamespace, "", created.status()};
  if (!kube::isAlreadyExists(created.status())) return {Kind::kUnread, "", created.status()};
  auto current = client_.get(kube::resources::leases(), ns_, name);
  if (!current.ok()) return {Kind::kUnread, "", current.status()};
  std::string other = current->value("spec", json::object()).value("holderIdentity", "");
  if (other == holder) {
    remember(name, holder, std::move(current.value()));
    return {};
  }
  if (!other.empty()) {
    auto active = holderActive(other);
    if (!active.ok()) return {Kind::kUnread, "", active.status()};
    if (*active) return {Kind::kHeldByOther, other, kube::Status()};
  }
  // Released, or its holder ended: take it over, conditional on the version
  // just read, so of two that saw it free only one gets it.
  json taken = *current;
  taken["spec"]["holderIdentity"] = holder;
  taken["spec"]["acquireTime"] = now;
  taken["metadata"]["annotations"][kTargetAnnotation] = targetKey;
  auto updated = client_.update(kube::resources::leases(), ns_, taken);
  if (updated.ok()) {
    remember(name, holder, std::move(updated.value()));
    return {};
  }
  if (kube::isConflict(updated.status())) return {Kind::kHeldByOther, other, kube::Status()};
  return {Kind::kUnread, "", updated.status()};
}

void TargetLeases::remember(const std::string& name, const std::string& holder, json lease) {
  std::lock_guard<std::mutex> lock(mu_);
  held_[name] = Held{holder, std::move(lease)};
}

bool TargetLeases::holds(const std::string& targetKey, const std::string& holder) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(leaseName(targetKey));
  return it != held_.end() && it->second.holder == holder;
}

void TargetLeases::release(const std::string& targetKey, const std::string& holder) {
  std::string name = leaseName(targetKey);
  std::optional<json> known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(name);
    if (it != held_.end() && it->second.holder == holder) {
      known = std::move(it->second.lease);
      held_.erase(it);
    }
  }
  auto letGo = [&](json lease) {
    lease["spec"]["holderIdentity"] = "";
    return client_.update(kube::resources::leases(), ns_, lease);
  };
  if (known && known->is_object() && !kube::resourceVersionOf(*known).empty()) {
    // Taken here: nobody takes over a Lease whose holder has not ended, so
    // the version this process wrote last is the current one; a 409 means
    // it changed hands after all, and it is read below.
    auto updated = letGo(*known);
    if (updated.ok() || kube::isNotFound(updated.status())) return;
    if (!kube::isConflict(updated.status())) {
      spdlog::warn("lease {}/{} for {} not released: {}", ns_, name, targetKey,
                   updated.status().toString());
      return;
    }
  }
  auto current = client_.get(kube::resources::leases(), ns_, name);
  if (!current.ok()) {
    if (!kube::isNotFound(current.status())) {
      spdlog::warn("lease {}/{} for {} not released: {}", ns_, name, targetKey,
                   current.status().toString());
    }
    return;
  }
  if (current->value("spec", json::object()).value("holderIdentity", "") != holder) return;
  auto updated = letGo(*current);
  if (!updated.ok() && !kube::isConflict(updated.status())) {
    spdlog::warn("lease {}/{} for {} not released: {}", ns_, name, targetKey,
                 updated.status().toString());
  }
}

}  // namespace remedy::engine
