// Least privilege for Runbook authors, end to end: remedy-operator as a
// process, as the chart's ServiceAccount with exactly the chart's RBAC, its
// steps acting as the runner ServiceAccount of the Runbook's namespace, on an
// API server that enforces RBAC: the sandbox with authorization, or the real
// kube-apiserver (REMEDY_TEST_APISERVER=real; ctest runs both).
//
// The test's namespace plays a team's namespace ("team-a"); the operator's
// own namespace (systemNamespace_, "remedy-system") holds the webhook's token
// Secret and a Deployment standing in for the operator. Every refusal is
// shown with nothing changed there and nothing disclosed: the Secret's value
// appears in no Incident, Runbook, Event or operator log line.
#pragma once

#include "../rbac/chart_rules.h"
#include "../support/operator_harness.h"
#include "../web/recording_server.h"
#include "kube/base64.h"
#include "kube/time_format.h"

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace remedy::testing {

inline kube::Resource rbacApi(const std::string& plural, const std::string& kind, bool namespaced) {
  return {"rbac.authorization.k8s.io", "v1", plural, kind, namespaced};
}
inline kube::Resource serviceAccountsApi() {
  return {"", "v1", "serviceaccounts", "ServiceAccount", true};
}
inline kube::Resource runbookPoliciesApi() {
  return {"remedy.dev", "v1alpha1", "runbookpolicies", "RunbookPolicy", false};
}

class TenancyTest : public OperatorTest {
 protected:
  static constexpr const char* kOperatorAccount = "remedy";
  // The value no step may ever disclose.
  static constexpr const char* kTokenValue = "wh-token-8c1f4e2d9b7a6053";

  void SetUp() override {
    sandbox::SandboxOptions options = defaultSandboxOptions();
    options.authorization = true;  // the real API server always enforces RBAC
    startApiServer(options);
    if (HasFatalFailure()) return;
    dir_ = std::make_unique<TempDir>("remedy-tenancy-test");
    installCrds();
    tokenPath_ = dir_->path() + "/webhook-token";
    webhookToken_ = "test-token-" + std::to_string(::getpid());
    std::ofstream(tokenPath_) << webhookToken_ << "\n";
    sealKeyPath_ = dir_->path() + "/approval-seal-key";
    std::ofstream(sealKeyPath_) << kSealKey << "\n";
    systemNamespace_ = namespace_ + "-system";
    createNamespace(systemNamespace_);
    installChartRbac();
    if (HasFatalFailure()) return;
    kubeconfigPath_ = operatorKubeconfig();
    // What a Runbook of the team must never reach.
    put(kube::resources::secrets(), systemNamespace_,
        {{"apiVersion", "v1"},
         {"kind", "Secret"},
         {"metadata", {{"name", "remedy-webhook-token"}, {"namespace", systemNamespace_}}},
         {"data", {{"token", kube::encodeBase64(kTokenValue)}}}});
    createDeploymentIn(systemNamespace_, "remedy-operator", 1);
  }

  void TearDown() override {
    operators_.clear();
    if (client_ && onRealApiServer()) {
      // Cluster-scoped objects outlive the test's namespaces.
      for (const auto& [resource, name] : clusterObjects_) client_->remove(resource, "", name);
    }
    OperatorTest::TearDown();
  }

  void put(const kube::Resource& resource, const std::string& ns, const json& object) {
    auto created = client_->create(resource, ns, object);
    ASSERT_TRUE(created.ok()) << resource.resource << " " << object["metadata"].dump() << ": "
                              << created.status().toString();
    if (!resource.namespaced) clusterObjects_.emplace_back(resource, kube::nameOf(*created));
  }

  // ---- the chart's RBAC, as the chart grants it with tenancy.namespaces
  // set to this namespace (names of cluster-scoped objects carry the test's
  // namespace: the real control plane is shared by every test of the run).

  std::string clusterName(const std::string& suffix) const {
    return namespace_ + "-remedy" + suffix;
  }

  static json role(const std::string& kind, const std::string& name, const std::string& ns,
                   const json& rules) {
    json meta = {{"name", name}};
    if (!ns.empty()) meta["namespace"] = ns;
    return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", kind},
            {"metadata", meta},
            {"rules", rules}};
  }

  static json binding(const std::string& kind, const std::string& name, const std::string& ns,
                      const std::string& roleKind, const std::string& roleName,
                      const std::string& account, const std::string& accountNamespace) {
    json meta = {{"name", name}};
    if (!ns.empty()) meta["namespace"] = ns;
    return {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", kind},
        {"metadata", meta},
        {"roleRef",
         {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", roleKind}, {"name", roleName}}},
        {"subjects",
         json::array(
             {{{"kind", "ServiceAccount"}, {"name", account}, {"namespace", accountNamespace}}})}};
  }

  void installChartRbac() {
    GrantedRules rules = chartRules(ChartValues{});
    put(serviceAccountsApi(), systemNamespace_,
        {{"apiVersion", "v1"},
         {"kind", "ServiceAccount"},
         {"metadata", {{"name", kOperatorAccount}, {"namespace", systemNamespace_}}}});
    put(rbacApi("clusterroles", "ClusterRole", false), "",
        role("ClusterRole", clusterName(""), "", rules.operatorRules));
    put(rbacApi("clusterrolebindings", "ClusterRoleBinding", false), "",
        binding("ClusterRoleBinding", clusterName(""), "", "ClusterRole", clusterName(""),
                kOperatorAccount, systemNamespace_));
    put(rbacApi("clusterroles", "ClusterRole", false), "",
        role("ClusterRole", clusterName("-policies"), "", rules.clusterRules));
    put(rbacApi("clusterrolebindings", "ClusterRoleBinding", false), "",
        binding("ClusterRoleBinding", clusterName("-policies"), "", "ClusterRole",
                clusterName("-policies"), kOperatorAccount, systemNamespace_));
    // templates/rbac.yaml's <fullname>-approvals ClusterRole: the
    // SubjectAccessReviews that ask whether an approver may approve.
    put(rbacApi("clusterroles", "ClusterRole", false), "",
        role("ClusterRole", clusterName("-approvals"), "", rules.approvalClusterRules));
    put(rbacApi("clusterrolebindings", "ClusterRoleBinding", false), "",
        binding("ClusterRoleBinding", clusterName("-approvals"), "", "ClusterRole",
                clusterName("-approvals"), kOperatorAccount, systemNamespace_));
    put(rbacApi("roles", "Role", true), systemNamespace_,
        role("Role", "remedy-release-namespace", systemNamespace_, rules.releaseNamespaceRules));
    put(rbacApi("rolebindings", "RoleBinding", true), systemNamespace_,
        binding("RoleBinding", "remedy-release-namespace", systemNamespace_, "Role",
                "remedy-release-namespace", kOperatorAccount, systemNamespace_));
    grantRunner(namespace_);
  }

  // A kubeconfig with a token of the operator's ServiceAccount: on the
  // sandbox a token it accepts for that identity, on the real API server one
  // from the TokenRequest API.
  std::string operatorKubeconfig() {
    std::string user = "system:serviceaccount:" + systemNamespace_ + ":" + kOperatorAccount;
    std::string path = dir_->path() + "/operator.kubeconfig";
    if (!onRealApiServer()) {
      std::string token = "operator-token-" + namespace_;
      sandbox_->addToken(token, user,
                         {"system:serviceaccounts", "system:serviceaccounts:" + systemNamespace_});
      std::ofstream(path) << sandbox_->kubeconfig(token, namespace_);
      return path;
    }
    json request = {{"apiVersion", "authentication.k8s.io/v1"},
                    {"kind", "TokenRequest"},
                    {"metadata", {{"name", kOperatorAccount}}},
                    {"spec", {{"expirationSeconds", 3600}}}};
    kube::WriteOptions options;
    options.subresource = "token";
    auto issued = client_->create(serviceAccountsApi(), systemNamespace_, request, options);
    EXPECT_TRUE(issued.ok()) << issued.status().toString();
    std::string token = issued.ok() ? (*issued)["status"].value("token", "") : "";
    std::ofstream(path) << "apiVersion: v1\nkind: Config\nclusters:\n- name: real\n  cluster:\n"
                        << "    server: " << cluster_->server() << "\n"
                        << "    certificate-authority: " << cluster_->caFile() << "\n"
                        << "users:\n- name: operator\n  user:\n    token: " << token << "\n"
                        << "contexts:\n- name: operator\n  context:\n    cluster: real\n"
                        << "    user: operator\n    namespace: " << namespace_ << "\n"
                        << "current-context: operator\n";
    return path;
  }

  // ---- objects ----

  json deploymentIn(const std::string& ns, const std::string& name, int replicas) const {
    return {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", name}, {"namespace", ns}}},
        {"spec",
         {{"replicas", replicas},
          {"selector", {{"matchLabels", {{"app", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", name}}}}},
            {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "app:1"}}})}}}}}}}};
  }

  void createDeploymentIn(const std::string& ns, const std::string& name, int replicas) {
    put(kube::resources::deployments(), ns, deploymentIn(ns, name, replicas));
  }

  json deployment(const std::string& ns, const std::string& name) {
    auto got = client_->get(kube::resources::deployments(), ns, name);
    return got.ok() ? *got : json::object();
  }
  int replicas(const std::string& ns, const std::string& name) {
    return deployment(ns, name).value("spec", json::object()).value("replicas", -1);
  }

  // What may not change: the spec and metadata a step could write.
  json protectedState(const std::string& ns, const std::string& name) {
    json d = deployment(ns, name);
    // kube-apiserver's deployment controller writes its revision annotation
    // whenever it gets to the new Deployment: not a change anyone made.
    json annotations = d["metadata"].value("annotations", json::object());
    annotations.erase("deployment.kubernetes.io/revision");
    return {{"spec", d.value("spec", json::object())},
            {"generation", d["metadata"].value("generation", 0)},
            {"labels", d["metadata"].value("labels", json::object())},
            {"annotations", annotations}};
  }

  void applyRunbookYaml(const std::string& yaml) {
    auto object = api::yamlToJson(yaml);
    ASSERT_TRUE(object.ok()) << object.error();
    put(runbooksResource(), namespace_, *object);
  }

  // ---- alerts and Incidents ----

  void fire(OperatorProcess& op, const std::string& alertName, json labels,
            const std::string& fingerprint) {
    labels["namespace"] = namespace_;
    std::string startsAt = kube::formatRfc3339(std::chrono::system_clock::now());
    HttpAnswer answer = postAlerts(
        op,
        webhookPayload("firing", json::array({alert(alertName, labels, fingerprint, startsAt)})));
    ASSERT_EQ(answer.status, 200) << answer.body;
  }

  // The Incident of alert `alertName` with `fingerprint`, once it exists.
  std::string awaitIncident(const std::string& fingerprint) {
    std::string name;
    eventuallyTrue([&] {
      for (const auto& i : incidents()) {
        if (i["spec"]["alert"].value("fingerprint", "") == fingerprint) {
          name = kube::nameOf(i);
          return true;
        }
      }
      return false;
    });
    return name;
  }

  static std::string phaseOf(const json& incident) {
    return incident.value("status", json::object()).value("phase", "");
  }
  static bool finalPhase(const std::string& p) {
    return p == "Succeeded" || p == "Failed" || p == "Escalated" || p == "Skipped" ||
           p == "Cancelled";
  }

  json awaitFinal(const std::string& name) {
    json incident;
    eventuallyTrue(
        [&] {
          incident = getIncident(name);
          return finalPhase(phaseOf(incident));
        },
        std::chrono::seconds(60));
    return incident;
  }

  static json stepOf(const json& incident, const std::string& step) {
    for (const auto& s : incident.value("status", json::object()).value("steps", json::array())) {
      if (s.value("name", "") == step) return s;
    }
    return json::object();
  }

  static std::string completedMessage(const json& incident) {
    for (const auto& c :
         incident.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Completed") return c.value("message", "");
    }
    return "";
  }

  static std::string steps(const json& incident) {
    std::string out;
    for (const auto& s : incident.value("status", json::object()).value("steps", json::array())) {
      out += "\n  " + s.value("name", "") + ": " + s.value("phase", "") + " - " +
             s.value("message", "");
    }
    return out;
  }

  std::string runbookReady(const std::string& name) {
    auto rb = client_->get(runbooksResource(), namespace_, name);
    if (!rb.ok()) return "";
    for (const auto& c : rb->value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Ready")
        return c.value("status", "") + ": " + c.value("message", "");
    }
    return "";
  }

  // Everything a step could have disclosed through: every Incident and
  // Runbook (status included), every Event of both namespaces, and the
  // operator's log.
  std::string everythingVisible(OperatorProcess& op) {
    std::string all;
    for (const auto& i : incidents()) all += i.dump() + "\n";
    if (auto rbs = client_->list(runbooksResource(), namespace_); rbs.ok()) all += rbs->dump();
    for (const auto& ns : {namespace_, systemNamespace_}) {
      if (auto events = client_->list(kube::resources::events(), ns); events.ok()) {
        all += events->dump();
      }
    }
    return all + "\n" + op.log();
  }

  void expectNothingDisclosed(OperatorProcess& op) {
    std::string visible = everythingVisible(op);
    EXPECT_EQ(visible.find(kTokenValue), std::string::npos) << "the Secret's value was disclosed";
    EXPECT_EQ(visible.find(kube::encodeBase64(kTokenValue)), std::string::npos)
        << "the Secret's data was disclosed";
  }

  // Operator flags: the operator manages the test's namespace; the harness
  // adds its egress allow-list, which `egress` replaces.
  std::vector<std::string> flags(const std::string& egress) const {
    return {"--watch-namespaces", namespace_, "--egress-allow", egress};
  }

  std::vector<std::pair<kube::Resource, std::string>> clusterObjects_;
};

}  // namespace remedy::testing
