// The patch and apply actions against the sandbox: the change each records,
// its idempotency, and its revert, which never overwrites a later change.
#include "actions/patch_actions.h"

#include "actions/action_registry.h"
#include "actions/kubernetes_actions.h"

#include "kubernetes_fixture.h"

namespace remedy::actions {
namespace {

using testing::eventually;
using testing::KubernetesActionTest;

const char* const kEnvPath = "/spec/template/spec/containers/0/env/2/value";

json setEnv(const std::string& var, const std::string& value) {
  return {{"spec",
           {{"template",
             {{"spec",
               {{"containers",
                 json::array({{{"name", "app"},
                               {"env", json::array({{{"name", var}, {"value", value}}})}}})}}}}}}}};
}

class PatchActionTest : public KubernetesActionTest {
 protected:
  // prepare, then run with its baseline, as the engine does.
  ActionOutcome prepareAndRun(Action& action, const json& params, ActionContext& c) {
    auto prepared = action.prepare(params, c);
    EXPECT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
    c.baseline = prepared.outputs;
    return action.run(params, c);
  }

  json strategicEnvPatch(const std::string& value) {
    return {{"target", {{"name", "web"}}}, {"strategicMergePatch", setEnv("LOG_LEVEL", value)}};
  }

  void createConfigMap(const std::string& name, json data) {
    auto created =
        client_->create(kube::resources::configMaps(), namespace_, configMap(name, data));
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  static kube::Resource networkPolicies() {
    return {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true};
  }

  // A real object as the step's owner, so the garbage collector keeps what
  // it owns.
  ActionContext ownedContext() {
    auto c = context();
    auto owner = client_->create(kube::resources::configMaps(), namespace_, configMap("owner"));
    EXPECT_TRUE(owner.ok()) << owner.status().toString();
    if (owner.ok()) c.owner["metadata"]["uid"] = kube::uidOf(*owner);
    return c;
  }

  json blockPolicy() {
    return {
        {"apiVersion", "networking.k8s.io/v1"},
        {"kind", "NetworkPolicy"},
        {"metadata", {{"name", "block-abuser"}}},
        {"spec",
         {{"podSelector", {{"matchLabels", {{"app", "web"}}}}},
          {"policyTypes", json::array({"Ingress"})},
          {"ingress",
           json::array(
               {{{"from", json::array({{{"ipBlock",
                                         {{"cidr", "0.0.0.0/0"},
                                          {"except", json::array({"203.0.113.7/32"})}}}}})}}})}}}};
  }
};

TEST(DiffFields, NamesLeavesAndWholeValuesThatAppearOrGo) {
  json before = {{"metadata", {{"annotations", {{"a/b", "1"}}}, {"resourceVersion", "1"}}},
                 {"data", {{"kept", "x"}, {"gone", "y"}}},
                 {"list", json::array({1, 2})}};
  json after = {{"metadata", {{"annotations", {{"a/b", "2"}}}, {"resourceVersion", "2"}}},
                {"data", {{"kept", "x"}, {"new", {{"deep", true}}}}},
                {"list", json::array({1, 3, 4})}};
  auto changes = diffFields(before, after);
  EXPECT_EQ(changes.before, json({{"/metadata/annotations/a~1b", "1"},
                                  {"/data/gone", "y"},
                                  {"/data/new", nullptr},
                                  {"/list/1", 2},
                                  {"/list/2", nullptr}}));
  EXPECT_EQ(changes.after, json({{"/metadata/annotations/a~1b", "2"},
                                 {"/data/gone", nullptr},
                                 {"/data/new", {{"deep", true}}},
                                 {"/list/1", 3},
                                 {"/list/2", 4}}));
  EXPECT_EQ(
      describeChanges(changes.before, changes.after),
      "/data/gone: \"y\" -> <absent>; /data/new: <absent> -> {\"deep\":true}; /list/1: 2 -> 3; "
      "/list/2: <absent> -> 4; /metadata/annotations/a~1b: \"1\" -> \"2\"");
  ASSERT_NE(valueAtPointer(after, "/metadata/annotations/a~1b"), nullptr);
  EXPECT_EQ(*valueAtPointer(after, "/list/2"), 4);
  EXPECT_EQ(valueAtPointer(after, "/list/3"), nullptr);
  EXPECT_EQ(valueAtPointer(after, "no-slash"), nullptr);
}

TEST(DescribeChanges, IsBounded) {
  json before = json::object(), after = json::object();
  for (int i = 0; i < 30; ++i) {
    before["/data/k" + std::to_string(i)] = std::string(500, 'x');
    after["/data/k" + std::to_string(i)] = "y";
  }
  std::string text = describeChanges(before, after);
  EXPECT_LT(text.size(), 3000u);
  EXPECT_NE(text.find("; and 10 more"), std::string::npos) << text;
}

TEST_F(PatchActionTest, StrategicMergeSetsAnEnvVarRollsThePodsAndRevertRestoresIt) {
  createDeployment("web", 2, {{"A", "1"}, {"B", "2"}, {"LOG_LEVEL", "info"}});
  auto hashesBefore = podTemplateHashes("web");
  ASSERT_EQ(hashesBefore.size(), 1u);
  auto patch = makePatchAction();
  auto c = context();
  json params = strategicEnvPatch("debug");
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["changed"], std::string(kEnvPath) + ": \"info\" -> \"debug\"");
  EXPECT_EQ(outcome.changedFrom, json({{kEnvPath, "info"}}));
  EXPECT_EQ(outcome.changedTo, json({{kEnvPath, "debug"}}));
  EXPECT_EQ(envValue("web", "LOG_LEVEL"), "debug");
  EXPECT_EQ(envValue("web", "A"), "1");

  // The new template rolls out: a new ReplicaSet's pods replace the old.
  std::set<std::string> hashesAfter;
  ASSERT_TRUE(eventually([&] {
    hashesAfter = podTemplateHashes("web");
    auto d = deployment("web");
    return hashesAfter.size() == 1 && *hashesAfter.begin() != *hashesBefore.begin() &&
           d["status"].value("updatedReplicas", 0) == 2 &&
           d["status"].value("readyReplicas", 0) == 2;
  }));

  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_NE(reverted.message.find(kEnvPath), std::string::npos) << reverted.message;
  EXPECT_EQ(envValue("web", "LOG_LEVEL"), "info");
  // Reverting again changes nothing and says so.
  auto again = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(again.kind, RevertKind::kReverted) << again.message;
  ASSERT_TRUE(eventually([&] {
    auto hashes = podTemplateHashes("web");
    return hashes.size() == 1 && *hashes.begin() == *hashesBefore.begin();
  }));
}

TEST_F(PatchActionTest, RevertIsRefusedWhenSomeoneChangedTheValueSince) {
  createDeployment("web", 1, {{"A", "1"}, {"B", "2"}, {"LOG_LEVEL", "info"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = strategicEnvPatch("debug");
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;

  // A human sets the same variable with their own client.
  auto human = newClient();
  kube::PatchOptions smp;
  smp.type = kube::PatchType::StrategicMerge;
  ASSERT_TRUE(human
                  ->patch(kube::resources::deployments(), namespace_, "web",
                          setEnv("LOG_LEVEL", "warn").dump(), smp)
                  .ok());

  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kRefused) << reverted.message;
  EXPECT_NE(reverted.message.find(kEnvPath), std::string::npos) << reverted.message;
  EXPECT_NE(reverted.message.find("\"warn\""), std::string::npos) << reverted.message;
  EXPECT_NE(reverted.message.find("\"debug\""), std::string::npos) << reverted.message;
  EXPECT_EQ(envValue("web", "LOG_LEVEL"), "warn");
}

TEST_F(PatchActionTest, RevertIsRefusedWhenTheValueChangesBetweenItsReadAndItsWrite) {
  createDeployment("web", 1, {{"A", "1"}, {"B", "2"}, {"LOG_LEVEL", "info"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = strategicEnvPatch("debug");
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;

  auto human = newClient();
  testing::InterferingClient racing(
      *client_,
      [](const std::string& verb, const kube::PatchOptions& o) {
        return verb == "patch" && o.type == kube::PatchType::Json && !o.dryRun;
      },
      [&] {
        kube::PatchOptions smp;
        smp.type = kube::PatchType::StrategicMerge;
        ASSERT_TRUE(human
                        ->patch(kube::resources::deployments(), namespace_, "web",
                                setEnv("LOG_LEVEL", "warn").dump(), smp)
                        .ok());
      });
  auto rc = context();
  rc.client = &racing;
  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, rc);
  EXPECT_EQ(racing.interferences(), 1);
  EXPECT_EQ(reverted.kind, RevertKind::kRefused) << reverted.message;
  EXPECT_NE(reverted.message.find(kEnvPath), std::string::npos) << reverted.message;
  EXPECT_EQ(envValue("web", "LOG_LEVEL"), "warn");
}

TEST_F(PatchActionTest, AChangeBetweenTheReadAndTheWriteIsNotOverwrittenAndIsRecomputed) {
  createDeployment("web", 1, {{"A", "1"}, {"B", "2"}, {"LOG_LEVEL", "info"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = strategicEnvPatch("debug");
  auto prepared = patch->prepare(params, c);
  ASSERT_EQ(prepared.kind, OutcomeKind::kSucceeded) << prepared.message;
  c.baseline = prepared.outputs;
  // A human removes env A just before Remedy's write: LOG_LEVEL moves
  // from index 2 to 1, so the change computed before no longer fits.
  testing::InterferingClient racing(
      *client_,
      [](const std::string& verb, const kube::PatchOptions& o) {
        return verb == "patch" && o.type == kube::PatchType::StrategicMerge && !o.dryRun;
      },
      [&] {
        json remove =
            json::array({{{"op", "remove"}, {"path", "/spec/template/spec/containers/0/env/0"}}});
        kube::PatchOptions jp;
        jp.type = kube::PatchType::Json;
        ASSERT_TRUE(
            newClient()
                ->patch(kube::resources::deployments(), namespace_, "web", remove.dump(), jp)
                .ok());
      });
  c.client = &racing;
  auto outcome = patch->run(params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(racing.interferences(), 1);
  const char* moved = "/spec/template/spec/containers/0/env/1/value";
  EXPECT_EQ(outcome.changedFrom, json({{moved, "info"}}));
  EXPECT_EQ(outcome.changedTo, json({{moved, "debug"}}));
  EXPECT_EQ(envValue("web", "A"), "<absent>");
  EXPECT_EQ(envValue("web", "LOG_LEVEL"), "debug");
  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_EQ(envValue("web", "LOG_LEVEL"), "info");
}

TEST_F(PatchActionTest, RevertOfADeletedObjectFails) {
  createConfigMap("settings", {{"mode", "normal"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = {{"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
                 {"mergePatch", {{"data", {{"mode", "maintenance"}}}}}};
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  ASSERT_TRUE(client_->remove(kube::resources::configMaps(), namespace_, "settings").ok());
  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kFailed);
  EXPECT_NE(reverted.message.find("no longer exists"), std::string::npos) << reverted.message;
}

TEST_F(PatchActionTest, AKindNotOnTheAllowListIsRefused) {
  createConfigMap("settings", {{"mode", "normal"}});
  auto patch = makePatchAction();
  auto c = context();
  json secret = {{"target", {{"kind", "Secret"}, {"name", "creds"}}},
                 {"mergePatch", {{"data", {{"x", "eA=="}}}}}};
  auto prepared = patch->prepare(secret, c);
  EXPECT_EQ(prepared.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(prepared.message.find("patch.target.kind"), std::string::npos) << prepared.message;
  auto run = patch->run(secret, c);
  EXPECT_EQ(run.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(run.message.find("patch.target.kind: a Secret is never the target of a step"),
            std::string::npos)
      << run.message;
  // Not even when an allow-list names it.
  PatchActionOptions secrets;
  secrets.allowedKinds = {"Secret"};
  auto listed = makePatchAction(secrets)->run(secret, c);
  EXPECT_EQ(listed.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(listed.message.find("a Secret is never the target of a step"), std::string::npos);

  // The operator's options decide: ConfigMap taken off the list.
  PatchActionOptions options;
  options.allowedKinds = {"Deployment"};
  auto narrow = makePatchAction(options);
  json cm = {{"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
             {"mergePatch", {{"data", {{"mode", "maintenance"}}}}}};
  auto refused = narrow->run(cm, c);
  EXPECT_EQ(refused.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(refused.message.find("patch.target.kind: ConfigMap"), std::string::npos);
  EXPECT_EQ(configMapNamed("settings")["data"]["mode"], "normal");
}

TEST_F(PatchActionTest, ExactlyOnePatchIsRequired) {
  auto patch = makePatchAction();
  auto none = patch->run({{"target", {{"kind", "ConfigMap"}, {"name", "x"}}}}, context());
  EXPECT_EQ(none.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(none.message.find("exactly one of"), std::string::npos) << none.message;
  auto two = patch->run({{"target", {{"kind", "ConfigMap"}, {"name", "x"}}},
                         {"mergePatch", json::object()},
                         {"jsonPatch", json::array()}},
                        context());
  EXPECT_EQ(two.kind, OutcomeKind::kPermanentFailure);
}

TEST_F(PatchActionTest, MergePatchOnAConfigMapAndItsRevert) {
  createConfigMap("settings", {{"mode", "normal"}, {"old", "legacy"}, {"kept", "k"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = {
      {"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
      {"mergePatch", {{"data", {{"mode", "maintenance"}, {"added", "yes"}, {"old", nullptr}}}}}};
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.changedFrom,
            json({{"/data/added", nullptr}, {"/data/mode", "normal"}, {"/data/old", "legacy"}}));
  EXPECT_EQ(outcome.changedTo,
            json({{"/data/added", "yes"}, {"/data/mode", "maintenance"}, {"/data/old", nullptr}}));
  EXPECT_EQ(outcome.outputs["changed"],
            "/data/added: <absent> -> \"yes\"; /data/mode: \"normal\" -> \"maintenance\"; "
            "/data/old: \"legacy\" -> <absent>");
  EXPECT_EQ(configMapNamed("settings")["data"],
            json({{"mode", "maintenance"}, {"added", "yes"}, {"kept", "k"}}));

  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_EQ(configMapNamed("settings")["data"],
            json({{"mode", "normal"}, {"old", "legacy"}, {"kept", "k"}}));
}

TEST_F(PatchActionTest, JsonPatchAddsAndReplacesAndItsRevertRemovesWhatItAdded) {
  createConfigMap("settings", {{"mode", "normal"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = {
      {"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
      {"jsonPatch", json::array({{{"op", "test"}, {"path", "/data/mode"}, {"value", "normal"}},
                                 {{"op", "replace"}, {"path", "/data/mode"}, {"value", "drain"}},
                                 {{"op", "add"},
                                  {"path", "/metadata/labels"},
                                  {"value", {{"remedy.dev/touched", "true"}}}}})}};
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.changedFrom, json({{"/data/mode", "normal"}, {"/metadata/labels", nullptr}}));
  EXPECT_EQ(outcome.changedTo, json({{"/data/mode", "drain"},
                                     {"/metadata/labels", {{"remedy.dev/touched", "true"}}}}));
  auto cm = configMapNamed("settings");
  EXPECT_EQ(cm["data"]["mode"], "drain");
  EXPECT_EQ(cm["metadata"]["labels"]["remedy.dev/touched"], "true");

  auto reverted = patch->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  cm = configMapNamed("settings");
  EXPECT_EQ(cm["data"]["mode"], "normal");
  EXPECT_FALSE(cm["metadata"].contains("labels")) << cm.dump();
}

TEST_F(PatchActionTest, AJsonPatchWhoseTestFailsIsAPermanentFailure) {
  createConfigMap("settings", {{"mode", "normal"}});
  auto patch = makePatchAction();
  json params = {
      {"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
      {"jsonPatch", json::array({{{"op", "test"}, {"path", "/data/mode"}, {"value", "x"}},
                                 {{"op", "remove"}, {"path", "/data/mode"}}})}};
  auto c = context();
  auto prepared = patch->prepare(params, c);
  EXPECT_EQ(prepared.kind, OutcomeKind::kPermanentFailure) << prepared.message;
  auto run = patch->run(params, c);
  EXPECT_EQ(run.kind, OutcomeKind::kPermanentFailure) << run.message;
  EXPECT_EQ(configMapNamed("settings")["data"]["mode"], "normal");
}

TEST_F(PatchActionTest, DryRunReportsTheChangeAndWritesNothing) {
  createConfigMap("settings", {{"mode", "normal"}});
  std::string rv = kube::resourceVersionOf(configMapNamed("settings"));
  auto patch = makePatchAction();
  auto c = context();
  c.dryRun = true;
  json params = {{"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
                 {"mergePatch", {{"data", {{"mode", "maintenance"}}}}}};
  auto outcome = prepareAndRun(*patch, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_NE(outcome.message.find("dry run"), std::string::npos);
  EXPECT_EQ(outcome.outputs["changed"], "/data/mode: \"normal\" -> \"maintenance\"");
  EXPECT_TRUE(outcome.changedFrom.is_null());
  auto cm = configMapNamed("settings");
  EXPECT_EQ(kube::resourceVersionOf(cm), rv);
  EXPECT_EQ(cm["data"]["mode"], "normal");
}

TEST_F(PatchActionTest, ARetryAfterACrashWritesOnceAndReportsTheFirstChange) {
  createConfigMap("settings", {{"mode", "normal"}});
  auto patch = makePatchAction();
  auto c = context();
  json params = {{"target", {{"kind", "ConfigMap"}, {"name", "settings"}}},
                 {"mergePatch", {{"data", {{"mode", "maintenance"}}}}}};
  auto first = prepareAndRun(*patch, params, c);
  ASSERT_EQ(first.kind, OutcomeKind::kSucceeded) << first.message;
  std::string rv = kube::resourceVersionOf(configMapNamed("settings"));
  // The engine crashed before recording the outcome: the same attempt runs
  // again with the same baseline.
  auto second = patch->run(params, c);
  ASSERT_EQ(second.kind, OutcomeKind::kSucceeded) << second.message;
  EXPECT_EQ(kube::resourceVersionOf(configMapNamed("settings")), rv);
  EXPECT_EQ(second.changedFrom, json({{"/data/mode", "normal"}}));
  EXPECT_EQ(second.changedTo, json({{"/data/mode", "maintenance"}}));
  EXPECT_EQ(second.outputs["changed"], first.outputs["changed"]);
}

TEST_F(PatchActionTest, ApplyCreatesANetworkPolicyOwnedByTheIncidentAndRevertDeletesIt) {
  auto apply = makeApplyAction();
  auto c = ownedContext();
  json params = {{"manifest", blockPolicy()}};
  auto outcome = prepareAndRun(*apply, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.changedFrom, json({{"existed", false}}));
  EXPECT_EQ(outcome.changedTo["/spec"], blockPolicy()["spec"]);
  EXPECT_EQ(outcome.outputs["changed"], "created NetworkPolicy " + namespace_ + "/block-abuser");
  auto policy = client_->get(networkPolicies(), namespace_, "block-abuser");
  ASSERT_TRUE(policy.ok()) << policy.status().toString();
  const json& refs = (*policy)["metadata"]["ownerReferences"];
  ASSERT_EQ(refs.size(), 1u) << policy->dump();
  EXPECT_EQ(refs[0]["uid"], c.owner["metadata"]["uid"]);
  EXPECT_EQ(refs[0]["kind"], "ConfigMap");
  EXPECT_EQ(refs[0]["name"], "owner");

  // A retry of the same attempt finds it and still reports the creation.
  auto retry = apply->run(params, c);
  ASSERT_EQ(retry.kind, OutcomeKind::kSucceeded) << retry.message;
  EXPECT_EQ(retry.changedFrom, json({{"existed", false}}));

  auto reverted = apply->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  auto gone = client_->get(networkPolicies(), namespace_, "block-abuser");
  EXPECT_TRUE(!gone.ok() && kube::isNotFound(gone.status()));
}

TEST_F(PatchActionTest, ApplyRevertLeavesACreatedObjectAloneWhenSomeoneChangedIt) {
  auto apply = makeApplyAction();
  auto c = ownedContext();
  json params = {{"manifest", blockPolicy()}};
  auto outcome = prepareAndRun(*apply, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  json change = {{"spec", {{"policyTypes", json::array({"Ingress", "Egress"})}}}};
  ASSERT_TRUE(
      newClient()->patch(networkPolicies(), namespace_, "block-abuser", change.dump()).ok());
  auto reverted = apply->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kRefused) << reverted.message;
  EXPECT_NE(reverted.message.find("/spec"), std::string::npos) << reverted.message;
  EXPECT_TRUE(client_->get(networkPolicies(), namespace_, "block-abuser").ok());
}

TEST_F(PatchActionTest, ApplyOfAnExistingConfigMapRecordsThePreviousValuesAndRevertRestoresThem) {
  createConfigMap("settings", {{"mode", "normal"}, {"kept", "k"}});
  auto apply = makeApplyAction();
  auto c = ownedContext();
  json manifest = configMap("settings", {{"mode", "maintenance"}, {"reason", "incident"}});
  manifest["metadata"].erase("namespace");
  json params = {{"manifest", manifest}};
  auto outcome = prepareAndRun(*apply, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.changedFrom, json({{"/data/mode", "normal"}, {"/data/reason", nullptr}}));
  EXPECT_EQ(outcome.changedTo, json({{"/data/mode", "maintenance"}, {"/data/reason", "incident"}}));
  EXPECT_NE(outcome.outputs["changed"].find("/data/mode: \"normal\" -> \"maintenance\""),
            std::string::npos);
  auto cm = configMapNamed("settings");
  EXPECT_EQ(cm["data"], json({{"mode", "maintenance"}, {"reason", "incident"}, {"kept", "k"}}));
  // An object that existed is never made the Incident's: the garbage
  // collector would delete it with the Incident.
  EXPECT_FALSE(cm["metadata"].contains("ownerReferences")) << cm.dump();

  auto reverted = apply->revert(params, outcome.changedFrom, outcome.changedTo, context());
  EXPECT_EQ(reverted.kind, RevertKind::kReverted) << reverted.message;
  EXPECT_EQ(configMapNamed("settings")["data"], json({{"mode", "normal"}, {"kept", "k"}}));
}

TEST_F(PatchActionTest, ApplyRefusesKindsNotAllowedAndOwnersInOtherNamespaces) {
  auto apply = makeApplyAction();
  json secret = {
      {"manifest", {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}}}}}};
  auto refused = apply->run(secret, context());
  EXPECT_EQ(refused.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(refused.message.find("apply.manifest.kind: a Secret is never the target of a step"),
            std::string::npos)
      << refused.message;

  json elsewhere = {{"manifest", configMap("elsewhere")}};
  elsewhere["manifest"]["metadata"]["namespace"] = "kube-system";
  auto crossNamespace = apply->run(elsewhere, context());
  EXPECT_EQ(crossNamespace.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(crossNamespace.message.find("apply.ownedBy"), std::string::npos)
      << crossNamespace.message;
}

TEST_F(PatchActionTest, ApplyDryRunCreatesNothing) {
  auto apply = makeApplyAction();
  auto c = ownedContext();
  c.dryRun = true;
  json params = {{"manifest", configMap("fresh", {{"a", "b"}})}};
  auto outcome = prepareAndRun(*apply, params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_NE(outcome.message.find("dry run: would create ConfigMap"), std::string::npos)
      << outcome.message;
  auto absent = client_->get(kube::resources::configMaps(), namespace_, "fresh");
  EXPECT_TRUE(!absent.ok() && kube::isNotFound(absent.status()));
}

TEST(KubernetesActionRegistry, HoldsPatchApplyAndWaitForResolved) {
  auto registry = kubernetesActionRegistry(KubernetesActionOptions{});
  for (const char* field : {"scale", "patch", "apply", "waitForResolved", "runJob"}) {
    EXPECT_NE(registry->find(field), nullptr) << field;
  }
}

}  // namespace
}  // namespace remedy::actions
