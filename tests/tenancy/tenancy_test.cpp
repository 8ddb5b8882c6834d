// Each way a Runbook author could reach beyond their namespace, disclose a
// Secret, reach the network, retarget an approved Incident, or reset
// maxExecutions, tried through an alert as an attacker would, against the
// operator with the chart's RBAC: refused, with nothing changed and nothing
// disclosed. Runs on the sandbox with authorization and on the real
// kube-apiserver.
#include "tenancy_fixture.h"

#include "../support/redis_server.h"
#include "kube/impersonation.h"
#include "kube/kubeconfig.h"

namespace remedy::testing {
namespace {

using actions::testing::RecordingServer;

TEST_F(TenancyTest, ARunbookCannotReadASecretOfTheOperatorsNamespace) {
  const std::string system = systemNamespace_;
  // By a literal namespace (listed in its own allowedNamespaces), and by a
  // templated one: a Secret is never a target, so neither Runbook is Ready
  // and no alert runs it.
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: read-literal}
spec:
  triggers: [{alertName: ReadLiteral}]
  guardrails: {allowedNamespaces: [)" +
                   system + R"(]}
  steps:
    - name: read
      waitFor:
        target: {apiVersion: v1, kind: Secret, name: remedy-webhook-token, namespace: )" +
                   system + R"(}
        field: {path: .data.token, operator: NotEqual, value: ""}
)");
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: read-templated}
spec:
  triggers: [{alertName: ReadTemplated}]
  steps:
    - name: read
      waitFor:
        target:
          apiVersion: v1
          kind: Secret
          name: remedy-webhook-token
          namespace: '{{ alert.labels.target_namespace }}'
        field: {path: .data.token, operator: NotEqual, value: ""}
)");
  OperatorProcess& op = startOperator(flags("127.0.0.1/32"));
  for (const char* name : {"read-literal", "read-templated"}) {
    ASSERT_TRUE(eventuallyTrue([&] { return !runbookReady(name).empty(); })) << name;
    std::string ready = runbookReady(name);
    EXPECT_EQ(ready.rfind("False: ", 0), 0u) << name << ": " << ready;
    EXPECT_NE(ready.find("spec.steps[0].waitFor.target.kind: a Secret is never the target of a "
                         "step"),
              std::string::npos)
        << ready;
  }
  fire(op, "ReadLiteral", json::object(), "aa00000000000001");
  fire(op, "ReadTemplated", {{"target_namespace", system}}, "aa00000000000002");
  for (const char* fingerprint : {"aa00000000000001", "aa00000000000002"}) {
    std::string name = awaitIncident(fingerprint);
    ASSERT_FALSE(name.empty()) << op.log();
    json incident = awaitFinal(name);
    EXPECT_EQ(phaseOf(incident), "Skipped") << steps(incident);
    EXPECT_EQ(incident["status"].value("steps", json::array()).size(), 0u);
  }
  // Named outright by an Incident: still refused, nothing read.
  put(incidentsResource(), namespace_,
      {{"apiVersion", "remedy.dev/v1alpha1"},
       {"kind", "Incident"},
       {"metadata", {{"name", "by-ref"}, {"namespace", namespace_}}},
       {"spec",
        {{"source", "Manual"},
         {"runbookRef", {{"name", "read-literal"}}},
         {"alert", {{"name", "ReadLiteral"}}}}}});
  json byRef = awaitFinal("by-ref");
  EXPECT_EQ(phaseOf(byRef), "Skipped");
  EXPECT_NE(completedMessage(byRef).find("runbook read-literal is invalid"), std::string::npos)
      << completedMessage(byRef);
  expectNothingDisclosed(op);
}

TEST_F(TenancyTest, ARunbookCannotPatchADeploymentOfTheOperatorsNamespace) {
  const std::string system = systemNamespace_;
  json before = protectedState(system, "remedy-operator");
  auto patchRunbook = [&](const std::string& name, const std::string& alert, const std::string& ns,
                          bool listed) {
    applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: )" + name +
                     R"(}
spec:
  triggers: [{alertName: )" +
                     alert + R"(}]
)" + (listed ? "  guardrails: {allowedNamespaces: [" + system + "]}\n" : std::string()) +
                     R"(  steps:
    - name: take-over
      patch:
        target: {kind: Deployment, name: remedy-operator, namespace: ')" +
                     ns + R"('}
        strategicMergePatch:
          spec:
            template:
              spec:
                containers: [{name: app, image: attacker/remedy:latest}]
)");
  };
  // A literal namespace its own allowedNamespaces lists; a templated one
  // from the alert; a templated one its allowedNamespaces also lists.
  patchRunbook("literal", "PatchLiteral", system, true);
  patchRunbook("templated", "PatchTemplated", "{{ alert.labels.target_namespace }}", false);
  patchRunbook("templated-listed", "PatchListed", "{{ alert.labels.target_namespace }}", true);
  OperatorProcess& op = startOperator(flags("127.0.0.1/32"));
  for (const char* name : {"literal", "templated", "templated-listed"}) {
    ASSERT_TRUE(eventuallyTrue([&] { return runbookReady(name).rfind("True", 0) == 0; }))
        << name << ": " << runbookReady(name);
  }
  struct Case {
    std::string alert, fingerprint, reason;
  };
  std::vector<Case> cases = {
      {"PatchLiteral", "bb00000000000001",
       "no RunbookPolicy lets Runbooks of namespace " + namespace_ +
           " act on Deployment.apps in namespace " + system},
      {"PatchTemplated", "bb00000000000002",
       "namespace " + system + " is neither the Runbook's namespace (" + namespace_ +
           ") nor in spec.guardrails.allowedNamespaces"},
      {"PatchListed", "bb00000000000003",
       "no RunbookPolicy lets Runbooks of namespace " + namespace_ +
           " act on Deployment.apps in namespace " + system},
  };
  for (const auto& c : cases) {
    fire(op, c.alert, {{"target_namespace", system}}, c.fingerprint);
    std::string name = awaitIncident(c.fingerprint);
    ASSERT_FALSE(name.empty()) << op.log();
    json incident = awaitFinal(name);
    EXPECT_EQ(phaseOf(incident), "Failed") << c.alert << steps(incident);
    json step = stepOf(incident, "take-over");
    EXPECT_EQ(step.value("attempts", -1), 0) << c.alert;
    EXPECT_EQ(step.value("message", ""), "refused by guardrail targetNamespace: " + c.reason);
  }
  // An administrator's grant is not enough either: the runner has no RBAC
  // in the operator's namespace, and the API server refuses it.
  put(runbookPoliciesApi(), "",
      {{"apiVersion", "remedy.dev/v1alpha1"},
       {"kind", "RunbookPolicy"},
       {"metadata", {{"name", namespace_ + "-mistake"}}},
       {"spec",
        {{"runbookNamespaces", {namespace_}},
         {"targets",
          {{{"namespaces", {system}},
            {"kinds", {{{"group", "apps"}, {"kind", "Deployment"}}}}}}}}}});
  fire(op, "PatchLiteral", {{"target_namespace", system}}, "bb00000000000004");
  std::string granted = awaitIncident("bb00000000000004");
  ASSERT_FALSE(granted.empty());
  json incident = awaitFinal(granted);
  EXPECT_EQ(phaseOf(incident), "Failed") << steps(incident);
  std::string message = stepOf(incident, "take-over").value("message", "");
  EXPECT_NE(message.find("User \"system:serviceaccount:" + namespace_ + ":remedy-runner\" cannot"),
            std::string::npos)
      << message;
  EXPECT_EQ(protectedState(system, "remedy-operator"), before);
  expectNothingDisclosed(op);
}

TEST_F(TenancyTest, HttpStepsToLoopbackAndTheMetadataEndpointAreRefusedBeforeAnyConnection) {
  RecordingServer listener;
  std::string port = std::to_string(listener.port());
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: ssrf}
spec:
  triggers: [{alertName: Ssrf}]
  steps:
    - name: loopback
      onFailure: Continue
      http: {url: 'http://127.0.0.1:)" +
                   port + R"(/admin', keepResponseBody: true}
    - name: loopback-by-name
      onFailure: Continue
      http: {url: 'http://localhost:)" +
                   port + R"(/admin'}
    - name: metadata
      onFailure: Continue
      http:
        url: http://169.254.169.254/latest/meta-data/iam/security-credentials/
        headers: [{name: Metadata-Flavor, value: Google}, {name: X-aws-ec2-metadata-token, value: x}]
    - name: notify-loopback
      onFailure: Continue
      notify: {url: 'http://127.0.0.1:)" +
                   port + R"(/notify', message: hi}
)");
  // Anything the policy allows, and still none of these.
  OperatorProcess& op = startOperator(flags("*"));
  fire(op, "Ssrf", json::object(), "cc00000000000001");
  std::string name = awaitIncident("cc00000000000001");
  ASSERT_FALSE(name.empty()) << op.log();
  json incident = awaitFinal(name);
  EXPECT_EQ(phaseOf(incident), "Succeeded") << steps(incident);
  EXPECT_EQ(completedMessage(incident), "4 step(s) failed with onFailure Continue");
  for (const char* step : {"loopback", "loopback-by-name", "metadata", "notify-loopback"}) {
    json s = stepOf(incident, step);
    EXPECT_EQ(s.value("phase", ""), "Failed") << step;
    EXPECT_NE(s.value("message", "").find("refused by the egress policy"), std::string::npos)
        << step << ": " << s.value("message", "");
    EXPECT_EQ(s.value("outputs", json::object()).value("body", ""), "") << step;
  }
  EXPECT_NE(stepOf(incident, "metadata")
                .value("message", "")
                .find("169.254.169.254 is in "
                      "169.254.0.0/16"),
            std::string::npos);
  EXPECT_TRUE(listener.requests().empty()) << listener.requests().size() << " requests arrived";
}

TEST_F(TenancyTest, ASecretHeaderGoesOnlyToAHostOnTheAllowList) {
  RecordingServer listener;
  std::string port = std::to_string(listener.port());
  put(kube::resources::secrets(), namespace_,
      {{"apiVersion", "v1"},
       {"kind", "Secret"},
       {"metadata", {{"name", "api"}, {"namespace", namespace_}}},
       {"data", {{"token", kube::encodeBase64(std::string("Bearer ") + kTokenValue)}}}});
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: exfiltrate}
spec:
  triggers: [{alertName: Exfiltrate}]
  steps:
    - name: with-secret
      onFailure: Continue
      http:
        url: 'http://localhost:)" +
                   port + R"(/with-secret'
        headers: [{name: Authorization, valueFrom: {secretKeyRef: {name: api, key: token}}}]
    - name: without-secret
      http: {url: 'http://localhost:)" +
                   port + R"(/plain'}
)");
  // localhost is reachable (its addresses are opened), but not named.
  OperatorProcess& op = startOperator(flags("127.0.0.1/32,::1/128"));
  fire(op, "Exfiltrate", json::object(), "dd00000000000001");
  std::string name = awaitIncident("dd00000000000001");
  ASSERT_FALSE(name.empty()) << op.log();
  json incident = awaitFinal(name);
  EXPECT_EQ(phaseOf(incident), "Succeeded") << steps(incident);
  EXPECT_EQ(stepOf(incident, "with-secret").value("message", ""),
            "GET http://localhost:" + port +
                "/with-secret: refused by the egress policy: the request carries a secret, and "
                "host localhost is not named on the egress allow-list");
  EXPECT_EQ(stepOf(incident, "without-secret").value("phase", ""), "Succeeded");
  auto requests = listener.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/plain");
  EXPECT_EQ(requests[0].header("authorization"), "");
  expectNothingDisclosed(op);
}

TEST_F(TenancyTest, RetargetingAnIncidentAfterItsApprovalChangesNothing) {
  createDeploymentIn(namespace_, "web", 1);
  createDeploymentIn(namespace_, "api", 1);
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: approved-scale}
spec:
  triggers: [{alertName: Load}]
  approval: {users: [alice]}
  steps:
    - name: scale-up
      approval: Required
      scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+2"}
)");
  OperatorProcess& op = startOperator(flags("127.0.0.1/32"));
  fire(op, "Load", {{"deployment", "web"}}, "ee00000000000001");
  std::string name = awaitIncident("ee00000000000001");
  ASSERT_FALSE(name.empty()) << op.log();
  ASSERT_TRUE(eventuallyTrue([&] { return phaseOf(getIncident(name)) == "AwaitingApproval"; }))
      << steps(getIncident(name));
  // Retarget the alert the approver saw.
  json patch = {{"spec", {{"alert", {{"labels", {{"deployment", "api"}}}}}}}};
  auto patched = client_->patch(incidentsResource(), namespace_, name, patch.dump());
  if (onRealApiServer()) {
    // The CRD's CEL rules: the spec is immutable but for the alert's status.
    EXPECT_EQ(patched.status().code(), 422) << patched.status().toString();
    EXPECT_NE(patched.status().message().find("spec.alert.labels: Invalid value: \"object\": is "
                                              "immutable"),
              std::string::npos)
        << patched.status().message();
  } else {
    // The sandbox has no CEL: the engine's frozen inputs must hold alone.
    EXPECT_TRUE(patched.ok()) << patched.status().toString();
  }
  // alice may approve this Runbook (RBAC's verb approve), and approves
  // through the admission webhook (sealed here as it would seal it).
  put(rbacApi("roles", "Role", true), namespace_,
      role("Role", "approvers", namespace_,
           json::array({{{"apiGroups", {"remedy.dev"}},
                         {"resources", {"runbooks"}},
                         {"resourceNames", {"approved-scale"}},
                         {"verbs", {"approve"}}}})));
  json aliceBinding = binding("RoleBinding", "approvers", namespace_, "Role", "approvers", "", "");
  aliceBinding["subjects"] = json::array(
      {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", "alice"}}});
  put(rbacApi("rolebindings", "RoleBinding", true), namespace_, aliceBinding);
  ASSERT_TRUE(eventuallyTrue([&] {
    json review = {{"apiVersion", "authorization.k8s.io/v1"},
                   {"kind", "SubjectAccessReview"},
                   {"spec",
                    {{"user", "alice"},
                     {"resourceAttributes",
                      {{"namespace", namespace_},
                       {"verb", "approve"},
                       {"group", "remedy.dev"},
                       {"resource", "runbooks"},
                       {"name", "approved-scale"}}}}}};
    auto answered = client_->create(
        {"authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false}, "",
        review);
    return answered.ok() && (*answered)["status"].value("allowed", false);
  })) << "alice's grant of the verb approve never took effect";
  put(approvalsResource(), namespace_,
      sealedApproval({{"apiVersion", "remedy.dev/v1alpha1"},
                      {"kind", "Approval"},
                      {"metadata", {{"name", "alice-approves"}, {"namespace", namespace_}}},
                      {"spec",
                       {{"incidentRef", {{"name", name}}},
                        {"step", "scale-up"},
                        {"decision", "Approve"},
                        {"approver", "alice"}}}}));
  json incident = awaitFinal(name);
  EXPECT_EQ(phaseOf(incident), "Succeeded")
      << steps(incident) << "\nthe Approval: "
      << client_->get(approvalsResource(), namespace_, "alice-approves")->dump() << "\n"
      << op.log();
  EXPECT_EQ(replicas(namespace_, "web"), 3);
  EXPECT_EQ(replicas(namespace_, "api"), 1);
  EXPECT_EQ(incident["status"]["inputs"]["alert"]["labels"]["deployment"], "web");
}

TEST_F(TenancyTest, ALabelCannotScaleToZeroOrDeleteEveryRedisKey) {
  createDeploymentIn(namespace_, "web", 2);
  RedisServer redis;
  redis.fill("cache:", 5);
  redis.fill("session:", 5);
  put(kube::resources::secrets(), namespace_,
      {{"apiVersion", "v1"},
       {"kind", "Secret"},
       {"metadata", {{"name", "redis"}, {"namespace", namespace_}}},
       {"data", {{"url", kube::encodeBase64(redis.url())}}}});
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: by-label}
spec:
  triggers: [{alertName: ByLabel}]
  steps:
    - name: scale
      onFailure: Continue
      scale: {target: {name: web}, replicas: '{{ alert.labels.replicas }}'}
    - name: flush
      redis:
        connection: {secretKeyRef: {name: redis, key: url}}
        deleteKeys: {pattern: '{{ alert.labels.prefix | glob }}*', maxCount: 100}
)");
  OperatorProcess& op = startOperator(flags("127.0.0.1/32"));
  // 2^32 replicas (once 0 after an int conversion), and an empty prefix
  // that leaves "*".
  fire(op, "ByLabel", {{"replicas", "4294967296"}, {"prefix", ""}}, "ff00000000000001");
  std::string name = awaitIncident("ff00000000000001");
  ASSERT_FALSE(name.empty()) << op.log();
  json incident = awaitFinal(name);
  EXPECT_EQ(phaseOf(incident), "Failed") << steps(incident);
  EXPECT_EQ(stepOf(incident, "scale").value("message", ""),
            "refused by guardrail renderedValues: steps.scale.scale.replicas: \"4294967296\" is "
            "not a replica count (0 to 2147483647) or a relative change like \"+2\"");
  EXPECT_EQ(stepOf(incident, "flush").value("message", ""),
            "refused by guardrail renderedValues: steps.flush.redis.deleteKeys.pattern: \"*\" "
            "would match every key (it has no literal character); use a narrower pattern such "
            "as \"cache:*\"");
  // A "*" in the label matches only a "*": nothing here starts with one.
  fire(op, "ByLabel", {{"replicas", "-100"}, {"prefix", "*"}}, "ff00000000000002");
  std::string second = awaitIncident("ff00000000000002");
  ASSERT_FALSE(second.empty());
  json escaped = awaitFinal(second);
  EXPECT_NE(stepOf(escaped, "scale").value("message", "").find("is a relative change"),
            std::string::npos)
      << steps(escaped);
  EXPECT_EQ(stepOf(escaped, "flush").value("phase", ""), "Succeeded") << steps(escaped);
  EXPECT_EQ(stepOf(escaped, "flush").value("outputs", json::object()).value("deleted", ""), "0");
  EXPECT_EQ(replicas(namespace_, "web"), 2);
  EXPECT_EQ(redis.command({"DBSIZE"}), "10");
}

TEST_F(TenancyTest, MaxExecutionsHoldsAgainstDeletedIncidentsAndFloodsOfUnmatchedAlerts) {
  createDeploymentIn(namespace_, "web", 1);
  applyRunbookYaml(R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: once-an-hour}
spec:
  triggers: [{alertName: Busy}]
  guardrails: {maxExecutions: {count: 1, per: 1h}}
  steps:
    - name: scale-up
      scale: {target: {name: web}, replicas: "+1"}
)");
  std::vector<std::string> f = flags("127.0.0.1/32");
  for (const char* extra :
       {"--max-finished-incidents", "3", "--incident-sweep-interval", "200ms"}) {
    f.push_back(extra);
  }
  OperatorProcess& op = startOperator(f);
  fire(op, "Busy", json::object(), "1100000000000001");
  std::string first = awaitIncident("1100000000000001");
  ASSERT_FALSE(first.empty()) << op.log();
  ASSERT_EQ(phaseOf(awaitFinal(first)), "Succeeded");
  ASSERT_EQ(replicas(namespace_, "web"), 2);

  // A flood of alerts no Runbook matches: the sweeper keeps 3 finished
  // Incidents, and those that never acted go first.
  json flood = json::array();
  std::string startsAt = kube::formatRfc3339(std::chrono::system_clock::now());
  for (int i = 0; i < 12; ++i) {
    char fingerprint[17];
    std::snprintf(fingerprint, sizeof fingerprint, "22%014d", i);
    flood.push_back(alert("Junk", {{"namespace", namespace_}, {"n", std::to_string(i)}},
                          fingerprint, startsAt));
  }
  ASSERT_EQ(postAlerts(op, webhookPayload("firing", flood)).status, 200);
  ASSERT_TRUE(eventuallyTrue(
      [&] {
        auto all = incidents();
        int junk = 0;
        for (const auto& i : all) junk += i["spec"]["alert"].value("name", "") == "Junk" ? 1 : 0;
        return junk > 0 && all.size() <= 3;
      },
      std::chrono::seconds(60)))
      << incidents().size() << " Incidents left";
  EXPECT_EQ(phaseOf(getIncident(first)), "Succeeded") << "the Incident that acted was swept";

  fire(op, "Busy", json::object(), "1100000000000002");
  std::string second = awaitIncident("1100000000000002");
  ASSERT_FALSE(second.empty());
  json skipped = awaitFinal(second);
  EXPECT_EQ(phaseOf(skipped), "Skipped") << steps(skipped);
  EXPECT_NE(completedMessage(skipped).find("maxExecutions: runbook once-an-hour already ran 1 "
                                           "times in the last 1h"),
            std::string::npos)
      << completedMessage(skipped);

  // Whoever may delete Incidents deletes them all.
  for (const auto& i : incidents()) {
    client_->remove(incidentsResource(), namespace_, kube::nameOf(i));
  }
  ASSERT_TRUE(eventuallyTrue([&] { return incidents().empty(); }));
  fire(op, "Busy", json::object(), "1100000000000003");
  std::string third = awaitIncident("1100000000000003");
  ASSERT_FALSE(third.empty());
  EXPECT_EQ(phaseOf(awaitFinal(third)), "Skipped");
  EXPECT_EQ(replicas(namespace_, "web"), 2);
  auto rb = client_->get(runbooksResource(), namespace_, "once-an-hour");
  ASSERT_TRUE(rb.ok());
  json history = (*rb)["status"]["history"];
  ASSERT_EQ(history.size(), 1u) << history.dump();
  EXPECT_EQ(history[0]["incident"], first);
}

// What the chart gives the operator itself, as the API server's RBAC
// authorizer decides it: nothing over what Runbooks act on, and impersonation
// of the runner name only, never of a user or group.
TEST_F(TenancyTest, TheOperatorsOwnAccountReadsNoSecretAndImpersonatesOnlyTheRunner) {
  const std::string system = systemNamespace_;
  createDeploymentIn(namespace_, "web", 2);
  kube::KubeconfigOptions load;
  load.path = kubeconfigPath_;
  auto config = kube::loadKubeconfig(load);
  ASSERT_TRUE(config.ok()) << config.status().toString();
  config->qps = 0;
  auto operatorClient = newClient(*config);
  ASSERT_NE(operatorClient, nullptr);
  const std::string me = "system:serviceaccount:" + system + ":" + kOperatorAccount;

  auto secret = operatorClient->get(kube::resources::secrets(), system, "remedy-webhook-token");
  EXPECT_EQ(secret.status().message(),
            "secrets \"remedy-webhook-token\" is forbidden: User \"" + me +
                "\" cannot get resource \"secrets\" in API group \"\" in the namespace \"" +
                system + "\"");
  EXPECT_EQ(operatorClient->list(kube::resources::secrets(), "").status().code(), 403);
  EXPECT_EQ(operatorClient->get(kube::resources::deployments(), namespace_, "web").status().code(),
            403);
  json patch = {{"spec", {{"replicas", 0}}}};
  EXPECT_EQ(operatorClient->patch(kube::resources::deployments(), namespace_, "web", patch.dump())
                .status()
                .code(),
            403);

  kube::ImpersonatingClients as(*operatorClient);
  EXPECT_TRUE(as.serviceAccount(namespace_, "remedy-runner")
                  .get(kube::resources::deployments(), namespace_, "web")
                  .ok());
  auto other =
      as.serviceAccount(namespace_, "default").get(kube::resources::pods(), namespace_, "x");
  EXPECT_EQ(other.status().message(),
            "serviceaccounts \"default\" is forbidden: User \"" + me +
                "\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the "
                "namespace \"" +
                namespace_ + "\"");
  // The runner's name in the operator's namespace is not the runner.
  auto runnerThere = as.serviceAccount(system, "remedy-runner")
                         .get(kube::resources::secrets(), system, "remedy-webhook-token");
  EXPECT_EQ(runnerThere.status().code(), 403) << runnerThere.status().toString();
  auto admin = operatorClient->impersonating({"system:admin", {"system:masters"}});
  auto asAdmin = admin->get(kube::resources::secrets(), system, "remedy-webhook-token");
  EXPECT_EQ(asAdmin.status().message(),
            "users \"system:admin\" is forbidden: User \"" + me +
                "\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope");
  // The runner of the team's namespace reaches nothing in the operator's.
  kube::Client& runner = as.serviceAccount(namespace_, "remedy-runner");
  EXPECT_EQ(runner.get(kube::resources::secrets(), system, "remedy-webhook-token").status().code(),
            403);
  EXPECT_EQ(runner.patch(kube::resources::deployments(), system, "remedy-operator", patch.dump())
                .status()
                .code(),
            403);
  EXPECT_EQ(protectedState(system, "remedy-operator")["spec"]["replicas"], 1);
}

}  // namespace
}  // namespace remedy::testing
