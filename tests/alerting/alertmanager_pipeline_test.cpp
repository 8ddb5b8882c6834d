// Issue #6 ("Done when", first bullet) and #10 (Redis): a real Prometheus
// evaluates an alerting rule on a gauge the test sets, a real Alertmanager
// sends the alert to remedy-operator's webhook, the Runbook remediates, and
// when the test switches the gauge off the resolution travels the same way
// and reaches the Incident (and reverts what the Runbook made temporary).
#include "../support/redis_server.h"
#include "alerting_fixture.h"

namespace remedy::testing {
namespace {

// Firing, Incident, remediation and resolution through the real chain; a
// test of its own is kept under ~60 s, so every wait has a deadline that
// fits in that.
constexpr auto kAlertToIncident = std::chrono::seconds(30);
constexpr auto kRemediation = std::chrono::seconds(20);
constexpr auto kResolution = std::chrono::seconds(30);

TEST_F(AlertingTest, PrometheusAlertThroughAlertmanagerScalesAndResolvesTheIncident) {
  OperatorProcess& op = startOperator();
  ASSERT_NO_FATAL_FAILURE(createDeployment("api", 2));
  ASSERT_NO_FATAL_FAILURE(applyRunbook(R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: api-latency
spec:
  description: Scale api out when its latency alert fires.
  triggers:
    - alertName: HighLatency
      labels: {service: api}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 6
)"));
  AlertRule rule{"HighLatency",
                 "max(remedy_test_latency_seconds) > 0.5",
                 {{"service", "api"}, {"namespace", namespace_}, {"severity", "warning"}},
                 {{"summary", "p95 latency of api above 0.5s"}}};
  ASSERT_NO_FATAL_FAILURE(startAlerting(op, "remedy_test_latency_seconds", rule));
  // Scraped and evaluated with the gauge at 0: nothing fires.
  ASSERT_TRUE(waitUntil([&] {
    return prometheusQuery("remedy_test_latency_seconds").find("\"value\":[") != std::string::npos;
  })) << diagnostics();
  EXPECT_TRUE(incidents().empty());

  exporter_->set(2.5);  // latency rises
  ASSERT_TRUE(waitUntil([&] { return !theIncident().is_null(); }, kAlertToIncident))
      << diagnostics();
  json incident = theIncident();
  std::string name = incident["metadata"]["name"];
  const json& alert = incident["spec"]["alert"];
  EXPECT_EQ(incident["spec"]["source"], "Alertmanager");
  EXPECT_EQ(alert["name"], "HighLatency");
  EXPECT_EQ(alert["status"], "firing");
  EXPECT_EQ(alert["labels"]["service"], "api");
  EXPECT_EQ(alert["labels"]["severity"], "warning");
  EXPECT_EQ(alert["annotations"]["summary"], "p95 latency of api above 0.5s");
  EXPECT_NE(alert.value("generatorURL", "").find(std::to_string(prometheusPort_)),
            std::string::npos)
      << alert.dump();
  EXPECT_FALSE(alert.contains("endsAt"));
  // The alert is the one Alertmanager holds: same fingerprint.
  json held = alertmanagerAlerts();
  ASSERT_EQ(held.size(), 1u) << held.dump();
  EXPECT_EQ(held[0]["fingerprint"], alert["fingerprint"]);

  ASSERT_TRUE(waitUntil([&] { return phaseOf(getIncident(name)) == "Succeeded"; }, kRemediation))
      << diagnostics();
  EXPECT_EQ(deploymentReplicas("api"), 4);
  incident = getIncident(name);
  EXPECT_EQ(incident["status"]["runbook"]["name"], "api-latency");
  EXPECT_EQ(stepStatus(incident, "scale-out").value("phase", ""), "Succeeded");
  EXPECT_EQ(incident["spec"]["alert"]["status"], "firing");  // nothing resolved it yet

  exporter_->set(0.1);  // latency back to normal: the rule stops firing
  ASSERT_TRUE(waitUntil(
      [&] {
        json now = getIncident(name);
        return now.is_object() && now["spec"]["alert"].value("status", "") == "resolved";
      },
      kResolution))
      << diagnostics();
  incident = getIncident(name);
  std::string endsAt = incident["spec"]["alert"].value("endsAt", "");
  EXPECT_FALSE(endsAt.empty());
  EXPECT_EQ(endsAt.rfind("0001-", 0), std::string::npos) << endsAt;
  EXPECT_GT(endsAt, incident["spec"]["alert"].value("startsAt", "")) << incident["spec"].dump();
  ASSERT_TRUE(waitUntil([&] {
    json now = getIncident(name);
    return !now.value("status", json::object()).value("resolvedAt", "").empty();
  })) << diagnostics();
  incident = getIncident(name);
  EXPECT_EQ(phaseOf(incident), "Succeeded");
  EXPECT_EQ(timelineOf(incident, "AlertResolved").size(), 1u) << incident["status"].dump();
  EXPECT_EQ(incidents().size(), 1u);        // the resolution made no Incident of its own
  EXPECT_EQ(deploymentReplicas("api"), 4);  // the step had no revert
}

// A Redis server, its URL (with a password) in a Secret, a Runbook that
// raises maxmemory to 64mb until the alert resolves, and the alerting chain
// with RedisHighMemory on a gauge.
class RedisAlertingTest : public AlertingTest {
 protected:
  static constexpr const char* kOriginal = "16777216";  // 16mb
  static constexpr const char* kRaised = "67108864";    // 64mb
  static constexpr const char* kPassword = "s3cret-redis-pass";

  void SetUp() override {
    AlertingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    redis_ = std::make_unique<RedisServer>(RedisServerOptions{kPassword});
    ASSERT_EQ(redis_->command({"CONFIG", "SET", "maxmemory", "16mb"}), "OK");
    ASSERT_EQ(redis_->configGet("maxmemory"), kOriginal);
  }

  void TearDown() override {
    AlertingTest::TearDown();
    redis_.reset();
  }

  // Up to the raised maxmemory: returns the Incident's name.
  std::string raiseMaxmemory() {
    OperatorProcess& op = startOperator();
    createSecret("redis", "url", redis_->url());
    if (HasFatalFailure()) return "";
    applyRunbook(R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: redis-memory
spec:
  description: Raise maxmemory while Redis is short of memory.
  triggers:
    - alertName: RedisHighMemory
      labels: {service: redis}
  steps:
    - name: raise-maxmemory
      redis:
        connection:
          secretKeyRef: {name: redis, key: url}
        configSet:
          parameter: maxmemory
          value: 64mb
      revert:
        onResolved: true
)");
    if (HasFatalFailure()) return "";
    AlertRule rule{"RedisHighMemory",
                   "max(remedy_test_redis_memory_ratio) > 0.9",
                   {{"service", "redis"}, {"namespace", namespace_}, {"severity", "critical"}},
                   {{"summary", "Redis memory above 90% of maxmemory"}}};
    startAlerting(op, "remedy_test_redis_memory_ratio", rule);
    if (HasFatalFailure()) return "";
    exporter_->set(0.97);
    EXPECT_TRUE(waitUntil([&] { return !theIncident().is_null(); }, kAlertToIncident))
        << diagnostics();
    json incident = theIncident();
    if (incident.is_null()) return "";
    std::string name = incident["metadata"]["name"];
    EXPECT_TRUE(waitUntil([&] { return phaseOf(getIncident(name)) == "Succeeded"; }, kRemediation))
        << diagnostics();
    incident = getIncident(name);
    json step = stepStatus(incident, "raise-maxmemory");
    EXPECT_EQ(step.value("phase", ""), "Succeeded") << step.dump();
    EXPECT_EQ(step["outputs"].value("previousValue", ""), kOriginal) << step.dump();
    EXPECT_EQ(step["outputs"].value("value", ""), kRaised) << step.dump();
    EXPECT_EQ(step["revert"].value("state", ""), "Pending") << step.dump();
    EXPECT_EQ(step["revert"].value("onResolved", false), true) << step.dump();
    EXPECT_EQ(timelineOf(incident, "RevertScheduled").size(), 1u) << incident["status"].dump();
    EXPECT_EQ(redis_->configGet("maxmemory"), kRaised);
    return name;
  }

  // Switches the gauge off and waits until the revert of the step ended
  // (whatever its state); returns the Incident then.
  json resolve(const std::string& name) {
    exporter_->set(0.3);
    json incident;
    EXPECT_TRUE(waitUntil(
        [&] {
          incident = getIncident(name);
          std::string state = stepStatus(incident, "raise-maxmemory")
                                  .value("revert", json::object())
                                  .value("state", "");
          return !state.empty() && state != "Pending";
        },
        kResolution))
        << diagnostics();
    EXPECT_EQ(incident["spec"]["alert"].value("status", ""), "resolved");
    EXPECT_FALSE(incident["spec"]["alert"].value("endsAt", "").empty());
    return incident;
  }

  // The password is in the Secret only: not on the Incident, its Events or
  // the operator's log.
  void expectPasswordNowhere(const std::string& name) {
    EXPECT_EQ(getIncident(name).dump().find(kPassword), std::string::npos);
    auto events = client_->list(kube::resources::events(), namespace_);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->dump().find(kPassword), std::string::npos);
    EXPECT_EQ(operators_.back()->log().find(kPassword), std::string::npos);
  }

  std::unique_ptr<RedisServer> redis_;
};

TEST_F(RedisAlertingTest, MaxmemoryRaisedUntilTheAlertResolvesThroughAlertmanager) {
  std::string name = raiseMaxmemory();
  ASSERT_FALSE(HasFailure()) << diagnostics();

  json incident = resolve(name);
  json revert = stepStatus(incident, "raise-maxmemory")["revert"];
  EXPECT_EQ(revert.value("state", ""), "Reverted") << revert.dump();
  EXPECT_FALSE(revert.value("revertedAt", "").empty()) << revert.dump();
  EXPECT_NE(revert.value("message", "").find("restored"), std::string::npos) << revert.dump();
  EXPECT_EQ(redis_->configGet("maxmemory"), kOriginal);
  auto entries = timelineOf(incident, "Reverted");
  ASSERT_EQ(entries.size(), 1u) << incident["status"].dump();
  EXPECT_EQ(entries[0].value("step", ""), "raise-maxmemory");
  EXPECT_NE(entries[0].value("message", "").find("the alert resolved"), std::string::npos)
      << entries[0].dump();
  EXPECT_NE(entries[0].value("message", "").find(std::string(kRaised) + " to " + kOriginal),
            std::string::npos)
      << entries[0].dump();
  ASSERT_TRUE(waitUntil([&] { return !eventsFor(name, "Reverted").empty(); }))
      << "no Reverted event\n"
      << diagnostics();
  json event = eventsFor(name, "Reverted")[0];
  EXPECT_EQ(event.value("type", ""), "Normal");
  EXPECT_NE(event.value("message", "").find("raise-maxmemory"), std::string::npos) << event.dump();
  EXPECT_EQ(phaseOf(incident), "Succeeded");
  expectPasswordNowhere(name);
}

TEST_F(RedisAlertingTest, MaxmemoryChangedBySomeoneElseIsLeftAloneOnResolution) {
  std::string name = raiseMaxmemory();
  ASSERT_FALSE(HasFailure()) << diagnostics();
  // A human raises it further while the Incident waits for the resolution.
  ASSERT_EQ(redis_->command({"CONFIG", "SET", "maxmemory", "128mb"}), "OK");
  const std::string human = "134217728";

  json incident = resolve(name);
  json revert = stepStatus(incident, "raise-maxmemory")["revert"];
  EXPECT_EQ(revert.value("state", ""), "Refused") << revert.dump();
  EXPECT_NE(revert.value("message", "").find("changed since Remedy set it"), std::string::npos)
      << revert.dump();
  EXPECT_NE(revert.value("message", "").find(human), std::string::npos) << revert.dump();
  EXPECT_EQ(redis_->configGet("maxmemory"), human);
  auto entries = timelineOf(incident, "RevertRefused");
  ASSERT_EQ(entries.size(), 1u) << incident["status"].dump();
  EXPECT_EQ(entries[0].value("step", ""), "raise-maxmemory");
  EXPECT_NE(entries[0].value("message", "").find("left alone"), std::string::npos)
      << entries[0].dump();
  EXPECT_TRUE(timelineOf(incident, "Reverted").empty());
  ASSERT_TRUE(waitUntil([&] { return !eventsFor(name, "RevertRefused").empty(); }))
      << "no RevertRefused event\n"
      << diagnostics();
  EXPECT_EQ(eventsFor(name, "RevertRefused")[0].value("type", ""), "Warning");
  // Nothing tries again later: the human's value stays.
  EXPECT_EQ(redis_->configGet("maxmemory"), human);
  expectPasswordNowhere(name);
}

}  // namespace
}  // namespace remedy::testing
