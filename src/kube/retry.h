// Retrying an update that lost a race, as k8s.io/client-go/util/retry does:
// the function re-reads the object, applies its change and writes; a 409
// Conflict runs it again after a backoff step.
#pragma once

#include "kube/backoff.h"
#include "kube/clock.h"
#include "kube/status.h"

#include <functional>

namespace remedy::kube {

// retry.DefaultRetry: 5 tries 10ms apart, 10% jitter (for conflicts).
Backoff defaultRetry();
// retry.DefaultBackoff: 4 tries from 10ms, factor 5, 10% jitter.
Backoff defaultBackoff();

// Runs `fn` until it returns a status `retriable` rejects, or the backoff's
// steps are used up; returns the last status.
Status retryOnError(Backoff backoff, const std::function<bool(const Status&)>& retriable,
                    const std::function<Status()>& fn, const Clock& clock = Clock::real());
Status retryOnConflict(Backoff backoff, const std::function<Status()>& fn,
                       const Clock& clock = Clock::real());

}  // namespace remedy::kube
