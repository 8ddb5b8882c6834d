// Remedy's admission webhooks behind a real API server: the AdmissionServer
// on loopback, registered with a caBundle and failurePolicy Fail, called by
// the sandbox or by kube-apiserver (REMEDY_TEST_APISERVER) for users
// authenticated by client certificates. One test body for both.
//
// The webhook configurations are named after the test's namespace and
// limited to it by namespaceSelector, so tests on the shared control plane
// never see each other's webhooks; they are deleted at the end.
#include "../support/api_server.h"
#include "admission/admission_server.h"
#include "api/yaml_json.h"
#include "http/certificates.h"

#include <gtest/gtest.h>

namespace remedy::testing {
namespace {

using json = nlohmann::json;

kube::Resource incidents() { return {"remedy.dev", "v1alpha1", "incidents", "Incident", true}; }
kube::Resource approvals() { return {"remedy.dev", "v1alpha1", "approvals", "Approval", true}; }
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

class ApprovalWebhookTest : public ApiServerTest {
 protected:
  ApprovalWebhookTest()
      : sealer_(*admission::SealKeys::fromKeys(std::string(48, 'k'))),
        admission_(
            sealer_,
            [this](const std::string& ns, const std::string& name) {
              return webhookClient_->get(incidents(), ns, name);
            },
            clock_) {}

  void SetUp() override {
    ApiServerTest::SetUp();
    if (HasFatalFailure()) return;
    for (const char* kind : {"runbooks", "incidents", "approvals"}) {
      auto crd = api::yamlToJson(
          readTextFile(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml"));
      ASSERT_TRUE(crd.ok()) << crd.error();
      ASSERT_NO_FATAL_FAILURE(ensureCreated(kube::resources::customResourceDefinitions(), *crd));
    }
    // The test users may write Incidents and Approvals here (the real server
    // enforces RBAC; the sandbox here does not).
    json role = {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "Role"},
        {"metadata", {{"name", "deciders"}, {"namespace", namespace_}}},
        {"rules", json::array({{{"apiGroups", {"remedy.dev"}},
                                {"resources", {"incidents", "approvals"}},
                                {"verbs", {"get", "list", "create", "update", "patch"}}}})}};
    ASSERT_TRUE(client_->create(roles(), namespace_, role).ok());
    json subjects = json::array();
    for (const char* user : {"alice", "bob", "carol", "dave"}) {
      subjects.push_back(
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", user}});
    }
    json binding = {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "RoleBinding"},
        {"metadata", {{"name", "deciders"}, {"namespace", namespace_}}},
        {"roleRef",
         {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "deciders"}}},
        {"subjects", subjects}};
    ASSERT_TRUE(client_->create(roleBindings(), namespace_, binding).ok());
    webhookClient_ = newClient(adminConfig());
    alice_ = newClient(userConfig("alice"));
    bob_ = newClient(userConfig("bob"));

    // The webhook server, HTTPS on loopback with a certificate for 127.0.0.1.
    http::KeyPair serving = ca_.issueServer("remedy-webhook", {"localhost"}, {"127.0.0.1"});
    admission::AdmissionServerOptions options;
    options.bindAddress = "127.0.0.1";
    options.port = 0;
    options.tls = http::TlsConfig{serving.certificatePem, serving.privateKeyPem, "", false};
    server_ = std::make_unique<admission::AdmissionServer>(admission_, options);
    auto error = server_->start();
    ASSERT_FALSE(error.has_value()) << *error;
    ASSERT_NO_FATAL_FAILURE(registerWebhooks());
    ASSERT_TRUE(client_->create(incidents(), namespace_, incident("db-fix")).ok());
    // kube-apiserver learns of new configurations from a watch: a dry run
    // shows when the mutating webhook is in force.
    bool effective = eventuallyTrue([&] {
      kube::WriteOptions dryRun;
      dryRun.dryRun = true;
      auto probe = alice_->create(approvals(), namespace_, approval("probe", "db-fix"), dryRun);
      return probe.ok() && probe->value("spec", json::object()).value("approver", "") == "alice";
    });
    ASSERT_TRUE(effective) << "the webhooks never took effect";
  }

  void TearDown() override {
    for (const auto& [resource, name] : registered_) client_->remove(resource, "", name);
    if (server_) server_->stop();
    ApiServerTest::TearDown();
  }

  void registerWebhooks() {
    std::string caBundle = kube::encodeBase64(ca_.ca().certificatePem);
    auto hook = [&](const std::string& name, const std::string& path, const char* resource,
                    json operations) {
      return json{
          {"name", name},
          {"clientConfig",
           {{"url", "https://127.0.0.1:" + std::to_string(server_->port()) + path},
            {"caBundle", caBundle}}},
          {"rules", json::array({{{"operations", operations},
                                  {"apiGroups", {"remedy.dev"}},
                                  {"apiVersions", {"v1alpha1"}},
                                  {"resources", {resource}}}})},
          {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}}},
          {"failurePolicy", "Fail"},
          {"sideEffects", "None"},
          {"timeoutSeconds", 5},
          {"admissionReviewVersions", {"v1"}}};
    };
    json mutating = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", "MutatingWebhookConfiguration"},
        {"metadata", {{"name", namespace_ + "-remedy"}}},
        {"webhooks",
         json::array(
             {hook("approvals.remedy.dev", "/admission/v1/mutate", "approvals", {"CREATE"}),
              hook("incidents.remedy.dev", "/admission/v1/mutate", "incidents", {"CREATE"})})}};
    json validating = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", "ValidatingWebhookConfiguration"},
        {"metadata", {{"name", namespace_ + "-remedy"}}},
        {"webhooks", json::array({hook("approvals.remedy.dev", "/admission/v1/validate",
                                       "approvals", {"CREATE", "UPDATE"}),
                                  hook("incidents.remedy.dev", "/admission/v1/validate",
                                       "incidents", {"UPDATE"})})}};
    for (const auto& [resource, object] :
         {std::make_pair(mutatingConfigurations(), mutating),
          std::make_pair(validatingConfigurations(), validating)}) {
      auto created = client_->create(resource, "", object);
      ASSERT_TRUE(created.ok()) << created.status().toString();
      registered_.emplace_back(resource, namespace_ + "-remedy");
    }
  }

  json incident(const std::string& name) const {
    return {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Incident"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec", {{"source", "Manual"}, {"alert", {{"name", "DbDown"}}}}}};
  }
  json approval(const std::string& name, const std::string& incidentName,
                json spec = json::object()) const {
    json s = {{"incidentRef", {{"name", incidentName}}}, {"decision", "Approve"}};
    s.merge_patch(spec);
    return {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Approval"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec", s}};
  }
  static std::string causesOf(const kube::Status& status) {
    std::string out;
    for (const auto& c : status.causes()) out += c.field + ": " + c.message + "\n";
    return out;
  }

  kube::FakeClock clock_;
  admission::Sealer sealer_;
  admission::ApprovalAdmission admission_;
  http::CertificateAuthority ca_{"remedy-webhook-test-ca"};
  std::unique_ptr<admission::AdmissionServer> server_;
  std::unique_ptr<kube::RestClient> webhookClient_, alice_, bob_;
  std::vector<std::pair<kube::Resource, std::string>> registered_;
};

TEST_F(ApprovalWebhookTest, TheApproverIsWhoTheApiServerAuthenticatedAndTheApprovalIsSealed) {
  auto created = alice_->create(approvals(), namespace_, approval("go", "db-fix"));
  ASSERT_TRUE(created.ok()) << created.status().toString();
  const json& spec = (*created)["spec"];
  EXPECT_EQ(spec["approver"], "alice");
  EXPECT_EQ(spec["approverGroups"], json({"oncall", "sre", "system:authenticated"}));
  auto incidentObject = client_->get(incidents(), namespace_, "db-fix");
  ASSERT_TRUE(incidentObject.ok());
  EXPECT_EQ(spec["incidentRef"]["uid"], (*incidentObject)["metadata"]["uid"]);
  admission::SealCheck check = sealer_.verifyApproval(*created);
  EXPECT_TRUE(check.valid) << check.problem;
  // Writing one's own name is the same.
  auto own =
      bob_->create(approvals(), namespace_, approval("mine", "db-fix", {{"approver", "bob"}}));
  ASSERT_TRUE(own.ok()) << own.status().toString();
  EXPECT_EQ((*own)["spec"]["approver"], "bob");
  EXPECT_TRUE(sealer_.verifyApproval(*own).valid);
}

TEST_F(ApprovalWebhookTest, WritingAnotherUsersNameIsRefusedWithAFieldErrorOnSpecApprover) {
  auto created = bob_->create(approvals(), namespace_,
                              approval("as-alice", "db-fix", {{"approver", "alice"}}));
  ASSERT_FALSE(created.ok());
  kube::Status status = created.status();
  EXPECT_EQ(status.code(), 422);
  EXPECT_EQ(status.reason(), "Invalid");
  EXPECT_EQ(
      status.message().rfind("admission webhook \"approvals.remedy.dev\" denied the request: ", 0),
      0u)
      << status.message();
  EXPECT_EQ(causesOf(status),
            "spec.approver: Forbidden: is \"alice\", but the API server authenticated this request "
            "as \"bob\": an Approval is made by the user who creates it (leave it empty, or write "
            "your own user name)\n");
  EXPECT_FALSE(client_->get(approvals(), namespace_, "as-alice").ok());
}

TEST_F(ApprovalWebhookTest, AnApprovalForAnIncidentThatDoesNotExistOrAnEarlierOneIsRefused) {
  auto missing = alice_->create(approvals(), namespace_, approval("nope", "no-such-incident"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(causesOf(missing.status()), "spec.incidentRef.name: Not found: \"no-such-incident\"\n");
  auto earlier = alice_->create(approvals(), namespace_,
                                approval("old", "db-fix", {{"incidentRef", {{"uid", "0000"}}}}));
  ASSERT_FALSE(earlier.ok());
  EXPECT_EQ(earlier.status().causes().at(0).field, "spec.incidentRef.uid");
}

TEST_F(ApprovalWebhookTest, TheDecisionCannotChangeAfterCreation) {
  auto created = alice_->create(approvals(), namespace_, approval("go", "db-fix"));
  ASSERT_TRUE(created.ok()) << created.status().toString();
  kube::PatchOptions merge;
  auto flipped = alice_->patch(approvals(), namespace_, "go",
                               json{{"spec", {{"decision", "Reject"}}}}.dump(), merge);
  ASSERT_FALSE(flipped.ok());
  EXPECT_EQ(flipped.status().code(), 422);
  EXPECT_EQ(flipped.status().causes().at(0).field, "spec");
}

TEST_F(ApprovalWebhookTest, IncidentsCreatedByPeopleCarryTheirSealedCreator) {
  json claimed = incident("by-bob");
  claimed["metadata"]["annotations"] = {{"remedy.dev/created-by", "alice"}};
  auto created = bob_->create(incidents(), namespace_, claimed);
  ASSERT_TRUE(created.ok()) << created.status().toString();
  admission::Creator creator;
  admission::SealCheck check = sealer_.verifyCreator(*created, &creator);
  EXPECT_TRUE(check.valid) << check.problem;
  EXPECT_EQ(creator.user, "bob");
  EXPECT_EQ(creator.groups, (std::vector<std::string>{"dev", "system:authenticated"}));
}

TEST_F(ApprovalWebhookTest, WhileTheWebhookIsDownApprovalsAreRefused) {
  server_->stop();
  auto created = alice_->create(approvals(), namespace_, approval("go", "db-fix"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), 500);
  EXPECT_EQ(created.status().message().rfind(
                "Internal error occurred: failed calling webhook \"approvals.remedy.dev\": ", 0),
            0u)
      << created.status().message();
  EXPECT_FALSE(client_->get(approvals(), namespace_, "go").ok());
}

TEST_F(ApprovalWebhookTest, AnApprovalWrittenPastTheWebhookCarriesNoValidSeal) {
  // Whoever can remove the webhook configurations can write any Approval;
  // its seal (missing, or copied from another Approval) never verifies.
  auto genuine = alice_->create(approvals(), namespace_, approval("genuine", "db-fix"));
  ASSERT_TRUE(genuine.ok()) << genuine.status().toString();
  for (const auto& [resource, name] : registered_) {
    ASSERT_TRUE(client_->remove(resource, "", name).ok());
  }
  registered_.clear();
  json forged = approval("forged", "db-fix", {{"approver", "alice"}});
  forged["metadata"]["annotations"] = (*genuine)["metadata"]["annotations"];
  bool stored = eventuallyTrue([&] {
    auto created = bob_->create(approvals(), namespace_, forged);
    return created.ok() && (*created)["spec"].value("approver", "") == "alice";
  });
  ASSERT_TRUE(stored) << "the webhooks stayed in force";
  auto got = client_->get(approvals(), namespace_, "forged");
  ASSERT_TRUE(got.ok());
  admission::SealCheck check = sealer_.verifyApproval(*got);
  EXPECT_FALSE(check.valid);
  EXPECT_FALSE(check.problem.empty());
}

}  // namespace
}  // namespace remedy::testing
