// The `postgres` action: reports, cancels or terminates PostgreSQL client
// backends (pg_stat_activity, pg_cancel_backend, pg_terminate_backend)
// through libpq, or runs one read-only diagnosis query (`query`: inside
// BEGIN READ ONLY, in single-row mode up to maxRows, as a role that is
// neither a superuser nor able to signal backends; README.md). The step names a Secret key holding
// a libpq connection string (URI or key=value); the string and its password never appear in a
// message or an output.
//
// What it never touches: its own backend (pg_backend_pid()) and backends that
// are not client backends (walsenders, autovacuum, background workers).
// Backends of superuser roles (rolsuper) only with `allowSuperusers: true`.
//
// maxCount: cancelBackends and terminateBackends fail permanently, and act on
// none, when more backends match than maxCount (default 10), unless
// `whenMoreMatch: OldestFirst` (then the oldest maxCount); activityReport
// lists the oldest maxCount (default 20) and counts the rest.
//
// Idempotency: the engine may run an attempt again after a crash. A rerun
// selects afresh with the same filters: backends already terminated are gone
// and simply no longer match (a rerun that finds none succeeds with
// `affected` 0), and a cancelled query is no longer the one that matched.
// Between the listing and the signal each backend is checked again by pid,
// backend start and query start, so a reused pid or a session that has moved
// on to a new query is left alone. An attempt that signalled some backends
// and then failed returns what it did in its outputs (`affected`, `pids`);
// the engine keeps them, and a retry adds its own, so the step's outputs
// count every backend the step signalled, whichever attempt did it.
//
// Every value from the step reaches the server as a statement parameter
// (lists as text[]), never inside the SQL text. Remedy's session is named
// application_name=remedy and runs with a statement_timeout.
//
// Needs PostgreSQL 10 or later (pg_stat_activity.backend_type). The role in
// the connection string needs pg_read_all_stats (to see other roles' sessions)
// and pg_signal_backend (to signal them), or superuser.
#pragma once

#include "actions/action.h"
#include "actions/postgres_session.h"

#include <chrono>
#include <memory>

namespace remedy::actions {

struct PostgresActionOptions {
  // libpq's connect_timeout (whole seconds, at least 2: libpq's minimum).
  std::chrono::milliseconds connectTimeout{std::chrono::seconds(5)};
  // statement_timeout of Remedy's session, for every statement it runs.
  std::chrono::milliseconds statementTimeout{std::chrono::seconds(10)};
  // Opens sessions (postgres_session.h); null: libpq.
  std::shared_ptr<pg::Connector> connector;
};

// The action for the step field "postgres". Both timeouts are further bounded
// by the attempt's deadline.
std::unique_ptr<Action> makePostgresAction(PostgresActionOptions options = {});

}  // namespace remedy::actions
