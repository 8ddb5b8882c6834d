// End-to-end tests of remedy-operator as a process: an API server (the
// in-process sandbox over HTTPS, or the real control plane; see
// api_server.h) with Remedy's CRDs, a kubeconfig file for it, and
// remedy-operator processes started, killed (SIGKILL) and restarted against
// it, on loopback ports. Alerts are posted to the operator's webhook over
// plain HTTP with its bearer token.
//
// On the real control plane, which every test of the run shares, each
// operator manages only the test's namespace (--watch-namespaces) and keeps
// its Lease and pause ConfigMap in a second namespace of the test
// (systemNamespace_), so tests running at once never see each other.
//
// Runbook steps act as the ServiceAccount remedy-runner of their namespace
// (the operator impersonates it): each test's namespace gets it with the
// chart's runner Role (charts/remedy/files/tenant-rules.yaml), as
// tenancy.namespaces does, so steps have on the real API server the rights
// an installation gives them.
//
// Link: remedy_sandbox remedy_kube remedy_api (and gtest); the operator
// binary is found at REMEDY_BINARY_DIR/operator/remedy-operator.
#pragma once

#include "admission/seal.h"
#include "api/yaml_json.h"
#include "api_server.h"
#include "child_process.h"
#include "kube/impersonation.h"
#include "loopback_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace remedy::testing {

using json = nlohmann::json;

inline kube::Resource runbooksResource() {
  return {"remedy.dev", "v1alpha1", "runbooks", "Runbook", true};
}
inline kube::Resource incidentsResource() {
  return {"remedy.dev", "v1alpha1", "incidents", "Incident", true};
}
inline kube::Resource approvalsResource() {
  return {"remedy.dev", "v1alpha1", "approvals", "Approval", true};
}

// A running remedy-operator and its ports.
struct OperatorProcess {
  ChildProcess process;
  std::string identity;
  int webhookPort = 0;
  int healthPort = 0;
  int metricsPort = 0;
  std::string logPath;

  bool ready() { return httpRequest(healthPort, "GET", "/readyz").status == 200; }
  std::string metrics() { return httpRequest(metricsPort, "GET", "/metrics").body; }
  std::string log() const { return process.log(); }
};

class OperatorTest : public ApiServerTest {
 protected:
  void SetUp() override {
    ApiServerTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = std::make_unique<TempDir>("remedy-operator-test");
    installCrds();
    kubeconfigPath_ = adminKubeconfigFile(dir_->path());
    tokenPath_ = dir_->path() + "/webhook-token";
    webhookToken_ = "test-token-" + std::to_string(::getpid());
    std::ofstream(tokenPath_) << webhookToken_ << "\n";
    sealKeyPath_ = dir_->path() + "/approval-seal-key";
    std::ofstream(sealKeyPath_) << kSealKey << "\n";
    systemNamespace_ = onRealApiServer() ? namespace_ + "-system" : "remedy-system";
    createNamespace(systemNamespace_);
    grantRunner(namespace_);
  }

  // The chart's runner in `ns`: ServiceAccount remedy-runner and the Role of
  // files/tenant-rules.yaml (every feature on) bound to it.
  void grantRunner(const std::string& ns) {
    auto rules = api::yamlToJson(
        readTextFile(std::string(REMEDY_SOURCE_DIR) + "/charts/remedy/files/tenant-rules.yaml"));
    ASSERT_TRUE(rules.ok()) << rules.error();
    const kube::Resource serviceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
    const kube::Resource roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
    const kube::Resource bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding",
                                  true};
    auto created = client_->create(serviceAccounts, ns,
                                   {{"apiVersion", "v1"},
                                    {"kind", "ServiceAccount"},
                                    {"metadata", {{"name", "remedy-runner"}, {"namespace", ns}}}});
    ASSERT_TRUE(created.ok()) << created.status().toString();
    created = client_->create(roles, ns,
                              {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                               {"kind", "Role"},
                               {"metadata", {{"name", "remedy-runner"}, {"namespace", ns}}},
                               {"rules", *rules}});
    ASSERT_TRUE(created.ok()) << created.status().toString();
    created = client_->create(
        bindings, ns,
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "RoleBinding"},
         {"metadata", {{"name", "remedy-runner"}, {"namespace", ns}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "remedy-runner"}}},
         {"subjects",
          {{{"kind", "ServiceAccount"}, {"name", "remedy-runner"}, {"namespace", ns}}}}});
    ASSERT_TRUE(created.ok()) << created.status().toString();
    awaitRbacEffective(kube::serviceAccountUser(ns, "remedy-runner"),
                       kube::resources::deployments(), ns);
  }

  // kube-apiserver's RBAC authorizer reads Roles and bindings from an
  // informer, so a grant takes effect a moment after it is written: waits
  // until `user` may get `resource` in `ns` (a missing object answers 404,
  // not 403). At once on the sandbox, which authorizes from its store.
  void awaitRbacEffective(const std::string& user, const kube::Resource& resource,
                          const std::string& ns) {
    if (!onRealApiServer()) return;
    auto as = client_->impersonating({user, {}});
    kube::Status last;
    bool effective = eventuallyTrue([&] {
      last = as->get(resource, ns, "remedy-rbac-probe").status();
      return !kube::isForbidden(last);
    });
    ASSERT_TRUE(effective) << user << " still may not get " << resource.resource << " in " << ns
                           << ": " << last.toString();
  }

  void TearDown() override {
    operators_.clear();  // SIGTERM each, SIGKILL after the grace period
    ApiServerTest::TearDown();
  }

  // Remedy's CRDs, from crds/ (on the real control plane, the first test of
  // the run creates them and the others find them).
  void installCrds() {
    for (const char* kind : {"runbooks", "incidents", "approvals", "runbookpolicies"}) {
      auto crd = api::yamlToJson(
          readTextFile(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml"));
      ASSERT_TRUE(crd.ok()) << crd.error();
      ensureCreated(kube::resources::customResourceDefinitions(), *crd);
    }
    ASSERT_TRUE(
        eventuallyTrue([&] { return client_->list(incidentsResource(), namespace_).ok(); }));
  }

  static std::string operatorBinary() {
    return std::string(REMEDY_BINARY_DIR) + "/operator/remedy-operator";
  }

  // Starts remedy-operator against the sandbox (as the admin unless
  // `kubeconfig` names another file) and waits until /readyz answers 200
  // (unless waitReady is false). Flags in `extra` come last, so they win.
  OperatorProcess& startOperator(std::vector<std::string> extra = {},
                                 const std::string& identity = "",
                                 const std::string& kubeconfig = "", bool waitReady = true) {
    // A port found free can still be taken by another test's server before
    // the operator binds it: then the operator exits at once, and it is
    // started again on other ports.
    for (int attempt = 1;; ++attempt) {
      OperatorProcess& op = startOperatorOnce(extra, identity, kubeconfig, waitReady);
      if (!waitReady) return op;
      bool exited = !op.process.running();
      if (exited && attempt < 3 && op.log().find("Address already in use") != std::string::npos) {
        operators_.pop_back();
        continue;
      }
      EXPECT_FALSE(exited) << "operator not ready:\n" << op.log();
      return op;
    }
  }

  OperatorProcess& startOperatorOnce(const std::vector<std::string>& extra,
                                     const std::string& identity, const std::string& kubeconfig,
                                     bool waitReady) {
    auto op = std::make_unique<OperatorProcess>();
    op->identity = identity.empty() ? "op-" + std::to_string(operators_.size()) : identity;
    op->webhookPort = freeLoopbackPort();
    op->healthPort = freeLoopbackPort();
    op->metricsPort = freeLoopbackPort();
    op->logPath =
        dir_->path() + "/" + op->identity + "-" + std::to_string(operators_.size()) + ".log";
    ProcessOptions p;
    p.argv = {operatorBinary(), "--kubeconfig", kubeconfig.empty() ? kubeconfigPath_ : kubeconfig,
              "--webhook-bind-address", "127.0.0.1", "--webhook-port",
              std::to_string(op->webhookPort), "--webhook-token-file", tokenPath_,
              "--metrics-bind-address", "127.0.0.1", "--metrics-port",
              std::to_string(op->metricsPort), "--health-port", std::to_string(op->healthPort),
              "--leader-election-namespace", systemNamespace_, "--pause-namespace",
              systemNamespace_, "--leader-election-id", op->identity, "--incident-namespace",
              namespace_, "--approval-seal-key-file", sealKeyPath_, "--log-format", "text",
              "--kube-api-qps", "200", "--kube-api-burst", "400", "--intake-qps", "200",
              "--intake-burst", "400", "--followups-qps", "200", "--followups-burst", "400",
              // The tests' webhooks, Prometheus and Alertmanager listen on
              // loopback, which the egress policy denies unless opened.
              "--egress-allow", "127.0.0.1/32"};
    if (onRealApiServer() && watchOnlyTheTestNamespace_) {
      p.argv.push_back("--watch-namespaces");
      p.argv.push_back(namespace_);
    }
    for (auto& e : extra) p.argv.push_back(e);
    p.logPath = op->logPath;
    op->process.start(p);
    OperatorProcess& ref = *op;
    operators_.push_back(std::move(op));
    if (waitReady) {
      bool ready = waitUntil([&] { return ref.ready() || !ref.process.running(); },
                             std::chrono::seconds(60));
      EXPECT_TRUE(ready || !ref.process.running()) << "operator not ready:\n" << ref.log();
    }
    return ref;
  }

  // The Alertmanager webhook payload (version 4) for `alerts`, each
  // {labels, annotations, status, startsAt, endsAt, fingerprint}.
  static json webhookPayload(const std::string& status, const json& alerts) {
    return {{"version", "4"},
            {"receiver", "remedy"},
            {"status", status},
            {"groupKey", "{}:{}"},
            {"truncatedAlerts", 0},
            {"groupLabels", json::object()},
            {"commonLabels", json::object()},
            {"commonAnnotations", json::object()},
            {"externalURL", "http://alertmanager.test"},
            {"alerts", alerts}};
  }

  static json alert(const std::string& name, json labels, const std::string& fingerprint,
                    const std::string& startsAt, const std::string& status = "firing",
                    const std::string& endsAt = "0001-01-01T00:00:00Z") {
    labels["alertname"] = name;
    return {{"status", status},
            {"labels", labels},
            {"annotations", {{"summary", name + " fired"}}},
            {"startsAt", startsAt},
            {"endsAt", endsAt},
            {"generatorURL", "http://prometheus.test/graph"},
            {"fingerprint", fingerprint}};
  }

  HttpAnswer postAlerts(OperatorProcess& op, const json& payload) {
    return httpRequest(
        op.webhookPort, "POST", "/api/v1/alerts", payload.dump(),
        {"Authorization: Bearer " + webhookToken_, "Content-Type: application/json"});
  }

  // Applies a manifest (YAML text) into the test namespace with the admin client.
  json applyYaml(const kube::Resource& resource, const std::string& yaml) {
    auto object = api::yamlToJson(yaml);
    EXPECT_TRUE(object.ok()) << object.error();
    if (!object.ok()) return json();
    auto created = client_->create(resource, namespace_, *object);
    EXPECT_TRUE(created.ok()) << created.status().toString();
    return created.ok() ? *created : json();
  }

  std::vector<json> incidents() {
    auto list = client_->list(incidentsResource(), namespace_);
    if (!list.ok()) return {};
    return (*list)["items"].get<std::vector<json>>();
  }

  json getIncident(const std::string& name) {
    auto got = client_->get(incidentsResource(), namespace_, name);
    return got.ok() ? *got : json();
  }

  // `approval` as Remedy's admission webhook would admit it from its
  // spec.approver (with `groups`): bound to the Incident's uid and sealed
  // now with the operators' key, so the engine counts it.
  json sealedApproval(json approval,
                      const std::vector<std::string>& groups = {"system:authenticated"}) {
    std::string ns = approval["metadata"].value("namespace", namespace_);
    std::string incident = approval["spec"]["incidentRef"].value("name", "");
    auto got = client_->get(incidentsResource(), ns, incident);
    EXPECT_TRUE(got.ok()) << got.status().toString();
    approval["metadata"]["namespace"] = ns;
    approval["spec"]["incidentRef"]["uid"] = got.ok() ? kube::uidOf(*got) : "";
    approval["spec"]["approverGroups"] = groups;
    admission::Sealer sealer(*admission::SealKeys::fromKeys(kSealKey));
    approval["metadata"]["annotations"][admission::kApprovalSealAnnotation] =
        sealer.sealApproval(approval, std::chrono::system_clock::now());
    return approval;
  }

  const std::string& kubeconfigPath() const { return kubeconfigPath_; }
  // Where the operators keep their Lease and pause ConfigMap.
  const std::string& systemNamespace() const { return systemNamespace_; }
  const std::string& tokenPath() const { return tokenPath_; }
  const std::string& webhookToken() const { return webhookToken_; }
  const std::string& tempDir() const { return dir_->path(); }

  std::unique_ptr<TempDir> dir_;
  std::string kubeconfigPath_;
  std::string tokenPath_;
  std::string webhookToken_;
  // The operators' --approval-seal-key-file.
  static constexpr const char* kSealKey = "operator-test-approval-seal-key-0123456789abcdef";
  std::string sealKeyPath_;
  std::string systemNamespace_;
  // On kube-apiserver, operators get --watch-namespaces <namespace_> unless
  // a test scopes them itself.
  bool watchOnlyTheTestNamespace_ = true;
  std::vector<std::unique_ptr<OperatorProcess>> operators_;
};

}  // namespace remedy::testing
