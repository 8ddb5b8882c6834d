// The notify action against a local webhook: the Generic and Slack shapes,
// the default message, drills and dry runs that send nothing, status
// handling, and a webhook URL from a Secret that never shows.
#include "actions/notify_action.h"

#include "../kube/sandbox_fixture.h"
#include "kube/base64.h"
#include "recording_server.h"

#include <gtest/gtest.h>

namespace remedy::actions {
namespace {

using testing::RecordingServer;

NotifyOptions notifyOptions() {
  NotifyOptions o;
  o.egress = testing::loopbackEgress();
  return o;
}

class NotifyActionTest : public kube::testing::SandboxTest {
 protected:
  ActionContext context() {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = "uid/tell/1";
    c.stepKey = "uid/tell";
    c.now = std::chrono::system_clock::now();
    c.deadline = c.now + std::chrono::seconds(10);
    c.defaultNamespace = namespace_;
    c.incident = {{"name", "db-pool-7f3"},
                  {"namespace", "shop"},
                  {"source", "Alertmanager"},
                  {"phase", "Escalated"},
                  {"runbook", "db-pool"},
                  {"alert",
                   {{"name", "DbPoolExhausted"},
                    {"status", "firing"},
                    {"labels", {{"alertname", "DbPoolExhausted"}, {"service", "checkout"}}},
                    {"annotations", {{"summary", "connection pool at 100%"}}},
                    {"startsAt", "2024-05-01T12:00:00Z"}}}};
    return c;
  }

  static json body(const http::Request& request) { return json::parse(request.body); }
};

TEST_F(NotifyActionTest, GenericShapeCarriesTheIncidentAndTheAlert) {
  RecordingServer server;
  NotifyOptions options = notifyOptions();
  options.incidentLinkBase = "https://remedy.example.com/incidents/";
  NotifyAction notify(options);
  auto outcome =
      notify.run({{"url", server.url()}, {"message", "checkout DB pool exhausted"}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "200");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].header("content-type"), "application/json");
  EXPECT_EQ(requests[0].header("idempotency-key"), "uid/tell");
  json expected = {{"message", "checkout DB pool exhausted"},
                   {"incident",
                    {{"name", "db-pool-7f3"},
                     {"namespace", "shop"},
                     {"phase", "Escalated"},
                     {"runbook", "db-pool"},
                     {"source", "Alertmanager"},
                     {"link", "https://remedy.example.com/incidents/shop/db-pool-7f3"}}},
                   {"alert",
                    {{"name", "DbPoolExhausted"},
                     {"status", "firing"},
                     {"labels", {{"alertname", "DbPoolExhausted"}, {"service", "checkout"}}},
                     {"annotations", {{"summary", "connection pool at 100%"}}},
                     {"startsAt", "2024-05-01T12:00:00Z"}}}};
  EXPECT_EQ(body(requests[0]), expected) << requests[0].body;
}

TEST_F(NotifyActionTest, EveryAttemptOfAStepCarriesTheStepsIdempotencyKey) {
  RecordingServer server;
  NotifyAction notify(notifyOptions());
  ActionContext first = context();
  ActionContext retry = context();
  retry.idempotencyKey = "uid/tell/2";
  ActionContext other = context();
  other.stepKey = "uid/tell-again";
  other.idempotencyKey = "uid/tell-again/1";
  for (const ActionContext& c : {first, retry, other}) {
    auto outcome = notify.run({{"url", server.url()}, {"format", "Slack"}}, c);
    ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("idempotency-key"), "uid/tell");
  EXPECT_EQ(requests[1].header("idempotency-key"), "uid/tell") << "a retry is the same message";
  EXPECT_EQ(requests[2].header("idempotency-key"), "uid/tell-again");
}

TEST_F(NotifyActionTest, GenericIsTheDefaultAndHasNoLinkWithoutALinkBase) {
  RecordingServer server;
  NotifyAction notify(notifyOptions());
  auto outcome = notify.run({{"url", server.url()}, {"message", "hi"}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  json sent = body(server.requests().at(0));
  EXPECT_EQ(sent["message"], "hi");
  EXPECT_FALSE(sent["incident"].contains("link"));
}

TEST_F(NotifyActionTest, SlackShapeIsATextWithTheIncidentLink) {
  RecordingServer server;
  NotifyOptions options = notifyOptions();
  options.incidentLinkBase = "https://remedy.example.com/incidents";
  NotifyAction notify(options);
  auto outcome = notify.run(
      {{"url", server.url()}, {"format", "Slack"}, {"message", "scaled checkout to 6"}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  json expected = {
      {"text",
       "scaled checkout to 6\n<https://remedy.example.com/incidents/shop/db-pool-7f3|Incident "
       "shop/db-pool-7f3>"}};
  EXPECT_EQ(body(server.requests().at(0)), expected);
}

TEST_F(NotifyActionTest, WithoutAMessageTheIncidentIsSummarized) {
  // Escalation messages may leave the message out.
  RecordingServer server;
  NotifyAction notify(notifyOptions());
  auto outcome = notify.run({{"url", server.url()}, {"format", "Slack"}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(body(server.requests().at(0))["text"],
            "Incident shop/db-pool-7f3 is Escalated (runbook db-pool): alert DbPoolExhausted is "
            "firing: connection pool at 100%");
}

TEST_F(NotifyActionTest, ADrillSendsNothingAndSucceeds) {
  RecordingServer server;
  NotifyOptions options = notifyOptions();
  options.deliver = false;
  NotifyAction notify(options);
  auto outcome = notify.run({{"url", server.url()}, {"message", "hi"}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded);
  EXPECT_EQ(outcome.message.rfind("not sent (drill)", 0), 0u) << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(NotifyActionTest, DryRunSendsNothing) {
  RecordingServer server;
  NotifyAction notify(notifyOptions());
  auto c = context();
  c.dryRun = true;
  auto outcome = notify.run({{"url", server.url()}, {"message", "hi"}}, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(NotifyActionTest, WebhookStatusesMapToOutcomes) {
  RecordingServer server;
  NotifyAction notify(notifyOptions());
  json params = {{"url", server.url()}, {"format", "Slack"}, {"message", "hi"}};
  server.replyWith(404, "no_service");
  auto outcome = notify.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("the webhook returned 404"), std::string::npos) << outcome.message;
  // What the server answered stays off the status.
  EXPECT_EQ(outcome.message.find("no_service"), std::string::npos);
  EXPECT_EQ(outcome.outputs["status"], "404");
  server.replyWith(503, "busy");
  EXPECT_EQ(notify.run(params, context()).kind, OutcomeKind::kRetriableFailure);
  server.replyWith(429, "slow down");
  EXPECT_EQ(notify.run(params, context()).kind, OutcomeKind::kRetriableFailure);
}

TEST_F(NotifyActionTest, AWebhookUrlFromASecretNeverShows) {
  RecordingServer server;
  server.reply([](const http::Request& r, http::Responder& responder) {
    // Slack answers a bad token with an error page; this one echoes the path.
    responder.send(http::Response::text(r.path.find("/bad") != std::string::npos ? 403 : 200,
                                        "invalid_token for " + r.target));
  });
  const std::string path = "/services/T0001/B0002/XXXXsecretXXXX";
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "slack"}, {"namespace", namespace_}}},
                 {"data",
                  {{"good", kube::encodeBase64(server.url(path) + "\n")},
                   {"bad", kube::encodeBase64(server.url(path + "/bad"))}}}};
  ASSERT_TRUE(client_->create(kube::resources::secrets(), namespace_, secret).ok());
  NotifyAction notify(notifyOptions());
  for (const std::string& key : std::vector<std::string>{"good", "bad"}) {
    json params = {{"urlFrom", {{"secretKeyRef", {{"name", "slack"}, {"key", key}}}}},
                   {"format", "Slack"},
                   {"message", "hi"}};
    auto outcome = notify.run(params, context());
    EXPECT_EQ(outcome.kind,
              key == "good" ? OutcomeKind::kSucceeded : OutcomeKind::kPermanentFailure)
        << outcome.message;
    std::string all = outcome.message;
    for (const auto& [k, v] : outcome.outputs) all += " " + v;
    EXPECT_EQ(all.find("XXXXsecretXXXX"), std::string::npos) << all;
    EXPECT_NE(all.find("the URL from Secret slack key " + key), std::string::npos) << all;
  }
  // The trailing newline of the Secret's value is not part of the URL.
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].path, path);
}

}  // namespace
}  // namespace remedy::actions
