// The test files of `remedyctl test` (format in src/cli/README.md, "remedyctl
// test"): which Runbooks, and per test the starting world, the alerts and
// approvals over time, the recorded answers of external systems and what is
// expected. Reading a file checks every field; an error names it with the
// file and line, as `remedyctl validate` reports.
#pragma once

#include "api/duration.h"
#include "api/runbook_file_validator.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::cli {

using json = nlohmann::json;

// Where a value was written, for failures that point back into the file.
struct FilePlace {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
};

struct TestAlert {
  api::Duration at{0};
  std::string name;  // the alertname
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::optional<api::Duration> resolveAt;
};

struct TestApproval {
  api::Duration at{0};
  size_t alert = 0;  // index into TestCase::alerts: whose Incident
  std::string step;
  std::string decision;  // Approve or Reject
  std::string approver;
  std::vector<std::string> groups;
};

// A recorded HTTP answer for http and notify steps (and escalations).
struct RecordedHttp {
  std::string method;  // empty: any
  std::string url;     // compared without its query string unless it has one
  struct Answer {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string error;  // no answer: this connection error instead
  };
  // Given in order, one per request; the last repeats.
  std::vector<Answer> answers;
};

// What a PromQL query returns over time (instant queries of prometheusCheck
// and prometheusQuery).
struct RecordedSeries {
  std::map<std::string, std::string> labels;
  // (offset from the test's start, value), ascending; before the first
  // point the series is absent.
  std::vector<std::pair<api::Duration, double>> points;
};
struct RecordedQuery {
  std::string query;  // compared with whitespace collapsed
  std::vector<RecordedSeries> series;
};

// A PostgreSQL server for postgres steps: its client backends (which
// activityReport lists and cancelBackends and terminateBackends signal) and
// the answers to diagnosis queries (postgres.query).
struct RecordedBackend {
  int pid = 0;
  std::string user;
  std::string database;
  std::string applicationName;
  std::string client;  // empty: local
  std::string state = "active";
  std::string query;
  std::string wait;  // "Lock:transactionid"
  std::string backendType = "client backend";
  bool superuser = false;
  // How long its query had run at the test's start; nullopt: no query yet.
  std::optional<api::Duration> runningFor;
  // Cancelling or terminating it fails with this server error.
  std::string signalError;
};
struct RecordedSqlAnswer {
  std::string sql;  // compared with whitespace collapsed
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: NULL
  std::string error;  // the statement fails with this instead
};
struct RecordedPostgres {
  std::string host;  // the connection string's host; empty: any
  std::string role = "remedy";
  std::string roleRefusal;  // why the role may not run a diagnosis query
  std::string error;        // connecting fails with this
  std::vector<RecordedBackend> backends;
  std::vector<RecordedSqlAnswer> queries;
};

// One SLOWLOG entry of a recorded Redis: logged at `at` (from the test's
// start), so SLOWLOG GET before then does not show it.
struct RecordedSlowlogEntry {
  api::Duration at{0};
  long long durationMicroseconds = 0;
  std::vector<std::string> command;  // the command and its arguments
  std::string client;                // "10.0.0.7:51234"
  std::string clientName;
};

// A Redis server for redis steps: INFO by section, the configuration
// CONFIG GET and SET read and change, the keyspace SCAN walks, MEMORY USAGE
// measures and deleteKeys empties, and the SLOWLOG.
struct RecordedRedis {
  std::string host;      // the URL's host; empty: any
  std::string password;  // AUTH must give it; empty: none is set
  std::string error;     // connecting fails with this
  std::map<std::string, std::map<std::string, std::string>> info;  // section → fields
  std::map<std::string, std::string> config;
  std::vector<std::string> keys;  // in SCAN's order
  // MEMORY USAGE of a key given `bytes`; the others use kDefaultKeyBytes.
  std::map<std::string, long long> keyBytes;
  std::vector<RecordedSlowlogEntry> slowlog;  // in the order logged
};
inline constexpr long long kDefaultKeyBytes = 64;

struct StepExpectation {
  std::string name;
  FilePlace place;
  std::optional<std::string> phase;
  std::optional<bool> when;
  std::map<std::string, std::string> outputs;
  std::optional<std::string> messageContains;
  std::optional<std::string> revert;  // the revert's state
};

struct ObjectExpectation {
  FilePlace place;
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string namespace_;  // empty: the test's
  bool absent = false;
  std::optional<int64_t> replicas;
  std::map<std::string, std::optional<std::string>> annotations;  // nullopt: must be absent
  std::map<std::string, std::optional<std::string>> labels;
  std::map<std::string, std::optional<std::string>> data;
  std::optional<std::string> image;  // of the first container of the pod template
};

struct EscalationExpectation {
  FilePlace place;
  std::string name;  // the tier's name
  std::optional<api::Duration> at;
  std::optional<std::string> state;
};

struct RequestExpectation {
  FilePlace place;
  std::string method;
  std::string url;
  std::optional<std::string> bodyContains;
  std::optional<int> count;  // default: at least one
};

struct IncidentExpectation {
  FilePlace place;
  size_t alert = 0;
  std::optional<std::string> phase;
  std::vector<StepExpectation> steps;
  std::optional<std::vector<std::string>> stepsRun;               // exactly these ran (not Skipped)
  std::optional<std::vector<EscalationExpectation>> escalations;  // exactly these fired
};

struct TestCase {
  std::string name;
  FilePlace place;
  std::string namespace_;
  api::Duration duration{std::chrono::hours(24)};
  std::vector<json> objects;
  std::vector<TestAlert> alerts;
  std::vector<TestApproval> approvals;
  std::vector<RecordedHttp> http;
  std::vector<RecordedQuery> prometheus;
  std::vector<RecordedPostgres> postgres;
  std::vector<RecordedRedis> redis;
  std::vector<IncidentExpectation> incidents;
  std::vector<ObjectExpectation> objectsAfter;
  std::vector<RequestExpectation> requests;
};

struct TestFile {
  std::string path;
  std::vector<json> runbooks;  // the Runbook objects, as read
  std::vector<TestCase> tests;
};

// Reads `path`, its Runbook files (relative to it) and checks every field;
// on failure the errors (file:line: path: message), else the file.
struct TestFileResult {
  std::optional<TestFile> file;
  std::vector<api::FileError> errors;
};
TestFileResult readTestFile(const std::string& path);

// `text` with each run of whitespace as one space and none at the ends: how
// a recorded query (SQL, PromQL) is compared with the one a step sends.
std::string collapseSpaces(const std::string& text);

}  // namespace remedy::cli
