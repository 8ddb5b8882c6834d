// `remedyctl test` as a process: a passing file exits 0, a failing
// expectation is printed with the file, the line, the test's name, the
// expected and the actual value and exits 1, a malformed file exits 2
// naming the field and its line; a 30-minute escalation ladder runs on the
// fake clock in far less than a real minute.
#include "../support/child_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

namespace remedy::testing {
namespace {

constexpr const char* kRunbook = R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: scale-web
  namespace: shop
spec:
  triggers:
    - alertName: WebSlow
  steps:
    - name: scale
      scale:
        target: {apiVersion: apps/v1, kind: Deployment, name: web}
        replicas: "+2"
    - name: verify
      prometheusCheck:
        url: http://prometheus.shop.svc:9090
        query: 'max(latency_seconds{app="web"})'
        operator: LessThan
        threshold: 1
        pollInterval: 1m
      timeout: 40m
      onFailure: Escalate
  escalation:
    tiers:
      - name: team
        after: 5m
        notify: [{url: 'https://chat.example.com/hooks/team'}]
      - name: lead
        after: 15m
        notify: [{url: 'https://chat.example.com/hooks/lead'}]
      - name: director
        after: 30m
        notify: [{url: 'https://chat.example.com/hooks/director'}]
)";

// The test file's head: the Runbook and a Deployment of 2 replicas.
constexpr const char* kHead = R"(runbooks: [scale-web.yaml]
tests:
  - name: web scaled
    objects:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {replicas: 2}
    alerts:
      - name: WebSlow
)";

class RunbookTestCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("remedyctl-test-command");
    std::ofstream(dir_->path() + "/scale-web.yaml") << kRunbook;
  }

  // Writes `text` as a test file and runs `remedyctl test` on it: the exit
  // code (-1 when it did not exit in time) and the output.
  std::pair<int, std::string> run(const std::string& text) {
    std::string file = dir_->path() + "/scale-web.test.yaml";
    std::ofstream(file) << text;
    ProcessOptions p;
    p.argv = {std::string(REMEDY_BINARY_DIR) + "/src/cli/remedyctl", "test", file};
    p.logPath = dir_->path() + "/out-" + std::to_string(++runs_);
    ChildProcess cli(p);
    bool exited = waitUntil([&] { return !cli.running(); }, std::chrono::seconds(120));
    int status = cli.exitStatus();
    std::ifstream in(p.logPath);
    std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  std::string file() const { return dir_->path() + "/scale-web.test.yaml"; }

  std::unique_ptr<TempDir> dir_;
  int runs_ = 0;
};

constexpr const char* kRecovers = R"(    prometheus:
      - query: 'max(latency_seconds{app="web"})'
        values:
          - {at: 0s, value: 2.5}
          - {at: 3m, value: 0.4}
)";

TEST_F(RunbookTestCommandTest, PassingExpectationsExitZero) {
  auto [code, out] = run(std::string(kHead) + kRecovers + R"(    expect:
      phase: Succeeded
      stepsRun: [scale, verify]
      steps:
        - {name: scale, phase: Succeeded, outputs: {replicas: "4"}}
        - {name: verify, phase: Succeeded, outputs: {value: "0.4"}}
      escalations: []
      objects:
        - {kind: Deployment, name: web, replicas: 4}
)");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok   " + file() + ": web scaled"), std::string::npos) << out;
  EXPECT_NE(out.find("1 test, 0 failed"), std::string::npos) << out;
}

TEST_F(RunbookTestCommandTest, FailingExpectationPrintsExpectedAndActualAndExitsOne) {
  auto [code, out] = run(std::string(kHead) + kRecovers + R"(    expect:
      phase: Succeeded
      steps:
        - {name: scale, outputs: {replicas: "7"}}
      objects:
        - {kind: Deployment, name: web, replicas: 7}
)");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("FAIL " + file() + ":3: web scaled"), std::string::npos) << out;
  EXPECT_NE(out.find(file() + ":19: step scale: outputs.replicas\n"
                              "    expected: \"7\"\n"
                              "    actual:   \"4\"\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(file() + ":21: Deployment web: replicas\n"
                              "    expected: 7\n"
                              "    actual:   4\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 test, 1 failed"), std::string::npos) << out;
}

TEST_F(RunbookTestCommandTest, EscalationLadderRunsOnTheFakeClock) {
  // Latency never recovers: the check times out after 40m and the three
  // tiers fire at 5m, 15m and 30m of Runbook time.
  auto started = std::chrono::steady_clock::now();
  auto [code, out] = run(std::string(kHead) + R"(    prometheus:
      - query: 'max(latency_seconds{app="web"})'
        values: [{at: 0s, value: 2.5}]
    http:
      - {url: 'https://chat.example.com/hooks/team', status: 200}
      - {url: 'https://chat.example.com/hooks/lead', status: 200}
    expect:
      phase: Escalated
      steps:
        - {name: verify, phase: Failed}
      escalations:
        - {name: team, at: 5m, state: Notified}
        - {name: lead, at: 15m, state: Notified}
        - {name: director, at: 20m, state: Notified}
)");
  auto took = std::chrono::steady_clock::now() - started;
  // The director's hook has no recorded answer, and it fired at 30m.
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("escalations\n"
                     "    expected: [team at 5m Notified, lead at 15m Notified, director at 20m "
                     "Notified]\n"
                     "    actual:   [team at 5m Notified, lead at 15m Notified, director at 30m "
                     "Failed]\n"),
            std::string::npos)
      << out;
  EXPECT_LT(took, std::chrono::seconds(60)) << out;
}

TEST_F(RunbookTestCommandTest, MalformedFileExitsTwoNamingTheFieldAndLine) {
  auto [code, out] = run(std::string(kHead) + R"(        at: soon
    expect:
      phase: Succeeded
)");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find(file() + ":11: tests[0].alerts[0].at: \"soon\" is not a duration"),
            std::string::npos)
      << out;
}

TEST_F(RunbookTestCommandTest, UnknownFieldExitsTwo) {
  auto [code, out] = run(std::string(kHead) + R"(    expect:
      phase: Succeeded
      step:
        - {name: scale}
)");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find(file() + ":13: tests[0].expect.step: unknown field \"step\""),
            std::string::npos)
      << out;
}

TEST_F(RunbookTestCommandTest, InvalidRunbookExitsTwoWithValidatesMessage) {
  std::ofstream(dir_->path() + "/scale-web.yaml") << std::string(kRunbook).replace(
      std::string(kRunbook).find("pollInterval: 1m"), 16, "pollInterval: 1 minute");
  auto [code, out] = run(std::string(kHead) + R"(    expect:
      phase: Succeeded
)");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find(file() + ":1: runbooks[0]: Runbook file scale-web.yaml: "), std::string::npos)
      << out;
  EXPECT_NE(out.find("pollInterval"), std::string::npos) << out;
}

// PostgreSQL steps against the test file's recorded servers.
constexpr const char* kPostgresRunbook = R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: long-queries
  namespace: shop
spec:
  triggers:
    - alertName: SlowQueries
  steps:
    - name: slowest
      postgres:
        connection: {secretKeyRef: {name: db, key: uri}}
        query: {sql: 'SELECT query, calls FROM pg_stat_statements ORDER BY calls DESC', maxRows: 2}
      onFailure: Continue
    - name: terminate
      postgres:
        connection: {secretKeyRef: {name: db, key: uri}}
        terminateBackends: {olderThan: 5m, states: [active], allowSuperusers: false}
)";

constexpr const char* kPostgresHead = R"(runbooks: [long-queries.yaml]
tests:
  - name: long queries
    objects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: db}
        stringData: {uri: "host=orders-db dbname=orders user=remedy password=s3cret"}
    alerts:
      - name: SlowQueries
)";

TEST_F(RunbookTestCommandTest, PostgresStepsActOnlyOnMatchingClientBackendsOfTheRecordedServer) {
  std::ofstream(dir_->path() + "/long-queries.yaml") << kPostgresRunbook;
  auto [code, out] = run(std::string(kPostgresHead) + R"(    postgres:
      - host: orders-db
        backends:
          - {pid: 11, user: app, state: active, runningFor: 10m, query: SELECT 1}
          - {pid: 12, user: app, state: active, runningFor: 1m, query: SELECT 2}
          - {pid: 13, user: app, state: idle, runningFor: 1h, query: COMMIT}
          - {pid: 14, user: postgres, superuser: true, state: active, runningFor: 1h, query: SELECT 3}
          - {pid: 15, user: postgres, backendType: autovacuum worker, state: active, runningFor: 1h}
        queries:
          - sql: "SELECT query, calls\n   FROM pg_stat_statements ORDER BY calls DESC"
            columns: [query, calls]
            rows: [[SELECT 1, 90], [SELECT 2, 40], [SELECT 3, 1]]
    expect:
      phase: Succeeded
      steps:
        - {name: slowest, phase: Succeeded, outputs: {rows: "2", truncated: "true", value: SELECT 1}}
        - {name: terminate, phase: Succeeded, outputs: {affected: "1", pids: "11"}}
)");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
}

TEST_F(RunbookTestCommandTest, PostgresQueriesWithoutARecordingAndUnknownHostsFailTheStep) {
  std::ofstream(dir_->path() + "/long-queries.yaml") << kPostgresRunbook;
  auto [code, out] = run(std::string(kPostgresHead) + R"(    postgres:
      - host: other-db
    expect:
      steps:
        - {name: slowest, phase: Succeeded}
)");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("no recorded server for the host \"orders-db\" in the test file (postgres)"),
            std::string::npos)
      << out;
  auto [code2, out2] = run(std::string(kPostgresHead) + R"(    postgres:
      - host: orders-db
    expect:
      steps:
        - {name: slowest, phase: Succeeded}
)");
  EXPECT_EQ(code2, 1) << out2;
  EXPECT_NE(out2.find("no recorded answer for the query \"SELECT query, calls FROM "
                      "pg_stat_statements ORDER BY calls DESC\""),
            std::string::npos)
      << out2;
}

TEST_F(RunbookTestCommandTest, MalformedPostgresRecordingsExitTwoNamingTheField) {
  std::ofstream(dir_->path() + "/long-queries.yaml") << kPostgresRunbook;
  auto [code, out] = run(std::string(kPostgresHead) + R"(    postgres:
      - host: orders-db
        backends:
          - {user: app, runningFor: 10m}
          - {pid: 12, runningFor: ten minutes}
        queries:
          - {sql: SELECT 1, columns: [a, b], rows: [[1]]}
    expect:
      phase: Succeeded
)");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find(file() + ":14: tests[0].postgres[0].backends[0]: required field \"pid\" is "
                              "missing"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tests[0].postgres[0].backends[1].runningFor: \"ten minutes\" is not a "
                     "duration"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tests[0].postgres[0].queries[0].rows[0]: has 1 values for 2 columns"),
            std::string::npos)
      << out;
}

// Redis steps against the test file's recorded servers.
constexpr const char* kRedisRunbook = R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: drop-cache
  namespace: shop
spec:
  triggers:
    - alertName: StaleCache
  steps:
    - name: drop
      redis:
        connection: {secretKeyRef: {name: cache, key: url}}
        deleteKeys: {pattern: 'price:[a-c]?:*', maxCount: 3}
)";

constexpr const char* kRedisHead = R"(runbooks: [drop-cache.yaml]
tests:
  - name: stale cache
    objects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: cache}
        stringData: {url: "redis://:pw@cache:6379"}
    alerts:
      - name: StaleCache
)";

TEST_F(RunbookTestCommandTest, RedisStepsDeleteOnlyMatchingKeysUpToMaxCount) {
  std::ofstream(dir_->path() + "/drop-cache.yaml") << kRedisRunbook;
  auto [code, out] = run(std::string(kRedisHead) + R"(    redis:
      - host: cache
        password: pw
        keys: ["price:a1:x", "price:b2:y", "price:d1:z", "price:c:w", "price:c3:v", "price:a4:u"]
    expect:
      steps:
        - {name: drop, phase: Succeeded, outputs: {matched: "4", deleted: "3"},
           messageContains: "stopped at maxCount 3, the other matching keys were left"}
)");
  EXPECT_EQ(code, 0) << out;
}

TEST_F(RunbookTestCommandTest, MalformedRedisRecordingsExitTwoNamingTheField) {
  std::ofstream(dir_->path() + "/drop-cache.yaml") << kRedisRunbook;
  auto [code, out] = run(std::string(kRedisHead) + R"(    redis:
      - host: cache
        keys: [a, {prefix: "k:", count: 0}, a]
        info: [memory]
    expect:
      phase: Succeeded
)");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("tests[0].redis[0].keys[1].count: must be a number of keys (1 to 1000000)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tests[0].redis[0].keys[2]: the key \"a\" is given twice"), std::string::npos)
      << out;
  EXPECT_NE(out.find("tests[0].redis[0].info: must be a mapping of sections"), std::string::npos)
      << out;
}

// Diagnosis steps that read the recorded server: MEMORY USAGE of the keys a
// pattern matches, and the SLOWLOG as logged by the fake clock.
constexpr const char* kRedisDiagnosisRunbook = R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: drop-cache
  namespace: shop
spec:
  triggers:
    - alertName: StaleCache
  steps:
    - name: sizes
      redis:
        connection: {secretKeyRef: {name: cache, key: url}}
        memoryUsage: {pattern: 'report:*', maxKeys: 3}
    - name: slow
      redis:
        connection: {secretKeyRef: {name: cache, key: url}}
        slowlog: {count: 2}
    - name: big-report
      when: steps.sizes.outputs.largestBytes > 1000000 and steps.slow.outputs.slowestCommand == "KEYS"
      redis:
        connection: {secretKeyRef: {name: cache, key: url}}
        deleteKeys: {pattern: '{{ steps.sizes.outputs.largestKey | glob }}'}
)";

TEST_F(RunbookTestCommandTest, RedisDiagnosisReadsMemoryUsageAndTheSlowlogOfTheRecordedServer) {
  std::ofstream(dir_->path() + "/drop-cache.yaml") << kRedisDiagnosisRunbook;
  auto [code, out] = run(std::string(kRedisHead) + R"(    redis:
      - host: cache
        password: pw
        keys:
          - session:1
          - {key: "report:2024", bytes: 2097152}
          - {prefix: "report:day:", count: 3, bytes: 100}
        slowlog:
          - {at: 0s, durationMicroseconds: 300, command: [GET, "session:1"]}
          - {at: 0s, durationMicroseconds: 480000, command: [KEYS, "report:*"]}
          - {at: 0s, durationMicroseconds: 900, command: [HGETALL, "report:2024"]}
          - {at: 2h, durationMicroseconds: 9000000, command: [FLUSHALL]}
    expect:
      steps:
        - name: sizes
          phase: Succeeded
          outputs: {keys: "3", totalBytes: "2097352", complete: "false", largestKey: "report:2024",
                    largestBytes: "2097152", top: "2097152 report:2024\n100 report:day:1\n100 report:day:2\n"}
          messageContains: the scan stopped at maxKeys 3
        - name: slow
          phase: Succeeded
          outputs: {count: "2", slowestMicroseconds: "480000", slowestCommand: KEYS}
        - {name: big-report, when: true, phase: Succeeded, outputs: {deleted: "1"}}
)");
  EXPECT_EQ(code, 0) << out;
}

TEST_F(RunbookTestCommandTest, MalformedRedisDiagnosisRecordingsExitTwoNamingTheField) {
  std::ofstream(dir_->path() + "/drop-cache.yaml") << kRedisRunbook;
  auto [code, out] = run(std::string(kRedisHead) + R"(    redis:
      - host: cache
        keys: [{key: a, bytes: -1}, {prefix: "k:", count: 2, bytes: many}]
        slowlog:
          - {at: 1m, durationMicroseconds: 10, command: [GET, a]}
          - {at: 0s, command: []}
    expect:
      phase: Succeeded
)");
  EXPECT_EQ(code, 2) << out;
  for (const char* error :
       {"tests[0].redis[0].keys[0].bytes: must be a number of bytes",
        "tests[0].redis[0].keys[1].bytes: must be a number of bytes",
        "tests[0].redis[0].slowlog[1]: the entries must be in ascending order of `at`",
        "tests[0].redis[0].slowlog[1]: required field \"durationMicroseconds\" is missing",
        "tests[0].redis[0].slowlog[1].command: must name the command"}) {
    EXPECT_NE(out.find(error), std::string::npos) << error << "\n" << out;
  }
}

}  // namespace
}  // namespace remedy::testing
