// What the postgres action asks of a PostgreSQL server, behind a small
// interface: the action (postgres_action.h) decides what to do and reports
// it; a Session runs it. libpqConnector() is the real one; remedyctl test
// answers from a test file's recorded servers instead. Each method says the
// rule it keeps, which any implementation must keep too.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::actions::pg {

// An error from the server or the connection; `message` holds no secret.
struct Failure {
  bool retriable = false;
  std::string message;
};

// A filter list: nullopt when not set or empty (an empty list filters nothing,
// as the Runbook validator treats it).
using NameList = std::optional<std::vector<std::string>>;

// Which client backends a step acts on; every set filter must hold.
struct BackendFilter {
  std::optional<double> olderThanSeconds;  // the query started at least this long ago
  NameList states;
  NameList databases;
  NameList users;
  NameList applicationNames;
  std::optional<std::string> queryPattern;  // a POSIX regular expression (`~`)
  int maxCount = 0;
  // Superuser roles are left alone unless the step says otherwise.
  bool allowSuperusers = false;
  // More matches than maxCount: fail and act on none, or act on the oldest.
  bool oldestFirst = false;

  bool any() const {
    return olderThanSeconds || states || databases || users || applicationNames || queryPattern;
  }
};

struct Backend {
  std::string pid;
  std::string user;
  std::string database;
  std::string application;
  std::string client;  // the client's address, "local" for a Unix socket
  std::string state;
  std::optional<double> seconds;  // since the query started
  std::string wait;               // "type:event", empty when not waiting
  std::string query;
  // As the server writes them; with the pid, they tell a backend and its
  // query from a later one that reuses the pid.
  std::optional<std::string> backendStart;
  std::optional<std::string> queryStart;
};

struct Listing {
  long long total = 0;    // client backends, Remedy's own excepted
  long long matched = 0;  // of them, those the filter matches
  std::optional<double> oldest;
  std::vector<Backend> backends;  // the oldest matches, at most the limit asked
};

// The rows of a diagnosis query, as kept.
struct QueryRows {
  std::vector<std::string> columns;  // at most the column limit
  size_t columnCount = 0;            // all the statement returned
  std::vector<std::vector<std::optional<std::string>>> rows;
  bool truncated = false;  // there were more than maxRows rows
  // The statement returned no rows at all (not a query: SET, SHOW is one).
  bool command = false;
};

class Session {
 public:
  virtual ~Session() = default;

  // The client backends that match `filter`, never Remedy's own and never
  // one that is not a client backend (walsenders, autovacuum, background
  // workers); superuser roles only with filter.allowSuperusers. Lists the
  // oldest `limit` by query start (no query start last), then pid, each
  // query cut to `queryChars` characters.
  virtual std::optional<Failure> list(const BackendFilter& filter, int limit, int queryChars,
                                      Listing* out) = 0;

  // Cancels the backend's query (pg_cancel_backend) or terminates it
  // (pg_terminate_backend), only if it is still the backend and query that
  // were listed (pid, backend start, query start) and it still matches
  // `filter`; `signalled` says whether it was.
  virtual std::optional<Failure> signal(bool terminate, const BackendFilter& filter,
                                        const Backend& backend, bool* signalled) = 0;

  // The session's role (`role`) and why it may not run a diagnosis query
  // (`refusal`: "is a superuser", "is a member of pg_signal_backend", ...;
  // empty when it may).
  virtual std::optional<Failure> roleRefusal(std::string* role, std::string* refusal) = 0;

  // Runs one statement inside a READ ONLY transaction that is rolled back,
  // keeping at most `maxRows` rows (a row beyond them sets `truncated` and
  // the rest are not read).
  virtual std::optional<Failure> readOnlyQuery(
      const std::string& sql, const std::vector<std::optional<std::string>>& params, int maxRows,
      QueryRows* out) = 0;
};

struct ConnectOptions {
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds statementTimeout{10000};
  // How messages name the server: "postgres.connection: the connection
  // string in Secret ns/name key \"uri\"".
  std::string where;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Opens a session with the libpq connection string `conninfo` (a secret:
  // never in `failure`), or says why not.
  virtual std::unique_ptr<Session> connect(const std::string& conninfo,
                                           const ConnectOptions& options, Failure* failure) = 0;
};

// Connects through libpq, application_name=remedy, every statement under
// the statement timeout and with search_path pg_catalog.
std::shared_ptr<Connector> libpqConnector();

// The host a libpq connection string names ("" for the default, nullopt if
// it does not parse).
std::optional<std::string> connectionHost(const std::string& conninfo);

}  // namespace remedy::actions::pg
