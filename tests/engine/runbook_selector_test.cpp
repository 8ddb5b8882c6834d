// The Runbook selector and the targets an Incident not matched yet will
// have (predictTargets), as pure functions of the cached Runbooks: no API
// server.
#include "engine/runbook_selector.h"

#include "api/yaml_json.h"

#include <gtest/gtest.h>

namespace remedy::engine {
namespace {

using json = nlohmann::json;

json runbook(const std::string& name, const std::string& specYaml) {
  auto spec = api::yamlToJson(specYaml);
  EXPECT_TRUE(spec.ok()) << spec.error();
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Runbook"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec", spec.ok() ? *spec : json::object()}};
}

api::Incident incident(const std::string& alertName, const json& labels) {
  json object = {{"apiVersion", "remedy.dev/v1alpha1"},
                 {"kind", "Incident"},
                 {"metadata", {{"name", "i1"}, {"namespace", "shop"}}},
                 {"spec", {{"alert", {{"name", alertName}, {"labels", labels}}}}}};
  auto parsed = api::Incident::fromJson(object);
  EXPECT_TRUE(parsed.ok());
  return *parsed;
}

const char* kScaleFromLabel = R"(
triggers: [{alertName: HighLatency}]
steps:
  - name: scale-up
    scale: {target: {name: '{{ alert.labels.deployment }}'}, replicas: "+1"}
  - name: tell
    notify: {url: 'http://chat.example/hook', message: scaled}
)";

TEST(PredictTargetsTest, TheStepsTargetsRenderedFromTheAlert) {
  auto targets = predictTargets(incident("HighLatency", {{"deployment", "web"}}),
                                {runbook("rb", kScaleFromLabel)});
  ASSERT_TRUE(targets.has_value());
  EXPECT_EQ(*targets, (std::set<std::string>{"Deployment/shop/web"}));
}

TEST(PredictTargetsTest, ParametersAreResolvedFirst) {
  auto targets = predictTargets(incident("HighLatency", {{"service", "api"}}), {runbook("rb", R"(
triggers: [{alertName: HighLatency}]
parameters:
  - name: deployment
    value: '{{ alert.labels.service }}-v2'
steps:
  - name: scale-up
    scale: {target: {name: '{{ params.deployment }}'}, replicas: "+1"}
  - name: restart
    rolloutRestart: {target: {kind: StatefulSet, name: cache}}
)")});
  ASSERT_TRUE(targets.has_value());
  EXPECT_EQ(*targets, (std::set<std::string>{"Deployment/shop/api-v2", "StatefulSet/shop/cache"}));
}

TEST(PredictTargetsTest, TheMostSpecificRunbookIsTheOnePredicted) {
  std::vector<json> runbooks = {runbook("any", kScaleFromLabel), runbook("checkout", R"(
triggers: [{alertName: HighLatency, labels: {service: checkout}}]
steps:
  - name: scale-up
    scale: {target: {name: checkout-api}, replicas: "+1"}
)")};
  auto targets = predictTargets(
      incident("HighLatency", {{"service", "checkout"}, {"deployment", "web"}}), runbooks);
  ASSERT_TRUE(targets.has_value());
  EXPECT_EQ(*targets, (std::set<std::string>{"Deployment/shop/checkout-api"}));
  RunbookSelection chosen = selectRunbook(runbooks, "HighLatency", {{"service", "checkout"}});
  ASSERT_TRUE(chosen.runbook.has_value());
  EXPECT_EQ((*chosen.runbook)["metadata"]["name"], "checkout");
  EXPECT_EQ(chosen.candidates, (std::vector<std::string>{"any", "checkout"}));
}

TEST(PredictTargetsTest, UnknownWhenNoRunbookMatchesYet) {
  EXPECT_FALSE(predictTargets(incident("DiskFull", {{"deployment", "web"}}),
                              {runbook("rb", kScaleFromLabel)})
                   .has_value());
  EXPECT_FALSE(predictTargets(incident("HighLatency", {}), {}).has_value());
}

TEST(PredictTargetsTest, UnknownWhenATargetDoesNotRender) {
  // No `deployment` label: the target's template fails.
  EXPECT_FALSE(predictTargets(incident("HighLatency", {{"service", "api"}}),
                              {runbook("rb", kScaleFromLabel)})
                   .has_value());
}

TEST(PredictTargetsTest, UnknownWhenATargetNamesAPodToResolve) {
  EXPECT_FALSE(
      predictTargets(incident("KubePodCrashLooping", {{"pod", "web-5d8f-x2x"}}), {runbook("rb", R"(
triggers: [{alertName: KubePodCrashLooping}]
steps:
  - name: restart
    rolloutRestart: {target: {pod: '{{ alert.labels.pod }}', owner: Deployment}}
)")})
          .has_value());
}

TEST(PredictTargetsTest, UnknownWhenAParameterFails) {
  EXPECT_FALSE(predictTargets(incident("HighLatency", {{"deployment", "Web!"}}), {runbook("rb", R"(
triggers: [{alertName: HighLatency}]
parameters:
  - name: deployment
    value: '{{ alert.labels.deployment }}'
    pattern: '[a-z0-9-]+'
steps:
  - name: scale-up
    scale: {target: {name: '{{ params.deployment }}'}, replicas: "+1"}
)")})
                   .has_value());
}

TEST(PredictTargetsTest, AnInvalidRunbookIsNeverPredicted) {
  // A step with two actions is invalid: the reconciler would not match it.
  EXPECT_FALSE(predictTargets(incident("HighLatency", {{"deployment", "web"}}), {runbook("rb", R"(
triggers: [{alertName: HighLatency}]
steps:
  - name: scale-up
    scale: {target: {name: web}, replicas: "+1"}
    rolloutRestart: {target: {name: web}}
)")})
                   .has_value());
}

}  // namespace
}  // namespace remedy::engine
