// How the API server calls admission webhooks, with one test body for the
// sandbox and for the real kube-apiserver (REMEDY_TEST_APISERVER): the
// sandbox must send the same AdmissionReview and give the same answers as
// kube-apiserver v1.33 (texts included), since the approval tests rely on it.
//
// Each test registers webhook configurations named after its namespace and
// limited to it by namespaceSelector, so tests on the shared control plane
// never see each other's webhooks; they are deleted at the end.
#include "../support/admission_webhook_server.h"
#include "../support/api_server.h"

#include <gtest/gtest.h>

#include <condition_variable>

namespace remedy::testing {
namespace {

using json = nlohmann::json;

kube::Resource mutatingConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
          "MutatingWebhookConfiguration", false};
}
kube::Resource validatingConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
          "ValidatingWebhookConfiguration", false};
}
kube::Resource roles() { return {"rbac.authorization.k8s.io", "v1", "roles", "Role", true}; }
kube::Resource roleBindings() {
  return {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
}

class WebhookDispatchTest : public ApiServerTest {
 protected:
  void SetUp() override {
    ApiServerTest::SetUp();
    if (HasFatalFailure()) return;
    // alice may write ConfigMaps in the test namespace (the real server
    // enforces RBAC; the sandbox here does not).
    json role = {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "Role"},
        {"metadata", {{"name", "configmaps"}, {"namespace", namespace_}}},
        {"rules", json::array({{{"apiGroups", {""}},
                                {"resources", {"configmaps"}},
                                {"verbs", {"get", "list", "create", "update", "patch"}}}})}};
    ASSERT_TRUE(client_->create(roles(), namespace_, role).ok());
    json binding = {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "RoleBinding"},
        {"metadata", {{"name", "configmaps"}, {"namespace", namespace_}}},
        {"roleRef",
         {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "configmaps"}}},
        {"subjects",
         json::array(
             {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", "alice"}}})}};
    ASSERT_TRUE(client_->create(roleBindings(), namespace_, binding).ok());
    alice_ = newClient(userConfig("alice"));
  }

  void TearDown() override {
    release();
    for (const auto& [resource, name] : registered_) client_->remove(resource, "", name);
    ApiServerTest::TearDown();
  }

  // A webhook configuration of one webhook for ConfigMaps of the test
  // namespace; `hook` adds to (or overrides) the webhook's fields.
  void registerWebhook(bool mutating, const std::string& suffix, json hook) {
    json base = {
        {"name", suffix + ".remedy.test"},
        {"rules", json::array({{{"operations", {"CREATE", "UPDATE"}},
                                {"apiGroups", {""}},
                                {"apiVersions", {"v1"}},
                                {"resources", {"configmaps"}}}})},
        {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}}},
        {"sideEffects", "None"},
        {"admissionReviewVersions", {"v1"}}};
    base.merge_patch(hook);
    kube::Resource resource = mutating ? mutatingConfigurations() : validatingConfigurations();
    json configuration = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration"},
        {"metadata", {{"name", namespace_ + "-" + suffix}}},
        {"webhooks", json::array({base})}};
    auto created = client_->create(resource, "", configuration);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    registered_.emplace_back(resource, namespace_ + "-" + suffix);
  }

  json configMap(const std::string& name, json labels = json::object()) {
    json cm = ApiServerTest::configMap(name, {{"k", "v"}});
    if (!labels.empty()) cm["metadata"]["labels"] = labels;
    return cm;
  }

  // kube-apiserver learns of a new configuration from a watch: waits until
  // a dry-run create as alice gives an answer `effective` accepts.
  void awaitEffective(const std::function<bool(const kube::Result<json>&)>& effective) {
    int n = 0;
    bool ok = eventuallyTrue([&] {
      kube::WriteOptions dryRun;
      dryRun.dryRun = true;
      return effective(alice_->create(kube::resources::configMaps(), namespace_,
                                      configMap("probe-" + std::to_string(n++)), dryRun));
    });
    ASSERT_TRUE(ok) << "the webhook never took effect";
  }
  void awaitCalled(AdmissionWebhookServer& server) {
    size_t before = server.received().size();
    awaitEffective([&](const kube::Result<json>&) { return server.received().size() > before; });
  }

  // Lets every blocked handler answer. A server's destructor waits for its
  // handlers, so a test releases them before its server goes.
  void release() {
    {
      std::lock_guard<std::mutex> lock(slowMu_);
      released_ = true;
    }
    slowCv_.notify_all();
  }
  struct ReleaseOnExit {
    WebhookDispatchTest* test;
    ~ReleaseOnExit() { test->release(); }
  };

  // A handler that blocks until release().
  json blockUntilReleased() {
    std::unique_lock<std::mutex> lock(slowMu_);
    slowCv_.wait(lock, [&] { return released_; });
    return AdmissionWebhookServer::allow();
  }

  std::unique_ptr<kube::RestClient> alice_;
  std::vector<std::pair<kube::Resource, std::string>> registered_;
  std::mutex slowMu_;
  std::condition_variable slowCv_;
  bool released_ = false;
};

TEST_F(WebhookDispatchTest, AMutatingWebhookSeesTheAuthenticatedUserAndItsPatchIsStored) {
  AdmissionWebhookServer server([](const json& request) {
    if (request.value("dryRun", false)) return AdmissionWebhookServer::allow();
    return AdmissionWebhookServer::patch(json::array(
        {{{"op", "add"}, {"path", "/metadata/labels"}, {"value", {{"seen-by", "webhook"}}}}}));
  });
  registerWebhook(
      true, "mutate",
      {{"clientConfig", {{"url", server.url("/mutate")}, {"caBundle", server.caBundle()}}}});
  ASSERT_NO_FATAL_FAILURE(awaitCalled(server));

  auto created = alice_->create(kube::resources::configMaps(), namespace_, configMap("alices"));
  ASSERT_TRUE(created.ok()) << created.status().toString();
  EXPECT_EQ((*created)["metadata"]["labels"]["seen-by"], "webhook");

  auto received = server.received();
  const auto& last = received.back();
  EXPECT_EQ(last.path, "/mutate");
  EXPECT_EQ(last.query, "timeout=10s");
  const json& r = last.request;
  EXPECT_EQ(r["operation"], "CREATE");
  EXPECT_EQ(r["name"], "alices");
  EXPECT_EQ(r["namespace"], namespace_);
  EXPECT_EQ(r["kind"], json({{"group", ""}, {"version", "v1"}, {"kind", "ConfigMap"}}));
  EXPECT_EQ(r["resource"], json({{"group", ""}, {"version", "v1"}, {"resource", "configmaps"}}));
  EXPECT_EQ(r["userInfo"]["username"], "alice");
  EXPECT_EQ(r["userInfo"]["groups"], json({"oncall", "sre", "system:authenticated"}));
  EXPECT_EQ(r["dryRun"], false);
  EXPECT_TRUE(r["oldObject"].is_null());
  EXPECT_EQ(r["options"]["kind"], "CreateOptions");
  // Mutating webhooks see the object before the server fills in its fields.
  EXPECT_FALSE(r["object"]["metadata"].contains("uid"));
  EXPECT_EQ(r["object"]["data"], json({{"k", "v"}}));
}

TEST_F(WebhookDispatchTest, ADenialReachesTheClientWithTheWebhooksCodeAndCauses) {
  AdmissionWebhookServer server([](const json& request) {
    return json{{"allowed", false},
                {"status",
                 {{"code", 422},
                  {"reason", "Invalid"},
                  {"message", "ConfigMap \"x\" is invalid: data.k: Forbidden: not here"},
                  {"details",
                   {{"name", "x"},
                    {"kind", "ConfigMap"},
                    {"causes", json::array({{{"reason", "FieldValueForbidden"},
                                             {"message", "Forbidden: not here"},
                                             {"field", "data.k"}}})}}}}}};
  });
  registerWebhook(
      false, "deny",
      {{"clientConfig", {{"url", server.url("/validate")}, {"caBundle", server.caBundle()}}}});
  ASSERT_NO_FATAL_FAILURE(awaitCalled(server));
  auto created = alice_->create(kube::resources::configMaps(), namespace_, configMap("x"));
  ASSERT_FALSE(created.ok());
  const kube::Status& s = created.status();
  EXPECT_EQ(s.code(), 422);
  EXPECT_EQ(s.reason(), "Invalid");
  EXPECT_EQ(s.message(),
            "admission webhook \"deny.remedy.test\" denied the request: ConfigMap \"x\" is "
            "invalid: data.k: Forbidden: not here");
  ASSERT_EQ(s.causes().size(), 1u);
  EXPECT_EQ(s.causes()[0].field, "data.k");
  // A denial without a status.
  server.setAnswer([](const json&) { return json{{"allowed", false}}; });
  auto bare = alice_->create(kube::resources::configMaps(), namespace_, configMap("y"));
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().code(), 400);
  EXPECT_EQ(bare.status().message(),
            "admission webhook \"deny.remedy.test\" denied the request without explanation");
}

TEST_F(WebhookDispatchTest, AWebhookThatCannotBeCalledFailsTheWriteUnlessItsPolicyIsIgnore) {
  auto server = std::make_unique<AdmissionWebhookServer>(
      [](const json&) { return AdmissionWebhookServer::allow(); });
  std::string url = server->url("/validate");
  std::string caBundle = server->caBundle();
  uint16_t port = server->port();
  server->stop();  // nobody listens there any more
  registerWebhook(false, "down", {{"clientConfig", {{"url", url}, {"caBundle", caBundle}}}});
  ASSERT_NO_FATAL_FAILURE(awaitEffective([](const kube::Result<json>& r) { return !r.ok(); }));
  auto created = alice_->create(kube::resources::configMaps(), namespace_, configMap("x"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), 500);
  EXPECT_EQ(created.status().reason(), "InternalError");
  EXPECT_EQ(created.status().message(),
            "Internal error occurred: failed calling webhook \"down.remedy.test\": failed to call "
            "webhook: Post \"https://127.0.0.1:" +
                std::to_string(port) + "/validate?timeout=10s\": dial tcp 127.0.0.1:" +
                std::to_string(port) + ": connect: connection refused");

  json ignore = {{"webhooks", json::array()}};
  auto config = client_->get(validatingConfigurations(), "", namespace_ + "-down");
  ASSERT_TRUE(config.ok());
  (*config)["webhooks"][0]["failurePolicy"] = "Ignore";
  ASSERT_TRUE(client_->update(validatingConfigurations(), "", *config).ok());
  ASSERT_NO_FATAL_FAILURE(awaitEffective([](const kube::Result<json>& r) { return r.ok(); }));
  EXPECT_TRUE(alice_->create(kube::resources::configMaps(), namespace_, configMap("x")).ok());
}

TEST_F(WebhookDispatchTest, AWebhookSlowerThanItsTimeoutFailsTheWrite) {
  AdmissionWebhookServer server([this](const json&) { return blockUntilReleased(); });
  ReleaseOnExit releaseBeforeTheServerStops{this};
  registerWebhook(
      false, "slow",
      {{"timeoutSeconds", 1},
       {"clientConfig", {{"url", server.url("/validate")}, {"caBundle", server.caBundle()}}}});
  ASSERT_NO_FATAL_FAILURE(awaitEffective([](const kube::Result<json>& r) { return !r.ok(); }));
  auto created = alice_->create(kube::resources::configMaps(), namespace_, configMap("x"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message(),
            "Internal error occurred: failed calling webhook \"slow.remedy.test\": failed to call "
            "webhook: Post \"" +
                server.url("/validate") + "?timeout=1s\": context deadline exceeded");
}

TEST_F(WebhookDispatchTest, TheServerIsVerifiedAgainstTheCaBundle) {
  AdmissionWebhookServer server([](const json&) { return AdmissionWebhookServer::allow(); });
  AdmissionWebhookServer other([](const json&) { return AdmissionWebhookServer::allow(); });
  registerWebhook(
      false, "ca",
      {{"clientConfig", {{"url", server.url("/validate")}, {"caBundle", other.caBundle()}}}});
  ASSERT_NO_FATAL_FAILURE(awaitEffective([](const kube::Result<json>& r) { return !r.ok(); }));
  auto created = alice_->create(kube::resources::configMaps(), namespace_, configMap("x"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message(),
            "Internal error occurred: failed calling webhook \"ca.remedy.test\": failed to call "
            "webhook: Post \"" +
                server.url("/validate") +
                "?timeout=10s\": tls: failed to verify certificate: x509: certificate signed by "
                "unknown authority");
  EXPECT_TRUE(server.received().empty());
}

TEST_F(WebhookDispatchTest, AnAnswerToAnotherRequestIsRefused) {
  AdmissionWebhookServer server([](const json&) {
    return json{{"uid", "not-yours"}, {"allowed", true}};
  });
  registerWebhook(
      false, "uid",
      {{"clientConfig", {{"url", server.url("/validate")}, {"caBundle", server.caBundle()}}}});
  ASSERT_NO_FATAL_FAILURE(awaitEffective([](const kube::Result<json>& r) { return !r.ok(); }));
  auto created = alice_->create(kube::resources::configMaps(), namespace_, configMap("x"));
  ASSERT_FALSE(created.ok());
  std::string uid = server.received().back().request.value("uid", "");
  EXPECT_EQ(created.status().message(),
            "Internal error occurred: failed calling webhook \"uid.remedy.test\": received invalid "
            "webhook response: expected response.uid=\"" +
                uid + "\", got \"not-yours\"");
}

TEST_F(WebhookDispatchTest, SelectorsChooseWhichObjectsAreSent) {
  AdmissionWebhookServer server([](const json&) { return AdmissionWebhookServer::allow(); });
  registerWebhook(
      false, "selected",
      {{"objectSelector", {{"matchLabels", {{"audited", "true"}}}}},
       {"clientConfig", {{"url", server.url("/validate")}, {"caBundle", server.caBundle()}}}});
  // Once it is in force, a labelled ConfigMap is sent and an unlabelled one is not.
  int n = 0;
  ASSERT_TRUE(eventuallyTrue([&] {
    kube::WriteOptions dryRun;
    dryRun.dryRun = true;
    alice_->create(kube::resources::configMaps(), namespace_,
                   configMap("probe-" + std::to_string(n++), {{"audited", "true"}}), dryRun);
    return !server.received().empty();
  }));
  size_t before = server.received().size();
  ASSERT_TRUE(alice_->create(kube::resources::configMaps(), namespace_, configMap("plain")).ok());
  EXPECT_EQ(server.received().size(), before);
  ASSERT_TRUE(alice_
                  ->create(kube::resources::configMaps(), namespace_,
                           configMap("audited", {{"audited", "true"}}))
                  .ok());
  EXPECT_EQ(server.received().size(), before + 1);
  EXPECT_EQ(server.received().back().request["name"], "audited");
}

TEST_F(WebhookDispatchTest, AValidatingWebhookSeesTheMutatedObjectAndTheOldOneOnUpdate) {
  AdmissionWebhookServer mutator([](const json& request) {
    if (request.value("operation", "") != "UPDATE") return AdmissionWebhookServer::allow();
    return AdmissionWebhookServer::patch(
        json::array({{{"op", "add"}, {"path", "/data/stamped"}, {"value", "yes"}}}));
  });
  AdmissionWebhookServer validator([](const json&) { return AdmissionWebhookServer::allow(); });
  ASSERT_TRUE(alice_->create(kube::resources::configMaps(), namespace_, configMap("c")).ok());
  registerWebhook(
      true, "stamp",
      {{"clientConfig", {{"url", mutator.url("/m")}, {"caBundle", mutator.caBundle()}}}});
  registerWebhook(
      false, "see",
      {{"clientConfig", {{"url", validator.url("/v")}, {"caBundle", validator.caBundle()}}}});
  ASSERT_NO_FATAL_FAILURE(awaitCalled(mutator));
  ASSERT_NO_FATAL_FAILURE(awaitCalled(validator));
  kube::PatchOptions merge;
  auto patched = alice_->patch(kube::resources::configMaps(), namespace_, "c",
                               json{{"data", {{"k", "w"}}}}.dump(), merge);
  ASSERT_TRUE(patched.ok()) << patched.status().toString();
  EXPECT_EQ((*patched)["data"], json({{"k", "w"}, {"stamped", "yes"}}));
  json r = validator.received().back().request;
  EXPECT_EQ(r["operation"], "UPDATE");
  EXPECT_EQ(r["options"]["kind"], "UpdateOptions");
  EXPECT_EQ(r["object"]["data"], json({{"k", "w"}, {"stamped", "yes"}}));
  EXPECT_EQ(r["oldObject"]["data"], json({{"k", "v"}}));
  EXPECT_EQ(r["userInfo"]["username"], "alice");
}

TEST_F(WebhookDispatchTest, ConfigurationsAreValidatedAsKubeApiserverDoes) {
  json bad = {{"apiVersion", "admissionregistration.k8s.io/v1"},
              {"kind", "ValidatingWebhookConfiguration"},
              {"metadata", {{"name", namespace_ + "-bad"}}},
              {"webhooks", json::array({{{"name", "bad"},
                                         {"clientConfig", {{"url", "http://127.0.0.1:1/x"}}},
                                         {"rules", json::array({{{"operations", {"CREATE", "PUT"}},
                                                                 {"apiGroups", {""}},
                                                                 {"apiVersions", {"v1"}},
                                                                 {"resources", {"configmaps"}}}})},
                                         {"timeoutSeconds", 31},
                                         {"admissionReviewVersions", {"v2"}}}})}};
  auto created = client_->create(validatingConfigurations(), "", bad);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), 422);
  kube::Status status = created.status();
  std::string fields;
  for (const auto& c : status.causes()) fields += c.field + ": " + c.message + "\n";
  EXPECT_EQ(
      fields,
      "webhooks[0].name: Invalid value: \"bad\": should be a domain with at least three "
      "segments separated by dots\n"
      "webhooks[0].rules[0].operations[1]: Unsupported value: \"PUT\": supported values: "
      "\"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\"\n"
      "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun\n"
      "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 "
      "and 30 seconds\n"
      "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL "
      "scheme; desired format: https://host[/path]\n"
      "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at "
      "least one of v1, v1beta1\n");

  json good = bad;
  good["metadata"]["name"] = namespace_ + "-defaults";
  good["webhooks"] = json::array(
      {{{"name", "defaults.remedy.test"},
        {"clientConfig", {{"service", {{"name", "x"}, {"namespace", "y"}}}}},
        {"rules", json::array({{{"operations", {"CREATE"}},
                                {"apiGroups", {""}},
                                {"apiVersions", {"v1"}},
                                {"resources", {"configmaps"}}}})},
        {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}}},
        {"sideEffects", "None"},
        {"admissionReviewVersions", {"v1"}}}});
  auto defaulted = client_->create(validatingConfigurations(), "", good);
  ASSERT_TRUE(defaulted.ok()) << defaulted.status().toString();
  registered_.emplace_back(validatingConfigurations(), namespace_ + "-defaults");
  const json& hook = (*defaulted)["webhooks"][0];
  EXPECT_EQ(hook["failurePolicy"], "Fail");
  EXPECT_EQ(hook["matchPolicy"], "Equivalent");
  EXPECT_EQ(hook["timeoutSeconds"], 10);
  EXPECT_EQ(hook["objectSelector"], json::object());
  EXPECT_EQ(hook["rules"][0]["scope"], "*");
  EXPECT_EQ(hook["clientConfig"]["service"]["port"], 443);
}

}  // namespace
}  // namespace remedy::testing
