// The informer's store: keys, indexers and memory close to the JSON size.
#include "kube/object_cache.h"

#include <gtest/gtest.h>

namespace remedy::kube {
namespace {

json pod(const std::string& ns, const std::string& name, const std::string& node,
         const std::string& rv = "1") {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}},
          {"spec", {{"nodeName", node}}}};
}

TEST(ObjectCache, KeysByNamespaceAndName) {
  ObjectCache cache;
  EXPECT_EQ(cache.upsert(pod("a", "p1", "n1")), nullptr);
  cache.upsert(json{{"metadata", {{"name", "cluster-wide"}}}});
  EXPECT_TRUE(cache.get("a/p1").has_value());
  EXPECT_TRUE(cache.get("cluster-wide").has_value());
  auto previous = cache.upsert(pod("a", "p1", "n2", "2"));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(previous->resourceVersion, "1");
  EXPECT_EQ((*cache.get("a/p1"))["spec"]["nodeName"], "n2");
  EXPECT_NE(cache.erase("a/p1"), nullptr);
  EXPECT_FALSE(cache.get("a/p1").has_value());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ObjectCache, IndexersFollowUpdatesAndDeletes) {
  ObjectCache cache;
  cache.upsert(pod("a", "p1", "n1"));
  cache.addIndexer("namespace", namespaceIndex);
  cache.addIndexer("node", [](const json& o) {
    return std::vector<std::string>{o["spec"].value("nodeName", "")};
  });
  cache.upsert(pod("b", "p2", "n1"));
  EXPECT_EQ(cache.byIndex("node", "n1").size(), 2u);
  EXPECT_EQ(cache.byIndex("namespace", "a").size(), 1u);
  cache.upsert(pod("a", "p1", "n2", "2"));
  EXPECT_EQ(cache.byIndex("node", "n1").size(), 1u);
  EXPECT_EQ(cache.byIndex("node", "n2").size(), 1u);
  cache.erase("b/p2");
  EXPECT_TRUE(cache.byIndex("node", "n1").empty());
}

TEST(ObjectCache, HoldsObjectsAsCompactJsonText) {
  ObjectCache cache;
  json big = pod("a", "p", "n");
  big["data"] = std::string(1000, 'x');
  cache.upsert(big);
  EXPECT_EQ(cache.textBytes(), big.dump().size());
  cache.erase("a/p");
  EXPECT_EQ(cache.textBytes(), 0u);
}

TEST(ObjectCache, ForEachVisitsEachObjectAsItWasWhenTheWalkBegan) {
  ObjectCache cache;
  cache.upsert(pod("a", "p1", "n1"));
  cache.upsert(pod("a", "p2", "n1"));
  std::vector<std::string> seen;
  cache.forEach([&](const json& object) {
    seen.push_back(object["metadata"].value("name", "") + "@" +
                   object["spec"].value("nodeName", ""));
    // The visitor runs without the lock: it may change the cache, and the
    // walk goes on over what the cache held when it began.
    cache.upsert(pod("a", "p2", "n2", "2"));
    cache.upsert(pod("a", "p3", "n1"));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"p1@n1", "p2@n1"}));
  EXPECT_EQ(cache.size(), 3u);
}

}  // namespace
}  // namespace remedy::kube
