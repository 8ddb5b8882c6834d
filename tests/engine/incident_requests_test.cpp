// What an Incident costs the API server (#17): the Incident controller reads
// Incidents and Runbooks from its caches, records the match with the first
// step's checkpoint in one status write made before the effect, never
// writes an unchanged status, reads the target once for the guardrails (and
// the Event on it), reads nothing for a step bound to wait, and lets its
// Lease go with one write.
#include "../support/change_tape.h"
#include "engine/incident_reconciler.h"
#include "engine/runbook_reconciler.h"
#include "engine_fixture.h"
#include "kube/event_recorder.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;
using kube::testing::eventually;

// The engine's client, counting requests as "verb resource[/subresource]";
// into `sink` when given (a ServiceAccount's client counted with the
// engine's).
class CountingClient : public kube::Client {
 public:
  explicit CountingClient(kube::Client& inner, CountingClient* sink = nullptr)
      : inner_(inner), sink_(sink) {}

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
  std::map<std::string, long> counts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }
  // Runs `write` once, just before the next Incident status update is sent.
  void beforeNextStatusUpdate(std::function<void()> write) {
    std::lock_guard<std::mutex> lock(mu_);
    beforeStatus_ = std::move(write);
  }

 private:
  void count(const char* verb, const kube::Resource& r, const std::string& subresource) {
    if (sink_) {
      sink_->count(verb, r, subresource);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[std::string(verb) + " " + r.resource + (subresource.empty() ? "" : "/") +
              subresource];
  }

  kube::Client& inner_;
  CountingClient* sink_;
  mutable std::mutex mu_;  // guards counts_ and beforeStatus_
  std::map<std::string, long> counts_;
  std::function<void()> beforeStatus_;
};

// The ServiceAccounts' clients, their requests counted with the engine's.
class CountingServiceAccounts : public kube::ServiceAccountClients {
 public:
  CountingServiceAccounts(kube::ServiceAccountClients& inner, CountingClient& sink)
      : inner_(inner), sink_(sink) {}
  kube::Client& serviceAccount(const std::string& ns, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& client = clients_[{ns, name}];
    if (!client) client = std::make_unique<CountingClient>(inner_.serviceAccount(ns, name), &sink_);
    return *client;
  }

 private:
  kube::ServiceAccountClients& inner_;
  CountingClient& sink_;
  std::mutex mu_;  // guards clients_
  std::map<std::pair<std::string, std::string>, std::unique_ptr<CountingClient>> clients_;
};

std::string describe(const std::map<std::string, long>& counts) {
  std::string out;
  for (const auto& [what, n] : counts) out += what + " " + std::to_string(n) + "; ";
  return out;
}

class IncidentRequestsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (HasFatalFailure()) return;
    tape_ = remedy::testing::ChangeTape::onSandbox(sandbox_->store());
    counting_ = std::make_unique<CountingClient>(*client_);
    tenants_ = std::make_unique<CountingServiceAccounts>(*serviceAccounts_, *counting_);
    // Events have their own client (and budget): not counted.
    kube::EventRecorderOptions eventOptions;
    eventOptions.component = "remedy-operator";
    events_ = std::make_unique<kube::EventRecorder>(*client_, eventOptions);
    events_->start();
    caches_ = std::make_unique<EngineCaches>(*counting_, cachesOptions());
    caches_->start();
    ASSERT_TRUE(caches_->waitForSync(std::chrono::seconds(30)));
    IncidentReconcilerOptions options;
    options.pauseNamespace = namespace_;
    options.sealer = &sealer_;
    // The Engine reads Approvals from its informer, no request per
    // reconcile; none exist here.
    options.approvalsIn = [](const std::string&) { return std::vector<json>{}; };
    reconciler_ = std::make_unique<IncidentReconciler>(*counting_, *caches_, *tenants_, *registry_,
                                                       clock_, events_.get(), options);
  }
  void TearDown() override {
    reconciler_.reset();
    caches_.reset();
    events_.reset();
    EngineTest::TearDown();
  }

  std::shared_ptr<remedy::testing::ChangeTape> tape_;
  std::unique_ptr<CountingClient> counting_;
  std::unique_ptr<CountingServiceAccounts> tenants_;
  std::unique_ptr<kube::EventRecorder> events_;
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
  // Every request of the Incident, as the engine and as its ServiceAccount
  // (Events aside): the scale's baseline, the fresh read of the target for
  // the protected label (whose uid the Event on it reuses), the Lease, the
  // reservation on the Runbook's history, the checkpoint (with the match),
  // the scale's write, the record, the Runbook's lastResult and
  // the Lease let go with one write. The scale's write is not read first:
  // it sets the replicas computed from the baseline.
  const std::map<std::string, long> expected = {{"get deployments/scale", 1},
                                                {"get deployments", 1},
                                                {"create leases", 1},
                                                {"update runbooks/status", 2},
                                                {"update incidents/status", 2},
                                                {"update deployments/scale", 1},
                                                {"update leases", 1}};
  EXPECT_EQ(counting_->counts(), expected) << describe(counting_->counts());
  long writes = counting_->count("update incidents/status");
  // Reconciled a few more times: nothing changed, nothing requested.
  for (int i = 0; i < 3; ++i) reconciler_->reconcile(key);
  EXPECT_EQ(counting_->counts(), expected) << describe(counting_->counts());
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 2);
  // The Event on the Deployment names it by uid, from the guardrails' read.
  std::string uid = kube::uidOf(getDeployment("web"));
  EXPECT_TRUE(eventually([&] {
    auto events = client_->list(kube::resources::events(), namespace_);
    if (!events.ok()) return false;
    for (const auto& e : (*events)["items"]) {
      const json& involved = e.value("involvedObject", json::object());
      if (e.value("reason", "") == "RemedyScale" && involved.value("name", "") == "web") {
        return involved.value("uid", "") == uid;
      }
    }
    return false;
  }));

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

// A step bound to wait (here for an Incident created before it on the same
// target, not matched yet) records the match and the wait, and reads
// nothing: not its target, not the scale.
TEST_F(IncidentRequestsTest, AStepBoundToWaitReadsNothing) {
  createDeployment("web", 1);
  createRunbook("rb", R"(
triggers: [{alertName: A}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
)");
  // Created in this order, so a-first comes first whatever the clock says.
  createIncident("a-first", "A", {{"deployment", "web"}});
  std::string key = createIncident("b-second", "A", {{"deployment", "web"}});
  ASSERT_TRUE(eventually([&] {
    return caches_->incident(namespace_, "a-first").object.has_value() &&
           caches_->incident(namespace_, "b-second").object.has_value();
  }));
  ASSERT_TRUE(eventually([&] { return caches_->runbook(namespace_, "rb").has_value(); }));
  counting_->reset();
  auto waited = reconciler_->reconcile(key);
  EXPECT_EQ(waited.requeueAfter, GuardrailCheck::kWaitInterval);
  const std::map<std::string, long> expected = {{"update incidents/status", 1}};
  EXPECT_EQ(counting_->counts(), expected) << describe(counting_->counts());
  json status = incident("b-second")["status"];
  EXPECT_EQ(status["runbook"].value("name", ""), "rb") << status.dump();
  bool waiting = false;
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "Waiting" && c.value("reason", "") == "oneRemediationPerTarget") {
      waiting = true;
    }
  }
  EXPECT_TRUE(waiting) << status.dump();
  EXPECT_EQ(getDeployment("web")["spec"].value("replicas", 0), 1);
}

// In a burst, an Incident not matched yet holds back only the later ones
// that share a target it will have (predicted from the cached Runbook): one
// on another target acts at once, with no wait written.
TEST_F(IncidentRequestsTest, AnEarlierIncidentNotMatchedYetOnAnotherTargetHoldsNothingBack) {
  createDeployment("web", 1);
  createDeployment("api", 1);
  createRunbook("rb", R"(
triggers: [{alertName: A}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
)");
  ASSERT_TRUE(eventually([&] { return caches_->runbook(namespace_, "rb").has_value(); }));
  createIncident("a-first", "A", {{"deployment", "web"}});
  std::string key = createIncident("b-second", "A", {{"deployment", "api"}});
  // The caches have seen both, and predicted a-first's target.
  ASSERT_TRUE(eventually([&] {
    auto view = caches_->incidentView(namespace_, "a-first");
    return view && view->predictedTargets &&
           caches_->incident(namespace_, "b-second").object.has_value();
  }));
  EXPECT_EQ(*caches_->incidentView(namespace_, "a-first")->predictedTargets,
            (std::set<std::string>{"Deployment/" + namespace_ + "/web"}));
  counting_->reset();
  ASSERT_TRUE(drive(
      key, [&] { return phaseOf("b-second") == "Succeeded"; }, reconciler_.get()));
  EXPECT_EQ(getDeployment("api")["spec"].value("replicas", 0), 2);
  EXPECT_EQ(counting_->count("update incidents/status"), 2) << describe(counting_->counts());
  for (const auto& e : tape_->events("remedy.dev/incidents", namespace_)) {
    if (e.name != "b-second") continue;
    for (const auto& c : (*e.object).value("status", json::object()).value("conditions", json())) {
      EXPECT_NE(c.value("type", ""), "Waiting") << c.dump();
    }
  }
  // a-first has not been reconciled: still not matched.
  EXPECT_FALSE(incident("a-first").value("status", json::object()).contains("runbook"));
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
