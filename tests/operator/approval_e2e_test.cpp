// Approvals that prove who approved, end to end: remedy-operator serves its
// admission webhooks (certificate in a Secret it creates, caBundle injected
// by the leader), the API server (the sandbox or kube-apiserver) calls them
// for users authenticated by client certificates, and the engine counts only
// what they sealed.
#include "operator_fixture.h"

namespace remedy::testing {
namespace {

using std::chrono::seconds;

kube::Resource mutatingConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
          "MutatingWebhookConfiguration", false};
}
kube::Resource validatingConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
          "ValidatingWebhookConfiguration", false};
}

// The gated Runbook; its approvers hear at `notifyUrl`.
std::string gatedRunbook(const std::string& notifyUrl) {
  return R"(
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: gated
spec:
  triggers:
    - alertName: Gated
  approval:
    groups: [sre]
    timeout: 10m
    notify:
      - url: )" +
         notifyUrl +
         R"(
  steps:
    - name: scale-out
      approval: Required
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+1"
        maxReplicas: 4
)";
}

class ApprovalE2ETest : public OperatorE2ETest {
 protected:
  // Who may approve is RBAC's answer (a SubjectAccessReview): enforced on
  // the sandbox as on kube-apiserver.
  sandbox::SandboxOptions sandboxOptions() override {
    sandbox::SandboxOptions options = defaultSandboxOptions();
    options.authorization = true;
    return options;
  }

  void SetUp() override {
    OperatorE2ETest::SetUp();
    if (HasFatalFailure()) return;
    // The test users may decide here (kube-apiserver enforces RBAC).
    json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                 {"kind", "Role"},
                 {"metadata", {{"name", "deciders"}, {"namespace", namespace_}}},
                 {"rules", json::array({{{"apiGroups", {"remedy.dev"}},
                                         {"resources", {"incidents", "approvals"}},
                                         {"verbs", {"get", "list", "create"}}}})}};
    ASSERT_TRUE(
        client_
            ->create({"rbac.authorization.k8s.io", "v1", "roles", "Role", true}, namespace_, role)
            .ok());
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
    ASSERT_TRUE(
        client_
            ->create({"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true},
                     namespace_, binding)
            .ok());
    // Who may approve the gated Runbook, in RBAC: alice and dave (carol,
    // in group sre like alice, is not granted the verb).
    json approvers = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                      {"kind", "Role"},
                      {"metadata", {{"name", "gated-approvers"}, {"namespace", namespace_}}},
                      {"rules", json::array({{{"apiGroups", {"remedy.dev"}},
                                              {"resources", {"runbooks"}},
                                              {"resourceNames", {"gated"}},
                                              {"verbs", {"approve"}}}})}};
    ASSERT_TRUE(client_
                    ->create({"rbac.authorization.k8s.io", "v1", "roles", "Role", true}, namespace_,
                             approvers)
                    .ok());
    json approverSubjects = json::array();
    for (const char* user : {"alice", "dave"}) {
      approverSubjects.push_back(
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", user}});
    }
    ASSERT_TRUE(
        client_
            ->create({"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true},
                     namespace_,
                     {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                      {"kind", "RoleBinding"},
                      {"metadata", {{"name", "gated-approvers"}, {"namespace", namespace_}}},
                      {"roleRef",
                       {{"apiGroup", "rbac.authorization.k8s.io"},
                        {"kind", "Role"},
                        {"name", "gated-approvers"}}},
                      {"subjects", approverSubjects}})
            .ok());
    keyPath_ = tempDir() + "/seal-key";
    std::ofstream(keyPath_) << std::string(48, 'z') << "\n";
    admissionPort_ = freeLoopbackPort();
    configuration_ = namespace_ + "-remedy";
    ASSERT_NO_FATAL_FAILURE(registerWebhooks());
    createDeployment("api", 1);
    applyYaml(runbooksResource(), gatedRunbook(sink_.url("/approvers")));
  }

  void TearDown() override {
    client_->remove(mutatingConfigurations(), "", configuration_);
    client_->remove(validatingConfigurations(), "", configuration_);
    OperatorE2ETest::TearDown();
  }

  // The configurations as the chart writes them, without a caBundle: the
  // leader injects it.
  void registerWebhooks() {
    auto hook = [&](const std::string& path, const char* resource, json operations) {
      return json{
          {"name", std::string(resource) + ".remedy.dev"},
          {"clientConfig", {{"url", "https://127.0.0.1:" + std::to_string(admissionPort_) + path}}},
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
        {"metadata", {{"name", configuration_}}},
        {"webhooks", json::array({hook("/admission/v1/mutate", "approvals", {"CREATE"}),
                                  hook("/admission/v1/mutate", "incidents", {"CREATE"})})}};
    json validating = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", "ValidatingWebhookConfiguration"},
        {"metadata", {{"name", configuration_}}},
        {"webhooks", json::array({hook("/admission/v1/validate", "approvals", {"CREATE", "UPDATE"}),
                                  hook("/admission/v1/validate", "incidents", {"UPDATE"})})}};
    ASSERT_TRUE(client_->create(mutatingConfigurations(), "", mutating).ok());
    ASSERT_TRUE(client_->create(validatingConfigurations(), "", validating).ok());
  }

  std::vector<std::string> admissionFlags() const {
    return {"--approval-seal-key-file",
            keyPath_,
            "--admission-bind-address",
            "127.0.0.1",
            "--admission-port",
            std::to_string(admissionPort_),
            "--admission-cert-secret",
            "remedy-admission-tls",
            "--admission-cert-ip-addresses",
            "127.0.0.1",
            "--admission-webhook-configurations",
            configuration_};
  }

  json approval(const std::string& name, const std::string& incident, json spec = {}) const {
    json s = {
        {"incidentRef", {{"name", incident}}}, {"step", "scale-out"}, {"decision", "Approve"}};
    if (spec.is_object()) s.merge_patch(spec);
    return {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Approval"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec", s}};
  }
  json approvalStatus(const std::string& name) {
    auto got = client_->get(approvalsResource(), namespace_, name);
    return got.ok() ? got->value("status", json::object()) : json::object();
  }
  json incident(const std::string& name) const {
    return {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Incident"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec",
             {{"source", "Manual"},
              {"runbookRef", {{"name", "gated"}}},
              {"alert", {{"name", "Gated"}}}}}};
  }
  // Waits until the leader injected the caBundle and the API server calls
  // the webhooks: a dry-run Incident of alice's comes back sealed with her.
  void awaitWebhooks(kube::Client& alice, OperatorProcess& op) {
    int n = 0;
    bool inForce = waitUntil([&] {
      kube::WriteOptions dryRun;
      dryRun.dryRun = true;
      auto probe = alice.create(incidentsResource(), namespace_,
                                incident("probe-" + std::to_string(n++)), dryRun);
      return probe.ok() && probe->value("metadata", json::object())
                                   .value("annotations", json::object())
                                   .value("remedy.dev/created-by", "") == "alice";
    });
    ASSERT_TRUE(inForce) << "the webhooks never took effect:\n" << op.log();
  }
  // A Manual Incident of the gated Runbook, once it waits for approval.
  void awaitingApproval(const std::string& name) {
    auto created = client_->create(incidentsResource(), namespace_, incident(name));
    ASSERT_TRUE(created.ok()) << created.status().toString();
    bool waiting = waitUntil([&] {
      return getIncident(name).value("status", json::object()).value("phase", "") ==
             "AwaitingApproval";
    });
    ASSERT_TRUE(waiting) << getIncident(name).dump();
  }

  // Runs remedyctl with `args`; its exit code (-1 when it did not exit in
  // time) and output.
  std::pair<int, std::string> remedyctl(std::vector<std::string> args) {
    ProcessOptions p;
    p.argv = {std::string(REMEDY_BINARY_DIR) + "/src/cli/remedyctl"};
    p.argv.insert(p.argv.end(), args.begin(), args.end());
    p.logPath = tempDir() + "/remedyctl-" + std::to_string(++runs_) + ".log";
    ChildProcess cli(p);
    bool exited = waitUntil([&] { return !cli.running(); }, seconds(30));
    int status = cli.exitStatus();
    return {exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, cli.log()};
  }

  int runs_ = 0;
  NotificationSink sink_;
  std::string keyPath_;
  int admissionPort_ = 0;
  std::string configuration_;
};

TEST_F(ApprovalE2ETest, OnlySealedApprovalsOfAllowedPeopleLetTheStepRun) {
  OperatorProcess& op = startOperator(admissionFlags());
  auto alice = newClient(userConfig("alice"));
  auto bob = newClient(userConfig("bob"));
  auto carol = newClient(userConfig("carol"));
  auto dave = newClient(userConfig("dave"));
  ASSERT_NO_FATAL_FAILURE(awaitWebhooks(*alice, op));
  ASSERT_NO_FATAL_FAILURE(awaitingApproval("db-fix"));

  // The approvers hear of it, with the command that approves.
  std::string command = "kubectl remedy approve db-fix --step scale-out -n " + namespace_;
  ASSERT_TRUE(waitUntil([&] {
    for (const auto& r : sink_.receivedAt("/approvers")) {
      if (r.body.dump().find(command) != std::string::npos) return true;
    }
    return false;
  })) << "no message at /approvers with \""
      << command << "\"";

  // bob writes alice's name: refused at admission, naming spec.approver.
  auto forged = bob->create(approvalsResource(), namespace_,
                            approval("as-alice", "db-fix", {{"approver", "alice"}}));
  ASSERT_FALSE(forged.ok());
  kube::Status refused = forged.status();
  ASSERT_FALSE(refused.causes().empty()) << refused.toString();
  EXPECT_EQ(refused.causes()[0].field, "spec.approver");

  // dave (granted approve, but not in group sre) approves as himself:
  // Refused/NotAnApprover, the step waits.
  ASSERT_TRUE(dave->create(approvalsResource(), namespace_, approval("dave", "db-fix")).ok());
  ASSERT_TRUE(waitUntil([&] {
    return approvalStatus("dave").value("reason", "") == "NotAnApprover";
  })) << approvalStatus("dave").dump();
  // carol (group sre, but RBAC grants her no verb approve on the Runbook):
  // Refused/NotAnApprover by the SubjectAccessReview.
  ASSERT_TRUE(carol->create(approvalsResource(), namespace_, approval("carol", "db-fix")).ok());
  ASSERT_TRUE(waitUntil([&] {
    return approvalStatus("carol").value("reason", "") == "NotAnApprover";
  })) << approvalStatus("carol").dump();
  EXPECT_NE(approvalStatus("carol").value("message", "").find("verb \"approve\""),
            std::string::npos)
      << approvalStatus("carol").dump();
  EXPECT_EQ(getIncident("db-fix")["status"].value("phase", ""), "AwaitingApproval");

  // `remedyctl approvals` shows what waits for whom.
  auto [listed, table] =
      remedyctl({"approvals", "--kubeconfig", kubeconfigPath(), "-n", namespace_});
  EXPECT_EQ(listed, 0) << table;
  EXPECT_NE(table.find("db-fix"), std::string::npos) << table;
  EXPECT_NE(table.find("group:sre"), std::string::npos) << table;

  // alice (group sre) approves with `kubectl remedy approve`: the step runs.
  auto [code, output] = remedyctl({"approve", "db-fix", "-m", "pool exhausted", "--kubeconfig",
                                   userKubeconfigFile(tempDir(), "alice"), "-n", namespace_});
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("of step scale-out of incident db-fix by alice"), std::string::npos)
      << output;
  ASSERT_TRUE(waitUntil([&] {
    return getIncident("db-fix").value("status", json::object()).value("phase", "") == "Succeeded";
  })) << getIncident("db-fix").dump();
  EXPECT_EQ(deployment("api")["spec"].value("replicas", 0), 2);
  json records = getIncident("db-fix")["status"]["approvals"];
  ASSERT_EQ(records.size(), 1u) << records.dump();
  EXPECT_EQ(records[0].value("approver", ""), "alice");
  EXPECT_EQ(approvalStatus(records[0].value("name", "")).value("state", ""), "Counted");

  // Too late: the step no longer waits; the Approval only gets its status.
  ASSERT_TRUE(alice->create(approvalsResource(), namespace_, approval("late", "db-fix")).ok());
  ASSERT_TRUE(waitUntil([&] { return approvalStatus("late").value("reason", "") == "TooLate"; }))
      << approvalStatus("late").dump();
  EXPECT_EQ(deployment("api")["spec"].value("replicas", 0), 2);
}

TEST_F(ApprovalE2ETest, ARejectionStopsTheStep) {
  OperatorProcess& op = startOperator(admissionFlags());
  auto alice = newClient(userConfig("alice"));
  ASSERT_NO_FATAL_FAILURE(awaitWebhooks(*alice, op));
  ASSERT_NO_FATAL_FAILURE(awaitingApproval("db-fix"));
  auto [code, output] =
      remedyctl({"approve", "db-fix", "--reject", "-m", "not during the release", "--kubeconfig",
                 userKubeconfigFile(tempDir(), "alice"), "-n", namespace_});
  EXPECT_EQ(code, 0) << output;
  ASSERT_TRUE(waitUntil([&] {
    return getIncident("db-fix").value("status", json::object()).value("phase", "") == "Cancelled";
  })) << getIncident("db-fix").dump();
  EXPECT_NE(getIncident("db-fix").dump().find("rejected by alice: not during the release"),
            std::string::npos);
  EXPECT_EQ(deployment("api")["spec"].value("replicas", 0), 1);
}

TEST_F(ApprovalE2ETest, WhileTheWebhookIsDownApprovalsAreRefusedAndForgedOnesNeverCount) {
  OperatorProcess& op = startOperator(admissionFlags());
  auto alice = newClient(userConfig("alice"));
  ASSERT_NO_FATAL_FAILURE(awaitWebhooks(*alice, op));
  ASSERT_NO_FATAL_FAILURE(awaitingApproval("db-fix"));
  // The operator restarts without its webhooks: failurePolicy Fail refuses.
  operators_.clear();
  startOperator({"--approval-seal-key-file", keyPath_});
  auto down = alice->create(approvalsResource(), namespace_, approval("down", "db-fix"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), 500) << down.status().toString();
  // The webhooks removed altogether: what anyone writes is stored, and never counts.
  client_->remove(mutatingConfigurations(), "", configuration_);
  client_->remove(validatingConfigurations(), "", configuration_);
  json forged = approval("forged", "db-fix", {{"approver", "alice"}});
  ASSERT_TRUE(waitUntil([&] {
    return client_->create(approvalsResource(), namespace_, forged).ok() ||
           client_->get(approvalsResource(), namespace_, "forged").ok();
  }));
  ASSERT_TRUE(waitUntil([&] {
    return approvalStatus("forged").value("reason", "") == "Unverified";
  })) << approvalStatus("forged").dump();
  EXPECT_EQ(getIncident("db-fix")["status"].value("phase", ""), "AwaitingApproval");
  EXPECT_EQ(deployment("api")["spec"].value("replicas", 0), 1);
}

}  // namespace
}  // namespace remedy::testing
