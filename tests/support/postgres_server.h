// A real PostgreSQL server for tests, started on a free loopback port in a
// temporary directory and stopped (fast shutdown) by the destructor, plus
// libpq sessions that tests park in known states (a long pg_sleep, idle in
// transaction) and helpers that read pg_stat_activity from the outside.
//
//   remedy::testing::PostgresServer pg;
//   ASSERT_EQ(pg.start(), "");                       // initdb + postgres, ~1 s
//   auto s = pg.sleeping({PostgresServer::kAppUser});  // SELECT pg_sleep(300)
//   ASSERT_TRUE(pg.waitUntilActiveFor(s->pid(), 1.0));
//   std::string secret = pg.uri(PostgresServer::kOperatorUser);
//
// What start() creates:
// - the bootstrap superuser `postgres` (kSuperuser);
// - `remedy_op` (kOperatorUser): a plain role in pg_read_all_stats and
//   pg_signal_backend, what an operator would give Remedy;
// - `remedy_monitor` (kMonitorUser): a plain role in pg_monitor only, what a
//   diagnosis query (postgres.query) runs as;
// - `app` and `other` (kAppUser, kOtherUser): plain roles for workload sessions;
// - `replicator` (kReplicationUser): a plain role with REPLICATION, for
//   walsender sessions;
// - the databases `postgres` and `shop` (kOtherDatabase).
// Each role's password is passwordOf(role). TCP connections (127.0.0.1) need
// the password (scram-sha-256); the Unix socket, in the temporary directory,
// trusts everyone and is what the helpers use. Connections are logged
// (log_connections, with their application_name) in log().
//
// Binaries: $REMEDY_PG_BIN, else /usr/lib/postgresql/15/bin. As root the
// server runs as the user `postgres` (unprivilegedUser()): PostgreSQL refuses
// to run as root. Startup is kept fast (initdb --no-sync, fsync=off): each
// test process starts its own server, ctest runs test cases in parallel.
// Set REMEDY_KEEP_TEST_DIRS=1 to keep the data directory and server.log.
//
// Self-contained (libpq and child_process.h only) so that other test folders
// (the engine's end-to-end tests) can use it; the test target must link libpq.
#pragma once

#include "child_process.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace remedy::testing {

// One client connection of its own, for putting a backend in a known state.
// The destructor cancels a running query and closes the connection.
class PostgresSession {
 public:
  explicit PostgresSession(PGconn* connection) : connection_(connection) {}
  ~PostgresSession() { close(); }
  PostgresSession(const PostgresSession&) = delete;
  PostgresSession& operator=(const PostgresSession&) = delete;

  // The server process of this session, as pg_stat_activity.pid shows it.
  int pid() const { return connection_ ? PQbackendPID(connection_) : 0; }
  PGconn* connection() const { return connection_; }

  // Runs `sql` (one or more statements) and waits for it; throws on an error.
  void run(const std::string& sql) {
    PGresult* result = PQexec(connection_, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    std::string error = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error("session: " + sql + ": " + error);
    }
  }

  // Starts `sql` without waiting for it (PQsendQuery): the backend stays
  // busy with it while the test goes on.
  void send(const std::string& sql) {
    if (PQsendQuery(connection_, sql.c_str()) != 1) {
      throw std::runtime_error("session: sending " + sql + ": " + PQerrorMessage(connection_));
    }
    sent_ = true;
  }

  // Waits for the outcome of send(): "" when the query succeeded, else the
  // SQLSTATE of its error ("57014" cancelled, "57P01" terminated) or
  // "connection lost"; nullopt when it is still running after `timeout`.
  std::optional<std::string> waitForResult(
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    bool ready = waitUntil(
        [&] {
          if (PQconsumeInput(connection_) == 0) return true;
          return PQisBusy(connection_) == 0;
        },
        timeout);
    if (!ready) return std::nullopt;
    sent_ = false;
    std::string outcome;
    bool any = false;
    while (PGresult* result = PQgetResult(connection_)) {
      any = true;
      if (PQresultStatus(result) == PGRES_FATAL_ERROR) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        if (outcome.empty()) outcome = state ? state : "connection lost";
      }
      PQclear(result);
    }
    if (!any || PQstatus(connection_) != CONNECTION_OK) {
      if (outcome.empty()) outcome = "connection lost";
    }
    return outcome;
  }

  // Cancels a query started with send() (as a client's Ctrl-C), then closes.
  void close() {
    if (connection_ == nullptr) return;
    if (sent_ && PQstatus(connection_) == CONNECTION_OK) {
      if (PGcancel* cancel = PQgetCancel(connection_)) {
        char error[256];
        PQcancel(cancel, error, sizeof error);
        PQfreeCancel(cancel);
      }
    }
    PQfinish(connection_);
    connection_ = nullptr;
  }

 private:
  PGconn* connection_ = nullptr;
  bool sent_ = false;
};

// How a PostgresServer session connects: over TCP, as `user` with its password.
struct PostgresSessionOptions {
  std::string user = "app";
  std::string database = "postgres";
  std::string applicationName = "test";
  // A replication connection (replication=database): its backend is a
  // walsender, not a client backend. Needs a role with REPLICATION
  // (PostgresServer::kReplicationUser).
  bool replication = false;
};

class PostgresServer {
 public:
  static constexpr const char* kSuperuser = "postgres";
  static constexpr const char* kOperatorUser = "remedy_op";
  static constexpr const char* kMonitorUser = "remedy_monitor";
  static constexpr const char* kAppUser = "app";
  static constexpr const char* kOtherUser = "other";
  static constexpr const char* kReplicationUser = "replicator";
  static constexpr const char* kDatabase = "postgres";
  static constexpr const char* kOtherDatabase = "shop";

  // Passwords are per role and fixed: tests assert they never leak.
  static std::string passwordOf(const std::string& role) { return "pw-" + role + "-Xq7"; }

  // Rows of text values (nullopt for NULL).
  using Row = std::vector<std::optional<std::string>>;
  using Rows = std::vector<Row>;

  using SessionOptions = PostgresSessionOptions;

  PostgresServer() = default;
  ~PostgresServer() { stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb, start, wait until it accepts connections, create the roles and
  // the database above. "" on success, else what failed with the server log.
  std::string start() {
    const char* bin = std::getenv("REMEDY_PG_BIN");
    bin_ = bin ? bin : "/usr/lib/postgresql/15/bin";
    user_ = unprivilegedUser();
    dir_ = std::make_unique<TempDir>("remedy-pg", user_);
    std::string pwfile = dir_->path() + "/pwfile";
    {
      std::ofstream out(pwfile);
      out << passwordOf(kSuperuser) << "\n";
    }
    ::chmod(pwfile.c_str(), 0644);
    ChildProcess initdb(
        ProcessOptions{{bin_ + "/initdb", "-D", dataDir(), "-U", kSuperuser, "--pwfile=" + pwfile,
                        "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                        "--no-locale", "-E", "UTF8", "--no-instructions"},
                       {},
                       user_,
                       dir_->path(),
                       logPath()});
    if (!waitUntil([&] { return !initdb.running(); }, std::chrono::seconds(120))) {
      return "initdb did not finish: " + log();
    }
    if (!WIFEXITED(initdb.exitStatus()) || WEXITSTATUS(initdb.exitStatus()) != 0) {
      return "initdb failed: " + log();
    }
    // The port is free when chosen but another process may take it first:
    // try a few.
    std::string why;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freeLoopbackPort();
      why = startServer();
      if (why.empty()) break;
    }
    if (!why.empty()) return why;
    admin_ = PQconnectdb(socketConnectionString(kSuperuser, kDatabase).c_str());
    if (PQstatus(admin_) != CONNECTION_OK) {
      return std::string("admin connection: ") + PQerrorMessage(admin_);
    }
    try {
      for (const char* role :
           {kOperatorUser, kMonitorUser, kAppUser, kOtherUser, kReplicationUser}) {
        exec("CREATE ROLE " + std::string(role) + " LOGIN PASSWORD '" + passwordOf(role) + "'");
      }
      exec("ALTER ROLE " + std::string(kReplicationUser) + " REPLICATION");
      exec("GRANT pg_read_all_stats, pg_signal_backend TO " + std::string(kOperatorUser));
      exec("GRANT pg_monitor TO " + std::string(kMonitorUser));
      exec("CREATE DATABASE " + std::string(kOtherDatabase));
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  // Fast shutdown (SIGINT): sessions still open are disconnected.
  void stop() {
    if (admin_ != nullptr) {
      PQfinish(admin_);
      admin_ = nullptr;
    }
    if (server_.running()) {
      if (!server_.signalAndReap(SIGINT, std::chrono::seconds(20))) server_.kill();
    }
  }

  int port() const { return port_; }
  // The directory of the Unix socket (also the parent of the data directory).
  const std::string& socketDir() const { return dir_->path(); }
  std::string dataDir() const { return dir_->path() + "/data"; }
  std::string logPath() const { return dir_->path() + "/server.log"; }
  std::string log() const {
    std::ifstream in(logPath());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // What a Secret would hold: a key=value connection string over TCP with
  // the role's password ...
  std::string connectionString(const std::string& user,
                               const std::string& database = kDatabase) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user +
           " password=" + passwordOf(user) + " dbname=" + database + " sslmode=disable";
  }
  // ... or the same as a URI.
  std::string uri(const std::string& user, const std::string& database = kDatabase) const {
    return "postgresql://" + user + ":" + passwordOf(user) + "@127.0.0.1:" + std::to_string(port_) +
           "/" + database + "?sslmode=disable";
  }
  // Over the Unix socket, trusted: no password.
  std::string socketConnectionString(const std::string& user,
                                     const std::string& database = kDatabase) const {
    return "host=" + socketDir() + " port=" + std::to_string(port_) + " user=" + user +
           " dbname=" + database;
  }

  // Runs `sql` as the superuser with text parameters $1..; throws on an error.
  Rows query(const std::string& sql, const std::vector<std::string>& params = {}) {
    return queryOn(admin_, sql, params);
  }
  void exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    query(sql, params);
  }
  // The same in another database (a connection of its own for the call).
  Rows queryIn(const std::string& database, const std::string& sql,
               const std::vector<std::string>& params = {}) {
    PGconn* c = PQconnectdb(socketConnectionString(kSuperuser, database).c_str());
    try {
      if (PQstatus(c) != CONNECTION_OK) {
        throw std::runtime_error(std::string("connect: ") + PQerrorMessage(c));
      }
      Rows rows = queryOn(c, sql, params);
      PQfinish(c);
      return rows;
    } catch (...) {
      PQfinish(c);
      throw;
    }
  }

  // A new session over TCP; throws when it cannot connect.
  std::unique_ptr<PostgresSession> session(const SessionOptions& options = {}) {
    std::string application;
    for (char c : options.applicationName) {
      if (c == '\\' || c == '\'') application += '\\';
      application += c;
    }
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                           " user=" + options.user + " password=" + passwordOf(options.user) +
                           " dbname=" + options.database + " sslmode=disable" +
                           " application_name='" + application + "'" +
                           (options.replication ? " replication=database" : "");
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string error = PQerrorMessage(c);
      PQfinish(c);
      throw std::runtime_error("session as " + options.user + ": " + error);
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    return std::make_unique<PostgresSession>(c);
  }

  // A session running `SELECT pg_sleep(<seconds>)<suffix>` in the background.
  // Returns once pg_stat_activity shows it active in that query.
  std::unique_ptr<PostgresSession> sleeping(const SessionOptions& options = {}, int seconds = 300,
                                            const std::string& suffix = "") {
    auto s = session(options);
    s->send("SELECT pg_sleep(" + std::to_string(seconds) + ")" + suffix);
    if (!waitUntil([&] { return stateOf(s->pid()) == std::optional<std::string>("active"); })) {
      throw std::runtime_error("the sleeping session never became active");
    }
    return s;
  }

  // A session that opened a transaction, ran a statement and now waits.
  std::unique_ptr<PostgresSession> idleInTransaction(const SessionOptions& options = {}) {
    auto s = session(options);
    s->run("BEGIN; SELECT 1");
    if (!waitUntil([&] { return stateOf(s->pid()) == std::string("idle in transaction"); })) {
      throw std::runtime_error("the session never became idle in transaction");
    }
    return s;
  }

  // A session that is connected and idle.
  std::unique_ptr<PostgresSession> idle(const SessionOptions& options = {}) {
    auto s = session(options);
    s->run("SELECT 1");
    if (!waitUntil([&] { return stateOf(s->pid()) == std::string("idle"); })) {
      throw std::runtime_error("the session never became idle");
    }
    return s;
  }

  // ---- pg_stat_activity, from the outside ----

  bool hasBackend(int pid) {
    return !query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", {std::to_string(pid)}).empty();
  }

  // The backend's state, nullopt when it is gone.
  std::optional<std::string> stateOf(int pid) {
    auto rows = query("SELECT coalesce(state, '') FROM pg_stat_activity WHERE pid = $1",
                      {std::to_string(pid)});
    if (rows.empty()) return std::nullopt;
    return rows[0][0];
  }

  // Seconds since the backend's current query started (nullopt when gone).
  std::optional<double> queryAge(int pid) {
    auto rows = query(
        "SELECT EXTRACT(EPOCH FROM (clock_timestamp() - query_start))::float8 "
        "FROM pg_stat_activity WHERE pid = $1 AND query_start IS NOT NULL",
        {std::to_string(pid)});
    if (rows.empty() || !rows[0][0]) return std::nullopt;
    return std::strtod(rows[0][0]->c_str(), nullptr);
  }

  // Waits until the backend's current query has run longer than `seconds`.
  bool waitUntilQueryOlderThan(int pid, double seconds,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return waitUntil(
        [&] {
          auto age = queryAge(pid);
          return age && *age > seconds;
        },
        timeout);
  }
  // Waits until the backend is active and its query has run longer than `seconds`.
  bool waitUntilActiveFor(int pid, double seconds,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return waitUntil(
        [&] {
          return stateOf(pid) == std::string("active") && queryAge(pid).value_or(0) > seconds;
        },
        timeout);
  }

  bool waitUntilGone(int pid, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return waitUntil([&] { return !hasBackend(pid); }, timeout);
  }

  bool waitUntilState(int pid, const std::string& state,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return waitUntil([&] { return stateOf(pid) == state; }, timeout);
  }

  // pg_stat_activity.backend_type ("client backend", "walsender"), nullopt when gone.
  std::optional<std::string> backendType(int pid) {
    auto rows = query("SELECT coalesce(backend_type, '') FROM pg_stat_activity WHERE pid = $1",
                      {std::to_string(pid)});
    if (rows.empty()) return std::nullopt;
    return rows[0][0];
  }

  // The pids of client backends, our helper connection's included.
  std::vector<int> clientBackends() {
    std::vector<int> pids;
    for (const auto& row :
         query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
               "ORDER BY pid")) {
      pids.push_back(std::atoi(row[0]->c_str()));
    }
    return pids;
  }

 private:
  static Rows queryOn(PGconn* c, const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    PGresult* result = PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                    values.data(), nullptr, nullptr, 0);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string error = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error(sql + ": " + error);
    }
    Rows rows;
    for (int r = 0; r < PQntuples(result); ++r) {
      Row row;
      for (int f = 0; f < PQnfields(result); ++f) {
        if (PQgetisnull(result, r, f)) {
          row.push_back(std::nullopt);
        } else {
          row.push_back(std::string(PQgetvalue(result, r, f)));
        }
      }
      rows.push_back(std::move(row));
    }
    PQclear(result);
    return rows;
  }

  std::string startServer() {
    server_.start(ProcessOptions{{bin_ + "/postgres",
                                  "-D",
                                  dataDir(),
                                  "-p",
                                  std::to_string(port_),
                                  "-k",
                                  socketDir(),
                                  "-c",
                                  "listen_addresses=127.0.0.1",
                                  "-c",
                                  "fsync=off",
                                  "-c",
                                  "synchronous_commit=off",
                                  "-c",
                                  "full_page_writes=off",
                                  "-c",
                                  "shared_buffers=16MB",
                                  "-c",
                                  "max_connections=80",
                                  "-c",
                                  "autovacuum=off",
                                  "-c",
                                  "log_connections=on"},
                                 {},
                                 user_,
                                 dir_->path(),
                                 logPath()});
    std::string ping = socketConnectionString(kSuperuser, kDatabase) + " connect_timeout=2";
    bool up = waitUntil([&] { return !server_.running() || PQping(ping.c_str()) == PQPING_OK; },
                        std::chrono::seconds(60));
    if (up && server_.running()) return "";
    server_.stop();
    return "postgres did not start on port " + std::to_string(port_) + ": " + log();
  }

  std::string bin_;
  std::optional<std::string> user_;
  std::unique_ptr<TempDir> dir_;
  int port_ = 0;
  ChildProcess server_;
  PGconn* admin_ = nullptr;
};

}  // namespace remedy::testing
