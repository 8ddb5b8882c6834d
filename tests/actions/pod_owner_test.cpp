// From an alert's pod to the workload that controls it, on the sandbox and
// (real.PodOwnerTest.*) on kube-apiserver, whose kube-controller-manager
// sets the ownerReferences Remedy follows.
#include "actions/pod_owner.h"

#include "../support/api_server.h"

namespace remedy::actions {
namespace {

using json = nlohmann::json;
using testing::eventuallyTrue;

class PodOwnerTest : public testing::ApiServerTest {
 protected:
  json workload(const std::string& kind, const std::string& name) {
    json w = {{"apiVersion", "apps/v1"},
              {"kind", kind},
              {"metadata", {{"name", name}, {"namespace", namespace_}}},
              {"spec",
               {{"replicas", 1},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}}}}}}};
    if (kind == "StatefulSet") w["spec"]["serviceName"] = name;
    return w;
  }

  // The name of a pod labelled app=APP, once its controller made one.
  std::string podOf(const std::string& app) {
    std::string found;
    eventuallyTrue(
        [&] {
          kube::ListOptions o;
          o.labelSelector = "app=" + app;
          auto pods = client_->list(kube::resources::pods(), namespace_, o);
          if (!pods.ok() || (*pods)["items"].empty()) return false;
          found = kube::nameOf((*pods)["items"][0]);
          return true;
        },
        std::chrono::seconds(60));
    return found;
  }
};

TEST_F(PodOwnerTest, ADeploymentsPodResolvesThroughItsReplicaSet) {
  ASSERT_TRUE(
      client_->create(kube::resources::deployments(), namespace_, workload("Deployment", "web"))
          .ok());
  std::string pod = podOf("web");
  ASSERT_FALSE(pod.empty()) << "no pod of Deployment web on " << apiServerName();
  auto owner = resolvePodOwner(*client_, namespace_, pod, "Deployment");
  ASSERT_TRUE(owner.ok()) << owner.status().toString();
  EXPECT_EQ(owner->kind, "Deployment");
  EXPECT_EQ(owner->apiVersion, "apps/v1");
  EXPECT_EQ(owner->ns, namespace_);
  EXPECT_EQ(owner->name, "web");
  EXPECT_EQ(owner->pod, pod);
  EXPECT_FALSE(owner->podUid.empty());
  // Pod web-<hash>-<suffix> -> ReplicaSet web-<hash> -> Deployment web.
  std::string rs = pod.substr(0, pod.rfind('-'));
  EXPECT_EQ(owner->via, "Pod " + pod + " -> ReplicaSet " + rs + " -> Deployment web");

  // Its owner is no StatefulSet.
  auto wrong = resolvePodOwner(*client_, namespace_, pod, "StatefulSet");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "pod " + namespace_ + "/" + pod +
                                          " is controlled by ReplicaSet " + rs +
                                          ", not by a StatefulSet");
}

TEST_F(PodOwnerTest, AStatefulSetsPodResolvesToItsStatefulSet) {
  ASSERT_TRUE(
      client_->create(kube::resources::statefulSets(), namespace_, workload("StatefulSet", "db"))
          .ok());
  std::string pod = podOf("db");
  ASSERT_EQ(pod, "db-0") << "on " << apiServerName();
  auto owner = resolvePodOwner(*client_, namespace_, pod, "StatefulSet");
  ASSERT_TRUE(owner.ok()) << owner.status().toString();
  EXPECT_EQ(owner->kind, "StatefulSet");
  EXPECT_EQ(owner->name, "db");
  EXPECT_EQ(owner->via, "Pod db-0 -> StatefulSet db");

  auto wrong = resolvePodOwner(*client_, namespace_, pod, "Deployment");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "pod " + namespace_ +
                                          "/db-0 is controlled by StatefulSet db, not by a "
                                          "ReplicaSet of a Deployment");
}

TEST_F(PodOwnerTest, AGoneOrBarePodOrAnotherOwnerKindIsAClearError) {
  auto gone = resolvePodOwner(*client_, namespace_, "api-7d9f6-x2k4q", "Deployment");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(kube::isNotFound(gone.status())) << gone.status().toString();
  EXPECT_EQ(gone.status().message().rfind("pod " + namespace_ +
                                              "/api-7d9f6-x2k4q (gone since the alert named it, "
                                              "or never there) not found",
                                          0),
            0u)
      << gone.status().message();

  json bare = {{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"metadata", {{"name", "debug"}, {"namespace", namespace_}}},
               {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}}};
  // kube-apiserver admits a pod once the namespace's default ServiceAccount exists.
  ASSERT_TRUE(eventuallyTrue([&] {
    auto created = client_->create(kube::resources::pods(), namespace_, bare);
    return created.ok() || kube::isAlreadyExists(created.status());
  }));
  auto none = resolvePodOwner(*client_, namespace_, "debug", "Deployment");
  ASSERT_FALSE(none.ok());
  EXPECT_FALSE(kube::isNotFound(none.status()));
  EXPECT_EQ(none.status().message(), "pod " + namespace_ +
                                         "/debug has no controller (ownerReferences), so no "
                                         "Deployment owns it");

  auto job = resolvePodOwner(*client_, namespace_, "debug", "Job");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(),
            "owner \"Job\" is not supported: a pod's owner is resolved to a Deployment or a "
            "StatefulSet");
}

}  // namespace
}  // namespace remedy::actions
