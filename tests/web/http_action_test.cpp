// The http action against a local webhook (src/http's HttpServer) and
// Secrets in the sandbox: what is sent, how statuses map to outcomes, the
// deadline, the bounded body, TLS verification and secrets kept out of every
// message and output.
#include "actions/http_action.h"

#include "../kube/sandbox_fixture.h"
#include "../support/child_process.h"
#include "http/certificates.h"
#include "kube/base64.h"
#include "recording_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

namespace remedy::actions {
namespace {

using testing::RecordingServer;
using Clock = std::chrono::steady_clock;

class HttpActionTest : public kube::testing::SandboxTest {
 protected:
  void createSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    json encoded = json::object();
    for (const auto& [k, v] : data) encoded[k] = kube::encodeBase64(v);
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"data", encoded}};
    ASSERT_TRUE(client_->create(kube::resources::secrets(), namespace_, secret).ok());
  }

  ActionContext context(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = "uid/call/1";
    c.stepKey = "uid/call";
    c.now = std::chrono::system_clock::now();
    c.deadline = c.now + timeout;
    c.defaultNamespace = namespace_;
    return c;
  }

  static json secretRef(const std::string& name, const std::string& key) {
    return {{"secretKeyRef", {{"name", name}, {"key", key}}}};
  }

  // Every message and output of `outcome`, for the no-secret assertions.
  static std::string everything(const ActionOutcome& outcome) {
    std::string all = outcome.message;
    for (const auto& [k, v] : outcome.outputs) all += "\n" + k + "=" + v;
    return all;
  }

  static WebActionOptions webOptions() {
    WebActionOptions o;
    o.egress = testing::loopbackEgress();
    return o;
  }

  HttpAction action_{webOptions()};
};

TEST_F(HttpActionTest, SendsMethodHeadersAndBodyAndOutputsStatusAndBody) {
  RecordingServer server;
  server.replyWith(201, "{\"created\":true}", "application/json");
  createSecret("api", {{"token", "s3cr3t-token-value"}});
  json params = {
      {"method", "POST"},
      {"url", server.url("/cache/warm?region=eu")},
      {"headers",
       json::array({{{"name", "X-Request-Source"}, {"value", "remedy"}},
                    {{"name", "Authorization"}, {"valueFrom", secretRef("api", "token")}},
                    {{"name", "Content-Type"}, {"value", "text/plain"}}})},
      {"body", "warm all the things"},
      {"keepResponseBody", true}};
  auto outcome = action_.run(params, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "201");
  EXPECT_EQ(outcome.outputs["body"], "{\"created\":true}");
  EXPECT_NE(outcome.message.find("POST " + server.url("/cache/warm?region=eu") + " returned 201"),
            std::string::npos)
      << outcome.message;

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/cache/warm");
  EXPECT_EQ(r.param("region").value_or(""), "eu");
  EXPECT_EQ(r.header("x-request-source"), "remedy");
  EXPECT_EQ(r.header("authorization"), "s3cr3t-token-value");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.body, "warm all the things");
  EXPECT_EQ(everything(outcome).find("s3cr3t-token-value"), std::string::npos);
}

TEST_F(HttpActionTest, MethodDefaultsToGetWithNoBody) {
  RecordingServer server;
  auto outcome =
      action_.run({{"url", server.url("/healthz")}, {"keepResponseBody", true}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].body, "");
  EXPECT_EQ(outcome.outputs["body"], "ok");
}

TEST_F(HttpActionTest, HeadReturnsTheStatusAndNoBody) {
  RecordingServer server;
  server.replyWith(200, "a body HEAD must not carry");
  auto outcome = action_.run(
      {{"method", "HEAD"}, {"url", server.url()}, {"keepResponseBody", true}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "200");
  EXPECT_EQ(outcome.outputs["body"], "");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "HEAD");
}

TEST_F(HttpActionTest, AnyTwoHundredIsSuccessByDefault) {
  RecordingServer server;
  server.replyWith(204, "");
  auto outcome = action_.run({{"method", "DELETE"}, {"url", server.url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "204");
}

TEST_F(HttpActionTest, ExpectedStatusDecidesSuccess) {
  RecordingServer server;
  server.replyWith(404, "gone");
  json params = {{"url", server.url()},
                 {"expectedStatus", json::array({404, 410})},
                 {"keepResponseBody", true}};
  auto outcome = action_.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "404");

  server.replyWith(200, "still here");
  outcome = action_.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("returned 200, expected 404, 410: still here"), std::string::npos)
      << outcome.message;
}

TEST_F(HttpActionTest, ServerErrorsAndThrottlingAreRetriable) {
  RecordingServer server;
  for (int status : {500, 502, 503, 429}) {
    server.replyWith(status, "try later");
    auto outcome = action_.run({{"url", server.url()}}, context());
    EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << status << ": " << outcome.message;
    EXPECT_EQ(outcome.outputs["status"], std::to_string(status));
    EXPECT_NE(outcome.message.find("returned " + std::to_string(status) + ", expected 2xx"),
              std::string::npos)
        << outcome.message;
  }
}

TEST_F(HttpActionTest, UnexpectedClientErrorsArePermanent) {
  RecordingServer server;
  for (int status : {400, 401, 403, 404}) {
    server.replyWith(status, "no");
    auto outcome = action_.run({{"url", server.url()}}, context());
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << status << ": " << outcome.message;
  }
}

TEST_F(HttpActionTest, ConnectionRefusedIsRetriable) {
  int port = remedy::testing::freeLoopbackPort();
  auto outcome =
      action_.run({{"url", "http://127.0.0.1:" + std::to_string(port) + "/x"}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
}

TEST_F(HttpActionTest, AStallingServerEndsTheAttemptByItsDeadline) {
  RecordingServer server;
  server.reply([&](const http::Request&, http::Responder& responder) {
    server.waitForRelease();
    responder.send(http::Response::text(200, "too late"));
  });
  auto start = Clock::now();
  auto outcome = action_.run({{"url", server.url()}}, context(std::chrono::milliseconds(800)));
  auto took = Clock::now() - start;
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_NE(outcome.message.find("no response within 0.8s"), std::string::npos) << outcome.message;
  EXPECT_GE(took, std::chrono::milliseconds(700));
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST_F(HttpActionTest, AStalledBodyEndsTheAttemptByItsDeadline) {
  RecordingServer server;
  server.reply([&](const http::Request&, http::Responder& responder) {
    auto& stream = responder.startStream(200, {{"Content-Type", "text/plain"}});
    stream.write("the first part, then nothing");
    server.waitForRelease();
  });
  auto start = Clock::now();
  auto outcome = action_.run({{"url", server.url()}}, context(std::chrono::milliseconds(800)));
  auto took = Clock::now() - start;
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_NE(outcome.message.find("did not arrive within"), std::string::npos) << outcome.message;
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST_F(HttpActionTest, TheDeadlinePassedSendsNothing) {
  RecordingServer server;
  auto c = context();
  c.deadline = c.now - std::chrono::seconds(1);
  auto outcome = action_.run({{"url", server.url()}}, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpActionTest, TheBodyOutputIsTheFirstFourKilobytes) {
  RecordingServer server;
  server.replyWith(200, std::string(1024 * 1024, 'x'));
  auto outcome = action_.run({{"url", server.url()}, {"keepResponseBody", true}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["body"], std::string(4096, 'x'));
}

TEST_F(HttpActionTest, AnEndlessBodyIsReadOnlyUpToTheLimit) {
  RecordingServer server;
  server.reply([&](const http::Request&, http::Responder& responder) {
    auto& stream = responder.startStream(200, {{"Content-Type", "text/plain"}});
    std::string chunk(16 * 1024, 'y');
    while (stream.write(chunk)) {
    }
  });
  auto start = Clock::now();
  auto outcome = action_.run({{"url", server.url()}, {"keepResponseBody", true}},
                             context(std::chrono::seconds(20)));
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["body"], std::string(4096, 'y'));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpActionTest, ABodyThatIsNotUtf8IsOutputAsValidUtf8) {
  RecordingServer server;
  server.replyWith(200, std::string("ok \xff\xfe caf\xc3\xa9 \xe2\x82"),
                   "application/octet-stream");
  auto outcome = action_.run({{"url", server.url()}, {"keepResponseBody", true}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["body"],
            "ok \xEF\xBF\xBD\xEF\xBF\xBD caf\xc3\xa9 \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_NO_THROW(json(outcome.outputs).dump());
}

TEST_F(HttpActionTest, DryRunSendsNothing) {
  RecordingServer server;
  auto c = context();
  c.dryRun = true;
  auto outcome = action_.run({{"method", "POST"}, {"url", server.url()}}, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded);
  EXPECT_NE(outcome.message.find("dry run: would send POST"), std::string::npos);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpActionTest, AHeaderValueWithALineBreakIsRefused) {
  RecordingServer server;
  json params = {
      {"url", server.url()},
      {"headers", json::array({{{"name", "X-Label"}, {"value", "a\r\nX-Injected: yes"}}})}};
  auto outcome = action_.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message, "http.headers[0] (X-Label): the value contains a line break or NUL");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpActionTest, AMissingSecretIsPermanentAndNamed) {
  auto outcome = action_.run({{"urlFrom", secretRef("nope", "url")}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("http.urlFrom.secretKeyRef: Secret " + namespace_ + "/nope"),
            std::string::npos)
      << outcome.message;
}

TEST_F(HttpActionTest, NotAnHttpUrlIsPermanent) {
  auto outcome = action_.run({{"url", "ftp://example.com/x"}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message, "http: url \"ftp://example.com/x\" is not an http:// or https:// URL");
}

// Every outcome of a step whose URL and Authorization come from Secrets, with
// a server that echoes everything it received: no secret value anywhere.
TEST_F(HttpActionTest, NoSecretValueAppearsInAnyMessageOrOutput) {
  RecordingServer server;
  server.reply([](const http::Request& r, http::Responder& responder) {
    std::string echo = r.method + " " + r.target + " auth=" + r.header("authorization") +
                       " key=" + r.header("x-api-key") + " body=" + r.body;
    int status = r.path == "/hook/s3cr3tpath/fail"      ? 500
                 : r.path == "/hook/s3cr3tpath/missing" ? 404
                                                        : 200;
    responder.send(http::Response::text(status, echo));
  });
  const std::string token = "Bearer tok-0123456789abcdef";
  const std::string apiKey = "key-fedcba9876543210";
  int closedPort = remedy::testing::freeLoopbackPort();
  createSecret("hook", {{"ok", server.url("/hook/s3cr3tpath/ok?sig=qsecret-123456")},
                        {"fail", server.url("/hook/s3cr3tpath/fail?sig=qsecret-123456")},
                        {"missing", server.url("/hook/s3cr3tpath/missing?sig=qsecret-123456")},
                        {"closed", "http://127.0.0.1:" + std::to_string(closedPort) +
                                       "/hook/s3cr3tpath?sig=qsecret-123456"},
                        {"bad", "gopher://s3cr3tpath/qsecret-123456"},
                        {"token", token},
                        {"apikey", apiKey}});
  const std::vector<std::string> secrets = {"s3cr3tpath", "qsecret-123456", token,
                                            "tok-0123456789abcdef", apiKey};
  int outcomes = 0;
  for (const std::string& key :
       std::vector<std::string>{"ok", "fail", "missing", "closed", "bad"}) {
    json params = {
        {"method", "POST"},
        {"urlFrom", secretRef("hook", key)},
        {"headers",
         json::array({{{"name", "Authorization"}, {"valueFrom", secretRef("hook", "token")}},
                      {{"name", "X-Api-Key"}, {"valueFrom", secretRef("hook", "apikey")}}})},
        {"body", "hello"}};
    for (bool dryRun : {false, true}) {
      auto c = context(std::chrono::seconds(5));
      c.dryRun = dryRun;
      auto outcome = action_.run(params, c);
      ++outcomes;
      std::string all = everything(outcome);
      for (const auto& secret : secrets) {
        EXPECT_EQ(all.find(secret), std::string::npos)
            << key << (dryRun ? " (dry run)" : "") << " leaks \"" << secret << "\": " << all;
      }
      EXPECT_NE(all.find("the URL from Secret hook key " + key), std::string::npos) << all;
    }
  }
  EXPECT_EQ(outcomes, 10);
  // The server did receive the secrets (and echoed them): the action hid them.
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("authorization"), token);
  EXPECT_EQ(requests[0].header("x-api-key"), apiKey);
}

class HttpsActionTest : public HttpActionTest {
 protected:
  void SetUp() override {
    HttpActionTest::SetUp();
    http::TlsConfig tls;
    auto pair = ca_.issueServer("webhook", {"localhost"}, {"127.0.0.1"});
    tls.certificatePem = pair.certificatePem;
    tls.privateKeyPem = pair.privateKeyPem;
    server_ = std::make_unique<RecordingServer>(tls);
    caFile_ = dir_.path() + "/ca.pem";
    std::ofstream(caFile_) << ca_.ca().certificatePem;
  }

  http::CertificateAuthority ca_{"remedy-web-test-ca"};
  remedy::testing::TempDir dir_{"remedy-web-tls"};
  std::string caFile_;
  std::unique_ptr<RecordingServer> server_;
};

TEST_F(HttpsActionTest, AnUnknownCertificateAuthorityIsRefusedByDefault) {
  auto outcome = action_.run({{"url", server_->url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_NE(outcome.message.find("certificate verify failed"), std::string::npos)
      << outcome.message;
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(HttpsActionTest, TheGivenCertificateAuthorityIsTrusted) {
  WebActionOptions options = webOptions();
  options.tls.caFile = caFile_;
  HttpAction action(options);
  auto outcome = action.run({{"url", server_->url()}}, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(server_->requests().size(), 1u);
}

TEST_F(HttpsActionTest, TheHostNameIsVerifiedToo) {
  // Signed by the trusted CA, but for another name than 127.0.0.1.
  http::TlsConfig tls;
  auto pair = ca_.issueServer("other", {"other.example"}, {});
  tls.certificatePem = pair.certificatePem;
  tls.privateKeyPem = pair.privateKeyPem;
  RecordingServer other(tls);
  WebActionOptions options = webOptions();
  options.tls.caFile = caFile_;
  HttpAction action(options);
  auto outcome = action.run({{"url", other.url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_TRUE(other.requests().empty());
}

TEST_F(HttpsActionTest, VerificationOffAcceptsAnyCertificate) {
  WebActionOptions options = webOptions();
  options.tls.verify = false;
  HttpAction action(options);
  auto outcome = action.run({{"url", server_->url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
}

TEST_F(HttpsActionTest, AnUnreadableCaFileIsPermanent) {
  WebActionOptions options = webOptions();
  options.tls.caFile = dir_.path() + "/missing.pem";
  HttpAction action(options);
  auto outcome = action.run({{"url", server_->url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure) << outcome.message;
  EXPECT_NE(outcome.message.find("missing.pem: cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace remedy::actions
