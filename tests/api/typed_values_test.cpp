// What a rendered value becomes: each check refuses the value an alert label
// could smuggle in, with the field and what was expected.
#include "api/typed_values.h"
#include "api/runbook.h"
#include "api/runbook_policy.h"
#include "api/runbook_validator.h"
#include "api/template.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using json = nlohmann::json;

std::vector<std::string> rendered(const std::string& action, const json& source,
                                  const json& params) {
  std::vector<std::string> out;
  for (const auto& e :
       checkRenderedAction(action, source, params, FieldPath::parse("steps.s." + action))) {
    out.push_back(e.str());
  }
  return out;
}

TEST(RenderedValues, AReplicaCountBeyondInt32IsRefusedNotWrapped) {
  json source = {{"target", {{"name", "web"}}}, {"replicas", "{{ alert.labels.replicas }}"}};
  EXPECT_EQ(rendered("scale", source, {{"target", {{"name", "web"}}}, {"replicas", "4294967296"}}),
            std::vector<std::string>{
                "steps.s.scale.replicas: \"4294967296\" is not a replica count (0 to 2147483647) "
                "or a relative change like \"+2\""});
  EXPECT_EQ(rendered("scale", source, {{"target", {{"name", "web"}}}, {"replicas", "3"}}),
            std::vector<std::string>{});
  EXPECT_EQ(rendered("scale", source,
                     {{"target", {{"name", "web"}}}, {"replicas", json(int64_t{1} << 32)}}),
            std::vector<std::string>{
                "steps.s.scale.replicas: 4294967296 is not a replica count (0 to 2147483647)"});
}

TEST(RenderedValues, ASignComesFromTheTemplateNeverFromTheValue) {
  json params = {{"target", {{"name", "web"}}}, {"replicas", "-100"}};
  json fromLabel = {{"replicas", "{{ alert.labels.replicas }}"}};
  EXPECT_EQ(rendered("scale", fromLabel, params),
            std::vector<std::string>{
                "steps.s.scale.replicas: \"-100\" is a relative change, but the template "
                "\"{{ alert.labels.replicas }}\" asks for a replica count; write the sign before "
                "the template, as in \"+{{ params.step }}\""});
  EXPECT_EQ(rendered("scale", {{"replicas", "-{{ params.step }}"}}, params),
            std::vector<std::string>{});
  EXPECT_EQ(rendered("scale", {{"replicas", "-100"}}, params), std::vector<std::string>{});
}

TEST(RenderedValues, APodNamedByAnAlertLabelKeepsTheNameSyntax) {
  json source = {{"target", {{"pod", "{{ alert.labels.pod }}"}, {"owner", "Deployment"}}}};
  EXPECT_EQ(rendered("rolloutRestart", source,
                     {{"target", {{"pod", "api-7d9f6-x2k4q"}, {"owner", "Deployment"}}}}),
            std::vector<std::string>{});
  EXPECT_EQ(rendered("rolloutRestart", source,
                     {{"target", {{"pod", "api,db"}, {"owner", "Deployment"}}}}),
            std::vector<std::string>{
                "steps.s.rolloutRestart.target.pod: \"api,db\" is not a valid object name "
                "(lowercase letters, digits, '-' and '.', starting and ending with a letter or "
                "digit)"});
}

TEST(RenderedValues, APodLogsPodAndContainerFromAnAlertKeepTheirSyntax) {
  json source = {{"pod", "{{ alert.labels.pod }}"}, {"container", "{{ alert.labels.container }}"}};
  EXPECT_EQ(rendered("podLogs", source, {{"pod", "api-7d9f6-x2k4q"}, {"container", "app"}}),
            std::vector<std::string>{});
  EXPECT_EQ(rendered("podLogs", source, {{"pod", "api/../x"}, {"container", "app&previous=1"}}),
            (std::vector<std::string>{
                "steps.s.podLogs.pod: \"api/../x\" is not a valid object name (lowercase "
                "letters, digits, '-' and '.', starting and ending with a letter or digit)",
                "steps.s.podLogs.container: \"app&previous=1\" is not a valid container name (a "
                "DNS label: lowercase letters, digits and '-')"}));
}

TEST(SecretKeyRefs, EveryDistinctRefOfTheSpecOnce) {
  json spec = {
      {"steps",
       {{{"name", "a"},
         {"postgres", {{"connection", {{"secretKeyRef", {{"name", "db"}, {"key", "uri"}}}}}}}},
        {{"name", "b"},
         {"http",
          {{"urlFrom", {{"secretKeyRef", {{"name", "hook"}, {"key", "url"}}}}},
           {"headers",
            {{{"name", "Authorization"},
              {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "uri"}}}}}}}}}}}}},
      {"escalation",
       {{"notify", {{{"urlFrom", {{"secretKeyRef", {{"name", "pager"}, {"key", "url"}}}}}}}}}}};
  std::vector<json> refs = secretKeyRefsIn(spec);
  // Objects are walked by key (escalation before steps), each ref once.
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0], (json{{"name", "pager"}, {"key", "url"}}));
  EXPECT_EQ(refs[1], (json{{"name", "db"}, {"key", "uri"}}));
  EXPECT_EQ(refs[2], (json{{"name", "hook"}, {"key", "url"}}));
}

TEST(RenderedValues, NamesNamespacesAndSelectorsKeepTheirSyntax) {
  EXPECT_EQ(
      rendered("scale", {},
               {{"target", {{"name", "web,db"}, {"namespace", "kube system"}}}, {"replicas", 1}}),
      (std::vector<std::string>{
          "steps.s.scale.target.name: \"web,db\" is not a valid object name (lowercase "
          "letters, digits, '-' and '.', starting and ending with a letter or digit)",
          "steps.s.scale.target.namespace: \"kube system\" is not a valid namespace name"}));
  json selector = {{"matchLabels", {{"app", "web,tier!=x"}}},
                   {"matchExpressions",
                    json::array({{{"key", "env"}, {"operator", "In"}, {"values", {"a b"}}}})}};
  EXPECT_EQ(rendered("deletePods", {}, {{"selector", selector}}),
            (std::vector<std::string>{
                "steps.s.deletePods.selector.matchLabels[app]: \"web,tier!=x\" is not a label "
                "value (at most 63 letters, digits, '-', '_' and '.')",
                "steps.s.deletePods.selector.matchExpressions[0].values[0]: \"a b\" is not a label "
                "value (at most 63 letters, digits, '-', '_' and '.')"}));
}

TEST(RenderedValues, TargetKindsArePerActionAndNeverASecret) {
  EXPECT_EQ(rendered("waitFor", {}, {{"target", {{"kind", "Secret"}, {"name", "token"}}}}),
            std::vector<std::string>{
                "steps.s.waitFor.target.kind: a Secret is never the target of a step; Remedy "
                "reads a Secret only through a secretKeyRef, one key, in the Runbook's namespace"});
  EXPECT_EQ(rendered("waitFor", {}, {{"target", {{"kind", "ConfigMap"}, {"name", "flags"}}}}),
            std::vector<std::string>{});
  EXPECT_EQ(rendered("rolloutRestart", {}, {{"target", {{"kind", "ReplicaSet"}, {"name", "x"}}}}),
            std::vector<std::string>{"steps.s.rolloutRestart.target.kind: \"ReplicaSet\" is not "
                                     "supported here; use Deployment, StatefulSet or DaemonSet"});
  EXPECT_EQ(rendered("apply", {},
                     {{"manifest",
                       {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "x"}}}}}}),
            std::vector<std::string>{
                "steps.s.apply.manifest.kind: a Secret is never the target of a step; Remedy "
                "reads a Secret only through a secretKeyRef, one key, in the Runbook's namespace"});
}

TEST(RenderedValues, RedisPatternsThatMatchEveryKeyAreRefusedInAnySpelling) {
  for (const char* everything : {"*", "**", "?*", "*?", "[a-z]*", "[^x]*", "[*]*", "??*"}) {
    EXPECT_TRUE(redisPatternMatchesEverything(everything)) << everything;
    EXPECT_EQ(rendered("redis", {}, {{"deleteKeys", {{"pattern", everything}}}}).size(), 1u)
        << everything;
  }
  for (const char* narrow : {"cache:*", "*:session", "\\*", "a", "[ab]x*", "session:user:\\*:*"}) {
    EXPECT_FALSE(redisPatternMatchesEverything(narrow)) << narrow;
    EXPECT_EQ(rendered("redis", {}, {{"deleteKeys", {{"pattern", narrow}}}}),
              std::vector<std::string>{})
        << narrow;
  }
}

TEST(RenderedValues, UrlsDurationsAndHeaderValues) {
  EXPECT_EQ(rendered("http", {}, {{"url", "file:///etc/passwd"}}),
            std::vector<std::string>{
                "steps.s.http.url: \"file:///etc/passwd\" is not an http:// or https:// URL"});
  EXPECT_EQ(rendered("http", {},
                     {{"url", "http://x"},
                      {"headers", json::array({{{"name", "X"}, {"value", "a\r\nHost: y"}}})}}),
            std::vector<std::string>{
                "steps.s.http.headers[0].value: contains a line break or NUL, which would end the "
                "header"});
  EXPECT_EQ(rendered("prometheusCheck", {}, {{"pollInterval", "soon"}}),
            std::vector<std::string>{
                "steps.s.prometheusCheck.pollInterval: \"soon\" is not a duration such as 30s or "
                "5m"});
}

TEST(Escaping, PromqlJsonAndGlobFiltersKeepAValueInsideItsString) {
  json context = {{"alert", {{"labels", {{"x", "a\"} or vector(1) #\\\n"}}}}}};
  auto promql = renderTemplate("up{job=\"{{ alert.labels.x | promql }}\"}", context);
  ASSERT_TRUE(promql.ok()) << promql.error();
  EXPECT_EQ(*promql, "up{job=\"a\\\"} or vector(1) #\\\\\\n\"}");
  auto body = renderTemplate("{\"x\": \"{{ alert.labels.x | json }}\"}", context);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(json::parse(*body)["x"], "a\"} or vector(1) #\\\n");
  EXPECT_EQ(escapeRedisGlob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
  EXPECT_FALSE(redisPatternMatchesEverything(escapeRedisGlob("*") + ":*"));
}

TEST(Embedding, ValuesInQueriesBodiesAndPatternsMustBeEscapedInPlace) {
  EXPECT_EQ(embeddingErrors("up{job=\"{{ params.job | promql }}\"}", Embedding::kPromqlQuery),
            std::vector<std::string>{});
  EXPECT_EQ(embeddingErrors("up{job=\"{{ params.job }}\"}", Embedding::kPromqlQuery),
            std::vector<std::string>{
                "{{ params.job }} is inside a PromQL string; end it with | promql so the value "
                "cannot end the string, as in {deployment=\"{{ params.deployment | promql }}\"}"});
  EXPECT_EQ(embeddingErrors("up > {{ params.max | promql }}", Embedding::kPromqlQuery),
            std::vector<std::string>{
                "{{ params.max | promql }} is outside a double-quoted PromQL string; a value may "
                "only be embedded inside one, escaped, as in {deployment=\"{{ params.deployment | "
                "promql }}\"}"});
  // A quote inside a string or a comment does not fool the lexer.
  EXPECT_EQ(embeddingErrors("up{a=\"x\\\"\", b=\"{{ params.b | promql }}\"} # \"",
                            Embedding::kPromqlQuery),
            std::vector<std::string>{});
  EXPECT_EQ(embeddingErrors("{\"a\": \"{{ params.a | json }}\", \"b\": {{ params.b | json }}}",
                            Embedding::kJsonBody),
            std::vector<std::string>{
                "{{ params.b | json }} is outside a double-quoted JSON string; a value may only be "
                "embedded inside one, escaped, as in {\"deployment\": \"{{ params.deployment | "
                "json }}\"}"});
  EXPECT_EQ(embeddingErrors("session:{{ params.user }}:*", Embedding::kRedisGlob),
            std::vector<std::string>{
                "{{ params.user }} would let a \"*\" or \"?\" in the value widen the pattern; end "
                "it with | glob, as in session:{{ params.user | glob }}:*"});
  EXPECT_EQ(embeddingErrors("{{ \"literal\" }}:*", Embedding::kRedisGlob),
            std::vector<std::string>{});
}

TEST(RunJobTemplates, ValuesAreArgvEntriesOrEnvironmentNeverCode) {
  auto errors = [](const json& containers) {
    std::vector<std::string> out;
    for (const auto& e : runJobTemplateErrors({{"spec", {{"containers", containers}}}},
                                              FieldPath::parse("runJob.template"))) {
      out.push_back(e.path);
    }
    return out;
  };
  // argv entries and environment values: data.
  EXPECT_EQ(errors(json::array(
                {{{"name", "c"},
                  {"image", "kafka"},
                  {"command", {"kafka-consumer-groups.sh", "--group", "{{ params.group }}"}},
                  {"env", json::array({{{"name", "G"}, {"value", "{{ params.group }}"}}})}}})),
            std::vector<std::string>{});
  // A shell's -c script, the program and anything else: code or identity.
  EXPECT_EQ(errors(json::array({{{"name", "c"},
                                 {"image", "busybox:{{ params.tag }}"},
                                 {"command", {"sh", "-c"}},
                                 {"args", {"echo {{ params.group }}", "{{ params.x }}"}}}})),
            (std::vector<std::string>{"runJob.template.spec.containers[0].args[0]",
                                      "runJob.template.spec.containers[0].image"}));
  EXPECT_EQ(errors(json::array({{{"name", "c"},
                                 {"image", "busybox"},
                                 {"command", {"/bin/bash", "-ec", "run {{ params.x }}"}}}})),
            std::vector<std::string>{"runJob.template.spec.containers[0].command[2]"});
  EXPECT_EQ(errors(json::array(
                {{{"name", "c"}, {"image", "busybox"}, {"command", {"{{ params.program }}"}}}})),
            std::vector<std::string>{"runJob.template.spec.containers[0].command[0]"});
}

TEST(RunbookPolicy, ReachBeyondTheNamespaceNeedsTheAuthorAndTheAdministrator) {
  auto policy = RunbookPolicy::fromJson(json::parse(R"({
    "metadata": {"name": "team-a-shared"},
    "spec": {"runbookNamespaces": ["team-a"],
             "targets": [{"namespaces": ["shared"],
                          "kinds": [{"group": "apps", "kind": "Deployment"}]}]}})"));
  ASSERT_TRUE(policy.ok());
  std::vector<RunbookPolicy> policies = {*policy};
  Reach reach{"team-a", {}, "apps", "Deployment", "team-a"};
  EXPECT_TRUE(reachDecision(reach, {}).allowed);  // its own namespace

  reach.targetNamespace = "shared";
  EXPECT_EQ(reachDecision(reach, policies).reason,
            "namespace shared is neither the Runbook's namespace (team-a) nor in "
            "spec.guardrails.allowedNamespaces");
  reach.allowedNamespaces = {"shared"};
  EXPECT_EQ(reachDecision(reach, {}).reason,
            "no RunbookPolicy lets Runbooks of namespace team-a act on Deployment.apps in "
            "namespace shared");
  ReachDecision granted = reachDecision(reach, policies);
  EXPECT_TRUE(granted.allowed);
  EXPECT_EQ(granted.grantedBy, "team-a-shared");

  reach.kind = "StatefulSet";  // not a kind it grants
  EXPECT_FALSE(reachDecision(reach, policies).allowed);
  reach = {"team-b", {"shared"}, "apps", "Deployment", "shared"};  // not its Runbooks
  EXPECT_FALSE(reachDecision(reach, policies).allowed);
  reach = {"team-a", {"remedy-system"}, "apps", "Deployment", "remedy-system"};
  EXPECT_FALSE(reachDecision(reach, policies).allowed);
}

}  // namespace
}  // namespace remedy::api
