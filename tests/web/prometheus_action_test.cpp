// The prometheusCheck and prometheusQuery actions against a real Prometheus
// (tests/support/prometheus_server.h: scraping itself, with the recording
// rule remedy_test_value = 3; labelled series are made in the query with
// label_replace). The engine is played by the test: it calls run() again
// after retryAfter, merges InProgress outputs into the baseline, and stops
// at the attempt's deadline. Time is the context's, so holdFor and
// deadlines are tested without waiting for them.
#include "actions/prometheus_action.h"

#include "../support/prometheus_server.h"
#include "kube/time_format.h"
#include "recording_server.h"

#include <gtest/gtest.h>

#include <memory>

namespace remedy::actions {
namespace {

using std::chrono::seconds;

PrometheusOptions prometheusOptions() {
  PrometheusOptions o;
  o.egress = testing::loopbackEgress();
  return o;
}

// One Prometheus per suite.
class PrometheusServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prometheus_ = new remedy::testing::PrometheusServer();
    startError_ = prometheus_->start();
  }
  static void TearDownTestSuite() {
    delete prometheus_;
    prometheus_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(startError_, "") << "Prometheus did not start"; }

  ActionContext context(kube::WallTime now = std::chrono::system_clock::now()) {
    ActionContext c;
    c.idempotencyKey = "uid/verify/1";
    c.stepKey = "uid/verify";
    c.now = now;
    c.deadline = now + std::chrono::minutes(10);
    return c;
  }

  static remedy::testing::PrometheusServer* prometheus_;
  static std::string startError_;
};

remedy::testing::PrometheusServer* PrometheusServerTest::prometheus_ = nullptr;
std::string PrometheusServerTest::startError_;

class PrometheusCheckTest : public PrometheusServerTest {
 protected:
  json check(const std::string& query, const std::string& op, json threshold) const {
    return {
        {"url", prometheus_->url()}, {"query", query}, {"operator", op}, {"threshold", threshold}};
  }

  // What the engine does with an InProgress outcome: keep its outputs for
  // the next call, and call again after retryAfter.
  static void advance(ActionContext& c, const ActionOutcome& outcome) {
    for (const auto& [k, v] : outcome.outputs) c.baseline[k] = v;
    c.now += std::chrono::duration_cast<std::chrono::system_clock::duration>(outcome.retryAfter);
  }

  PrometheusCheckAction action_{prometheusOptions()};
};

TEST_F(PrometheusCheckTest, AHoldingComparisonSucceedsAtOnce) {
  auto outcome = action_.run(check("vector(1) < 2", "Equal", 1), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["value"], "1");

  outcome = action_.run(check("remedy_test_value", "LessThan", 5), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["value"], "3");
  EXPECT_EQ(outcome.outputs["samples"], "remedy_test_value 3");
  EXPECT_EQ(outcome.message, "3 < 5");
}

TEST_F(PrometheusCheckTest, AScalarIsOneSample) {
  auto outcome =
      action_.run(check("scalar(remedy_test_value) * 2", "GreaterThanOrEqual", 6), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["value"], "6");
}

TEST_F(PrometheusCheckTest, EverySampleMustPassAndTheFirstFailingOneDecides) {
  std::string query = R"(label_replace(vector(1), "shard", "a", "", "") or )"
                      R"(label_replace(vector(7), "shard", "b", "", ""))";
  auto outcome = action_.run(check(query, "LessThan", 5), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  EXPECT_EQ(outcome.outputs["value"], "7");
  EXPECT_EQ(outcome.outputs["samples"], R"({shard="a"} 1; {shard="b"} 7)");
  EXPECT_EQ(outcome.message, R"({shard="b"} 7 is not < 5; querying again in 15s)");
}

TEST_F(PrometheusCheckTest, ACheckThatDoesNotHoldPollsUntilTheDeadline) {
  json params = check("remedy_test_value", "GreaterThan", 10);
  params["pollInterval"] = "20s";
  auto c = context();
  c.deadline = c.now + std::chrono::minutes(2);
  int polls = 0;
  while (c.now < c.deadline) {
    auto outcome = action_.run(params, c);
    ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
    EXPECT_EQ(outcome.retryAfter, seconds(20));
    EXPECT_EQ(outcome.outputs["value"], "3");
    ++polls;
    advance(c, outcome);
  }
  EXPECT_EQ(polls, 6);
  // At the deadline the attempt is over: nothing is queried, nothing passes.
  auto late = action_.run(params, c);
  EXPECT_EQ(late.kind, OutcomeKind::kRetriableFailure) << late.message;
}

TEST_F(PrometheusCheckTest, HoldForKeepsItsProgressInTheBaseline) {
  json params = check("remedy_test_value", "LessThan", 5);
  params["holdFor"] = "1m";
  params["pollInterval"] = "25s";
  auto c = context();
  const kube::WallTime start = c.now;

  auto first = action_.run(params, c);
  ASSERT_EQ(first.kind, OutcomeKind::kInProgress) << first.message;
  EXPECT_EQ(first.outputs["holdingSince"], kube::formatRfc3339Micro(start));
  EXPECT_EQ(first.retryAfter, seconds(25));
  advance(c, first);

  auto second = action_.run(params, c);  // 25s held
  ASSERT_EQ(second.kind, OutcomeKind::kInProgress) << second.message;
  EXPECT_EQ(second.outputs["holdingSince"], kube::formatRfc3339Micro(start));
  EXPECT_NE(second.message.find("(25s of 1m)"), std::string::npos) << second.message;
  advance(c, second);

  auto third = action_.run(params, c);  // 50s held: the last wait is the 10s left
  ASSERT_EQ(third.kind, OutcomeKind::kInProgress) << third.message;
  EXPECT_EQ(third.retryAfter, seconds(10));
  advance(c, third);

  auto done = action_.run(params, c);
  ASSERT_EQ(done.kind, OutcomeKind::kSucceeded) << done.message;
  EXPECT_EQ(done.outputs["value"], "3");
  EXPECT_NE(done.message.find("held for 1m"), std::string::npos) << done.message;
  EXPECT_EQ(c.now - start, seconds(60));
}

TEST_F(PrometheusCheckTest, AFailingPollStartsTheHoldAgain) {
  json holds = check("remedy_test_value", "LessThan", 5);
  holds["holdFor"] = "30s";
  holds["pollInterval"] = "20s";
  json fails = holds;
  fails["threshold"] = 2;  // the rendered threshold changed: 3 < 2 does not hold
  auto c = context();

  auto outcome = action_.run(holds, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  advance(c, outcome);
  outcome = action_.run(fails, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  EXPECT_EQ(outcome.outputs["holdingSince"], "");
  advance(c, outcome);

  const kube::WallTime restart = c.now;
  outcome = action_.run(holds, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  EXPECT_EQ(outcome.outputs["holdingSince"], kube::formatRfc3339Micro(restart));
  advance(c, outcome);
  outcome = action_.run(holds, c);  // 20s since the restart, 60s since the first poll
  EXPECT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  advance(c, outcome);
  outcome = action_.run(holds, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(c.now - restart, seconds(30));
}

TEST_F(PrometheusCheckTest, ANewAttemptDoesNotInheritTheHold) {
  json params = check("remedy_test_value", "LessThan", 5);
  params["holdFor"] = "30s";
  auto c = context();
  auto outcome = action_.run(params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  advance(c, outcome);
  c.now += seconds(60);
  c.idempotencyKey = "uid/verify/2";  // the engine retried the step
  outcome = action_.run(params, c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  EXPECT_EQ(outcome.outputs["holdingSince"], kube::formatRfc3339Micro(c.now));
}

TEST_F(PrometheusCheckTest, AnEmptyResultPassesOrFailsAsEmptyResultSays) {
  json params = check("remedy_test_value > 100", "LessThan", 1);
  auto outcome = action_.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kInProgress) << outcome.message;
  EXPECT_NE(outcome.message.find("no samples (emptyResult: Fail)"), std::string::npos);
  EXPECT_EQ(outcome.outputs["value"], "");

  params["emptyResult"] = "Fail";
  EXPECT_EQ(action_.run(params, context()).kind, OutcomeKind::kInProgress);

  params["emptyResult"] = "Pass";
  outcome = action_.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
}

TEST_F(PrometheusCheckTest, ASyntaxErrorIsPermanentWithPrometheusMessage) {
  auto outcome = action_.run(check("sum(remedy_test_value", "LessThan", 1), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("Prometheus refused the query (bad_data)"), std::string::npos)
      << outcome.message;
  EXPECT_NE(outcome.message.find("parse error"), std::string::npos) << outcome.message;
}

TEST_F(PrometheusCheckTest, ARangeVectorIsPermanent) {
  auto outcome = action_.run(check("remedy_test_value[1m]", "LessThan", 1), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("returns a range vector"), std::string::npos) << outcome.message;
}

TEST_F(PrometheusCheckTest, TheUrlDefaultsToTheOperatorsPrometheus) {
  PrometheusOptions options = prometheusOptions();
  options.defaultUrl = prometheus_->url() + "/";
  PrometheusCheckAction action(options);
  json params = {{"query", "remedy_test_value"}, {"operator", "Equal"}, {"threshold", 3}};
  auto outcome = action.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;

  PrometheusCheckAction none(prometheusOptions());
  outcome = none.run(params, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message,
            "prometheusCheck.url: not given, and the operator has no --prometheus-url");
}

class PrometheusQueryTest : public PrometheusServerTest {
 protected:
  json query(const std::string& promql) const {
    return {{"url", prometheus_->url()}, {"query", promql}};
  }

  // A sample of vector(VALUE) with the label pod="POD".
  static std::string podSample(const std::string& value, const std::string& pod) {
    return "label_replace(vector(" + value + "), \"pod\", \"" + pod + "\", \"\", \"\")";
  }

  PrometheusQueryAction action_{prometheusOptions()};
};

TEST_F(PrometheusQueryTest, TheFirstSamplesLabelsBecomeOutputs) {
  auto outcome = action_.run(
      query("label_replace(label_replace(remedy_test_value, \"pod\", \"api-7\", \"\", \"\"), "
            "\"namespace\", \"shop\", \"\", \"\")"),
      context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs,
            (Outputs{{"series", "1"},
                     {"value", "3"},
                     {"metric", "remedy_test_value"},
                     {"labels", "{namespace=\"shop\",pod=\"api-7\"}"},
                     {"label_namespace", "shop"},
                     {"label_pod", "api-7"},
                     {"samples", "remedy_test_value{namespace=\"shop\",pod=\"api-7\"} 3"},
                     {"truncated", "false"}}));
  EXPECT_EQ(outcome.message, "1 sample: remedy_test_value{namespace=\"shop\",pod=\"api-7\"} 3");
}

TEST_F(PrometheusQueryTest, SamplesAreSortedHighestFirstAndCutAtMaxSeries) {
  json params =
      query(podSample("1", "a") + " or " + podSample("3", "b") + " or " + podSample("2", "c") +
            " or " + podSample("3", "a2") + " or " + podSample("NaN", "n"));
  auto outcome = action_.run(params, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["series"], "5");
  EXPECT_EQ(outcome.outputs["samples"],
            "{pod=\"a2\"} 3; {pod=\"b\"} 3; {pod=\"c\"} 2; {pod=\"a\"} 1; {pod=\"n\"} NaN")
      << "equal values by their labels, NaN last";
  EXPECT_EQ(outcome.outputs["label_pod"], "a2");
  EXPECT_EQ(outcome.outputs["value"], "3");
  EXPECT_EQ(outcome.outputs["metric"], "");
  EXPECT_EQ(outcome.outputs["truncated"], "false");

  params["maxSeries"] = 2;
  outcome = action_.run(params, context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["series"], "5");
  EXPECT_EQ(outcome.outputs["samples"], "{pod=\"a2\"} 3; {pod=\"b\"} 3");
  EXPECT_EQ(outcome.outputs["truncated"], "true");
  EXPECT_EQ(outcome.message, "5 samples, the first {pod=\"a2\"} 3; kept 2 (maxSeries)");
}

TEST_F(PrometheusQueryTest, LabelValuesAreQuotedInLabelsAndCutInTheirOutputs) {
  std::string quote = "label_replace(vector(1), \"msg\", \"say \\\"hi\\\"\", \"\", \"\")";
  auto outcome = action_.run(query(quote), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["labels"], "{msg=\"say \\\"hi\\\"\"}");
  EXPECT_EQ(outcome.outputs["label_msg"], "say \"hi\"");

  std::string long_(600, 'x');
  outcome = action_.run(query(podSample("1", long_)), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["label_pod"], std::string(512, 'x'));
  EXPECT_EQ(outcome.outputs["truncated"], "true");
}

TEST_F(PrometheusQueryTest, AScalarIsOneSampleWithoutLabels) {
  auto outcome = action_.run(query("scalar(remedy_test_value) * 2"), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs, (Outputs{{"series", "1"},
                                      {"value", "6"},
                                      {"metric", ""},
                                      {"labels", "{}"},
                                      {"samples", "6"},
                                      {"truncated", "false"}}));
}

TEST_F(PrometheusQueryTest, AnEmptyResultSucceedsWithEmptyOutputs) {
  auto outcome = action_.run(query("remedy_test_value > 100"), context());
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs, (Outputs{{"series", "0"},
                                      {"value", ""},
                                      {"metric", ""},
                                      {"labels", ""},
                                      {"samples", ""},
                                      {"truncated", "false"}}));
  EXPECT_EQ(outcome.message, "the query returned no samples");
}

TEST_F(PrometheusQueryTest, ItRunsInDryRuns) {
  ActionContext c = context();
  c.dryRun = true;
  auto outcome = action_.run(query("remedy_test_value"), c);
  ASSERT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.outputs["value"], "3");
}

TEST_F(PrometheusQueryTest, BadQueriesRangeVectorsAndStringsArePermanent) {
  auto outcome = action_.run(query("sum(remedy_test_value"), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(outcome.message.find("Prometheus refused the query (bad_data)"), std::string::npos)
      << outcome.message;
  outcome = action_.run(query("remedy_test_value[1m]"), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message.rfind("prometheusQuery.query: returns a range vector", 0), 0u)
      << outcome.message;
  outcome = action_.run(query("\"text\""), context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message.rfind("prometheusQuery.query: returns a string", 0), 0u)
      << outcome.message;
}

TEST_F(PrometheusQueryTest, MaxSeriesAndTheQueryAreChecked) {
  for (const json& bad : {json(0), json(101), json("5"), json(2.5)}) {
    json params = query("remedy_test_value");
    params["maxSeries"] = bad;
    auto outcome = action_.run(params, context());
    EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
    EXPECT_EQ(outcome.message,
              "prometheusQuery.maxSeries: " + bad.dump() + " is not a whole number from 1 to 100");
  }
  auto outcome = action_.run({{"url", prometheus_->url()}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message, "prometheusQuery.query: required");
}

TEST_F(PrometheusQueryTest, TheUrlDefaultsToTheOperatorsPrometheus) {
  PrometheusOptions options = prometheusOptions();
  options.defaultUrl = prometheus_->url();
  PrometheusQueryAction action(options);
  auto outcome = action.run({{"query", "remedy_test_value"}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kSucceeded) << outcome.message;

  PrometheusQueryAction none(prometheusOptions());
  outcome = none.run({{"query", "remedy_test_value"}}, context());
  EXPECT_EQ(outcome.kind, OutcomeKind::kPermanentFailure);
  EXPECT_EQ(outcome.message,
            "prometheusQuery.url: not given, and the operator has no --prometheus-url");
}

TEST(PrometheusQuery, AnUnreachablePrometheusIsRetriable) {
  PrometheusQueryAction action{prometheusOptions()};
  ActionContext c;
  c.now = std::chrono::system_clock::now();
  c.deadline = c.now + std::chrono::seconds(10);
  int port = remedy::testing::freeLoopbackPort();
  auto outcome =
      action.run({{"url", "http://127.0.0.1:" + std::to_string(port)}, {"query", "up"}}, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
}

TEST(PrometheusCheck, AnUnreachablePrometheusIsRetriable) {
  PrometheusCheckAction action{prometheusOptions()};
  int port = remedy::testing::freeLoopbackPort();
  ActionContext c;
  c.now = std::chrono::system_clock::now();
  c.deadline = c.now + std::chrono::seconds(10);
  json params = {{"url", "http://127.0.0.1:" + std::to_string(port)},
                 {"query", "up"},
                 {"operator", "Equal"},
                 {"threshold", 1}};
  auto outcome = action.run(params, c);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetriableFailure) << outcome.message;
  EXPECT_NE(outcome.message.find("querying Prometheus at http://127.0.0.1:"), std::string::npos)
      << outcome.message;
}

}  // namespace
}  // namespace remedy::actions
