// remedy-operator wired together: every replica serves the alert webhook,
// /metrics, /healthz and /readyz; the replica holding the Lease (or the only
// one, without leader election) runs the engine. run() returns the process
// exit code.
#pragma once

#include "kube/stop_signal.h"
#include "options.h"

namespace remedy::op {

// Runs until `stop` (SIGTERM) or until leadership is lost (exit code 1, so
// the pod restarts and campaigns again, as controller-runtime does).
int runOperator(const Options& options, kube::StopSignal& stop);

}  // namespace remedy::op
