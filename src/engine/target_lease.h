// One remediation per target across operator processes and stale caches:
// before an Incident's first effect, it holds a coordination.k8s.io Lease
// per target in the operator's own namespace (never an annotation on the
// users' object, which GitOps tools would see as drift). The create is the
// write that conflicts: of two Incidents racing for one target, whatever
// their caches say, the second create fails with 409 AlreadyExists, and the
// Incident waits until the holder has ended. A Lease whose holder ended
// (finished, deleted, or released: empty holderIdentity) is taken over
// with a resourceVersion precondition; an Incident that ends releases its
// Leases by emptying holderIdentity (as kube::LeaderElector releases), so
// the operator needs get, create and update on Leases, nothing more. A
// Lease this process took is released with one update, conditional on the
// version its own create or update returned (a GET only when that
// conflicts, or after a restart).
#pragma once

#include "kube/client.h"
#include "kube/clock.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace remedy::engine {

class TargetLeases {
 public:
  // Leases live in `ns` (the operator's namespace).
  TargetLeases(kube::Client& client, std::string ns, const kube::Clock& clock);

  struct Outcome {
    // kNoNamespace: the create was answered 404, which for a namespaced
    // object means its namespace does not exist.
    enum class Kind { kHeld, kHeldByOther, kUnread, kNoNamespace };
    Kind kind = Kind::kHeld;
    std::string holder;   // the other holder, for kHeldByOther
    kube::Status status;  // why, for kUnread and kNoNamespace
  };
  // Whether the Incident `holder` names ("namespace/name/uid") has not
  // ended: a fresh read; an error when it cannot be told.
  using HolderActive = std::function<kube::Result<bool>(const std::string& holder)>;

  // Holds `targetKey` for `holder`; holding it already is kHeld, with no
  // request when this process took it for `holder` and has not let it go
  // (nobody takes over a Lease whose holder has not ended).
  Outcome acquire(const std::string& targetKey, const std::string& holder,
                  const HolderActive& holderActive);
  // Lets `targetKey` go if `holder` holds it; failures are logged (the
  // next acquirer sees the holder ended and takes over).
  void release(const std::string& targetKey, const std::string& holder);
  // Whether this process took `targetKey` for `holder` and has not let it go.
  bool holds(const std::string& targetKey, const std::string& holder);

  // "remedy-target-" and a hash of the key: a valid name of bounded length.
  static std::string leaseName(const std::string& targetKey);

 private:
  void remember(const std::string& name, const std::string& holder, nlohmann::json lease);

  kube::Client& client_;
  const std::string ns_;
  const kube::Clock& clock_;
  struct Held {
    std::string holder;
    nlohmann::json lease;  // as this process's last write of it returned it
  };
  std::mutex mu_;                     // guards held_
  std::map<std::string, Held> held_;  // Lease name -> what was taken here
};

}  // namespace remedy::engine
