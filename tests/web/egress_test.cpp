// The egress policy of the web actions: which addresses are denied whatever
// the allow-list says, one resolution whose answer is what the connection
// reaches, redirects checked like the first request, secrets only to hosts
// the administrator named, proxies from the environment ignored. Every
// refusal is shown with the listener having seen nothing.
#include "actions/egress_policy.h"
#include "actions/http_action.h"
#include "actions/notify_action.h"
#include "actions/web_client.h"

#include "../kube/sandbox_fixture.h"
#include "kube/base64.h"
#include "recording_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>

namespace remedy::actions {
namespace {

using testing::RecordingServer;

EgressRules rules(std::vector<std::string> allow, std::vector<std::string> deny = {}) {
  std::string error;
  auto r = EgressRules::make({std::move(allow), std::move(deny)}, &error);
  EXPECT_TRUE(r.has_value()) << error;
  return r.value_or(EgressRules());
}

std::vector<IpAddress> addresses(std::initializer_list<const char*> texts) {
  std::vector<IpAddress> out;
  for (const char* t : texts) out.push_back(*IpAddress::parse(t));
  return out;
}

// DNS as a test plays it: answers by host, counting the questions.
class FakeResolver : public Resolver {
 public:
  std::vector<IpAddress> resolve(const std::string& host, std::chrono::milliseconds,
                                 std::string* error) override {
    int n = ++asked_[host];
    auto it = answers_.find(host);
    if (it == answers_.end() || it->second.empty()) {
      *error = "resolving " + host + ": Name or service not known";
      return {};
    }
    // Later answers may differ (a rebinding name); the last one repeats.
    const auto& list = it->second;
    return list[std::min<size_t>(n - 1, list.size() - 1)];
  }
  void answer(const std::string& host, std::vector<std::vector<IpAddress>> answers) {
    answers_[host] = std::move(answers);
  }
  int asked(const std::string& host) { return asked_[host]; }

 private:
  std::map<std::string, std::vector<std::vector<IpAddress>>> answers_;
  std::map<std::string, int> asked_;
};

TEST(EgressRules, LoopbackLinkLocalAndMetadataAreDeniedEvenToStar) {
  EgressRules any = rules({"*", "0.0.0.0/0", "::/0"});
  for (const char* denied : {"127.0.0.1", "127.1.2.3", "169.254.169.254", "0.0.0.0", "::1",
                             "fe80::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
                             "fd00:ec2::254", "100.100.100.200", "224.0.0.1"}) {
    EgressVerdict v = any.check("evil.example", addresses({denied}), false);
    EXPECT_FALSE(v.allowed) << denied;
    EXPECT_NE(v.reason.find("which the egress policy denies"), std::string::npos) << v.reason;
  }
  EXPECT_EQ(any.check("evil.example", addresses({"169.254.169.254"}), false).reason,
            "host evil.example: 169.254.169.254 is in 169.254.0.0/16 (link-local, where cloud "
            "metadata endpoints live), which the egress policy denies");
  EXPECT_TRUE(any.check("hooks.example", addresses({"203.0.113.7"}), false).allowed);
  // One bad address in the answer refuses the host.
  EXPECT_FALSE(any.check("mixed.example", addresses({"203.0.113.7", "127.0.0.1"}), false).allowed);
}

TEST(EgressRules, ADeniedRangeOpensOnlyToACidrInsideIt) {
  EgressRules opened = rules({"127.0.0.1/32"});
  EXPECT_TRUE(opened.check("127.0.0.1", addresses({"127.0.0.1"}), false).allowed);
  EXPECT_FALSE(opened.check("127.0.0.2", addresses({"127.0.0.2"}), false).allowed);
  // An allowed name does not open a denied address (its DNS may be anyone's).
  EgressRules named = rules({"metadata.google.internal"});
  EXPECT_FALSE(
      named.check("metadata.google.internal", addresses({"169.254.169.254"}), false).allowed);
  // The API server's addresses, as the operator adds them.
  EgressRules api = rules({"*"}, {"10.96.0.1"});
  EXPECT_EQ(api.check("kubernetes.default.svc", addresses({"10.96.0.1"}), false).reason,
            "host kubernetes.default.svc: 10.96.0.1 is in 10.96.0.1/32 (denied by --egress-deny "
            "or the API server's), which the egress policy denies");
}

TEST(EgressRules, OnlyListedHostsAndRangesAreAllowed) {
  EgressRules list = rules({"hooks.slack.com", "*.example.com", "10.0.0.0/8"});
  EXPECT_TRUE(list.check("hooks.slack.com", addresses({"203.0.113.1"}), false).allowed);
  EXPECT_TRUE(list.check("HOOKS.Slack.com.", addresses({"203.0.113.1"}), false).allowed);
  EXPECT_TRUE(list.check("a.b.example.com", addresses({"203.0.113.2"}), false).allowed);
  EXPECT_FALSE(list.check("example.com", addresses({"203.0.113.2"}), false).allowed);
  EXPECT_FALSE(list.check("evilexample.com", addresses({"203.0.113.2"}), false).allowed);
  EXPECT_TRUE(list.check("prometheus.monitoring.svc", addresses({"10.1.2.3"}), false).allowed);
  EXPECT_EQ(list.check("other.org", addresses({"203.0.113.3"}), false).reason,
            "host other.org (203.0.113.3) is not on the egress allow-list");
  EXPECT_FALSE(EgressRules().check("hooks.slack.com", addresses({"203.0.113.1"}), false).allowed);
  std::string error;
  EXPECT_FALSE(EgressRules::make({{"http://hooks.slack.com"}, {}}, &error));
  EXPECT_EQ(error, "\"http://hooks.slack.com\" is not a CIDR such as 10.0.0.0/8");
  EXPECT_FALSE(EgressRules::make({{"10.0.0.0/33"}, {}}, &error));
}

TEST(EgressRules, SecretsGoOnlyToNamedHostsOrListedAddresses) {
  EgressRules list = rules({"*", "hooks.slack.com", "10.0.0.0/8"});
  EXPECT_TRUE(list.check("hooks.slack.com", addresses({"203.0.113.1"}), true).allowed);
  EXPECT_EQ(list.check("collector.evil", addresses({"203.0.113.9"}), true).reason,
            "the request carries a secret, and host collector.evil is not named on the egress "
            "allow-list");
  EXPECT_TRUE(list.check("collector.evil", addresses({"203.0.113.9"}), false).allowed);
  // A name that resolves into an allowed range is still only what DNS says.
  EXPECT_FALSE(list.check("in-range.evil", addresses({"10.9.9.9"}), true).allowed);
  EXPECT_TRUE(list.check("10.9.9.9", addresses({"10.9.9.9"}), true).allowed);
}

class EgressClientTest : public kube::testing::SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    resolver_ = std::make_shared<FakeResolver>();
    client_web_ = makeWebClient(resolver_);
  }

  WebRequest request(const std::string& url, std::vector<std::string> allow) {
    WebRequest r;
    r.url = url;
    r.timeout = std::chrono::seconds(5);
    r.egress = std::make_shared<const EgressRules>(rules(std::move(allow)));
    return r;
  }

  std::shared_ptr<FakeResolver> resolver_;
  std::shared_ptr<WebClient> client_web_;
};

TEST_F(EgressClientTest, OneResolutionAndTheConnectionGoesToTheCheckedAddress) {
  RecordingServer server;
  // The first answer passes the check; every later one points at the
  // metadata endpoint (DNS rebinding). Only the first is ever asked for.
  resolver_->answer("hooks.test", {addresses({"127.0.0.1"}), addresses({"169.254.169.254"})});
  std::string url = "http://hooks.test:" + std::to_string(server.port()) + "/hook";
  WebResponse r = client_web_->send(request(url, {"hooks.test", "127.0.0.1/32"}));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(resolver_->asked("hooks.test"), 1);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("host"), "hooks.test:" + std::to_string(server.port()));
  // The second request asks again, gets the rebound answer, and is refused
  // before any connection.
  r = client_web_->send(request(url, {"hooks.test", "127.0.0.1/32"}));
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(r.error,
            "refused by the egress policy: host hooks.test: 169.254.169.254 is in 169.254.0.0/16 "
            "(link-local, where cloud metadata endpoints live), which the egress policy denies");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(EgressClientTest, LoopbackIsRefusedBeforeAnyConnection) {
  RecordingServer server;
  WebResponse r = client_web_->send(request(server.url(), {"*"}));
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(server.requests().empty());
  resolver_->answer("localhost", {addresses({"127.0.0.1", "::1"})});
  r = client_web_->send(
      request("http://localhost:" + std::to_string(server.port()) + "/", {"localhost"}));
  EXPECT_TRUE(r.refused) << r.error;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(EgressClientTest, RedirectsAreFollowedOnlyWhereTheFirstRequestMayGo) {
  RecordingServer target;
  RecordingServer start;
  start.reply([&](const http::Request& request, http::Responder& responder) {
    http::Response response;
    response.status = 302;
    std::string where = request.path == "/inside" ? target.url("/landed")
                                                  : "http://169.254.169.254/latest/meta-data/";
    response.headers.emplace_back("Location", where);
    responder.send(response);
  });
  WebRequest r = request(start.url("/inside"), {"127.0.0.1/32"});
  r.maxRedirects = 3;
  WebResponse followed = client_web_->send(r);
  ASSERT_TRUE(followed.ok()) << followed.error;
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.redirects, 1);
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_EQ(target.requests()[0].path, "/landed");

  r.url = start.url("/outside");
  WebResponse refused = client_web_->send(r);
  EXPECT_TRUE(refused.refused);
  EXPECT_NE(refused.error.find("169.254.169.254"), std::string::npos) << refused.error;
  EXPECT_EQ(target.requests().size(), 1u);

  // With a secret on board, not even to an allowed host of another name.
  resolver_->answer("hooks.test", {addresses({"127.0.0.1"})});
  start.reply([&](const http::Request&, http::Responder& responder) {
    http::Response response;
    response.status = 307;
    response.headers.emplace_back("Location",
                                  "http://hooks.test:" + std::to_string(target.port()) + "/stolen");
    responder.send(response);
  });
  r.url = start.url("/with-secret");
  r.carriesSecrets = true;
  r.headers = {{"Authorization", "Bearer for-the-first-host-only"}};
  r.egress = std::make_shared<const EgressRules>(rules({"127.0.0.1/32", "hooks.test"}));
  WebResponse kept = client_web_->send(r);
  EXPECT_TRUE(kept.refused);
  EXPECT_EQ(kept.error,
            "a redirect to host hooks.test, refused: the request carries a secret meant for "
            "127.0.0.1");
  EXPECT_EQ(target.requests().size(), 1u);
}

TEST_F(EgressClientTest, ProxiesFromTheEnvironmentAreIgnored) {
  RecordingServer proxy;
  RecordingServer server;
  ::setenv("HTTP_PROXY", proxy.url("").c_str(), 1);
  ::setenv("http_proxy", proxy.url("").c_str(), 1);
  WebResponse r = client_web_->send(request(server.url("/direct"), {"127.0.0.1/32"}));
  ::unsetenv("HTTP_PROXY");
  ::unsetenv("http_proxy");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(proxy.requests().empty());
}

class EgressActionTest : public EgressClientTest {
 protected:
  void createSecret(const std::string& name, const std::string& key, const std::string& value) {
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"data", {{key, kube::encodeBase64(value)}}}};
    ASSERT_TRUE(client_->create(kube::resources::secrets(), namespace_, secret).ok());
  }

  ActionContext context() {
    ActionContext c;
    c.client = client_.get();
    c.now = std::chrono::system_clock::now();
    c.deadline = c.now + std::chrono::seconds(10);
    c.defaultNamespace = namespace_;
    return c;
  }

  WebActionOptions options(std::vector<std::string> allow) {
    WebActionOptions o;
    o.client = client_web_;
    o.egress = std::make_shared<const EgressRules>(rules(std::move(allow)));
    return o;
  }
};

TEST_F(EgressActionTest, ASecretHeaderGoesOnlyToAHostTheAllowListNames) {
  RecordingServer server;
  createSecret("hook", "token", "Bearer tok-9f8e7d6c5b4a");
  resolver_->answer("collector.test", {addresses({"127.0.0.1"})});
  std::string url = "http://collector.test:" + std::to_string(server.port()) + "/collect";
  json withSecret = {
      {"url", url},
      {"headers",
       json::array({{{"name", "Authorization"},
                     {"valueFrom", {{"secretKeyRef", {{"name", "hook"}, {"key", "token"}}}}}}})}};
  // Reachable (by its address range) but not named: plain requests go,
  // the secret does not.
  HttpAction byRange(options({"127.0.0.1/32"}));
  auto refused = byRange.run(withSecret, context());
  EXPECT_EQ(refused.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(refused.message,
            "GET " + url +
                ": refused by the egress policy: the request carries a secret, and host "
                "collector.test is not named on the egress allow-list");
  EXPECT_TRUE(server.requests().empty());
  auto plain = byRange.run({{"url", url}}, context());
  EXPECT_EQ(plain.kind, OutcomeKind::kSucceeded) << plain.message;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("authorization"), "");
  // Named by the administrator: the secret goes, and never into a message.
  HttpAction named(options({"127.0.0.1/32", "collector.test"}));
  auto sent = named.run(withSecret, context());
  EXPECT_EQ(sent.kind, OutcomeKind::kSucceeded) << sent.message;
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].header("authorization"), "Bearer tok-9f8e7d6c5b4a");
  EXPECT_EQ((refused.message + sent.message).find("tok-9f8e7d6c5b4a"), std::string::npos);
}

TEST_F(EgressActionTest, BasicAuthFromTheUrlIsRedactedWhereverTheServerEchoesIt) {
  RecordingServer server;
  server.reply([&](const http::Request& request, http::Responder& responder) {
    responder.send(http::Response::text(403, "denied for " + request.header("authorization")));
  });
  std::string url = "http://ops:pa%24%24word-xyz@127.0.0.1:" + std::to_string(server.port()) + "/";
  HttpAction action(options({"127.0.0.1/32"}));
  auto outcome = action.run({{"url", url}, {"keepResponseBody", true}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  std::string all = outcome.message;
  for (const auto& [k, v] : outcome.outputs) all += " " + v;
  EXPECT_EQ(all.find("pa$$word-xyz"), std::string::npos) << all;
  EXPECT_EQ(all.find(kube::encodeBase64("ops:pa$$word-xyz")), std::string::npos) << all;
  EXPECT_NE(all.find("denied for Basic [redacted]"), std::string::npos) << all;
}

TEST_F(EgressActionTest, ResponseBodiesReachStatusOnlyWhenTheStepAsks) {
  RecordingServer server;
  server.replyWith(500, "internal detail: db password is hunter2");
  HttpAction action(options({"127.0.0.1/32"}));
  auto outcome = action.run({{"url", server.url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure);
  EXPECT_EQ(outcome.outputs.count("body"), 0u);
  EXPECT_EQ(outcome.message.find("hunter2"), std::string::npos) << outcome.message;
  outcome = action.run({{"url", server.url()}, {"keepResponseBody", true}}, context());
  EXPECT_NE(outcome.outputs["body"].find("hunter2"), std::string::npos);
}

TEST_F(EgressActionTest, NotifyToTheMetadataEndpointSendsNothing) {
  NotifyOptions o;
  o.client = client_web_;
  o.egress = std::make_shared<const EgressRules>(rules({"*"}));
  NotifyAction notify(o);
  auto outcome = notify.run(
      {{"url", "http://169.254.169.254/latest/meta-data/"}, {"message", "hi"}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("refused by the egress policy"), std::string::npos)
      << outcome.message;
  EXPECT_EQ(outcome.outputs["status"], "");
}

}  // namespace
}  // namespace remedy::actions
