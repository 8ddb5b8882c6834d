#include "cli/recorded_postgres.h"

#include <re2/re2.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace remedy::cli {

namespace pg = actions::pg;

struct RecordedPostgresServers::Server {
  RecordedPostgres recorded;
  std::vector<RecordedBackend> backends;  // as they are now
};

namespace {

bool listed(const pg::NameList& list, const std::string& value) {
  return !list || std::find(list->begin(), list->end(), value) != list->end();
}

class RecordedSession : public pg::Session {
 public:
  RecordedSession(std::shared_ptr<RecordedPostgresServers::Server> server,
                  std::shared_ptr<std::mutex> mu, std::shared_ptr<std::vector<std::string>> signals,
                  const kube::Clock& clock, kube::TimePoint start)
      : server_(std::move(server)),
        mu_(std::move(mu)),
        signals_(std::move(signals)),
        clock_(clock),
        start_(start) {}

  std::optional<pg::Failure> list(const pg::BackendFilter& filter, int limit, int queryChars,
                                  pg::Listing* out) override {
    std::lock_guard<std::mutex> lock(*mu_);
    std::vector<const RecordedBackend*> matching;
    for (const auto& b : server_->backends) {
      if (b.backendType != "client backend") continue;
      ++out->total;
      std::optional<pg::Failure> failure;
      if (matches(b, filter, &failure)) matching.push_back(&b);
      if (failure) return failure;
    }
    std::sort(matching.begin(), matching.end(),
              [](const RecordedBackend* a, const RecordedBackend* b) {
                // The oldest query first (the longest running), no query last.
                if (a->runningFor.has_value() != b->runningFor.has_value()) {
                  return a->runningFor.has_value();
                }
                if (a->runningFor && *a->runningFor != *b->runningFor) {
                  return *a->runningFor > *b->runningFor;
                }
                return a->pid < b->pid;
              });
    out->matched = static_cast<long long>(matching.size());
    for (const RecordedBackend* b : matching) {
      if (auto s = seconds(*b); s && (!out->oldest || *s > *out->oldest)) out->oldest = s;
    }
    for (size_t i = 0; i < matching.size() && i < static_cast<size_t>(limit); ++i) {
      out->backends.push_back(backend(*matching[i], queryChars));
    }
    return std::nullopt;
  }

  std::optional<pg::Failure> signal(bool terminate, const pg::BackendFilter& filter,
                                    const pg::Backend& listed, bool* signalled) override {
    std::lock_guard<std::mutex> lock(*mu_);
    *signalled = false;
    auto& backends = server_->backends;
    for (auto it = backends.begin(); it != backends.end(); ++it) {
      if (std::to_string(it->pid) != listed.pid) continue;
      pg::Backend now = backend(*it, 0);
      std::optional<pg::Failure> failure;
      if (it->backendType != "client backend" || now.queryStart != listed.queryStart ||
          !matches(*it, filter, &failure)) {
        return failure;
      }
      if (!it->signalError.empty()) return pg::Failure{false, it->signalError};
      std::string host = server_->recorded.host.empty() ? "any host" : server_->recorded.host;
      signals_->push_back(std::string(terminate ? "terminate " : "cancel ") + listed.pid + " (" +
                          host + ")");
      if (terminate) {
        backends.erase(it);
      } else {
        // The query ends; the session stays, idle.
        it->state = "idle";
      }
      *signalled = true;
      return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<pg::Failure> roleRefusal(std::string* role, std::string* refusal) override {
    *role = server_->recorded.role;
    *refusal = server_->recorded.roleRefusal;
    return std::nullopt;
  }

  std::optional<pg::Failure> readOnlyQuery(const std::string& sql,
                                           const std::vector<std::optional<std::string>>&,
                                           int maxRows, pg::QueryRows* out) override {
    std::string wanted = collapseSpaces(sql);
    for (const auto& answer : server_->recorded.queries) {
      if (collapseSpaces(answer.sql) != wanted) continue;
      if (!answer.error.empty()) return pg::Failure{false, answer.error};
      out->columns = answer.columns;
      out->columnCount = answer.columns.size();
      for (const auto& row : answer.rows) {
        if (out->rows.size() == static_cast<size_t>(maxRows)) {
          out->truncated = true;
          break;
        }
        out->rows.push_back(row);
      }
      return std::nullopt;
    }
    return pg::Failure{false, "no recorded answer for the query \"" + wanted +
                                  "\" in the test file (postgres.queries)"};
  }

 private:
  std::optional<double> seconds(const RecordedBackend& b) const {
    if (!b.runningFor) return std::nullopt;
    auto age = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - start_) +
               std::chrono::duration_cast<std::chrono::milliseconds>(*b.runningFor);
    return static_cast<double>(age.count()) / 1000.0;
  }

  bool matches(const RecordedBackend& b, const pg::BackendFilter& f,
               std::optional<pg::Failure>* failure) const {
    if (b.superuser && !f.allowSuperusers) return false;
    if (f.olderThanSeconds) {
      auto s = seconds(b);
      if (!s || *s < *f.olderThanSeconds) return false;
    }
    if (!listed(f.states, b.state) || !listed(f.databases, b.database) ||
        !listed(f.users, b.user) || !listed(f.applicationNames, b.applicationName)) {
      return false;
    }
    if (f.queryPattern) {
      RE2 pattern(*f.queryPattern, RE2::Quiet);
      if (!pattern.ok()) {
        *failure = pg::Failure{false, "invalid regular expression: " + pattern.error()};
        return false;
      }
      if (!RE2::PartialMatch(b.query, pattern)) return false;
    }
    return true;
  }

  pg::Backend backend(const RecordedBackend& b, int queryChars) const {
    pg::Backend out;
    out.pid = std::to_string(b.pid);
    out.user = b.user;
    out.database = b.database;
    out.application = b.applicationName;
    out.client = b.client.empty() ? "local" : b.client;
    out.state = b.state;
    out.seconds = seconds(b);
    out.wait = b.wait;
    out.query = queryChars > 0 && b.query.size() > static_cast<size_t>(queryChars)
                    ? b.query.substr(0, static_cast<size_t>(queryChars))
                    : b.query;
    out.backendStart = "-" + std::to_string(b.pid);
    if (b.runningFor) {
      out.queryStart = std::to_string(
          -std::chrono::duration_cast<std::chrono::milliseconds>(*b.runningFor).count());
    }
    return out;
  }

  std::shared_ptr<RecordedPostgresServers::Server> server_;
  std::shared_ptr<std::mutex> mu_;
  std::shared_ptr<std::vector<std::string>> signals_;
  const kube::Clock& clock_;
  kube::TimePoint start_;
};

}  // namespace

RecordedPostgresServers::RecordedPostgresServers(const std::vector<RecordedPostgres>& servers,
                                                 const kube::Clock& clock, kube::TimePoint start)
    : clock_(clock),
      start_(start),
      mu_(std::make_shared<std::mutex>()),
      signals_(std::make_shared<std::vector<std::string>>()) {
  for (const auto& s : servers) {
    auto server = std::make_shared<Server>();
    server->recorded = s;
    server->backends = s.backends;
    servers_.push_back(std::move(server));
  }
}

std::unique_ptr<pg::Session> RecordedPostgresServers::connect(const std::string& conninfo,
                                                              const pg::ConnectOptions& options,
                                                              pg::Failure* failure) {
  auto host = pg::connectionHost(conninfo);
  if (!host) {
    failure->message = options.where + " is not a valid libpq connection string";
    return nullptr;
  }
  std::shared_ptr<Server> chosen;
  for (const auto& s : servers_) {
    if (s->recorded.host == *host) chosen = s;
    if (s->recorded.host.empty() && !chosen) chosen = s;
  }
  if (!chosen) {
    failure->message = options.where + ": no recorded server for the host \"" + *host +
                       "\" in the test file (postgres)";
    return nullptr;
  }
  if (!chosen->recorded.error.empty()) {
    failure->retriable = true;
    failure->message = options.where + ": cannot connect: " + chosen->recorded.error;
    return nullptr;
  }
  return std::make_unique<RecordedSession>(chosen, mu_, signals_, clock_, start_);
}

std::vector<std::string> RecordedPostgresServers::signals() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return *signals_;
}

}  // namespace remedy::cli
