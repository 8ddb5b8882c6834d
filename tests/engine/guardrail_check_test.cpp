// GuardrailCheck::checkInMemory on what a request carries, without an API
// server: maxConcurrent counts the Incidents the cache shows running and the
// reservations on the Runbook's history it cannot show as final, so two
// operators (or one stale cache) cannot both take the last slot.
#include "engine/guardrail_check.h"

#include "kube/rest_client.h"
#include "kube/time_format.h"

#include <gtest/gtest.h>

namespace remedy::engine {
namespace {

using std::chrono::minutes;

class MaxConcurrentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::Config config;
    config.server = "https://127.0.0.1:1";  // never called: no target is read
    auto client = kube::RestClient::fromConfig(config);
    ASSERT_TRUE(client.ok()) << client.status().toString();
    client_ = std::move(*client);
    guardrails_.maxConcurrent = 1;
    request_.incident = "c";
    request_.runbook = "soak";
    request_.guardrails = &guardrails_;
    request_.firstAction = true;
    request_.actionField = "scale";
    request_.now = kube::WallTime(std::chrono::hours(24 * 365 * 50));
    request_.runbookStatus = api::RunbookStatus{};
    request_.runbookStatus->history = std::vector<api::ExecutionRecord>{};
  }

  void reserved(const std::string& incident, kube::Duration ago) {
    api::ExecutionRecord r;
    r.incident = incident;
    r.time = kube::formatRfc3339(request_.now - ago);
    request_.runbookStatus->history->push_back(r);
  }

  void cached(const std::string& name, std::optional<api::IncidentPhase> phase, bool executed) {
    IncidentView v;
    v.name = name;
    v.runbook = "soak";
    v.phase = phase;
    v.executed = executed;
    request_.others.push_back(v);
  }

  GuardrailVerdict check() { return GuardrailCheck(*client_).checkInMemory(request_); }

  std::unique_ptr<kube::Client> client_;
  api::Guardrails guardrails_;
  GuardrailRequest request_;
};

TEST_F(MaxConcurrentTest, AnIncidentTheCacheShowsRunningTakesTheSlot) {
  cached("a", api::IncidentPhase::kRunning, true);
  EXPECT_EQ(check().guardrail, "maxConcurrent");
}

TEST_F(MaxConcurrentTest, AReservationTheCacheDoesNotShowYetTakesTheSlot) {
  // Another operator reserved a minute ago; its Incident has not reached
  // this cache.
  reserved("a", minutes(1));
  GuardrailVerdict v = check();
  EXPECT_EQ(v.kind, GuardrailVerdict::Kind::kWait);
  EXPECT_EQ(v.guardrail, "maxConcurrent") << v.message;
}

TEST_F(MaxConcurrentTest, AReservedIncidentTheCacheShowsBeforeItsCheckpointTakesTheSlot) {
  reserved("a", minutes(0));
  cached("a", api::IncidentPhase::kPending, false);
  EXPECT_EQ(check().guardrail, "maxConcurrent");
}

TEST_F(MaxConcurrentTest, AReservationWhoseIncidentIsFinalFreesTheSlot) {
  reserved("a", minutes(1));
  cached("a", api::IncidentPhase::kSucceeded, true);
  EXPECT_TRUE(check().allowed()) << check().message;
}

TEST_F(MaxConcurrentTest, AnUnseenReservationHoldsTheSlotOnlyForAWhile) {
  reserved("a", GuardrailCheck::kUnseenReservationHold + minutes(1));
  EXPECT_TRUE(check().allowed()) << check().message;
}

TEST_F(MaxConcurrentTest, ItsOwnReservationIsNotCounted) {
  reserved("c", minutes(0));
  EXPECT_TRUE(check().allowed()) << check().message;
}

// One remediation per target among Incidents that have not acted yet: the
// one created first goes first. One not matched yet holds back a later one
// only when the targets it will have (predicted from the cached Runbooks)
// share one with it, or when they cannot be told.
class FirstComeTest : public MaxConcurrentTest {
 protected:
  void SetUp() override {
    MaxConcurrentTest::SetUp();
    request_.guardrails = nullptr;
    request_.order = "2026-12-07T10:00:00Z/c";
    request_.incidentTargets = {"Deployment/shop/web"};
  }

  void earlierNotMatched(std::optional<std::set<std::string>> predicted) {
    IncidentView v;
    v.name = "a";
    v.order = "2026-12-07T10:00:00Z/a";
    v.phase = api::IncidentPhase::kPending;
    v.predictedTargets = std::move(predicted);
    request_.others.push_back(v);
  }

  GuardrailVerdict checkBeforeReads() {
    return GuardrailCheck(*client_).checkBeforeReads(request_);
  }
};

TEST_F(FirstComeTest, AnEarlierIncidentPredictedOnAnotherTargetDoesNotHoldItBack) {
  earlierNotMatched(std::set<std::string>{"Deployment/shop/api"});
  GuardrailVerdict v = checkBeforeReads();
  EXPECT_TRUE(v.allowed()) << v.message;
}

TEST_F(FirstComeTest, AnEarlierIncidentPredictedOnItsTargetGoesFirst) {
  earlierNotMatched(std::set<std::string>{"Deployment/shop/api", "Deployment/shop/web"});
  GuardrailVerdict v = checkBeforeReads();
  EXPECT_EQ(v.kind, GuardrailVerdict::Kind::kWait);
  EXPECT_EQ(v.guardrail, "oneRemediationPerTarget");
  EXPECT_EQ(v.message, "incident a came first for Deployment/shop/web");
}

TEST_F(FirstComeTest, AnEarlierIncidentWhoseTargetsCannotBeToldGoesFirst) {
  earlierNotMatched(std::nullopt);
  GuardrailVerdict v = checkBeforeReads();
  EXPECT_EQ(v.kind, GuardrailVerdict::Kind::kWait);
  EXPECT_EQ(v.message, "incident a came first and is not matched yet");
}

TEST_F(FirstComeTest, ALaterIncidentNotMatchedYetDoesNotHoldItBack) {
  earlierNotMatched(std::nullopt);
  request_.others.back().order = "2026-12-07T10:00:01Z/a";
  GuardrailVerdict v = checkBeforeReads();
  EXPECT_TRUE(v.allowed()) << v.message;
}

}  // namespace
}  // namespace remedy::engine
