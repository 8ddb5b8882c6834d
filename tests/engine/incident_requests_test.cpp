// What an Incident costs the API server (#17): the Incident controller reads
// Incidents and Runbooks from its caches, records the match with the first
// step's checkpoint in one status write made before the effect, and never
// writes an unchanged status.
#include "../support/change_tape.h"
#include "engine/incident_reconciler.h"
#include "engine/runbook_reconciler.h"
#include "engine_fixture.h"

#include <functional>
#include <map>
#include <mutex>

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

// The engine's client, counting requests as "verb resource[/subresource]".
class CountingClient : public kube::Client {
 public:
  explicit CountingClient(kube::Client& inner) : inner_(inner) {}

  kube::Result<json> get(const kube::Resource& r, const std::string& ns, const std::string& name,
                         const kube::GetOptions& o) override {
    count("get", r, o.subresource);
    return inner_.get(r, ns, name, o);
  }
  kube::Result<json> list(const kube::Resource& r, const std::string& ns,
                          const kube::ListOptions& o) override {
    count("list", r, "");
    return inner_.list(r, ns, o);
  }
  kube::Result<json> create(const kube::Resource& r, const std::string& ns, const json& object,
                            const kube::WriteOptions& o) override {
    count("create", r, o.subresource);
    return inner_.create(r, ns, object, o);
  }
  kube::Result<json> update(const kube::Resource& r, const std::string& ns, const json& object,
                            const kube::WriteOptions& o) override {
    count("update", r, o.subresource);
    std::function<void()> before;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (r.resource == "incidents" && o.subresource == "status") std::swap(before, beforeStatus_);
    }
    if (before) before();
    auto result = inner_.update(r, ns, object, o);
    if (kube::isConflict(result.status())) count("conflict update", r, o.subresource);
    return result;
  }
  kube::Result<json> patch(const kube::Resource& r, const std::string& ns, const std::string& name,
                           const std::string& body, const kube::PatchOptions& o) override {
    count("patch", r, o.subresource);
    return inner_.patch(r, ns, name, body, o);
  }
  kube::Result<json> remove(const kube::Resource& r, const std::string& ns, const std::string& name,
                            const kube::DeleteOptions& o) override {
    count("delete", r, "");
    return inner_.remove(r, ns, name, o);
  }
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const kube::Resource& r,
                                                         const std::string& ns,
                                                         const kube::ListOptions& o) override {
    return inner_.watch(r, ns, o);
  }
  kube::Result<kube::Resource> resourceFor(const std::string& apiVersion,
                                           const std::string& kind) override {
    return inner_.resourceFor(apiVersion, kind);
  }

  long count(const std::string& what) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(what);
    return it == counts_.end() ? 0 : it->second;
  }
  void reset() {
    std::lock_guard<std::mutex> lock(mu_);
    counts_.clear();
  }
  // Runs `write` once, just before the next Incident status update is sent.
  void beforeNextStatusUpdate(std::function<void()> write) {
    std::lock_guard<std::mutex> lock(mu_);
    beforeStatus_ = std::move(write);
  }

 private:
  void count(const char* verb, const kube::Resource& r, const std::string& subresource) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[std::string(verb) + " " + r.resource + (subresource.empty() ? "" : "/") +
              subresource];
  }

  kube::Client& inner_;
  mutable std::mutex mu_;  // guards counts_ and beforeStatus_
  std::map<std::string, long> counts_;
  std::function<void()> beforeStatus_;
};

class IncidentRequestsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (HasFatalFailure()) return;
    tape_ = remedy::testing::ChangeTape::onSandbox(sandbox_->store());
    counting_ = std::make_unique<CountingClient>(*client_);
    caches_ = std::make_unique<EngineCaches>(*counting_, cachesOptions());
    caches_->start();
    ASSERT_TRUE(caches_->waitForSync(std::chrono::seconds(30)));
    IncidentReconcilerOptions options;
    options.pauseNamespace = namespace_;
    options.sealer = &sealer_;
    reconciler_ = std::make_unique<IncidentReconciler>(*counting_, *caches_, *serviceAccounts_,
                                                       *registry_, clock_, nullptr, options);
  }
  void TearDown() override {
    caches_.reset();
    EngineTest::TearDown();
  }

  std::shared_ptr<remedy::testing::ChangeTape> tape_;
  std::unique_ptr<CountingClient> counting_;
  std::unique_ptr<EngineCaches> caches_;
  std::unique_ptr<IncidentReconciler> reconciler_;
};

TEST_F(IncidentRequestsTest,
       TheMatchIsRecordedWithTheCheckpointBeforeTheEffectAndNoIncidentIsRead) {
  createDeployment("web", 1);
  createRunbook("rb", R"(
triggers: [{alertName: A}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
)");
  std::string key = createIncident("i1", "A", {{"deployment", "web"}});
  // The informer shows it, as it does when its event wakes the controller.
  ASSERT_TRUE(eventually([&] { return caches_->incident(namespace_, "i1").object.has_value(); }));
  ASSERT_TRUE(eventually([&] { return caches_->runbook(namespace_, "rb").has_value(); }));
  counting_->reset();
  ASSERT_TRUE(drive(
      key, [&] { return phaseOf("i1") == "Succeeded"; }, reconciler_.get()));
  // Reconciled a few more times: nothing changed, nothing written.
  long writes = counting_->count("update incidents/status");
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(key);
  EXPECT_EQ(counting_->count("update incidents/status"), writes);
  EXPECT_EQ(counting_->count("get incidents"), 0);
  EXPECT_EQ(counting_->count("get runbooks"), 0);
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 2);

  // The first status write is the match and the checkpoint together, and
  // it was committed before the scale.
  std::vector<sandbox::StoreEvent> incidentChanges;
  for (const auto& e : tape_->events("remedy.dev/incidents", namespace_)) {
    if (e.name == "i1" && e.previous && (*e.object)["status"] != (*e.previous)["status"]) {
      incidentChanges.push_back(e);
    }
  }
  ASSERT_FALSE(incidentChanges.empty());
  EXPECT_EQ(static_cast<long>(incidentChanges.size()), writes);
  const json& first = (*incidentChanges.front().object)["status"];
  EXPECT_EQ(first["runbook"].value("name", ""), "rb") << first.dump();
  EXPECT_EQ(first["steps"][0].value("phase", ""), "Running") << first.dump();
  EXPECT_EQ(first["steps"][0].value("attempts", 0), 1) << first.dump();
  int64_t scaledAt = 0;
  for (const auto& e : tape_->events("apps/deployments", namespace_)) {
    if (e.name == "web" && e.previous &&
        (*e.object)["spec"].value("replicas", 0) != (*e.previous)["spec"].value("replicas", 0)) {
      scaledAt = e.resourceVersion;
      break;
    }
  }
  ASSERT_GT(scaledAt, 0);
  EXPECT_LT(incidentChanges.front().resourceVersion, scaledAt);
}

// Two writers: another one changes the Incident between the engine's read
// (from its cache) and its status write. The write gets 409; the engine
// reads no Incident from the API server, requeues with the queue's backoff,
// writes nothing more until its cache shows the newer version, and then
// finishes the Incident with the effect made once.
TEST_F(IncidentRequestsTest, AConflictedStatusWriteIsRetriedFromTheCacheWithoutAGet) {
  createDeployment("web", 1);
  createRunbook("rb", R"(
triggers: [{alertName: A}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
)");
  std::string key = createIncident("i1", "A", {{"deployment", "web"}});
  ASSERT_TRUE(eventually([&] { return caches_->incident(namespace_, "i1").object.has_value(); }));
  ASSERT_TRUE(eventually([&] { return caches_->runbook(namespace_, "rb").has_value(); }));
  counting_->reset();
  // The other writer: an annotation, through the test's own client.
  std::string otherVersion;
  counting_->beforeNextStatusUpdate([&] {
    json patch = {{"metadata", {{"annotations", {{"example.com/triaged-by", "oncall"}}}}}};
    auto patched = client_->patch(incidents(), namespace_, "i1", patch.dump());
    ASSERT_TRUE(patched.ok()) << patched.status().toString();
    otherVersion = kube::resourceVersionOf(*patched);
  });

  // The first status write (the match with the checkpoint before the
  // effect) conflicts: nothing acted, and the Incident waits for the cache.
  auto first = reconciler_->reconcile(key);
  EXPECT_TRUE(first.requeue);
  EXPECT_TRUE(first.error.ok()) << first.error.toString();
  EXPECT_EQ(counting_->count("conflict update incidents/status"), 1);
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 1);
  ASSERT_FALSE(otherVersion.empty());

  ASSERT_TRUE(drive(
      key, [&] { return phaseOf("i1") == "Succeeded"; }, reconciler_.get()));
  EXPECT_EQ(counting_->count("get incidents"), 0);
  EXPECT_EQ(counting_->count("conflict update incidents/status"), 1);
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 2);
  json done = incident("i1");
  EXPECT_EQ(done["metadata"]["annotations"].value("example.com/triaged-by", ""), "oncall");
  EXPECT_EQ(done["status"]["steps"][0].value("phase", ""), "Succeeded") << done["status"].dump();
  EXPECT_EQ(done["status"]["steps"][0].value("attempts", 0), 1) << done["status"].dump();
  // Every status the engine wrote was written after the other writer's
  // change, from its version or a later one.
  int64_t other = std::stoll(otherVersion);
  int engineWrites = 0;
  for (const auto& e : tape_->events("remedy.dev/incidents", namespace_)) {
    if (e.name != "i1" || !e.previous || e.resourceVersion == other ||
        (*e.object)["status"] == (*e.previous)["status"]) {
      continue;
    }
    ++engineWrites;
    EXPECT_GT(e.resourceVersion, other);
  }
  EXPECT_GT(engineWrites, 0);
}

}  // namespace
}  // namespace remedy::engine
