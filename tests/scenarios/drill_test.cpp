// Issue #10, drills: `remedyctl drill RUNBOOK` of each example Runbook
// (runbooks/examples, applied as they are into `shop` next to the objects
// they name) prints the plan and changes nothing: every object of the
// namespace keeps its resourceVersion, PostgreSQL keeps its sessions, Redis
// its keys and settings, and the drill does not count toward the Runbook's
// executions. The test plays the people a drill needs: it approves the steps
// that wait for approval and, as Alertmanager would, resolves the drill's
// alert when a step waits for that.
//
// Where a drill legitimately does not end in Succeeded (exit code 1), the
// case says why in `why`.
//
// Sandbox only: the drills' world has crash-looping and failing pods, which
// the sandbox's workload simulator makes on request (annotations
// sandbox.remedy.dev/crash-loop and /fail) and kwok's default stages do not.
#include "scenario_fixture.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

namespace remedy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct DrillCase {
  std::string runbook;              // runbooks/examples/<runbook>.yaml, metadata.name the same
  std::vector<std::string> labels;  // k=v, for --label
  bool postgres = false;
  bool redis = false;
  std::vector<RecordingRule> rules;              // a Prometheus with these, none when empty
  std::string warmQuery;                         // wait until Prometheus answers this with a sample
  std::map<std::string, std::string> approvals;  // step -> approver
  std::string resolveAtStep;                     // resolve the alert once this step runs
  int timeoutSeconds = 45;                       // remedyctl drill --timeout
  int exitCode = 0;
  std::string phase;  // the drill Incident's phase when remedyctl exits
  // Lines (substrings) the plan must print, in this order.
  std::vector<std::string> plan;
  // Steps that must still be Running (with this in their message) when the
  // drill outlives its --timeout.
  std::map<std::string, std::string> running;
  std::string why;  // for a non-zero exit code: why it is legitimate
};

void PrintTo(const DrillCase& c, std::ostream* os) { *os << c.runbook; }

// A histogram whose buckets grow one per second: p95 of 0.475s.
std::vector<RecordingRule> latencyRules() {
  return {
      {"http_request_duration_seconds_bucket",
       R"(label_replace(label_replace(vector(time()), "le", "0.5", "", ""), "service", "backend", "", ""))"},
      {"http_request_duration_seconds_bucket",
       R"(label_replace(label_replace(vector(time()), "le", "+Inf", "", ""), "service", "backend", "", ""))"}};
}

// Checkout requests, one in ten failing.
std::vector<RecordingRule> errorRateRules() {
  return {
      {"http_requests_total",
       R"(label_replace(label_replace(vector(time()), "status", "500", "", ""), "route", "/api/checkout/pay", "", ""))"},
      {"http_requests_total",
       R"(label_replace(label_replace(vector(time() * 9), "status", "200", "", ""), "route", "/api/checkout/pay", "", ""))"}};
}

std::vector<DrillCase> drillCases() {
  std::vector<DrillCase> cases;
  {
    DrillCase c;
    c.runbook = "backend-service-down";
    c.exitCode = 1;
    c.phase = "Escalated";
    c.plan = {"[Succeeded] restart (dry run)", "dry run: would restart Deployment shop/backend",
              "[Succeeded] wait-until-available (dry run)", "[Succeeded] health-check (dry run)",
              "dry run: would send GET http://backend.shop.svc:3000/health",
              "[Failed] verify-up (dry run)", "prometheus.monitoring.svc",
              // The on-call tier fires by the clock in a drill too, but sends nothing.
              "escalation on-call: Notified dry run: would send a Generic message to "
              "https://events.example.com/page/on-call",
              ": Escalated (StepFailed"};
    c.why =
        "verify-up reads the Prometheus the Runbook names, http://prometheus.monitoring.svc:9090, "
        "a cluster address that does not resolve here; a read-only check runs for real in a "
        "drill, fails, and the step's onFailure: Escalate escalates";
    cases.push_back(c);
  }
  {
    DrillCase c;
    c.runbook = "db-connection-pool-exhaustion";
    c.labels = {"deployment=backend", "datname=personal_finance", "namespace=shop",
                "severity=critical"};
    c.postgres = true;
    c.rules = {{"db_pool_connections_in_use",
                R"(label_replace(vector(12), "deployment", "backend", "", ""))"},
               {"db_pool_connections_max",
                R"(label_replace(vector(50), "deployment", "backend", "", ""))"}};
    c.approvals = {{"raise-pool-size", "sre-alice"}};
    c.timeoutSeconds = 20;
    c.exitCode = 1;
    c.phase = "Running";
    c.plan = {"[Succeeded] activity (dry run)",
              "dry run: 0 of 3 client backends match",
              "[Skipped] kill-long-queries",
              "when steps.activity.outputs.matched > 0 -> false (steps.activity.outputs.matched=0)",
              "[Succeeded] scale-backend (dry run)",
              "dry run: would scale Deployment shop/backend from 2 to 4 replicas",
              "when steps.activity.outputs.matched == 0 -> true",
              "[Succeeded] raise-pool-size (dry run)",
              "dry run: would patch Deployment shop/backend: "
              "/spec/template/spec/containers/0/env/0/value: \"10\" -> \"50\"",
              "[Succeeded] wait-for-rollout (dry run)",
              "still Running after 20s"};
    c.running = {{"verify", "holding since"}};
    c.why =
        "verify holds its check for 2m (pollInterval 30s): the drill follows it in real time, "
        "longer than this test's budget, so remedyctl stops following after --timeout 20s with "
        "the check holding";
    cases.push_back(c);
  }
  {
    DrillCase c;
    c.runbook = "high-api-latency";
    c.labels = {"service=backend", "severity=warning"};
    c.rules = latencyRules();
    c.warmQuery =
        "histogram_quantile(0.95, sum by (le) "
        "(rate(http_request_duration_seconds_bucket{service=\"backend\"}[5m])))";
    c.timeoutSeconds = 20;
    c.exitCode = 1;
    c.phase = "Running";
    c.plan = {"[Succeeded] scale-backend (dry run)",
              "dry run: would scale Deployment shop/backend from 2 to 4 replicas",
              "[Succeeded] warm-cache (dry run)",
              "dry run: would send POST http://backend.shop.svc:3333/api/admin/cache/warm",
              "still Running after 20s"};
    c.running = {{"verify-latency", "holding since"}};
    c.why =
        "verify-latency holds for 3m (pollInterval 30s); the drill follows it in real time, so "
        "remedyctl stops following after --timeout 20s with the check holding";
    cases.push_back(c);
  }
  {
    DrillCase c;
    c.runbook = "high-error-rate-feature-flag";
    c.labels = {"service=backend", "route=/api/checkout/pay", "severity=critical"};
    c.rules = errorRateRules();
    c.warmQuery =
        "sum(rate(http_requests_total{status=~\"5..\",route=~\"/api/checkout.*\"}[5m])) / "
        "sum(rate(http_requests_total{route=~\"/api/checkout.*\"}[5m]))";
    c.resolveAtStep = "wait-for-resolution";
    c.phase = "Succeeded";
    c.plan = {"[Succeeded] error-rate (dry run)",
              "[Succeeded] disable-new-checkout (dry run)",
              "dry run: would patch ConfigMap shop/feature-flags: /data/NEW_CHECKOUT_FLOW: "
              "\"true\" -> \"false\"",
              "when steps.error-rate.phase == \"Succeeded\" -> true",
              "[Succeeded] restart-to-pick-up-flags (dry run)",
              "dry run: would restart Deployment shop/backend",
              "when steps.disable-new-checkout.phase == \"Succeeded\" -> true",
              "[Succeeded] record-flag (dry run)",
              "when not (steps.disable-new-checkout.phase in [\"Skipped\", \"Failed\"]) -> true",
              "[Succeeded] wait-for-resolution (dry run)",
              ": Succeeded (Completed: every step completed); nothing was changed"};
    cases.push_back(c);
  }
  {
    DrillCase c;
    c.runbook = "kafka-consumer-lag";
    c.labels = {"consumergroup=pfh-dashboard-consumer", "severity=critical", "lag=12000"};
    c.timeoutSeconds = 20;
    c.exitCode = 1;
    c.phase = "Running";
    c.plan = {"[Succeeded] scale-consumers (dry run)",
              "dry run: would scale StatefulSet shop/consumer from 3 to 5 replicas",
              "still Running after 20s"};
    c.running = {{"wait-for-consumers",
                  ".status.readyReplicas is 3, waiting for "
                  "GreaterThanOrEqual 5"}};
    c.why =
        "wait-for-consumers waits for readyReplicas >= the replicas scale-consumers set; in a "
        "drill nothing was scaled, so the wait can only end by its 5m timeout (see the report: "
        "a wait on a dry-run step's effect)";
    cases.push_back(c);
  }
  {
    DrillCase c;
    // The alert's pod is a pod of the consumer StatefulSet, whose pods are
    // healthy: no crashed run to read the log of (the step goes on), none
    // to evict.
    c.runbook = "pod-restart-loop";
    c.labels = {"pod=consumer-1", "namespace=shop", "container=consumer"};
    c.phase = "Succeeded";
    c.plan = {"[Failed] crash-logs (dry run)",
              "previous terminated container \"consumer\" in pod \"consumer-1\" not found",
              "[Succeeded] evict-crashing-pods (dry run)",
              "dry run: would evict 0 pods in shop: ",
              "[Succeeded] wait-for-rollout (dry run)",
              "[Succeeded] delete-failed-job-pods (dry run)",
              "dry run: would delete 1 pods in shop: nightly-export-",
              "[Succeeded] tell-the-channel (dry run)",
              "dry run: would send a Slack message to the URL from Secret slack-webhooks key shop",
              ": Succeeded (CompletedWithFailures: 1 step(s) failed with onFailure Continue); "
              "nothing was changed"};
    cases.push_back(c);
  }
  {
    // The alert's pod (--label pod=) is the crash-looping pod of api.
    DrillCase c;
    c.runbook = "crashloop-after-bad-deploy";
    c.labels = {"namespace=shop", "container=api"};
    c.phase = "Succeeded";
    c.plan = {"[Failed] new-replicaset (dry run)", "prometheus.monitoring.svc",
              "[Succeeded] evict-crashing-pods (dry run)",
              "dry run: would evict 1 pods in shop: ",  // + the crash-looping pod
              "[Succeeded] tell-the-channel (dry run)"};
    cases.push_back(c);
  }
  {
    DrillCase c;
    c.runbook = "redis-memory-exhaustion";
    c.labels = {"service=redis", "severity=warning"};
    c.redis = true;
    c.rules = {{"redis_memory_used_bytes", "vector(512)"},
               {"redis_memory_max_bytes", "vector(1024)"}};
    c.resolveAtStep = "wait-for-resolution";
    c.phase = "Succeeded";
    c.plan = {"[Succeeded] memory (dry run)",
              "[Succeeded] clear-expired-keys (dry run)",
              "dry run: would delete 3",
              "[Succeeded] raise-maxmemory (dry run)",
              "dry run: would set redis 127.0.0.1:",
              "maxmemory from 0 to 2gb",
              "when steps.memory.outputs.maxmemory < 2147483648 and alert.labels.severity in "
              "[\"warning\", \"critical\"] -> true",
              "[Succeeded] lru-eviction (dry run)",
              "[Succeeded] verify-memory (dry run)",
              "[Succeeded] wait-for-resolution (dry run)",
              ": Succeeded (Completed: every step completed); nothing was changed"};
    cases.push_back(c);
  }
  {
    DrillCase c;
    c.runbook = "suspicious-authentication";
    c.labels = {"source_ip=203.0.113.7", "user_id=4f1c2a9e-77d0"};
    c.redis = true;
    c.approvals = {{"block-source", "sec-bob"}};
    c.phase = "Succeeded";
    c.plan = {"[Succeeded] block-source (dry run)",
              "dry run: would create NetworkPolicy shop/remedy-block-drill-suspicious-",
              "[Succeeded] drop-sessions (dry run)",
              "dry run: would delete 2",
              "[Succeeded] tell-security (dry run)",
              "dry run: would send a Slack message to the URL from Secret slack-webhooks key "
              "security",
              ": Succeeded (Completed: every step completed); nothing was changed"};
    cases.push_back(c);
  }
  return cases;
}

// The redis keys the drills find.
const std::vector<std::string> kRedisKeys = {"expired:1",
                                             "expired:2",
                                             "expired:3",
                                             "session:user:4f1c2a9e-77d0:web",
                                             "session:user:4f1c2a9e-77d0:mobile",
                                             "cache:dashboard:42"};

std::string percentEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

class DrillTest : public ScenarioTest, public ::testing::WithParamInterface<DrillCase> {
 protected:
  void SetUp() override {
    ScenarioTest::SetUp();
    if (HasFatalFailure()) return;
    const DrillCase& c = GetParam();
    if (c.postgres) startPostgres();
    if (HasFatalFailure()) return;
    if (c.redis) startRedis();
    if (HasFatalFailure()) return;
    if (!c.rules.empty()) {
      prometheus_ = std::make_unique<PrometheusServer>(c.rules);
      ASSERT_EQ(prometheus_->start(), "");
    }
    buildShop();
    if (HasFatalFailure()) return;
    std::vector<std::string> flags;
    if (prometheus_) flags = {"--prometheus-url", prometheus_->url()};
    op_ = &startOperator(flags);
    runbook_ = readManifest("runbooks/examples/" + c.runbook + ".yaml");
    ASSERT_EQ(kube::nameOf(runbook_), c.runbook);
    createRunbook(runbook_);
    if (!c.warmQuery.empty()) {
      ASSERT_TRUE(waitUntil([&] {
        std::string answer = loopbackHttpGet(prometheus_->port(),
                                             "/api/v1/query?query=" + percentEncode(c.warmQuery));
        return answer.find("\"result\":[{") != std::string::npos &&
               answer.find("NaN") == std::string::npos;
      })) << c.warmQuery;
    }
  }

  void startPostgres() {
    pg_ = std::make_unique<PostgresServer>();
    ASSERT_EQ(pg_->start(), "");
    pg_->exec("CREATE DATABASE personal_finance");
    PostgresServer::SessionOptions worker;
    worker.user = PostgresServer::kAppUser;
    worker.database = "personal_finance";
    worker.applicationName = "backend-worker";
    sessions_.push_back(pg_->sleeping(worker));
    sessions_.push_back(pg_->idleInTransaction(worker));
    putSecret("postgres-admin", {{"uri", pg_->uri(PostgresServer::kOperatorUser)}});
  }

  void startRedis() {
    redis_ = std::make_unique<RedisProcess>();
    ASSERT_EQ(redis_->start(), "");
    for (const auto& key : kRedisKeys) ASSERT_EQ(redis_->command({"SET", key, "v"}), "OK");
    putSecret("redis", {{"url", redis_->url()}});
  }

  // The objects the example Runbooks name, settled (rolled out, the
  // crash-looping pod in CrashLoopBackOff, the Jobs finished).
  void buildShop() {
    create(kube::resources::deployments(),
           deployment("backend", 2, "backend", {{"POSTGRES_POOL_SIZE", "10"}}));
    create(kube::resources::deployments(), deployment("api", 4, "api"));
    json consumer = deployment("consumer", 3, "consumer");
    consumer["kind"] = "StatefulSet";
    consumer["spec"]["serviceName"] = "consumer";
    create(kube::resources::statefulSets(), consumer);
    create(
        kube::resources::configMaps(),
        {{"apiVersion", "v1"},
         {"kind", "ConfigMap"},
         {"metadata", {{"name", "feature-flags"}, {"annotations", {{"owner", "checkout-team"}}}}},
         {"data", {{"NEW_CHECKOUT_FLOW", "true"}, {"DARK_MODE", "true"}}}});
    for (const char* job : {"nightly-export", "nightly-report"}) {
      json pod = {
          {"metadata", {{"labels", {{"app.kubernetes.io/part-of", "shop"}}}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"containers",
             json::array({{{"name", "export"}, {"image", "registry.example/export:2"}}})}}}};
      if (std::string(job) == "nightly-export") {
        pod["metadata"]["annotations"] = {{"sandbox.remedy.dev/fail", "true"}};
      }
      create({"batch", "v1", "jobs", "Job", true},
             {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", job}}},
              {"spec", {{"backoffLimit", 0}, {"template", pod}}}});
    }
    putSecret("slack-webhooks",
              {{"incidents", "https://hooks.slack.example.com/services/T000/B000/INCIDENTS"},
               {"shop", "https://hooks.slack.example.com/services/T000/B000/SHOP"},
               {"security", "https://hooks.slack.example.com/services/T000/B000/SECURITY"}});
    putSecret("pager", {{"on-call", "https://events.example.com/page/on-call?key=pg-1"},
                        {"team-lead", "https://events.example.com/page/team-lead?key=pg-2"},
                        {"management", "https://events.example.com/page/management?key=pg-3"},
                        {"security", "https://events.example.com/page/security?key=pg-4"}});
    putSecret("backend-admin", {{"bearer", "Bearer drill-secret-token-5d1e"}});
    ASSERT_TRUE(waitRolledOut("backend"));
    ASSERT_TRUE(waitRolledOut("api"));

    // One api pod crash-loops (the simulated kubelet reads the annotation).
    auto pods = podsOf("app=api");
    ASSERT_EQ(pods.size(), 4u);
    crashing_ = kube::nameOf(pods[0]);
    auto patched =
        client_->patch(kube::resources::pods(), shop_, crashing_,
                       R"({"metadata":{"annotations":{"sandbox.remedy.dev/crash-loop":"true"}}})");
    ASSERT_TRUE(patched.ok()) << patched.status().toString();

    ASSERT_TRUE(waitUntil([&] {
      json pod = get(kube::resources::pods(), crashing_);
      for (const auto& s : pod["status"].value("containerStatuses", json::array())) {
        if (s.value("state", json::object()).value("waiting", json::object()).value("reason", "") ==
            "CrashLoopBackOff") {
          return true;
        }
      }
      return false;
    })) << get(kube::resources::pods(), crashing_).dump(2);
    ASSERT_TRUE(waitUntil([&] {
      json d = get(kube::resources::deployments(), "api");
      for (const auto& c : d["status"].value("conditions", json::array())) {
        if (c.value("type", "") == "Available" && c.value("status", "") == "True") {
          return d["status"].value("readyReplicas", 0) == 3;
        }
      }
      return false;
    })) << get(kube::resources::deployments(), "api").dump(2);
    ASSERT_TRUE(waitUntil([&] {
      json sts = get(kube::resources::statefulSets(), "consumer");
      return sts["status"].value("readyReplicas", 0) == 3 &&
             sts["status"].value("observedGeneration", 0) == 1;
    }));
    ASSERT_TRUE(waitUntil([&] {
      return jobFinished("nightly-export", "Failed") && jobFinished("nightly-report", "Complete");
    }));
  }

  std::vector<json> podsOf(const std::string& selector) {
    kube::ListOptions options;
    options.labelSelector = selector;
    auto list = client_->list(kube::resources::pods(), shop_, options);
    if (!list.ok()) return {};
    auto items = (*list)["items"].get<std::vector<json>>();
    std::sort(items.begin(), items.end(),
              [](const json& a, const json& b) { return kube::nameOf(a) < kube::nameOf(b); });
    return items;
  }

  bool jobFinished(const std::string& name, const std::string& condition) {
    json job = get({"batch", "v1", "jobs", "Job", true}, name);
    for (const auto& c : job.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == condition && c.value("status", "") == "True") return true;
    }
    return false;
  }

  std::map<std::string, std::string> redisState() {
    std::map<std::string, std::string> state;
    for (const auto& key : kRedisKeys) state[key] = redis_->command({"GET", key});
    for (const char* parameter : {"maxmemory", "maxmemory-policy"}) {
      state[parameter] = redis_->command({"CONFIG", "GET", parameter});
    }
    state["dbsize"] = redis_->command({"DBSIZE"});
    return state;
  }

  json runbook_;
  std::unique_ptr<PostgresServer> pg_;
  std::vector<std::unique_ptr<PostgresSession>> sessions_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<PrometheusServer> prometheus_;
  std::string crashing_;
  OperatorProcess* op_ = nullptr;
};

TEST_P(DrillTest, PrintsThePlanAndChangesNothing) {
  const DrillCase& c = GetParam();
  OperatorProcess& op = *op_;

  ObjectVersions before = objectVersions();
  std::set<int> backendsBefore;
  if (pg_) backendsBefore = workloadBackends(*pg_);
  std::map<std::string, std::string> redisBefore;
  if (redis_) redisBefore = redisState();

  std::vector<std::string> args = {"drill", c.runbook,   "-n",
                                   shop_,   "--timeout", std::to_string(c.timeoutSeconds) + "s"};
  for (const auto& label : c.labels) {
    args.push_back("--label");
    args.push_back(label);
  }
  if (c.runbook == "crashloop-after-bad-deploy") {
    args.push_back("--label");
    args.push_back("pod=" + crashing_);
  }
  std::string logPath;
  auto drill = startRemedyctl(args, &logPath);

  // Play the approver and Alertmanager while remedyctl follows the drill.
  std::set<std::string> approved;
  bool resolved = false;
  waitUntil(
      [&] {
        if (!drill->running()) return true;
        for (const auto& i : shopIncidents("remedy.dev/source=Drill")) {
          std::string name = kube::nameOf(i);
          for (const auto& [step, approver] : c.approvals) {
            if (!approved.count(step) && stepOf(i, step).value("phase", "") == "AwaitingApproval") {
              approve(name, step, approver);
              approved.insert(step);
            }
          }
          if (!resolved && !c.resolveAtStep.empty() &&
              stepOf(i, c.resolveAtStep).value("phase", "") == "Running") {
            json patch = {
                {"spec",
                 {{"alert",
                   {{"status", "resolved"},
                    {"endsAt", kube::formatRfc3339(std::chrono::system_clock::now())}}}}}};
            auto patched = client_->patch(incidentsResource(), shop_, name, patch.dump());
            EXPECT_TRUE(patched.ok()) << patched.status().toString();
            resolved = true;
          }
        }
        return false;
      },
      std::chrono::seconds(c.timeoutSeconds + 20));
  CommandResult result = commandResult(*drill, logPath, std::chrono::seconds(5));
  auto drills = shopIncidents("remedy.dev/source=Drill");
  ASSERT_EQ(drills.size(), 1u) << result.output;
  const std::string name = kube::nameOf(drills[0]);
  const json last = drills[0];
  std::string context = "remedyctl drill printed:\n" + result.output + "\nincident:\n" +
                        last.dump(2) + "\noperator log:\n" + op.log();

  // The Incident is a dry-run drill of this Runbook.
  EXPECT_EQ(last["spec"].value("source", ""), "Drill");
  EXPECT_EQ(last["spec"].value("dryRun", false), true);
  EXPECT_EQ(last["status"]["runbook"].value("name", ""), c.runbook);
  for (const auto& st : last["status"].value("steps", json::array())) {
    if (st.value("attempts", 0) > 0) {
      EXPECT_EQ(st.value("dryRun", false), true) << st.dump();
    }
  }

  // The exit code and the phase it reports.
  EXPECT_EQ(result.exitCode, c.exitCode)
      << (c.why.empty() ? "" : "expected because " + c.why) << "\n"
      << context;
  EXPECT_EQ(phaseOf(last), c.phase) << context;
  EXPECT_THAT(result.output, HasSubstr("drill of runbook shop/" + c.runbook + ": incident " + name +
                                       " (dry run, source Drill)"));
  size_t at = 0;
  for (const auto& line : c.plan) {
    size_t found = result.output.find(line, at);
    EXPECT_NE(found, std::string::npos) << "missing, in order: \"" << line << "\"\n" << context;
    if (found != std::string::npos) at = found + line.size();
  }
  for (const auto& [step, message] : c.running) {
    json st = stepOf(last, step);
    EXPECT_EQ(st.value("phase", ""), "Running") << step << "\n" << context;
    EXPECT_THAT(st.value("message", ""), HasSubstr(message)) << step;
  }
  if (!crashing_.empty() && c.runbook == "crashloop-after-bad-deploy") {
    EXPECT_THAT(result.output, HasSubstr("would evict 1 pods in shop: " + crashing_));
  }

  // Nothing changed in shop (but the drill's own Incident, Events and the
  // test's Approvals).
  EXPECT_EQ(describeDifferences(before, objectVersions()), "") << context;
  if (pg_) {
    EXPECT_EQ(workloadBackends(*pg_), backendsBefore);
    EXPECT_EQ(pg_->stateOf(sessions_[0]->pid()), std::optional<std::string>("active"));
    EXPECT_EQ(pg_->stateOf(sessions_[1]->pid()), std::optional<std::string>("idle in transaction"));
  }
  if (redis_) {
    EXPECT_EQ(redisState(), redisBefore);
  }
  EXPECT_FALSE(client_
                   ->get({"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true},
                         shop_, "remedy-block-" + name)
                   .ok());

  // Drills never count toward the Runbook's executions.
  json rb = get(runbooksResource(), c.runbook);
  EXPECT_EQ(rb.value("status", json::object()).value("executions", 0), 0) << rb.dump(2);
  EXPECT_THAT(rb.value("status", json::object()).value("lastIncident", ""), Not(HasSubstr(name)));

  // No secret reaches the output or the record.
  for (const std::string& secret : {std::string("drill-secret-token-5d1e"), std::string("key=pg-"),
                                    PostgresServer::passwordOf(PostgresServer::kOperatorUser)}) {
    EXPECT_THAT(result.output, Not(HasSubstr(secret)));
    EXPECT_THAT(last.dump(), Not(HasSubstr(secret)));
  }
}

INSTANTIATE_TEST_SUITE_P(ExampleRunbooks, DrillTest, ::testing::ValuesIn(drillCases()),
                         [](const ::testing::TestParamInfo<DrillCase>& info) {
                           std::string name = info.param.runbook;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Every example Runbook has its drill case above.
TEST(DrillCases, CoverEveryExampleRunbook) {
  std::set<std::string> covered;
  for (const auto& c : drillCases()) covered.insert(c.runbook + ".yaml");
  std::set<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(REMEDY_SOURCE_DIR) + "/runbooks/examples")) {
    if (entry.path().extension() == ".yaml") files.insert(entry.path().filename().string());
  }
  EXPECT_EQ(files.size(), 9u);
  EXPECT_EQ(covered, files);
}

}  // namespace
}  // namespace remedy::testing
