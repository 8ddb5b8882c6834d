// The REST client against the sandbox over HTTPS: verbs, errors as values,
// TLS verification, client certificates, token files, exec plugins,
// Retry-After and client-side throttling.
#include "kube/rest_client.h"

#include "kube/kubeconfig.h"
#include "kube/metrics.h"
#include "sandbox_fixture.h"
#include "test_files.h"

#include <gmock/gmock.h>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>

namespace remedy::kube {
namespace {

using ::testing::HasSubstr;
using testing::SandboxTest;
using testing::TempDir;

class RestClientTest : public SandboxTest {};

// Parks `request` on a thread until it is done; done() says whether it is.
class InFlight {
 public:
  explicit InFlight(std::function<void()> request)
      : thread_([this, request = std::move(request)] {
          request();
          done_ = true;
        }) {}
  ~InFlight() { join(); }
  bool done() const { return done_; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

bool waitFor(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST_F(RestClientTest, CreateGetUpdateDelete) {
  auto created = client_->create(resources::configMaps(), namespace_, configMap("a", {{"k", "1"}}));
  ASSERT_TRUE(created.ok()) << created.status().toString();
  EXPECT_FALSE(resourceVersionOf(*created).empty());

  auto got = client_->get(resources::configMaps(), namespace_, "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["data"]["k"], "1");

  json changed = *got;
  changed["data"]["k"] = "2";
  auto updated = client_->update(resources::configMaps(), namespace_, changed);
  ASSERT_TRUE(updated.ok()) << updated.status().toString();
  EXPECT_EQ((*updated)["data"]["k"], "2");

  // The stale copy loses: 409 Conflict, as a value.
  auto stale = client_->update(resources::configMaps(), namespace_, changed);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(isConflict(stale.status())) << stale.status().toString();
  EXPECT_EQ(stale.status().code(), 409);

  auto duplicate = client_->create(resources::configMaps(), namespace_, configMap("a"));
  EXPECT_TRUE(isAlreadyExists(duplicate.status())) << duplicate.status().toString();

  auto removed = client_->remove(resources::configMaps(), namespace_, "a");
  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  auto gone = client_->get(resources::configMaps(), namespace_, "a");
  EXPECT_TRUE(isNotFound(gone.status())) << gone.status().toString();
  EXPECT_EQ(gone.status().code(), 404);
}

TEST_F(RestClientTest, PatchTypes) {
  ASSERT_TRUE(client_->create(resources::configMaps(), namespace_, configMap("p", {{"a", "1"}})));
  PatchOptions merge;
  merge.type = PatchType::Merge;
  auto m = client_->patch(resources::configMaps(), namespace_, "p", R"({"data":{"b":"2"}})", merge);
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ((*m)["data"]["b"], "2");

  PatchOptions jsonPatch;
  jsonPatch.type = PatchType::Json;
  auto j = client_->patch(resources::configMaps(), namespace_, "p",
                          R"([{"op":"remove","path":"/data/a"}])", jsonPatch);
  ASSERT_TRUE(j.ok()) << j.status().toString();
  EXPECT_FALSE((*j)["data"].contains("a"));

  PatchOptions strategic;
  strategic.type = PatchType::StrategicMerge;
  auto s =
      client_->patch(resources::configMaps(), namespace_, "p", R"({"data":{"c":"3"}})", strategic);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ((*s)["data"]["c"], "3");

  PatchOptions apply;
  apply.type = PatchType::Apply;
  auto missingManager = client_->patch(resources::configMaps(), namespace_, "p", "{}", apply);
  EXPECT_FALSE(missingManager.ok());
  apply.fieldManager = "kube-test";
  apply.force = true;
  json applied = configMap("p", {{"d", "4"}});
  auto a = client_->patch(resources::configMaps(), namespace_, "p", applied.dump(), apply);
  ASSERT_TRUE(a.ok()) << a.status().toString();
  EXPECT_EQ((*a)["data"]["d"], "4");
}

TEST_F(RestClientTest, ListWithSelectorsAndPages) {
  for (int i = 0; i < 7; ++i) {
    json cm = configMap("cm-" + std::to_string(i));
    cm["metadata"]["labels"] = {{"parity", i % 2 ? "odd" : "even"}};
    ASSERT_TRUE(client_->create(resources::configMaps(), namespace_, cm));
  }
  ListOptions odd;
  odd.labelSelector = "parity=odd";
  auto listed = client_->list(resources::configMaps(), namespace_, odd);
  ASSERT_TRUE(listed.ok()) << listed.status().toString();
  EXPECT_EQ((*listed)["items"].size(), 3u);

  ListOptions page;
  page.limit = 2;
  auto first = client_->list(resources::configMaps(), namespace_, page);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["items"].size(), 2u);
  EXPECT_FALSE((*first)["metadata"].value("continue", "").empty());
  auto all = listAll(*client_, resources::configMaps(), namespace_, page);
  ASSERT_TRUE(all.ok()) << all.status().toString();
  // kube-root-ca.crt may or may not be published; count ours.
  int ours = 0;
  for (const auto& item : (*all)["items"]) ours += nameOf(item).rfind("cm-", 0) == 0;
  EXPECT_EQ(ours, 7);

  ListOptions fields;
  fields.fieldSelector = "metadata.name=cm-3";
  auto one = client_->list(resources::configMaps(), namespace_, fields);
  ASSERT_TRUE(one.ok()) << one.status().toString();
  ASSERT_EQ((*one)["items"].size(), 1u);
}

TEST_F(RestClientTest, ScaleAndStatusSubresources) {
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}, {"namespace", namespace_}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "nginx"}}})}}}}}}}};
  auto created = client_->create(resources::deployments(), namespace_, deployment);
  ASSERT_TRUE(created.ok()) << created.status().toString();
  GetOptions scale;
  scale.subresource = "scale";
  auto s = client_->get(resources::deployments(), namespace_, "web", scale);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ((*s)["kind"], "Scale");
  json newScale = *s;
  newScale["spec"]["replicas"] = 3;
  // The workload simulator may update the Deployment's status between the
  // GET and the PUT; an update without resourceVersion is unconditional, as
  // `kubectl scale` without --resource-version.
  newScale["metadata"].erase("resourceVersion");
  WriteOptions toScale;
  toScale.subresource = "scale";
  auto scaled = client_->update(resources::deployments(), namespace_, newScale, toScale);
  ASSERT_TRUE(scaled.ok()) << scaled.status().toString();
  auto after = client_->get(resources::deployments(), namespace_, "web");
  EXPECT_EQ((*after)["spec"]["replicas"], 3);

  PatchOptions status;
  status.type = PatchType::Merge;
  status.subresource = "status";
  auto patched = client_->patch(resources::deployments(), namespace_, "web",
                                R"({"status":{"observedGeneration":42}})", status);
  ASSERT_TRUE(patched.ok()) << patched.status().toString();
}

TEST_F(RestClientTest, DeletePreconditionMismatchIsAConflict) {
  auto created = client_->create(resources::configMaps(), namespace_, configMap("d"));
  ASSERT_TRUE(created.ok());
  DeleteOptions options;
  options.preconditionUid = "not-the-uid";
  auto refused = client_->remove(resources::configMaps(), namespace_, "d", options);
  EXPECT_TRUE(isConflict(refused.status())) << refused.status().toString();
  options.preconditionUid = uidOf(*created);
  EXPECT_TRUE(client_->remove(resources::configMaps(), namespace_, "d", options).ok());
}

TEST_F(RestClientTest, DiscoveryMapsKindsToResources) {
  auto deployments = client_->resourceFor("apps/v1", "Deployment");
  ASSERT_TRUE(deployments.ok()) << deployments.status().toString();
  EXPECT_EQ(deployments->resource, "deployments");
  EXPECT_TRUE(deployments->namespaced);
  auto namespaces = client_->resourceFor("v1", "Namespace");
  ASSERT_TRUE(namespaces.ok());
  EXPECT_FALSE(namespaces->namespaced);
  auto missing = client_->resourceFor("apps/v1", "NoSuchKind");
  EXPECT_TRUE(isNotFound(missing.status()));
}

TEST_F(RestClientTest, RetriesA503WithRetryAfter) {
  ASSERT_TRUE(client_->create(resources::configMaps(), namespace_, configMap("r")));
  sandbox_->faults().failNext(2, 503, "/configmaps/r", 1);
  auto got = client_->get(resources::configMaps(), namespace_, "r");
  EXPECT_TRUE(got.ok()) << got.status().toString();
}

// Records, on the test's clock, when each request of a budget was sent and
// which answers were throttled.
class RecordingSink : public MetricsSink {
 public:
  explicit RecordingSink(const Clock& clock) : clock_(clock) { setMetricsSink(this); }
  ~RecordingSink() override { setMetricsSink(nullptr); }
  void apiRequest(const std::string& budget, const std::string& verb, int code,
                  Duration latency) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back({verb, code, clock_.now()});
  }
  void throttled(const std::string& budget, const std::string& reason, Duration waited) override {
    std::lock_guard<std::mutex> lock(mu_);
    throttled_.push_back(
        budget + "/" + reason + "/" +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(waited).count()) + "s");
  }
  struct Sent {
    std::string verb;
    int code;
    TimePoint at;
  };
  std::vector<Sent> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  std::vector<std::string> throttled() {
    std::lock_guard<std::mutex> lock(mu_);
    return throttled_;
  }

 private:
  const Clock& clock_;
  std::mutex mu_;  // guards sent_ and throttled_
  std::vector<Sent> sent_;
  std::vector<std::string> throttled_;
};

TEST_F(RestClientTest, A429IsRetriedForAWriteAfterItsRetryAfter) {
  FakeClock clock;
  RecordingSink sink(clock);
  Config c = adminConfig();
  c.budget = "engine";
  auto client = RestClient::fromConfig(c, clock);
  ASSERT_TRUE(client.ok());
  sandbox_->faults().failNext(2, 429, "/configmaps", 2);
  std::optional<Result<json>> created;
  InFlight writing(
      [&] { created = (*client)->create(resources::configMaps(), namespace_, configMap("w")); });
  // Each Retry-After parks the request on the clock until 2 s have passed.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(waitFor([&] { return clock.waiters() == 1 || writing.done(); }));
    ASSERT_FALSE(writing.done()) << "answer " << i << " was not waited out";
    clock.step(std::chrono::seconds(2));
    // Sent again once the clock has moved.
    ASSERT_TRUE(waitFor([&] { return sink.sent().size() == static_cast<size_t>(i) + 2; }));
  }
  writing.join();
  ASSERT_TRUE(created.has_value());
  EXPECT_TRUE(created->ok()) << created->status().toString();
  auto sent = sink.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].code, 429);
  EXPECT_EQ(sent[1].code, 429);
  EXPECT_EQ(sent[2].code, 201);
  EXPECT_EQ(sent[1].at - sent[0].at, std::chrono::seconds(2));
  EXPECT_EQ(sent[2].at - sent[1].at, std::chrono::seconds(2));
  EXPECT_EQ(sink.throttled(),
            (std::vector<std::string>{"engine/TooManyRequests/2s", "engine/TooManyRequests/2s"}));
}

TEST_F(RestClientTest, A503WithRetryAfterIsNotRetriedForAWrite) {
  RecordingSink sink(Clock::real());
  sandbox_->faults().failNext(1, 503, "/configmaps", 1);
  // After a 5xx the write may have been done: the caller decides.
  auto created = client_->create(resources::configMaps(), namespace_, configMap("u"));
  EXPECT_TRUE(isServiceUnavailable(created.status())) << created.status().toString();
  EXPECT_EQ(sink.sent().size(), 1u);
  EXPECT_EQ(sink.throttled(), (std::vector<std::string>{"default/ServiceUnavailable/0s"}));
}

TEST_F(RestClientTest, ARetryAfterBeyondTheDeadlineFailsAtOnceSayingSo) {
  FakeClock clock;
  auto client = RestClient::fromConfig(adminConfig(), clock);
  ASSERT_TRUE(client.ok());
  sandbox_->faults().failNext(1, 429, "/configmaps", 20);
  GetOptions options;
  options.timeout = std::chrono::seconds(5);
  std::optional<Result<json>> got;
  InFlight reading(
      [&] { got = (*client)->get(resources::configMaps(), namespace_, "d", options); });
  ASSERT_TRUE(waitFor([&] { return reading.done() || clock.waiters() > 0; }));
  ASSERT_TRUE(reading.done()) << "the request waits for a Retry-After beyond its deadline";
  reading.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(isTooManyRequests(got->status())) << got->status().toString();
  EXPECT_EQ(got->status().retryAfterSeconds(), 20);
  EXPECT_THAT(
      got->status().message(),
      HasSubstr(
          "the API server asked the default client to retry after 20s (Retry-After), beyond this "
          "request's deadline (5.0s left of 5.0s); not retried"));
}

TEST_F(RestClientTest, A500WithoutRetryAfterIsReturned) {
  sandbox_->faults().failNext(1, 500, "/configmaps");
  auto got = client_->get(resources::configMaps(), namespace_, "x");
  EXPECT_TRUE(isInternalError(got.status())) << got.status().toString();
}

TEST_F(RestClientTest, ClientSideRateLimit) {
  Config c = adminConfig();
  c.qps = 10;
  c.burst = 1;
  auto slow = newClient(c);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(slow->get(resources::namespaces(), "", namespace_).ok());
  // 1 from the burst, then 5 at 10 per second.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(450));
}

TEST_F(RestClientTest, EachBudgetHasTokensOfItsOwn) {
  FakeClock clock;
  Config events = adminConfig();
  events.budget = "events";
  events.qps = 1;
  events.burst = 1;
  Config engine = events;
  engine.budget = "engine";
  auto eventsClient = RestClient::fromConfig(events, clock);
  auto engineClient = RestClient::fromConfig(engine, clock);
  ASSERT_TRUE(eventsClient.ok() && engineClient.ok());
  ASSERT_TRUE((*eventsClient)->get(resources::namespaces(), "", namespace_).ok());
  // The events budget is spent: its next request waits for the (fake) clock.
  std::optional<Result<json>> late;
  InFlight waiting([&] { late = (*eventsClient)->get(resources::namespaces(), "", namespace_); });
  ASSERT_TRUE(waitFor([&] { return clock.waiters() == 1 || waiting.done(); }));
  EXPECT_FALSE(waiting.done()) << "the events budget had a second token";
  // The engine's budget is untouched by it.
  auto served = (*engineClient)->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(served.ok()) << served.status().toString();
  EXPECT_FALSE(waiting.done());
  clock.step(std::chrono::seconds(1));
  waiting.join();
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(late->ok()) << late->status().toString();
}

TEST_F(RestClientTest, AnImpersonatingClientDrawsOnTheBudgetOfItsBase) {
  FakeClock clock;
  Config engine = adminConfig();
  engine.budget = "engine";
  engine.qps = 1;
  engine.burst = 1;
  auto base = RestClient::fromConfig(engine, clock);
  ASSERT_TRUE(base.ok());
  auto tenant = (*base)->impersonating({serviceAccountUser(namespace_, "runner"), {}});
  ASSERT_TRUE((*base)->get(resources::namespaces(), "", namespace_).ok());
  std::optional<Result<json>> answered;
  InFlight waiting([&] { answered = tenant->get(resources::configMaps(), namespace_, "x"); });
  ASSERT_TRUE(waitFor([&] { return clock.waiters() == 1 || waiting.done(); }));
  EXPECT_FALSE(waiting.done()) << "the impersonating client had a token of its own";
  clock.step(std::chrono::seconds(1));
  waiting.join();
  // Answered by the server (whatever the runner may do), not by the client.
  ASSERT_TRUE(answered.has_value());
  EXPECT_NE(answered->status().code(), 0) << answered->status().toString();
}

TEST_F(RestClientTest, RefusesAServerItCannotVerify) {
  Config noCa = adminConfig();
  noCa.caPem.clear();  // system roots do not know the sandbox CA
  auto c = newClient(noCa);
  auto r = c->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(isConnectionFailed(r.status())) << r.status().toString();

  Config insecure = noCa;
  insecure.insecureSkipTlsVerify = true;
  EXPECT_TRUE(newClient(insecure)->get(resources::namespaces(), "", namespace_).ok());
}

TEST_F(RestClientTest, TlsServerNameIsUsedToVerify) {
  Config named = adminConfig();
  named.tlsServerName = "kubernetes.default.svc";
  auto ok = newClient(named)->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(ok.ok()) << ok.status().toString();
  named.tlsServerName = "not-in-the-certificate.example";
  auto refused = newClient(named)->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(isConnectionFailed(refused.status())) << refused.status().toString();
}

TEST_F(RestClientTest, ClientCertificateAuthenticates) {
  auto pair = sandbox_->issueClientCertificate("alice", {"system:masters"});
  Config c = adminConfig();
  c.bearerToken.clear();
  c.clientCertificatePem = pair.certificatePem;
  c.clientKeyPem = pair.privateKeyPem;
  auto r = newClient(c)->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(r.ok()) << r.status().toString();

  Config anonymous = adminConfig();
  anonymous.bearerToken = "no-such-token";
  auto refused = newClient(anonymous)->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(isUnauthorized(refused.status())) << refused.status().toString();
}

TEST_F(RestClientTest, TokenFileIsReReadWhenRotated) {
  TempDir dir;
  sandbox_->addToken("rotated-token", "rotator", {"system:masters"});
  Config c = adminConfig();
  c.bearerToken.clear();
  c.bearerTokenFile = dir.write("token", "expired-token");
  auto client = newClient(c);
  auto before = client->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(isUnauthorized(before.status())) << before.status().toString();
  dir.replace("token", "rotated-token\n");
  auto after = client->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(after.ok()) << after.status().toString();
}

TEST_F(RestClientTest, KubeconfigFromTheSandbox) {
  TempDir dir;
  auto path = dir.write("config", sandbox_->kubeconfig("", namespace_));
  KubeconfigOptions options;
  options.path = path;
  auto config = loadKubeconfig(options);
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->namespace_, namespace_);
  auto client = newClient(*config);
  EXPECT_TRUE(client->get(resources::namespaces(), "", namespace_).ok());
}

TEST_F(RestClientTest, ExecPluginTokenIsRefreshedAfterA401) {
  TempDir dir;
  sandbox_->addToken("plugin-token-2", "plugin-user", {"system:masters"});
  // Run 1 prints a token the server does not know; run 2 a good one.
  std::string script =
      "#!/bin/sh\n"
      "n=$(cat \"" +
      dir.file("runs") +
      "\" 2>/dev/null || echo 0)\n"
      "n=$((n+1))\necho $n > \"" +
      dir.file("runs") +
      "\"\n"
      "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"plugin-token-'$n'\"}}'\n";
  ExecConfig exec;
  exec.command = dir.write("plugin.sh", script, 0755);
  exec.apiVersion = "client.authentication.k8s.io/v1";
  Config c = adminConfig();
  c.bearerToken.clear();
  c.exec = exec;
  auto client = newClient(c);
  auto first = client->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(isUnauthorized(first.status())) << first.status().toString();
  auto second = client->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(second.ok()) << second.status().toString();
  auto third = client->get(resources::namespaces(), "", namespace_);
  EXPECT_TRUE(third.ok());
}

TEST_F(RestClientTest, EvictionGoesThroughTheSubresource) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"namespace", namespace_}}},
              {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
  ASSERT_TRUE(client_->create(resources::pods(), namespace_, pod));
  Status s = evictPod(*client_, namespace_, "p");
  EXPECT_TRUE(s.ok()) << s.toString();
  EXPECT_TRUE(testing::eventually([&] {
    auto got = client_->get(resources::pods(), namespace_, "p");
    return isNotFound(got.status()) ||
           (got.ok() && (*got)["metadata"].contains("deletionTimestamp"));
  }));
}

TEST_F(RestClientTest, ShutdownCancelsAWatchInFlight) {
  auto client = newClient();
  ListOptions options;
  options.timeoutSeconds = 60;
  auto watch = client->watch(resources::configMaps(), namespace_, options);
  ASSERT_TRUE(watch.ok()) << watch.status().toString();
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    while ((*watch)->next()) {
    }
    ended = true;
  });
  (*watch)->cancel();
  EXPECT_TRUE(testing::eventually([&] { return ended.load(); }, std::chrono::seconds(10)));
  reader.join();
  EXPECT_TRUE(isCancelled((*watch)->status())) << (*watch)->status().toString();
}

}  // namespace
}  // namespace remedy::kube
