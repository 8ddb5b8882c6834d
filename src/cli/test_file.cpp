#include "cli/test_file.h"

#include "api/yaml_json.h"
#include "formats/json_pointer.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace remedy::cli {
namespace {

std::string typeName(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a mapping";
  return "null";
}

// One value of the file, where it is, and what to call it in errors.
struct Node {
  const json* value;
  std::string pointer;  // JSON pointer, for its line
  std::string path;     // tests[0].alerts[1].at, for the message

  const json& operator*() const { return *value; }
  const json* operator->() const { return value; }
};

class Reader {
 public:
  Reader(const api::YamlDocument& doc, std::string file, std::vector<api::FileError>* errors)
      : doc_(doc), file_(std::move(file)), errors_(errors) {}

  Node root() const { return {&doc_.json, "", ""}; }

  int line(const Node& n) const { return doc_.lineOf(n.pointer); }
  FilePlace place(const Node& n) const { return {file_, line(n)}; }

  void error(const Node& n, const std::string& message) {
    errors_->push_back({file_, line(n), n.path, message});
  }

  std::optional<Node> child(const Node& n, const std::string& key) const {
    if (!n->is_object() || !n->contains(key)) return std::nullopt;
    return Node{&(*n.value)[key], n.pointer + "/" + formats::escapeJsonPointerToken(key),
                n.path.empty() ? key : n.path + "." + key};
  }

  std::vector<Node> items(const Node& n) {
    std::vector<Node> out;
    if (!n->is_array()) {
      error(n, "must be a list, not " + typeName(*n));
      return out;
    }
    for (size_t i = 0; i < n->size(); ++i) {
      out.push_back(Node{&(*n.value)[i], n.pointer + "/" + std::to_string(i),
                         n.path + "[" + std::to_string(i) + "]"});
    }
    return out;
  }

  // The mapping's keys that are not in `known`: each an error.
  bool mapping(const Node& n, const std::set<std::string>& known) {
    if (!n->is_object()) {
      error(n, "must be a mapping, not " + typeName(*n));
      return false;
    }
    bool ok = true;
    for (auto it = n->begin(); it != n->end(); ++it) {
      if (known.count(it.key())) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      error(*child(n, it.key()), "unknown field \"" + it.key() + "\" (known: " + list + ")");
      ok = false;
    }
    return ok;
  }

  std::optional<std::string> string(const Node& n, const std::string& key, bool required) {
    auto c = child(n, key);
    if (!c) {
      if (required) error(n, missing(key));
      return std::nullopt;
    }
    if ((*c)->is_string()) return (*c)->get<std::string>();
    // A number or a boolean reads as its text, as label values do.
    if ((*c)->is_number() || (*c)->is_boolean()) return (*c)->dump();
    error(*c, "must be a string, not " + typeName(**c));
    return std::nullopt;
  }

  std::optional<api::Duration> duration(const Node& n, const std::string& key) {
    auto c = child(n, key);
    if (!c) return std::nullopt;
    std::string text;
    if ((*c)->is_string()) {
      text = (*c)->get<std::string>();
    } else if ((*c)->is_number_integer() && (*c)->get<int64_t>() == 0) {
      text = "0s";
    } else {
      error(*c, "must be a duration such as 30s, 5m or 1h30m, not " + typeName(**c));
      return std::nullopt;
    }
    auto d = api::parseDuration(text);
    if (!d.ok()) {
      error(*c, "\"" + text + "\" is not a duration such as 30s, 5m or 1h30m");
      return std::nullopt;
    }
    return *d;
  }

  std::map<std::string, std::string> stringMap(const Node& n, const std::string& key) {
    std::map<std::string, std::string> out;
    auto c = child(n, key);
    if (!c) return out;
    if (!(*c)->is_object()) {
      error(*c, "must be a mapping of strings, not " + typeName(**c));
      return out;
    }
    for (auto it = (*c)->begin(); it != (*c)->end(); ++it) {
      if (auto v = string(*c, it.key(), true)) out[it.key()] = *v;
    }
    return out;
  }

  // A mapping whose null values mean "absent".
  std::map<std::string, std::optional<std::string>> expectedMap(const Node& n,
                                                                const std::string& key) {
    std::map<std::string, std::optional<std::string>> out;
    auto c = child(n, key);
    if (!c) return out;
    if (!(*c)->is_object()) {
      error(*c, "must be a mapping (a null value: the key must be absent), not " + typeName(**c));
      return out;
    }
    for (auto it = (*c)->begin(); it != (*c)->end(); ++it) {
      if (it.value().is_null()) {
        out[it.key()] = std::nullopt;
      } else if (auto v = string(*c, it.key(), true)) {
        out[it.key()] = *v;
      }
    }
    return out;
  }

  std::vector<std::string> stringList(const Node& n) {
    std::vector<std::string> out;
    for (const auto& item : items(n)) {
      if (item->is_string()) {
        out.push_back(item->get<std::string>());
      } else {
        error(item, "must be a string, not " + typeName(*item));
      }
    }
    return out;
  }

  std::optional<std::string> oneOf(const Node& n, const std::string& key,
                                   const std::vector<std::string>& values, bool required) {
    auto v = string(n, key, required);
    if (!v) return std::nullopt;
    if (std::find(values.begin(), values.end(), *v) != values.end()) return v;
    std::string list;
    for (const auto& s : values) list += (list.empty() ? "" : ", ") + s;
    error(*child(n, key), "\"" + *v + "\" is not one of " + list);
    return std::nullopt;
  }

  static std::string missing(const std::string& key) {
    return "required field \"" + key + "\" is missing";
  }

 private:
  const api::YamlDocument& doc_;
  std::string file_;
  std::vector<api::FileError>* errors_;
};

std::string directoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::vector<std::string> kStepPhases = {
    "Pending", "AwaitingApproval", "Running", "Succeeded", "Failed", "Skipped", "Cancelled"};
const std::vector<std::string> kIncidentPhases = {"Pending",   "AwaitingApproval", "Running",
                                                  "Succeeded", "Failed",           "Escalated",
                                                  "Skipped",   "Cancelled"};

void readAlerts(Reader& r, const Node& test, TestCase& tc) {
  auto alerts = r.child(test, "alerts");
  if (!alerts) {
    r.error(test, Reader::missing("alerts"));
    return;
  }
  for (const auto& a : r.items(*alerts)) {
    if (!r.mapping(a, {"at", "name", "labels", "annotations", "resolveAt"})) continue;
    TestAlert alert;
    alert.at = r.duration(a, "at").value_or(api::Duration(0));
    alert.labels = r.stringMap(a, "labels");
    alert.annotations = r.stringMap(a, "annotations");
    auto name = r.string(a, "name", false);
    if (name) {
      alert.name = *name;
    } else if (alert.labels.count("alertname")) {
      alert.name = alert.labels["alertname"];
    } else {
      r.error(a, "required field \"name\" is missing (or give labels.alertname)");
    }
    if (!alert.labels.count("alertname")) alert.labels["alertname"] = alert.name;
    alert.resolveAt = r.duration(a, "resolveAt");
    if (alert.resolveAt && *alert.resolveAt < alert.at) {
      r.error(*r.child(a, "resolveAt"), "comes before the alert fires (at)");
    }
    tc.alerts.push_back(alert);
  }
  if (alerts->value->is_array() && alerts->value->empty()) r.error(*alerts, "needs an alert");
}

size_t alertIndex(Reader& r, const Node& n, const TestCase& tc) {
  auto c = r.child(n, "alert");
  if (!c) return 0;
  if (!(*c)->is_number_integer() || (*c)->get<int64_t>() < 0 ||
      (*c)->get<size_t>() >= tc.alerts.size()) {
    r.error(*c, "must be the index of one of the test's alerts (0 to " +
                    std::to_string(tc.alerts.empty() ? 0 : tc.alerts.size() - 1) + ")");
    return 0;
  }
  return (*c)->get<size_t>();
}

void readApprovals(Reader& r, const Node& test, TestCase& tc) {
  auto approvals = r.child(test, "approvals");
  if (!approvals) return;
  for (const auto& a : r.items(*approvals)) {
    if (!r.mapping(a, {"at", "alert", "step", "decision", "approver", "groups"})) continue;
    TestApproval approval;
    approval.at = r.duration(a, "at").value_or(api::Duration(0));
    approval.alert = alertIndex(r, a, tc);
    approval.step = r.string(a, "step", true).value_or("");
    approval.decision = r.oneOf(a, "decision", {"Approve", "Reject"}, false).value_or("Approve");
    approval.approver = r.string(a, "approver", false).value_or("oncall@example.com");
    if (auto g = r.child(a, "groups")) {
      approval.groups = r.stringList(*g);
    } else {
      approval.groups = {"system:authenticated"};
    }
    tc.approvals.push_back(approval);
  }
}

void readHttp(Reader& r, const Node& test, TestCase& tc) {
  auto http = r.child(test, "http");
  if (!http) return;
  for (const auto& h : r.items(*http)) {
    if (!r.mapping(h, {"method", "url", "status", "body", "headers", "error", "responses"}))
      continue;
    RecordedHttp rec;
    rec.method = r.string(h, "method", false).value_or("");
    rec.url = r.string(h, "url", true).value_or("");
    auto answer = [&](const Node& n) {
      RecordedHttp::Answer a;
      if (auto s = r.child(n, "status")) {
        if ((*s)->is_number_integer() && (*s)->get<int>() >= 100 && (*s)->get<int>() <= 599) {
          a.status = (*s)->get<int>();
        } else {
          r.error(*s, "must be an HTTP status code (100 to 599)");
        }
      }
      a.body = r.string(n, "body", false).value_or("");
      for (const auto& [k, v] : r.stringMap(n, "headers")) a.headers.emplace_back(k, v);
      a.error = r.string(n, "error", false).value_or("");
      return a;
    };
    if (auto responses = r.child(h, "responses")) {
      for (const auto& item : r.items(*responses)) {
        if (r.mapping(item, {"status", "body", "headers", "error"}))
          rec.answers.push_back(answer(item));
      }
      if ((*responses)->is_array() && (*responses)->empty())
        r.error(*responses, "needs a response");
      for (const char* k : {"status", "body", "headers", "error"}) {
        if (auto c = r.child(h, k)) r.error(*c, "give either responses or a single answer");
      }
    } else {
      rec.answers.push_back(answer(h));
    }
    tc.http.push_back(rec);
  }
}

void readPrometheus(Reader& r, const Node& test, TestCase& tc) {
  auto prom = r.child(test, "prometheus");
  if (!prom) return;
  auto points = [&](const Node& n, RecordedSeries& s) {
    auto values = r.child(n, "values");
    if (!values) {
      r.error(n, Reader::missing("values"));
      return;
    }
    api::Duration last(-1);
    for (const auto& p : r.items(*values)) {
      if (!r.mapping(p, {"at", "value"})) continue;
      api::Duration at = r.duration(p, "at").value_or(api::Duration(0));
      auto v = r.child(p, "value");
      if (!v || !(*v)->is_number()) {
        r.error(v ? *v : p, v ? "must be a number" : Reader::missing("value"));
        continue;
      }
      if (at <= last) r.error(p, "the points must be in ascending order of `at`");
      last = at;
      s.points.emplace_back(at, (*v)->get<double>());
    }
  };
  for (const auto& q : r.items(*prom)) {
    if (!r.mapping(q, {"query", "series", "values", "labels"})) continue;
    RecordedQuery rec;
    rec.query = r.string(q, "query", true).value_or("");
    if (auto series = r.child(q, "series")) {
      for (const auto& s : r.items(*series)) {
        if (!r.mapping(s, {"labels", "values"})) continue;
        RecordedSeries one;
        one.labels = r.stringMap(s, "labels");
        points(s, one);
        rec.series.push_back(one);
      }
      if (r.child(q, "values")) r.error(*r.child(q, "values"), "give either series or values");
    } else {
      RecordedSeries one;
      one.labels = r.stringMap(q, "labels");
      points(q, one);
      rec.series.push_back(one);
    }
    tc.prometheus.push_back(rec);
  }
}

void readPostgres(Reader& r, const Node& test, TestCase& tc) {
  auto servers = r.child(test, "postgres");
  if (!servers) return;
  std::set<std::string> hosts;
  for (const auto& s : r.items(*servers)) {
    if (!r.mapping(s, {"host", "role", "roleRefusal", "error", "backends", "queries"})) continue;
    RecordedPostgres rec;
    rec.host = r.string(s, "host", false).value_or("");
    if (!hosts.insert(rec.host).second) {
      r.error(s, rec.host.empty() ? "another server has no host"
                                  : "another server has the host \"" + rec.host + "\"");
    }
    rec.role = r.string(s, "role", false).value_or(rec.role);
    rec.roleRefusal = r.string(s, "roleRefusal", false).value_or("");
    rec.error = r.string(s, "error", false).value_or("");
    std::set<int> pids;
    if (auto backends = r.child(s, "backends")) {
      for (const auto& b : r.items(*backends)) {
        if (!r.mapping(b, {"pid", "user", "database", "applicationName", "client", "state", "query",
                           "wait", "backendType", "superuser", "runningFor", "signalError"}))
          continue;
        RecordedBackend one;
        auto pid = r.child(b, "pid");
        if (!pid) {
          r.error(b, Reader::missing("pid"));
        } else if (!(*pid)->is_number_integer() || (*pid)->get<int64_t>() <= 0 ||
                   (*pid)->get<int64_t>() > 4194304) {
          r.error(*pid, "must be a process id (1 to 4194304)");
        } else {
          one.pid = (*pid)->get<int>();
          if (!pids.insert(one.pid).second) r.error(*pid, "another backend has this pid");
        }
        one.user = r.string(b, "user", false).value_or("");
        one.database = r.string(b, "database", false).value_or("");
        one.applicationName = r.string(b, "applicationName", false).value_or("");
        one.client = r.string(b, "client", false).value_or("");
        one.state = r.string(b, "state", false).value_or(one.state);
        one.query = r.string(b, "query", false).value_or("");
        one.wait = r.string(b, "wait", false).value_or("");
        one.backendType = r.string(b, "backendType", false).value_or(one.backendType);
        if (auto su = r.child(b, "superuser")) {
          if ((*su)->is_boolean()) {
            one.superuser = (*su)->get<bool>();
          } else {
            r.error(*su, "must be true or false");
          }
        }
        one.runningFor = r.duration(b, "runningFor");
        one.signalError = r.string(b, "signalError", false).value_or("");
        rec.backends.push_back(one);
      }
    }
    if (auto queries = r.child(s, "queries")) {
      for (const auto& q : r.items(*queries)) {
        if (!r.mapping(q, {"sql", "columns", "rows", "error"})) continue;
        RecordedSqlAnswer answer;
        answer.sql = r.string(q, "sql", true).value_or("");
        answer.error = r.string(q, "error", false).value_or("");
        if (auto columns = r.child(q, "columns")) answer.columns = r.stringList(*columns);
        if (auto rows = r.child(q, "rows")) {
          for (const auto& row : r.items(*rows)) {
            std::vector<std::optional<std::string>> values;
            for (const auto& v : r.items(row)) {
              if (v->is_null()) {
                values.emplace_back(std::nullopt);
              } else if (v->is_string()) {
                values.emplace_back(v->get<std::string>());
              } else if (v->is_number() || v->is_boolean()) {
                // As PostgreSQL's text output writes them.
                values.emplace_back(v->is_boolean() ? (v->get<bool>() ? "t" : "f") : v->dump());
              } else {
                r.error(v, "must be a string, a number, a boolean or null, not " + typeName(*v));
              }
            }
            if (row->is_array() && values.size() != answer.columns.size()) {
              r.error(row, "has " + std::to_string(values.size()) + " values for " +
                               std::to_string(answer.columns.size()) + " columns");
            }
            answer.rows.push_back(std::move(values));
          }
        }
        if (answer.error.empty() && answer.columns.empty()) {
          r.error(q, "needs columns (and rows), or an error");
        }
        rec.queries.push_back(std::move(answer));
      }
    }
    tc.postgres.push_back(std::move(rec));
  }
}

// At most this many keys in one server's keyspace.
constexpr size_t kMaxRecordedKeys = 1000000;

void readRedis(Reader& r, const Node& test, TestCase& tc) {
  auto servers = r.child(test, "redis");
  if (!servers) return;
  std::set<std::string> hosts;
  for (const auto& s : r.items(*servers)) {
    if (!r.mapping(s, {"host", "password", "error", "info", "config", "keys", "slowlog"})) {
      continue;
    }
    RecordedRedis rec;
    rec.host = r.string(s, "host", false).value_or("");
    if (!hosts.insert(rec.host).second) {
      r.error(s, rec.host.empty() ? "another server has no host"
                                  : "another server has the host \"" + rec.host + "\"");
    }
    rec.password = r.string(s, "password", false).value_or("");
    rec.error = r.string(s, "error", false).value_or("");
    if (auto info = r.child(s, "info")) {
      if (!(*info)->is_object()) {
        r.error(*info, "must be a mapping of sections (memory, stats, ...) to their fields");
      } else {
        for (auto it = (*info)->begin(); it != (*info)->end(); ++it) {
          rec.info[it.key()] = r.stringMap(*info, it.key());
        }
      }
    }
    rec.config = r.stringMap(s, "config");
    std::set<std::string> seen;
    auto add = [&](const Node& where, const std::string& key) {
      if (!seen.insert(key).second) {
        r.error(where, "the key \"" + key + "\" is given twice");
      } else {
        rec.keys.push_back(key);
      }
    };
    // MEMORY USAGE's answer for a key: `bytes`, a whole number of bytes.
    auto bytes = [&](const Node& k) -> std::optional<long long> {
      auto b = r.child(k, "bytes");
      if (!b) return std::nullopt;
      if (!(*b)->is_number_integer() || (*b)->get<int64_t>() < 0 ||
          (*b)->get<int64_t>() > (int64_t{1} << 40)) {
        r.error(*b, "must be a number of bytes (0 to 2^40)");
        return std::nullopt;
      }
      return (*b)->get<int64_t>();
    };
    if (auto keys = r.child(s, "keys")) {
      for (const auto& k : r.items(*keys)) {
        if (k->is_string()) {
          add(k, k->get<std::string>());
          continue;
        }
        if (k->is_object() && k->contains("key")) {
          // {key: "report:2024", bytes: 1048576}
          if (!r.mapping(k, {"key", "bytes"})) continue;
          std::string key = r.string(k, "key", true).value_or("");
          add(k, key);
          if (auto b = bytes(k)) rec.keyBytes[key] = *b;
          continue;
        }
        // {prefix: "expired:", count: 2500}: expired:1 to expired:2500.
        if (!r.mapping(k, {"prefix", "count", "bytes"})) continue;
        std::string prefix = r.string(k, "prefix", true).value_or("");
        auto count = r.child(k, "count");
        if (!count || !(*count)->is_number_integer() || (*count)->get<int64_t>() < 1 ||
            (*count)->get<int64_t>() > static_cast<int64_t>(kMaxRecordedKeys)) {
          r.error(count ? *count : k,
                  count ? "must be a number of keys (1 to 1000000)" : Reader::missing("count"));
          continue;
        }
        auto each = bytes(k);
        for (int64_t i = 1; i <= (*count)->get<int64_t>(); ++i) {
          add(k, prefix + std::to_string(i));
          if (each) rec.keyBytes[prefix + std::to_string(i)] = *each;
        }
      }
      if (rec.keys.size() > kMaxRecordedKeys) r.error(*keys, "more than 1000000 keys");
    }
    if (auto slowlog = r.child(s, "slowlog")) {
      api::Duration last(-1);
      for (const auto& e : r.items(*slowlog)) {
        if (!r.mapping(e, {"at", "durationMicroseconds", "command", "client", "clientName"})) {
          continue;
        }
        RecordedSlowlogEntry entry;
        entry.at = r.duration(e, "at").value_or(api::Duration(0));
        if (entry.at < last) r.error(e, "the entries must be in ascending order of `at`");
        last = entry.at;
        auto micros = r.child(e, "durationMicroseconds");
        if (!micros || !(*micros)->is_number_integer() || (*micros)->get<int64_t>() < 0) {
          r.error(micros ? *micros : e, micros ? "must be a number of microseconds"
                                               : Reader::missing("durationMicroseconds"));
        } else {
          entry.durationMicroseconds = (*micros)->get<int64_t>();
        }
        if (auto command = r.child(e, "command")) {
          entry.command = r.stringList(*command);
          if (entry.command.empty()) r.error(*command, "must name the command");
        } else {
          r.error(e, Reader::missing("command"));
        }
        entry.client = r.string(e, "client", false).value_or("");
        entry.clientName = r.string(e, "clientName", false).value_or("");
        rec.slowlog.push_back(std::move(entry));
      }
    }
    tc.redis.push_back(std::move(rec));
  }
}

void readStepExpectations(Reader& r, const Node& n, IncidentExpectation& e) {
  auto steps = r.child(n, "steps");
  if (!steps) return;
  for (const auto& s : r.items(*steps)) {
    if (!r.mapping(s, {"name", "phase", "when", "outputs", "messageContains", "revert"})) continue;
    StepExpectation step;
    step.place = r.place(s);
    step.name = r.string(s, "name", true).value_or("");
    step.phase = r.oneOf(s, "phase", kStepPhases, false);
    if (auto w = r.child(s, "when")) {
      if ((*w)->is_boolean()) {
        step.when = (*w)->get<bool>();
      } else {
        r.error(*w, "must be true or false (what the step's `when` evaluated to)");
      }
    }
    step.outputs = r.stringMap(s, "outputs");
    step.messageContains = r.string(s, "messageContains", false);
    step.revert = r.oneOf(s, "revert", {"Pending", "Reverted", "Refused", "Failed"}, false);
    e.steps.push_back(step);
  }
}

void readEscalations(Reader& r, const Node& n, IncidentExpectation& e) {
  auto esc = r.child(n, "escalations");
  if (!esc) return;
  e.escalations.emplace();
  for (const auto& x : r.items(*esc)) {
    if (!r.mapping(x, {"name", "at", "state"})) continue;
    EscalationExpectation one;
    one.place = r.place(x);
    one.name = r.string(x, "name", true).value_or("");
    one.at = r.duration(x, "at");
    one.state = r.oneOf(x, "state", {"Pending", "Notified", "Failed"}, false);
    e.escalations->push_back(one);
  }
}

IncidentExpectation readIncidentExpectation(Reader& r, const Node& n, const TestCase& tc) {
  IncidentExpectation e;
  e.place = r.place(n);
  e.alert = alertIndex(r, n, tc);
  e.phase = r.oneOf(n, "phase", kIncidentPhases, false);
  readStepExpectations(r, n, e);
  if (auto run = r.child(n, "stepsRun")) e.stepsRun = r.stringList(*run);
  readEscalations(r, n, e);
  return e;
}

void readObjectExpectations(Reader& r, const Node& n, TestCase& tc) {
  auto objects = r.child(n, "objects");
  if (!objects) return;
  for (const auto& o : r.items(*objects)) {
    if (!r.mapping(o, {"apiVersion", "kind", "name", "namespace", "absent", "replicas",
                       "annotations", "labels", "data", "image"}))
      continue;
    ObjectExpectation x;
    x.place = r.place(o);
    x.kind = r.string(o, "kind", true).value_or("");
    x.name = r.string(o, "name", true).value_or("");
    x.namespace_ = r.string(o, "namespace", false).value_or("");
    std::string defaultVersion = "v1";
    if (x.kind == "Deployment" || x.kind == "StatefulSet" || x.kind == "DaemonSet" ||
        x.kind == "ReplicaSet") {
      defaultVersion = "apps/v1";
    } else if (x.kind == "Job") {
      defaultVersion = "batch/v1";
    }
    x.apiVersion = r.string(o, "apiVersion", false).value_or(defaultVersion);
    if (auto a = r.child(o, "absent")) x.absent = (*a)->is_boolean() && (*a)->get<bool>();
    if (auto rep = r.child(o, "replicas")) {
      if ((*rep)->is_number_integer()) {
        x.replicas = (*rep)->get<int64_t>();
      } else {
        r.error(*rep, "must be an integer");
      }
    }
    x.annotations = r.expectedMap(o, "annotations");
    x.labels = r.expectedMap(o, "labels");
    x.data = r.expectedMap(o, "data");
    x.image = r.string(o, "image", false);
    tc.objectsAfter.push_back(x);
  }
}

void readRequestExpectations(Reader& r, const Node& n, TestCase& tc) {
  auto requests = r.child(n, "requests");
  if (!requests) return;
  for (const auto& q : r.items(*requests)) {
    if (!r.mapping(q, {"method", "url", "bodyContains", "count"})) continue;
    RequestExpectation x;
    x.place = r.place(q);
    x.method = r.string(q, "method", false).value_or("");
    x.url = r.string(q, "url", true).value_or("");
    x.bodyContains = r.string(q, "bodyContains", false);
    if (auto c = r.child(q, "count")) {
      if ((*c)->is_number_integer() && (*c)->get<int64_t>() >= 0) {
        x.count = (*c)->get<int>();
      } else {
        r.error(*c, "must be a number of requests (0 or more)");
      }
    }
    tc.requests.push_back(x);
  }
}

const std::set<std::string> kIncidentKeys = {"alert",       "phase",   "steps",    "stepsRun",
                                             "escalations", "objects", "requests", "incidents"};

void readExpect(Reader& r, const Node& test, TestCase& tc) {
  auto expect = r.child(test, "expect");
  if (!expect) {
    r.error(test, Reader::missing("expect"));
    return;
  }
  if (!r.mapping(*expect, kIncidentKeys)) return;
  if (auto incidents = r.child(*expect, "incidents")) {
    for (const auto& i : r.items(*incidents)) {
      if (!r.mapping(i, {"alert", "phase", "steps", "stepsRun", "escalations"})) continue;
      tc.incidents.push_back(readIncidentExpectation(r, i, tc));
    }
  }
  bool top = false;
  for (const char* k : {"alert", "phase", "steps", "stepsRun", "escalations"}) {
    if (r.child(*expect, k)) top = true;
  }
  if (top) tc.incidents.push_back(readIncidentExpectation(r, *expect, tc));
  readObjectExpectations(r, *expect, tc);
  readRequestExpectations(r, *expect, tc);
}

void readObjects(Reader& r, const Node& test, TestCase& tc) {
  auto objects = r.child(test, "objects");
  if (!objects) return;
  for (const auto& o : r.items(*objects)) {
    if (!o->is_object()) {
      r.error(o, "must be a Kubernetes object (a mapping), not " + typeName(*o));
      continue;
    }
    bool ok = true;
    for (const char* k : {"apiVersion", "kind"}) {
      auto v = r.string(o, k, true);
      ok = ok && v.has_value();
    }
    auto meta = r.child(o, "metadata");
    if (!meta || !r.string(*meta, "name", true)) {
      if (!meta) r.error(o, Reader::missing("metadata"));
      ok = false;
    }
    if (ok) tc.objects.push_back(*o);
  }
}

}  // namespace

std::string collapseSpaces(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

TestFileResult readTestFile(const std::string& path) {
  TestFileResult result;
  auto text = readText(path);
  if (!text) {
    result.errors.push_back({path, 0, "", "cannot be read"});
    return result;
  }
  auto docs = api::parseYamlDocuments(*text);
  if (!docs.ok()) {
    result.errors.push_back({path, 0, "", docs.error()});
    return result;
  }
  if (docs->size() != 1) {
    result.errors.push_back({path, 0, "", "a test file is one YAML document"});
    return result;
  }
  const api::YamlDocument& doc = (*docs)[0];
  for (const auto& p : doc.problems) {
    result.errors.push_back({path, p.line, p.error.path, p.error.message});
  }
  Reader r(doc, path, &result.errors);
  Node root = r.root();
  if (!r.mapping(root, {"runbooks", "tests"})) return result;

  TestFile file;
  file.path = path;
  auto runbooks = r.child(root, "runbooks");
  if (!runbooks) r.error(root, Reader::missing("runbooks"));
  std::set<std::string> namespaces;
  if (runbooks) {
    for (const auto& item : r.items(*runbooks)) {
      if (!item->is_string()) {
        r.error(item, "must be the path of a Runbook file, relative to this file");
        continue;
      }
      std::string rel = item->get<std::string>();
      std::string full = rel.empty() || rel[0] == '/' ? rel : directoryOf(path) + "/" + rel;
      auto problems = api::validateManifestFile(full);
      problems.erase(std::remove_if(problems.begin(), problems.end(),
                                    [](const api::FileError& p) { return p.warning; }),
                     problems.end());
      if (!problems.empty()) {
        for (const auto& p : problems) {
          result.errors.push_back(
              {path, r.line(item), item.path, "Runbook file " + rel + ": " + p.str()});
        }
        continue;
      }
      auto rbText = readText(full);
      auto rbDocs = rbText ? api::parseYamlDocuments(*rbText)
                           : api::Result<std::vector<api::YamlDocument>>(api::Error{"unread"});
      if (!rbDocs.ok()) continue;
      for (const auto& d : *rbDocs) {
        if (d.json.value("kind", "") != "Runbook") continue;
        file.runbooks.push_back(d.json);
        namespaces.insert(d.json["metadata"].value("namespace", "default"));
      }
    }
  }
  auto tests = r.child(root, "tests");
  if (!tests) r.error(root, Reader::missing("tests"));
  std::set<std::string> names;
  if (tests) {
    for (const auto& t : r.items(*tests)) {
      if (!r.mapping(t, {"name", "namespace", "duration", "objects", "alerts", "approvals", "http",
                         "prometheus", "postgres", "redis", "expect"}))
        continue;
      TestCase tc;
      tc.place = r.place(t);
      tc.name = r.string(t, "name", true).value_or("");
      if (!tc.name.empty() && !names.insert(tc.name).second) {
        r.error(*r.child(t, "name"), "another test has the name \"" + tc.name + "\"");
      }
      tc.namespace_ = r.string(t, "namespace", false)
                          .value_or(namespaces.size() == 1 ? *namespaces.begin() : "default");
      tc.duration = r.duration(t, "duration").value_or(tc.duration);
      readObjects(r, t, tc);
      readAlerts(r, t, tc);
      readApprovals(r, t, tc);
      readHttp(r, t, tc);
      readPrometheus(r, t, tc);
      readPostgres(r, t, tc);
      readRedis(r, t, tc);
      readExpect(r, t, tc);
      file.tests.push_back(std::move(tc));
    }
    if ((*tests)->is_array() && (*tests)->empty()) r.error(*tests, "needs a test");
  }
  if (result.errors.empty()) result.file = std::move(file);
  return result;
}

}  // namespace remedy::cli
