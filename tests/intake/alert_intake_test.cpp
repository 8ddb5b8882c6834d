#include "intake_fixture.h"

#include "http/certificates.h"
#include "kube/rest_client.h"

#include <cstdio>
#include <regex>
#include <set>
#include <thread>

namespace remedy::intake::testing {
namespace {

TEST_F(IntakeTest, FiringAlertBecomesAnIncident) {
  startIntake();
  json a = alert("KubePodCrashLooping", {{"pod", "web-1"}, {"severity", "critical"}});
  auto answer = post(payload({a}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  EXPECT_EQ(answer.bodyJson()["created"], 1);

  auto all = incidents();
  ASSERT_EQ(all.size(), 1u);
  const json& inc = all[0];
  std::string name = kube::nameOf(inc);
  EXPECT_TRUE(std::regex_match(name, std::regex("kube-pod-crash-looping-[0-9a-f]{16}"))) << name;
  EXPECT_EQ(answer.bodyJson()["incidents"][0]["name"], name);
  EXPECT_EQ(inc["spec"]["source"], "Alertmanager");
  const json& spec = inc["spec"]["alert"];
  EXPECT_EQ(spec["name"], "KubePodCrashLooping");
  EXPECT_EQ(spec["status"], "firing");
  EXPECT_EQ(spec["labels"]["pod"], "web-1");
  EXPECT_EQ(spec["annotations"]["summary"], "KubePodCrashLooping is firing");
  EXPECT_EQ(spec["startsAt"], "2024-05-01T12:00:00.123456789Z");
  EXPECT_FALSE(spec.contains("endsAt")) << "a firing alert has not ended";
  EXPECT_EQ(spec["generatorURL"], "http://prometheus:9090/graph?g0.expr=up");
  EXPECT_EQ(spec["fingerprint"], a["fingerprint"]);
  EXPECT_EQ(inc["metadata"]["labels"]["remedy.dev/alertname"], "KubePodCrashLooping");
  EXPECT_EQ(inc["metadata"]["labels"]["remedy.dev/fingerprint"], a["fingerprint"]);
  EXPECT_EQ(inc["metadata"]["annotations"]["remedy.dev/alertmanager-url"],
            "http://alertmanager-0:9093");

  EXPECT_EQ(metric("remedy_alerts_received_total", "status", "firing"), 1);
  EXPECT_EQ(metric("remedy_alerts_handled_total", "outcome", "created"), 1);
  EXPECT_EQ(metric("remedy_intake_requests_total", "code", "200"), 1);
  EXPECT_EQ(metric("remedy_intake_request_duration_seconds"), 1);
}

TEST_F(IntakeTest, MissingOrWrongTokenIs401AndTheTokenIsNeverEchoed) {
  startIntake();
  // The intake logs with spdlog's default logger (stdout): capture it.
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  auto none = post(payload({alert("A")}), "");
  EXPECT_EQ(none.code, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"remedy\"");
  EXPECT_NE(none.message().find("bearer token is required"), std::string::npos) << none.body;

  auto wrong = post(payload({alert("A")}), "guessed-token");
  EXPECT_EQ(wrong.code, 401);
  EXPECT_NE(wrong.header("www-authenticate").find("invalid_token"), std::string::npos);
  EXPECT_EQ(wrong.body.find("guessed-token"), std::string::npos);
  EXPECT_EQ(wrong.body.find(kToken), std::string::npos);

  // A prefix of the right token is not the token.
  EXPECT_EQ(post(payload({alert("A")}), std::string(kToken).substr(0, 10)).code, 401);
  auto basic = httpRequest(
      server_->port(), "POST", AlertIntake::kPath,
      {{"Content-Type", "application/json"}, {"Authorization", std::string("Basic ") + kToken}},
      payload({alert("A")}).dump());
  EXPECT_EQ(basic.code, 401);
  EXPECT_TRUE(incidents().empty());
  EXPECT_EQ(metric("remedy_intake_requests_refused_total", "reason", "unauthorized"), 4);
  EXPECT_EQ(metric("remedy_intake_requests_total", "code", "401"), 4);

  // The scheme is case-insensitive.
  auto lower = httpRequest(
      server_->port(), "POST", AlertIntake::kPath,
      {{"Content-Type", "application/json"}, {"Authorization", std::string("bearer ") + kToken}},
      payload({alert("A")}).dump());
  EXPECT_EQ(lower.code, 200) << lower.body;

  std::string logs =
      ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logs.find("reason=unauthorized"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kToken), std::string::npos) << logs;
  EXPECT_EQ(logs.find(std::string(kToken).substr(0, 10)), std::string::npos) << logs;
  EXPECT_EQ(logs.find("guessed-token"), std::string::npos) << logs;
}

TEST_F(IntakeTest, RotatedTokenFileTakesEffectWithoutRestart) {
  startIntake();
  EXPECT_EQ(post(payload({alert("A")})).code, 200);
  writeToken("the-next-token-2");
  EXPECT_EQ(post(payload({alert("A")})).code, 401);
  EXPECT_EQ(post(payload({alert("A")}), "the-next-token-2").code, 200);
}

TEST_F(IntakeTest, MalformedJsonIs400WithTheParsersPosition) {
  startIntake();
  auto answer = post(std::string("{\"alerts\": [ {\"status\": \"firing\", }"));
  EXPECT_EQ(answer.code, 400);
  EXPECT_NE(answer.message().find("malformed JSON at byte"), std::string::npos) << answer.body;
  EXPECT_NE(answer.message().find("line 1, column"), std::string::npos) << answer.body;
  EXPECT_EQ(metric("remedy_intake_requests_refused_total", "reason", "malformed_json"), 1);
}

TEST_F(IntakeTest, WrongShapesAre400NamingTheFieldAndCreateNothing) {
  startIntake();
  struct Case {
    json body;
    std::string expected;
  };
  json labelsArray = alert("A");
  labelsArray["labels"] = json::array({"alertname", "A"});
  json noStart = alert("A");
  noStart.erase("startsAt");
  json longLabel = alert("A", {{"service", std::string(5000, 's')}});
  std::vector<Case> cases = {
      {json::array(), "the payload must be a JSON object"},
      {{{"version", "4"}, {"alerts", "none"}}, "alerts: must be an array, got string"},
      {payload({labelsArray}), "alerts[0].labels: must be an object, got array"},
      {payload({noStart}), "alerts[0].startsAt: required"},
      {payload({alert("A"), alert("B"), alert("C"), longLabel}),
       "alerts[3].labels.service: 5000 bytes, more than the limit of 4096"},
  };
  for (const auto& c : cases) {
    auto answer = post(c.body);
    EXPECT_EQ(answer.code, 400) << answer.body;
    EXPECT_NE(answer.message().find(c.expected), std::string::npos)
        << "answer: " << answer.body << "\nwanted: " << c.expected;
  }
  // Only the valid alerts of the last payload were stored.
  EXPECT_EQ(incidents().size(), 3u);
  EXPECT_EQ(metric("remedy_alerts_refused_total", "reason", "invalid"), 3);
}

TEST_F(IntakeTest, AnInvalidAlertDoesNotStopTheValidOnes) {
  startIntake();
  json bad = alert("Broken");
  bad["status"] = "pending";
  auto answer = post(payload({alert("Good"), bad}));
  EXPECT_EQ(answer.code, 400);
  json body = answer.bodyJson();
  ASSERT_EQ(body["errors"].size(), 1u);
  EXPECT_NE(body["errors"][0].get<std::string>().find("alerts[1].status"), std::string::npos);
  EXPECT_EQ(body["created"], 1);
  ASSERT_EQ(incidents().size(), 1u);
  EXPECT_EQ(incidents()[0]["spec"]["alert"]["name"], "Good");
  EXPECT_EQ(metric("remedy_alerts_received_total", "status", "invalid"), 1);
}

TEST_F(IntakeTest, WrongMethodPathOrContentTypeIsRefused) {
  startIntake();
  auto get = httpRequest(server_->port(), "GET", AlertIntake::kPath,
                         {{"Authorization", std::string("Bearer ") + kToken}}, "");
  EXPECT_EQ(get.code, 405);
  EXPECT_EQ(get.header("allow"), "POST");

  auto elsewhere = httpRequest(
      server_->port(), "POST", "/api/v2/alerts",
      {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "application/json"}},
      payload({alert("A")}).dump());
  EXPECT_EQ(elsewhere.code, 404);
  EXPECT_NE(elsewhere.message().find("POST /api/v1/alerts"), std::string::npos);

  auto form = post(payload({alert("A")}).dump(), kToken, "application/x-www-form-urlencoded");
  EXPECT_EQ(form.code, 415);
  EXPECT_NE(form.message().find("application/json"), std::string::npos);
  EXPECT_EQ(post(payload({alert("A")}).dump(), kToken, "").code, 415);
  EXPECT_EQ(post(payload({alert("A")}).dump(), kToken, "Application/JSON; charset=utf-8").code,
            200);
  EXPECT_EQ(metric("remedy_intake_requests_refused_total", "reason", "unsupported_media_type"), 2);
}

TEST_F(IntakeTest, OversizedBodyIs413) {
  AlertIntakeOptions o = intakeOptions();
  o.maxBodyBytes = 64 * 1024;
  startIntake(o);
  // The server answers from Content-Length alone, before reading the body.
  std::string big(64 * 1024 + 1, ' ');
  auto answer = httpRequest(
      server_->port(), "POST", AlertIntake::kPath,
      {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "application/json"}},
      big, false);
  EXPECT_EQ(answer.code, 413);
  // Exactly the limit is read and accepted.
  std::string fits = payload({alert("A")}).dump();
  fits.append(64 * 1024 - fits.size(), ' ');
  EXPECT_EQ(post(fits).code, 200);
}

TEST_F(IntakeTest, TooManyAlertsIs413NamingTheCount) {
  AlertIntakeOptions o = intakeOptions();
  o.limits.maxAlerts = 3;
  startIntake(o);
  auto answer = post(payload({alert("A"), alert("B"), alert("C"), alert("D")}));
  EXPECT_EQ(answer.code, 413);
  EXPECT_NE(answer.message().find("4 alerts, more than the limit of 3"), std::string::npos)
      << answer.body;
  EXPECT_TRUE(incidents().empty());
  EXPECT_EQ(metric("remedy_alerts_refused_total", "reason", "too_many_alerts"), 4);
}

TEST_F(IntakeTest, RetriedPayloadCreatesNoDuplicate) {
  startIntake();
  json body = payload({alert("A", {{"pod", "p1"}}), alert("A", {{"pod", "p2"}})});
  auto first = post(body);
  ASSERT_EQ(first.code, 200) << first.body;
  EXPECT_EQ(first.bodyJson()["created"], 2);
  auto again = post(body);
  ASSERT_EQ(again.code, 200) << again.body;
  EXPECT_EQ(again.bodyJson()["created"], 0);
  EXPECT_EQ(again.bodyJson()["existing"], 2);
  EXPECT_EQ(incidents().size(), 2u);
}

TEST_F(IntakeTest, IncidentCreatedElsewhereCountsAsStored) {
  // An informer that never lists: the intake cannot know the Incident
  // exists and learns it from the API server's 409 AlreadyExists.
  extraInformer_ = std::make_unique<kube::Informer>(*client_, incidentsResource());
  AlertIntakeOptions o = intakeOptions();
  o.maxActiveIncidents = 0;
  o.incidentInformer = extraInformer_.get();
  startIntake(o);
  json a = alert("A");
  std::string name =
      incidentName("A", a["fingerprint"], *parseTimestamp(a["startsAt"].get<std::string>()));
  json existing = {{"apiVersion", "remedy.dev/v1alpha1"},
                   {"kind", "Incident"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"spec", {{"source", "Manual"}, {"alert", {{"name", "A"}}}}}};
  ASSERT_TRUE(client_->create(incidentsResource(), namespace_, existing).ok());

  auto answer = post(payload({a}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  EXPECT_EQ(answer.bodyJson()["existing"], 1);
  EXPECT_EQ(answer.bodyJson()["created"], 0);
  ASSERT_EQ(incidents().size(), 1u);
  EXPECT_EQ(incidents()[0]["spec"]["source"], "Manual") << "the existing Incident is left alone";
}

TEST_F(IntakeTest, UncountedActiveIncidentsAre503UntilTheInformerHasListed) {
  extraInformer_ = std::make_unique<kube::Informer>(*client_, incidentsResource());
  AlertIntakeOptions o = intakeOptions();
  o.maxActiveIncidents = 10;
  o.incidentInformer = extraInformer_.get();
  startIntake(o);
  auto early = post(payload({alert("A")}));
  EXPECT_EQ(early.code, 503) << early.body;
  EXPECT_NE(early.message().find("not ready"), std::string::npos) << early.body;
  EXPECT_FALSE(early.header("retry-after").empty());
  // Resolutions do not need the count.
  EXPECT_EQ(post(payload({resolved(alert("B"))})).code, 200);

  extraInformer_->start();
  ASSERT_TRUE(server_->intake().waitUntilReady(std::chrono::seconds(30)));
  EXPECT_EQ(post(payload({alert("A")})).code, 200);
}

TEST_F(IntakeTest, HaPairPostingAtOnceMakesOneIncident) {
  startIntake();
  json a = alert("DiskFull", {{"device", "/dev/sda"}});
  std::vector<HttpAnswer> answers(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      answers[i] =
          post(payload({a}, "remedy", "http://alertmanager-" + std::to_string(i) + ":9093"));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answers[0].code, 200) << answers[0].body;
  EXPECT_EQ(answers[1].code, 200) << answers[1].body;
  EXPECT_EQ(
      answers[0].bodyJson()["created"].get<int>() + answers[1].bodyJson()["created"].get<int>(), 1);
  EXPECT_EQ(incidents().size(), 1u);
}

TEST_F(IntakeTest, MissingFingerprintIsComputedLikeAlertmanager) {
  startIntake();
  json a = alert("HighLatency", {{"service", "api"}, {"namespace", "shop"}});
  a.erase("fingerprint");
  auto answer = post(payload({a}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  auto all = incidents();
  ASSERT_EQ(all.size(), 1u);
  // What Alertmanager 0.25 computes for these labels.
  EXPECT_EQ(all[0]["spec"]["alert"]["fingerprint"], "ac11aeed1b056964");
  // So the same alert from Alertmanager, fingerprint included, is the same Incident.
  a["fingerprint"] = "ac11aeed1b056964";
  EXPECT_EQ(post(payload({a})).bodyJson()["existing"], 1);
  EXPECT_EQ(incidents().size(), 1u);
}

TEST_F(IntakeTest, AnOversizedAlertIsKeptInPartAndItsIncidentSaysWhatWasCut) {
  startIntake();
  json a = alert("NodeDiskFull", {{"instance", "node-3"}});
  std::string description = "Disk / on node-3 is full. " + std::string(60000, 'x');
  a["annotations"]["description"] = description;
  auto answer = post(payload({a}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  EXPECT_EQ(answer.bodyJson()["created"], 1);
  auto all = incidents();
  ASSERT_EQ(all.size(), 1u);
  const json& spec = all[0]["spec"]["alert"];
  std::string kept = spec["annotations"]["description"];
  EXPECT_EQ(kept.size(), 4096u);
  EXPECT_EQ(kept.substr(0, 26), "Disk / on node-3 is full. ");
  std::string marker = truncationMarker(description.size());
  EXPECT_EQ(kept.substr(kept.size() - marker.size()), marker);
  EXPECT_EQ(spec["annotations"]["summary"], "NodeDiskFull is firing");
  EXPECT_EQ(spec["labels"]["instance"], "node-3");
  EXPECT_EQ(spec["fingerprint"], a["fingerprint"]);
  EXPECT_EQ(all[0]["metadata"]["annotations"]["remedy.dev/alert-truncated"],
            "annotations.description");
  EXPECT_EQ(metric("remedy_alerts_truncated_total"), 1);
  // The whole alert is its identity: sent again, it is the same Incident,
  // and its resolution reaches it.
  EXPECT_EQ(post(payload({a})).bodyJson()["existing"], 1);
  EXPECT_EQ(post(payload({resolved(a)})).bodyJson()["resolved"], 1);
  EXPECT_EQ(incidents()[0]["spec"]["alert"]["status"], "resolved");
  EXPECT_EQ(metric("remedy_alerts_truncated_total"), 1);
}

TEST_F(IntakeTest, ResolvedAlertMarksItsIncidentResolved) {
  startIntake();
  json a = alert("HighLatency", {{"service", "api"}});
  ASSERT_EQ(post(payload({a})).code, 200);
  auto answer = post(payload({resolved(a, "2024-05-01T12:45:00Z")}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  EXPECT_EQ(answer.bodyJson()["resolved"], 1);
  auto all = incidents();
  ASSERT_EQ(all.size(), 1u);
  const json& spec = all[0]["spec"]["alert"];
  EXPECT_EQ(spec["status"], "resolved");
  EXPECT_EQ(spec["endsAt"], "2024-05-01T12:45:00Z");
  EXPECT_EQ(spec["labels"]["service"], "api") << "the rest of spec.alert is kept";
  EXPECT_EQ(metric("remedy_alerts_handled_total", "outcome", "resolved"), 1);
  // Resolved again (a retry) stays resolved.
  EXPECT_EQ(post(payload({resolved(a, "2024-05-01T12:45:00Z")})).code, 200);
  // A late firing notification of the same firing (the other Alertmanager)
  // does not undo the resolution.
  EXPECT_EQ(post(payload({a})).code, 200);
  EXPECT_EQ(incidents()[0]["spec"]["alert"]["status"], "resolved");
}

TEST_F(IntakeTest, ResolvedAlertWithoutIncidentIsIgnoredAndCounted) {
  startIntake();
  auto answer = post(payload({resolved(alert("NeverSeen"))}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  EXPECT_EQ(answer.bodyJson()["unknown"], 1);
  EXPECT_TRUE(incidents().empty());
  EXPECT_EQ(metric("remedy_alerts_handled_total", "outcome", "unknown"), 1);
  EXPECT_EQ(metric("remedy_alerts_received_total", "status", "resolved"), 1);
}

TEST_F(IntakeTest, RefireAfterResolutionCreatesASecondIncident) {
  startIntake();
  json first = alert("HighLatency", {{"service", "api"}}, "2024-05-01T12:00:00Z");
  ASSERT_EQ(post(payload({first})).code, 200);
  ASSERT_EQ(post(payload({resolved(first)})).code, 200);
  json refire = alert("HighLatency", {{"service", "api"}}, "2024-05-01T13:00:00Z");
  ASSERT_EQ(refire["fingerprint"], first["fingerprint"]);
  auto answer = post(payload({refire}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  EXPECT_EQ(answer.bodyJson()["created"], 1);
  auto all = incidents();
  ASSERT_EQ(all.size(), 2u);
  std::map<std::string, std::string> statusByStart;
  for (const auto& inc : all) {
    statusByStart[inc["spec"]["alert"]["startsAt"]] = inc["spec"]["alert"]["status"];
  }
  EXPECT_EQ(statusByStart["2024-05-01T12:00:00Z"], "resolved");
  EXPECT_EQ(statusByStart["2024-05-01T13:00:00Z"], "firing");
}

TEST_F(IntakeTest, IncidentsGoToTheAlertsNamespaceOnlyWhenManaged) {
  std::string managed = namespace_ + "-shop";
  std::string unmanaged = namespace_ + "-other";
  std::string missing = namespace_ + "-gone";
  createNamespace(managed);
  createNamespace(unmanaged);
  AlertIntakeOptions o = intakeOptions();
  o.managedNamespaces = {managed, missing};
  startIntake(o);

  auto answer =
      post(payload({alert("A", {{"namespace", managed}}), alert("B", {{"namespace", unmanaged}}),
                    alert("C", {{"namespace", missing}}), alert("D"),
                    alert("E", {{"namespace", "Not_A_Namespace"}})}));
  ASSERT_EQ(answer.code, 200) << answer.body;
  ASSERT_EQ(incidents(managed).size(), 1u);
  EXPECT_EQ(incidents(managed)[0]["spec"]["alert"]["name"], "A");
  EXPECT_TRUE(incidents(unmanaged).empty());
  std::set<std::string> inDefault;
  for (const auto& inc : incidents()) inDefault.insert(inc["spec"]["alert"]["name"]);
  EXPECT_EQ(inDefault, (std::set<std::string>{"B", "C", "D", "E"}));

  // Resolution finds each where it was created.
  auto resolvedAnswer = post(payload({resolved(alert("A", {{"namespace", managed}})),
                                      resolved(alert("C", {{"namespace", missing}}))}));
  ASSERT_EQ(resolvedAnswer.code, 200) << resolvedAnswer.body;
  EXPECT_EQ(resolvedAnswer.bodyJson()["resolved"], 2);
  EXPECT_EQ(incidents(managed)[0]["spec"]["alert"]["status"], "resolved");
}

TEST_F(IntakeTest, ApiServerFailureIs503WithRetryAfterAndTheRetrySucceeds) {
  startIntake();
  // A 500 carries no Retry-After, so the client does not retry it itself.
  sandbox_->faults().failNext(1, 500, "/namespaces/" + namespace_ + "/incidents");
  json body = payload({alert("A"), alert("B")});
  auto failed = post(body);
  EXPECT_EQ(failed.code, 503) << failed.body;
  EXPECT_FALSE(failed.header("retry-after").empty());
  EXPECT_GE(std::stoi(failed.header("retry-after")), 1);
  EXPECT_NE(failed.message().find("retry later"), std::string::npos) << failed.body;
  EXPECT_TRUE(incidents().empty());
  EXPECT_EQ(metric("remedy_alerts_refused_total", "reason", "api_unavailable"), 2);

  auto retried = post(body);
  ASSERT_EQ(retried.code, 200) << retried.body;
  EXPECT_EQ(incidents().size(), 2u);
  // And once more, as Alertmanager would after a lost answer: still two.
  EXPECT_EQ(post(body).code, 200);
  EXPECT_EQ(incidents().size(), 2u);
}

TEST_F(IntakeTest, FailedResolutionIs503) {
  startIntake();
  json a = alert("A");
  ASSERT_EQ(post(payload({a})).code, 200);
  sandbox_->faults().failNext(1, 500, "/namespaces/" + namespace_ + "/incidents");
  auto failed = post(payload({resolved(a)}));
  EXPECT_EQ(failed.code, 503) << failed.body;
  EXPECT_EQ(incidents()[0]["spec"]["alert"]["status"], "firing");
  ASSERT_EQ(post(payload({resolved(a)})).code, 200);
  EXPECT_EQ(incidents()[0]["spec"]["alert"]["status"], "resolved");
}

TEST_F(IntakeTest, SlowApiServerIs503WithinTheApiTimeout) {
  AlertIntakeOptions o = intakeOptions();
  o.apiTimeout = std::chrono::milliseconds(300);
  startIntake(o);
  sandbox_->faults().setLatency(std::chrono::seconds(3));
  auto started = std::chrono::steady_clock::now();
  auto answer = post(payload({alert("A")}));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(answer.code, 503) << answer.body;
  EXPECT_LT(took, std::chrono::seconds(3));
  sandbox_->faults().setLatency(std::chrono::milliseconds(0));
  // The slow create may have landed after all: the retry finds it or makes it.
  ASSERT_EQ(post(payload({alert("A")})).code, 200);
  EXPECT_EQ(incidents().size(), 1u);
}

TEST_F(IntakeTest, UnreachableApiServerIs503) {
  kube::Config config = adminConfig();
  config.server = "https://127.0.0.1:" + std::to_string(remedy::testing::freeLoopbackPort());
  extraClient_ = newClient(config);
  ASSERT_NE(extraClient_, nullptr);
  AlertIntakeOptions o = intakeOptions();
  o.maxActiveIncidents = 0;  // nothing to count with
  startIntake(o, serverOptions(), extraClient_.get());
  auto answer = post(payload({alert("A")}));
  EXPECT_EQ(answer.code, 503) << answer.body;
  EXPECT_EQ(answer.header("retry-after"), "5");
  EXPECT_NE(answer.message().find("could not store the Incident"), std::string::npos)
      << answer.body;
}

TEST_F(IntakeTest, RateLimitIs429WithRetryAfterAndIsCounted) {
  AlertIntakeOptions o = intakeOptions();
  o.alertsPerSecond = 0.01;  // one token per 100 s: none comes back during the test
  o.alertBurst = 2;
  startIntake(o);
  json body = payload({alert("A"), alert("B"), alert("C")});
  auto limited = post(body);
  EXPECT_EQ(limited.code, 429) << limited.body;
  EXPECT_GE(std::stoi(limited.header("retry-after")), 1);
  EXPECT_NE(limited.message().find("new alerts per second"), std::string::npos) << limited.body;
  EXPECT_EQ(limited.bodyJson()["created"], 2) << "work within the limit is kept";
  EXPECT_EQ(incidents().size(), 2u);
  EXPECT_EQ(metric("remedy_alerts_refused_total", "reason", "rate_limited"), 1);
  EXPECT_EQ(metric("remedy_intake_requests_total", "code", "429"), 1);

  // Alerts whose Incident exists and resolutions are not limited.
  auto known = post(payload({alert("A"), resolved(alert("B"))}));
  EXPECT_EQ(known.code, 200) << known.body;
}

TEST_F(IntakeTest, MaxActiveIncidentsIs429UntilOneFinishes) {
  AlertIntakeOptions o = intakeOptions();
  o.maxActiveIncidents = 1;
  startIntake(o);
  ASSERT_EQ(post(payload({alert("A")})).code, 200);
  auto refused = post(payload({alert("B")}));
  EXPECT_EQ(refused.code, 429) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "30");
  EXPECT_NE(refused.message().find("1 Incidents are active, the limit is 1"), std::string::npos)
      << refused.body;
  EXPECT_EQ(metric("remedy_alerts_refused_total", "reason", "too_many_active"), 1);
  // A repeat of A is not new work.
  EXPECT_EQ(post(payload({alert("A")})).code, 200);

  // A finishes (the engine writes a final phase): B gets in.
  json a = incidents()[0];
  a["status"] = {{"phase", "Succeeded"}};
  kube::WriteOptions wo;
  wo.subresource = "status";
  auto updated = client_->update(incidentsResource(), namespace_, a, wo);
  ASSERT_TRUE(updated.ok()) << updated.status().toString();
  ASSERT_TRUE(eventually([&] { return post(payload({alert("B")})).code == 200; }));
  EXPECT_EQ(incidents().size(), 2u);
}

TEST_F(IntakeTest, ClientCertificateIsRequiredWhenConfigured) {
  http::CertificateAuthority ca("intake-test-ca");
  http::CertificateAuthority otherCa("someone-else");
  AlertIntakeServerOptions so = serverOptions();
  auto serving = ca.issueServer("intake", {"localhost"}, {"127.0.0.1"});
  so.tls =
      http::TlsConfig{serving.certificatePem, serving.privateKeyPem, ca.ca().certificatePem, true};
  startIntake(intakeOptions(), so);

  auto write = [&](const std::string& name, const std::string& content) {
    std::string path = dir_->path() + "/" + name;
    std::ofstream(path) << content;
    return path;
  };
  std::string caFile = write("ca.pem", ca.ca().certificatePem);
  auto good = ca.issueClient("alertmanager", {});
  auto bad = otherCa.issueClient("alertmanager", {});
  std::string body = write("body.json", payload({alert("A")}).dump());
  std::string answerFile = dir_->path() + "/answer";
  // curl's HTTP status, "000" when no HTTP answer came.
  auto curl = [&](const std::optional<http::KeyPair>& cert) {
    std::string command = "curl -sS --max-time 20 -o " + answerFile +
                          " -w '%{http_code}' --cacert " + caFile +
                          " -H 'Content-Type: application/json' -H 'Authorization: Bearer " +
                          kToken + "' --data-binary @" + body;
    if (cert) {
      command += " --cert " + write("c.pem", cert->certificatePem) + " --key " +
                 write("c.key", cert->privateKeyPem);
    }
    command += " https://127.0.0.1:" + std::to_string(server_->port()) + AlertIntake::kPath +
               " 2>/dev/null";
    FILE* p = popen(command.c_str(), "r");
    std::string out;
    char buf[64];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    if (p) pclose(p);
    return out;
  };
  EXPECT_EQ(curl(std::nullopt), "000");
  EXPECT_EQ(curl(bad), "000");
  EXPECT_TRUE(incidents().empty());
  EXPECT_EQ(curl(good), "200");
  EXPECT_EQ(incidents().size(), 1u);
}

TEST_F(IntakeTest, ServerRefusesToStartWithoutAuthentication) {
  AlertIntakeOptions o = intakeOptions();
  o.bearerTokenFile = "";
  AlertIntakeServer open(*client_, registry_, o, serverOptions());
  auto error = open.start();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("anyone could create Incidents"), std::string::npos) << *error;

  AlertIntakeOptions missing = intakeOptions();
  missing.bearerTokenFile = dir_->path() + "/no-such-token";
  AlertIntakeServer unreadable(*client_, registry_, missing, serverOptions());
  error = unreadable.start();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("no-such-token"), std::string::npos) << *error;
}

}  // namespace
}  // namespace remedy::intake::testing
