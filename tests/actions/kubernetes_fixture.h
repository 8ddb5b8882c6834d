// A sandbox with what the Kubernetes action tests share: Deployments that
// the workload simulator runs, ConfigMaps, and an ActionContext for a step.
#pragma once

#include "actions/action.h"

#include "../kube/sandbox_fixture.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace remedy::actions::testing {

using kube::testing::eventually;

// The sandbox client with a hook that runs once before the first write
// matching `when`: a human's change landing between an action's read and
// its write.
class InterferingClient : public kube::Client {
 public:
  using Hook = std::function<void()>;
  // `when(verb, options)`: verb is "patch" or "update"; options the
  // patch's type and dryRun (for update: Merge and the write's dryRun).
  InterferingClient(kube::Client& real,
                    std::function<bool(const std::string&, const kube::PatchOptions&)> when,
                    Hook hook)
      : real_(real), when_(std::move(when)), hook_(std::move(hook)) {}

  int interferences() const { return interferences_; }

  kube::Result<json> get(const kube::Resource& r, const std::string& ns, const std::string& name,
                         const kube::GetOptions& o) override {
    return real_.get(r, ns, name, o);
  }
  kube::Result<json> list(const kube::Resource& r, const std::string& ns,
                          const kube::ListOptions& o) override {
    return real_.list(r, ns, o);
  }
  kube::Result<json> create(const kube::Resource& r, const std::string& ns, const json& object,
                            const kube::WriteOptions& o) override {
    return real_.create(r, ns, object, o);
  }
  kube::Result<json> update(const kube::Resource& r, const std::string& ns, const json& object,
                            const kube::WriteOptions& o) override {
    kube::PatchOptions as;
    as.dryRun = o.dryRun;
    as.subresource = o.subresource;
    maybeInterfere("update", as);
    return real_.update(r, ns, object, o);
  }
  kube::Result<json> patch(const kube::Resource& r, const std::string& ns, const std::string& name,
                           const std::string& body, const kube::PatchOptions& o) override {
    maybeInterfere("patch", o);
    return real_.patch(r, ns, name, body, o);
  }
  kube::Result<json> remove(const kube::Resource& r, const std::string& ns, const std::string& name,
                            const kube::DeleteOptions& o) override {
    return real_.remove(r, ns, name, o);
  }
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const kube::Resource& r,
                                                         const std::string& ns,
                                                         const kube::ListOptions& o) override {
    return real_.watch(r, ns, o);
  }
  kube::Result<kube::Resource> resourceFor(const std::string& apiVersion,
                                           const std::string& kind) override {
    return real_.resourceFor(apiVersion, kind);
  }
  kube::Result<std::string> getText(const kube::Resource& r, const std::string& ns,
                                    const std::string& name,
                                    const kube::TextGetOptions& o) override {
    return real_.getText(r, ns, name, o);
  }

 private:
  void maybeInterfere(const std::string& verb, const kube::PatchOptions& o) {
    if (interferences_ > 0 || !when_(verb, o)) return;
    ++interferences_;
    hook_();
  }

  kube::Client& real_;
  std::function<bool(const std::string&, const kube::PatchOptions&)> when_;
  Hook hook_;
  int interferences_ = 0;
};

class KubernetesActionTest : public kube::testing::SandboxTest {
 protected:
  // A Deployment whose one container "app" has `env` (name -> value, in
  // this order), running `replicas` ready pods.
  void createDeployment(const std::string& name, int replicas,
                        const std::vector<std::pair<std::string, std::string>>& env = {}) {
    json container = {{"name", "app"}, {"image", "x"}};
    if (!env.empty()) {
      container["env"] = json::array();
      for (const auto& [k, v] : env) container["env"].push_back({{"name", k}, {"value", v}});
    }
    json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", namespace_}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({container})}}}}}}}};
    auto created = client_->create(kube::resources::deployments(), namespace_, d);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    ASSERT_TRUE(eventually([&] {
      auto got = client_->get(kube::resources::deployments(), namespace_, name);
      return got.ok() && got->value("status", json::object()).value("readyReplicas", 0) == replicas;
    }));
  }

  ActionContext context(const std::string& key = "uid/step/1") {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = key;
    c.stepKey = "uid/step";
    c.firstStartedAt = "2024-01-01T00:00:00Z";
    c.defaultNamespace = namespace_;
    c.owner = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "owner"}, {"uid", "00000000-0000-0000-0000-000000000001"}}}};
    return c;
  }

  json deployment(const std::string& name) {
    auto got = client_->get(kube::resources::deployments(), namespace_, name);
    EXPECT_TRUE(got.ok()) << got.status().toString();
    return got.ok() ? *got : json::object();
  }

  json configMapNamed(const std::string& name) {
    auto got = client_->get(kube::resources::configMaps(), namespace_, name);
    EXPECT_TRUE(got.ok()) << got.status().toString();
    return got.ok() ? *got : json::object();
  }

  // The value of env var `var` of the Deployment's first container, or
  // "<absent>".
  std::string envValue(const std::string& name, const std::string& var) {
    json d = deployment(name);
    for (const auto& e :
         d["spec"]["template"]["spec"]["containers"][0].value("env", json::array())) {
      if (e.value("name", "") == var) return e.value("value", "");
    }
    return "<absent>";
  }

  // The pod-template-hash labels of the Deployment's live pods.
  std::set<std::string> podTemplateHashes(const std::string& app) {
    kube::ListOptions o;
    o.labelSelector = "app=" + app;
    auto pods = client_->list(kube::resources::pods(), namespace_, o);
    std::set<std::string> hashes;
    if (!pods.ok()) return hashes;
    for (const auto& p : (*pods)["items"]) {
      if (p["metadata"].contains("deletionTimestamp")) continue;
      hashes.insert(p["metadata"].value("labels", json::object()).value("pod-template-hash", ""));
    }
    return hashes;
  }
};

}  // namespace remedy::actions::testing
