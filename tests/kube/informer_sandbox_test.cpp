// Informer correctness against the sandbox, including under injected
// faults: dropped watches, forced 410, 5xx and 429 bursts and latency. After
// the faults stop, the cache must equal the server's state, and the
// handlers must have seen every key's changes in order and ended on the
// server's final state.
#include "kube/informer.h"

#include "kube/controller.h"
#include "kube/named_thread.h"
#include "kube/retry.h"
#include "sandbox_fixture.h"

#include <gmock/gmock.h>

#include <map>
#include <mutex>
#include <random>

namespace remedy::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::eventually;
using testing::SandboxTest;

int64_t rvOf(const json& o) { return std::stoll(resourceVersionOf(o)); }

// What the handlers saw, per key, checked as it arrives.
class HandlerLog {
 public:
  EventHandler handler() {
    EventHandler h;
    h.onAdd = [this](const json& o, bool) { record(o, false); };
    h.onUpdate = [this](const json& old, const json& o) {
      std::lock_guard<std::mutex> lock(mu_);
      if (rvOf(old) >= rvOf(o)) violations_.push_back("update not newer: " + objectKey(o));
      recordLocked(o, false);
    };
    h.onDelete = [this](const json& o, bool) { record(o, true); };
    return h;
  }
  // key -> resourceVersion of the last state seen (deleted keys absent).
  std::map<std::string, int64_t> state() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }
  int events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void record(const json& o, bool deleted) {
    std::lock_guard<std::mutex> lock(mu_);
    recordLocked(o, deleted);
  }
  void recordLocked(const json& o, bool deleted) {
    ++events_;
    std::string key = objectKey(o);
    int64_t rv = rvOf(o);
    auto last = lastSeen_.find(key);
    // Per key, every event carries a newer version than the previous one,
    // except a relist's delete, which repeats the last known state.
    if (last != lastSeen_.end() && rv < last->second) {
      violations_.push_back(key + ": version " + std::to_string(rv) + " after " +
                            std::to_string(last->second));
    }
    lastSeen_[key] = rv;
    if (deleted) {
      state_.erase(key);
    } else {
      state_[key] = rv;
    }
  }
  mutable std::mutex mu_;  // guards below
  std::map<std::string, int64_t> lastSeen_;
  std::map<std::string, int64_t> state_;
  std::vector<std::string> violations_;
  int events_ = 0;
};

class InformerTest : public SandboxTest {
 protected:
  std::map<std::string, int64_t> serverState() {
    auto all = listAll(*client_, resources::configMaps(), namespace_);
    EXPECT_TRUE(all.ok()) << all.status().toString();
    std::map<std::string, int64_t> out;
    if (!all.ok()) return out;
    for (const auto& item : (*all)["items"]) out[objectKey(item)] = rvOf(item);
    return out;
  }
  static std::map<std::string, int64_t> cacheState(const Informer& informer) {
    std::map<std::string, int64_t> out;
    for (const auto& o : informer.list()) out[objectKey(o)] = rvOf(o);
    return out;
  }
  static InformerOptions fastOptions(const std::string& ns) {
    InformerOptions o;
    o.namespace_ = ns;
    // Short watches and backoff so a test sees many rounds in seconds.
    o.reflector.minWatchTimeout = seconds(3);
    o.reflector.backoff.initial = milliseconds(50);
    o.reflector.backoff.max = milliseconds(500);
    o.reflector.pageSize = 7;
    return o;
  }
};

TEST_F(InformerTest, ListsThenFollowsAddsUpdatesAndDeletes) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_->create(resources::configMaps(), namespace_,
                                configMap("pre-" + std::to_string(i))));
  }
  Informer informer(*client_, resources::configMaps(), fastOptions(namespace_));
  informer.addIndexer("namespace", namespaceIndex);
  HandlerLog log;
  informer.addEventHandler(log.handler());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(seconds(20)));
  EXPECT_EQ(cacheState(informer), serverState());

  ASSERT_TRUE(client_->create(resources::configMaps(), namespace_, configMap("new")));
  PatchOptions merge;
  ASSERT_TRUE(
      client_->patch(resources::configMaps(), namespace_, "pre-1", R"({"data":{"x":"y"}})", merge));
  ASSERT_TRUE(client_->remove(resources::configMaps(), namespace_, "pre-2"));
  ASSERT_TRUE(eventually([&] { return cacheState(informer) == serverState(); }));
  EXPECT_EQ(log.state(), serverState());
  EXPECT_FALSE(informer.get(namespace_, "pre-2").has_value());
  EXPECT_EQ((*informer.get(namespace_, "pre-1"))["data"]["x"], "y");
  EXPECT_EQ(informer.byIndex("namespace", namespace_).size(), serverState().size());
  EXPECT_THAT(log.violations(), ::testing::IsEmpty());

  // A handler added late first sees everything cached.
  HandlerLog late;
  informer.addEventHandler(late.handler());
  EXPECT_EQ(late.state(), serverState());
}

TEST_F(InformerTest, TransformIsWhatTheCacheAndTheHandlersHold) {
  ASSERT_TRUE(
      client_->create(resources::configMaps(), namespace_,
                      configMap("listed", {{"keep", "1"}, {"bulk", std::string(500, 'x')}})));
  InformerOptions options = fastOptions(namespace_);
  options.reflector.transform = [](json& object) {
    json data = object.value("data", json::object());
    object = {{"metadata",
               {{"name", nameOf(object)},
                {"namespace", namespaceOf(object)},
                {"resourceVersion", resourceVersionOf(object)}}},
              {"data", {{"keep", data.value("keep", "")}}}};
  };
  Informer informer(*client_, resources::configMaps(), options);
  HandlerLog log;
  std::mutex mu;
  std::vector<json> handed;  // every object the handlers got
  EventHandler keep;
  keep.onAdd = [&](const json& o, bool) {
    std::lock_guard<std::mutex> lock(mu);
    handed.push_back(o);
  };
  keep.onUpdate = [&](const json&, const json& o) {
    std::lock_guard<std::mutex> lock(mu);
    handed.push_back(o);
  };
  keep.onDelete = [&](const json& o, bool) {
    std::lock_guard<std::mutex> lock(mu);
    handed.push_back(o);
  };
  informer.addEventHandler(log.handler());
  informer.addEventHandler(keep);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(seconds(20)));

  ASSERT_TRUE(client_->create(resources::configMaps(), namespace_,
                              configMap("watched", {{"keep", "2"}, {"bulk", "y"}})));
  PatchOptions merge;
  ASSERT_TRUE(client_->patch(resources::configMaps(), namespace_, "listed",
                             R"({"data":{"keep":"3"}})", merge));
  ASSERT_TRUE(client_->remove(resources::configMaps(), namespace_, "watched"));
  ASSERT_TRUE(eventually([&] { return cacheState(informer) == serverState(); }));
  EXPECT_EQ(log.state(), serverState());
  EXPECT_THAT(log.violations(), ::testing::IsEmpty());

  json listed = *informer.get(namespace_, "listed");
  EXPECT_EQ(listed["data"], json({{"keep", "3"}}));
  EXPECT_FALSE(listed.contains("kind"));
  EXPECT_LT(informer.cache().textBytes(), 200u);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GE(handed.size(), 4u);  // listed, watched, listed again, watched deleted
  for (const json& o : handed) {
    EXPECT_EQ(o.size(), 2u) << o.dump();
    EXPECT_FALSE(o["data"].contains("bulk")) << o.dump();
  }
}

TEST_F(InformerTest, ConvergesAndKeepsOrderUnderInjectedFaults) {
  Informer informer(*client_, resources::configMaps(), fastOptions(namespace_));
  HandlerLog log;
  informer.addEventHandler(log.handler());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(seconds(20)));

  // A writer keeps creating, updating and deleting objects, except while a
  // burst of failures is injected: the sandbox fails the next requests to
  // the path, and those must reach the informer, not the writer.
  auto writerClient = newClient();
  StopSignal stopWriter;
  std::atomic<bool> paused{false};
  std::atomic<int> writes{0};
  NamedThread writer("writer", [&] {
    std::mt19937 rng(7);
    while (!stopWriter.stopRequested()) {
      if (paused) {
        stopWriter.waitFor(Clock::real(), milliseconds(5));
        continue;
      }
      std::string name = "obj-" + std::to_string(rng() % 25);
      int action = static_cast<int>(rng() % 10);
      if (action < 6) {
        PatchOptions merge;
        auto r = writerClient->patch(resources::configMaps(), namespace_, name,
                                     json{{"data", {{"n", std::to_string(writes.load())}}}}.dump(),
                                     merge);
        if (isNotFound(r.status())) {
          writerClient->create(resources::configMaps(), namespace_, configMap(name));
        }
      } else if (action < 8) {
        writerClient->create(resources::configMaps(), namespace_, configMap(name));
      } else {
        writerClient->remove(resources::configMaps(), namespace_, name);
      }
      ++writes;
    }
  });
  auto waitForWrites = [&](int more) {
    int target = writes + more;
    ASSERT_TRUE(eventually([&] { return writes >= target; }));
  };
  auto pauseWriter = [&] {
    int before = writes;
    paused = true;
    // The write in progress finishes.
    eventually([&] { return writes > before; }, milliseconds(500));
  };
  const Reflector& reflector = informer.reflector();
  auto& faults = sandbox_->faults();

  // Dropped watches while writes go on: resume from the last version.
  waitForWrites(30);
  sandbox_->closeAllWatches();
  waitForWrites(30);
  sandbox_->closeAllWatches();
  waitForWrites(30);

  // Forced 410: the informer's resume version is compacted away, so the
  // resume fails and it relists. The write lands after its watch closed
  // and before its next one is served (slowed down on purpose), so its last
  // version is surely older than the compaction.
  auto forceGone = [&](const std::string& name) {
    faults.setLatency(milliseconds(300));
    sandbox_->closeAllWatches();
    auto type = sandbox_->objects().registry().find("", "v1", "configmaps");
    auto created = sandbox_->objects().create(*type, namespace_, configMap(name), {});
    ASSERT_TRUE(created.ok());
    sandbox_->expireResourceVersions();
  };
  pauseWriter();
  int lists = reflector.lists();
  forceGone("gone-1");
  ASSERT_TRUE(eventually([&] { return reflector.lists() > lists; }));
  faults.setLatency(milliseconds(0));
  paused = false;
  waitForWrites(30);

  // A 5xx burst: four failed lists or watches, each backed off.
  pauseWriter();
  int failures = reflector.failures();
  faults.failNext(4, 500, "/configmaps");
  sandbox_->closeAllWatches();
  ASSERT_TRUE(eventually([&] { return reflector.failures() >= failures + 4; }));
  paused = false;
  waitForWrites(30);

  // 429s: more than the client's own Retry-After retries, so the informer
  // sees one and backs off.
  pauseWriter();
  failures = reflector.failures();
  faults.failNext(12, 429, "/configmaps", 0);
  sandbox_->closeAllWatches();
  ASSERT_TRUE(eventually([&] { return reflector.failures() > failures; }));
  paused = false;
  waitForWrites(30);

  // Slow responses, 503s with Retry-After, and another 410.
  pauseWriter();
  lists = reflector.lists();
  forceGone("gone-2");
  faults.failNext(3, 503, "/configmaps", 1);
  paused = false;
  ASSERT_TRUE(eventually([&] { return reflector.lists() > lists; }))
      << "lists " << reflector.lists() << " watches " << reflector.watches() << " failures "
      << reflector.failures() << " last error " << reflector.lastError().toString();
  waitForWrites(20);
  faults.clear();
  stopWriter.requestStop();
  writer.join();

  ASSERT_TRUE(eventually([&] { return cacheState(informer) == serverState(); }, seconds(60)))
      << "cache " << cacheState(informer).size() << " objects, server " << serverState().size();
  EXPECT_EQ(log.state(), serverState());
  EXPECT_THAT(log.violations(), ::testing::IsEmpty());
  EXPECT_GE(reflector.lists(), 3);
}

TEST_F(InformerTest, BookmarksMoveTheResumeVersionWithoutEvents) {
  Informer informer(*client_, resources::configMaps(), fastOptions(namespace_));
  informer.start();
  ASSERT_TRUE(informer.waitForSync(seconds(20)));
  std::string synced = informer.reflector().lastSyncResourceVersion();
  // Changes elsewhere advance the global version; bookmarks carry it here.
  json elsewhere = configMap("elsewhere");
  elsewhere["metadata"]["namespace"] = "default";
  ASSERT_TRUE(client_->create(resources::configMaps(), "default", elsewhere));
  EXPECT_TRUE(eventually([&] {
    return std::stoll(informer.reflector().lastSyncResourceVersion()) > std::stoll(synced);
  }));
}

TEST_F(InformerTest, ControllerReconcilesEveryObjectOnce) {
  Informer informer(*client_, resources::configMaps(), fastOptions(namespace_));
  std::mutex mu;
  std::map<std::string, int> reconciled;
  std::atomic<int> failuresLeft{3};
  Controller controller(
      "copier",
      [&](const std::string& key) {
        auto [ns, name] = splitObjectKey(key);
        auto cached = informer.get(key);
        if (!cached || !(*cached)["data"].contains("in")) return ReconcileResult::done();
        if (name == "flaky" && failuresLeft-- > 0) {
          return ReconcileResult::failed(Status::error(500, reason::kInternalError, "flaky"));
        }
        std::string in = (*cached)["data"]["in"];
        if ((*cached)["data"].value("out", "") == in) return ReconcileResult::done();
        Status s = retryOnConflict(defaultRetry(), [&] {
          auto current = client_->get(resources::configMaps(), ns, name);
          if (!current) return current.status();
          (*current)["data"]["out"] = (*current)["data"]["in"];
          return client_->update(resources::configMaps(), ns, *current).status();
        });
        std::lock_guard<std::mutex> lock(mu);
        ++reconciled[key];
        return s.ok() ? ReconcileResult::done() : ReconcileResult::failed(s);
      },
      ControllerOptions{3, nullptr, seconds(20)});
  controller.watch(informer);
  informer.start();
  ASSERT_TRUE(controller.start().ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client_->create(resources::configMaps(), namespace_,
                                configMap("c" + std::to_string(i), {{"in", std::to_string(i)}})));
  }
  ASSERT_TRUE(
      client_->create(resources::configMaps(), namespace_, configMap("flaky", {{"in", "f"}})));
  EXPECT_TRUE(eventually([&] {
    auto all = listAll(*client_, resources::configMaps(), namespace_);
    if (!all) return false;
    int done = 0;
    for (const auto& item : (*all)["items"]) {
      done += item["data"].contains("in") && item["data"].value("out", "") == item["data"]["in"];
    }
    return done == 11;
  }));
  EXPECT_GE(controller.failures(), 3);
  controller.stop();
  informer.stop();
}

}  // namespace
}  // namespace remedy::kube
