// Every example Runbook becomes Ready; every invalid one is refused by the
// API server's schema with its field path, or marked Ready=False with the
// exact message `remedyctl validate` prints for it (#4).
#include "api/yaml_json.h"
#include "engine/runbook_reconciler.h"
#include "engine_fixture.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace remedy::engine {
namespace {

using testing::EngineTest;
using json = nlohmann::json;

std::vector<std::string> yamlFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".yaml")
        out.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json readyCondition(const json& runbook) {
  for (const auto& c : runbook.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c;
  }
  return json::object();
}

class RunbookExamplesTest : public EngineTest {
 protected:
  // Creates the Runbook of `file` in the test namespace; the API server's
  // answer is returned.
  // The examples live in namespace "shop", and some messages name it.
  void SetUp() override {
    EngineTest::SetUp();
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}};
    ASSERT_TRUE(client_->create(kube::resources::namespaces(), "", ns).ok());
  }

  kube::Result<json> apply(const std::string& file) {
    auto doc = api::yamlToJson(readFile(file));
    EXPECT_TRUE(doc.ok()) << file;
    json runbook = doc.ok() ? *doc : json::object();
    return client_->create(runbooks(), "shop", runbook);
  }

  // The Runbook controller's cache of namespace "shop", synced.
  EngineCaches& shopCaches() {
    if (!shopCaches_) {
      EngineCachesOptions options = cachesOptions();
      options.namespaces = {"shop"};
      shopCaches_ = std::make_unique<EngineCaches>(*client_, options);
      shopCaches_->start();
      EXPECT_TRUE(shopCaches_->waitForSync(std::chrono::seconds(30)));
    }
    return *shopCaches_;
  }
  // Reconciles shop/`name` once the cache shows it, as its watch event would.
  void reconcileOnceCached(RunbookReconciler& reconciler, const std::string& name) {
    awaitRunbookCached(shopCaches(), "shop", name);
    reconciler.reconcile("shop/" + name);
  }

  void TearDown() override {
    shopCaches_.reset();  // its informers read through client_
    EngineTest::TearDown();
  }

  std::unique_ptr<EngineCaches> shopCaches_;
};

TEST_F(RunbookExamplesTest, EveryExampleRunbookBecomesReady) {
  auto files = yamlFiles(std::string(REMEDY_SOURCE_DIR) + "/runbooks/examples");
  ASSERT_GE(files.size(), 8u);
  RunbookReconciler reconciler(*client_, shopCaches(), clock_);
  for (const auto& file : files) {
    auto created = apply(file);
    ASSERT_TRUE(created.ok()) << file << ": " << created.status().toString();
    std::string name = (*created)["metadata"]["name"];
    reconcileOnceCached(reconciler, name);
    auto rb = client_->get(runbooks(), "shop", name);
    ASSERT_TRUE(rb.ok());
    json ready = readyCondition(*rb);
    EXPECT_EQ(ready.value("status", ""), "True") << file << ": " << ready.dump();
  }
}

TEST_F(RunbookExamplesTest, EveryInvalidRunbookIsRefusedOrMarkedWithItsMessage) {
  auto files = yamlFiles(std::string(REMEDY_SOURCE_DIR) + "/runbooks/invalid");
  ASSERT_GE(files.size(), 20u);
  RunbookReconciler reconciler(*client_, shopCaches(), clock_);
  int refused = 0, marked = 0;
  for (const auto& file : files) {
    std::string first = readFile(file).substr(0, readFile(file).find('\n'));
    // "# expect: line N: path: message"
    auto colon = first.find(": ", first.find("line "));
    ASSERT_NE(colon, std::string::npos) << file;
    std::string expected = first.substr(colon + 2);
    std::string path = expected.substr(0, expected.find(':'));
    // A duplicate YAML key never reaches a server: kubectl refuses the file.
    if (expected.find("is already defined at line") != std::string::npos) continue;
    auto created = apply(file);
    if (!created.ok()) {
      // The schema caught it: 422 naming the field (or the apiVersion).
      const kube::Status& s = created.status();
      std::string top = path.substr(0, path.find('['));
      EXPECT_TRUE(s.message().find(top) != std::string::npos ||
                  (top == "apiVersion" && s.message().find("API version") != std::string::npos))
          << file << ": " << s.toString();
      ++refused;
      continue;
    }
    std::string name = (*created)["metadata"]["name"];
    reconcileOnceCached(reconciler, name);
    auto rb = client_->get(runbooks(), "shop", name);
    ASSERT_TRUE(rb.ok());
    json ready = readyCondition(*rb);
    EXPECT_EQ(ready.value("status", ""), "False") << file;
    EXPECT_EQ(ready.value("reason", ""), "InvalidSpec") << file;
    EXPECT_NE(ready.value("message", "").find(expected), std::string::npos)
        << file << "\n  expected: " << expected << "\n  got: " << ready.value("message", "");
    ++marked;
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(marked, 0);
}

}  // namespace
}  // namespace remedy::engine
