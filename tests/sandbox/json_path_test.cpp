#include "sandbox/json_path.h"

#include <gtest/gtest.h>

namespace remedy::sandbox {
namespace {

const json kPod = json::parse(R"({
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web-1",
    "labels": {"app.kubernetes.io/name": "web", "tier": "frontend"},
    "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}
  },
  "spec": {
    "replicas": 3,
    "containers": [
      {"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]},
      {"name": "sidecar", "image": "envoy:1.30"}
    ]
  },
  "status": {
    "phase": "Running",
    "ready": true,
    "restarts": 2,
    "conditions": [
      {"type": "Initialized", "status": "True"},
      {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
      {"type": "PodScheduled", "status": "True"}
    ]
  }
})");

std::vector<json> eval(const std::string& path) { return evaluateJsonPath(kPod, path); }

TEST(JsonPath, DottedFields) {
  EXPECT_EQ(eval(".status.phase"), std::vector<json>{"Running"});
  EXPECT_EQ(eval(".spec.replicas"), std::vector<json>{3});
  EXPECT_EQ(eval(".status.ready"), std::vector<json>{true});
}

TEST(JsonPath, BracesAndDollarAreOptional) {
  EXPECT_EQ(eval("{.status.phase}"), std::vector<json>{"Running"});
  EXPECT_EQ(eval("$.status.phase"), std::vector<json>{"Running"});
  EXPECT_EQ(eval("{$.status.phase}"), std::vector<json>{"Running"});
}

TEST(JsonPath, MissingFieldsSelectNothing) {
  EXPECT_TRUE(eval(".status.podIP").empty());
  EXPECT_TRUE(eval(".spec.replicas.value").empty());
  EXPECT_TRUE(eval(".nope.deeper.still").empty());
}

TEST(JsonPath, ArrayIndex) {
  EXPECT_EQ(eval(".spec.containers[0].name"), std::vector<json>{"app"});
  EXPECT_EQ(eval(".spec.containers[1].image"), std::vector<json>{"envoy:1.30"});
  EXPECT_EQ(eval(".spec.containers[-1].name"), std::vector<json>{"sidecar"});
  EXPECT_TRUE(eval(".spec.containers[5].name").empty());
}

TEST(JsonPath, UnionsAndSlices) {
  EXPECT_EQ(eval(".status.conditions[0,2].type"),
            (std::vector<json>{"Initialized", "PodScheduled"}));
  EXPECT_EQ(eval(".status.conditions[1:].type"), (std::vector<json>{"Ready", "PodScheduled"}));
  EXPECT_EQ(eval(".status.conditions[:2].type"), (std::vector<json>{"Initialized", "Ready"}));
  EXPECT_EQ(eval(".status.conditions[::2].type"),
            (std::vector<json>{"Initialized", "PodScheduled"}));
}

TEST(JsonPath, WildcardOverArrayElements) {
  EXPECT_EQ(eval(".spec.containers[*].name"), (std::vector<json>{"app", "sidecar"}));
  EXPECT_EQ(eval(".spec.containers[*].ports[*].containerPort"), std::vector<json>{80});
}

TEST(JsonPath, WildcardOverObjectValuesInKeyOrder) {
  EXPECT_EQ(eval(".metadata.labels.*"), (std::vector<json>{"web", "frontend"}));
}

TEST(JsonPath, FilterByEquality) {
  EXPECT_EQ(eval(".status.conditions[?(@.type==\"Ready\")].status"), std::vector<json>{"False"});
  EXPECT_EQ(eval(".status.conditions[?(@.type=='Ready')].reason"),
            std::vector<json>{"ContainersNotReady"});
  EXPECT_EQ(eval(".status.conditions[?(@.status != \"True\")].type"), std::vector<json>{"Ready"});
}

TEST(JsonPath, FilterByPresence) {
  EXPECT_EQ(eval(".status.conditions[?(@.reason)].type"), std::vector<json>{"Ready"});
  EXPECT_EQ(eval(".spec.containers[?(@.ports)].name"), std::vector<json>{"app"});
}

TEST(JsonPath, FilterComparesNumbers) {
  json o = {{"items", {{{"n", 1}}, {{"n", 5}}, {{"n", 10}}}}};
  EXPECT_EQ(evaluateJsonPath(o, ".items[?(@.n > 3)].n"), (std::vector<json>{5, 10}));
  EXPECT_EQ(evaluateJsonPath(o, ".items[?(@.n<=5)].n"), (std::vector<json>{1, 5}));
  EXPECT_EQ(evaluateJsonPath(o, ".items[?(@.n==10)].n"), std::vector<json>{10});
}

TEST(JsonPath, FilterAgainstBooleanLiteral) {
  json o = {{"items", {{{"ok", true}, {"n", "a"}}, {{"ok", false}, {"n", "b"}}}}};
  EXPECT_EQ(evaluateJsonPath(o, ".items[?(@.ok==true)].n"), std::vector<json>{"a"});
}

TEST(JsonPath, QuotedKeysWithDots) {
  EXPECT_EQ(eval(".metadata.labels['app.kubernetes.io/name']"), std::vector<json>{"web"});
  EXPECT_EQ(eval(".metadata.annotations[\"kubectl.kubernetes.io/restartedAt\"]"),
            std::vector<json>{"2024-01-01T00:00:00Z"});
  EXPECT_EQ(eval(".metadata.labels['tier','app.kubernetes.io/name']"),
            (std::vector<json>{"frontend", "web"}));
}

TEST(JsonPath, EscapedDotsInFieldNames) {
  EXPECT_EQ(eval(".metadata.labels.app\\.kubernetes\\.io/name"), std::vector<json>{"web"});
}

TEST(JsonPath, RecursiveDescent) {
  EXPECT_EQ(eval("..image"), (std::vector<json>{"nginx:1.25", "envoy:1.30"}));
  EXPECT_EQ(eval("..containerPort"), std::vector<json>{80});
}

TEST(JsonPath, NullValuesAreSelected) {
  json o = {{"spec", {{"x", nullptr}}}};
  EXPECT_EQ(evaluateJsonPath(o, ".spec.x"), std::vector<json>{nullptr});
}

TEST(JsonPath, ObjectResultsAreReturnedWhole) {
  auto r = eval(".spec.containers[0].ports");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], json::parse(R"([{"containerPort": 80}])"));
}

TEST(JsonPath, MalformedPathsAreErrorsAndSelectNothing) {
  for (const char* bad : {"", "{}", ".a[", ".a[x]", ".a[?(@.b==)]", ".a['b]", "a b", ".a[?(@.b)"}) {
    auto parsed = JsonPath::parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, 400);
    }
    EXPECT_TRUE(evaluateJsonPath(kPod, bad).empty()) << bad;
  }
}

TEST(JsonPath, ParsedPathIsReusable) {
  auto path = JsonPath::parse(".metadata.name");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->evaluate(kPod), std::vector<json>{"web-1"});
  EXPECT_EQ(path->evaluate({{"metadata", {{"name", "other"}}}}), std::vector<json>{"other"});
}

}  // namespace
}  // namespace remedy::sandbox
