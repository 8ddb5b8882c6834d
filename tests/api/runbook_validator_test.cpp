// Semantic validation: every error with its field path, in the words a
// person fixing the Runbook needs. (runbooks/invalid/ holds one file per
// mistake; these tests cover the rules case by case.)
#include "api/runbook_validator.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using nlohmann::json;

json runbookWith(const json& spec) {
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Runbook"},
          {"metadata", {{"name", "db-pool"}, {"namespace", "shop"}}},
          {"spec", spec}};
}

// Takes a vector: `{step}` as a json argument would copy the step, not make a list.
json stepsOnly(const std::vector<json>& steps) {
  return runbookWith({{"triggers", {{{"alertName", "A"}}}}, {"steps", json(steps)}});
}

std::vector<std::string> errorsOf(const json& runbook) {
  std::vector<std::string> out;
  for (const ValidationError& e : validateRunbook(runbook)) out.push_back(e.str());
  return out;
}

std::vector<std::string> stepErrors(const std::vector<json>& steps) {
  return errorsOf(stepsOnly(steps));
}

const json kRestart = {{"name", "restart"}, {"rolloutRestart", {{"target", {{"name", "api"}}}}}};

TEST(ValidateRunbook, AMinimalRunbookIsValid) {
  EXPECT_EQ(stepErrors({kRestart}), std::vector<std::string>{});
}

TEST(ValidateRunbook, TwoActionsGiveOneMessageNotASchemaEcho) {
  json step = kRestart;
  step["scale"] = {{"target", {{"name", "api"}}}, {"replicas", 2}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{
                "spec.steps[0]: has 2 actions (scale, rolloutRestart); a step takes exactly one"});
}

TEST(ValidateRunbook, ReportsEveryErrorSortedByField) {
  json steps = json::array();
  for (int i = 0; i < 12; ++i) {
    steps.push_back({{"name", "s" + std::to_string(i)},
                     {"timeout", i == 2 || i == 10 ? "soon" : "1m"},
                     {"rolloutRestart", {{"target", {{"name", "api"}}}}}});
  }
  std::vector<std::string> errors = stepErrors(steps);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].rfind("spec.steps[2].timeout: \"soon\" is not a duration", 0), 0u);
  EXPECT_EQ(errors[1].rfind("spec.steps[10].timeout: \"soon\" is not a duration", 0), 0u);
}

TEST(ValidateRunbook, ChecksMetadataAndKind) {
  json rb = stepsOnly({kRestart});
  rb["metadata"] = {{"name", "DB_Pool"}};
  EXPECT_EQ(errorsOf(rb),
            std::vector<std::string>{"metadata.name: \"DB_Pool\" is not a valid name: lowercase "
                                     "letters, digits, '-' and '.', starting and ending with a "
                                     "letter or digit"});
  rb["metadata"] = json::object();
  EXPECT_EQ(errorsOf(rb), std::vector<std::string>{"metadata.name: Required value"});
  rb["metadata"] = {{"generateName", "db-pool-"}};
  EXPECT_EQ(errorsOf(rb), std::vector<std::string>{});
  EXPECT_EQ(errorsOf(json::array()), std::vector<std::string>{"a Runbook must be an object"});
}

TEST(ValidateRunbook, TemplatesEverywhereInAnActionAreChecked) {
  json job = {{"name", "job"},
              {"runJob",
               {{"template",
                 {{"spec",
                   {{"containers",
                     {{{"name", "c"},
                       {"image", "busybox"},
                       {"command", {"echo", "{{ params.missing }}"}}}}}}}}}}}};
  EXPECT_EQ(stepErrors({job}), std::vector<std::string>{
                                   "spec.steps[0].runJob.template.spec.containers[0].command[1]: "
                                   "{{ params.missing }} refers to unknown parameter \"missing\""});
  json apply = {{"name", "apply"},
                {"apply",
                 {{"manifest",
                   {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"name", "x"}}},
                    {"data", {{"k", "{{ alert.lables.x }}"}}}}}}}};
  std::vector<std::string> errors = stepErrors({apply});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].apply.manifest.data.k: {{ alert.lables.x }} refers to "
                            "unknown alert field \"lables\" (did you mean \"labels\"?)",
                            0),
            0u);
}

TEST(ValidateRunbook, ParametersMayOnlyUseEarlierParameters) {
  json rb = runbookWith({{"triggers", {{{"alertName", "A"}}}},
                         {"parameters",
                          {{{"name", "a"}, {"value", "{{ params.b }}"}},
                           {{"name", "b"}, {"value", "{{ alert.labels.b }}"}},
                           {{"name", "c"}, {"value", "{{ params.b }}-x"}},
                           {{"name", "d"}}}},
                         {"steps", {kRestart}}});
  EXPECT_EQ(errorsOf(rb),
            (std::vector<std::string>{
                "spec.parameters[0].value: {{ params.b }} refers to parameter \"b\", which is "
                "defined after this one",
                "spec.parameters[3]: set value (a template such as {{ alert.labels.deployment }}), "
                "default, or both"}));
}

TEST(ValidateRunbook, ParameterPatternsMustCompileAndDefaultsAreLiteral) {
  json rb = runbookWith({{"triggers", {{{"alertName", "A"}}}},
                         {"parameters",
                          {{{"name", "a"}, {"default", "x"}, {"pattern", "[a-"}},
                           {{"name", "b"}, {"default", "{{ alert.labels.b }}"}}}},
                         {"steps", {kRestart}}});
  std::vector<std::string> errors = errorsOf(rb);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(
      errors[0].rfind("spec.parameters[0].pattern: \"[a-\" is not a valid regular expression", 0),
      0u);
  EXPECT_EQ(errors[1],
            "spec.parameters[1].default: is a literal value, not a template; put "
            "templates in value");
}

TEST(ValidateRunbook, ParameterPatternsAreAnchoredGoRegexps) {
  auto errorsFor = [](const json& parameter) {
    return errorsOf(runbookWith({{"triggers", {{{"alertName", "A"}}}},
                                 {"parameters", {parameter}},
                                 {"steps", {kRestart}}}));
  };
  EXPECT_EQ(errorsFor({{"name", "a"}, {"default", "ABORT"}, {"pattern", "(?i)(abort|warn)"}}),
            std::vector<std::string>{});
  EXPECT_EQ(errorsFor({{"name", "a"}, {"default", "abort-now"}, {"pattern", "(?i)(abort|warn)"}}),
            std::vector<std::string>{"spec.parameters[0].default: \"abort-now\" does not match "
                                     "pattern \"(?i)(abort|warn)\""});
  EXPECT_EQ(errorsFor({{"name", "a"}, {"default", "x"}, {"pattern", "(?<word>x)"}}),
            std::vector<std::string>{});
  EXPECT_EQ(errorsFor({{"name", "a"}, {"default", "x"}, {"pattern", "(?=x)"}}),
            std::vector<std::string>{
                "spec.parameters[0].pattern: \"(?=x)\" is not a valid regular expression: error "
                "parsing regexp: invalid or unsupported Perl syntax: `(?=`"});
}

TEST(ValidateRunbook, QueryPatternsArePostgresRegularExpressions) {
  json conn = {{"secretKeyRef", {{"name", "pg"}, {"key", "uri"}}}};
  auto errorsFor = [&](const std::string& pattern) {
    json step = {
        {"name", "pg"},
        {"postgres", {{"connection", conn}, {"cancelBackends", {{"queryPattern", pattern}}}}}};
    return stepErrors({step});
  };
  // PostgreSQL's own syntax that Go's lacks: back-references, lookahead,
  // word boundaries.
  for (const char* postgres : {"(select).*\\1", "^(?=select)", "\\mselect\\M"}) {
    EXPECT_EQ(errorsFor(postgres), std::vector<std::string>{}) << postgres;
  }
  EXPECT_EQ(errorsFor("select)"),
            std::vector<std::string>{"spec.steps[0].postgres.cancelBackends.queryPattern: "
                                     "\"select)\" is not a valid regular expression: error "
                                     "parsing regexp: unexpected ): `select)`"});
}

TEST(ValidateRunbook, DuplicateParameterNamesGetOneMessage) {
  json rb = runbookWith(
      {{"triggers", {{{"alertName", "A"}}}},
       {"parameters", {{{"name", "a"}, {"default", "x"}}, {{"name", "a"}, {"default", "y"}}}},
       {"steps", {kRestart}}});
  EXPECT_EQ(errorsOf(rb), std::vector<std::string>{
                              "spec.parameters[1].name: duplicate parameter name \"a\" (also "
                              "spec.parameters[0])"});
}

TEST(ValidateRunbook, ScaleBoundsAndGuardrails) {
  auto scale = [](json replicas, json extra = json::object()) {
    json body = {{"target", {{"name", "api"}}}, {"replicas", replicas}};
    body.update(extra);
    return json{{"name", "scale"}, {"scale", body}};
  };
  EXPECT_EQ(stepErrors({scale(-1)}),
            std::vector<std::string>{"spec.steps[0].scale.replicas: -1 is negative"});
  EXPECT_EQ(stepErrors({scale(9, {{"maxReplicas", 5}})}),
            std::vector<std::string>{"spec.steps[0].scale.replicas: 9 is above maxReplicas (5)"});
  EXPECT_EQ(stepErrors({scale("1", {{"minReplicas", 2}})}),
            std::vector<std::string>{"spec.steps[0].scale.replicas: 1 is below minReplicas (2)"});
  EXPECT_EQ(stepErrors({scale("+0")}),
            std::vector<std::string>{"spec.steps[0].scale.replicas: a change of 0 does nothing"});
  EXPECT_EQ(stepErrors({scale("{{ params.n }}")}),
            std::vector<std::string>{
                "spec.steps[0].scale.replicas: {{ params.n }} refers to unknown parameter \"n\""});
  json rb = runbookWith(
      {{"triggers", {{{"alertName", "A"}}}},
       {"steps", {scale("+5")}},
       {"guardrails", {{"scale", {{"minReplicas", 4}, {"maxReplicas", 2}, {"maxChange", 3}}}}}});
  EXPECT_EQ(errorsOf(rb),
            (std::vector<std::string>{
                "spec.guardrails.scale.minReplicas: 4 is greater than maxReplicas (2)",
                "spec.steps[0].scale.replicas: a change of +5 exceeds "
                "spec.guardrails.scale.maxChange (3)"}));
}

TEST(ValidateRunbook, TargetsNeedAnApiVersionForUnknownKindsAndValidNames) {
  json step = {
      {"name", "wait"},
      {"waitFor", {{"target", {{"kind", "Rollout"}, {"name", "Api"}}}, {"state", "Exists"}}}};
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].waitFor.target.apiVersion: Required value: kind \"Rollout\" has "
                "no default apiVersion",
                "spec.steps[0].waitFor.target.name: \"Api\" is not a valid object name"}));
  step["waitFor"]["target"] = {{"apiVersion", "argoproj.io/v1alpha1"},
                               {"kind", "Rollout"},
                               {"name", "{{ alert.labels.rollout }}"}};
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{});
}

TEST(ValidateRunbook, EachActionAcceptsOnlyItsKindsAndNeverASecret) {
  json scale = {
      {"name", "scale"},
      {"scale",
       {{"target", {{"apiVersion", "argoproj.io/v1alpha1"}, {"kind", "Rollout"}, {"name", "api"}}},
        {"replicas", 2}}}};
  EXPECT_EQ(stepErrors({scale}),
            std::vector<std::string>{"spec.steps[0].scale.target.kind: \"Rollout\" is not "
                                     "supported here; use Deployment, StatefulSet or ReplicaSet"});
  scale["scale"]["target"] = {
      {"apiVersion", "extensions/v1beta1"}, {"kind", "Deployment"}, {"name", "api"}};
  EXPECT_EQ(stepErrors({scale}),
            std::vector<std::string>{
                "spec.steps[0].scale.target.kind: \"Deployment\" of API group \"extensions\" is "
                "not supported here; use Deployment, StatefulSet or ReplicaSet"});
  const std::string secret =
      ": a Secret is never the target of a step; Remedy reads a Secret only through a "
      "secretKeyRef, one key, in the Runbook's namespace";
  json wait = {
      {"name", "wait"},
      {"waitFor",
       {{"target", {{"kind", "Secret"}, {"name", "webhook-token"}, {"namespace", "remedy-system"}}},
        {"field", {{"path", ".data.token"}, {"value", "x"}}}}}};
  json patch = {{"name", "patch"},
                {"patch",
                 {{"target", {{"kind", "Secret"}, {"name", "db"}}},
                  {"mergePatch", {{"stringData", {{"password", "x"}}}}}}}};
  json apply = {
      {"name", "apply"},
      {"apply",
       {{"manifest", {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "x"}}}}}}}};
  auto errors = stepErrors({wait, patch, apply});
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "spec.steps[0].waitFor.target.kind" + secret,
                        "spec.steps[0].waitFor.target.namespace: \"remedy-system\" is neither "
                        "the Runbook's namespace (shop) nor in spec.guardrails.allowedNamespaces",
                        "spec.steps[1].patch.target.kind" + secret,
                        "spec.steps[2].apply.manifest.kind" + secret}));
}

TEST(ValidateRunbook, APodTargetNamesItsOwnerKindAndNothingElse) {
  json restart = {{"name", "restart"},
                  {"rolloutRestart",
                   {{"target", {{"pod", "{{ alert.labels.pod }}"}, {"owner", "Deployment"}}}}}};
  json scale = {{"name", "scale"},
                {"scale",
                 {{"target", {{"pod", "{{ alert.labels.pod }}"}, {"owner", "StatefulSet"}}},
                  {"replicas", "+1"}}}};
  EXPECT_EQ(stepErrors({restart, scale}), std::vector<std::string>{});

  restart["rolloutRestart"]["target"] = {{"pod", "{{ alert.labels.pod }}"}};
  scale["scale"]["target"] = {{"owner", "Deployment"}, {"name", "api"}};
  json wait = {{"name", "wait"},
               {"waitFor",
                {{"target", {{"pod", "api-1"}, {"owner", "DaemonSet"}, {"kind", "Deployment"}}},
                 {"state", "Exists"}}}};
  EXPECT_EQ(stepErrors({restart, scale, wait}),
            (std::vector<std::string>{
                "spec.steps[0].rolloutRestart.target: with pod, set owner (Deployment or "
                "StatefulSet): the kind of the pod's workload the step acts on",
                "spec.steps[1].scale.target: owner is only used with pod; with name, set kind",
                "spec.steps[2].waitFor.target.kind: the owner kind names the workload; kind is "
                "not used with pod",
                "spec.steps[2].waitFor.target.owner: \"DaemonSet\" is not supported: a pod's "
                "owner is resolved to a Deployment or a StatefulSet"}));
  wait["waitFor"]["target"] = {{"pod", "api-1"}, {"name", "api"}, {"owner", "Deployment"}};
  restart["rolloutRestart"]["target"] = {{"namespace", "shop"}};
  EXPECT_EQ(stepErrors({restart, wait}),
            (std::vector<std::string>{
                "spec.steps[0].rolloutRestart.target: set name (the object), or pod with owner "
                "(the workload that controls a pod, such as the alert's)",
                "spec.steps[1].waitFor.target: set name or pod (with owner), not both"}));
}

TEST(ValidateRunbook, AllowedNamespacesPermitOtherNamespaces) {
  json step = {{"name", "scale"},
               {"scale", {{"target", {{"name", "api"}, {"namespace", "db"}}}, {"replicas", 2}}}};
  json rb = runbookWith({{"triggers", {{{"alertName", "A"}}}},
                         {"steps", {step}},
                         {"guardrails", {{"allowedNamespaces", {"db"}}}}});
  EXPECT_EQ(errorsOf(rb), std::vector<std::string>{});
  step["scale"]["target"]["namespace"] = "shop";
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{});
  step["scale"]["target"]["namespace"] = "{{ alert.labels.namespace }}";
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{}) << "checked when rendered";
}

TEST(ValidateRunbook, DeletePodsNeedsExactlyOneSourceAndSaneSelectors) {
  json step = {{"name", "evict"}, {"deletePods", {{"states", {"Failed"}}}}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{
                "spec.steps[0].deletePods: set target (a workload) or selector (pod labels)"});
  step["deletePods"]["target"] = {{"name", "api"}};
  step["deletePods"]["selector"] = {{"matchLabels", {{"app", "api"}}}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{"spec.steps[0].deletePods: set target or selector, not both"});
  step["deletePods"].erase("selector");
  step["deletePods"]["namespace"] = "shop";
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{"spec.steps[0].deletePods.namespace: is only used with "
                                     "selector; set target.namespace instead"});
  step["deletePods"].erase("namespace");
  step["deletePods"].erase("target");
  step["deletePods"]["selector"] = {{"matchExpressions",
                                     {{{"key", "tier"}, {"operator", "In"}},
                                      {{"key", "x"}, {"operator", "Exists"}, {"values", {"a"}}}}}};
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].deletePods.selector.matchExpressions[0].values: Required value: In "
                "needs at least one value",
                "spec.steps[0].deletePods.selector.matchExpressions[1].values: Exists takes no "
                "values"}));
}

TEST(ValidateRunbook, WaitForPollingAndNumericComparisons) {
  json step = {
      {"name", "wait"},
      {"timeout", "1m"},
      {"waitFor",
       {{"target", {{"name", "api"}}},
        {"field",
         {{"path", ".status.readyReplicas"}, {"operator", "GreaterThan"}, {"value", "three"}}},
        {"pollInterval", "2m"}}}};
  EXPECT_EQ(
      stepErrors({step}),
      (std::vector<std::string>{
          "spec.steps[0].waitFor.field.value: \"three\" is not a number, and GreaterThan "
          "compares numbers",
          "spec.steps[0].waitFor.pollInterval: 2m is not shorter than the step's timeout (1m)"}));
}

TEST(ValidateRunbook, PodLogsNamesOnePodOrOneWorkloadWithBoundedReads) {
  json step = {{"name", "logs"}, {"podLogs", {{"container", "app"}}}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{
                "spec.steps[0].podLogs: set pod (a pod's name, such as '{{ alert.labels.pod }}') "
                "or target (a workload, whose pod with the most restarts is read)"});
  step["podLogs"]["pod"] = "{{ alert.labels.pod }}";
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{});
  step["podLogs"]["target"] = {{"name", "api"}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{"spec.steps[0].podLogs: set pod or target, not both"});
  step["podLogs"].erase("target");
  step["podLogs"]["tailLines"] = 5000;
  step["podLogs"]["limitBytes"] = 0;
  step["podLogs"]["container"] = "App_1";
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].podLogs.container: \"App_1\" is not a valid container name",
                "spec.steps[0].podLogs.limitBytes: 0 is not 1 to 65536 bytes (64 KiB)",
                "spec.steps[0].podLogs.tailLines: 5000 is not 1 to 1000 lines"}));
}

TEST(ValidateRunbook, PodLogsReadsThePodItselfNotItsOwnerAndNeverASecret) {
  json step = {
      {"name", "logs"},
      {"podLogs", {{"target", {{"pod", "{{ alert.labels.pod }}"}, {"owner", "Deployment"}}}}}};
  // The schema's own errors, and the reason.
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].podLogs.target.name: Required value",
                "spec.steps[0].podLogs.target.owner: unknown field "
                "\"spec.steps[0].podLogs.target.owner\"",
                "spec.steps[0].podLogs.target.pod: podLogs reads the pod itself: set podLogs.pod "
                "(such as '{{ alert.labels.pod }}') instead of target.pod"}));
  step["podLogs"]["target"] = {{"kind", "Secret"}, {"name", "db"}};
  std::vector<std::string> errors = stepErrors({step});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].podLogs.target.kind: a Secret is never the target", 0),
            0u)
      << errors[0];
  step["podLogs"]["target"] = {{"kind", "ConfigMap"}, {"name", "db"}};
  errors = stepErrors({step});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("use Deployment, StatefulSet, ReplicaSet, DaemonSet, Job or Pod"),
            std::string::npos)
      << errors[0];
  step["podLogs"] = {{"target", {{"kind", "StatefulSet"}, {"name", "db"}}}, {"namespace", "shop"}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{
                "spec.steps[0].podLogs.namespace: is only used with pod; set target.namespace "
                "instead"});
}

TEST(ValidateRunbook, RunJobLogTailIsBoundedAsPodLogs) {
  json step = {{"name", "job"},
               {"runJob",
                {{"template", {{"spec", {{"containers", {{{"name", "c"}, {"image", "i"}}}}}}}},
                 {"logTail", {{"tailLines", 0}, {"limitBytes", 70000}}}}}};
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].runJob.logTail.limitBytes: 70000 is not 1 to 65536 bytes (64 KiB)",
                "spec.steps[0].runJob.logTail.tailLines: 0 is not 1 to 1000 lines"}));
}

TEST(ValidateRunbook, JobsNeedContainersAndANonRestartingPolicy) {
  json step = {{"name", "job"},
               {"runJob",
                {{"template",
                  {{"spec", {{"restartPolicy", "Always"}, {"containers", {{{"name", "c"}}}}}}}}}}};
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].runJob.template.spec.containers[0].image: Required value",
                "spec.steps[0].runJob.template.spec.restartPolicy: a Job's pods cannot use Always; "
                "use Never or OnFailure"}));
  step["runJob"]["template"]["spec"] = {{"containers", json::array()}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{"spec.steps[0].runJob.template.spec.containers: Required "
                                     "value: a Job needs at least one container"});
}

TEST(ValidateRunbook, PostgresFiltersAndPatterns) {
  json conn = {{"secretKeyRef", {{"name", "pg"}, {"key", "uri"}}}};
  json step = {
      {"name", "pg"},
      {"postgres", {{"connection", conn}, {"cancelBackends", {{"queryPattern", "(select"}}}}}};
  std::vector<std::string> errors = stepErrors({step});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].postgres.cancelBackends.queryPattern: \"(select\" is "
                            "not a valid regular expression",
                            0),
            0u);
  step["postgres"]["cancelBackends"] = {{"states", json::array()}};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{
                "spec.steps[0].postgres.cancelBackends: set at least one filter (olderThan, "
                "states, databases, users, applicationNames or queryPattern); without one it "
                "would cancel every backend"});
  step["postgres"]["activityReport"] = json::object();
  EXPECT_EQ(stepErrors({step})[0],
            "spec.steps[0].postgres: set one of activityReport, cancelBackends, "
            "terminateBackends or query, not activityReport and cancelBackends");
}

TEST(ValidateRunbook, PostgresQueryTakesValuesOnlyAsParameters) {
  json conn = {{"secretKeyRef", {{"name", "pg"}, {"key", "uri"}}}};
  json step = {{"name", "lag"},
               {"postgres",
                {{"connection", conn},
                 {"query",
                  {{"sql", "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"},
                   {"params", {"{{ alert.labels.datname }}"}}}}}}};
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{});
  step["postgres"]["query"]["sql"] =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = '{{ alert.labels.datname }}'";
  step["postgres"]["query"].erase("params");
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{
                                    "spec.steps[0].postgres.query.sql: must not contain templates; "
                                    "put each value in params and write $1, $2, ... in the SQL"});
  step["postgres"]["query"]["sql"] = "SELECT $1::text, $2::int";
  step["postgres"]["query"]["params"] = {"a"};
  EXPECT_EQ(stepErrors({step}),
            std::vector<std::string>{
                "spec.steps[0].postgres.query.params: the SQL uses $2 but params has 1 value"});
  step["postgres"]["query"] = {{"sql", "SELECT 1"}, {"maxRows", 101}};
  std::vector<std::string> errors = stepErrors({step});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("spec.steps[0].postgres.query.maxRows"), std::string::npos) << errors[0];
}

TEST(ValidateRunbook, HttpAndNotifyUrls) {
  json step = json::parse(R"({"name": "call", "http": {"url": "ftp://x",
      "headers": [{"name": "X-A"}, {"name": "X-B", "value": "v"}]}})");
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].http.headers[0]: set value or valueFrom",
                "spec.steps[0].http.url: \"ftp://x\" is not an http:// or https:// URL"}));
  json notify = {{"name", "tell"},
                 {"notify",
                  {{"url", "https://x"},
                   {"urlFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}},
                   {"message", "hi"}}}};
  EXPECT_EQ(stepErrors({notify}),
            std::vector<std::string>{"spec.steps[0].notify: set url or urlFrom, not both"});
  notify["notify"].erase("urlFrom");
  notify["notify"]["url"] = "{{ params.webhook }}";
  EXPECT_EQ(stepErrors({notify}),
            std::vector<std::string>{
                "spec.steps[0].notify.url: {{ params.webhook }} refers to unknown parameter "
                "\"webhook\""});
}

TEST(ValidateRunbook, PatchesMustChangeSomethingAndBeWellFormed) {
  json step = {
      {"name", "patch"},
      {"patch",
       {{"target", {{"kind", "ConfigMap"}, {"name", "flags"}}}, {"mergePatch", json::object()}}}};
  EXPECT_EQ(
      stepErrors({step}),
      std::vector<std::string>{"spec.steps[0].patch.mergePatch: an empty patch changes nothing"});
  step["patch"].erase("mergePatch");
  step["patch"]["jsonPatch"] = {{{"op", "move"}, {"path", "/data/a"}},
                                {{"op", "replace"}, {"path", "/data/b"}}};
  EXPECT_EQ(stepErrors({step}),
            (std::vector<std::string>{
                "spec.steps[0].patch.jsonPatch[0].from: Required value: move needs from",
                "spec.steps[0].patch.jsonPatch[1].value: Required value: replace needs value"}));
  step["patch"]["jsonPatch"] = {{{"op", "replace"}, {"path", "/data/b"}, {"value", nullptr}}};
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{}) << "a null value is a value";
}

TEST(ValidateRunbook, RevertOnlyWhereAChangeCanBeUndone) {
  json conn = {{"secretKeyRef", {{"name", "r"}, {"key", "url"}}}};
  json info = {{"name", "info"},
               {"redis", {{"connection", conn}, {"info", {{"section", "memory"}}}}},
               {"revert", {{"after", "1h"}}}};
  EXPECT_EQ(stepErrors({info}),
            std::vector<std::string>{"spec.steps[0].revert: only scale, patch, apply and "
                                     "redis.configSet changes can be reverted, not other redis "
                                     "operations"});
  json set = {
      {"name", "set"},
      {"redis",
       {{"connection", conn}, {"configSet", {{"parameter", "maxmemory"}, {"value", "2gb"}}}}},
      {"revert", {{"after", "0s"}}}};
  EXPECT_EQ(stepErrors({set}),
            std::vector<std::string>{"spec.steps[0].revert.after: must be longer than 0s"});
  set["revert"] = {{"onResolved", true}};
  EXPECT_EQ(stepErrors({set}), std::vector<std::string>{});
}

TEST(ValidateRunbook, RedisDiagnosisIsOneOperationWithBoundedFieldsAndEscapedPatterns) {
  json conn = {{"secretKeyRef", {{"name", "r"}, {"key", "url"}}}};
  json step = {{"name", "sizes"},
               {"redis", {{"connection", conn}, {"memoryUsage", {{"pattern", "*"}}}}}};
  EXPECT_EQ(stepErrors({step}), std::vector<std::string>{}) << "reading every key is bounded";
  step["redis"]["memoryUsage"]["pattern"] = "session:{{ alert.labels.user }}:*";
  std::vector<std::string> errors = stepErrors({step});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].redis.memoryUsage.pattern: ", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("glob"), std::string::npos) << errors[0];
  step["redis"]["memoryUsage"] = {{"pattern", "session:*"}, {"maxKeys", 100001}};
  errors = stepErrors({step});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].redis.memoryUsage.maxKeys: ", 0), 0u) << errors[0];

  json slow = {{"name", "slow"}, {"redis", {{"connection", conn}, {"slowlog", {{"count", 129}}}}}};
  errors = stepErrors({slow});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].redis.slowlog.count: ", 0), 0u) << errors[0];
  slow["redis"]["slowlog"] = json::object();
  slow["redis"]["info"] = json::object();
  EXPECT_EQ(stepErrors({slow}),
            std::vector<std::string>{"spec.steps[0].redis: set one of info, slowlog, memoryUsage, "
                                     "configSet or deleteKeys, not info and slowlog"});
  slow["redis"].erase("info");
  json use = kRestart;
  use["when"] =
      "steps.slow.outputs.slowestMicroseconds > 100000 and steps.slow.outputs.slowestCommand "
      "== \"KEYS\"";
  EXPECT_EQ(stepErrors({slow, use}), std::vector<std::string>{});
}

TEST(ValidateRunbook, PrometheusQueryBoundsItsSeriesAndOffersTheFirstSamplesLabels) {
  json query = {{"name", "top"},
                {"prometheusQuery",
                 {{"query", "topk(1, container_memory_working_set_bytes)"}, {"maxSeries", 3}}}};
  json use = kRestart;
  use["when"] = "steps.top.outputs.label_pod == \"api-0\" and steps.top.outputs.value > 1e9";
  use["rolloutRestart"]["target"]["name"] = "{{ steps.top.outputs.label_deployment }}";
  EXPECT_EQ(stepErrors({query, use}), std::vector<std::string>{});

  use["when"] = "steps.top.outputs.label_ == \"x\"";
  EXPECT_EQ(stepErrors({query, use}),
            std::vector<std::string>{
                "spec.steps[1].when: steps.top.outputs.label_ refers to output \"label_\", which "
                "step \"top\" (prometheusQuery) does not have (did you mean \"labels\"?); its "
                "outputs are series, value, metric, labels, samples, truncated and label_NAME"});

  for (int bad : {0, 101}) {
    query["prometheusQuery"]["maxSeries"] = bad;
    EXPECT_EQ(stepErrors({query}),
              std::vector<std::string>{"spec.steps[0].prometheusQuery.maxSeries: " +
                                       std::to_string(bad) + " is not 1 to 100 series"});
  }
  query["prometheusQuery"] = {{"query", "up{pod=\"{{ alert.labels.pod }}\"}"},
                              {"url", "prometheus:9090"}};
  std::vector<std::string> errors = stepErrors({query});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].rfind("spec.steps[0].prometheusQuery.query: ", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("promql"), std::string::npos) << errors[0];
  EXPECT_EQ(errors[1],
            "spec.steps[0].prometheusQuery.url: \"prometheus:9090\" is not an http:// "
            "or https:// URL");
  query["prometheusQuery"] = json::object();
  EXPECT_EQ(stepErrors({query}),
            std::vector<std::string>{"spec.steps[0].prometheusQuery.query: Required value"});
}

TEST(ValidateRunbook, WhenConditionsSeeOnlyEarlierSteps) {
  json first = kRestart;
  first["when"] = "steps.check.phase == \"Failed\"";
  json check = {{"name", "check"},
                {"prometheusCheck", {{"query", "up"}, {"operator", "Equal"}, {"threshold", 1}}}};
  EXPECT_EQ(stepErrors({first, check}),
            std::vector<std::string>{
                "spec.steps[0].when: steps.check.phase refers to step \"check\", which runs after "
                "this one"});
  json second = kRestart;
  second["name"] = "restart-2";
  second["when"] = "steps.check.phase == \"Failed\" and steps.check.outputs.value > 0.5";
  EXPECT_EQ(stepErrors({check, second}), std::vector<std::string>{});
  second["when"] = "steps.check.outputs.value > ";
  EXPECT_EQ(stepErrors({check, second}),
            std::vector<std::string>{
                "spec.steps[1].when: column 29: unexpected end; expected a value (a reference, a "
                "quoted string, a number or a duration)"});
}

TEST(ValidateRunbook, EscalationMayReadAnyStepAndTiersMustBeOrdered) {
  json rb = stepsOnly({kRestart});
  rb["spec"]["escalation"] = {
      {"notify",
       {{{"url", "https://x"}, {"message", "{{ steps.restart.phase }} {{ steps.nope.phase }}"}}}},
      {"tiers",
       {{{"after", "0s"}, {"notify", {{{"url", "https://p"}}}}},
        {{"after", "0s"},
         {"notify", {{{"urlFrom", {{"secretKeyRef", {{"name", "p"}, {"key", "k"}}}}}}}}}}}};
  EXPECT_EQ(errorsOf(rb),
            (std::vector<std::string>{
                "spec.escalation.notify[0].message: {{ steps.nope.phase }} refers to unknown step "
                "\"nope\"",
                "spec.escalation.tiers[1].after: 0s is not later than tiers[0].after (0s); tiers "
                "must be in increasing order"}));
}

TEST(ValidateRunbook, ApprovalAndGuardrailDurations) {
  json rb = stepsOnly({kRestart});
  rb["spec"]["approval"] = {
      {"timeout", "0s"}, {"users", {"a"}}, {"groups", {"sre"}}, {"minApprovals", 2}};
  rb["spec"]["guardrails"] = {{"cooldown", "10 m"},
                              {"maxExecutions", {{"count", 1}, {"per", "0m"}}}};
  EXPECT_EQ(errorsOf(rb),
            (std::vector<std::string>{
                "spec.approval.timeout: must be longer than 0s",
                "spec.guardrails.cooldown: \"10 m\" is not a duration such as \"30s\", \"5m\" or "
                "\"1h30m\"",
                "spec.guardrails.maxExecutions.per: must be longer than 0s"}))
      << "two approvals are possible: a user and a group member";
}

TEST(ValidateRunbook, SchemaErrorsStillShowWhereSemanticsHasNothingToSay) {
  json step = kRestart;
  step["approval"] = "Yes";
  step["retries"] = {{"limit", 11}};
  EXPECT_EQ(
      stepErrors({step}),
      (std::vector<std::string>{
          "spec.steps[0].approval: Unsupported value: \"Yes\": supported values: \"None\", "
          "\"Required\"",
          "spec.steps[0].retries.limit: Invalid value: 11: spec.steps[0].retries.limit in body "
          "should be less than or equal to 10"}));
}

TEST(ValidateRunbook, SemanticsAloneToleratesAnyShape) {
  json rb = runbookWith({{"steps", "not a list"}, {"triggers", 5}, {"parameters", {1, 2}}});
  EXPECT_TRUE(validateRunbookSemantics(rb).empty());
  EXPECT_FALSE(validateRunbook(rb).empty());
}

TEST(FormatErrors, JoinsPathsAndMessages) {
  std::vector<ValidationError> errors = {{"spec.steps[0]", "has no action", "/spec/steps/0"},
                                         {"", "a Runbook must be an object", ""}};
  EXPECT_EQ(formatErrors(errors), "spec.steps[0]: has no action; a Runbook must be an object");
}

TEST(ValidateIncident, ChecksSchemaAndLabelNames) {
  json incident = {
      {"apiVersion", "remedy.dev/v1alpha1"},
      {"kind", "Incident"},
      {"metadata", {{"name", "i"}}},
      {"spec",
       {{"source", "Drill"}, {"alert", {{"name", "A"}, {"labels", {{"bad-label", "x"}}}}}}}};
  std::vector<ValidationError> errors = validateIncident(incident);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].str(), "spec.alert.labels[bad-label]: \"bad-label\" is not a label name");
  incident["spec"].erase("alert");
  EXPECT_EQ(validateIncident(incident).at(0).str(), "spec.alert: Required value");
}

TEST(ValidateApproval, ChecksTheSchema) {
  json approval = {
      {"apiVersion", "remedy.dev/v1alpha1"},
      {"kind", "Approval"},
      {"metadata", {{"name", "a"}}},
      {"spec", {{"incidentRef", {{"name", "i"}}}, {"decision", "Maybe"}, {"approver", "bob"}}}};
  std::vector<ValidationError> errors = validateApproval(approval);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].str(),
            "spec.decision: Unsupported value: \"Maybe\": supported values: "
            "\"Approve\", \"Reject\"");
}

}  // namespace
}  // namespace remedy::api
