#include "sandbox/patch.h"

#include <gtest/gtest.h>

#include <functional>

namespace remedy::sandbox {
namespace {

json j(const char* text) { return json::parse(text); }

// True when no key anywhere in `v` is a strategic merge patch directive.
bool directiveFree(const json& v) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      if (!k.empty() && k[0] == '$') return false;
      if (!directiveFree(child)) return false;
    }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!directiveFree(e)) return false;
    }
  }
  return true;
}

json smp(const json& target, const json& patch, const std::string& kind) {
  auto r = applyStrategicMergePatch(target, patch, kind);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  EXPECT_TRUE(directiveFree(*r)) << r->dump();
  return *r;
}

std::vector<std::string> names(const json& list, const std::string& key = "name") {
  std::vector<std::string> out;
  for (const auto& e : list)
    out.push_back(e[key].is_string() ? e[key].get<std::string>() : e[key].dump());
  return out;
}

// ---------------------------------------------------------------- merge patch

TEST(MergePatch, ReplacesScalarsAndMergesObjects) {
  auto r = applyMergePatch(j(R"({"a":1,"m":{"x":1,"y":2}})"), j(R"({"a":2,"m":{"y":3,"z":4}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, j(R"({"a":2,"m":{"x":1,"y":3,"z":4}})"));
}

TEST(MergePatch, NullRemovesAMember) {
  auto r = applyMergePatch(j(R"({"a":1,"m":{"x":1,"y":2}})"), j(R"({"a":null,"m":{"x":null}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, j(R"({"m":{"y":2}})"));
}

TEST(MergePatch, ArraysAreReplacedWhole) {
  auto r = applyMergePatch(j(R"({"l":[1,2,3]})"), j(R"({"l":[4]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, j(R"({"l":[4]})"));
}

TEST(MergePatch, NullsInsideNewValuesAreDropped) {
  auto r = applyMergePatch(j(R"({})"), j(R"({"m":{"x":1,"y":null},"l":[{"k":null,"v":1}]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, j(R"({"m":{"x":1},"l":[{"v":1}]})"));
}

TEST(MergePatch, ObjectReplacesScalar) {
  auto r = applyMergePatch(j(R"({"a":"text"})"), j(R"({"a":{"b":1,"c":null}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, j(R"({"a":{"b":1}})"));
}

TEST(MergePatch, NullOrScalarPatchIsABadRequest) {
  for (const json& patch : {json(nullptr), json(5), json("x")}) {
    auto r = applyMergePatch(j(R"({"a":1})"), patch);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, 400);
    EXPECT_EQ(r.error().reason, "BadRequest");
    EXPECT_EQ(r.error().message, "Invalid JSON Patch");
  }
}

TEST(MergePatch, ArrayPatchIsInvalidBecauseTheResultIsNoObject) {
  auto r = applyMergePatch(j(R"({"a":1})"), j("[1]"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 422);
  EXPECT_EQ(r.error().reason, "Invalid");
}

// ----------------------------------------------------------------- JSON patch

const json kDoc = j(R"({"metadata":{"name":"a","annotations":{"x/y":"1","t~n":"2"}},
                         "spec":{"replicas":1,"items":["a","b"]}})");

json jsonPatch(const json& doc, const char* ops) {
  auto r = applyJsonPatch(doc, j(ops));
  EXPECT_TRUE(r.ok()) << ops << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : json();
}

void expectNotApplied(const json& doc, const char* ops) {
  auto r = applyJsonPatch(doc, j(ops));
  ASSERT_FALSE(r.ok()) << ops;
  EXPECT_EQ(r.error().code, 422) << ops;
  EXPECT_EQ(r.error().reason, "Invalid");
  EXPECT_EQ(r.error().message, "the server rejected our request due to an error in our request");
  EXPECT_EQ(r.error().details, json::object());
}

TEST(JsonPatch, AddReplaceRemove) {
  json r = jsonPatch(kDoc, R"([{"op":"replace","path":"/spec/replicas","value":3},
                                {"op":"add","path":"/spec/paused","value":true},
                                {"op":"remove","path":"/metadata/name"}])");
  EXPECT_EQ(r["spec"]["replicas"], 3);
  EXPECT_EQ(r["spec"]["paused"], true);
  EXPECT_FALSE(r["metadata"].contains("name"));
}

TEST(JsonPatch, AddAppendsWithDashAndInsertsAtAnIndex) {
  json r = jsonPatch(kDoc, R"([{"op":"add","path":"/spec/items/-","value":"z"},
                                {"op":"add","path":"/spec/items/0","value":"first"}])");
  EXPECT_EQ(r["spec"]["items"], j(R"(["first","a","b","z"])"));
}

TEST(JsonPatch, RemoveAndReplaceArrayElements) {
  json r = jsonPatch(kDoc, R"([{"op":"remove","path":"/spec/items/0"},
                                {"op":"replace","path":"/spec/items/0","value":"B"}])");
  EXPECT_EQ(r["spec"]["items"], j(R"(["B"])"));
}

TEST(JsonPatch, MoveAndCopy) {
  json r = jsonPatch(kDoc, R"([{"op":"copy","from":"/spec/replicas","path":"/spec/min"},
                                {"op":"move","from":"/metadata/name","path":"/spec/name"}])");
  EXPECT_EQ(r["spec"]["min"], 1);
  EXPECT_EQ(r["spec"]["name"], "a");
  EXPECT_FALSE(r["metadata"].contains("name"));
}

TEST(JsonPatch, EscapedPointerTokens) {
  json r = jsonPatch(kDoc, R"([{"op":"replace","path":"/metadata/annotations/x~1y","value":"9"},
                                {"op":"remove","path":"/metadata/annotations/t~0n"}])");
  EXPECT_EQ(r["metadata"]["annotations"], j(R"({"x/y":"9"})"));
}

TEST(JsonPatch, PassingTestLetsTheRestApply) {
  json r = jsonPatch(kDoc, R"([{"op":"test","path":"/spec/replicas","value":1},
                                {"op":"replace","path":"/spec/replicas","value":2}])");
  EXPECT_EQ(r["spec"]["replicas"], 2);
}

TEST(JsonPatch, FailedTestIsInvalidWithTheGenericMessage) {
  expectNotApplied(kDoc, R"([{"op":"test","path":"/spec/replicas","value":5},
                             {"op":"replace","path":"/spec/replicas","value":2}])");
}

TEST(JsonPatch, TestOfAnAbsentMemberAgainstNullPasses) {
  json r = jsonPatch(kDoc, R"([{"op":"test","path":"/spec/missing","value":null}])");
  EXPECT_EQ(r, kDoc);
}

TEST(JsonPatch, OperationsOnMissingPathsAreInvalid) {
  expectNotApplied(kDoc, R"([{"op":"remove","path":"/spec/missing"}])");
  expectNotApplied(kDoc, R"([{"op":"add","path":"/nope/deeper","value":1}])");
  expectNotApplied(kDoc, R"([{"op":"replace","path":"/spec/items/7","value":1}])");
  expectNotApplied(kDoc, R"([{"op":"move","from":"/spec/items/9","path":"/spec/x"}])");
  expectNotApplied(kDoc, R"([{"op":"add","path":"","value":1}])");
}

TEST(JsonPatch, ReplaceOfAMissingObjectMemberAddsIt) {
  json r = jsonPatch(kDoc, R"([{"op":"replace","path":"/spec/paused","value":true}])");
  EXPECT_EQ(r["spec"]["paused"], true);
}

TEST(JsonPatch, UnknownOperationIsInvalid) {
  expectNotApplied(kDoc, R"([{"op":"increment","path":"/spec/replicas"}])");
  expectNotApplied(kDoc, R"([{"path":"/spec/replicas"}])");
  expectNotApplied(kDoc, R"([null])");
}

TEST(JsonPatch, PatchThatIsNotAListIsABadRequest) {
  auto r = applyJsonPatch(kDoc, j(R"({"op":"add"})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_EQ(r.error().message,
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
}

TEST(JsonPatch, OperationThatIsNotAnObjectIsABadRequest) {
  auto r = applyJsonPatch(kDoc, j(R"(["add"])"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_EQ(r.error().message,
            "json: cannot unmarshal string into Go value of type jsonpatch.Operation");
}

TEST(JsonPatch, MoreThanTenThousandOperationsIsTooLarge) {
  json ops = json::array();
  for (int i = 0; i < 10001; ++i)
    ops.push_back({{"op", "test"}, {"path", "/spec/replicas"}, {"value", 1}});
  auto r = applyJsonPatch(kDoc, ops);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 413);
  EXPECT_EQ(r.error().message,
            "The allowed maximum operations in a JSON patch is 10000, got 10001");
}

// ------------------------------------------------------ strategic merge patch

const json kDeployment = j(R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
  "spec": {
    "replicas": 2,
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {
        "containers": [
          {"name": "app", "image": "nginx:1.24",
           "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
           "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
           "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
          {"name": "sidecar", "image": "envoy:1.29"}
        ],
        "tolerations": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]
      }
    }
  },
  "status": {"conditions": [{"type": "Available", "status": "True"},
                            {"type": "Progressing", "status": "True"}]}
})");

const json& containersOf(const json& deployment) {
  return deployment["spec"]["template"]["spec"]["containers"];
}

TEST(StrategicMergePatch, MergesContainersByNameAndKeepsOthers) {
  json r = smp(
      kDeployment,
      j(R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.25"}]}}}})"),
      "Deployment");
  const json& containers = containersOf(r);
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["name"], "app");
  EXPECT_EQ(containers[0]["image"], "nginx:1.25");
  EXPECT_EQ(containers[0]["env"].size(), 2u);
  EXPECT_EQ(containers[1], j(R"({"name":"sidecar","image":"envoy:1.29"})"));
}

TEST(StrategicMergePatch, AddedContainerGoesFirstLikeKubectlPatch) {
  json r =
      smp(kDeployment,
          j(R"({"spec":{"template":{"spec":{"containers":[{"name":"redis","image":"redis"}]}}}})"),
          "Deployment");
  EXPECT_EQ(names(containersOf(r)), (std::vector<std::string>{"redis", "app", "sidecar"}));
}

TEST(StrategicMergePatch, PatchOrderWinsForItemsItNames) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[
                   {"name":"sidecar","image":"envoy:1.30"},
                   {"name":"app","image":"nginx:1.25"}]}}}})"),
               "Deployment");
  EXPECT_EQ(names(containersOf(r)), (std::vector<std::string>{"sidecar", "app"}));
}

TEST(StrategicMergePatch, MergesEnvByNameInsideAContainer) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[
                   {"name":"app","env":[{"name":"B","value":"two"},
                                        {"name":"C","value":"3"}]}]}}}})"),
               "Deployment");
  const json& env = containersOf(r)[0]["env"];
  EXPECT_EQ(names(env), (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(env[1]["value"], "two");
}

TEST(StrategicMergePatch, MergesContainerPortsByContainerPort) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[
                   {"name":"app","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}})"),
               "Deployment");
  const json& ports = containersOf(r)[0]["ports"];
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0], j(R"({"containerPort":80,"name":"http","protocol":"TCP"})"));
  EXPECT_EQ(ports[1], j(R"({"containerPort":443})"));
}

TEST(StrategicMergePatch, MergesVolumeMountsByMountPath) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[
                   {"name":"app","volumeMounts":[
                       {"name":"other","mountPath":"/data","readOnly":true},
                                                 {"name":"cfg","mountPath":"/etc/cfg"}]}]}}}})"),
               "Deployment");
  const json& mounts = containersOf(r)[0]["volumeMounts"];
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0], j(R"({"name":"other","mountPath":"/data","readOnly":true})"));
}

TEST(StrategicMergePatch, TolerationsHaveNoMergeKeyAndAreReplaced) {
  json r =
      smp(kDeployment,
          j(R"({"spec":{"template":{"spec":{"tolerations":[{"key":"c","operator":"Exists"}]}}}})"),
          "Deployment");
  EXPECT_EQ(r["spec"]["template"]["spec"]["tolerations"],
            j(R"([{"key":"c","operator":"Exists"}])"));
}

TEST(StrategicMergePatch, MapsMergeAndNullDeletes) {
  json r = smp(kDeployment,
               j(R"({"metadata":{"labels":{"tier":"fe","app":null}},"spec":{"replicas":5}})"),
               "Deployment");
  EXPECT_EQ(r["metadata"]["labels"], j(R"({"tier":"fe"})"));
  EXPECT_EQ(r["spec"]["replicas"], 5);
  EXPECT_EQ(r["spec"]["strategy"]["type"], "RollingUpdate");
}

TEST(StrategicMergePatch, NullForAnAbsentFieldIsIgnored) {
  json r = smp(kDeployment, j(R"({"spec":{"paused":null}})"), "Deployment");
  EXPECT_FALSE(r["spec"].contains("paused"));
}

TEST(StrategicMergePatch, FinalizersAreAMergedSet) {
  json r = smp(kDeployment, j(R"({"metadata":{"finalizers":["b","c"]}})"), "Deployment");
  EXPECT_EQ(r["metadata"]["finalizers"], j(R"(["a","b","c"])"));
}

TEST(StrategicMergePatch, DeleteFromPrimitiveListRemovesAFinalizer) {
  json r = smp(kDeployment, j(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})"),
               "Deployment");
  EXPECT_EQ(r["metadata"]["finalizers"], j(R"(["b"])"));
}

TEST(StrategicMergePatch, DeleteFromPrimitiveListOfAnAbsentListDoesNothing) {
  json r = smp(j(R"({"metadata":{"name":"x"}})"),
               j(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})"), "ConfigMap");
  EXPECT_EQ(r, j(R"({"metadata":{"name":"x"}})"));
}

TEST(StrategicMergePatch, DeleteDirectiveRemovesAnElementOfAMergedList) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[
                   {"name":"sidecar","$patch":"delete"}]}}}})"),
               "Deployment");
  EXPECT_EQ(names(containersOf(r)), std::vector<std::string>{"app"});
}

TEST(StrategicMergePatch, ReplaceDirectiveReplacesAMergedList) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[
                   {"name":"only","image":"busybox"},{"$patch":"replace"}]}}}})"),
               "Deployment");
  EXPECT_EQ(containersOf(r), j(R"([{"name":"only","image":"busybox"}])"));
}

TEST(StrategicMergePatch, ReplaceDirectiveReplacesAMap) {
  json r = smp(kDeployment, j(R"({"metadata":{"labels":{"$patch":"replace","new":"1"}}})"),
               "Deployment");
  EXPECT_EQ(r["metadata"]["labels"], j(R"({"new":"1"})"));
}

TEST(StrategicMergePatch, DeleteDirectiveEmptiesAMap) {
  json r = smp(kDeployment, j(R"({"spec":{"strategy":{"$patch":"delete"}}})"), "Deployment");
  EXPECT_EQ(r["spec"]["strategy"], json::object());
}

TEST(StrategicMergePatch, RetainKeysClearsFieldsNotListed) {
  json r =
      smp(kDeployment, j(R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})"),
          "Deployment");
  EXPECT_EQ(r["spec"]["strategy"], j(R"({"type":"Recreate"})"));
}

TEST(StrategicMergePatch, RetainKeysMustListEveryPatchedField) {
  auto r = applyStrategicMergePatch(
      kDeployment, j(R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})"),
      "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_EQ(r.error().message, "invalid patch format of retainKeys");
}

TEST(StrategicMergePatch, SetElementOrderOrdersTheMergedList) {
  json r = smp(kDeployment, j(R"({"spec":{"template":{"spec":{
                   "$setElementOrder/containers":[{"name":"sidecar"},{"name":"new"},{"name":"app"}],
                   "containers":[{"name":"new","image":"busybox"}]}}}})"),
               "Deployment");
  EXPECT_EQ(names(containersOf(r)), (std::vector<std::string>{"sidecar", "new", "app"}));
}

TEST(StrategicMergePatch, SetElementOrderWithoutListChangesOnlyReorders) {
  json r = smp(kDeployment, j(R"({"metadata":{"$setElementOrder/finalizers":["b","a"]}})"),
               "Deployment");
  EXPECT_EQ(r["metadata"]["finalizers"], j(R"(["b","a"])"));
}

TEST(StrategicMergePatch, SetElementOrderThatContradictsThePatchIsRejected) {
  auto r = applyStrategicMergePatch(kDeployment, j(R"({"spec":{"template":{"spec":{
                   "$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],
                   "containers":[{"name":"sidecar","image":"x"},{"name":"app","image":"y"}]}}}})"),
                                    "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 500);
}

TEST(StrategicMergePatch, KubectlApplyStylePatchLeavesNoDirectives) {
  json r = smp(kDeployment, j(R"({
      "metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},
      "spec":{"template":{"spec":{
        "$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],
        "containers":[{"name":"app","$setElementOrder/env":[{"name":"A"},{"name":"B"}],
                       "env":[{"name":"B","value":"3"}]}],
        "initContainers":[{"name":"init","image":"busybox",
                           "$setElementOrder/env":[{"name":"X"}],"env":[{"name":"X","value":"1"}]}]
      }}}})"),
               "Deployment");
  EXPECT_EQ(names(containersOf(r)), (std::vector<std::string>{"app", "sidecar"}));
  EXPECT_EQ(containersOf(r)[0]["env"][1]["value"], "3");
  EXPECT_EQ(r["spec"]["template"]["spec"]["initContainers"],
            j(R"([{"name":"init","image":"busybox","env":[{"name":"X","value":"1"}]}])"));
}

TEST(StrategicMergePatch, NewValuesAreStoredWithoutNullsOrDirectiveMaps) {
  json r = smp(j(R"({"spec":{}})"), j(R"({"spec":{"selector":{"a":null,"b":"1"},
                                          "extra":{"$patch":"delete"}}})"),
               "Service");
  EXPECT_EQ(r, j(R"({"spec":{"selector":{"b":"1"}}})"));
}

TEST(StrategicMergePatch, ConditionsMergeByType) {
  json r =
      smp(kDeployment, j(R"({"status":{"conditions":[{"type":"Available","status":"False"}]}})"),
          "Deployment");
  const json& conditions = r["status"]["conditions"];
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[0], j(R"({"type":"Available","status":"False"})"));
  EXPECT_EQ(conditions[1]["type"], "Progressing");
}

TEST(StrategicMergePatch, PodContainersAndStatusConditions) {
  json pod = j(R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]},
                  "status":{"conditions":[{"type":"Ready","status":"False"}]}})");
  json r = smp(pod, j(R"({"spec":{"containers":[{"name":"b","image":"z"}]},
                          "status":{"conditions":[{"type":"Ready","status":"True"}]}})"),
               "Pod");
  EXPECT_EQ(r["spec"]["containers"][1], j(R"({"name":"b","image":"z"})"));
  EXPECT_EQ(r["status"]["conditions"], j(R"([{"type":"Ready","status":"True"}])"));
}

TEST(StrategicMergePatch, ServicePortsMergeByPort) {
  json svc = j(R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}})");
  json r = smp(svc, j(R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})"), "Service");
  EXPECT_EQ(r["spec"]["ports"], j(R"([{"port":80,"targetPort":9090},{"port":443}])"));
}

TEST(StrategicMergePatch, ListsOfUnknownKindsAreReplaced) {
  json cm = j(R"({"data":{"a":"1"},"spec":{"ports":[{"port":80},{"port":443}]}})");
  json r = smp(cm, j(R"({"data":{"b":"2"},"spec":{"ports":[{"port":80}]}})"), "Widget");
  EXPECT_EQ(r["data"], j(R"({"a":"1","b":"2"})"));
  EXPECT_EQ(r["spec"]["ports"], j(R"([{"port":80}])"));
}

TEST(StrategicMergePatch, OwnerReferencesMergeByUid) {
  json o = j(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},{"uid":"2","name":"b"}]}})");
  json r = smp(o, j(R"({"metadata":{"ownerReferences":[{"uid":"2","name":"c"}]}})"), "ConfigMap");
  EXPECT_EQ(names(r["metadata"]["ownerReferences"]), (std::vector<std::string>{"a", "c"}));
}

TEST(StrategicMergePatch, CronJobTemplateContainersMergeByName) {
  json cj = j(R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
                 {"name":"a","image":"x"},{"name":"b","image":"y"}]}}}}}})");
  json r = smp(cj, j(R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
                 {"name":"b","image":"z"}]}}}}}})"),
               "CronJob");
  EXPECT_EQ(r["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"].size(), 2u);
}

TEST(StrategicMergePatch, ElementWithoutItsMergeKeyIsAnInternalError) {
  auto r = applyStrategicMergePatch(
      kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})"),
      "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 500);
  EXPECT_EQ(r.error().message, "map: map[image:x] does not contain declared merge key: name");
}

TEST(StrategicMergePatch, UnknownDirectiveIsAnInternalError) {
  auto r = applyStrategicMergePatch(kDeployment, j(R"({"spec":{"$patch":"bogus"}})"), "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 500);
  EXPECT_EQ(r.error().message, "unknown patch type: bogus in map: map[$patch:bogus]");
}

TEST(StrategicMergePatch, MergeDirectiveInAListIsRejected) {
  auto r = applyStrategicMergePatch(
      kDeployment, j(R"({"spec":{"template":{"spec":{"containers":[{"$patch":"merge"}]}}}})"),
      "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "merging lists cannot yet be specified in the patch");
}

TEST(StrategicMergePatch, ListOfListsIsInvalid) {
  auto r = applyStrategicMergePatch(j(R"({"metadata":{"finalizers":[]}})"),
                                    j(R"({"metadata":{"finalizers":[["b"]]}})"), "Pod");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 422);
  EXPECT_EQ(r.error().message, "the server rejected our request due to an error in our request");
}

TEST(StrategicMergePatch, MixedElementTypesAreAnInternalError) {
  auto r = applyStrategicMergePatch(j(R"({"metadata":{"finalizers":["a"]}})"),
                                    j(R"({"metadata":{"finalizers":[1]}})"), "Pod");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 500);
  EXPECT_EQ(r.error().message, "list element types are not identical: [[a] [1]]");
}

TEST(StrategicMergePatch, PatchMustBeAnObject) {
  auto r = applyStrategicMergePatch(kDeployment, j("[1]"), "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_EQ(r.error().message,
            "json: cannot unmarshal array into Go value of type map[string]interface {}");
}

TEST(StrategicMergePatch, BadDirectivePrefixIsABadRequest) {
  auto r = applyStrategicMergePatch(kDeployment, j(R"({"metadata":{"$setElementOrder":[]}})"),
                                    "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_EQ(r.error().message, "invalid patch format of setElementOrder list");
}

TEST(StrategicMergePatch, TargetIsNotModified) {
  json before = kDeployment;
  smp(kDeployment, j(R"({"spec":{"replicas":9}})"), "Deployment");
  EXPECT_EQ(kDeployment, before);
}

}  // namespace
}  // namespace remedy::sandbox
