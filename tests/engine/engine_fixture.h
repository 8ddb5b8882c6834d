// An in-process sandbox with the Remedy CRDs applied, and helpers to
// create Deployments, Runbooks, Incidents and Approvals and to drive an
// IncidentReconciler by hand with a fake clock. Each test works in its own
// namespace of its own sandbox.
#pragma once

#include "../kube/sandbox_fixture.h"
#include "actions/action_registry.h"
#include "actions/kubernetes_actions.h"
#include "admission/seal.h"
#include "api/yaml_json.h"
#include "engine/engine_caches.h"
#include "engine/incident_reconciler.h"
#include "engine/resources.h"
#include "kube/clock.h"
#include "kube/impersonation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>

namespace remedy::engine::testing {

using json = nlohmann::json;
using kube::testing::eventually;

class EngineTest : public kube::testing::SandboxTest {
 protected:
  // The sandbox a test runs against; a test of RBAC turns on authorization.
  virtual sandbox::SandboxOptions sandboxOptions() { return defaultOptions(); }

  void SetUp() override {
    startSandbox(sandboxOptions());
    if (HasFatalFailure()) return;
    for (const char* kind : {"runbooks", "incidents", "approvals", "runbookpolicies"}) {
      std::ifstream in(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml");
      std::stringstream text;
      text << in.rdbuf();
      auto crd = api::yamlToJson(text.str());
      ASSERT_TRUE(crd.ok()) << crd.error();
      auto created = client_->create(kube::resources::customResourceDefinitions(), "", *crd);
      ASSERT_TRUE(created.ok()) << created.status().toString();
    }
    ASSERT_TRUE(eventually([&] {
      return client_->list(runbooks(), namespace_).ok() &&
             client_->list(incidents(), namespace_).ok() &&
             client_->list(approvals(), namespace_).ok();
    }));
    registry_ = actions::kubernetesActionRegistry();
    // The admin impersonating each ServiceAccount: on this sandbox (no RBAC
    // enforced) the identity changes and every request is allowed.
    serviceAccounts_ = std::make_unique<kube::ImpersonatingClients>(*client_);
  }

  void TearDown() override {
    // The informers read through client_, which the sandbox's TearDown drops.
    caches_.reset();
    kube::testing::SandboxTest::TearDown();
  }

  EngineCachesOptions cachesOptions() const {
    EngineCachesOptions o;
    o.namespaces = {namespace_};
    o.pauseNamespace = namespace_;
    return o;
  }

  // The caches every reconciler of the test reads (as the workers of one
  // operator share them), started and synced on first use (from any thread).
  EngineCaches& caches() {
    std::lock_guard<std::mutex> lock(cachesMu_);
    if (!caches_) {
      caches_ = std::make_unique<EngineCaches>(*client_, cachesOptions());
      caches_->start();
      EXPECT_TRUE(caches_->waitForSync(std::chrono::seconds(30)));
    }
    return *caches_;
  }

  // Waits until `caches` show Runbook ns/name as the API server holds it now,
  // as its watch event has before the Runbook controller reconciles it.
  void awaitRunbookCached(EngineCaches& caches, const std::string& ns, const std::string& name) {
    auto live = client_->get(runbooks(), ns, name);
    ASSERT_TRUE(live.ok()) << live.status().toString();
    std::string rv = kube::resourceVersionOf(*live);
    ASSERT_TRUE(eventually([&] {
      auto cached = caches.runbook(ns, name);
      return cached && kube::resourceVersionOf(*cached) == rv;
    })) << ns
        << "/" << name << " at resourceVersion " << rv << " never reached the cache";
  }
  void awaitRunbookCached(const std::string& name) {
    awaitRunbookCached(caches(), namespace_, name);
  }

  // Reconcilers verify Approvals with the test's seal key (sealer_).
  std::unique_ptr<IncidentReconciler> newReconciler(IncidentReconcilerOptions options = {},
                                                    EngineCaches* caches = nullptr) {
    options.pauseNamespace = namespace_;
    if (!options.sealer) options.sealer = &sealer_;
    return std::make_unique<IncidentReconciler>(*client_, caches ? *caches : this->caches(),
                                                *serviceAccounts_, *registry_, clock_, nullptr,
                                                options);
  }

  json deployment(const std::string& name, int replicas,
                  std::map<std::string, std::string> labels = {}) {
    json d = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", name}, {"namespace", namespace_}}},
        {"spec",
         {{"replicas", replicas},
          {"selector", {{"matchLabels", {{"app", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", name}}}}},
            {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx"}}})}}}}}}}};
    if (!labels.empty()) d["metadata"]["labels"] = labels;
    return d;
  }

  void createDeployment(const std::string& name, int replicas,
                        std::map<std::string, std::string> labels = {}) {
    auto created = client_->create(kube::resources::deployments(), namespace_,
                                   deployment(name, replicas, labels));
    ASSERT_TRUE(created.ok()) << created.status().toString();
    ASSERT_TRUE(eventually([&] { return readyReplicas(name) == replicas; }));
  }

  int readyReplicas(const std::string& name) {
    auto d = client_->get(kube::resources::deployments(), namespace_, name);
    if (!d.ok()) return -1;
    return d->value("status", json::object()).value("readyReplicas", 0);
  }

  json getDeployment(const std::string& name) {
    auto d = client_->get(kube::resources::deployments(), namespace_, name);
    EXPECT_TRUE(d.ok()) << d.status().toString();
    return d.ok() ? *d : json::object();
  }

  std::set<std::string> podNames(const std::string& app) {
    kube::ListOptions o;
    o.labelSelector = "app=" + app;
    auto pods = client_->list(kube::resources::pods(), namespace_, o);
    std::set<std::string> names;
    if (!pods.ok()) return names;
    for (const auto& p : (*pods)["items"]) {
      if (!p["metadata"].contains("deletionTimestamp")) names.insert(kube::nameOf(p));
    }
    return names;
  }

  // A Runbook from a YAML spec (indented as under `spec:`).
  void createRunbook(const std::string& name, const std::string& specYaml) {
    auto spec = api::yamlToJson(specYaml);
    ASSERT_TRUE(spec.ok()) << spec.error();
    json rb = {{"apiVersion", "remedy.dev/v1alpha1"},
               {"kind", "Runbook"},
               {"metadata", {{"name", name}, {"namespace", namespace_}}},
               {"spec", *spec}};
    auto created = client_->create(runbooks(), namespace_, rb);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  std::string createIncident(const std::string& name, const std::string& alertName,
                             std::map<std::string, std::string> labels, bool dryRun = false,
                             const std::string& runbookRef = "") {
    json inc = {{"apiVersion", "remedy.dev/v1alpha1"},
                {"kind", "Incident"},
                {"metadata", {{"name", name}, {"namespace", namespace_}}},
                {"spec",
                 {{"source", "Manual"},
                  {"alert", {{"name", alertName}, {"status", "firing"}, {"labels", labels}}}}}};
    if (dryRun) inc["spec"]["dryRun"] = true;
    if (!runbookRef.empty()) inc["spec"]["runbookRef"] = {{"name", runbookRef}};
    auto created = client_->create(incidents(), namespace_, inc);
    EXPECT_TRUE(created.ok()) << created.status().toString();
    return namespace_ + "/" + name;
  }

  // An Approval as Remedy's admission webhook leaves it: bound to the
  // Incident's uid, with the approver's groups, sealed now with sealer_.
  void createApproval(const std::string& name, const std::string& incident, const std::string& step,
                      const std::string& decision, const std::string& approver,
                      std::vector<std::string> groups = {"system:authenticated"}) {
    json a = approvalObject(name, incident, step, decision, approver, groups);
    a["metadata"]["annotations"] = {
        {admission::kApprovalSealAnnotation, sealer_.sealApproval(a, clock_.wallNow())}};
    auto created = client_->create(approvals(), namespace_, a);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }
  // The Approval unsealed (what the webhook would have sealed), for tests
  // that seal it themselves or not at all.
  json approvalObject(const std::string& name, const std::string& incidentName,
                      const std::string& step, const std::string& decision,
                      const std::string& approver,
                      std::vector<std::string> groups = {"system:authenticated"}) {
    std::string uid = incident(incidentName)["metadata"].value("uid", "");
    return {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Approval"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec",
             {{"incidentRef", {{"name", incidentName}, {"uid", uid}}},
              {"step", step},
              {"decision", decision},
              {"approver", approver},
              {"approverGroups", groups}}}};
  }

  json incident(const std::string& name) {
    auto got = client_->get(incidents(), namespace_, name);
    EXPECT_TRUE(got.ok()) << got.status().toString();
    return got.ok() ? *got : json::object();
  }

  std::string phaseOf(const std::string& name) {
    return incident(name).value("status", json::object()).value("phase", "");
  }

  json stepOf(const std::string& incidentName, const std::string& step) {
    for (const auto& s :
         incident(incidentName).value("status", json::object()).value("steps", json::array())) {
      if (s.value("name", "") == step) return s;
    }
    return json::object();
  }

  // Reconciles `key` (with a fresh reconciler from `make` each time when
  // given, as after a restart) until `done` holds, stepping the fake clock
  // by every requeueAfter; false at the real-time deadline.
  bool drive(const std::string& key, const std::function<bool()>& done,
             IncidentReconciler* reconciler = nullptr,
             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_ptr<IncidentReconciler> own;
    if (!reconciler) {
      own = newReconciler();
      reconciler = own.get();
    }
    return eventually(
        [&] {
          if (done()) return true;
          auto result = reconciler->reconcile(key);
          if (done()) return true;
          if (result.requeueAfter > kube::Duration(0)) clock_.step(result.requeueAfter);
          return false;
        },
        timeout);
  }

  bool driveToPhase(const std::string& name, const std::string& phase,
                    IncidentReconciler* reconciler = nullptr) {
    return drive(
        namespace_ + "/" + name, [&] { return phaseOf(name) == phase; }, reconciler);
  }

  void setPaused(bool paused) {
    json cm = configMap("remedy-pause", {{"paused", paused ? "true" : "false"}});
    auto existing = client_->get(kube::resources::configMaps(), namespace_, "remedy-pause");
    if (existing.ok()) {
      cm["metadata"]["resourceVersion"] = kube::resourceVersionOf(*existing);
      ASSERT_TRUE(client_->update(kube::resources::configMaps(), namespace_, cm).ok());
    } else {
      ASSERT_TRUE(client_->create(kube::resources::configMaps(), namespace_, cm).ok());
    }
    // The engine reads the switch from its cache: wait until it shows it.
    ASSERT_TRUE(eventually([&] { return caches().paused() == std::optional<bool>(paused); }));
  }

  kube::FakeClock clock_;
  admission::Sealer sealer_{*admission::SealKeys::fromKeys(std::string(48, 'e'))};
  std::unique_ptr<actions::ActionRegistry> registry_;
  std::unique_ptr<kube::ImpersonatingClients> serviceAccounts_;
  std::mutex cachesMu_;  // guards caches_ (created on first use)
  std::unique_ptr<EngineCaches> caches_;
};

}  // namespace remedy::engine::testing
