// rolloutUndo as `kubectl rollout undo` does it, on the sandbox and
// (real.RolloutUndoTest.*) on kube-apiserver, where kube-controller-manager
// makes the ReplicaSets, numbers their revisions and renumbers the one a
// rollback brings back.
#include "actions/kubernetes_actions.h"

#include "../support/api_server.h"

#include <map>

namespace remedy::actions {
namespace {

using json = nlohmann::json;
using testing::eventuallyTrue;

const kube::Resource kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};

class RolloutUndoTest : public testing::ApiServerTest {
 protected:
  // Deployment web whose container runs `image`; waits for its ReplicaSet.
  void createWeb(const std::string& image) {
    json d = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata",
         {{"name", "web"}, {"namespace", namespace_}, {"annotations", {{"team", "shop"}}}}},
        {"spec",
         {{"replicas", 1},
          {"selector", {{"matchLabels", {{"app", "web"}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", "web"}}}}},
            {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}}}}}};
    auto created = client_->create(kube::resources::deployments(), namespace_, d);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    ASSERT_TRUE(settled(1)) << "Deployment web has no ReplicaSet of revision 1 on "
                            << apiServerName();
  }

  // A new rollout: the container runs `image`, with kubectl's change-cause.
  void deploy(const std::string& image, int revision) {
    json patch = {
        {"metadata", {{"annotations", {{"kubernetes.io/change-cause", "deploy " + image}}}}},
        {"spec",
         {{"template",
           {{"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}}}}}};
    auto patched = client_->patch(kube::resources::deployments(), namespace_, "web", patch.dump());
    ASSERT_TRUE(patched.ok()) << patched.status().toString();
    ASSERT_TRUE(settled(revision))
        << "Deployment web did not reach revision " << revision << " on " << apiServerName();
  }

  // The controller observed the Deployment and numbered it `revision`.
  bool settled(int revision) {
    return eventuallyTrue(
        [&] {
          json d = web();
          return d["status"].value("observedGeneration", int64_t{0}) ==
                     d["metadata"].value("generation", int64_t{-1}) &&
                 revisionOf(d) == std::to_string(revision);
        },
        std::chrono::seconds(60));
  }

  json web() {
    auto got = client_->get(kube::resources::deployments(), namespace_, "web");
    return got.ok() ? *got : json{{"metadata", json::object()}, {"status", json::object()}};
  }
  static std::string revisionOf(const json& object) {
    return object["metadata"].value("annotations", json::object()).value(kRevisionAnnotation, "");
  }
  static std::string imageOf(const json& deployment) {
    return deployment["spec"]["template"]["spec"]["containers"][0].value("image", "");
  }
  // Image -> revision of web's ReplicaSets.
  std::map<std::string, std::string> history() {
    std::map<std::string, std::string> out;
    auto list = client_->list(kReplicaSets, namespace_);
    if (!list.ok()) return out;
    for (const auto& rs : (*list)["items"]) {
      out[rs["spec"]["template"]["spec"]["containers"][0].value("image", "")] = revisionOf(rs);
    }
    return out;
  }

  ActionContext context(bool dryRun = false) {
    ActionContext c;
    c.client = client_.get();
    c.idempotencyKey = "uid/undo/1";
    c.stepKey = "uid/undo";
    c.dryRun = dryRun;
    c.defaultNamespace = namespace_;
    return c;
  }

  // prepare, then run with its baseline, as the engine does.
  ActionOutcome undo(const json& params, bool dryRun = false) {
    ActionContext c = context(dryRun);
    ActionOutcome prepared = action_.prepare(params, c);
    if (prepared.kind != OutcomeKind::kSucceeded) return prepared;
    c.baseline = prepared.outputs;
    return action_.run(params, c);
  }

  RolloutUndoAction action_;
};

TEST_F(RolloutUndoTest, ABadRolloutIsUndoneToThePreviousTemplate) {
  createWeb("registry.example/web:1.4");
  deploy("registry.example/web:1.5-broken", 2);

  json params = {{"target", {{"name", "web"}}}};
  ActionOutcome outcome = undo(params);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs, (Outputs{{"previousRevision", "2"},
                                      {"revision", "1"},
                                      {"replicaSet", outcome.outputs.at("replicaSet")}}));
  EXPECT_EQ(outcome.message.rfind("rolled back Deployment " + namespace_ +
                                      "/web from revision 2 to the template of revision 1 "
                                      "(ReplicaSet web-",
                                  0),
            0u)
      << outcome.message;
  EXPECT_TRUE(outcome.changedTo.is_null());

  json after = web();
  EXPECT_EQ(imageOf(after), "registry.example/web:1.4");
  // The template as the ReplicaSet of revision 1 holds it, less its hash label.
  EXPECT_FALSE(after["spec"]["template"]["metadata"]["labels"].contains("pod-template-hash"));
  // kubectl's annotations: the ReplicaSet's (its change-cause: none), the
  // Deployment's own revision kept for the controller to renumber.
  EXPECT_EQ(after["metadata"]["annotations"].value("team", ""), "shop");
  EXPECT_FALSE(after["metadata"]["annotations"].contains("kubernetes.io/change-cause"));
  // The controller brings back the old ReplicaSet as revision 3.
  ASSERT_TRUE(settled(3)) << web().dump(2);
  EXPECT_EQ(history(),
            (std::map<std::string, std::string>{{"registry.example/web:1.4", "3"},
                                                {"registry.example/web:1.5-broken", "2"}}));
}

TEST_F(RolloutUndoTest, ARerunChangesNothingAndNeverRollsBackFurther) {
  createWeb("web:1");
  deploy("web:2", 2);
  deploy("web:3-broken", 3);
  json params = {{"target", {{"name", "web"}}}};
  ActionContext c = context();
  ActionOutcome prepared = action_.prepare(params, c);
  ASSERT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
  EXPECT_EQ(prepared.outputs.at("revision"), "2");
  c.baseline = prepared.outputs;
  ASSERT_EQ(action_.run(params, c).kind, OutcomeKind::kSucceeded);
  ASSERT_TRUE(settled(4));
  // The spec unchanged: its generation (the controller keeps writing status).
  int64_t generation = web()["metadata"].value("generation", int64_t{0});
  // The same attempt again (a crash after the write): the recorded
  // ReplicaSet's template is in place, so nothing is written, although
  // "the revision before" is now 3.
  ActionOutcome again = action_.run(params, c);
  ASSERT_EQ(again.kind, OutcomeKind::kSucceeded) << again.message;
  EXPECT_EQ(
      again.message.rfind("Deployment " + namespace_ + "/web runs the template of revision 2", 0),
      0u)
      << again.message;
  EXPECT_EQ(web()["metadata"].value("generation", int64_t{0}), generation);
  EXPECT_EQ(imageOf(web()), "web:2");
}

TEST_F(RolloutUndoTest, AGivenRevisionIsRestoredAndAMissingOneIsNamed) {
  createWeb("web:1");
  deploy("web:2", 2);
  deploy("web:3", 3);
  ActionOutcome missing = undo({{"target", {{"name", "web"}}}, {"revision", 9}});
  EXPECT_EQ(missing.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(missing.message, "rolloutUndo: revision 9 of Deployment " + namespace_ +
                                 "/web not found in its history (its ReplicaSets)");
  ActionOutcome outcome = undo({{"target", {{"name", "web"}}}, {"revision", 1}});
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs.at("previousRevision"), "3");
  EXPECT_EQ(outcome.outputs.at("revision"), "1");
  EXPECT_EQ(imageOf(web()), "web:1");
}

TEST_F(RolloutUndoTest, NoHistoryAPausedDeploymentAndADryRunChangeNothing) {
  createWeb("web:1");
  json params = {{"target", {{"name", "web"}}}};
  ActionOutcome none = undo(params);
  EXPECT_EQ(none.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(none.message, "rolloutUndo: no rollout history found for Deployment " + namespace_ +
                              "/web (no ReplicaSet of an earlier revision)");

  deploy("web:2-broken", 2);
  // The spec unchanged: its generation (the controller keeps writing status).
  int64_t generation = web()["metadata"].value("generation", int64_t{0});
  ActionOutcome dry = undo(params, true);
  ASSERT_EQ(dry.kind, OutcomeKind::kSucceeded) << dry.message;
  EXPECT_EQ(dry.message.rfind("dry run: would roll back Deployment " + namespace_ +
                                  "/web from revision 2 to the template of revision 1",
                              0),
            0u)
      << dry.message;
  EXPECT_EQ(web()["metadata"].value("generation", int64_t{0}), generation);

  auto paused = client_->patch(kube::resources::deployments(), namespace_, "web",
                               json{{"spec", {{"paused", true}}}}.dump());
  ASSERT_TRUE(paused.ok()) << paused.status().toString();
  ASSERT_TRUE(eventuallyTrue([&] {
    json d = web();
    return d["status"].value("observedGeneration", int64_t{0}) ==
           d["metadata"].value("generation", int64_t{-1});
  }));
  ActionOutcome refused = undo(params);
  EXPECT_EQ(refused.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(refused.message, "rolloutUndo: Deployment " + namespace_ +
                                 "/web is paused; resume it (kubectl rollout resume) first");
  EXPECT_EQ(imageOf(web()), "web:2-broken");
}

}  // namespace
}  // namespace remedy::actions
