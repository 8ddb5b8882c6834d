#include "sandbox/workload_simulator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>
#include <thread>

namespace remedy::sandbox {
namespace {

using namespace std::chrono_literals;

// Polls `done` until it holds or `deadline` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline = 10s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

json container(const std::string& name = "app", const std::string& image = "nginx:1.25") {
  return {{"name", name}, {"image", image}};
}

json podTemplate(const std::string& app, json annotations = json::object()) {
  json t = {{"metadata", {{"labels", {{"app", app}}}}},
            {"spec", {{"containers", json::array({container()})}}}};
  if (!annotations.empty()) t["metadata"]["annotations"] = annotations;
  return t;
}

json workload(const std::string& kind, const std::string& name, int replicas,
              json annotations = json::object()) {
  return {{"apiVersion", kind == "Job" ? "batch/v1" : "apps/v1"},
          {"kind", kind},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template", podTemplate(name, annotations)}}}};
}

class WorkloadSimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns =
        objects_.create(type("", "namespaces"), "", {{"metadata", {{"name", "default"}}}}, {});
    ASSERT_TRUE(ns.ok()) << ns.error().message;
  }
  void TearDown() override {
    if (sim_) sim_->stop();
  }

  void start(std::chrono::milliseconds podReadyDelay = 0ms,
             std::chrono::milliseconds crashLoopInterval = 50ms) {
    sim_ = std::make_unique<WorkloadSimulator>(objects_, podReadyDelay, crashLoopInterval);
    sim_->start();
  }

  const ResourceType& type(const std::string& group, const std::string& resource) {
    auto t = registry_.findAnyVersion(group, resource);
    EXPECT_TRUE(t) << group << "/" << resource;
    return *t;
  }
  const ResourceType& deployments() { return type("apps", "deployments"); }
  const ResourceType& pods() { return type("", "pods"); }

  ObjectPtr create(const std::string& group, const std::string& resource, json object) {
    auto r = objects_.create(type(group, resource), "default", std::move(object), {});
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : nullptr;
  }
  ObjectPtr get(const std::string& group, const std::string& resource, const std::string& name) {
    return store_.get(group + "/" + resource, "default", name);
  }
  void mergePatch(const std::string& group, const std::string& resource, const std::string& name,
                  const json& patch) {
    auto r = objects_.patch(type(group, resource), "default", name, PatchType::Merge, patch.dump(),
                            "", {});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  // Pods whose labels include app=`app`, not being deleted.
  std::vector<json> podsOf(const std::string& app) {
    std::vector<json> out;
    for (const auto& p : store_.list("/pods", "default").items) {
      if ((*p)["metadata"].contains("deletionTimestamp")) continue;
      if ((*p)["metadata"].value("labels", json::object()).value("app", "") == app) {
        out.push_back(*p);
      }
    }
    return out;
  }
  static bool ready(const json& pod) {
    const json* c = condition(pod, "Ready");
    return c && c->value("status", "") == "True";
  }
  std::vector<json> readyPodsOf(const std::string& app) {
    std::vector<json> out;
    for (auto& p : podsOf(app)) {
      if (p.value("status", json::object()).value("phase", "") == "Running" && ready(p)) {
        out.push_back(p);
      }
    }
    return out;
  }
  static const json* condition(const json& object, const std::string& type) {
    if (!object.contains("status") || !object["status"].contains("conditions")) return nullptr;
    for (const auto& c : object["status"]["conditions"]) {
      if (c.value("type", "") == type) return &c;
    }
    return nullptr;
  }
  static bool conditionIs(const json& object, const std::string& type, const std::string& status,
                          const std::string& reason = "") {
    const json* c = condition(object, type);
    return c && c->value("status", "") == status &&
           (reason.empty() || c->value("reason", "") == reason);
  }
  // What `kubectl rollout status deployment/NAME` waits for.
  bool rolledOut(const std::string& name) {
    ObjectPtr d = get("apps", "deployments", name);
    if (!d) return false;
    const json& s = (*d).value("status", json::object());
    int64_t replicas = (*d)["spec"].value("replicas", 1);
    return (*d)["metadata"].value("generation", 0) <= s.value("observedGeneration", 0) &&
           s.value("updatedReplicas", 0) == replicas && s.value("replicas", 0) == replicas &&
           s.value("availableReplicas", 0) == replicas;
  }
  // The store has not changed for `quiet`: nothing keeps rewriting status.
  bool settles(std::chrono::milliseconds quiet = 300ms) {
    int64_t rv = store_.currentResourceVersion();
    auto since = std::chrono::steady_clock::now();
    return eventually([&] {
      int64_t now = store_.currentResourceVersion();
      if (now != rv) {
        rv = now;
        since = std::chrono::steady_clock::now();
        return false;
      }
      return std::chrono::steady_clock::now() - since >= quiet;
    });
  }

  Store store_;
  Registry registry_;
  Objects objects_{store_, registry_};
  std::unique_ptr<WorkloadSimulator> sim_;  // destroyed first
};

TEST_F(WorkloadSimulatorTest, DeploymentOwnsAReplicaSetWhosePodsBecomeReady) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 2));
  ASSERT_TRUE(eventually([&] { return rolledOut("web"); }));
  ASSERT_EQ(readyPodsOf("web").size(), 2u);

  ObjectPtr d = get("apps", "deployments", "web");
  EXPECT_EQ((*d)["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  EXPECT_TRUE(conditionIs(*d, "Available", "True", "MinimumReplicasAvailable"));
  EXPECT_TRUE(conditionIs(*d, "Progressing", "True", "NewReplicaSetAvailable"));
  EXPECT_EQ((*d)["status"]["readyReplicas"], 2);
  EXPECT_FALSE((*d)["status"].contains("unavailableReplicas"));

  json pod = readyPodsOf("web")[0];
  std::string hash = pod["metadata"]["labels"]["pod-template-hash"];
  ObjectPtr rs = get("apps", "replicasets", "web-" + hash);
  ASSERT_TRUE(rs);
  EXPECT_EQ((*rs)["metadata"]["ownerReferences"][0]["kind"], "Deployment");
  EXPECT_EQ((*rs)["metadata"]["ownerReferences"][0]["uid"], (*d)["metadata"]["uid"]);
  EXPECT_EQ((*rs)["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
  EXPECT_EQ((*rs)["status"]["availableReplicas"], 2);
  const json& owner = pod["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "ReplicaSet");
  EXPECT_EQ(owner["uid"], (*rs)["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["blockOwnerDeletion"], true);
  std::string podName = pod["metadata"]["name"];
  EXPECT_EQ(podName.size(), ("web-" + hash + "-").size() + 5);
  EXPECT_EQ(podName.compare(0, hash.size() + 5, "web-" + hash + "-"), 0);

  const json& status = pod["status"];
  EXPECT_EQ(pod["spec"]["nodeName"], "sandbox-node");
  EXPECT_EQ(status["qosClass"], "BestEffort");
  EXPECT_TRUE(status["podIP"].get<std::string>().rfind("10.244.", 0) == 0);
  EXPECT_TRUE(status.contains("hostIP"));
  EXPECT_TRUE(status.contains("startTime"));
  const json& cs = status["containerStatuses"][0];
  EXPECT_EQ(cs["ready"], true);
  EXPECT_EQ(cs["started"], true);
  EXPECT_EQ(cs["restartCount"], 0);
  EXPECT_EQ(cs["image"], "docker.io/library/nginx:1.25");
  EXPECT_TRUE(cs["state"]["running"].contains("startedAt"));
  EXPECT_TRUE(cs["containerID"].get<std::string>().rfind("containerd://", 0) == 0);
  for (const char* t : {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    EXPECT_TRUE(conditionIs(pod, t, "True")) << t;
  }
  EXPECT_TRUE(settles());
}

TEST_F(WorkloadSimulatorTest, ScaledDeploymentPodsFollow) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 2));
  ASSERT_TRUE(eventually([&] { return rolledOut("web"); }));
  mergePatch("apps", "deployments", "web", {{"spec", {{"replicas", 4}}}});
  ASSERT_TRUE(eventually([&] { return rolledOut("web") && readyPodsOf("web").size() == 4; }));
  mergePatch("apps", "deployments", "web", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(eventually([&] { return rolledOut("web") && podsOf("web").size() == 1; }));
  mergePatch("apps", "deployments", "web", {{"spec", {{"replicas", 0}}}});
  ASSERT_TRUE(eventually([&] { return rolledOut("web") && podsOf("web").empty(); }));
  EXPECT_FALSE(get("apps", "deployments", "web")->at("status").contains("replicas"));
}

TEST_F(WorkloadSimulatorTest, RolloutRestartReplacesEveryPod) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 3));
  ASSERT_TRUE(eventually([&] { return rolledOut("web") && readyPodsOf("web").size() == 3; }));
  std::set<std::string> before;
  for (const auto& p : podsOf("web")) before.insert(p["metadata"]["name"].get<std::string>());
  std::string oldHash = podsOf("web")[0]["metadata"]["labels"]["pod-template-hash"];

  // What `kubectl rollout restart` patches.
  mergePatch("apps", "deployments", "web",
             {{"spec",
               {{"template",
                 {{"metadata",
                   {{"annotations",
                     {{"kubectl.kubernetes.io/restartedAt", "2025-01-01T00:00:00Z"}}}}}}}}}});
  ASSERT_TRUE(eventually([&] {
    if (!rolledOut("web")) return false;
    auto now = readyPodsOf("web");
    if (now.size() != 3 || podsOf("web").size() != 3) return false;
    for (const auto& p : now) {
      if (before.count(p["metadata"]["name"].get<std::string>())) return false;
    }
    return true;
  }));
  ObjectPtr d = get("apps", "deployments", "web");
  EXPECT_EQ((*d)["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
  EXPECT_TRUE(conditionIs(*d, "Progressing", "True", "NewReplicaSetAvailable"));
  ObjectPtr oldRs = get("apps", "replicasets", "web-" + oldHash);
  ASSERT_TRUE(oldRs);
  EXPECT_EQ((*oldRs)["spec"]["replicas"], 0);
  EXPECT_EQ((*oldRs)["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  std::string newHash = podsOf("web")[0]["metadata"]["labels"]["pod-template-hash"];
  EXPECT_NE(newHash, oldHash);
  EXPECT_TRUE(settles());
}

TEST_F(WorkloadSimulatorTest, RollingBackReusesTheOldReplicaSetAsANewRevision) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 1));
  ASSERT_TRUE(eventually([&] { return rolledOut("web"); }));
  std::string firstHash = podsOf("web")[0]["metadata"]["labels"]["pod-template-hash"];
  mergePatch("apps", "deployments", "web",
             {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}});
  ASSERT_TRUE(eventually([&] {
    auto ps = podsOf("web");
    return rolledOut("web") && ps.size() == 1 &&
           ps[0]["metadata"]["labels"]["pod-template-hash"] != firstHash;
  }));
  // What `kubectl rollout undo` does: the old template comes back.
  mergePatch("apps", "deployments", "web",
             {{"spec", {{"template", {{"metadata", {{"annotations", nullptr}}}}}}}});
  ASSERT_TRUE(eventually([&] {
    auto ps = podsOf("web");
    return rolledOut("web") && ps.size() == 1 &&
           ps[0]["metadata"]["labels"]["pod-template-hash"] == firstHash;
  }));
  ObjectPtr rs = get("apps", "replicasets", "web-" + firstHash);
  EXPECT_EQ((*rs)["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
  EXPECT_EQ(get("apps", "deployments", "web")
                ->at("metadata")["annotations"]["deployment.kubernetes.io/revision"],
            "3");
}

TEST_F(WorkloadSimulatorTest, TemplateChangesThatOnlyAddEmptyFieldsReplaceNothing) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 2));
  ASSERT_TRUE(eventually([&] { return rolledOut("web") && readyPodsOf("web").size() == 2; }));
  std::set<std::string> before;
  for (const auto& p : podsOf("web")) before.insert(p["metadata"]["name"].get<std::string>());
  // kubectl sends Go zero values such as `resources: {}` (e.g. in `rollout
  // undo`); the server defaulted them at create, so the template is unchanged
  // and so is the generation, as on kube-apiserver.
  mergePatch("apps", "deployments", "web",
             {{"spec",
               {{"template",
                 {{"spec",
                   {{"containers", json::array({{{"name", "app"},
                                                 {"image", "nginx:1.25"},
                                                 {"resources", json::object()}}})}}}}}}}});
  ASSERT_TRUE(eventually([&] {
    ObjectPtr d = get("apps", "deployments", "web");
    return (*d)["metadata"].value("generation", 0) == 1 && rolledOut("web");
  }));
  std::set<std::string> after;
  for (const auto& p : podsOf("web")) after.insert(p["metadata"]["name"].get<std::string>());
  EXPECT_EQ(after, before);
  EXPECT_EQ(get("apps", "deployments", "web")
                ->at("metadata")["annotations"]["deployment.kubernetes.io/revision"],
            "1");
}

TEST_F(WorkloadSimulatorTest, RecreateStrategyReplacesPodsToo) {
  start();
  json d = workload("Deployment", "db", 2);
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  create("apps", "deployments", d);
  ASSERT_TRUE(eventually([&] { return rolledOut("db"); }));
  std::string first = podsOf("db")[0]["metadata"]["name"];
  mergePatch("apps", "deployments", "db",
             {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}});
  ASSERT_TRUE(eventually([&] {
    auto ps = readyPodsOf("db");
    return rolledOut("db") && ps.size() == 2 &&
           ps[0]["metadata"].value("annotations", json::object()).value("v", "") == "2";
  }));
  for (const auto& p : podsOf("db")) EXPECT_NE(p["metadata"]["name"], first);
}

TEST_F(WorkloadSimulatorTest, DeletedPodComesBackUnderANewName) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 2));
  ASSERT_TRUE(eventually([&] { return rolledOut("web") && readyPodsOf("web").size() == 2; }));
  std::string victim = podsOf("web")[0]["metadata"]["name"];
  ASSERT_TRUE(objects_.remove(pods(), "default", victim, {}).ok());
  ASSERT_TRUE(eventually([&] {
    auto ps = readyPodsOf("web");
    if (ps.size() != 2) return false;
    for (const auto& p : ps) {
      if (p["metadata"]["name"] == victim) return false;
    }
    return rolledOut("web");
  }));
}

TEST_F(WorkloadSimulatorTest, CrashLoopAnnotationKeepsThePodUnreadyAndRestarting) {
  start(0ms, 30ms);
  create("apps", "deployments",
         workload("Deployment", "crashy", 1, {{"sandbox.remedy.dev/crash-loop", "true"}}));
  ASSERT_TRUE(eventually([&] {
    auto ps = podsOf("crashy");
    return ps.size() == 1 && ps[0]["status"].contains("containerStatuses") &&
           ps[0]["status"]["containerStatuses"][0].value("restartCount", 0) >= 3;
  }));
  json pod = podsOf("crashy")[0];
  const json& cs = pod["status"]["containerStatuses"][0];
  EXPECT_EQ(pod["status"]["phase"], "Running");
  EXPECT_FALSE(ready(pod));
  EXPECT_TRUE(conditionIs(pod, "Ready", "False", "ContainersNotReady"));
  EXPECT_EQ(cs["ready"], false);
  EXPECT_EQ(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
  int64_t seen = cs["restartCount"];
  ASSERT_TRUE(eventually([&] {
    auto ps = podsOf("crashy");
    return ps.size() == 1 &&
           ps[0]["status"]["containerStatuses"][0].value("restartCount", 0) > seen;
  }));
  ObjectPtr d = get("apps", "deployments", "crashy");
  EXPECT_TRUE(conditionIs(*d, "Available", "False", "MinimumReplicasUnavailable"));
  EXPECT_FALSE(rolledOut("crashy"));
}

TEST_F(WorkloadSimulatorTest, StuckRolloutExceedsItsProgressDeadline) {
  start(0ms, 30ms);
  json d = workload("Deployment", "stuck", 1, {{"sandbox.remedy.dev/crash-loop", "true"}});
  d["spec"]["progressDeadlineSeconds"] = 1;
  create("apps", "deployments", d);
  // What makes `kubectl rollout status` fail with "exceeded its progress deadline".
  ASSERT_TRUE(eventually([&] {
    return conditionIs(*get("apps", "deployments", "stuck"), "Progressing", "False",
                       "ProgressDeadlineExceeded");
  }));
  ObjectPtr stuck = get("apps", "deployments", "stuck");
  const json* c = condition(*stuck, "Progressing");
  EXPECT_EQ((*c)["message"],
            "ReplicaSet \"stuck-" +
                podsOf("stuck")[0]["metadata"]["labels"]["pod-template-hash"].get<std::string>() +
                "\" has timed out progressing.");
}

TEST_F(WorkloadSimulatorTest, PodsWaitForTheReadyDelay) {
  start(300ms);
  create("apps", "deployments", workload("Deployment", "slow", 1));
  // The simulator binds the pod (spec) and reports its status in two writes.
  ASSERT_TRUE(eventually([&] {
    auto ps = podsOf("slow");
    return ps.size() == 1 && ps[0]["spec"].value("nodeName", "") == "sandbox-node" &&
           ps[0].value("status", json::object()).contains("containerStatuses");
  }));
  json pod = podsOf("slow")[0];
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating");
  EXPECT_TRUE(conditionIs(pod, "PodScheduled", "True"));
  ASSERT_TRUE(eventually([&] { return readyPodsOf("slow").size() == 1 && rolledOut("slow"); }));
}

TEST_F(WorkloadSimulatorTest, ReplicaSetKeepsItsCountAndStatus) {
  start();
  create("apps", "replicasets", workload("ReplicaSet", "rs", 3));
  ASSERT_TRUE(eventually([&] {
    ObjectPtr rs = get("apps", "replicasets", "rs");
    const json& s = (*rs).value("status", json::object());
    return readyPodsOf("rs").size() == 3 && s.value("readyReplicas", 0) == 3 &&
           s.value("availableReplicas", 0) == 3 && s.value("fullyLabeledReplicas", 0) == 3 &&
           s.value("observedGeneration", 0) == 1;
  }));
  mergePatch("apps", "replicasets", "rs", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(eventually([&] { return podsOf("rs").size() == 1; }));
}

TEST_F(WorkloadSimulatorTest, StatefulSetPodsHaveOrdinalsAndRollFromTheTop) {
  start();
  json sts = workload("StatefulSet", "db", 3);
  sts["spec"]["serviceName"] = "db";
  create("apps", "statefulsets", sts);
  auto settled = [&] {
    ObjectPtr s = get("apps", "statefulsets", "db");
    const json& st = (*s).value("status", json::object());
    return readyPodsOf("db").size() == 3 && st.value("readyReplicas", 0) == 3 &&
           st.value("updatedReplicas", 0) == 3 && st.value("currentReplicas", 0) == 3 &&
           st.value("currentRevision", "") == st.value("updateRevision", "-") &&
           st.value("observedGeneration", 0) == (*s)["metadata"].value("generation", -1);
  };
  ASSERT_TRUE(eventually(settled));
  std::map<std::string, std::string> uids;
  for (const auto& p : podsOf("db")) uids[p["metadata"]["name"]] = p["metadata"]["uid"];
  ASSERT_EQ(uids.size(), 3u);
  for (const char* n : {"db-0", "db-1", "db-2"}) ASSERT_TRUE(uids.count(n)) << n;
  ObjectPtr pod0 = get("", "pods", "db-0");
  EXPECT_EQ((*pod0)["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"], "db-0");
  EXPECT_EQ((*pod0)["spec"]["hostname"], "db-0");
  EXPECT_EQ((*pod0)["spec"]["subdomain"], "db");
  std::string revision = get("apps", "statefulsets", "db")->at("status")["updateRevision"];
  EXPECT_EQ((*pod0)["metadata"]["labels"]["controller-revision-hash"], revision);

  mergePatch("apps", "statefulsets", "db",
             {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}});
  ASSERT_TRUE(eventually([&] {
    if (!settled()) return false;
    for (const auto& p : podsOf("db")) {
      if (uids[p["metadata"]["name"]] == p["metadata"]["uid"]) return false;
    }
    return true;
  }));
  EXPECT_NE(get("apps", "statefulsets", "db")->at("status")["currentRevision"], revision);

  mergePatch("apps", "statefulsets", "db", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(eventually([&] {
    auto ps = podsOf("db");
    return ps.size() == 1 && ps[0]["metadata"]["name"] == "db-0";
  }));
}

TEST_F(WorkloadSimulatorTest, DaemonSetRunsOnePodOnTheSandboxNode) {
  start();
  json ds = workload("DaemonSet", "agent", 0);
  ds["spec"].erase("replicas");
  create("apps", "daemonsets", ds);
  ASSERT_TRUE(eventually([&] {
    ObjectPtr d = get("apps", "daemonsets", "agent");
    const json& s = (*d).value("status", json::object());
    return readyPodsOf("agent").size() == 1 && s.value("numberReady", 0) == 1 &&
           s.value("desiredNumberScheduled", 0) == 1 && s.value("numberAvailable", 0) == 1 &&
           s.value("updatedNumberScheduled", 0) == 1;
  }));
  EXPECT_EQ(podsOf("agent")[0]["spec"]["nodeName"], "sandbox-node");
}

TEST_F(WorkloadSimulatorTest, JobRunsAPodToCompletion) {
  start();
  json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", "migrate"}}},
              {"spec", {{"template", podTemplate("migrate")}}}};
  job["spec"]["template"]["spec"]["restartPolicy"] = "Never";
  create("batch", "jobs", job);
  ASSERT_TRUE(eventually([&] {
    ObjectPtr j = get("batch", "jobs", "migrate");
    return conditionIs(*j, "Complete", "True");
  }));
  ObjectPtr j = get("batch", "jobs", "migrate");
  const json& s = (*j)["status"];
  EXPECT_EQ(s["succeeded"], 1);
  EXPECT_FALSE(s.contains("active"));
  EXPECT_TRUE(s.contains("startTime"));
  EXPECT_TRUE(s.contains("completionTime"));
  EXPECT_TRUE(conditionIs(*j, "SuccessCriteriaMet", "True", "CompletionsReached"));
  EXPECT_TRUE(conditionIs(*j, "Complete", "True", "CompletionsReached"));
  auto ps = podsOf("migrate");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0]["status"]["phase"], "Succeeded");
  EXPECT_EQ(ps[0]["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
  EXPECT_EQ(ps[0]["metadata"]["ownerReferences"][0]["kind"], "Job");
  EXPECT_TRUE(settles());
}

TEST_F(WorkloadSimulatorTest, JobRunsPodsUpToParallelismUntilCompletions) {
  start();
  json job = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", {{"name", "batch"}}},
      {"spec", {{"completions", 3}, {"parallelism", 2}, {"template", podTemplate("batch")}}}};
  create("batch", "jobs", job);
  ASSERT_TRUE(
      eventually([&] { return conditionIs(*get("batch", "jobs", "batch"), "Complete", "True"); }));
  EXPECT_EQ(get("batch", "jobs", "batch")->at("status")["succeeded"], 3);
  auto ps = podsOf("batch");
  EXPECT_EQ(ps.size(), 3u);
  for (const auto& p : ps) EXPECT_EQ(p["status"]["phase"], "Succeeded");
}

TEST_F(WorkloadSimulatorTest, JobWithFailingPodsFailsAfterItsBackoffLimit) {
  start();
  json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", "broken"}}},
              {"spec",
               {{"backoffLimit", 1},
                {"template", podTemplate("broken", {{"sandbox.remedy.dev/fail", "true"}})}}}};
  create("batch", "jobs", job);
  ASSERT_TRUE(eventually([&] {
    return conditionIs(*get("batch", "jobs", "broken"), "Failed", "True", "BackoffLimitExceeded");
  }));
  ObjectPtr j = get("batch", "jobs", "broken");
  EXPECT_EQ((*j)["status"]["failed"], 2);
  EXPECT_TRUE(conditionIs(*j, "FailureTarget", "True"));
  EXPECT_FALSE(condition(*j, "Complete"));
  for (const auto& p : podsOf("broken")) EXPECT_EQ(p["status"]["phase"], "Failed");
}

TEST_F(WorkloadSimulatorTest, DisruptionBudgetStatusFollowsThePods) {
  start();
  create("apps", "deployments", workload("Deployment", "web", 3));
  create("policy", "poddisruptionbudgets",
         {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", {{"name", "web-pdb"}}},
          {"spec", {{"minAvailable", 2}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  auto budget = [&](int healthy, int allowed) {
    ObjectPtr p = get("policy", "poddisruptionbudgets", "web-pdb");
    const json& s = (*p).value("status", json::object());
    return s.value("currentHealthy", -1) == healthy && s.value("desiredHealthy", -1) == 2 &&
           s.value("expectedPods", -1) == 3 && s.value("disruptionsAllowed", -1) == allowed &&
           s.value("observedGeneration", 0) == 1;
  };
  ASSERT_TRUE(eventually([&] { return budget(3, 1); }));
  EXPECT_TRUE(conditionIs(*get("policy", "poddisruptionbudgets", "web-pdb"), "DisruptionAllowed",
                          "True", "SufficientPods"));
  mergePatch("apps", "deployments", "web", {{"spec", {{"replicas", 2}}}});
  // expectedPods follows the pods for an integer minAvailable.
  ASSERT_TRUE(eventually([&] {
    ObjectPtr p = get("policy", "poddisruptionbudgets", "web-pdb");
    const json& s = (*p)["status"];
    return s.value("currentHealthy", -1) == 2 && s.value("disruptionsAllowed", -1) == 0;
  }));
  EXPECT_TRUE(conditionIs(*get("policy", "poddisruptionbudgets", "web-pdb"), "DisruptionAllowed",
                          "False", "InsufficientPods"));
}

TEST_F(WorkloadSimulatorTest, DisruptionBudgetPercentagesCountTheControllersScale) {
  start();
  create("apps", "deployments", workload("Deployment", "api", 4));
  create(
      "policy", "poddisruptionbudgets",
      {{"apiVersion", "policy/v1"},
       {"kind", "PodDisruptionBudget"},
       {"metadata", {{"name", "api"}}},
       {"spec", {{"maxUnavailable", "30%"}, {"selector", {{"matchLabels", {{"app", "api"}}}}}}}});
  // 4 - ceil(30% of 4) = 2 desired healthy.
  ASSERT_TRUE(eventually([&] {
    const json& s = get("policy", "poddisruptionbudgets", "api")->value("status", json::object());
    return s.value("expectedPods", -1) == 4 && s.value("desiredHealthy", -1) == 2 &&
           s.value("currentHealthy", -1) == 4 && s.value("disruptionsAllowed", -1) == 2;
  }));
}

TEST_F(WorkloadSimulatorTest, ObjectsThatExistBeforeStartAreReconciled) {
  create("apps", "deployments", workload("Deployment", "early", 1));
  start();
  ASSERT_TRUE(eventually([&] { return rolledOut("early") && readyPodsOf("early").size() == 1; }));
}

TEST_F(WorkloadSimulatorTest, StopEndsTheWorkAndStartResumesIt) {
  start();
  sim_->stop();
  create("apps", "deployments", workload("Deployment", "later", 1));
  sim_->start();
  ASSERT_TRUE(eventually([&] { return rolledOut("later"); }));
}

}  // namespace
}  // namespace remedy::sandbox
