// The `redis` step: INFO, SLOWLOG GET, the memory of the keys matching a
// pattern (SCAN + MEMORY USAGE), CONFIG SET of allow-listed parameters
// (revertible) and SCAN + UNLINK of keys matching a pattern, against a
// server named by a redis:// URL in a Secret. Passwords (and the URL) never
// appear in messages or outputs; messages name the server as host:port.
//
// Diagnosis (read-only, so they run in dry runs too):
// - slowlog: {count} (1 to 128, default 10): SLOWLOG GET count. Outputs
//   `count` (entries read), `slowestMicroseconds` (0 when none),
//   `slowestCommand` (its command's name, upper case; absent when none) and
//   `entries`, one line per entry, newest first: "ID TIME DURATIONus COMMAND
//   ARGS (client ADDR name NAME)". An entry shows the command and its first
//   3 arguments, each cut to 64 characters, and counts the rest; the secret
//   values the Incident read and the URL's password are redacted, and an
//   argument cut (here or by Redis) that still begins a secret is redacted
//   whole. `entries` stays under 3 KiB.
// - memoryUsage: {pattern, maxKeys} (maxKeys 1 to 100000, default 1000):
//   SCAN MATCH pattern COUNT 1000 and MEMORY USAGE of each key found, until
//   the scan is complete or it has measured maxKeys keys, made 1000 SCAN
//   calls or worked workPerCall (cut short by the step's deadline). Outputs
//   `totalBytes`, `keys` (measured), `complete` ("true" when the scan
//   finished within the bounds), `top` (the 5 largest, "BYTES KEY" per
//   line), `largestKey` and `largestBytes` (absent when no key matched). Key
//   names are cut to 128 characters and redacted as slowlog's arguments.
//   Any pattern is allowed, "*" included: it only reads, within the bounds.
//
// Idempotency (see action.h):
// - configSet: `prepare` records the value before the first attempt
//   (`previousValue`), so a retry after a crash still reports and reverts to
//   the original value; setting the same value again changes nothing.
// - deleteKeys: a call works for a bounded time, then reports its progress
//   (`matched`, `deleted`, the SCAN cursor) as kInProgress; the next call,
//   and a retry, continue from there, so `maxCount` bounds the whole step.
//   The bound counts what was recorded: a crash in the middle of a call can
//   lose the count of the keys that call deleted.
#pragma once

#include "actions/action.h"
#include "actions/redis_connection.h"

#include <chrono>
#include <cstddef>
#include <memory>

namespace remedy::actions {

struct RedisActionOptions {
  // Each is also cut short by the step's deadline.
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds commandTimeout{5000};
  // How long one call of deleteKeys works before it reports progress, and
  // how long memoryUsage scans.
  std::chrono::milliseconds workPerCall{10000};
  // INFO outputs: at most this many fields, each value cut to this length.
  size_t maxInfoFields = 200;
  size_t maxValueLength = 256;
  // Connects to servers (redis_connection.h); null: hiredis.
  std::shared_ptr<redis::Connector> connector;
};

std::unique_ptr<Action> makeRedisAction(RedisActionOptions options = {});

}  // namespace remedy::actions
