#include "intake/alert_payload.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

namespace remedy::intake {
namespace {

using json = nlohmann::json;

json validAlert() {
  return {{"status", "firing"},
          {"labels", {{"alertname", "HighLatency"}, {"service", "api"}}},
          {"annotations", {{"summary", "p99 over 2s"}}},
          {"startsAt", "2024-05-01T12:00:00.123Z"},
          {"endsAt", "0001-01-01T00:00:00Z"},
          {"generatorURL", "http://prometheus:9090/graph?g0.expr=x"},
          {"fingerprint", "1c2b3a4d5e6f7081"}};
}

// (A vector, not a json: `json x = {a}` copies `a` instead of making an array.)
json payloadWith(const std::vector<json>& alerts) {
  return {{"version", "4"},
          {"groupKey", "{}:{alertname=\"HighLatency\"}"},
          {"truncatedAlerts", 0},
          {"status", "firing"},
          {"receiver", "remedy"},
          {"groupLabels", {{"alertname", "HighLatency"}}},
          {"commonLabels", {{"alertname", "HighLatency"}}},
          {"commonAnnotations", json::object()},
          {"externalURL", "http://alertmanager:9093"},
          {"alerts", json(alerts)}};
}

ParsedPayload parse(const json& body, PayloadLimits limits = {}) {
  return parseWebhookPayload(body.dump(), limits);
}

TEST(AlertPayload, ReadsAlertmanagersVersion4Payload) {
  json resolved = validAlert();
  resolved["status"] = "resolved";
  resolved["endsAt"] = "2024-05-01T12:10:00Z";
  auto parsed = parse(payloadWith({validAlert(), resolved}));
  ASSERT_EQ(parsed.error, PayloadError::kNone) << parsed.message;
  const auto& p = parsed.payload;
  EXPECT_EQ(p.receiver, "remedy");
  EXPECT_EQ(p.externalURL, "http://alertmanager:9093");
  ASSERT_EQ(p.alerts.size(), 2u);
  const auto& a = p.alerts[0];
  EXPECT_TRUE(a.valid());
  EXPECT_TRUE(a.firing());
  EXPECT_EQ(a.alertName(), "HighLatency");
  EXPECT_EQ(a.labels.at("service"), "api");
  EXPECT_EQ(a.annotations.at("summary"), "p99 over 2s");
  EXPECT_EQ(a.startsAt, "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(a.endsAt, "") << "Go's zero time means no end yet";
  EXPECT_EQ(a.fingerprint, "1c2b3a4d5e6f7081");
  EXPECT_FALSE(a.fingerprintComputed);
  EXPECT_EQ(p.alerts[1].status, "resolved");
  EXPECT_EQ(p.alerts[1].endsAt, "2024-05-01T12:10:00Z");
}

TEST(AlertPayload, MissingFingerprintIsComputedLikeAlertmanager) {
  json a = validAlert();
  a.erase("fingerprint");
  a["labels"] = {{"alertname", "HighLatency"}, {"service", "api"}, {"namespace", "shop"}};
  auto parsed = parse(payloadWith({a}));
  ASSERT_EQ(parsed.error, PayloadError::kNone);
  EXPECT_EQ(parsed.payload.alerts[0].fingerprint, "ac11aeed1b056964");
  EXPECT_TRUE(parsed.payload.alerts[0].fingerprintComputed);
}

TEST(AlertPayload, MalformedJsonNamesThePosition) {
  auto parsed = parseWebhookPayload("{\"alerts\": [ {\"status\": }", {});
  EXPECT_EQ(parsed.error, PayloadError::kMalformedJson);
  EXPECT_NE(parsed.message.find("line 1, column 25"), std::string::npos) << parsed.message;
  EXPECT_NE(parsed.message.find("byte 25"), std::string::npos) << parsed.message;
  EXPECT_EQ(parsed.message.find("json.exception"), std::string::npos) << parsed.message;
}

// Found by fuzz/alert_payload: nlohmann::json throws out_of_range, not
// parse_error, for a number a double cannot hold; it escaped the parser (the
// webhook answered 500, so Alertmanager retried it without end).
TEST(AlertPayload, NumberTooLargeForADoubleIsMalformedJson) {
  for (const char* body : {"99990782e936708", R"({"version": "4", "truncatedAlerts": 1e999})"}) {
    ParsedPayload parsed;
    ASSERT_NO_THROW(parsed = parseWebhookPayload(body, PayloadLimits{})) << body;
    EXPECT_EQ(parsed.error, PayloadError::kMalformedJson) << body;
    EXPECT_NE(parsed.message.find("number overflow parsing"), std::string::npos) << parsed.message;
  }
}

TEST(AlertPayload, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto parsed = parseWebhookPayload(deep, {});
  EXPECT_EQ(parsed.error, PayloadError::kMalformedJson);
  EXPECT_NE(parsed.message.find("nested more than 16 levels"), std::string::npos) << parsed.message;
  // Brackets inside strings do not count.
  json a = validAlert();
  a["annotations"]["description"] = std::string(100, '[');
  EXPECT_EQ(parse(payloadWith({a})).error, PayloadError::kNone);
}

TEST(AlertPayload, WholePayloadShapeErrorsNameTheField) {
  struct Case {
    json body;
    std::string expected;
  };
  std::vector<Case> cases = {
      {json::array(), "the payload must be a JSON object"},
      {{{"version", "4"}}, "alerts: required"},
      {{{"alerts", {{"a", 1}}}}, "alerts: must be an array, got object"},
      {{{"version", "5"}, {"alerts", json::array()}}, "version: \"5\" is not supported"},
      {{{"receiver", 3}, {"alerts", json::array()}}, "receiver: must be a string, got number"},
      {{{"commonLabels", "x"}, {"alerts", json::array()}}, "commonLabels: must be an object"},
      {{{"truncatedAlerts", -1}, {"alerts", json::array()}},
       "truncatedAlerts: must be a non-negative integer"},
  };
  for (const auto& c : cases) {
    auto parsed = parse(c.body);
    EXPECT_EQ(parsed.error, PayloadError::kInvalid) << c.body.dump();
    EXPECT_NE(parsed.message.find(c.expected), std::string::npos)
        << c.body.dump() << " -> " << parsed.message;
  }
}

TEST(AlertPayload, AlertShapeErrorsNameTheField) {
  auto with = [](const std::function<void(json&)>& change) {
    json a = validAlert();
    change(a);
    return a;
  };
  PayloadLimits limits;
  limits.maxLabelValueBytes = 100;
  limits.maxAnnotationValueBytes = 200;
  limits.maxLabelsPerAlert = 5;
  struct Case {
    json alert;
    std::string expected;
  };
  std::vector<Case> cases = {
      {json("x"), "alerts[0]: must be an object, got string"},
      {with([](json& a) { a["labels"] = json::array(); }),
       "alerts[0].labels: must be an object, got array"},
      {with([](json& a) { a.erase("labels"); }), "alerts[0].labels: required"},
      {with([](json& a) { a["labels"].erase("alertname"); }),
       "alerts[0].labels.alertname: required"},
      {with([](json& a) { a["labels"]["alertname"] = ""; }),
       "alerts[0].labels.alertname: must not be empty"},
      {with([](json& a) { a["labels"]["service"] = 7; }),
       "alerts[0].labels.service: must be a string, got number"},
      {with([](json& a) { a["labels"]["service"] = std::string(101, 'x'); }),
       "alerts[0].labels.service: 101 bytes, more than the limit of 100"},
      {with([](json& a) { a["labels"]["app.kubernetes.io/name"] = std::string(101, 'x'); }),
       "alerts[0].labels[\"app.kubernetes.io/name\"]: 101 bytes"},
      {with([](json& a) {
         for (int i = 0; i < 5; ++i) a["labels"]["l" + std::to_string(i)] = "v";
       }),
       "alerts[0].labels: 7 entries, more than the limit of 5"},
      {with([](json& a) { a["annotations"]["description"] = std::string(201, 'x'); }),
       "alerts[0].annotations.description: 201 bytes, more than the limit of 200"},
      {with([](json& a) { a["annotations"] = "text"; }),
       "alerts[0].annotations: must be an object, got string"},
      {with([](json& a) { a["status"] = "pending"; }),
       "alerts[0].status: \"pending\" is not firing or resolved"},
      {with([](json& a) { a.erase("status"); }), "alerts[0].status: required"},
      {with([](json& a) { a.erase("startsAt"); }), "alerts[0].startsAt: required"},
      {with([](json& a) { a["startsAt"] = "yesterday"; }),
       "alerts[0].startsAt: \"yesterday\" is not an RFC 3339 time"},
      {with([](json& a) { a["endsAt"] = 12; }), "alerts[0].endsAt: must be a string, got number"},
      {with([](json& a) { a["fingerprint"] = std::string(65, 'f'); }),
       "alerts[0].fingerprint: 65 bytes, more than the limit of 64"},
      {with([](json& a) { a["generatorURL"] = std::string(5000, 'u'); }),
       "alerts[0].generatorURL: 5000 bytes, more than the limit of 4096"},
  };
  for (const auto& c : cases) {
    auto parsed = parse(payloadWith({c.alert}), limits);
    ASSERT_EQ(parsed.error, PayloadError::kNone) << parsed.message;
    ASSERT_EQ(parsed.payload.alerts.size(), 1u);
    const auto& problems = parsed.payload.alerts[0].problems;
    ASSERT_FALSE(problems.empty()) << c.expected;
    EXPECT_NE(problems.front().find(c.expected), std::string::npos)
        << "got: " << problems.front() << "\nwanted: " << c.expected;
  }
}

TEST(AlertPayload, OneInvalidAlertLeavesTheOthersValid) {
  json bad = validAlert();
  bad["labels"] = "oops";
  auto parsed = parse(payloadWith({validAlert(), bad, validAlert()}));
  ASSERT_EQ(parsed.error, PayloadError::kNone);
  ASSERT_EQ(parsed.payload.alerts.size(), 3u);
  EXPECT_TRUE(parsed.payload.alerts[0].valid());
  EXPECT_FALSE(parsed.payload.alerts[1].valid());
  EXPECT_EQ(parsed.payload.alerts[1].problems.front().rfind("alerts[1].labels", 0), 0u);
  EXPECT_TRUE(parsed.payload.alerts[2].valid());
}

TEST(AlertPayload, TooManyAlertsNamesTheCountAndTheLimit) {
  PayloadLimits limits;
  limits.maxAlerts = 3;
  auto parsed =
      parse(payloadWith({validAlert(), validAlert(), validAlert(), validAlert()}), limits);
  EXPECT_EQ(parsed.error, PayloadError::kTooManyAlerts);
  EXPECT_EQ(parsed.payload.alertsSent, 4u);
  EXPECT_NE(parsed.message.find("4 alerts, more than the limit of 3"), std::string::npos)
      << parsed.message;
}

TEST(AlertPayload, FieldPathsQuoteNamesThatAreNotIdentifiers) {
  EXPECT_EQ(fieldPath("alerts[3].labels", "service"), "alerts[3].labels.service");
  EXPECT_EQ(fieldPath("alerts[3].labels", "app/name"), "alerts[3].labels[\"app/name\"]");
  EXPECT_EQ(fieldPath("", "version"), "version");
}

}  // namespace
}  // namespace remedy::intake
