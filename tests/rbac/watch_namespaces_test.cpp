// watchNamespaces mode: the chart grants the operator rules with one Role
// per watched namespace, and cluster-wide only the reading of
// RunbookPolicies. The combined scenario runs without a refusal; the
// operator's token reads no Secret at all, and the runner it acts as reads
// them only in its own namespace; a Runbook cannot point a step at a Secret
// elsewhere; with actions.readSecrets off a step that needs one fails with
// Forbidden on its status, and the operator goes on. The Secret cases create
// their Incidents directly (as a person would), so they do not depend on the
// alert intake.
#include "rbac_fixture.h"
#include "rule_expectations.h"

namespace remedy::testing {
namespace {

class WatchNamespacesTest : public RbacTest {
 protected:
  // The test's namespace, and the one the scenario reaches when it runs.
  ChartValues watchValues(bool withShared = false) const {
    ChartValues v;
    v.watchNamespaces = {namespace_};
    if (withShared) v.watchNamespaces.push_back(sharedNamespace());
    return v;
  }

  std::string otherNamespace() const { return namespace_ + "-unmanaged"; }

  json secret(const std::string& name, const std::string& ns, const std::string& url) const {
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"stringData", {{"url", url}}}};
  }

  // A Runbook with one notify step reading its URL from `secretKeyRef`.
  void createNotifyRunbook(const std::string& name, const json& secretKeyRef) {
    create(runbooksResource(), namespace_,
           {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Runbook"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec",
             {{"description", "notify through a URL kept in a Secret"},
              {"steps", json::array({{{"name", "notify"},
                                      {"notify",
                                       {{"urlFrom", {{"secretKeyRef", secretKeyRef}}},
                                        {"message", "hello"}}}}})}}}});
  }

  // An Incident naming `runbook`, as `kubectl create` by a person makes it.
  void createIncident(const std::string& name, const std::string& runbook) {
    create(incidentsResource(), namespace_,
           {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Incident"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec",
             {{"source", "Manual"},
              {"runbookRef", {{"name", runbook}}},
              {"alert", {{"name", "SecretCheck"}, {"labels", {{"namespace", namespace_}}}}}}}});
  }

  bool awaitLeading(Run& run) {
    return await(run, "the operator leads",
                 [&] { return run.op.log().find("event=leading") != std::string::npos; });
  }

  json awaitFinished(Run& run, const std::string& name) {
    json incident;
    await(
        run, "Incident " + name + " finishes",
        [&] {
          incident = getIncident(name);
          return finalPhase(phaseOf(incident));
        },
        std::chrono::seconds(30));
    return incident;
  }

  int requestsTo(const std::string& path) {
    int n = 0;
    for (const auto& r : hooks_->requests()) n += r.path == path ? 1 : 0;
    return n;
  }
};

TEST_F(WatchNamespacesTest, TheOperatorReadsNoSecretAndItsRunnerOnlyInItsOwnNamespace) {
  createNamespace(otherNamespace());
  create(kube::resources::secrets(), namespace_, secret("hooks", namespace_, "http://managed"));
  create(kube::resources::secrets(), otherNamespace(),
         secret("hooks", otherNamespace(), "http://unmanaged"));
  installChartRbac(watchValues(), chartRules(watchValues()));
  auto token = operatorClient();
  ASSERT_NE(token, nullptr);

  for (const std::string& ns : {namespace_, otherNamespace(), releaseNamespace()}) {
    auto got = token->get(kube::resources::secrets(), ns, "hooks");
    EXPECT_EQ(got.status().code(), 403) << ns << ": " << got.status().toString();
  }
  EXPECT_EQ(token->list(kube::resources::secrets(), "").status().code(), 403);

  kube::ImpersonatingClients as(*token);
  kube::Client& runner = as.serviceAccount(namespace_, kRunner);
  auto managed = runner.get(kube::resources::secrets(), namespace_, "hooks");
  EXPECT_TRUE(managed.ok()) << managed.status().toString();
  auto unmanaged = runner.get(kube::resources::secrets(), otherNamespace(), "hooks");
  EXPECT_EQ(unmanaged.status().code(), 403) << unmanaged.status().toString();
  EXPECT_TRUE(kube::isForbidden(unmanaged.status()));
  EXPECT_EQ(runner.list(kube::resources::secrets(), "").status().code(), 403);
  // The runner of the other namespace: not a name the Role in it grants, and
  // the operator manages nothing there to impersonate it with.
  EXPECT_EQ(as.serviceAccount(otherNamespace(), kRunner)
                .get(kube::resources::secrets(), otherNamespace(), "hooks")
                .status()
                .code(),
            403);
}

TEST_F(WatchNamespacesTest, AStepCannotReachASecretOfAnotherNamespace) {
  hooks_ = std::make_unique<actions::testing::RecordingServer>();
  createNamespace(otherNamespace());
  create(kube::resources::secrets(), namespace_,
         secret("hooks", namespace_, hooks_->url("/managed")));
  create(kube::resources::secrets(), otherNamespace(),
         secret("elsewhere", otherNamespace(), hooks_->url("/unmanaged")));
  createNotifyRunbook("own-secret", {{"name", "hooks"}, {"key", "url"}});
  // secretKeyRef has no namespace: the CRD's structural schema prunes one,
  // so the step reads "elsewhere" in its own namespace, where it is not.
  createNotifyRunbook("other-secret",
                      {{"name", "elsewhere"}, {"key", "url"}, {"namespace", otherNamespace()}});
  auto stored = client_->get(runbooksResource(), namespace_, "other-secret");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(
      stored->at("spec")["steps"][0]["notify"]["urlFrom"]["secretKeyRef"].contains("namespace"));
  setPause(true);

  OperatorProcess& op = startChartOperator(watchValues());
  ScenarioReport report;
  Run run{op, report, false};
  ASSERT_TRUE(awaitLeading(run)) << report.text() << tail(op.log(), 30);

  // Its own namespace's Secret: held by the pause (the engine reads the
  // switch in remedy-system through the release-namespace Role), then sent.
  createIncident("own", "own-secret");
  report.incident = "own";
  EXPECT_TRUE(awaitPauseHolds(run, "notify")) << report.text();
  setPause(false);
  json own = awaitFinished(run, "own");
  EXPECT_EQ(phaseOf(own), "Succeeded") << stepSummary(own) << "\n" << report.text();
  EXPECT_EQ(requestsTo("/managed"), 1);

  createIncident("other", "other-secret");
  json other = awaitFinished(run, "other");
  EXPECT_EQ(phaseOf(other), "Failed") << stepSummary(other);
  std::string message = step(other, "notify").value("message", "");
  EXPECT_NE(message.find("Secret " + namespace_ + "/elsewhere"), std::string::npos) << message;
  EXPECT_EQ(requestsTo("/unmanaged"), 0);
  EXPECT_TRUE(op.process.running()) << tail(op.log());
  EXPECT_EQ(forbiddenAnswers(op.metrics()), 0) << forbiddenLine(op.log());
}

TEST_F(WatchNamespacesTest, WithoutReadSecretsAStepNeedingOneFailsWithForbidden) {
  // actions.readSecrets: false drops the secrets rule from every Role
  // (values.yaml: "false: those steps fail with Forbidden").
  hooks_ = std::make_unique<actions::testing::RecordingServer>();
  create(kube::resources::secrets(), namespace_,
         secret("hooks", namespace_, hooks_->url("/managed")));
  createNotifyRunbook("own-secret", {{"name", "hooks"}, {"key", "url"}});
  ChartValues values = watchValues();
  values.readSecrets = false;
  GrantedRules granted = chartRules(values);
  for (const json* rules : {&granted.operatorRules, &granted.tenantRules}) {
    for (const auto& rule : *rules) {
      EXPECT_FALSE(rule["resources"].dump().find("secrets") != std::string::npos) << rule.dump();
    }
  }

  OperatorProcess& op = startChartOperator(values);
  ScenarioReport report;
  Run run{op, report, false};
  ASSERT_TRUE(awaitLeading(run)) << report.text() << tail(op.log(), 30);
  createIncident("needs-secret", "own-secret");
  json incident = awaitFinished(run, "needs-secret");
  EXPECT_EQ(phaseOf(incident), "Failed") << stepSummary(incident) << "\n" << report.text();
  json notify = step(incident, "notify");
  EXPECT_EQ(notify.value("phase", ""), "Failed");
  std::string message = notify.value("message", "");
  EXPECT_NE(message.find("forbidden"), std::string::npos) << message;
  EXPECT_NE(message.find("Secret " + namespace_ + "/hooks"), std::string::npos) << message;
  // Refused to the runner the step acted as, not to the operator.
  EXPECT_NE(message.find("User \"system:serviceaccount:" + namespace_ + ":" + kRunner + "\""),
            std::string::npos)
      << message;
  EXPECT_EQ(requestsTo("/managed"), 0);
  // Not a crash: the operator runs on, leading, and takes the next Incident.
  EXPECT_TRUE(op.process.running()) << tail(op.log());
  EXPECT_NE(op.metrics().find("remedy_leader 1"), std::string::npos);
  createIncident("needs-secret-again", "own-secret");
  EXPECT_EQ(phaseOf(awaitFinished(run, "needs-secret-again")), "Failed") << report.text();
}

TEST_F(WatchNamespacesTest, ChartRolesRunTheWholeScenarioWithoutARefusal) {
  prepareScenario();
  OperatorProcess& op = startChartOperator(watchValues(true));
  ScenarioReport report = runCombinedScenario(op, false);
  EXPECT_TRUE(report.ok()) << "with exactly the chart's Roles:\n"
                           << report.text() << "operator log:\n"
                           << tail(op.log(), 40);
  EXPECT_EQ(forbiddenLine(op.log()), "");
  EXPECT_EQ(forbiddenAnswers(op.metrics()), 0) << op.metrics();
}

// leaderElection.enabled false (one replica): the same Roles, the Leases
// rule included, which the engine's Lease per target needs.
TEST_F(WatchNamespacesTest, WithoutLeaderElectionChartRolesRunTheWholeScenario) {
  prepareScenario();
  ChartValues values = watchValues(true);
  values.leaderElection = false;
  OperatorProcess& op = startChartOperator(values);
  ScenarioReport report = runCombinedScenario(op, false);
  EXPECT_TRUE(report.ok()) << "with exactly the chart's Roles, without leader election:\n"
                           << report.text() << "operator log:\n"
                           << tail(op.log(), 40);
  EXPECT_EQ(forbiddenAnswers(op.metrics()), 0) << op.metrics();
  // No leader Lease: the Leases in the release namespace are the targets'.
  EXPECT_TRUE(kube::isNotFound(
      client_->get(kube::resources::leases(), releaseNamespace(), fullname()).status()));
}

}  // namespace
}  // namespace remedy::testing
