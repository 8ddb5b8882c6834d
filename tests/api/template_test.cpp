#include "api/template.h"

#include <gtest/gtest.h>

namespace remedy::api {
namespace {

using nlohmann::json;

const json kContext = json::parse(R"({
  "alert": {"name": "HighLatency", "status": "firing",
            "labels": {"deployment": "API", "namespace": "shop", "empty": "", "padded": "  x  "},
            "annotations": {"summary": "P95 above 2s"}},
  "params": {"replicas": "4", "service": "backend"},
  "steps": {"activity": {"phase": "Succeeded", "outputs": {"matched": "3", "oldestSeconds": 412}},
            "kill-queries": {"phase": "Skipped", "outputs": {}}},
  "incident": {"name": "inc-7", "namespace": "shop", "source": "Alertmanager"}
})");

std::string render(const std::string& text) {
  Result<std::string> r = renderTemplate(text, kContext);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : "";
}

std::string renderError(const std::string& text) {
  Result<std::string> r = renderTemplate(text, kContext);
  EXPECT_FALSE(r.ok()) << text << " rendered " << (r.ok() ? r.value() : "");
  return r.ok() ? "" : r.error();
}

TEST(Template, TextWithoutExpressionsIsLiteral) {
  EXPECT_EQ(render("plain text, with } and { braces"), "plain text, with } and { braces");
  EXPECT_TRUE(Template::parse("plain").value().isLiteral());
  EXPECT_FALSE(Template::parse("{{ params.service }}").value().isLiteral());
}

TEST(Template, ReadsEveryKindOfReference) {
  EXPECT_EQ(render("{{ alert.labels.namespace }}"), "shop");
  EXPECT_EQ(render("{{ alert.annotations.summary }}"), "P95 above 2s");
  EXPECT_EQ(render("{{ params.replicas }}"), "4");
  EXPECT_EQ(render("{{ steps.activity.outputs.matched }}"), "3");
  EXPECT_EQ(render("{{ steps.activity.phase }}"), "Succeeded");
  EXPECT_EQ(render("{{ incident.name }}/{{ incident.namespace }}"), "inc-7/shop");
  EXPECT_EQ(render("{{ alert.name }} is {{ alert.status }}"), "HighLatency is firing");
}

TEST(Template, NonStringValuesRenderAsJson) {
  EXPECT_EQ(render("{{ steps.activity.outputs.oldestSeconds }}s"), "412s");
  EXPECT_EQ(render("{{ steps.activity.outputs }}"), R"({"matched":"3","oldestSeconds":412})");
}

TEST(Template, SpacesInsideBracesAreOptional) {
  EXPECT_EQ(render("{{params.service}}"), "backend");
  EXPECT_EQ(render("{{   params.service   }}"), "backend");
}

TEST(Template, StepNamesWithHyphensAndBracketKeys) {
  EXPECT_EQ(render("{{ steps.kill-queries.phase }}"), "Skipped");
  EXPECT_EQ(render("{{ alert.labels[\"namespace\"] }}"), "shop");
}

TEST(Template, FiltersApplyLeftToRight) {
  EXPECT_EQ(render("{{ alert.labels.deployment | lower }}"), "api");
  EXPECT_EQ(render("{{ params.service | upper }}"), "BACKEND");
  EXPECT_EQ(render("[{{ alert.labels.padded | trim }}]"), "[x]");
  EXPECT_EQ(render("{{ alert.labels.padded | trim | upper }}"), "X");
}

TEST(Template, DefaultReplacesMissingOrEmptyValues) {
  EXPECT_EQ(render("{{ alert.labels.missing | default(\"api\") }}"), "api");
  EXPECT_EQ(render("{{ alert.labels.empty | default(\"api\") }}"), "api");
  EXPECT_EQ(render("{{ alert.labels.deployment | default(\"x\") }}"), "API");
  EXPECT_EQ(render("{{ alert.labels.missing | default(3) }}"), "3");
  EXPECT_EQ(render("{{ alert.labels.missing | default('single') }}"), "single");
}

TEST(Template, TheIssueExampleWorksInEitherFilterOrder) {
  EXPECT_EQ(render("{{ alert.labels.deployment | default(\"api\") | lower }}"), "api");
  EXPECT_EQ(render("{{ alert.labels.nothing | default(\"API\") | lower }}"), "api");
  EXPECT_EQ(render("{{ alert.labels.nothing | lower | default(\"api\") }}"), "api");
}

TEST(Template, LiteralsAllowWritingBraces) {
  EXPECT_EQ(render("{{ \"{{\" }} not a template }}"), "{{ not a template }}");
  EXPECT_EQ(render("{{ 42 }}"), "42");
}

TEST(Template, AMissingValueIsAnErrorNamingTheExpression) {
  EXPECT_EQ(renderError("scale {{ alert.labels.deployment_name }} now"),
            "{{ alert.labels.deployment_name }}: alert.labels.deployment_name is not set; add | "
            "default(\"...\") to provide a fallback");
  EXPECT_NE(renderError("{{ steps.kill-queries.outputs.affected }}")
                .find("steps.kill-queries.outputs.affected is not set"),
            std::string::npos);
  EXPECT_NE(renderError("{{ alert.labels.missing | lower | trim }}").find("is not set"),
            std::string::npos);
}

TEST(Template, OutputIsBounded) {
  json context = kContext;
  context["params"]["big"] = std::string(1000, 'x');
  std::string text;
  for (int i = 0; i < 60; ++i) text += "{{ params.big }}";
  Result<Template> t = Template::parse(text);
  ASSERT_TRUE(t.ok());
  Result<std::string> r = t->render(context, 50000);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("exceeds 50000 bytes"), std::string::npos);
  EXPECT_TRUE(t->render(context, kMaxRenderedSize).ok());
  text += text;
  EXPECT_FALSE(Template::parse(text)->render(context).ok()) << "120000 bytes > kMaxRenderedSize";
}

TEST(Template, SyntaxErrorsSayWhatAndWhere) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"x {{ params.a", "\"{{\" at column 3 is not closed with \"}}\""},
           Case{"{{ }}", "{{ }}: empty expression"},
           Case{"{{ params.a | lowr }}", "unknown filter \"lowr\" (did you mean \"lower\"?)"},
           Case{"{{ params.a | }}", "expected a filter after \"|\""},
           Case{"{{ params.a | default }}", "default needs a value"},
           Case{"{{ params.a | default(params.b) }}", "default takes a quoted string or a number"},
           Case{"{{ params.a | default(\"x\" }}", "expected \")\""},
           Case{"{{ params.a params.b }}", "expected \"|\" or \"}}\""},
           Case{"{{ params. }}", "expected a name after \".\""},
           Case{"{{ \"open }}", "is not closed"},
           Case{"{{ 5abc }}", "\"5abc\" is not a number"},
           Case{"{{ $x }}", "unexpected \"$\""},
           Case{"{{ params.a[x] }}", "expected a quoted key"},
       }) {
    Result<Template> t = Template::parse(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.error().find(c.error), std::string::npos) << c.text << " -> " << t.error();
  }
}

TEST(Template, ListsItsReferencesForStaticChecks) {
  Template t = Template::parse(
                   "{{ params.a }}-{{ alert.labels.x | default(\"y\") }}-{{ \"lit\" }}-"
                   "{{ steps.s-1.outputs.k }}")
                   .value();
  std::vector<TemplateReference> refs = t.references();
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].reference.str(), "params.a");
  EXPECT_FALSE(refs[0].hasDefault);
  EXPECT_EQ(refs[0].expression, "{{ params.a }}");
  EXPECT_EQ(refs[1].reference.str(), "alert.labels.x");
  EXPECT_TRUE(refs[1].hasDefault);
  EXPECT_EQ(refs[2].reference.path, (std::vector<std::string>{"steps", "s-1", "outputs", "k"}));
}

TEST(Template, CannotReachBeyondTheContext) {
  // There is no way to call anything: names are looked up, never executed.
  EXPECT_FALSE(Template::parse("{{ system(\"rm -rf /\") }}").ok());
  EXPECT_NE(renderError("{{ env.HOME }}").find("env.HOME is not set"), std::string::npos);
}

TEST(Reference, CheckExplainsUnknownAndLaterNames) {
  ReferenceScope scope;
  scope.params = {"deployment"};
  scope.allParams = {"deployment", "late"};
  scope.earlierSteps = {{"activity", "postgres"}};
  scope.allSteps = {{"activity", "postgres"}, {"scale", "scale"}, {"verify", "prometheusCheck"}};
  scope.currentStep = "scale";
  auto check = [&](std::vector<std::string> path) {
    return checkReference(Reference{std::move(path)}, scope).value_or("");
  };
  EXPECT_EQ(check({"params", "deployment"}), "");
  EXPECT_EQ(check({"params", "deploymnt"}),
            "unknown parameter \"deploymnt\" (did you mean \"deployment\"?)");
  EXPECT_EQ(check({"params", "late"}), "parameter \"late\", which is defined after this one");
  EXPECT_EQ(check({"steps", "activity", "outputs", "matched"}), "");
  EXPECT_EQ(check({"steps", "activity", "phase"}), "");
  EXPECT_EQ(check({"steps", "verify", "outputs", "value"}),
            "step \"verify\", which runs after this one");
  EXPECT_EQ(check({"steps", "scale", "phase"}), "step \"scale\" itself");
  EXPECT_EQ(check({"steps", "nope", "phase"}), "unknown step \"nope\"");
  EXPECT_NE(check({"steps", "activity", "outputs", "oldest"}).find("does not have"),
            std::string::npos);
  EXPECT_NE(check({"steps", "activity"}).find("incomplete"), std::string::npos);
  EXPECT_EQ(check({"alert", "labels", "x"}), "");
  EXPECT_NE(check({"alert", "label", "x"}).find("unknown alert field \"label\""),
            std::string::npos);
  EXPECT_EQ(check({"incident", "namespace"}), "");
  EXPECT_NE(check({"incident", "uid"}).find("incident has name, namespace, source"),
            std::string::npos);
  EXPECT_NE(check({"parmas", "x"}).find("did you mean \"params\"?"), std::string::npos);
}

}  // namespace
}  // namespace remedy::api
