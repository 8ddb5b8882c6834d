// remedy-operator with exactly the chart's RBAC on an API server that
// enforces RBAC (the sandbox with SandboxOptions.authorization, or
// kube-apiserver with its RBAC authorizer and admission plugins, see
// tests/support/api_server.h), as the ServiceAccount the chart creates, its
// steps acting as the runner ServiceAccount of the Runbook's namespace with
// the chart's runner Role (tenancy.namespaces), and one combined scenario
// that makes the operator and the runner use every permission their code
// asks for: an alert becomes an Incident whose Runbook scales, restarts,
// waits, evicts and deletes pods, runs a Job (reading its pod's log),
// patches, applies and (when the
// alert resolves) reverts, reads Secrets for an approval-gated notify (alice's
// Approval sealed by the operator's admission webhook, which reads the
// Incident it names, and counted only once the engine's SubjectAccessReview
// says alice, whom a Role grants the verb approve on the Runbook, may
// approve) and an http
// call, scales a Deployment of another namespace that a RunbookPolicy
// and a RoleBinding there open to it, under a global pause switched off and
// on; Events, Runbook and Approval status, the leader Lease and the
// Incident's garbage collection included.
//
// The scenario reports every failure it sees; with stopAtFirstFailure (the
// minimality tests) it ends at the first one: a Forbidden in the operator's
// log, the operator exiting, or a stage not reached in time.
//
// On kube-apiserver, which every test of the run shares, the release is
// named after the test ("remedy-<namespace>", so its ClusterRole and
// ClusterRoleBinding are the test's own and go when it ends) and lives in
// <namespace>-system; the operator authenticates with a token of its
// ServiceAccount from the TokenRequest API. An operator granted a
// ClusterRole (watchNamespaces empty) sees every test's Remedy objects, so
// those tests run alone (RUN_SERIAL) and wait until no other test's Runbook,
// Incident or Approval is left (awaitClusterToOurselves).
#pragma once

#include "../kube/sandbox_fixture.h"

// This fixture and its tests poll with eventually().
namespace remedy::testing {
using kube::testing::eventually;
}  // namespace remedy::testing

#include "../support/operator_harness.h"
#include "../web/recording_server.h"
#include "chart_rules.h"
#include "http/certificates.h"
#include "kube/base64.h"
#include "kube/time_format.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace remedy::testing {

// The release namespace on the sandbox (releaseNamespace() is the test's).
inline constexpr const char* kReleaseNamespace = "remedy-system";
// The ServiceAccount (and every RBAC object) of release "remedy" on the
// sandbox (fullname() is the test's): remedy.fullname is the release name
// when it contains the chart name.
inline constexpr const char* kChartFullname = "remedy";

inline kube::Resource serviceAccountsResource() {
  return {"", "v1", "serviceaccounts", "ServiceAccount", true};
}
inline kube::Resource rbacResource(const std::string& plural, const std::string& kind,
                                   bool namespaced) {
  return {"rbac.authorization.k8s.io", "v1", plural, kind, namespaced};
}
inline kube::Resource jobsResource() { return {"batch", "v1", "jobs", "Job", true}; }
inline kube::Resource pdbResource() {
  return {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true};
}
inline kube::Resource networkPoliciesResource() {
  return {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true};
}
inline kube::Resource runbookPoliciesResource() {
  return {"remedy.dev", "v1alpha1", "runbookpolicies", "RunbookPolicy", false};
}
// The chart's runner ServiceAccount (tenancy.defaultServiceAccount).
inline constexpr const char* kRunner = "remedy-runner";

// The first line of `log` that reports a refusal by the API server (a
// Forbidden status, "Forbidden (403)" as kube::Status prints it, or the
// server's "... is forbidden: User ..." message), or "".
inline std::string forbiddenLine(const std::string& log) {
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("forbidden") != std::string::npos || lower.find("(403)") != std::string::npos) {
      return line;
    }
  }
  return "";
}

// The operator's count of API requests answered 403
// (remedy_kube_client_requests_total{code="403"}), summed over verbs.
inline double forbiddenAnswers(const std::string& metrics) {
  double total = 0;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("remedy_kube_client_requests_total{", 0) != 0) continue;
    if (line.find("code=\"403\"") == std::string::npos) continue;
    total += std::atof(line.substr(line.rfind(' ') + 1).c_str());
  }
  return total;
}

struct ScenarioReport {
  std::vector<std::string> failures;
  std::string incident;  // the Incident's name, once it exists
  bool ok() const { return failures.empty(); }
  std::string text() const {
    std::string out;
    for (const auto& f : failures) out += "  - " + f + "\n";
    return out.empty() ? "  (no failure)\n" : out;
  }
};

class RbacTest : public OperatorTest {
 protected:
  void SetUp() override {
    sandbox::SandboxOptions options = defaultSandboxOptions();
    options.authorization = true;
    startApiServer(options);
    if (HasFatalFailure()) return;
    // The rest is OperatorTest::SetUp, with the release's namespace for the
    // operators' Lease and pause switch, and the operators' scope left to
    // the chart's flags.
    dir_ = std::make_unique<TempDir>("remedy-rbac-test");
    installCrds();
    kubeconfigPath_ = adminKubeconfigFile(dir_->path());
    tokenPath_ = dir_->path() + "/webhook-token";
    webhookToken_ = "test-token-" + std::to_string(::getpid());
    std::ofstream(tokenPath_) << webhookToken_ << "\n";
    sealKeyPath_ = dir_->path() + "/approval-seal-key";
    std::ofstream(sealKeyPath_) << kSealKey << "\n";
    // The admission webhooks (the chart's admission.enabled), HTTPS on
    // loopback with a certificate of the test's CA, as cert-manager's would
    // be mounted (admission.certificate.mode certManager).
    http::KeyPair serving =
        admissionCa_.issueServer("remedy-admission", {"localhost"}, {"127.0.0.1"});
    admissionCertPath_ = dir_->path() + "/admission-tls.crt";
    admissionKeyPath_ = dir_->path() + "/admission-tls.key";
    std::ofstream(admissionCertPath_) << serving.certificatePem;
    std::ofstream(admissionKeyPath_) << serving.privateKeyPem;
    admissionPort_ = freeLoopbackPort();
    systemNamespace_ = onRealApiServer() ? namespace_ + "-system" : kReleaseNamespace;
    fullname_ = onRealApiServer() ? std::string(kChartFullname) + "-" + namespace_ : kChartFullname;
    watchOnlyTheTestNamespace_ = false;
    createNamespace(systemNamespace_);
  }

  void TearDown() override {
    operators_.clear();  // before the recording server they may still call
    hooks_.reset();
    if (client_ && onRealApiServer()) {
      for (const auto& [resource, name] : clusterObjects_) client_->remove(resource, "", name);
    }
    OperatorTest::TearDown();
  }

  // The release's namespace and name (see the file comment).
  const std::string& releaseNamespace() const { return systemNamespace_; }
  const std::string& fullname() const { return fullname_; }

  void create(const kube::Resource& resource, const std::string& ns, const json& object) {
    auto created = client_->create(resource, ns, object);
    ASSERT_TRUE(created.ok()) << resource.resource << " " << object["metadata"].dump() << ": "
                              << created.status().toString();
    if (!resource.namespaced) clusterObjects_.emplace_back(resource, kube::nameOf(object));
  }

  // ---- the chart's RBAC ----

  static json roleObject(const std::string& kind, const std::string& name, const std::string& ns,
                         const json& rules) {
    json meta = {{"name", name}, {"labels", {{"app.kubernetes.io/name", "remedy"}}}};
    if (!ns.empty()) meta["namespace"] = ns;
    return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", kind},
            {"metadata", meta},
            {"rules", rules}};
  }

  // A binding of role `name` to the operator's ServiceAccount, or to
  // ServiceAccount `subject` of `subjectNamespace`.
  json bindingObject(const std::string& kind, const std::string& name, const std::string& ns,
                     const std::string& roleKind, const std::string& subject = "",
                     const std::string& subjectNamespace = "") const {
    json meta = {{"name", name}};
    if (!ns.empty()) meta["namespace"] = ns;
    return {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", kind},
        {"metadata", meta},
        {"roleRef",
         {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", roleKind}, {"name", name}}},
        {"subjects",
         json::array({{{"kind", "ServiceAccount"},
                       {"name", subject.empty() ? fullname() : subject},
                       {"namespace", subject.empty() ? releaseNamespace() : subjectNamespace}}})}};
  }

  // What templates/serviceaccount.yaml and templates/rbac.yaml create for
  // the release (fullname() in releaseNamespace()) with `values`, granting
  // `rules`.
  void installChartRbac(const ChartValues& values, const GrantedRules& rules) {
    create(serviceAccountsResource(), releaseNamespace(),
           {{"apiVersion", "v1"},
            {"kind", "ServiceAccount"},
            {"metadata", {{"name", fullname()}, {"namespace", releaseNamespace()}}}});
    if (values.watchNamespaces.empty()) {
      create(rbacResource("clusterroles", "ClusterRole", false), "",
             roleObject("ClusterRole", fullname(), "", rules.operatorRules));
      create(rbacResource("clusterrolebindings", "ClusterRoleBinding", false), "",
             bindingObject("ClusterRoleBinding", fullname(), "", "ClusterRole"));
    } else {
      for (const auto& ns : values.watchNamespaces) {
        create(rbacResource("roles", "Role", true), ns,
               roleObject("Role", fullname(), ns, rules.operatorRules));
        create(rbacResource("rolebindings", "RoleBinding", true), ns,
               bindingObject("RoleBinding", fullname(), ns, "Role"));
      }
    }
    std::string policies = fullname() + "-policies";
    create(rbacResource("clusterroles", "ClusterRole", false), "",
           roleObject("ClusterRole", policies, "", rules.clusterRules));
    create(rbacResource("clusterrolebindings", "ClusterRoleBinding", false), "",
           bindingObject("ClusterRoleBinding", policies, "", "ClusterRole"));
    // tenancy.namespaces = [the test's namespace]: its runner and Role.
    create(serviceAccountsResource(), namespace_,
           {{"apiVersion", "v1"},
            {"kind", "ServiceAccount"},
            {"metadata", {{"name", kRunner}, {"namespace", namespace_}}},
            {"automountServiceAccountToken", false}});
    std::string runner = fullname() + "-runner";
    create(rbacResource("roles", "Role", true), namespace_,
           roleObject("Role", runner, namespace_, rules.tenantRules));
    create(rbacResource("rolebindings", "RoleBinding", true), namespace_,
           bindingObject("RoleBinding", runner, namespace_, "Role", kRunner, namespace_));
    // Cluster-wide in every mode: SubjectAccessReviews (who may approve),
    // and in certificate mode "secret" the two webhook configurations.
    std::string approvals = fullname() + "-approvals";
    create(rbacResource("clusterroles", "ClusterRole", false), "",
           roleObject("ClusterRole", approvals, "", rules.approvalClusterRules));
    create(rbacResource("clusterrolebindings", "ClusterRoleBinding", false), "",
           bindingObject("ClusterRoleBinding", approvals, "", "ClusterRole"));
    if (values.admissionSecretMode) {
      std::string admission = fullname() + "-admission";
      create(rbacResource("roles", "Role", true), releaseNamespace(),
             roleObject("Role", admission, releaseNamespace(), rules.admissionSecretRules));
      create(rbacResource("rolebindings", "RoleBinding", true), releaseNamespace(),
             bindingObject("RoleBinding", admission, releaseNamespace(), "Role"));
    }
    std::string release = fullname() + "-release-namespace";
    create(rbacResource("roles", "Role", true), releaseNamespace(),
           roleObject("Role", release, releaseNamespace(), rules.releaseNamespaceRules));
    create(rbacResource("rolebindings", "RoleBinding", true), releaseNamespace(),
           bindingObject("RoleBinding", release, releaseNamespace(), "Role"));
  }

  // The other namespace the scenario reaches: not the Runbook's, opened to
  // it by a RunbookPolicy and by RBAC there for its runner, as an
  // administrator does it.
  std::string sharedNamespace() const { return namespace_ + "-shared"; }

  // A bearer token of the chart's ServiceAccount: on kube-apiserver one the
  // TokenRequest API issues (what the kubelet mounts into the pod); on the
  // sandbox one registered with the groups kube-apiserver's token
  // authenticator gives a ServiceAccount.
  const std::string& operatorToken() {
    if (!operatorToken_.empty()) return operatorToken_;
    if (onRealApiServer()) {
      kube::WriteOptions token;
      token.subresource = "token";
      auto issued =
          client_->create(serviceAccountsResource(), releaseNamespace(),
                          {{"apiVersion", "authentication.k8s.io/v1"},
                           {"kind", "TokenRequest"},
                           {"metadata", {{"name", fullname()}, {"namespace", releaseNamespace()}}},
                           {"spec", {{"expirationSeconds", 3600}}}},
                          token);
      EXPECT_TRUE(issued.ok()) << "TokenRequest: " << issued.status().toString();
      if (issued.ok()) operatorToken_ = (*issued)["status"].value("token", "");
      return operatorToken_;
    }
    operatorToken_ = "remedy-sa-token-" + std::to_string(::getpid()) + "-" + namespace_;
    sandbox_->addToken(operatorToken_,
                       "system:serviceaccount:" + releaseNamespace() + ":" + fullname(),
                       {"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace(),
                        "system:authenticated"});
    return operatorToken_;
  }

  std::string operatorKubeconfig() {
    std::string path = dir_->path() + "/operator-kubeconfig";
    if (!onRealApiServer()) {
      std::ofstream(path) << sandbox_->kubeconfig(operatorToken(), releaseNamespace());
      return path;
    }
    std::ofstream(path) << "apiVersion: v1\n"
                           "kind: Config\n"
                           "clusters:\n"
                           "  - name: control-plane\n"
                           "    cluster:\n"
                           "      server: "
                        << cluster_->server()
                        << "\n"
                           "      certificate-authority: "
                        << cluster_->caFile()
                        << "\n"
                           "users:\n"
                           "  - name: operator\n"
                           "    user:\n"
                           "      token: "
                        << operatorToken()
                        << "\n"
                           "contexts:\n"
                           "  - name: operator\n"
                           "    context: {cluster: control-plane, user: operator, namespace: "
                        << releaseNamespace()
                        << "}\n"
                           "current-context: operator\n";
    return path;
  }

  // An API client with the operator's credentials.
  std::unique_ptr<kube::RestClient> operatorClient() {
    kube::Config c = adminConfig();
    c.clientCertificatePem.clear();  // the administrator's, on kube-apiserver
    c.clientKeyPem.clear();
    c.bearerToken = operatorToken();
    return newClient(c);
  }

  // Waits until no Runbook, Incident or Approval of another test is left
  // (on kube-apiserver; at once on the sandbox): an operator granted a
  // ClusterRole would act on them. Tests that call it run alone (RUN_SERIAL),
  // so none appear afterwards; those of tests that ended go with their
  // namespaces, which the namespace controller empties in the background.
  void awaitClusterToOurselves() {
    if (!onRealApiServer()) return;
    auto start = std::chrono::steady_clock::now();
    std::string others;
    bool alone = eventuallyTrue(
        [&] {
          others.clear();
          for (const auto& resource :
               {runbooksResource(), incidentsResource(), approvalsResource()}) {
            auto all = kube::listAll(*client_, resource, "");
            if (!all.ok()) return false;
            for (const auto& item : (*all)["items"]) {
              if (kube::namespaceOf(item) != namespace_) {
                others += " " + resource.resource + " " + kube::namespaceOf(item) + "/" +
                          kube::nameOf(item);
              }
            }
          }
          return others.empty();
        },
        std::chrono::seconds(90));
    ASSERT_TRUE(alone) << "other tests' Remedy objects are still there:" << others;
    std::cout << "[          ] waited "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count()
              << " ms for other tests' Remedy objects to go\n";
  }

  // The flags templates/deployment.yaml passes for `values`, with short
  // leader-election durations and retention so a run takes seconds.
  std::vector<std::string> chartFlags(const ChartValues& values) const {
    auto join = [](const std::vector<std::string>& items) {
      std::string out;
      for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
      return out;
    };
    std::vector<std::string> flags;
    if (values.leaderElection) {
      flags.push_back("--leader-elect=true");
      flags.push_back("--leader-election-name=" + fullname());
      flags.push_back("--lease-duration=2s");
      flags.push_back("--renew-deadline=1500ms");
      flags.push_back("--retry-period=300ms");
    } else {
      flags.push_back("--leader-elect=false");
    }
    flags.push_back("--pause-namespace=" + releaseNamespace());
    flags.push_back("--admission-bind-address=127.0.0.1");
    flags.push_back("--admission-port=" + std::to_string(admissionPort_));
    flags.push_back("--admission-tls-cert-file=" + admissionCertPath_);
    flags.push_back("--admission-tls-key-file=" + admissionKeyPath_);
    flags.push_back("--patch-allowed-kinds=" + join(values.patchKinds));
    flags.push_back("--apply-allowed-kinds=" + join(values.applyKinds));
    // Long enough to see the reverts recorded on the finished Incident.
    flags.push_back("--incident-retention=3s");
    flags.push_back("--workers=4");
    // Informer list and watch failures are logged at debug only.
    flags.push_back("--log-level=debug");
    if (!values.watchNamespaces.empty()) {
      flags.push_back("--watch-namespaces=" + join(values.watchNamespaces));
      flags.push_back("--incident-namespace=" + values.watchNamespaces.front());
    }
    return flags;
  }

  // Grants the chart's rules for `values` without `without`, and starts the
  // operator as its ServiceAccount (not waiting for readiness: the scenario
  // does, and tells why it is not).
  OperatorProcess& startChartOperator(const ChartValues& values,
                                      const std::vector<Permission>& without = {}) {
    if (values.watchNamespaces.empty()) awaitClusterToOurselves();
    leaderElection_ = values.leaderElection;
    installChartRbac(values, chartRules(values, without));
    return startOperator(chartFlags(values), "remedy-0", operatorKubeconfig(), false);
  }

  // ---- the objects the combined scenario acts on ----

  json deploymentObject(const std::string& name, int replicas) const {
    return {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}}},
                {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}}}}}}};
  }

  json statefulSetObject(const std::string& name, int replicas) const {
    json s = deploymentObject(name, replicas);
    s["kind"] = "StatefulSet";
    s["spec"]["serviceName"] = name;
    return s;
  }

  bool readyReplicas(const kube::Resource& resource, const std::string& name, int replicas) {
    auto got = client_->get(resource, namespace_, name);
    return got.ok() && got->value("status", json::object()).value("readyReplicas", 0) == replicas;
  }

  static constexpr const char* kRunbook = R"(apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: rbac-drill
spec:
  description: Every action whose permission the chart grants, in one run.
  triggers:
    - alertName: RbacDrill
  approval:
    users: [alice]
    timeout: 5m
  guardrails:
    allowedNamespaces: [SHARED_NAMESPACE]
  steps:
    - name: scale-shared
      scale:
        target: {kind: Deployment, name: cache, namespace: SHARED_NAMESPACE}
        replicas: "+1"
    - name: scale-web
      scale:
        target: {pod: '{{ alert.labels.pod }}', owner: Deployment}
        replicas: "+1"
        maxReplicas: 5
    - name: notify-oncall
      approval: Required
      notify:
        urlFrom: {secretKeyRef: {name: hooks, key: notify}}
        message: "incident {{ incident.name }} is being remediated"
    - name: scale-db
      scale:
        target: {kind: StatefulSet, name: db}
        replicas: 2
    - name: undo-web
      rolloutUndo:
        target: {name: web}
    - name: restart-web
      rolloutRestart:
        target: {name: web}
    - name: restart-db
      rolloutRestart:
        target: {kind: StatefulSet, name: db}
    - name: wait-web
      timeout: 60s
      waitFor:
        target: {name: web}
        state: RolloutComplete
        pollInterval: 100ms
    - name: evict-web-pod
      retries: {limit: 5, backoff: 200ms}
      deletePods:
        target: {name: web}
        maxCount: 1
        mode: Evict
    - name: delete-web-pod
      deletePods:
        selector: {matchLabels: {app: web}}
        maxCount: 1
        mode: Delete
    - name: run-job
      timeout: 60s
      runJob:
        template:
          spec:
            containers:
              - {name: main, image: busybox, command: ["true"]}
    - name: patch-flags
      patch:
        target: {kind: ConfigMap, name: flags}
        mergePatch: {data: {mode: degraded}}
    - name: annotate-web
      patch:
        target: {name: web}
        mergePatch: {metadata: {annotations: {rbac.remedy.dev/patched: "true"}}}
    - name: quarantine
      revert: {onResolved: true}
      apply:
        manifest:
          apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: {name: quarantine}
          spec:
            podSelector: {matchLabels: {app: web}}
            policyTypes: [Ingress]
    - name: note
      revert: {onResolved: true}
      apply:
        manifest:
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: remedy-note}
          data: {incident: "{{ incident.name }}"}
    - name: call-hook
      http:
        method: POST
        urlFrom: {secretKeyRef: {name: hooks, key: http}}
)";

  // Creates what the scenario needs, as the admin, before the operator
  // starts: a Deployment (2 replicas) with a PodDisruptionBudget, a
  // StatefulSet, ConfigMaps, the Secret with the hook URLs, the Runbook, and
  // the global pause switched on.
  void prepareScenario() {
    hooks_ = std::make_unique<actions::testing::RecordingServer>();
    create(kube::resources::secrets(), namespace_,
           {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "hooks"}, {"namespace", namespace_}}},
            {"stringData", {{"notify", hooks_->url("/notify")}, {"http", hooks_->url("/http")}}}});
    create(kube::resources::deployments(), namespace_, deploymentObject("web", 2));
    create(kube::resources::statefulSets(), namespace_, statefulSetObject("db", 1));
    create(pdbResource(), namespace_,
           {{"apiVersion", "policy/v1"},
            {"kind", "PodDisruptionBudget"},
            {"metadata", {{"name", "web"}, {"namespace", namespace_}}},
            {"spec", {{"minAvailable", 1}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
    create(kube::resources::configMaps(), namespace_, configMap("flags", {{"mode", "normal"}}));
    createNamespace(sharedNamespace());
    json cache = deploymentObject("cache", 1);
    cache["metadata"]["namespace"] = sharedNamespace();
    create(kube::resources::deployments(), sharedNamespace(), cache);
    create(runbookPoliciesResource(), "",
           {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "RunbookPolicy"},
            {"metadata", {{"name", namespace_ + "-to-shared"}}},
            {"spec",
             {{"runbookNamespaces", {namespace_}},
              {"targets",
               {{{"namespaces", {sharedNamespace()}},
                 {"kinds", {{{"group", "apps"}, {"kind", "Deployment"}}}}}}}}}});
    create(rbacResource("roles", "Role", true), sharedNamespace(),
           roleObject("Role", "scale-cache", sharedNamespace(),
                      json::array({{{"apiGroups", {"apps"}},
                                    {"resources", {"deployments", "deployments/scale"}},
                                    {"verbs", {"get", "update"}}}})));
    create(rbacResource("rolebindings", "RoleBinding", true), sharedNamespace(),
           bindingObject("RoleBinding", "scale-cache", sharedNamespace(), "Role", kRunner,
                         namespace_));
    grantApprover("alice", "rbac-drill");
    registerApprovalWebhook();
    setPause(true);
    std::string runbook = kRunbook;
    for (size_t at; (at = runbook.find("SHARED_NAMESPACE")) != std::string::npos;) {
      runbook.replace(at, std::string("SHARED_NAMESPACE").size(), sharedNamespace());
    }
    applyYaml(runbooksResource(), runbook);
    ASSERT_TRUE(eventually([&] {
      return readyReplicas(kube::resources::deployments(), "web", 2) &&
             readyReplicas(kube::resources::statefulSets(), "db", 1);
    }));
    // Revision 2 of web, which undo-web rolls back.
    auto released = client_->patch(
        kube::resources::deployments(), namespace_, "web",
        json{{"spec", {{"template", {{"metadata", {{"annotations", {{kRelease, "2"}}}}}}}}}}
            .dump());
    ASSERT_TRUE(released.ok()) << released.status().toString();
    // The alert names a pod of web's revision 2, as kube-prometheus alerts
    // name pods; scale-web acts on its Deployment.
    ASSERT_TRUE(eventually([&] {
      kube::ListOptions webPods;
      webPods.labelSelector = "app=web";
      auto pods = client_->list(kube::resources::pods(), namespace_, webPods);
      if (!pods.ok()) return false;
      for (const auto& p : (*pods)["items"]) {
        const json meta = p.value("metadata", json::object());
        if (!meta.contains("deletionTimestamp") &&
            meta.value("annotations", json::object()).value(kRelease, "") == "2") {
          webPod_ = kube::nameOf(p);
        }
      }
      return !webPod_.empty();
    }));
  }

  static constexpr const char* kRelease = "rbac.remedy.dev/release";

  // Who may approve, as an administrator grants it: the verb `approve` on
  // Runbook `runbook` (what the chart's approver ClusterRole grants for every
  // Runbook of a namespace it is bound in), with a Role and RoleBinding for
  // `user` in the test's namespace. Waits until the API server's authorizer
  // answers a SubjectAccessReview for it as the engine asks (kube-apiserver's
  // RBAC authorizer reads bindings from an informer), so the engine never
  // caches an answer given before the grant took effect.
  void grantApprover(const std::string& user, const std::string& runbook) {
    std::string name = "approve-" + runbook;
    create(rbacResource("roles", "Role", true), namespace_,
           roleObject("Role", name, namespace_,
                      json::array({{{"apiGroups", {"remedy.dev"}},
                                    {"resources", {"runbooks"}},
                                    {"resourceNames", {runbook}},
                                    {"verbs", {"approve"}}}})));
    json binding = bindingObject("RoleBinding", name, namespace_, "Role");
    binding["subjects"] = json::array(
        {{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", user}}});
    create(rbacResource("rolebindings", "RoleBinding", true), namespace_, binding);
    json answer;
    bool allowed = eventuallyTrue([&] {
      auto reviewed = client_->create(
          {"authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false}, "",
          {{"apiVersion", "authorization.k8s.io/v1"},
           {"kind", "SubjectAccessReview"},
           {"spec",
            {{"user", user},
             {"groups", {"system:authenticated"}},
             {"resourceAttributes",
              {{"namespace", namespace_},
               {"verb", "approve"},
               {"group", "remedy.dev"},
               {"resource", "runbooks"},
               {"name", runbook}}}}}});
      if (!reviewed.ok()) return false;
      answer = (*reviewed)["status"];
      return answer.value("allowed", false);
    });
    ASSERT_TRUE(allowed) << user << " still may not approve Runbook " << runbook << ": "
                         << answer.dump();
  }

  // The operator's mutating admission webhook for Approvals, as the chart
  // registers it (limited here to the test's namespace), and alice's right
  // to create Approvals there: her Approval is bound to the Incident's uid
  // and sealed by the operator, which reads the Incident to do so.
  void registerApprovalWebhook() {
    json hook = {
        {"name", "approvals.remedy.dev"},
        {"clientConfig",
         {{"url", "https://127.0.0.1:" + std::to_string(admissionPort_) + "/admission/v1/mutate"},
          {"caBundle", kube::encodeBase64(admissionCa_.ca().certificatePem)}}},
        {"rules", json::array({{{"operations", {"CREATE"}},
                                {"apiGroups", {"remedy.dev"}},
                                {"apiVersions", {"v1alpha1"}},
                                {"resources", {"approvals"}}}})},
        {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", namespace_}}}}},
        {"failurePolicy", "Fail"},
        {"sideEffects", "None"},
        {"timeoutSeconds", 10},
        {"admissionReviewVersions", {"v1"}}};
    create({"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
            "MutatingWebhookConfiguration", false},
           "",
           {{"apiVersion", "admissionregistration.k8s.io/v1"},
            {"kind", "MutatingWebhookConfiguration"},
            {"metadata", {{"name", namespace_ + "-remedy-approvals"}}},
            {"webhooks", json::array({hook})}});
    create(rbacResource("roles", "Role", true), namespace_,
           roleObject("Role", "approval-writers", namespace_,
                      json::array({{{"apiGroups", {"remedy.dev"}},
                                    {"resources", {"approvals"}},
                                    {"verbs", {"create"}}}})));
    json binding = bindingObject("RoleBinding", "approval-writers", namespace_, "Role");
    binding["subjects"] = json::array(
        {{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", "alice"}}});
    create(rbacResource("rolebindings", "RoleBinding", true), namespace_, binding);
  }

  // The global pause (ConfigMap remedy-pause in the release namespace), as
  // people set it.
  void setPause(bool paused) {
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "remedy-pause"}, {"namespace", releaseNamespace()}}},
               {"data", {{"paused", paused ? "true" : "false"}}}};
    auto got = client_->get(kube::resources::configMaps(), releaseNamespace(), "remedy-pause");
    if (!got.ok()) {
      create(kube::resources::configMaps(), releaseNamespace(), cm);
      return;
    }
    kube::PatchOptions merge;
    merge.type = kube::PatchType::Merge;
    auto patched = client_->patch(kube::resources::configMaps(), releaseNamespace(), "remedy-pause",
                                  json{{"data", cm["data"]}}.dump(), merge);
    EXPECT_TRUE(patched.ok()) << patched.status().toString();
  }

  json alertPayload(const std::string& status) {
    std::string endsAt = status == "resolved"
                             ? kube::formatRfc3339(std::chrono::system_clock::now())
                             : "0001-01-01T00:00:00Z";
    return webhookPayload(
        status,
        json::array({alert("RbacDrill",
                           {{"namespace", namespace_}, {"pod", webPod_}, {"severity", "warning"}},
                           "0b1c2d3e4f5a6b7c", alertStartsAt_, status, endsAt)}));
  }

  // ---- running the scenario ----

  struct Run {
    OperatorProcess& op;
    ScenarioReport& report;
    bool stopAtFirstFailure;
  };

  // Polls `condition` until it holds. False, with the reason recorded, when
  // `timeout` passes, the operator exits, or (stopping at the first failure)
  // its log shows a refusal; `condition` may record a failure itself and
  // return true to end the wait.
  bool await(Run& run, const std::string& what, const std::function<bool()>& condition,
             std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto nextLogCheck = std::chrono::steady_clock::now();
    while (true) {
      size_t failures = run.report.failures.size();
      if (condition()) return run.report.failures.size() == failures;
      if (!run.op.process.running()) {
        run.report.failures.push_back(what + ": the operator exited:\n" + tail(run.op.log()));
        return false;
      }
      auto now = std::chrono::steady_clock::now();
      if (run.stopAtFirstFailure && now >= nextLogCheck) {
        std::string line = forbiddenLine(run.op.log());
        if (!line.empty()) {
          run.report.failures.push_back(what + ": the operator logged a refusal: " + line);
          return false;
        }
        nextLogCheck = now + std::chrono::milliseconds(100);
      }
      if (now >= deadline) {
        run.report.failures.push_back(what + ": not within " + std::to_string(timeout.count()) +
                                      "s");
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static std::string tail(const std::string& log, size_t lines = 15) {
    size_t pos = log.size();
    for (size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n) {
      pos = log.rfind('\n', pos - 1);
    }
    return pos == std::string::npos ? log : log.substr(pos + 1);
  }

  // The Incident's status (an empty object for a missing Incident: null).
  static json statusOf(const json& incident) {
    if (!incident.is_object()) return json::object();
    json status = incident.value("status", json::object());
    return status.is_object() ? status : json::object();
  }
  static std::string phaseOf(const json& incident) { return statusOf(incident).value("phase", ""); }
  static bool finalPhase(const std::string& phase) {
    return phase == "Succeeded" || phase == "Failed" || phase == "Escalated" ||
           phase == "Cancelled" || phase == "Skipped";
  }
  static json condition(const json& incident, const std::string& type) {
    for (const auto& c : statusOf(incident).value("conditions", json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return json::object();
  }
  static json step(const json& incident, const std::string& name) {
    for (const auto& s : statusOf(incident).value("steps", json::array())) {
      if (s.value("name", "") == name) return s;
    }
    return json::object();
  }
  static std::string stepSummary(const json& incident) {
    std::string out;
    for (const auto& s : statusOf(incident).value("steps", json::array())) {
      out += "\n    " + s.value("name", "") + ": " + s.value("phase", "") + " - " +
             s.value("message", "");
    }
    return out;
  }

  // Waits for the global pause to hold step `stepName` (the Incident's
  // Waiting condition for reason "pause"); a failure when the step starts
  // anyway or the Incident ends.
  bool awaitPauseHolds(Run& run, const std::string& stepName) {
    return await(run, "the pause holds step " + stepName, [&] {
      json incident = getIncident(run.report.incident);
      json waiting = condition(incident, "Waiting");
      if (waiting.value("status", "") == "True" && waiting.value("reason", "") == "pause") {
        return true;
      }
      if (step(incident, stepName).value("attempts", 0) > 0 || finalPhase(phaseOf(incident))) {
        run.report.failures.push_back("step " + stepName +
                                      " started while the global pause was on (phase " +
                                      phaseOf(incident) + ")" + stepSummary(incident));
        return true;
      }
      return false;
    });
  }

  // The whole scenario against a started operator; every failure seen (or
  // only the first, with stopAtFirstFailure).
  ScenarioReport runCombinedScenario(OperatorProcess& op, bool stopAtFirstFailure) {
    ScenarioReport report;
    Run run{op, report, stopAtFirstFailure};
    auto check = [&](bool ok, const std::string& failure) {
      if (!ok) report.failures.push_back(failure);
      return ok || !stopAtFirstFailure;
    };
    // Stages: each ends the run when it fails and there is no point going on.
    if (!await(run, "the operator becomes ready", [&] { return op.ready(); })) return report;
    // A replica that cannot create or renew the Lease never leads, silently.
    if (!await(
            run, "the operator leads",
            [&] { return op.log().find("event=leading") != std::string::npos; },
            std::chrono::seconds(10))) {
      return report;
    }
    bool runbookReady = await(run, "the Runbook controller writes Ready=True", [&] {
      auto rb = client_->get(runbooksResource(), namespace_, "rbac-drill");
      if (!rb.ok()) return false;
      for (const auto& c : rb->value("status", json::object()).value("conditions", json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") return true;
      }
      return false;
    });
    if (!runbookReady && stopAtFirstFailure) return report;

    alertStartsAt_ = kube::formatRfc3339(std::chrono::system_clock::now());
    HttpAnswer firing = postAlerts(op, alertPayload("firing"));
    if (!check(firing.status == 200, "the webhook answered the firing alert " +
                                         std::to_string(firing.status) + ": " + firing.body)) {
      return report;
    }
    if (!await(run, "the alert becomes an Incident", [&] {
          auto all = incidents();
          if (all.empty()) return false;
          report.incident = kube::nameOf(all.front());
          return true;
        })) {
      return report;
    }
    const std::string name = report.incident;

    // Paused from the start: the first step waits, then runs on resume.
    if (!awaitPauseHolds(run, "scale-shared")) return report;
    setPause(false);
    if (!await(run, "step notify-oncall awaits approval", [&] {
          json incident = getIncident(name);
          if (phaseOf(incident) == "AwaitingApproval") return true;
          if (finalPhase(phaseOf(incident))) {
            report.failures.push_back("the Incident ended " + phaseOf(incident) +
                                      " before the approval:" + stepSummary(incident));
            return true;
          }
          return false;
        })) {
      return report;
    }
    // Paused again, then approved: the approved step waits for the resume
    // (the same Waiting Event again, which the recorder patches).
    setPause(true);
    // alice approves through the operator's admission webhook, which reads
    // the Incident to bind her Approval to it and seals it. A dry run first
    // shows the webhook in force (kube-apiserver learns of a configuration
    // from a watch), so the Approval is never stored unsealed.
    json approval = {
        {"apiVersion", "remedy.dev/v1alpha1"},
        {"kind", "Approval"},
        {"metadata", {{"name", "alice-approves"}, {"namespace", namespace_}}},
        {"spec",
         {{"incidentRef", {{"name", name}}}, {"step", "notify-oncall"}, {"decision", "Approve"}}}};
    auto alice = newClient(userConfig("alice"));
    auto sealedFor = [&](const kube::Result<json>& answer) {
      return answer.ok() &&
             answer->value("spec", json::object()).value("approver", "") == "alice" &&
             answer->value("metadata", json::object())
                 .value("annotations", json::object())
                 .contains(admission::kApprovalSealAnnotation);
    };
    kube::Status lastAnswer;
    if (!await(run, "the operator's admission webhook seals alice's Approval (a dry run)", [&] {
          kube::WriteOptions dryRun;
          dryRun.dryRun = true;
          auto probe = alice->create(approvalsResource(), namespace_, approval, dryRun);
          lastAnswer = probe.status();
          return sealedFor(probe);
        })) {
      report.failures.back() += ": " + lastAnswer.toString();
      return report;
    }
    auto approved = alice->create(approvalsResource(), namespace_, approval);
    if (!check(sealedFor(approved), "alice's Approval is stored sealed by the operator: " +
                                        approved.status().toString())) {
      return report;
    }
    // Counted only when the engine's SubjectAccessReview says alice may
    // approve this Runbook; otherwise the step keeps waiting.
    json approvalStatus;
    if (!await(run, "alice's Approval is counted (status.state Counted)", [&] {
          auto got = client_->get(approvalsResource(), namespace_, "alice-approves");
          approvalStatus = got.ok() ? got->value("status", json::object()) : json::object();
          return approvalStatus.value("state", "") == "Counted";
        })) {
      report.failures.back() +=
          ": status " + approvalStatus.dump() + stepSummary(getIncident(name));
      return report;
    }
    if (!awaitPauseHolds(run, "notify-oncall")) return report;
    setPause(false);

    json incident;
    if (!await(
            run, "the Incident finishes",
            [&] {
              incident = getIncident(name);
              return finalPhase(phaseOf(incident));
            },
            std::chrono::seconds(60))) {
      report.failures.back() += stepSummary(getIncident(name));
      return report;
    }
    if (!check(phaseOf(incident) == "Succeeded",
               "the Incident ended " + phaseOf(incident) + ":" + stepSummary(incident))) {
      return report;
    }
    if (!verifyEffects(run, incident) && stopAtFirstFailure) return report;

    // The alert resolves: the intake patches the Incident, the reverts
    // delete what apply created, and the finished Incident is deleted.
    HttpAnswer resolved = postAlerts(op, alertPayload("resolved"));
    if (!check(resolved.status == 200, "the webhook answered the resolved alert " +
                                           std::to_string(resolved.status) + ": " +
                                           resolved.body)) {
      return report;
    }
    // Recorded on the Incident while it still exists: the garbage collector
    // would delete both objects with it anyway (they are owned by it), which
    // must not pass for a revert.
    if (!await(run, "the resolution reverts both applies (Remedy deletes what it created)", [&] {
          json current = getIncident(name);
          if (current.is_null()) {
            report.failures.push_back("the Incident was deleted before its reverts were recorded");
            return true;
          }
          bool done = true;
          for (const char* applied : {"quarantine", "note"}) {
            json revert = step(current, applied).value("revert", json::object());
            std::string state = revert.value("state", "");
            if (state == "Pending" || state.empty()) {
              done = false;
            } else if (state != "Reverted") {
              report.failures.push_back("the revert of step " + std::string(applied) + " is " +
                                        state + ": " + revert.value("message", ""));
              return true;
            }
          }
          return done &&
                 kube::isNotFound(
                     client_->get(networkPoliciesResource(), namespace_, "quarantine").status()) &&
                 kube::isNotFound(
                     client_->get(kube::resources::configMaps(), namespace_, "remedy-note")
                         .status());
        })) {
      return report;
    }
    if (!await(run, "the finished Incident is garbage-collected", [&] {
          return kube::isNotFound(client_->get(incidentsResource(), namespace_, name).status());
        })) {
      return report;
    }
    check(op.process.running() && op.metrics().find("remedy_leader 1") != std::string::npos,
          "the operator no longer leads at the end:\n" + tail(op.log()));
    std::string refusal = forbiddenLine(op.log());
    check(refusal.empty(), "the operator logged a refusal: " + refusal);
    return report;
  }

  // What the finished Incident did, seen as the admin.
  bool verifyEffects(Run& run, const json& incident) {
    ScenarioReport& report = run.report;
    size_t before = report.failures.size();
    auto expect = [&](bool ok, const std::string& failure) {
      if (!ok) report.failures.push_back(failure);
    };
    auto get = [&](const kube::Resource& r, const std::string& n, const std::string& ns = "") {
      auto got = client_->get(r, ns.empty() ? namespace_ : ns, n);
      return got.ok() ? *got : json::object();
    };
    std::string name = kube::nameOf(incident);
    std::string uid = kube::uidOf(incident);
    json web = get(kube::resources::deployments(), "web");
    json db = get(kube::resources::statefulSets(), "db");
    auto restartedAt = [](const json& o) {
      return o.value("spec", json::object())
          .value("template", json::object())
          .value("metadata", json::object())
          .value("annotations", json::object())
          .value("kubectl.kubernetes.io/restartedAt", "");
    };
    auto replicasOf = [](const json& o) {
      return o.value("spec", json::object()).value("replicas", json()).dump();
    };
    expect(web.value("spec", json::object()).value("replicas", 0) == 3,
           "scale: Deployment web has " + replicasOf(web) + " replicas, not 3");
    json cache = get(kube::resources::deployments(), "cache", sharedNamespace());
    expect(cache.value("spec", json::object()).value("replicas", 0) == 2,
           "scale: Deployment " + sharedNamespace() + "/cache has " + replicasOf(cache) +
               " replicas, not 2");
    expect(db.value("spec", json::object()).value("replicas", 0) == 2,
           "scale: StatefulSet db has " + replicasOf(db) + " replicas, not 2");
    expect(!restartedAt(web).empty(), "rolloutRestart: Deployment web was not restarted");
    expect(!web.value("spec", json::object())
                .value("template", json::object())
                .value("metadata", json::object())
                .value("annotations", json::object())
                .contains(kRelease),
           "rolloutUndo: Deployment web still runs the template of revision 2");
    expect(!restartedAt(db).empty(), "rolloutRestart: StatefulSet db was not restarted");
    expect(web.value("metadata", json::object())
                   .value("annotations", json::object())
                   .value("rbac.remedy.dev/patched", "") == "true",
           "patch: Deployment web lacks the annotation");
    expect(get(kube::resources::configMaps(), "flags")
                   .value("data", json::object())
                   .value("mode", "") == "degraded",
           "patch: ConfigMap flags was not patched");
    expect(step(incident, "evict-web-pod").value("outputs", json::object()).value("deleted", "") ==
               "1",
           "deletePods (Evict) did not evict one pod");
    expect(step(incident, "delete-web-pod").value("outputs", json::object()).value("deleted", "") ==
               "1",
           "deletePods (Delete) did not delete one pod");
    // runJob's Job, owned by the Incident without blocking its deletion, so
    // the runner needs no right on Incidents (what
    // OwnerReferencesPermissionEnforcement would check).
    std::string jobName =
        step(incident, "run-job").value("outputs", json::object()).value("jobName", "");
    json job = get(jobsResource(), jobName);
    json owner = job.value("metadata", json::object()).value("ownerReferences", json::array());
    expect(!jobName.empty() && owner.size() == 1 && owner[0].value("kind", "") == "Incident" &&
               owner[0].value("uid", "") == uid && !owner[0].value("blockOwnerDeletion", true),
           "runJob: Job " + jobName +
               " is not owned by the Incident without blockOwnerDeletion: " + owner.dump());
    // Its logTail read the Job's pod's log (pods list, pods/log get). kwok's
    // nodes serve no logs, so on kube-apiserver the read fails otherwise
    // (404); only a refusal counts here.
    std::string jobMessage = step(incident, "run-job").value("message", "");
    std::string lowerMessage = jobMessage;
    std::transform(lowerMessage.begin(), lowerMessage.end(), lowerMessage.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    expect(lowerMessage.find("forbidden") == std::string::npos,
           "runJob: the log of the Job's pod was refused: " + jobMessage);
    json policy = get(networkPoliciesResource(), "quarantine");
    expect(
        policy.value("metadata", json::object()).value("ownerReferences", json::array()).size() ==
            1,
        "apply: NetworkPolicy quarantine was not created owned by the Incident");
    expect(get(kube::resources::configMaps(), "remedy-note")
                   .value("data", json::object())
                   .value("incident", "") == name,
           "apply: ConfigMap remedy-note was not created");
    // The notify and http steps reached the URLs only the Secret holds.
    bool notified = false;
    bool called = false;
    for (const auto& r : hooks_->requests()) {
      notified = notified || (r.method == "POST" && r.path == "/notify");
      called = called || (r.method == "POST" && r.path == "/http");
    }
    expect(notified, "notify: no POST reached the URL of Secret hooks");
    expect(called, "http: no POST reached the URL of Secret hooks");
    expect(get(approvalsResource(), "alice-approves")
                   .value("status", json::object())
                   .value("state", "") == "Counted",
           "the Approval's status no longer says it counted");
    await(
        run, "the Runbook's status records the execution",
        [&] {
          json status = get(runbooksResource(), "rbac-drill").value("status", json::object());
          return status.value("lastIncident", "") == name && status.value("executions", 0) == 1 &&
                 status.value("lastResult", "") == "Succeeded";
        },
        std::chrono::seconds(10));
    // Events: on the Incident (the repeated Waiting one patched to count 2)
    // and on the objects the steps touched.
    await(
        run, "the operator's Events are written, a repeated one patched",
        [&] {
          auto events = client_->list(kube::resources::events(), namespace_);
          if (!events.ok()) return false;
          bool repeated = false;
          bool onTarget = false;
          for (const auto& e : (*events)["items"]) {
            if (e.value("source", json::object()).value("component", "") != "remedy-operator") {
              continue;
            }
            const json involved = e.value("involvedObject", json::object());
            repeated = repeated || (involved.value("name", "") == name &&
                                    e.value("reason", "") == "Waiting" && e.value("count", 0) >= 2);
            onTarget = onTarget || (involved.value("kind", "") == "Deployment" &&
                                    involved.value("name", "") == "web");
          }
          return repeated && onTarget;
        },
        std::chrono::seconds(10));
    // One remediation per target: the engine held a Lease per target in the
    // release namespace (create), and let each go when the Incident ended
    // (get, update).
    std::string leases;
    await(
        run, "the targets' Leases are released",
        [&] {
          kube::ListOptions o;
          o.labelSelector = "app.kubernetes.io/managed-by=remedy";
          auto list = client_->list(kube::resources::leases(), releaseNamespace(), o);
          if (!list.ok()) return false;
          leases.clear();
          bool released = !(*list)["items"].empty();
          for (const auto& l : (*list)["items"]) {
            std::string holder = l.value("spec", json::object()).value("holderIdentity", "");
            leases += " " + kube::nameOf(l) + " held by \"" + holder + "\";";
            released = released && holder.empty();
          }
          return released;
        },
        std::chrono::seconds(10));
    if (report.failures.size() > before) report.failures.back() += ":" + leases;
    if (leaderElection_) {
      json lease = get(kube::resources::leases(), fullname(), releaseNamespace());
      expect(lease.value("spec", json::object()).value("holderIdentity", "") == run.op.identity,
             "the Lease " + releaseNamespace() + "/" + fullname() +
                 " is not held by the operator: " + lease.dump());
    }
    return report.failures.size() == before;
  }

  std::unique_ptr<actions::testing::RecordingServer> hooks_;
  // A pod of Deployment web, named by the alert (label pod).
  std::string webPod_;
  std::string fullname_;
  // Cluster-scoped objects the test created (deleted when it ends).
  std::vector<std::pair<kube::Resource, std::string>> clusterObjects_;
  // The admission webhooks' CA, port and serving certificate files.
  http::CertificateAuthority admissionCa_{"remedy-rbac-admission-ca"};
  int admissionPort_ = 0;
  std::string admissionCertPath_, admissionKeyPath_;
  std::string operatorToken_;
  std::string alertStartsAt_;
  // Whether the operator started last campaigns for the leader Lease.
  bool leaderElection_ = true;
};

}  // namespace remedy::testing
