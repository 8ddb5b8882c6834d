#include "actions/postgres_action.h"

#include "actions/postgres_session.h"
#include "actions/secret_ref.h"
#include "api/duration.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::actions {
namespace {

constexpr const char* kField = "postgres";
// Each query text is read up to this many characters (track_activity_query_size
// bounds it on the server too) and shown up to kReportQueryBytes in the report.
constexpr int kQueryReadChars = 200;
constexpr size_t kReportQueryBytes = 80;
constexpr size_t kReportColumnBytes = 24;
// Outputs stay under 4 KiB together: the report and the pid list are cut to these.
constexpr size_t kReportBytes = 2560;
constexpr size_t kPidsBytes = 1024;
// Error text taken from libpq or the server.
constexpr size_t kErrorBytes = 400;
constexpr size_t kMessagePids = 10;

// postgres.query: the statement, its parameters, the rows kept and each
// value shown; outputs stay under 4 KiB together.
constexpr size_t kMaxQueryBytes = 8192;
constexpr size_t kMaxQueryParams = 16;
constexpr size_t kMaxQueryParamBytes = 1024;
constexpr int kMaxQueryRows = 100;
constexpr size_t kMaxQueryColumns = 32;
constexpr size_t kQueryValueBytes = 256;
constexpr size_t kQueryTableBytes = 2560;

constexpr size_t kMaxStates = 6;
constexpr size_t kMaxNames = 16;
constexpr size_t kMaxNameBytes = 63;
constexpr size_t kMaxPatternBytes = 1024;
constexpr size_t kMaxDurationBytes = 32;
constexpr int kMaxCountLimit = 1000;

enum class Operation { kReport, kCancel, kTerminate };

struct OperationInfo {
  const char* field;  // "terminateBackends"
  const char* verb;   // "terminate"
  const char* done;   // "terminated"
  int defaultMaxCount;
};

const OperationInfo& info(Operation op) {
  static const OperationInfo report{"activityReport", "report", "reported", 20};
  static const OperationInfo cancel{"cancelBackends", "cancel", "cancelled", 10};
  static const OperationInfo terminate{"terminateBackends", "terminate", "terminated", 10};
  switch (op) {
    case Operation::kReport:
      return report;
    case Operation::kCancel:
      return cancel;
    case Operation::kTerminate:
      break;
  }
  return terminate;
}

using pg::Backend;
using pg::BackendFilter;
using pg::Failure;
using pg::Listing;
using pg::NameList;
using pg::QueryRows;

// A read-only diagnosis query (postgres.query).
struct QueryRequest {
  std::string sql;
  std::vector<std::string> params;
  int maxRows = 20;
};

struct Request {
  Operation op = Operation::kReport;
  json secretKeyRef;
  BackendFilter filter;
  // Set for postgres.query (then `op` and `filter` are unused).
  std::optional<QueryRequest> query;
};

const std::vector<std::string>& knownStates() {
  static const std::vector<std::string> states = {"active",
                                                  "idle",
                                                  "idle in transaction",
                                                  "idle in transaction (aborted)",
                                                  "fastpath function call",
                                                  "disabled"};
  return states;
}

std::string textQuoted(const std::string& s) { return json(s).dump(); }

// Reads a list of strings at `path`; returns an error or "".
std::string readNames(const json& value, const std::string& path, size_t maxItems, size_t maxBytes,
                      const std::vector<std::string>* allowed, NameList* out) {
  if (!value.is_array()) return path + ": expected a list of strings";
  if (value.size() > maxItems) {
    return path + ": at most " + std::to_string(maxItems) + " items, got " +
           std::to_string(value.size());
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!value[i].is_string()) return at + ": expected a string";
    std::string name = value[i].get<std::string>();
    if (name.size() > maxBytes) {
      return at + ": longer than " + std::to_string(maxBytes) + " bytes";
    }
    if (name.find('\0') != std::string::npos) return at + ": contains a NUL character";
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      std::string list;
      for (const auto& a : *allowed) list += (list.empty() ? "" : ", ") + textQuoted(a);
      return at + ": " + textQuoted(name) + " is not a pg_stat_activity state (one of " + list +
             ")";
    }
    names.push_back(std::move(name));
  }
  if (!names.empty()) *out = std::move(names);
  return "";
}

std::string readFilter(const json& body, Operation op, BackendFilter* filter) {
  const OperationInfo& op_info = info(op);
  std::string path = std::string(kField) + "." + op_info.field;
  if (!body.is_object()) return path + ": expected an object";
  static const std::set<std::string> known = {"olderThan", "states",           "databases",
                                              "users",     "applicationNames", "queryPattern",
                                              "maxCount",  "allowSuperusers",  "whenMoreMatch"};
  // A field this action does not know could be a filter it would silently
  // ignore, widening what it acts on: refuse it.
  for (const auto& [key, value] : body.items()) {
    if (known.count(key) == 0) return path + "." + key + ": unknown field";
  }
  if (auto it = body.find("olderThan"); it != body.end()) {
    std::string at = path + ".olderThan";
    if (!it->is_string()) return at + ": expected a duration such as \"5m\"";
    std::string text = it->get<std::string>();
    if (text.size() > kMaxDurationBytes) return at + ": longer than 32 bytes";
    auto parsed = api::parseDuration(text);
    if (!parsed.ok()) return at + ": " + parsed.error();
    filter->olderThanSeconds = static_cast<double>(parsed->count()) / 1000.0;
  }
  const std::vector<std::pair<const char*, NameList*>> lists = {
      {"states", &filter->states},
      {"databases", &filter->databases},
      {"users", &filter->users},
      {"applicationNames", &filter->applicationNames}};
  for (const auto& [name, list] : lists) {
    auto it = body.find(name);
    if (it == body.end()) continue;
    bool states = std::string(name) == "states";
    std::string error = readNames(*it, path + "." + name, states ? kMaxStates : kMaxNames,
                                  kMaxNameBytes, states ? &knownStates() : nullptr, list);
    if (!error.empty()) return error;
  }
  if (auto it = body.find("queryPattern"); it != body.end()) {
    std::string at = path + ".queryPattern";
    if (!it->is_string()) return at + ": expected a regular expression";
    std::string pattern = it->get<std::string>();
    // An empty pattern (a template that rendered to nothing) would match every query.
    if (pattern.empty()) return at + ": must not be empty";
    if (pattern.size() > kMaxPatternBytes) return at + ": longer than 1024 bytes";
    if (pattern.find('\0') != std::string::npos) return at + ": contains a NUL character";
    filter->queryPattern = pattern;
  }
  filter->maxCount = op_info.defaultMaxCount;
  if (auto it = body.find("maxCount"); it != body.end()) {
    std::string at = path + ".maxCount";
    if (!it->is_number_integer()) return at + ": expected an integer";
    auto value = it->get<int64_t>();
    if (value < 1 || value > kMaxCountLimit) {
      return at + ": " + std::to_string(value) + " is not between 1 and 1000";
    }
    filter->maxCount = static_cast<int>(value);
  }
  if (auto it = body.find("allowSuperusers"); it != body.end()) {
    if (!it->is_boolean()) return path + ".allowSuperusers: expected true or false";
    filter->allowSuperusers = it->get<bool>();
  }
  if (auto it = body.find("whenMoreMatch"); it != body.end()) {
    std::string at = path + ".whenMoreMatch";
    if (!it->is_string()) return at + ": expected Fail or OldestFirst";
    std::string v = it->get<std::string>();
    if (v != "Fail" && v != "OldestFirst") {
      return at + ": \"" + v + "\" is not one of Fail, OldestFirst";
    }
    filter->oldestFirst = v == "OldestFirst";
  }
  if (op != Operation::kReport && !filter->any()) {
    return path +
           ": set at least one filter (olderThan, states, databases, users, applicationNames "
           "or queryPattern); without one it would " +
           op_info.verb + " every backend";
  }
  return "";
}

std::string readQuery(const json& body, QueryRequest* query) {
  const std::string path = std::string(kField) + ".query";
  if (!body.is_object()) return path + ": expected an object";
  for (const auto& [key, value] : body.items()) {
    if (key != "sql" && key != "params" && key != "maxRows")
      return path + "." + key + ": unknown field";
  }
  auto sql = body.find("sql");
  if (sql == body.end() || !sql->is_string() || sql->get<std::string>().empty()) {
    return path + ".sql: required (one SQL statement)";
  }
  query->sql = sql->get<std::string>();
  if (query->sql.size() > kMaxQueryBytes) {
    return path + ".sql: longer than " + std::to_string(kMaxQueryBytes) + " bytes";
  }
  if (query->sql.find('\0') != std::string::npos) return path + ".sql: contains a NUL character";
  if (auto params = body.find("params"); params != body.end()) {
    NameList values;
    if (std::string error = readNames(*params, path + ".params", kMaxQueryParams,
                                      kMaxQueryParamBytes, nullptr, &values);
        !error.empty()) {
      return error;
    }
    if (values) query->params = std::move(*values);
  }
  if (auto rows = body.find("maxRows"); rows != body.end()) {
    if (!rows->is_number_integer()) return path + ".maxRows: expected an integer";
    auto value = rows->get<int64_t>();
    if (value < 1 || value > kMaxQueryRows) {
      return path + ".maxRows: " + std::to_string(value) + " is not between 1 and " +
             std::to_string(kMaxQueryRows);
    }
    query->maxRows = static_cast<int>(value);
  }
  return "";
}

std::string readRequest(const json& params, Request* request) {
  if (!params.is_object()) return std::string(kField) + ": expected an object";
  static const std::set<std::string> known = {"connection", "activityReport", "cancelBackends",
                                              "terminateBackends", "query"};
  for (const auto& [key, value] : params.items()) {
    if (known.count(key) == 0) return std::string(kField) + "." + key + ": unknown field";
  }
  auto connection = params.find("connection");
  if (connection == params.end() || !connection->is_object() ||
      !connection->contains("secretKeyRef")) {
    return std::string(kField) + ".connection.secretKeyRef: required";
  }
  request->secretKeyRef = (*connection)["secretKeyRef"];
  std::vector<Operation> ops;
  for (Operation op : {Operation::kReport, Operation::kCancel, Operation::kTerminate}) {
    if (params.contains(info(op).field)) ops.push_back(op);
  }
  if (ops.size() + (params.contains("query") ? 1 : 0) != 1) {
    return std::string(kField) +
           ": set exactly one of activityReport, cancelBackends, terminateBackends or query";
  }
  if (params.contains("query")) {
    request->query.emplace();
    return readQuery(params["query"], &*request->query);
  }
  request->op = ops.front();
  return readFilter(params[info(request->op).field], request->op, &request->filter);
}

// ---- text ----

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string cutUtf8(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// One line: control characters and runs of whitespace become one space.
std::string oneLine(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == 0x7F) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Text from libpq or the server, with every secret value replaced, on one
// line and bounded.
std::string scrubbed(const std::string& text, const std::vector<std::string>& secrets) {
  std::string out = text;
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return cutUtf8(oneLine(out), kErrorBytes);
}

std::string seconds(double value) {
  return std::to_string(static_cast<long long>(std::floor(std::max(0.0, value)))) + "s";
}

// A PostgreSQL array literal of text values, sent as one text[] parameter.
std::string textArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// ---- libpq ----

struct ConnectionCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using QueryResult = std::unique_ptr<PGresult, ResultCloser>;

// Server errors worth another attempt: connection trouble (08), serialization
// and deadlocks (40), insufficient resources (53), lock not available (55),
// cancels and statement timeouts and shutdowns (57), system errors (58).
bool retriableSqlState(const std::string& sqlstate) {
  static const std::set<std::string> classes = {"08", "40", "53", "55", "57", "58"};
  return sqlstate.size() == 5 && classes.count(sqlstate.substr(0, 2)) > 0;
}

// A libpq connection and the secrets its errors must not show.
class Libpq {
 public:
  Libpq(Connection connection, std::vector<std::string> secrets)
      : connection_(std::move(connection)), secrets_(std::move(secrets)) {}

  // Runs `sql` with text parameters (nullopt is SQL NULL). Every value from
  // the step reaches the server this way, never inside the SQL text.
  std::optional<Failure> exec(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params,
                              QueryResult* out) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    QueryResult result(PQexecParams(connection_.get(), sql.c_str(), static_cast<int>(values.size()),
                                    nullptr, values.data(), nullptr, nullptr, 0));
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      *out = std::move(result);
      return std::nullopt;
    }
    return failureOf(result.get());
  }

  // Runs one statement (the extended protocol refuses more than one) in
  // single-row mode and keeps at most `maxRows` rows, each value on one line
  // and cut to kQueryValueBytes. A row beyond them sets `truncated`, and the
  // statement is cancelled instead of read to its end.
  std::optional<Failure> rows(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params, int maxRows,
                              QueryRows* out) {
    PGconn* c = connection_.get();
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    if (PQsendQueryParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0) == 0) {
      return failureOf(nullptr);
    }
    PQsetSingleRowMode(c);
    std::optional<Failure> failure;
    bool cancelled = false;
    while (PGresult* raw = PQgetResult(c)) {
      QueryResult result(raw);
      ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
        if (out->columns.empty()) {
          out->columnCount = static_cast<size_t>(PQnfields(raw));
          for (int i = 0; i < PQnfields(raw) && out->columns.size() < kMaxQueryColumns; ++i) {
            out->columns.push_back(cutUtf8(oneLine(PQfname(raw, i)), kMaxNameBytes));
          }
        }
        if (status == PGRES_TUPLES_OK || cancelled) continue;
        if (out->rows.size() >= static_cast<size_t>(maxRows)) {
          out->truncated = true;
          cancelled = true;
          if (PGcancel* cancel = PQgetCancel(c)) {
            char error[256];
            PQcancel(cancel, error, sizeof error);
            PQfreeCancel(cancel);
          }
          continue;
        }
        std::vector<std::optional<std::string>> row;
        for (size_t i = 0; i < out->columns.size(); ++i) {
          int column = static_cast<int>(i);
          if (PQgetisnull(raw, 0, column)) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(cutUtf8(oneLine(PQgetvalue(raw, 0, column)), kQueryValueBytes));
          }
        }
        out->rows.push_back(std::move(row));
      } else if (status == PGRES_COMMAND_OK) {
        out->command = true;
      } else if (!failure && !cancelled) {
        // The error of a statement cancelled for having more rows is ours.
        failure = failureOf(raw);
      }
    }
    return failure;
  }

 private:
  Failure failureOf(const PGresult* result) const {
    Failure failure;
    std::string sqlstate;
    std::string text;
    if (result) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
      if (state != nullptr) sqlstate = state;
      if (primary != nullptr) text = primary;
    }
    if (text.empty()) text = PQerrorMessage(connection_.get());
    bool lost = PQstatus(connection_.get()) != CONNECTION_OK;
    failure.retriable = lost || retriableSqlState(sqlstate);
    failure.message = scrubbed(text, secrets_);
    if (!sqlstate.empty()) failure.message += " (SQLSTATE " + sqlstate + ")";
    return failure;
  }

  Connection connection_;
  std::vector<std::string> secrets_;
};

std::chrono::milliseconds boundedByDeadline(std::chrono::milliseconds configured,
                                            const ActionContext& context) {
  using std::chrono::milliseconds;
  if (context.deadline.time_since_epoch().count() == 0 ||
      context.now.time_since_epoch().count() == 0) {
    return configured;
  }
  auto remaining = std::chrono::duration_cast<milliseconds>(context.deadline - context.now);
  return std::max(milliseconds(1000), std::min(configured, remaining));
}

// Opens Remedy's session: the Secret's connection string, expanded by libpq
// (so sslmode and the rest are honoured), then our connect_timeout and
// application_name on top, then statement_timeout and a search_path that only
// holds pg_catalog for every statement after.
std::unique_ptr<Libpq> openLibpq(const std::string& conninfo, const pg::ConnectOptions& options,
                                 Failure* failure) {
  const std::string& where = options.where;
  std::vector<std::string> secrets = {conninfo};
  char* parseError = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parseError);
  if (parsed == nullptr) {
    // libpq's parse errors quote pieces of the string: say only where it is.
    if (parseError != nullptr) PQfreemem(parseError);
    failure->message = where + " is not a valid libpq connection string";
    return nullptr;
  }
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    std::string keyword = o->keyword;
    if ((keyword == "password" || keyword == "sslpassword") && o->val != nullptr) {
      secrets.push_back(o->val);
    }
  }
  PQconninfoFree(parsed);

  long long timeoutSeconds = std::max<long long>(2, (options.connectTimeout.count() + 999) / 1000);
  std::string connectTimeoutText = std::to_string(timeoutSeconds);
  // Later keywords override what the expanded dbname string set (libpq's
  // conninfo_array_parse), so application_name is always ours.
  const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), connectTimeoutText.c_str(), "remedy", nullptr};
  Connection connection(PQconnectdbParams(keywords, values, 1));
  if (!connection) {
    failure->retriable = true;
    failure->message = where + ": cannot connect: out of memory";
    return nullptr;
  }
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    failure->retriable = true;
    failure->message =
        where + ": cannot connect: " + scrubbed(PQerrorMessage(connection.get()), secrets);
    return nullptr;
  }
  PQsetNoticeProcessor(
      connection.get(), [](void*, const char*) {}, nullptr);
  auto session = std::make_unique<Libpq>(std::move(connection), std::move(secrets));
  QueryResult ignored;
  if (auto error =
          session->exec("SELECT pg_catalog.set_config('statement_timeout', $1, false), "
                        "pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)",
                        {std::to_string(options.statementTimeout.count())}, &ignored)) {
    failure->retriable = true;
    failure->message = where + ": setting up the session: " + error->message;
    return nullptr;
  }
  return session;
}

// ---- the statements ----

// The backends a step may act on. $1 olderThan in seconds, $2 states,
// $3 databases, $4 users, $5 application names, $6 query pattern: each NULL
// when its filter is not set; $7 whether superuser roles may be included.
// Never: our own backend, backends that are not client backends; backends of
// superuser roles (or of a role that is gone) only when $7 says so.
constexpr const char* kMatching = R"SQL(
WITH matching AS (
  SELECT a.pid, a.usename, a.datname, a.application_name, a.client_addr, a.state,
         a.wait_event_type, a.wait_event, a.query, a.backend_start, a.query_start,
         EXTRACT(EPOCH FROM (pg_catalog.now() - a.query_start))::float8 AS seconds
  FROM pg_catalog.pg_stat_activity a
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
  WHERE a.backend_type = 'client backend'
    AND a.pid <> pg_catalog.pg_backend_pid()
    AND ($7::bool OR NOT coalesce(r.rolsuper, true))
    AND ($1::float8 IS NULL
         OR a.query_start <= pg_catalog.now() - $1::float8 * interval '1 second')
    AND ($2::text[] IS NULL OR a.state = ANY ($2::text[]))
    AND ($3::text[] IS NULL OR a.datname::text = ANY ($3::text[]))
    AND ($4::text[] IS NULL OR a.usename::text = ANY ($4::text[]))
    AND ($5::text[] IS NULL OR a.application_name = ANY ($5::text[]))
    AND ($6::text IS NULL OR a.query ~ $6::text)
)
)SQL";

// The oldest $8 matching backends, each query cut to $9 characters, with the
// count and the age of all that match, and the number of client backends
// (one row with NULL backend columns when none matches).
constexpr const char* kListing = R"SQL(
, listed AS (
  SELECT m.*, count(*) OVER () AS matched, max(m.seconds) OVER () AS oldest
  FROM matching m
  ORDER BY m.query_start NULLS LAST, m.pid
  LIMIT $8::int
)
SELECT t.total, l.matched, l.oldest, l.pid, l.usename, l.datname, l.application_name,
       pg_catalog.host(l.client_addr), l.state, l.seconds, l.wait_event_type, l.wait_event,
       pg_catalog.left(l.query, $9::int), l.backend_start::text, l.query_start::text
FROM (SELECT count(*) AS total FROM pg_catalog.pg_stat_activity
      WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()) t
LEFT JOIN listed l ON true
ORDER BY l.query_start NULLS LAST, l.pid
)SQL";

// Signals one listed backend if it is still the same one ($8 pid, $9 backend
// start, $10 query start) and still matches; no row when it is not.
std::string signalStatement(const char* function) {
  return std::string(kMatching) + "SELECT " + function +
         "(m.pid) FROM matching m WHERE m.pid = $8::int"
         " AND m.backend_start IS NOT DISTINCT FROM $9::timestamptz"
         " AND m.query_start IS NOT DISTINCT FROM $10::timestamptz";
}

std::vector<std::optional<std::string>> filterParams(const BackendFilter& f) {
  auto list = [](const NameList& l) -> std::optional<std::string> {
    return l ? std::optional<std::string>(textArray(*l)) : std::nullopt;
  };
  std::optional<std::string> olderThan;
  if (f.olderThanSeconds) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.3f", *f.olderThanSeconds);
    olderThan = buffer;
  }
  return {olderThan,
          list(f.states),
          list(f.databases),
          list(f.users),
          list(f.applicationNames),
          f.queryPattern,
          std::string(f.allowSuperusers ? "true" : "false")};
}

// The role Remedy's session runs as, and why it may not run a diagnosis
// query (NULL when it may).
constexpr const char* kRoleCheck = R"SQL(
SELECT r.rolname::text,
       CASE WHEN r.rolsuper THEN 'is a superuser'
            WHEN pg_catalog.pg_has_role(r.oid, 'pg_signal_backend', 'MEMBER')
              THEN 'is a member of pg_signal_backend'
            WHEN pg_catalog.pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER')
              THEN 'is a member of pg_execute_server_program'
            WHEN pg_catalog.pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER')
              THEN 'is a member of pg_write_server_files'
       END
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
)SQL";

class LibpqSession : public pg::Session {
 public:
  explicit LibpqSession(std::unique_ptr<Libpq> libpq) : libpq_(std::move(libpq)) {}

  std::optional<Failure> list(const BackendFilter& filter, int limit, int queryChars,
                              Listing* listing) override;

  std::optional<Failure> signal(bool terminate, const BackendFilter& filter, const Backend& backend,
                                bool* signalled) override {
    auto params = filterParams(filter);
    params.push_back(backend.pid);
    params.push_back(backend.backendStart);
    params.push_back(backend.queryStart);
    QueryResult result;
    std::string sql = signalStatement(terminate ? "pg_catalog.pg_terminate_backend"
                                                : "pg_catalog.pg_cancel_backend");
    if (auto error = libpq_->exec(sql, params, &result)) return error;
    *signalled = PQntuples(result.get()) == 1 && !PQgetisnull(result.get(), 0, 0) &&
                 std::string(PQgetvalue(result.get(), 0, 0)) == "t";
    return std::nullopt;
  }

  std::optional<Failure> roleRefusal(std::string* role, std::string* refusal) override {
    QueryResult result;
    if (auto error = libpq_->exec(kRoleCheck, {}, &result)) return error;
    if (PQntuples(result.get()) == 1) {
      *role = PQgetvalue(result.get(), 0, 0);
      if (!PQgetisnull(result.get(), 0, 1)) *refusal = PQgetvalue(result.get(), 0, 1);
    }
    return std::nullopt;
  }

  std::optional<Failure> readOnlyQuery(const std::string& sql,
                                       const std::vector<std::optional<std::string>>& params,
                                       int maxRows, QueryRows* out) override {
    QueryResult result;
    for (const char* statement :
         {"SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false)",
          "BEGIN READ ONLY"}) {
      if (auto error = libpq_->exec(statement, {}, &result)) {
        error->message = "starting a read-only transaction: " + error->message;
        return error;
      }
    }
    return libpq_->rows(sql, params, maxRows, out);
  }

 private:
  std::unique_ptr<Libpq> libpq_;
};

std::optional<Failure> LibpqSession::list(const BackendFilter& filter, int limit, int queryChars,
                                          Listing* listing) {
  auto params = filterParams(filter);
  params.push_back(std::to_string(limit));
  params.push_back(std::to_string(queryChars));
  QueryResult result;
  if (auto error = libpq_->exec(std::string(kMatching) + kListing, params, &result)) return error;
  PGresult* r = result.get();
  auto text = [&](int row, int column) -> std::optional<std::string> {
    if (PQgetisnull(r, row, column)) return std::nullopt;
    return std::string(PQgetvalue(r, row, column), PQgetlength(r, row, column));
  };
  auto number = [&](int row, int column) -> std::optional<double> {
    auto t = text(row, column);
    if (!t) return std::nullopt;
    return std::strtod(t->c_str(), nullptr);
  };
  int rows = PQntuples(r);
  for (int row = 0; row < rows; ++row) {
    listing->total = static_cast<long long>(number(row, 0).value_or(0));
    auto pid = text(row, 3);
    if (!pid) continue;  // the one row of an empty listing
    listing->matched = static_cast<long long>(number(row, 1).value_or(0));
    listing->oldest = number(row, 2);
    Backend b;
    b.pid = *pid;
    b.user = text(row, 4).value_or("");
    b.database = text(row, 5).value_or("");
    b.application = text(row, 6).value_or("");
    b.client = text(row, 7).value_or("local");
    b.state = text(row, 8).value_or("");
    b.seconds = number(row, 9);
    auto waitType = text(row, 10);
    auto waitEvent = text(row, 11);
    if (waitType || waitEvent) b.wait = waitType.value_or("") + ":" + waitEvent.value_or("");
    b.query = oneLine(text(row, 12).value_or(""));
    b.backendStart = text(row, 13);
    b.queryStart = text(row, 14);
    listing->backends.push_back(std::move(b));
  }
  return std::nullopt;
}

class LibpqConnector : public pg::Connector {
 public:
  std::unique_ptr<pg::Session> connect(const std::string& conninfo,
                                       const pg::ConnectOptions& options,
                                       Failure* failure) override {
    auto libpq = openLibpq(conninfo, options, failure);
    if (!libpq) return nullptr;
    return std::make_unique<LibpqSession>(std::move(libpq));
  }
};

std::string queryCell(const std::string& query) {
  if (query.empty()) return "-";
  if (query.size() <= kReportQueryBytes) return query;
  return cutUtf8(query, kReportQueryBytes) + "...";
}

// A table of the listed backends, oldest first, cut to kReportBytes.
std::string reportTable(const Listing& listing) {
  const std::vector<std::string> header = {"pid",         "age",    "state", "user", "database",
                                           "application", "client", "wait",  "query"};
  std::vector<std::vector<std::string>> rows;
  for (const Backend& b : listing.backends) {
    auto cell = [](const std::string& s) {
      return s.empty() ? std::string("-") : cutUtf8(s, kReportColumnBytes);
    };
    rows.push_back({b.pid, b.seconds ? seconds(*b.seconds) : "-", cell(b.state), cell(b.user),
                    cell(b.database), cell(b.application), cell(b.client), cell(b.wait),
                    queryCell(b.query)});
  }
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(widths[c] - cells[c].size() + 2, ' ');
    }
    return out + "\n";
  };
  std::string out = line(header);
  size_t shown = 0;
  for (const auto& row : rows) {
    std::string next = line(row);
    // Room for the closing "... and N more" line.
    if (out.size() + next.size() > kReportBytes - 40) break;
    out += next;
    ++shown;
  }
  long long more = listing.matched - static_cast<long long>(shown);
  if (more > 0) out += "... and " + std::to_string(more) + " more\n";
  return out;
}

// "123,456", cut to kPidsBytes (then ending in ",...").
std::string pidsOutput(const std::vector<std::string>& pids) {
  std::string out;
  for (const auto& pid : pids) {
    if (out.size() + pid.size() + 1 > kPidsBytes - 4) return out + ",...";
    out += (out.empty() ? "" : ",") + pid;
  }
  return out;
}

// What earlier attempts of this step did before they failed: the engine
// keeps a failed attempt's outputs and hands them back in the baseline.
struct EarlierEffects {
  long long affected = 0;
  std::vector<std::string> pids;
};

EarlierEffects earlierEffects(const Outputs& baseline) {
  EarlierEffects e;
  auto affected = baseline.find("affected");
  if (affected != baseline.end() && !affected->second.empty() && affected->second.size() < 10 &&
      std::all_of(affected->second.begin(), affected->second.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    e.affected = std::stoll(affected->second);
  }
  auto pids = baseline.find("pids");
  if (e.affected > 0 && pids != baseline.end()) {
    size_t start = 0;
    const std::string& text = pids->second;
    while (start < text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string pid = text.substr(start, comma - start);
      if (pid != "...") e.pids.push_back(pid);
      start = comma + 1;
    }
  }
  return e;
}

// "pids 123, 456" with at most kMessagePids named.
std::string pidsPhrase(const std::vector<std::string>& pids) {
  std::string out = pids.size() == 1 ? "pid " : "pids ";
  for (size_t i = 0; i < pids.size() && i < kMessagePids; ++i) {
    out += (i == 0 ? "" : ", ") + pids[i];
  }
  if (pids.size() > kMessagePids)
    out += " and " + std::to_string(pids.size() - kMessagePids) + " more";
  return out;
}

// Each name and value on one line and cut, at most kMaxQueryColumns columns
// and `maxRows` rows, whatever the session kept.
void keepBounded(QueryRows* rows, int maxRows) {
  if (rows->columnCount < rows->columns.size()) rows->columnCount = rows->columns.size();
  if (rows->columns.size() > kMaxQueryColumns) rows->columns.resize(kMaxQueryColumns);
  for (auto& c : rows->columns) c = cutUtf8(oneLine(c), kMaxNameBytes);
  if (rows->rows.size() > static_cast<size_t>(maxRows)) {
    rows->rows.resize(static_cast<size_t>(maxRows));
    rows->truncated = true;
  }
  for (auto& row : rows->rows) {
    row.resize(rows->columns.size());
    for (auto& v : row) {
      if (v) *v = cutUtf8(oneLine(*v), kQueryValueBytes);
    }
  }
}

std::string queryColumns(const QueryRows& rows) {
  std::string out;
  for (const auto& c : rows.columns) out += (out.empty() ? "" : ",") + c;
  if (rows.columnCount > rows.columns.size()) out += ",...";
  return out;
}

// The rows as text: a header, then a line per row, values separated by
// " | " and NULL written as NULL; cut to kQueryTableBytes with a line that
// counts the rows left out.
std::string queryTable(const QueryRows& rows) {
  auto line = [](const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) out += (out.empty() ? "" : " | ") + v;
    return out + "\n";
  };
  std::string out = line(rows.columns);
  size_t shown = 0;
  for (const auto& row : rows.rows) {
    std::vector<std::string> values;
    for (const auto& v : row) values.push_back(v ? *v : "NULL");
    std::string next = line(values);
    if (out.size() + next.size() > kQueryTableBytes - 40) break;
    out += next;
    ++shown;
  }
  if (shown < rows.rows.size()) {
    out += "... and " + std::to_string(rows.rows.size() - shown) + " more rows\n";
  }
  return out;
}

std::string backends(long long n) {
  return std::to_string(n) + (n == 1 ? " backend" : " backends");
}

class PostgresAction : public Action {
 public:
  explicit PostgresAction(PostgresActionOptions options)
      : options_(std::move(options)),
        connector_(options_.connector ? options_.connector : pg::libpqConnector()) {}

  std::string field() const override { return kField; }

  ActionOutcome run(const json& params, const ActionContext& context) override {
    Request request;
    if (std::string error = readRequest(params, &request); !error.empty()) {
      return ActionOutcome::permanent(error);
    }
    if (context.client == nullptr) {
      return ActionOutcome::permanent("postgres: no API client to read the connection Secret");
    }
    SecretValue secret = readSecretKey(*context.client, context.defaultNamespace,
                                       request.secretKeyRef, "postgres.connection.secretKeyRef");
    if (!secret.ok()) {
      return secret.retriable ? ActionOutcome::retriable(secret.error)
                              : ActionOutcome::permanent(secret.error);
    }
    std::string where = "postgres.connection: the connection string in Secret " +
                        context.defaultNamespace + "/" +
                        request.secretKeyRef.value("name", std::string()) + " key " +
                        textQuoted(request.secretKeyRef.value("key", std::string()));
    if (oneLine(secret.value).empty()) {
      return ActionOutcome::permanent(where + " is empty");
    }
    Failure failure;
    pg::ConnectOptions connectOptions;
    connectOptions.connectTimeout = boundedByDeadline(options_.connectTimeout, context);
    connectOptions.statementTimeout = boundedByDeadline(options_.statementTimeout, context);
    connectOptions.where = where;
    auto session = connector_->connect(secret.value, connectOptions, &failure);
    if (!session) return fail(failure);
    // Read-only, so it runs in a dry run too.
    if (request.query) return runQuery(*session, *request.query, where);

    const OperationInfo& op = info(request.op);
    Listing listing;
    if (auto error =
            session->list(request.filter, request.filter.maxCount, kQueryReadChars, &listing)) {
      error->message =
          std::string("postgres.") + op.field + ": listing backends: " + error->message;
      return fail(*error);
    }
    std::vector<std::string> listed;
    for (const Backend& b : listing.backends) listed.push_back(b.pid);
    Outputs outputs = {
        {"total", std::to_string(listing.total)},
        {"matched", std::to_string(listing.matched)},
        {"affected", "0"},
        {"oldestSeconds", listing.oldest
                              ? std::to_string(static_cast<long long>(std::floor(*listing.oldest)))
                              : "0"},
        {"pids", ""},
        {"report", reportTable(listing)}};
    std::string oldest = listing.oldest ? "oldest " + seconds(*listing.oldest) : "";
    std::string dryRun = context.dryRun ? "dry run: " : "";
    // A retry after an attempt that signalled some backends and then failed
    // reports those too: `affected` and `pids` are the whole step's.
    EarlierEffects earlier;
    if (request.op != Operation::kReport && !context.dryRun) {
      earlier = earlierEffects(context.baseline);
      outputs["affected"] = std::to_string(earlier.affected);
      outputs["pids"] = pidsOutput(earlier.pids);
    }

    if (request.op == Operation::kReport) {
      outputs["pids"] = pidsOutput(listed);
      std::string message = dryRun + std::to_string(listing.matched) + " of " +
                            std::to_string(listing.total) + " client backends match";
      if (!oldest.empty()) message += " (" + oldest + ")";
      return ActionOutcome::succeeded(message, outputs);
    }
    if (listing.matched > request.filter.maxCount && !request.filter.oldestFirst) {
      auto outcome = ActionOutcome::permanent(
          dryRun + "postgres." + op.field + ": " + backends(listing.matched) +
          " match, more than maxCount " + std::to_string(request.filter.maxCount) + "; " + op.done +
          " none (narrow the filters, raise maxCount, or set whenMoreMatch: OldestFirst)");
      outcome.outputs = outputs;
      return outcome;
    }
    if (listed.empty()) {
      std::string message = dryRun + "no backends match (of " + std::to_string(listing.total) +
                            " client backends); " + op.done + " none";
      if (earlier.affected > 0) {
        message +=
            "; an earlier attempt " + std::string(op.done) + " " + backends(earlier.affected);
      }
      return ActionOutcome::succeeded(message, outputs);
    }
    if (context.dryRun) {
      outputs["pids"] = pidsOutput(listed);
      return ActionOutcome::succeeded("dry run: would " + std::string(op.verb) + " " +
                                          backends(static_cast<long long>(listed.size())) + " (" +
                                          pidsPhrase(listed) + "; " + oldest + ")",
                                      outputs);
    }
    return signalBackends(*session, request, listing, std::move(outputs), oldest, earlier);
  }

 private:
  static ActionOutcome fail(const Failure& failure) {
    return failure.retriable ? ActionOutcome::retriable(failure.message)
                             : ActionOutcome::permanent(failure.message);
  }

  // postgres.query: refuses a role that could do harm from a read-only
  // transaction, then runs the statement inside BEGIN READ ONLY and always
  // rolls back.
  static ActionOutcome runQuery(pg::Session& session, const QueryRequest& query,
                                const std::string& where) {
    // READ ONLY stops writes to tables, not pg_terminate_backend (a SELECT),
    // COPY TO PROGRAM or a SET ROLE to a role that can: the role must be
    // neither a superuser nor a member of the roles that grant those.
    std::string role;
    std::string why;
    if (auto error = session.roleRefusal(&role, &why)) {
      return fail(
          {error->retriable, "postgres.query: reading the role's rights: " + error->message});
    }
    if (!why.empty()) {
      return ActionOutcome::permanent(
          "postgres.query: the role " + textQuoted(role) + " of " + where + " " + why +
          "; a diagnosis query runs as a role with pg_monitor and no more, since a read-only "
          "transaction does not stop pg_terminate_backend");
    }
    std::vector<std::optional<std::string>> params(query.params.begin(), query.params.end());
    QueryRows rows;
    auto error = session.readOnlyQuery(query.sql, params, query.maxRows, &rows);
    if (error) {
      return fail({error->retriable, "postgres.query: " + error->message});
    }
    keepBounded(&rows, query.maxRows);
    if (rows.command) {
      return ActionOutcome::permanent(
          "postgres.query: the statement returned no rows (it is not a query); write a SELECT");
    }
    Outputs outputs = {{"rows", std::to_string(rows.rows.size())},
                       {"columns", queryColumns(rows)},
                       {"value", ""},
                       {"table", queryTable(rows)},
                       {"truncated", rows.truncated ? "true" : "false"}};
    if (!rows.rows.empty() && !rows.rows.front().empty() && rows.rows.front().front()) {
      outputs["value"] = *rows.rows.front().front();
    }
    std::string message = "query returned " + std::to_string(rows.rows.size()) +
                          (rows.rows.size() == 1 ? " row" : " rows");
    if (rows.truncated) {
      message +=
          " (more than maxRows " + std::to_string(query.maxRows) + "; the rest were not read)";
    }
    if (!rows.rows.empty() && !rows.columns.empty()) {
      message +=
          "; " + rows.columns.front() + " = " +
          (outputs["value"].empty() && !rows.rows.front().front() ? std::string("NULL")
                                                                  : textQuoted(outputs["value"]));
    }
    return ActionOutcome::succeeded(message, outputs);
  }

  // Signals the listed backends one at a time, oldest first, each only if it
  // is still the backend and query that was listed and still matches. Stops
  // at the first error and reports what was done until then.
  ActionOutcome signalBackends(pg::Session& session, const Request& request, const Listing& listing,
                               Outputs outputs, const std::string& oldest,
                               const EarlierEffects& earlier) {
    const OperationInfo& op = info(request.op);
    std::vector<std::string> acted;
    size_t gone = 0;
    std::optional<Failure> error;
    std::string failedPid;
    for (const Backend& b : listing.backends) {
      bool signalled = false;
      error = session.signal(request.op == Operation::kTerminate, request.filter, b, &signalled);
      if (error) {
        failedPid = b.pid;
        break;
      }
      if (signalled) {
        acted.push_back(b.pid);
      } else {
        ++gone;
      }
    }
    outputs["affected"] = std::to_string(earlier.affected + static_cast<long long>(acted.size()));
    std::vector<std::string> all = earlier.pids;
    all.insert(all.end(), acted.begin(), acted.end());
    outputs["pids"] = pidsOutput(all);
    std::string summary =
        std::string(op.done) + " " + backends(static_cast<long long>(acted.size()));
    if (!acted.empty()) summary += " (" + pidsPhrase(acted) + "; " + oldest + ")";
    if (gone > 0) {
      summary += "; " + std::to_string(gone) + " had ended or no longer matched";
    }
    if (earlier.affected > 0) {
      summary += "; an earlier attempt " + std::string(op.done) + " " + backends(earlier.affected);
    }
    if (error) {
      Failure failure = *error;
      failure.message = std::string("postgres.") + op.field + ": " + summary + "; then " + op.verb +
                        " pid " + failedPid + " failed: " + error->message;
      auto outcome = fail(failure);
      outcome.outputs = std::move(outputs);
      return outcome;
    }
    return ActionOutcome::succeeded(summary, std::move(outputs));
  }

  PostgresActionOptions options_;
  std::shared_ptr<pg::Connector> connector_;
};

}  // namespace

std::unique_ptr<Action> makePostgresAction(PostgresActionOptions options) {
  return std::make_unique<PostgresAction>(std::move(options));
}

namespace pg {

std::shared_ptr<Connector> libpqConnector() { return std::make_shared<LibpqConnector>(); }

std::optional<std::string> connectionHost(const std::string& conninfo) {
  char* parseError = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parseError);
  if (parsed == nullptr) {
    if (parseError != nullptr) PQfreemem(parseError);
    return std::nullopt;
  }
  std::string host;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "host" && o->val != nullptr) host = o->val;
  }
  PQconninfoFree(parsed);
  return host;
}

}  // namespace pg

}  // namespace remedy::actions
