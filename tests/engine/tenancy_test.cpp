// Tenancy in the Incident controller, on the fake clock: where a step may
// reach (its namespace, allowedNamespaces and RunbookPolicies), what a
// rendered value may become, the inputs frozen at the start, the execution
// history on the Runbook, the sweeper's order, and whose identity acts (on a
// sandbox that enforces RBAC). Each refusal is shown with nothing changed.
#include "engine/engine.h"

#include "engine_fixture.h"

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

class TenancyTest : public EngineTest {
 protected:
  void createNamespace(const std::string& name) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    auto created = client_->create(kube::resources::namespaces(), "", ns);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  void createDeploymentIn(const std::string& ns, const std::string& name, int replicas) {
    json d = deployment(name, replicas);
    d["metadata"]["namespace"] = ns;
    auto created = client_->create(kube::resources::deployments(), ns, d);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  int replicasIn(const std::string& ns, const std::string& name) {
    auto d = client_->get(kube::resources::deployments(), ns, name);
    return d.ok() ? (*d)["spec"].value("replicas", -1) : -1;
  }

  void createPolicy(const std::string& name, const std::string& from, const std::string& to,
                    const std::string& group, const std::string& kind) {
    json policy = {
        {"apiVersion", "remedy.dev/v1alpha1"},
        {"kind", "RunbookPolicy"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"runbookNamespaces", {from}},
          {"targets", {{{"namespaces", {to}}, {"kinds", {{{"group", group}, {"kind", kind}}}}}}}}}};
    auto created = client_->create(runbookPolicies(), "", policy);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  std::string conditionReason(const std::string& incidentName, const std::string& type) {
    for (const auto& c : incident(incidentName)
                             .value("status", json::object())
                             .value("conditions", json::array())) {
      if (c.value("type", "") == type) return c.value("reason", "");
    }
    return "";
  }

  std::string completedMessage(const std::string& incidentName) {
    for (const auto& c : incident(incidentName)
                             .value("status", json::object())
                             .value("conditions", json::array())) {
      if (c.value("type", "") == "Completed") return c.value("message", "");
    }
    return "";
  }
};

TEST_F(TenancyTest, ATargetElsewhereNeedsAllowedNamespacesAndARunbookPolicy) {
  std::string shared = namespace_ + "-shared";
  createNamespace(shared);
  createDeploymentIn(shared, "cache", 1);
  // A literal namespace, listed by the author: the administrator has not
  // granted it, so the step is refused before it reads anything.
  createRunbook("literal", R"(
triggers: [{alertName: Literal}]
guardrails: {allowedNamespaces: [)" +
                               shared + R"(]}
steps:
  - name: scale-up
    scale: {target: {name: cache, namespace: )" +
                               shared + R"(}, replicas: "+1"}
)");
  // A templated namespace, not even listed by the author.
  createRunbook("templated", R"(
triggers: [{alertName: Templated}]
steps:
  - name: scale-up
    scale: {target: {name: cache, namespace: '{{ alert.labels.ns }}'}, replicas: "+1"}
)");
  createIncident("literal-1", "Literal", {});
  ASSERT_TRUE(driveToPhase("literal-1", "Failed"));
  EXPECT_EQ(conditionReason("literal-1", "GuardrailRefused"), "targetNamespace");
  json step = stepOf("literal-1", "scale-up");
  EXPECT_EQ(step.value("attempts", -1), 0);
  EXPECT_EQ(step.value("message", ""),
            "refused by guardrail targetNamespace: no RunbookPolicy lets Runbooks of namespace " +
                namespace_ + " act on Deployment.apps in namespace " + shared);
  createIncident("templated-1", "Templated", {{"ns", shared}});
  ASSERT_TRUE(driveToPhase("templated-1", "Failed"));
  EXPECT_EQ(stepOf("templated-1", "scale-up").value("message", ""),
            "refused by guardrail targetNamespace: namespace " + shared +
                " is neither the Runbook's namespace (" + namespace_ +
                ") nor in spec.guardrails.allowedNamespaces");
  EXPECT_EQ(replicasIn(shared, "cache"), 1);

  // The administrator grants Deployments of that namespace: the listed
  // Runbook acts there; the other still may not (the author's narrowing).
  createPolicy(namespace_ + "-to-shared", namespace_, shared, "apps", "Deployment");
  createIncident("literal-2", "Literal", {});
  ASSERT_TRUE(driveToPhase("literal-2", "Succeeded")) << completedMessage("literal-2");
  EXPECT_EQ(replicasIn(shared, "cache"), 2);
  createIncident("templated-2", "Templated", {{"ns", shared}});
  ASSERT_TRUE(driveToPhase("templated-2", "Failed"));
  EXPECT_EQ(replicasIn(shared, "cache"), 2);
}

TEST_F(TenancyTest, RetargetingTheAlertAfterApprovalChangesNothing) {
  createDeployment("web", 1);
  createDeployment("api", 1);
  createRunbook("approved", R"(
triggers: [{alertName: Load}]
approval: {users: [alice]}
steps:
  - name: scale-up
    approval: Required
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+2"}
)");
  createIncident("load", "Load", {{"deployment", "web"}});
  ASSERT_TRUE(driveToPhase("load", "AwaitingApproval"));
  // The alert rewritten after it was seen and before it is approved: the
  // real API server refuses this (CEL); here the engine must not care.
  json patch = {{"spec", {{"alert", {{"labels", {{"deployment", "api"}}}}}}}};
  ASSERT_TRUE(client_->patch(incidents(), namespace_, "load", patch.dump()).ok());
  createApproval("yes", "load", "scale-up", "Approve", "alice");
  ASSERT_TRUE(driveToPhase("load", "Succeeded"));
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 3);
  EXPECT_EQ(getDeployment("api")["spec"]["replicas"], 1);
  json inputs = incident("load")["status"]["inputs"];
  EXPECT_EQ(inputs["alert"]["labels"]["deployment"], "web");
  EXPECT_FALSE(inputs["alert"].contains("status"));
}

TEST_F(TenancyTest, ALabelThatWouldScaleToZeroIsRefusedWithTheField) {
  createDeployment("web", 2);
  createRunbook("by-label", R"(
triggers: [{alertName: Scale}]
steps:
  - name: scale
    scale: {target: {name: web}, replicas: '{{ alert.labels.replicas }}'}
)");
  // 2^32: once wrapped to 0 by an int conversion.
  createIncident("huge", "Scale", {{"replicas", "4294967296"}});
  ASSERT_TRUE(driveToPhase("huge", "Failed"));
  EXPECT_EQ(conditionReason("huge", "GuardrailRefused"), "renderedValues");
  EXPECT_EQ(stepOf("huge", "scale").value("message", ""),
            "refused by guardrail renderedValues: steps.scale.scale.replicas: \"4294967296\" is "
            "not a replica count (0 to 2147483647) or a relative change like \"+2\"");
  // A sign the template did not write: "-100" from 2 is 0 after the clamp.
  createIncident("negative", "Scale", {{"replicas", "-100"}});
  ASSERT_TRUE(driveToPhase("negative", "Failed"));
  EXPECT_NE(stepOf("negative", "scale").value("message", "").find("is a relative change"),
            std::string::npos);
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 2);
  // The same Runbook with a sane label acts.
  createIncident("sane", "Scale", {{"replicas", "3"}});
  ASSERT_TRUE(driveToPhase("sane", "Succeeded"));
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 3);
}

TEST_F(TenancyTest, ExecutionsLiveOnTheRunbookSoDeletingIncidentsResetsNothing) {
  createDeployment("web", 1);
  createRunbook("twice", R"(
triggers: [{alertName: Twice}]
guardrails: {maxExecutions: {count: 2, per: 1h}}
steps:
  - name: scale-up
    scale: {target: {name: web}, replicas: "+1"}
)");
  for (const char* name : {"first", "second"}) {
    createIncident(name, "Twice", {});
    ASSERT_TRUE(driveToPhase(name, "Succeeded")) << name;
    clock_.step(std::chrono::minutes(1));
  }
  json history = client_->get(runbooks(), namespace_, "twice")->at("status")["history"];
  ASSERT_EQ(history.size(), 2u) << history.dump();
  EXPECT_EQ(history[0]["incident"], "first");
  EXPECT_EQ(history[1]["incident"], "second");
  // Whoever may delete Incidents deletes the record of both (the last one
  // alone was all a Runbook's status used to remember).
  for (const char* name : {"first", "second"}) {
    ASSERT_TRUE(client_->remove(incidents(), namespace_, name).ok());
    ASSERT_TRUE(eventually(
        [&] { return kube::isNotFound(client_->get(incidents(), namespace_, name).status()); }));
  }
  createIncident("third", "Twice", {});
  ASSERT_TRUE(driveToPhase("third", "Skipped"));
  EXPECT_EQ(conditionReason("third", "GuardrailRefused"), "maxExecutions");
  EXPECT_EQ(completedMessage("third"),
            "maxExecutions: runbook twice already ran 2 times in the last 1h (maxExecutions 2)");
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 3);
  // The window passes: one more.
  clock_.step(std::chrono::hours(1));
  createIncident("fourth", "Twice", {});
  ASSERT_TRUE(driveToPhase("fourth", "Succeeded"));
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 4);
  auto rb = client_->get(runbooks(), namespace_, "twice");
  EXPECT_EQ((*rb)["status"]["history"].size(), 3u);
  EXPECT_EQ((*rb)["status"].value("executions", 0), 3);
}

TEST_F(TenancyTest, TheSweeperDeletesIncidentsThatNeverActedFirst) {
  createDeployment("web", 1);
  createRunbook("acts", R"(
triggers: [{alertName: Acts}]
steps:
  - name: scale-up
    scale: {target: {name: web}, replicas: "+1"}
)");
  auto r = newReconciler();
  createIncident("acted", "Acts", {});
  ASSERT_TRUE(driveToPhase("acted", "Succeeded", r.get()));
  clock_.step(std::chrono::seconds(5));
  // A flood of alerts no Runbook matches, all finished after it.
  for (int i = 0; i < 6; ++i) {
    std::string name = "junk-" + std::to_string(i);
    createIncident(name, "Unmatched", {});
    ASSERT_TRUE(driveToPhase(name, "Skipped", r.get()));
  }
  EngineOptions options;
  options.incident.pauseNamespace = namespace_;
  options.maxFinishedIncidents = 3;
  options.sweepInterval = std::chrono::hours(1);  // swept by hand below
  Engine engine(*client_, *serviceAccounts_, *registry_, clock_, nullptr, options);
  ASSERT_TRUE(engine.start().ok());
  EXPECT_EQ(engine.sweepFinishedIncidents(), 4);
  engine.stop();
  EXPECT_TRUE(client_->get(incidents(), namespace_, "acted").ok())
      << "the one Incident that acted was swept before the ones that never did";
}

TEST_F(TenancyTest, AServiceAccountTheOperatorMayNotActAsIsRefused) {
  createDeployment("web", 1);
  createRunbook("elsewhere", R"(
serviceAccountName: cluster-admin-ish
triggers: [{alertName: Sa}]
steps:
  - name: scale-up
    scale: {target: {name: web}, replicas: "+1"}
)");
  RunbookReconciler runbooksController(*client_, caches(), clock_);
  ASSERT_TRUE(eventually([&] {
    runbooksController.reconcile(namespace_ + "/elsewhere");
    auto rb = client_->get(runbooks(), namespace_, "elsewhere");
    return rb.ok() && rb->value("status", json::object()).dump().find("cluster-admin-ish") !=
                          std::string::npos;
  }));
  auto rb = client_->get(runbooks(), namespace_, "elsewhere");
  EXPECT_NE((*rb)["status"].dump().find(
                "spec.serviceAccountName: \\\"cluster-admin-ish\\\" is not a ServiceAccount the "
                "operator may act as (it may act as: remedy-runner)"),
            std::string::npos)
      << (*rb)["status"].dump();
  createIncident("sa", "Sa", {}, false, "elsewhere");
  ASSERT_TRUE(driveToPhase("sa", "Skipped"));
  EXPECT_NE(completedMessage("sa").find("acts as ServiceAccount cluster-admin-ish, which the "
                                        "operator may not act as"),
            std::string::npos)
      << completedMessage("sa");
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 1);
}

// On a sandbox that enforces RBAC: the admin client impersonates, so what a
// step may do is exactly what the ServiceAccount may.
class TenancyRbacTest : public TenancyTest {
 protected:
  sandbox::SandboxOptions sandboxOptions() override {
    auto o = defaultOptions();
    o.authorization = true;
    return o;
  }
};

TEST_F(TenancyRbacTest, StepsActAsTheRunbooksServiceAccountNeverAsTheOperator) {
  createDeployment("web", 1);
  createRunbook("scale", R"(
triggers: [{alertName: Load}]
steps:
  - name: scale-up
    scale: {target: {name: web}, replicas: "+1"}
)");
  createIncident("unbound", "Load", {});
  ASSERT_TRUE(driveToPhase("unbound", "Failed"));
  std::string message = stepOf("unbound", "scale-up").value("message", "");
  EXPECT_NE(message.find("User \"system:serviceaccount:" + namespace_ +
                         ":remedy-runner\" cannot get resource \"deployments/scale\""),
            std::string::npos)
      << message;
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 1);
  // RBAC for the ServiceAccount, as an administrator grants it.
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "runner"}, {"namespace", namespace_}}},
               {"rules",
                {{{"apiGroups", {"apps"}},
                  {"resources", {"deployments", "deployments/scale"}},
                  {"verbs", {"get", "update"}}}}}};
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "runner"}, {"namespace", namespace_}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "runner"}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", "remedy-runner"}}}}};
  kube::Resource roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  kube::Resource bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
  ASSERT_TRUE(client_->create(roles, namespace_, role).ok());
  ASSERT_TRUE(client_->create(bindings, namespace_, binding).ok());
  createIncident("bound", "Load", {});
  ASSERT_TRUE(driveToPhase("bound", "Succeeded")) << completedMessage("bound");
  EXPECT_EQ(getDeployment("web")["spec"]["replicas"], 2);
}

}  // namespace
}  // namespace remedy::engine
