// The redis action against a real redis-server (started per test on a free
// loopback port) and its connection URL in a Secret of the in-process sandbox.
#include "actions/redis_action.h"

#include "../kube/sandbox_fixture.h"
#include "../support/redis_server.h"
#include "kube/base64.h"
#include "kube/resource.h"

#include <algorithm>
#include <chrono>

namespace remedy::actions {
namespace {

using kube::testing::SandboxTest;
using remedy::testing::RedisServer;
using remedy::testing::RedisServerOptions;

constexpr const char* kPassword = "s3cret-Pa55word-do-not-leak";

class RedisActionTest : public SandboxTest {
 protected:
  void putUrl(const std::string& url, const std::string& name = "redis") {
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"data", {{"url", kube::encodeBase64(url)}}}};
    auto created = client_->create(kube::resources::secrets(), namespace_, secret);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  static json params(json operation) {
    json p = {{"connection", {{"secretKeyRef", {{"name", "redis"}, {"key", "url"}}}}}};
    for (const auto& [k, v] : operation.items()) p[k] = v;
    return p;
  }

  static json configSet(const std::string& parameter, const std::string& value) {
    return params({{"configSet", {{"parameter", parameter}, {"value", value}}}});
  }

  static json deleteKeys(const std::string& pattern, std::optional<int> maxCount = {}) {
    json d = {{"pattern", pattern}};
    if (maxCount) d["maxCount"] = *maxCount;
    return params({{"deleteKeys", d}});
  }

  ActionContext context() {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = "uid/step/1";
    c.stepKey = "uid/step";
    c.defaultNamespace = namespace_;
    c.now = std::chrono::system_clock::now();
    c.deadline = c.now + std::chrono::minutes(1);
    return c;
  }

  // prepare() then run(), as the engine does for a first attempt.
  ActionOutcome prepareAndRun(Action& action, const json& p, ActionContext& c) {
    auto prepared = action.prepare(p, c);
    EXPECT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
    c.baseline = prepared.outputs;
    return action.run(p, c);
  }

  static bool mentions(const ActionOutcome& o, const std::string& text) {
    if (o.message.find(text) != std::string::npos) return true;
    for (const auto& [k, v] : o.outputs) {
      if (k.find(text) != std::string::npos || v.find(text) != std::string::npos) return true;
    }
    return o.changedFrom.dump().find(text) != std::string::npos ||
           o.changedTo.dump().find(text) != std::string::npos;
  }

  std::unique_ptr<Action> action_ = makeRedisAction();
};

// ---- configSet ----

TEST_F(RedisActionTest, ConfigSetMaxmemoryRecordsThePreviousValueAndTheValueAsTheServerKeepsIt) {
  RedisServer redis;
  putUrl(redis.url());
  ASSERT_EQ(redis.configGet("maxmemory"), "0");
  auto c = context();
  auto outcome = prepareAndRun(*action_, configSet("maxmemory", "2gb"), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(redis.configGet("maxmemory"), "2147483648");
  EXPECT_EQ(outcome.outputs["previousValue"], "0");
  EXPECT_EQ(outcome.outputs["value"], "2147483648");
  EXPECT_EQ(outcome.changedFrom, (json{{"parameter", "maxmemory"}, {"value", "0"}}));
  EXPECT_EQ(outcome.changedTo, (json{{"parameter", "maxmemory"}, {"value", "2147483648"}}));
  EXPECT_NE(outcome.message.find(redis.endpoint()), std::string::npos) << outcome.message;
}

TEST_F(RedisActionTest, ConfigSetRetriedAfterACrashStillReportsTheOriginalValue) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  auto first = prepareAndRun(*action_, configSet("maxmemory-policy", "allkeys-lru"), c);
  ASSERT_EQ(first.kind, OutcomeKind::kSucceeded) << first.message;
  // The engine crashed before recording the outcome: the same attempt runs
  // again with the baseline prepare() recorded.
  auto again = action_->run(configSet("maxmemory-policy", "allkeys-lru"), c);
  ASSERT_EQ(again.kind, OutcomeKind::kSucceeded) << again.message;
  EXPECT_EQ(again.outputs["previousValue"], "noeviction");
  EXPECT_EQ(again.changedFrom, (json{{"parameter", "maxmemory-policy"}, {"value", "noeviction"}}));
  EXPECT_EQ(redis.configGet("maxmemory-policy"), "allkeys-lru");
}

TEST_F(RedisActionTest, ConfigSetOfAParameterOutsideTheAllowListIsRefused) {
  RedisServer redis;
  putUrl(redis.url());
  std::string dir = redis.configGet("dir");
  auto c = context();
  for (const char* parameter : {"dir", "requirepass"}) {
    auto prepared = action_->prepare(configSet(parameter, "/tmp"), c);
    EXPECT_EQ(prepared.kind, OutcomeKind::kPermanentFailure);
    auto outcome = action_->run(configSet(parameter, "/tmp"), c);
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
    EXPECT_NE(outcome.message.find("redis.configSet.parameter"), std::string::npos)
        << outcome.message;
    EXPECT_NE(outcome.message.find(parameter), std::string::npos) << outcome.message;
  }
  EXPECT_EQ(redis.configGet("dir"), dir);
  EXPECT_EQ(redis.configGet("requirepass"), "");
}

TEST_F(RedisActionTest, ConfigSetOfAValueTheServerRejectsIsPermanent) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  auto outcome = prepareAndRun(*action_, configSet("maxmemory", "lots"), c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("CONFIG SET maxmemory"), std::string::npos) << outcome.message;
  EXPECT_EQ(redis.configGet("maxmemory"), "0");
}

TEST_F(RedisActionTest, ConfigSetDryRunReportsAndChangesNothing) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  c.dryRun = true;
  auto outcome = prepareAndRun(*action_, configSet("maxmemory", "2gb"), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_NE(outcome.message.find("dry run"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("2gb"), std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.outputs["previousValue"], "0");
  EXPECT_TRUE(outcome.changedFrom.is_null());
  EXPECT_EQ(redis.configGet("maxmemory"), "0");
}

TEST_F(RedisActionTest, RevertRestoresThePreviousValueAndIsSafeToRepeat) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  auto p = configSet("maxmemory", "64mb");
  auto outcome = prepareAndRun(*action_, p, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  ASSERT_EQ(redis.configGet("maxmemory"), "67108864");

  auto reverted = action_->revert(p, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_EQ(redis.configGet("maxmemory"), "0");

  auto again = action_->revert(p, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(again.kind, RevertKind::kReverted) << again.message;
  EXPECT_EQ(redis.configGet("maxmemory"), "0");
}

TEST_F(RedisActionTest, RevertIsRefusedWhenSomeoneChangedTheValueSince) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  auto p = configSet("maxmemory", "64mb");
  auto outcome = prepareAndRun(*action_, p, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  ASSERT_EQ(redis.command({"CONFIG", "SET", "maxmemory", "128mb"}), "OK");

  auto reverted = action_->revert(p, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kRefused) << reverted.message;
  EXPECT_NE(reverted.message.find("changed since Remedy set it (from 67108864 to 134217728)"),
            std::string::npos)
      << reverted.message;
  EXPECT_EQ(redis.configGet("maxmemory"), "134217728");
}

TEST_F(RedisActionTest, RevertOfARecordThatIsNotAnAllowedConfigSetFails) {
  RedisServer redis;
  putUrl(redis.url());
  auto reverted =
      action_->revert(configSet("maxmemory", "1mb"), json{{"parameter", "dir"}, {"value", "/"}},
                      json{{"parameter", "dir"}, {"value", "/tmp"}}, context());
  EXPECT_EQ(reverted.kind, RevertKind::kFailed);
  EXPECT_NE(redis.configGet("dir"), "/");
}

// ---- deleteKeys ----

TEST_F(RedisActionTest, DeleteKeysRemovesOnlyMatchingKeysAndAtMostMaxCount) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 50);
  redis.fill("session:", 30);
  auto c = context();
  auto outcome = prepareAndRun(*action_, deleteKeys("cache:*", 20), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["deleted"], "20");
  EXPECT_NE(outcome.message.find("maxCount 20"), std::string::npos) << outcome.message;
  EXPECT_EQ(redis.countKeys("cache:*"), 30);
  EXPECT_EQ(redis.countKeys("session:*"), 30);
}

TEST_F(RedisActionTest, DeleteKeysRemovesEveryMatchingKeyUnderTheDefaultBound) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 50);
  redis.fill("session:", 30);
  auto c = context();
  auto outcome = prepareAndRun(*action_, deleteKeys("cache:*"), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "50");
  EXPECT_EQ(outcome.outputs["deleted"], "50");
  EXPECT_EQ(redis.countKeys("cache:*"), 0);
  EXPECT_EQ(redis.countKeys("session:*"), 30);
}

TEST_F(RedisActionTest, DeleteKeysDryRunCountsAndDeletesNothing) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 50);
  auto c = context();
  c.dryRun = true;
  auto outcome = prepareAndRun(*action_, deleteKeys("cache:*"), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["matched"], "50");
  EXPECT_EQ(outcome.outputs["deleted"], "0");
  EXPECT_NE(outcome.message.find("dry run: would delete 50"), std::string::npos) << outcome.message;
  EXPECT_EQ(redis.countKeys("cache:*"), 50);
}

TEST_F(RedisActionTest, DeleteKeysRefusesAPatternThatMatchesEverythingInAnySpelling) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 5);
  for (const char* pattern : {"*", "**", "?*", "*?", "[a-z]*", "[^:]*", "??*"}) {
    auto outcome = action_->run(deleteKeys(pattern), context());
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
    EXPECT_NE(outcome.message.find("redis.deleteKeys.pattern"), std::string::npos)
        << outcome.message;
  }
  EXPECT_EQ(redis.command({"DBSIZE"}), "5");
}

TEST_F(RedisActionTest, DeleteKeysStopsAtTheDeadlineAndTheNextCallsContinueWithinMaxCount) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 3000);
  redis.fill("session:", 100);
  auto p = deleteKeys("cache:*", 2000);
  auto c = context();
  c.deadline = c.now;  // already due: one SCAN, then report
  auto outcome = prepareAndRun(*action_, p, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  EXPECT_NE(outcome.message.find("deadline"), std::string::npos) << outcome.message;
  long long first = std::stoll(outcome.outputs["deleted"]);
  EXPECT_GT(first, 0);
  EXPECT_LT(first, 2000);
  EXPECT_EQ(redis.countKeys("cache:*"), 3000 - first);

  // The engine keeps the progress outputs and calls again (a retry keeps
  // them too).
  for (int call = 0; call < 20 && outcome.kind == OutcomeKind::kInProgress; ++call) {
    for (const auto& [k, v] : outcome.outputs) c.baseline[k] = v;
    c.now = std::chrono::system_clock::now();
    c.deadline = c.now + std::chrono::minutes(1);
    outcome = action_->run(p, c);
  }
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["deleted"], "2000");
  EXPECT_EQ(redis.countKeys("cache:*"), 1000);
  EXPECT_EQ(redis.countKeys("session:*"), 100);
}

TEST_F(RedisActionTest, TheDatabaseInTheUrlPathIsSelected) {
  RedisServer redis;
  putUrl(redis.url(3));
  redis.fill("cache:", 10, 0);
  redis.fill("cache:", 10, 3);
  auto c = context();
  auto outcome = prepareAndRun(*action_, deleteKeys("cache:*"), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["deleted"], "10");
  EXPECT_EQ(redis.countKeys("cache:*", 3), 0);
  EXPECT_EQ(redis.countKeys("cache:*", 0), 10);
}

// ---- info ----

TEST_F(RedisActionTest, InfoMemoryReportsEveryFieldOfTheSection) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  auto outcome = prepareAndRun(*action_, params({{"info", {{"section", "memory"}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  ASSERT_TRUE(outcome.outputs.count("used_memory"));
  EXPECT_GT(std::stoll(outcome.outputs["used_memory"]), 0);
  EXPECT_TRUE(outcome.outputs.count("maxmemory_policy"));
  EXPECT_EQ(outcome.outputs.count("connected_clients"), 0u);  // another section
  EXPECT_NE(outcome.message.find("used_memory_human " + outcome.outputs["used_memory_human"]),
            std::string::npos)
      << outcome.message;
}

TEST_F(RedisActionTest, InfoStatsComputesTheHitRate) {
  RedisServer redis;
  putUrl(redis.url());
  ASSERT_EQ(redis.command({"SET", "present", "1"}), "OK");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(redis.command({"GET", "present"}), "1");
  ASSERT_EQ(redis.command({"GET", "absent"}), "(nil)");
  auto outcome = action_->run(params({{"info", {{"section", "stats"}}}}), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["keyspace_hits"], "3");
  EXPECT_EQ(outcome.outputs["keyspace_misses"], "1");
  EXPECT_EQ(outcome.outputs["hit_rate"], "0.7500");
  EXPECT_NE(outcome.message.find("hit rate 75.0%"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("evicted_keys 0"), std::string::npos) << outcome.message;
}

TEST_F(RedisActionTest, InfoOutputsAreBounded) {
  RedisServer redis;
  putUrl(redis.url());
  RedisActionOptions options;
  options.maxInfoFields = 5;
  options.maxValueLength = 4;
  auto action = makeRedisAction(options);
  auto outcome = action->run(params({{"info", {{"section", "server"}}}}), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs.size(), 5u);
  for (const auto& [k, v] : outcome.outputs) EXPECT_LE(v.size(), 4u + 3u) << k << "=" << v;
  EXPECT_NE(outcome.message.find("the first 5 kept"), std::string::npos) << outcome.message;
}

TEST_F(RedisActionTest, AnUnknownInfoSectionIsRefused) {
  RedisServer redis;
  putUrl(redis.url());
  auto outcome = action_->run(params({{"info", {{"section", "commandstats"}}}}), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("redis.info.section"), std::string::npos) << outcome.message;
}

// ---- slowlog ----

// A Lua loop that keeps the server busy for some milliseconds.
const std::vector<std::string> kBusyScript = {
    "EVAL", "local i = 0 while i < 3000000 do i = i + 1 end return 1", "0"};

TEST_F(RedisActionTest, SlowlogReportsTheNewestEntriesAndTheSlowestAsANumber) {
  RedisServer redis;
  putUrl(redis.url());
  ASSERT_EQ(redis.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "OK");
  ASSERT_EQ(redis.command(kBusyScript), "1");
  ASSERT_EQ(redis.command({"HSET", "user:7", "a", "1", "b", "2", "c", "3"}), "3");
  ASSERT_EQ(redis.command({"GET", "missing"}), "(nil)");

  auto c = context();
  auto outcome = prepareAndRun(*action_, params({{"slowlog", {{"count", 3}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["count"], "3");
  EXPECT_EQ(outcome.outputs["slowestCommand"], "EVAL");
  EXPECT_GT(std::stoll(outcome.outputs["slowestMicroseconds"]), 1000) << outcome.outputs["entries"];
  // Newest first: GET, then HSET with its first 3 arguments and the rest
  // counted, then the script.
  const std::string& entries = outcome.outputs["entries"];
  size_t get = entries.find("us GET missing");
  size_t hset = entries.find("us HSET user:7 a 1 ... (4 more arguments)");
  size_t eval = entries.find("us EVAL ");
  ASSERT_NE(get, std::string::npos) << entries;
  ASSERT_NE(hset, std::string::npos) << entries;
  ASSERT_NE(eval, std::string::npos) << entries;
  EXPECT_LT(get, hset);
  EXPECT_LT(hset, eval);
  EXPECT_NE(entries.find("(client 127.0.0.1:"), std::string::npos) << entries;
  EXPECT_EQ(std::count(entries.begin(), entries.end(), '\n'), 3) << entries;
  EXPECT_NE(outcome.message.find("3 entries, the slowest"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("(EVAL)"), std::string::npos) << outcome.message;
}

TEST_F(RedisActionTest, SlowlogOfAnEmptyLogCountsNoneAndHasNoSlowestCommand) {
  RedisServer redis;
  putUrl(redis.url());
  ASSERT_EQ(redis.command({"CONFIG", "SET", "slowlog-log-slower-than", "10000000"}), "OK");
  ASSERT_EQ(redis.command({"SLOWLOG", "RESET"}), "OK");
  auto c = context();
  c.dryRun = true;  // read-only: it runs in dry runs too
  auto outcome = prepareAndRun(*action_, params({{"slowlog", json::object()}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["count"], "0");
  EXPECT_EQ(outcome.outputs["slowestMicroseconds"], "0");
  EXPECT_EQ(outcome.outputs.count("slowestCommand"), 0u);
  EXPECT_EQ(outcome.outputs["entries"], "");
}

TEST_F(RedisActionTest, SlowlogRedactsTheIncidentsSecretsAndThePasswordEvenWhenCut) {
  RedisServerOptions options;
  options.password = kPassword;
  RedisServer redis(options);
  putUrl(redis.url());
  const std::string token = "tok-" + std::string(196, 'Q');  // Redis cuts it at 128 bytes
  const std::string apiKey = "api-key-8f1d2c3b4a";
  json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", {{"name", "backend"}, {"namespace", namespace_}}},
      {"data", {{"token", kube::encodeBase64(token)}, {"key", kube::encodeBase64(apiKey)}}}};
  ASSERT_TRUE(client_->create(kube::resources::secrets(), namespace_, secret).ok());
  ASSERT_EQ(redis.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "OK");
  ASSERT_EQ(redis.command({"SET", "pw", kPassword}), "OK");
  ASSERT_EQ(redis.command({"SET", "key", "x" + apiKey + "y"}), "OK");
  ASSERT_EQ(redis.command({"SET", "tok", std::string(30, 'a') + token}), "OK");

  auto c = context();
  c.incident = {{"secretKeyRefs", json::array({{{"name", "backend"}, {"key", "token"}},
                                               {{"name", "backend"}, {"key", "key"}}})}};
  auto outcome = prepareAndRun(*action_, params({{"slowlog", {{"count", 128}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  const std::string& entries = outcome.outputs["entries"];
  EXPECT_FALSE(mentions(outcome, kPassword)) << entries;
  EXPECT_FALSE(mentions(outcome, apiKey)) << entries;
  EXPECT_FALSE(mentions(outcome, token.substr(0, 8))) << entries;
  EXPECT_NE(entries.find("us SET pw [redacted]"), std::string::npos) << entries;
  EXPECT_NE(entries.find("us SET key x[redacted]y"), std::string::npos) << entries;
  EXPECT_NE(entries.find("us SET tok [redacted]"), std::string::npos) << entries;
}

TEST_F(RedisActionTest, SlowlogCountOutsideItsBoundsIsRefusedNamingTheField) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  for (json count : {json(0), json(129), json("ten"), json(-1)}) {
    auto outcome = action_->run(params({{"slowlog", {{"count", count}}}}), c);
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << count;
    EXPECT_NE(outcome.message.find("redis.slowlog.count: "), std::string::npos) << outcome.message;
    EXPECT_NE(outcome.message.find("1 to 128"), std::string::npos) << outcome.message;
  }
  // A template renders text: "2" is a count.
  ASSERT_EQ(redis.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "OK");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(redis.command({"PING"}), "PONG");
  auto outcome = action_->run(params({{"slowlog", {{"count", "2"}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["count"], "2");
}

// ---- memoryUsage ----

TEST_F(RedisActionTest, MemoryUsageSumsTheMatchingKeysAndListsTheLargest) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("session:", 50);
  redis.fill("cache:", 30);
  ASSERT_EQ(redis.command({"SET", "session:big", std::string(100000, 'x')}), "OK");
  long long expected = 0;
  for (int i = 0; i < 50; ++i) {
    expected += std::stoll(
        redis.command({"MEMORY", "USAGE", "session:" + std::to_string(i), "SAMPLES", "5"}));
  }
  long long big = std::stoll(redis.command({"MEMORY", "USAGE", "session:big", "SAMPLES", "5"}));
  expected += big;

  auto c = context();
  auto outcome = prepareAndRun(*action_, params({{"memoryUsage", {{"pattern", "session:*"}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["keys"], "51");
  EXPECT_EQ(outcome.outputs["complete"], "true");
  EXPECT_EQ(outcome.outputs["totalBytes"], std::to_string(expected));
  EXPECT_EQ(outcome.outputs["largestKey"], "session:big");
  EXPECT_EQ(outcome.outputs["largestBytes"], std::to_string(big));
  const std::string& top = outcome.outputs["top"];
  EXPECT_EQ(top.rfind(std::to_string(big) + " session:big\n", 0), 0u) << top;
  EXPECT_EQ(std::count(top.begin(), top.end(), '\n'), 5) << top;
  EXPECT_EQ(top.find("cache:"), std::string::npos) << top;
  EXPECT_NE(outcome.message.find("51 keys matching \"session:*\" use " + std::to_string(expected)),
            std::string::npos)
      << outcome.message;
  EXPECT_EQ(redis.command({"DBSIZE"}), "81");
}

TEST_F(RedisActionTest, MemoryUsageStopsAtMaxKeysAndSaysTheScanIsIncomplete) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 3000);
  auto c = context();
  c.dryRun = true;  // read-only: it runs in dry runs too
  auto outcome =
      prepareAndRun(*action_, params({{"memoryUsage", {{"pattern", "*"}, {"maxKeys", "100"}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["keys"], "100");
  EXPECT_EQ(outcome.outputs["complete"], "false");
  EXPECT_NE(outcome.message.find("stopped at maxKeys 100"), std::string::npos) << outcome.message;
  EXPECT_EQ(redis.command({"DBSIZE"}), "3000");
}

TEST_F(RedisActionTest, MemoryUsageStopsAtTheStepsDeadline) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 3000);
  auto c = context();
  c.deadline = c.now;  // already due: one SCAN, one key measured, then report
  auto outcome = prepareAndRun(*action_, params({{"memoryUsage", {{"pattern", "cache:*"}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["keys"], "1");
  EXPECT_EQ(outcome.outputs["complete"], "false");
  EXPECT_NE(outcome.message.find("stopped at the time limit"), std::string::npos)
      << outcome.message;
}

TEST_F(RedisActionTest, MemoryUsageOfAPatternNoKeyMatchesIsCompleteAndZero) {
  RedisServer redis;
  putUrl(redis.url());
  redis.fill("cache:", 10);
  auto c = context();
  auto outcome = prepareAndRun(*action_, params({{"memoryUsage", {{"pattern", "nope:*"}}}}), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["keys"], "0");
  EXPECT_EQ(outcome.outputs["totalBytes"], "0");
  EXPECT_EQ(outcome.outputs["complete"], "true");
  EXPECT_EQ(outcome.outputs.count("largestKey"), 0u);
}

TEST_F(RedisActionTest, MemoryUsageParametersAreCheckedNamingTheField) {
  RedisServer redis;
  putUrl(redis.url());
  auto c = context();
  auto run = [&](json usage) { return action_->run(params({{"memoryUsage", usage}}), c); };
  auto noPattern = run(json::object());
  EXPECT_EQ(noPattern.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(noPattern.message.find("redis.memoryUsage.pattern: required"), std::string::npos)
      << noPattern.message;
  for (json maxKeys : {json(0), json(100001), json("many")}) {
    auto outcome = run({{"pattern", "cache:*"}, {"maxKeys", maxKeys}});
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << maxKeys;
    EXPECT_NE(outcome.message.find("redis.memoryUsage.maxKeys: "), std::string::npos)
        << outcome.message;
  }
  auto two =
      action_->run(params({{"memoryUsage", {{"pattern", "a:*"}}}, {"slowlog", json::object()}}), c);
  EXPECT_EQ(two.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(two.message.find("exactly one of info, slowlog, memoryUsage"), std::string::npos)
      << two.message;
}

// ---- the connection ----

TEST_F(RedisActionTest, APasswordNeverAppearsInMessagesOrOutputs) {
  RedisServerOptions options;
  options.password = kPassword;
  RedisServer redis(options);
  std::string wrong = "wr0ng-Passw0rd-also-secret";
  putUrl("redis://:" + wrong + "@" + redis.endpoint(), "wrong");
  putUrl(redis.url());
  putUrl("redis://default:" + std::string(kPassword) + "@" + redis.endpoint(), "with-user");

  auto c = context();
  json refused = params({{"info", {{"section", "memory"}}}});
  refused["connection"]["secretKeyRef"]["name"] = "wrong";
  auto failed = action_->run(refused, c);
  EXPECT_EQ(failed.kind, OutcomeKind::kPermanentFailure) << failed.message;
  EXPECT_NE(failed.message.find("AUTH"), std::string::npos) << failed.message;
  EXPECT_NE(failed.message.find(redis.endpoint()), std::string::npos) << failed.message;
  EXPECT_FALSE(mentions(failed, wrong)) << failed.message;
  EXPECT_FALSE(mentions(failed, kPassword)) << failed.message;

  auto p = configSet("maxmemory", "1gb");
  auto set = prepareAndRun(*action_, p, c);
  ASSERT_EQ(set.kind, OutcomeKind::kSucceeded) << set.message;
  EXPECT_FALSE(mentions(set, kPassword)) << set.message;
  auto reverted = action_->revert(p, set.changedFrom, set.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_EQ(reverted.message.find(kPassword), std::string::npos) << reverted.message;

  json withUser = params({{"info", {{"section", "default"}}}});
  withUser["connection"]["secretKeyRef"]["name"] = "with-user";
  auto info = action_->run(withUser, context());
  ASSERT_EQ(info.kind, OutcomeKind::kSucceeded) << info.message;
  EXPECT_FALSE(mentions(info, kPassword)) << info.message;
}

TEST_F(RedisActionTest, AMissingPasswordIsAPermanentFailure) {
  RedisServerOptions options;
  options.password = kPassword;
  RedisServer redis(options);
  putUrl("redis://" + redis.endpoint());
  auto outcome = action_->run(params({{"info", json::object()}}), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("NOAUTH"), std::string::npos) << outcome.message;
}

TEST_F(RedisActionTest, AnUnreachableServerIsARetriableFailureNamingHostAndPort) {
  int port = remedy::testing::freeLoopbackPort();
  std::string endpoint = "127.0.0.1:" + std::to_string(port);
  putUrl("redis://:" + std::string(kPassword) + "@" + endpoint);
  auto c = context();
  auto prepared = action_->prepare(configSet("maxmemory", "1gb"), c);
  EXPECT_EQ(prepared.kind, OutcomeKind::kRetriableFailure);
  auto outcome = action_->run(configSet("maxmemory", "1gb"), c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure);
  EXPECT_NE(outcome.message.find(endpoint), std::string::npos) << outcome.message;
  EXPECT_FALSE(mentions(outcome, kPassword)) << outcome.message;
  auto reverted = action_->revert(configSet("maxmemory", "1gb"),
                                  json{{"parameter", "maxmemory"}, {"value", "0"}},
                                  json{{"parameter", "maxmemory"}, {"value", "1073741824"}}, c);
  EXPECT_EQ(reverted.kind, RevertKind::kRetriableFailure) << reverted.message;
  EXPECT_EQ(reverted.message.find(kPassword), std::string::npos) << reverted.message;
}

TEST_F(RedisActionTest, AServerThatDoesNotAnswerInTimeIsARetriableFailure) {
  RedisServer redis;
  putUrl(redis.url());
  ASSERT_EQ(redis.command({"CLIENT", "PAUSE", "5000", "ALL"}), "OK");
  RedisActionOptions options;
  options.commandTimeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  auto outcome = makeRedisAction(options)->run(params({{"info", json::object()}}), context());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_NE(outcome.message.find(redis.endpoint() + ": INFO default: timed out"), std::string::npos)
      << outcome.message;
}

TEST_F(RedisActionTest, ATlsUrlIsAPermanentFailureInThisBuild) {
  putUrl("rediss://:" + std::string(kPassword) + "@127.0.0.1:6380");
  auto outcome = action_->run(params({{"info", json::object()}}), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("TLS is not supported by this build"), std::string::npos)
      << outcome.message;
  EXPECT_FALSE(mentions(outcome, kPassword)) << outcome.message;
}

TEST_F(RedisActionTest, AMalformedUrlIsPermanentAndNeverQuoted) {
  std::string password = kPassword;
  std::vector<std::string> urls = {
      "http://:" + password + "@127.0.0.1:6379", "redis://:" + password + "@127.0.0.1:notaport",
      "redis://:" + password + "@", "redis://:" + password + "@127.0.0.1:6379/db"};
  for (size_t i = 0; i < urls.size(); ++i) {
    SCOPED_TRACE(i);
    std::string name = "bad-" + std::to_string(i);
    putUrl(urls[i], name);
    json p = params({{"info", json::object()}});
    p["connection"]["secretKeyRef"]["name"] = name;
    auto outcome = action_->run(p, context());
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
    EXPECT_NE(outcome.message.find("redis.connection.secretKeyRef"), std::string::npos)
        << outcome.message;
    EXPECT_FALSE(mentions(outcome, kPassword)) << outcome.message;
  }
}

TEST_F(RedisActionTest, AMissingSecretIsPermanentAndNamesIt) {
  auto outcome = action_->run(params({{"info", json::object()}}), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("redis.connection.secretKeyRef"), std::string::npos)
      << outcome.message;
}

}  // namespace
}  // namespace remedy::actions
