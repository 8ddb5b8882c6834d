// The `redis` step: INFO, CONFIG SET of allow-listed parameters (revertible)
// and SCAN + UNLINK of keys matching a pattern, against a server named by a
// redis:// URL in a Secret. Passwords (and the URL) never appear in messages
// or outputs; messages name the server as host:port.
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
  // How long one call of deleteKeys works before it reports progress.
  std::chrono::milliseconds workPerCall{10000};
  // INFO outputs: at most this many fields, each value cut to this length.
  size_t maxInfoFields = 200;
  size_t maxValueLength = 256;
  // Connects to servers (redis_connection.h); null: hiredis.
  std::shared_ptr<redis::Connector> connector;
};

std::unique_ptr<Action> makeRedisAction(RedisActionOptions options = {});

}  // namespace remedy::actions
