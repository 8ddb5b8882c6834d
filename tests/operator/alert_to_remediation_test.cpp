// One remedy-operator process end to end: an Alertmanager alert posted to
// the webhook becomes an Incident whose Runbook scales a Deployment and
// restarts it; the Incident, /metrics and the JSON logs say what happened,
// and the webhook token never appears in the logs.
#include "operator_fixture.h"

namespace remedy::testing {
namespace {

const char* kLatencyRunbook = R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: api-latency
spec:
  description: Scale out and restart api when its latency alert fires.
  triggers:
    - alertName: HighLatency
      labels: {service: api}
  guardrails:
    scale: {maxReplicas: 6, maxChange: 2}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 6
    - name: restart
      rolloutRestart:
        target: {kind: Deployment, name: api}
    - name: wait-rollout
      waitFor:
        target: {kind: Deployment, name: api}
        state: RolloutComplete
        pollInterval: 200ms
      timeout: 1m
)";

TEST_F(OperatorE2ETest, AlertBecomesAnIncidentThatScalesAndRestartsTheDeployment) {
  createDeployment("api", 2);
  std::map<std::string, std::string> podsBefore = pods("api");
  ASSERT_EQ(podsBefore.size(), 2u);
  applyRunbook(kLatencyRunbook);
  OperatorProcess& op = startOperator({"--log-format", "json"});

  // A request with the wrong token is refused, and that token is not logged either.
  const std::string wrongToken = "wrong-secret-7f3a9c";
  HttpAnswer refused = httpRequest(
      op.webhookPort, "POST", "/api/v1/alerts",
      webhookPayload("firing", json::array({testAlert("HighLatency", "5e3b2a1c9d8f7e6a")})).dump(),
      {"Authorization: Bearer " + wrongToken, "Content-Type: application/json"});
  EXPECT_EQ(refused.status, 401);

  fire(op, "HighLatency", "5e3b2a1c9d8f7e6a");
  std::string name = awaitIncident("HighLatency");
  ASSERT_FALSE(name.empty()) << allLogs();
  json incident = awaitFinal(name);
  ASSERT_EQ(phaseOf(incident), "Succeeded") << incident.dump(2) << allLogs();

  // Every step is recorded: one attempt each, with its times and result.
  EXPECT_EQ(incident["status"]["runbook"].value("name", ""), "api-latency");
  for (const char* step : {"scale-out", "restart", "wait-rollout"}) {
    json s = stepOf(incident, step);
    EXPECT_EQ(s.value("phase", ""), "Succeeded") << step;
    EXPECT_EQ(s.value("attempts", 0), 1) << step;
    EXPECT_FALSE(s.value("startedAt", "").empty()) << step;
    EXPECT_FALSE(s.value("finishedAt", "").empty()) << step;
    EXPECT_FALSE(s.value("message", "").empty()) << step;
  }
  json scaled = outputsOf(incident, "scale-out");
  EXPECT_EQ(scaled.value("previousReplicas", ""), "2");
  EXPECT_EQ(scaled.value("replicas", ""), "4");
  std::string restartedAt = outputsOf(incident, "restart").value("restartedAt", "");
  EXPECT_FALSE(restartedAt.empty());

  // The Deployment: two more replicas, restarted once, and every pod replaced.
  json api = deployment("api");
  EXPECT_EQ(api["spec"].value("replicas", 0), 4);
  EXPECT_EQ(api["spec"]["template"]["metadata"]["annotations"].value(kRestartedAt, ""),
            restartedAt);
  bool replaced = waitUntil([&] {
    auto now = pods("api");
    if (now.size() != 4) return false;
    for (const auto& [pod, uid] : now) {
      for (const auto& [oldPod, oldUid] : podsBefore) {
        if (uid == oldUid) return false;
      }
    }
    return availableReplicas("api") == 4;
  });
  EXPECT_TRUE(replaced) << "pods of api now: " << json(pods("api")).dump();
  kube::Resource replicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
  kube::ListOptions byApp;
  byApp.labelSelector = "app=api";
  auto sets = client_->list(replicaSets, namespace_, byApp);
  ASSERT_TRUE(sets.ok());
  EXPECT_EQ((*sets)["items"].size(), 2u) << "the restart made a second ReplicaSet";

  // /metrics.
  std::string metrics;
  // Events go out from their own queue, after the step that made them: wait
  // for the first one as well as for the gauge.
  bool counted = waitUntil([&] {
    metrics = op.metrics();
    return metricValue(metrics, "remedy_incidents", {{"phase", "Succeeded"}}) == 1.0 &&
           metricValue(metrics, "remedy_kube_client_requests_total",
                       {{"budget", "events"}, {"verb", "POST"}, {"code", "201"}})
                   .value_or(0) >= 1.0;
  });
  EXPECT_TRUE(counted) << metrics;
  EXPECT_GE(
      metricValue(metrics, "remedy_alerts_received_total", {{"status", "firing"}}).value_or(0), 1.0)
      << metrics;
  EXPECT_EQ(metricValue(metrics, "remedy_step_attempts_total",
                        {{"action", "scale"}, {"outcome", "Succeeded"}})
                .value_or(-1),
            1.0)
      << metrics;
  EXPECT_EQ(metricValue(metrics, "remedy_step_attempts_total",
                        {{"action", "rolloutRestart"}, {"outcome", "Succeeded"}})
                .value_or(-1),
            1.0)
      << metrics;
  EXPECT_EQ(metricValue(metrics, "remedy_leader").value_or(-1), 1.0) << metrics;
  EXPECT_GT(metricSum(metrics, "remedy_kube_client_requests_total").value_or(0), 0.0) << metrics;
  // Each part drew on its own budget: the webhook created the Incident, the
  // engine ran it, Events went out on theirs.
  EXPECT_GE(metricValue(metrics, "remedy_kube_client_requests_total",
                        {{"budget", "intake"}, {"verb", "POST"}, {"code", "201"}})
                .value_or(0),
            1.0)
      << metrics;
  EXPECT_GE(metricValue(metrics, "remedy_kube_client_requests_total",
                        {{"budget", "engine"}, {"verb", "PUT"}, {"code", "200"}})
                .value_or(0),
            1.0)
      << metrics;
  EXPECT_GE(metricValue(metrics, "remedy_kube_client_requests_total",
                        {{"budget", "events"}, {"verb", "POST"}, {"code", "201"}})
                .value_or(0),
            1.0)
      << metrics;
  EXPECT_TRUE(metricValue(metrics, "remedy_workqueue_depth").has_value()) << metrics;
  EXPECT_EQ(metrics.find(webhookToken()), std::string::npos);

  // The logs: one JSON object per line, saying what happened, without the token.
  op.process.stop();
  EXPECT_TRUE(WIFEXITED(op.process.exitStatus()) && WEXITSTATUS(op.process.exitStatus()) == 0)
      << "exit status " << op.process.exitStatus();
  std::string log = op.log();
  std::istringstream lines(log);
  std::string line;
  int parsed = 0;
  bool sawMatched = false;
  bool sawScale = false;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    json record = json::parse(line, nullptr, false);
    ASSERT_TRUE(record.is_object()) << "not a JSON log line: " << line;
    for (const char* field : {"time", "level", "logger", "msg"}) {
      EXPECT_TRUE(record.contains(field) && record[field].is_string()) << field << ": " << line;
    }
    std::string msg = record.value("msg", "");
    if (msg.find("event=matched") != std::string::npos) sawMatched = true;
    if (msg.find("step=scale-out") != std::string::npos &&
        msg.find("outcome=Succeeded") != std::string::npos) {
      sawScale = true;
    }
    ++parsed;
  }
  EXPECT_GT(parsed, 5);
  EXPECT_TRUE(sawMatched) << log;
  EXPECT_TRUE(sawScale) << log;
  EXPECT_EQ(log.find(webhookToken()), std::string::npos) << "the webhook token was logged";
  EXPECT_EQ(log.find(wrongToken), std::string::npos) << "a presented token was logged";
  // The operator's own credential: the sandbox's bearer token, or a line of
  // the real control plane's client key.
  kube::Config admin = adminConfig();
  std::string credential = admin.bearerToken;
  if (credential.empty()) {
    auto body = admin.clientKeyPem.find('\n');
    ASSERT_NE(body, std::string::npos);
    credential = admin.clientKeyPem.substr(body + 1, 40);
  }
  EXPECT_EQ(log.find(credential), std::string::npos) << "the API server credential was logged";
}

}  // namespace
}  // namespace remedy::testing
