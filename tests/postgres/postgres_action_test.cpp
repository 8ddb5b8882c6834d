// The postgres action against a real PostgreSQL 15 (tests/support/
// postgres_server.h) with its connection string in a Secret of the in-process
// sandbox. Every effect is checked from the outside, in pg_stat_activity.
#include "actions/postgres_action.h"

#include "../kube/sandbox_fixture.h"
#include "../support/postgres_server.h"
#include "kube/base64.h"
#include "kube/resource.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <set>

namespace remedy::actions {
namespace {

using kube::testing::SandboxTest;
using remedy::testing::PostgresServer;
using remedy::testing::PostgresSession;
using ::testing::HasSubstr;
using ::testing::Not;
using SessionOptions = PostgresServer::SessionOptions;

// How long a test watches for something that must not happen (a backend
// that was not to be signalled disappearing). The signal, had it been sent,
// was sent before run() returned; a signalled pg_sleep ends within
// milliseconds.
constexpr std::chrono::milliseconds kNotHappening{300};

class PostgresActionTest : public SandboxTest {
 protected:
  // One server per test process: ctest runs each test case as its own process.
  static void SetUpTestSuite() {
    server_ = new PostgresServer;
    startError_ = new std::string(server_->start());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete startError_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(*startError_, "");
    SandboxTest::SetUp();
    putSecret("pg", {{"url", pg().uri(PostgresServer::kOperatorUser)},
                     {"monitor", pg().uri(PostgresServer::kMonitorUser)},
                     {"keyvalue", pg().connectionString(PostgresServer::kOperatorUser)},
                     {"superuser", pg().uri(PostgresServer::kSuperuser)}});
  }

  void TearDown() override {
    // Leave the server as this test found it (the whole binary may run in
    // one process).
    std::vector<int> pids;
    for (auto& s : sessions_) pids.push_back(s->pid());
    sessions_.clear();
    for (int pid : pids) EXPECT_TRUE(pg().waitUntilGone(pid)) << pid;
    SandboxTest::TearDown();
  }

  static PostgresServer& pg() { return *server_; }

  void putSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    json encoded = json::object();
    for (const auto& [k, v] : data) encoded[k] = kube::encodeBase64(v);
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"data", encoded}};
    auto created = client_->create(kube::resources::secrets(), namespace_, secret);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  ActionContext context() {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = "uid/kill/1";
    c.stepKey = "uid/kill";
    c.firstStartedAt = "2024-01-01T00:00:00Z";
    c.defaultNamespace = namespace_;
    return c;
  }

  static json params(const std::string& operation, json filter, const std::string& key = "url",
                     const std::string& secret = "pg") {
    return {{"connection", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}},
            {operation, std::move(filter)}};
  }

  ActionOutcome run(const json& p, bool dryRun = false) {
    auto action = makePostgresAction();
    auto c = context();
    c.dryRun = dryRun;
    return action->run(p, c);
  }

  // Sessions live until the test ends (TearDown closes them).
  PostgresSession* keep(std::unique_ptr<PostgresSession> s) {
    sessions_.push_back(std::move(s));
    return sessions_.back().get();
  }
  int sleeper(SessionOptions options, const std::string& suffix = "") {
    return keep(pg().sleeping(options, 300, suffix))->pid();
  }
  static SessionOptions as(const std::string& user, const std::string& application = "test",
                           const std::string& database = PostgresServer::kDatabase) {
    SessionOptions o;
    o.user = user;
    o.applicationName = application;
    o.database = database;
    return o;
  }
  static SessionOptions app(const std::string& application) {
    return as(PostgresServer::kAppUser, application);
  }

  // Waits until exactly `gone` have left pg_stat_activity, then checks that
  // every pid in `stay` is still there.
  void expectOnlyGone(const std::vector<int>& gone, const std::vector<int>& stay) {
    for (int pid : gone) EXPECT_TRUE(pg().waitUntilGone(pid)) << "pid " << pid << " still there";
    for (int pid : stay) {
      EXPECT_FALSE(pg().waitUntilGone(pid, kNotHappening)) << "pid " << pid << " was terminated";
    }
  }

  static std::string pids(const std::vector<int>& list) {
    std::string out;
    for (int pid : list) out += (out.empty() ? "" : ",") + std::to_string(pid);
    return out;
  }

  static PostgresServer* server_;
  static std::string* startError_;
  std::vector<std::unique_ptr<PostgresSession>> sessions_;
};

PostgresServer* PostgresActionTest::server_ = nullptr;
std::string* PostgresActionTest::startError_ = nullptr;

// ---- terminate, one filter at a time ----

TEST_F(PostgresActionTest, TerminateOlderThanKillsOnlyQueriesRunningLongerThanThat) {
  int old = sleeper(app("worker"));
  ASSERT_TRUE(pg().waitUntilActiveFor(old, 1.2));
  int young = sleeper(app("worker"));
  int idle = keep(pg().idle(app("worker")))->pid();

  auto outcome = run(params("terminateBackends", {{"olderThan", "1s"}, {"states", {"active"}}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(old));
  EXPECT_EQ(outcome.outputs["affected"], "1");
  EXPECT_EQ(outcome.outputs["matched"], "1");
  EXPECT_GE(std::stoi(outcome.outputs["oldestSeconds"]), 1);
  EXPECT_THAT(outcome.message,
              HasSubstr("terminated 1 backend (pid " + std::to_string(old) + "; oldest "));
  expectOnlyGone({old}, {young, idle});
}

TEST_F(PostgresActionTest, TerminateIdleInTransactionLeavesIdleAndActiveSessions) {
  int stuck = keep(pg().idleInTransaction(app("worker")))->pid();
  int idle = keep(pg().idle(app("worker")))->pid();
  int active = sleeper(app("worker"));

  auto outcome = run(params("terminateBackends", {{"states", {"idle in transaction"}}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(stuck));
  expectOnlyGone({stuck}, {idle, active});
}

TEST_F(PostgresActionTest, TerminateByDatabase) {
  int shop = sleeper(as(PostgresServer::kAppUser, "worker", PostgresServer::kOtherDatabase));
  int main = sleeper(as(PostgresServer::kAppUser, "worker", PostgresServer::kDatabase));

  auto outcome =
      run(params("terminateBackends", {{"databases", {PostgresServer::kOtherDatabase}}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(shop));
  expectOnlyGone({shop}, {main});
}

TEST_F(PostgresActionTest, TerminateByUser) {
  int other = sleeper(as(PostgresServer::kOtherUser, "worker"));
  int app = sleeper(as(PostgresServer::kAppUser, "worker"));

  auto outcome = run(params("terminateBackends", {{"users", {PostgresServer::kOtherUser}}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(other));
  expectOnlyGone({other}, {app});
}

TEST_F(PostgresActionTest, TerminateByApplicationName) {
  int batch1 = sleeper(app("batch"));
  int batch2 = keep(pg().idle(app("batch")))->pid();
  int web = sleeper(app("web"));

  auto outcome = run(params("terminateBackends", {{"applicationNames", {"batch", "cron"}}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["affected"], "2");
  // Oldest first.
  EXPECT_EQ(outcome.outputs["pids"], pids({batch1, batch2}));
  expectOnlyGone({batch1, batch2}, {web});
}

TEST_F(PostgresActionTest, TerminateByQueryPattern) {
  int report = sleeper(app("worker"), " AS nightly_report");
  int other = sleeper(app("worker"), " AS checkout");

  auto outcome = run(params("terminateBackends", {{"queryPattern", "nightly_rep[o]rt$"}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(report));
  expectOnlyGone({report}, {other});
}

TEST_F(PostgresActionTest, KeyValueConnectionStringsWorkToo) {
  int batch = sleeper(app("batch"));
  auto outcome = run(params("terminateBackends", {{"applicationNames", {"batch"}}}, "keyvalue"));
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  expectOnlyGone({batch}, {});
}

// ---- what is never touched ----

TEST_F(PostgresActionTest, NeverTerminatesSuperuserSessions) {
  // Connected as a superuser, so PostgreSQL itself would allow it.
  int superuser = sleeper(as(PostgresServer::kSuperuser, "batch"));
  int plain = sleeper(app("batch"));

  auto outcome = run(params("terminateBackends", {{"applicationNames", {"batch"}}}, "superuser"));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(plain));
  EXPECT_EQ(outcome.outputs["matched"], "1");
  expectOnlyGone({plain}, {superuser});
}

TEST_F(PostgresActionTest, AllowSuperusersTerminatesTheirSessionsToo) {
  int superuser = sleeper(as(PostgresServer::kSuperuser, "batch"));
  int plain = sleeper(app("batch"));

  auto outcome =
      run(params("terminateBackends", {{"applicationNames", {"batch"}}, {"allowSuperusers", true}},
                 "superuser"));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "2");
  expectOnlyGone({superuser, plain}, {});
}

TEST_F(PostgresActionTest, AFailureAfterSomeTerminationsReportsThemAndARetryAddsItsOwn) {
  // Signalled oldest first: the two plain sessions, then the superuser's,
  // which the operator's role (not a superuser) may not terminate.
  int first = sleeper(app("batch"));
  int second = sleeper(app("batch"));
  int superuser = sleeper(as(PostgresServer::kSuperuser, "batch"));
  json p = params("terminateBackends", {{"applicationNames", {"batch"}},
                                        {"allowSuperusers", true},
                                        {"whenMoreMatch", "OldestFirst"}});

  auto failed = run(p);

  ASSERT_EQ(failed.kind, OutcomeKind::kPermanentFailure) << failed.message;
  EXPECT_THAT(failed.message, HasSubstr("terminated 2 backends"));
  EXPECT_THAT(failed.message, HasSubstr("pid " + std::to_string(superuser) + " failed"));
  EXPECT_EQ(failed.outputs["affected"], "2");
  EXPECT_EQ(failed.outputs["pids"], pids({first, second}));
  expectOnlyGone({first, second}, {superuser});

  // The engine hands a retry what the failed attempt did; the retry's own
  // terminations join it.
  int third = sleeper(app("batch"));
  auto action = makePostgresAction();
  auto c = context();
  c.baseline = failed.outputs;
  auto retried = action->run(params("terminateBackends", {{"applicationNames", {"batch"}}}), c);

  ASSERT_EQ(retried.kind, OutcomeKind::kSucceeded) << retried.message;
  EXPECT_EQ(retried.outputs["affected"], "3");
  EXPECT_EQ(retried.outputs["pids"], pids({first, second, third}));
  EXPECT_THAT(retried.message, HasSubstr("an earlier attempt terminated 2 backends"));
  expectOnlyGone({third}, {superuser});
}

TEST_F(PostgresActionTest, NeverTerminatesItsOwnSession) {
  // Its own session is the only one named "remedy" (and, had it been signalled,
  // the step would have failed with its connection).
  auto outcome = run(params("terminateBackends", {{"applicationNames", {"remedy"}}}));
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "0");
  EXPECT_THAT(pg().log(), HasSubstr("user=remedy_op database=postgres application_name=remedy"));
}

TEST_F(PostgresActionTest, NeverTerminatesBackendsOtherThanClientBackends) {
  SessionOptions walsender = as(PostgresServer::kReplicationUser, "batch");
  walsender.replication = true;
  int pid = keep(pg().session(walsender))->pid();
  ASSERT_EQ(pg().backendType(pid), std::optional<std::string>("walsender"));

  auto outcome = run(params("terminateBackends", {{"users", {PostgresServer::kReplicationUser}},
                                                  {"applicationNames", {"batch"}}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "0");
  expectOnlyGone({}, {pid});
}

TEST_F(PostgresActionTest, MoreMatchesThanMaxCountFailsAndTerminatesNone) {
  std::vector<int> batch = {sleeper(app("batch")), sleeper(app("batch")), sleeper(app("batch"))};

  auto outcome =
      run(params("terminateBackends", {{"applicationNames", {"batch"}}, {"maxCount", 2}}));

  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_THAT(outcome.message, HasSubstr("3 backends match, more than maxCount 2"));
  EXPECT_THAT(outcome.message, HasSubstr("terminated none"));
  EXPECT_EQ(outcome.outputs["affected"], "0");
  EXPECT_EQ(outcome.outputs["matched"], "3");
  EXPECT_EQ(outcome.outputs["pids"], "");
  expectOnlyGone({}, batch);
}

TEST_F(PostgresActionTest, OldestFirstTerminatesTheOldestMaxCountAndLeavesTheRest) {
  int oldest = sleeper(app("batch"));
  int older = sleeper(app("batch"));
  int youngest = sleeper(app("batch"));

  auto outcome = run(
      params("terminateBackends",
             {{"applicationNames", {"batch"}}, {"maxCount", 2}, {"whenMoreMatch", "OldestFirst"}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "3");
  EXPECT_EQ(outcome.outputs["affected"], "2");
  expectOnlyGone({oldest, older}, {youngest});
}

TEST_F(PostgresActionTest, WhenMoreMatchAcceptsOnlyItsTwoValues) {
  auto outcome = run(
      params("terminateBackends", {{"applicationNames", {"batch"}}, {"whenMoreMatch", "Newest"}}));
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_THAT(outcome.message,
              HasSubstr("postgres.terminateBackends.whenMoreMatch: \"Newest\" is not one of "
                        "Fail, OldestFirst"));
}

TEST_F(PostgresActionTest, DryRunListsWhatItWouldTerminateAndTerminatesNothing) {
  int first = sleeper(app("batch"));
  int second = sleeper(app("batch"));

  auto outcome = run(params("terminateBackends", {{"applicationNames", {"batch"}}}), true);

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_THAT(outcome.message, HasSubstr("dry run: would terminate 2 backends (pids " +
                                         std::to_string(first) + ", " + std::to_string(second)));
  EXPECT_EQ(outcome.outputs["pids"], pids({first, second}));
  EXPECT_EQ(outcome.outputs["affected"], "0");
  expectOnlyGone({}, {first, second});
}

TEST_F(PostgresActionTest, ARerunFindsTheTerminatedBackendsGoneAndSucceeds) {
  int batch = sleeper(app("batch"));
  json p = params("terminateBackends", {{"applicationNames", {"batch"}}});
  auto first = run(p);
  ASSERT_EQ(first.kind, OutcomeKind::kSucceeded) << first.message;
  ASSERT_TRUE(pg().waitUntilGone(batch));

  auto again = run(p);

  ASSERT_EQ(again.kind, OutcomeKind::kSucceeded) << again.message;
  EXPECT_EQ(again.outputs["affected"], "0");
  EXPECT_EQ(again.outputs["pids"], "");
  EXPECT_THAT(again.message, HasSubstr("no backends match"));
}

// ---- cancel ----

TEST_F(PostgresActionTest, CancelStopsTheQueryAndLeavesTheSessionConnected) {
  PostgresSession* batch = keep(pg().sleeping(app("batch")));
  int web = sleeper(app("web"));

  auto outcome = run(params("cancelBackends", {{"applicationNames", {"batch"}}}, "keyvalue"));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(batch->pid()));
  EXPECT_THAT(outcome.message, HasSubstr("cancelled 1 backend"));
  EXPECT_EQ(batch->waitForResult(), std::optional<std::string>("57014"));  // query_canceled
  EXPECT_TRUE(pg().waitUntilState(batch->pid(), "idle"));
  EXPECT_NO_THROW(batch->run("SELECT 1"));
  EXPECT_EQ(pg().stateOf(web), std::optional<std::string>("active"));
}

// ---- activityReport ----

TEST_F(PostgresActionTest, ActivityReportListsTheOldestBackendsFirstAndCountsTheRest) {
  int oldest = sleeper(app("batch"));
  ASSERT_TRUE(pg().waitUntilActiveFor(oldest, 1.2));
  int stuck = keep(pg().idleInTransaction(
                       as(PostgresServer::kOtherUser, "web", PostgresServer::kOtherDatabase)))
                  ->pid();
  int youngest = sleeper(app("batch"), " /* newest */");
  keep(pg().sleeping(as(PostgresServer::kSuperuser, "admin")));
  size_t clientBackends = pg().clientBackends().size();

  auto outcome = run(params("activityReport", {{"maxCount", 2}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  // Every client backend but the action's own; superusers are counted, not matched.
  EXPECT_EQ(outcome.outputs["total"], std::to_string(clientBackends));
  EXPECT_EQ(outcome.outputs["matched"], "3");
  EXPECT_EQ(outcome.outputs["affected"], "0");
  EXPECT_EQ(outcome.outputs["pids"], pids({oldest, stuck}));
  EXPECT_GE(std::stoi(outcome.outputs["oldestSeconds"]), 1);
  const std::string& report = outcome.outputs["report"];
  EXPECT_THAT(report, HasSubstr("pid"));
  EXPECT_THAT(report, HasSubstr(std::to_string(oldest)));
  EXPECT_THAT(report, HasSubstr("SELECT pg_sleep(300)"));
  EXPECT_THAT(report, HasSubstr("idle in transaction"));
  EXPECT_THAT(report, HasSubstr(PostgresServer::kOtherDatabase));
  EXPECT_THAT(report, HasSubstr("127.0.0.1"));
  EXPECT_THAT(report, HasSubstr("Timeout:PgSleep"));
  EXPECT_THAT(report, Not(HasSubstr(std::to_string(youngest))));
  EXPECT_THAT(report, HasSubstr("... and 1 more"));
  EXPECT_THAT(outcome.message,
              HasSubstr("3 of " + std::to_string(clientBackends) + " client backends match"));
}

TEST_F(PostgresActionTest, ActivityReportOutputsStayUnderFourKilobytes) {
  std::string longQuery = " /* " + std::string(900, 'x') + " */";
  for (int i = 0; i < 30; ++i) sleeper(app("batch-" + std::to_string(i)), longQuery);
  keep(pg().sleeping(app("multi"), 300, " /* line one\n line two */"));

  auto outcome = run(params("activityReport", {{"maxCount", 1000}}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "31");
  size_t size = 0;
  for (const auto& [k, v] : outcome.outputs) size += k.size() + v.size();
  EXPECT_LT(size, 4096u);
  EXPECT_THAT(outcome.outputs["report"], HasSubstr("more\n"));
  EXPECT_THAT(outcome.outputs["report"], Not(HasSubstr(std::string(100, 'x'))));
}

TEST_F(PostgresActionTest, ActivityReportFiltersToo) {
  int batch = sleeper(app("batch"));
  sleeper(app("web"));
  auto outcome = run(params("activityReport", {{"applicationNames", {"batch"}}}));
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "1");
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(batch));
}

// ---- values from templates are parameters, never SQL ----

TEST_F(PostgresActionTest, FilterValuesReachPostgresOnlyAsParameters) {
  pg().exec("CREATE TABLE victims (id int)");
  int batch = sleeper(app("batch"));
  const std::string hostile = "x'; DROP TABLE victims; --";
  for (const json& filter : {json{{"applicationNames", {hostile}}}, json{{"queryPattern", hostile}},
                             json{{"users", {hostile}}}, json{{"databases", {hostile}}}}) {
    auto outcome = run(params("terminateBackends", filter));
    ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << filter.dump() << ": " << outcome.message;
    EXPECT_EQ(outcome.outputs["matched"], "0") << filter.dump();
    EXPECT_EQ(outcome.outputs["affected"], "0") << filter.dump();
  }
  EXPECT_NO_THROW(pg().exec("SELECT count(*) FROM victims"));
  expectOnlyGone({}, {batch});
}

TEST_F(PostgresActionTest, ListValuesAreMatchedExactlyWhateverTheirCharacters) {
  const std::string odd = "a\"b\\c,{d} 'e'";
  int oddOne = sleeper(app(odd));
  int plain = sleeper(app("a"));
  auto outcome = run(params("terminateBackends", {{"applicationNames", {odd}}}), true);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["pids"], std::to_string(oddOne));
  expectOnlyGone({}, {oddOne, plain});
}

TEST_F(PostgresActionTest, AnInvalidRegularExpressionIsAPermanentFailure) {
  auto outcome = run(params("terminateBackends", {{"queryPattern", "(unbalanced"}}));
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_THAT(outcome.message, HasSubstr("regular expression"));
}

// ---- the connection string is a secret ----

TEST_F(PostgresActionTest, ConnectionFailuresNeverRevealTheConnectionString) {
  const std::string password = "S3cr3t-Pa55w0rd";
  int closedPort = remedy::testing::freeLoopbackPort();
  std::map<std::string, std::string> strings = {
      {"refused", "postgresql://app:" + password + "@127.0.0.1:" + std::to_string(closedPort) +
                      "/postgres?sslmode=disable"},
      {"wrongpassword", "postgresql://app:" + password + "@127.0.0.1:" +
                            std::to_string(pg().port()) + "/postgres?sslmode=disable"},
      {"keyvalue", "host=127.0.0.1 port=" + std::to_string(pg().port()) +
                       " user=app password=" + password + " sslmode=disable"},
  };
  putSecret("bad", strings);
  for (const auto& [key, conninfo] : strings) {
    auto outcome = run(params("activityReport", json::object(), key, "bad"));
    EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << key << ": " << outcome.message;
    EXPECT_THAT(outcome.message, HasSubstr("cannot connect")) << key;
    EXPECT_THAT(outcome.message, HasSubstr("Secret " + namespace_ + "/bad key \"" + key + "\""));
    EXPECT_THAT(outcome.message, Not(HasSubstr(password))) << key << ": " << outcome.message;
    EXPECT_THAT(outcome.message, Not(HasSubstr(conninfo))) << key;
    for (const auto& [name, value] : outcome.outputs) {
      EXPECT_THAT(value, Not(HasSubstr(password))) << name;
    }
  }
  auto wrong = run(params("activityReport", json::object(), "wrongpassword", "bad"));
  EXPECT_THAT(wrong.message, HasSubstr("password authentication failed"));
}

TEST_F(PostgresActionTest, ConnectingIsBoundedByTheConnectTimeout) {
  // A port that completes the TCP handshake (the kernel's backlog) and never
  // answers the startup packet.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  putSecret("silent", {{"url", "postgresql://app:pw@127.0.0.1:" +
                                   std::to_string(ntohs(addr.sin_port)) + "/postgres"}});
  PostgresActionOptions options;
  options.connectTimeout = std::chrono::seconds(2);
  auto started = std::chrono::steady_clock::now();

  auto outcome = makePostgresAction(options)->run(
      params("activityReport", json::object(), "url", "silent"), context());

  auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_THAT(outcome.message, HasSubstr("timeout"));
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(PostgresActionTest, AnUnparsableConnectionStringIsPermanentAndNotQuoted) {
  // libpq's own message would quote the broken percent-escape, password and all.
  putSecret("bad", {{"url", "postgresql://app:S3cr%zzet@127.0.0.1:5432/postgres"}});
  auto outcome = run(params("activityReport", json::object(), "url", "bad"));
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_THAT(outcome.message, HasSubstr("not a valid libpq connection string"));
  EXPECT_THAT(outcome.message, Not(HasSubstr("S3cr")));
}

TEST_F(PostgresActionTest, AMissingSecretKeyIsPermanentAndNamesTheSecretAndKey) {
  auto outcome = run(params("activityReport", json::object(), "absent-key"));
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_THAT(outcome.message, HasSubstr("Secret " + namespace_ + "/pg"));
  EXPECT_THAT(outcome.message, HasSubstr("absent-key"));

  auto noSecret = run(params("activityReport", json::object(), "url", "absent-secret"));
  EXPECT_EQ(noSecret.kind, OutcomeKind::kPermanentFailure);
  EXPECT_THAT(noSecret.message, HasSubstr("absent-secret"));
}

// ---- parameters (no server needed) ----

TEST(PostgresActionParameters, BadParametersArePermanentAndNameTheField) {
  auto action = makePostgresAction();
  EXPECT_EQ(action->field(), "postgres");
  ActionContext c;  // no client: parameters are checked before anything is read
  json connection = {{"secretKeyRef", {{"name", "pg"}, {"key", "url"}}}};
  struct Case {
    json params;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{{"connection", connection}}, "set exactly one of"},
      {{{"connection", connection},
        {"activityReport", json::object()},
        {"terminateBackends", {{"states", {"idle"}}}}},
       "set exactly one of"},
      {{{"connection", connection}, {"terminateBackends", json::object()}},
       "postgres.terminateBackends: set at least one filter"},
      {{{"connection", connection}, {"cancelBackends", {{"states", json::array()}}}},
       "postgres.cancelBackends: set at least one filter"},
      {{{"connection", connection}, {"terminateBackends", {{"olderThan", "5 minutes"}}}},
       "postgres.terminateBackends.olderThan"},
      {{{"connection", connection}, {"terminateBackends", {{"states", {"sleeping"}}}}},
       "postgres.terminateBackends.states[0]: \"sleeping\" is not a pg_stat_activity state"},
      {{{"connection", connection}, {"terminateBackends", {{"states", {"idle"}}, {"maxCount", 0}}}},
       "postgres.terminateBackends.maxCount: 0 is not between 1 and 1000"},
      {{{"connection", connection}, {"terminateBackends", {{"olderthan", "5m"}}}},
       "postgres.terminateBackends.olderthan: unknown field"},
      {{{"connection", connection}, {"terminateBackends", {{"queryPattern", ""}}}},
       "postgres.terminateBackends.queryPattern: must not be empty"},
      {{{"connection", connection}, {"terminateBackends", {{"users", {std::string(64, 'u')}}}}},
       "postgres.terminateBackends.users[0]: longer than 63 bytes"},
      {{{"activityReport", json::object()}}, "postgres.connection.secretKeyRef: required"},
  };
  for (const Case& k : cases) {
    auto outcome = action->run(k.params, c);
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << k.params.dump();
    EXPECT_THAT(outcome.message, HasSubstr(k.expected)) << k.params.dump();
  }
}

}  // namespace
}  // namespace remedy::actions

namespace remedy::actions {
namespace {

// ---- query: read-only diagnosis ----

json queryParams(const std::string& sql, std::vector<std::string> values = {}, int maxRows = 0,
                 const std::string& key = "monitor") {
  json q = {{"sql", sql}};
  if (!values.empty()) q["params"] = values;
  if (maxRows > 0) q["maxRows"] = maxRows;
  return {{"connection", {{"secretKeyRef", {{"name", "pg"}, {"key", key}}}}}, {"query", q}};
}

TEST_F(PostgresActionTest, AQueryMakesItsRowsOutputs) {
  int a = sleeper(app("checkout"));
  int b = sleeper(app("checkout"));
  sleeper(app("search"));

  auto outcome = run(queryParams(
      "SELECT count(*) AS sessions, string_agg(pid::text, ',' ORDER BY pid) AS pids, NULL AS "
      "nothing FROM pg_stat_activity WHERE application_name = $1",
      {"checkout"}));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["rows"], "1");
  EXPECT_EQ(outcome.outputs["columns"], "sessions,pids,nothing");
  EXPECT_EQ(outcome.outputs["value"], "2");
  EXPECT_EQ(outcome.outputs["truncated"], "false");
  EXPECT_EQ(outcome.outputs["table"], "sessions | pids | nothing\n2 | " +
                                          pids({std::min(a, b), std::max(a, b)}) + " | NULL\n");
  EXPECT_THAT(outcome.message, HasSubstr("query returned 1 row; sessions = \"2\""));
}

TEST_F(PostgresActionTest, AQueryKeepsMaxRowsAndCancelsTheRest) {
  auto outcome = run(queryParams("SELECT generate_series(1, 100000000) AS g", {}, 3));

  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["rows"], "3");
  EXPECT_EQ(outcome.outputs["truncated"], "true");
  EXPECT_EQ(outcome.outputs["table"], "g\n1\n2\n3\n");
  EXPECT_THAT(outcome.message, HasSubstr("more than maxRows 3"));
}

TEST_F(PostgresActionTest, AnEmptyResultHasNoValue) {
  auto outcome = run(queryParams("SELECT pid FROM pg_stat_activity WHERE false"));
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["rows"], "0");
  EXPECT_EQ(outcome.outputs["value"], "");
  EXPECT_EQ(outcome.outputs["columns"], "pid");
}

TEST_F(PostgresActionTest, AQueryCannotWrite) {
  auto created = run(queryParams("CREATE TABLE remedy_wrote (a int)"));
  ASSERT_EQ(created.kind, OutcomeKind::kPermanentFailure) << created.message;
  EXPECT_THAT(created.message, HasSubstr("read-only transaction"));
  // Nothing was created: the superuser finds no such table.
  EXPECT_EQ(pg().query("SELECT count(*) FROM pg_class WHERE relname = 'remedy_wrote'")[0][0],
            std::optional<std::string>("0"));

  // One statement only: a second one would run outside what was checked.
  auto two = run(queryParams("SELECT 1; SELECT 2"));
  ASSERT_EQ(two.kind, OutcomeKind::kPermanentFailure) << two.message;
  EXPECT_THAT(two.message, HasSubstr("multiple commands"));
}

TEST_F(PostgresActionTest, AQueryCannotTerminateBackends) {
  int victim = sleeper(app("victim"));
  auto outcome = run(queryParams("SELECT pg_terminate_backend($1::int)", {std::to_string(victim)}));
  ASSERT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << outcome.message;
  expectOnlyGone({}, {victim});
}

TEST_F(PostgresActionTest, AQueryRefusesARoleThatCouldSignalBackends) {
  int victim = sleeper(app("victim"));
  std::string sql = "SELECT pg_terminate_backend(" + std::to_string(victim) + ")";
  for (const auto& [key, why] : std::vector<std::pair<std::string, std::string>>{
           {"url", "is a member of pg_signal_backend"}, {"superuser", "is a superuser"}}) {
    SCOPED_TRACE(key);
    auto outcome = run(queryParams(sql, {}, 0, key));
    ASSERT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << outcome.message;
    EXPECT_THAT(outcome.message, HasSubstr(why));
    EXPECT_THAT(outcome.message, HasSubstr("pg_monitor"));
    EXPECT_THAT(outcome.message,
                Not(HasSubstr(PostgresServer::passwordOf(
                    key == "url" ? PostgresServer::kOperatorUser : PostgresServer::kSuperuser))));
  }
  expectOnlyGone({}, {victim});
}

TEST_F(PostgresActionTest, AQueryIsBoundedByTheStatementTimeout) {
  PostgresActionOptions options;
  options.statementTimeout = std::chrono::milliseconds(1000);
  auto action = makePostgresAction(options);
  auto started = std::chrono::steady_clock::now();
  auto outcome = action->run(queryParams("SELECT pg_sleep(60)"), context());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  ASSERT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_THAT(outcome.message, HasSubstr("statement timeout"));
}

TEST(PostgresQueryParameters, BadParametersArePermanentAndNameTheField) {
  auto action = makePostgresAction();
  ActionContext c;
  auto connection = json{{"secretKeyRef", {{"name", "pg"}, {"key", "monitor"}}}};
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"sql", ""}}, "postgres.query.sql: required"},
      {{{"sql", "SELECT 1"}, {"maxRows", 0}}, "postgres.query.maxRows: 0 is not between 1 and 100"},
      {{{"sql", "SELECT 1"}, {"params", {1}}}, "postgres.query.params[0]: expected a string"},
      {{{"sql", "SELECT 1"}, {"limit", 3}}, "postgres.query.limit: unknown field"},
  };
  for (const auto& [query, message] : cases) {
    auto outcome = action->run({{"connection", connection}, {"query", query}}, c);
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << query.dump();
    EXPECT_THAT(outcome.message, HasSubstr(message)) << query.dump();
  }
  auto both = action->run({{"connection", connection},
                           {"query", {{"sql", "SELECT 1"}}},
                           {"activityReport", json::object()}},
                          c);
  EXPECT_THAT(both.message, HasSubstr("set exactly one of"));
}

}  // namespace
}  // namespace remedy::actions
