#include "sandbox/disruption.h"

#include <gtest/gtest.h>

namespace remedy::sandbox {
namespace {

using Clock = std::chrono::system_clock;

json pod(const std::string& name, bool ready, const std::string& app = "web",
         const std::string& ownerUid = "rs-uid") {
  json p = {
      {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
      {"status",
       {{"phase", "Running"},
        {"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
  if (!ownerUid.empty()) {
    p["metadata"]["ownerReferences"] = json::array(
        {{{"kind", "ReplicaSet"}, {"name", "web-1"}, {"uid", ownerUid}, {"controller", true}}});
  }
  return p;
}

json pdb(const std::string& name, const char* field, json value, int64_t generation = 1) {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"generation", generation}}},
          {"spec", {{field, value}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}};
}

ScaleLookup fixedScale(int32_t replicas) {
  return [replicas](const std::string&, const json& ref) -> std::optional<ControllerScale> {
    return ControllerScale{ref.value("uid", ""), replicas};
  };
}

std::vector<json> pods(int ready, int unready) {
  std::vector<json> out;
  for (int i = 0; i < ready; ++i) out.push_back(pod("r" + std::to_string(i), true));
  for (int i = 0; i < unready; ++i) out.push_back(pod("u" + std::to_string(i), false));
  return out;
}

TEST(ScaledValue, RoundsPercentagesAsIntstrDoes) {
  EXPECT_EQ(scaledValue(json(3), 10, true), 3);
  EXPECT_EQ(scaledValue(json("50%"), 3, true), 2);
  EXPECT_EQ(scaledValue(json("50%"), 3, false), 1);
  EXPECT_EQ(scaledValue(json("25%"), 4, true), 1);
  EXPECT_EQ(scaledValue(json("0%"), 7, true), 0);
  EXPECT_EQ(scaledValue(json("abc"), 7, true), std::nullopt);
  EXPECT_EQ(scaledValue(json("5"), 7, true), std::nullopt);
}

TEST(PdbSelectsPod, NullSelectorSelectsNothingEmptySelectsAll) {
  json p = pod("a", true);
  json budget = pdb("b", "minAvailable", 1);
  EXPECT_TRUE(pdbSelectsPod(budget, p));
  budget["spec"]["selector"] = json::object();
  EXPECT_TRUE(pdbSelectsPod(budget, p));
  budget["spec"].erase("selector");
  EXPECT_FALSE(pdbSelectsPod(budget, p));
  budget["spec"]["selector"] = {
      {"matchExpressions",
       json::array({{{"key", "app"}, {"operator", "In"}, {"values", {"web", "api"}}}})}};
  EXPECT_TRUE(pdbSelectsPod(budget, p));
  budget["spec"]["selector"]["matchExpressions"][0]["operator"] = "NotIn";
  EXPECT_FALSE(pdbSelectsPod(budget, p));
  budget["spec"]["selector"] = {{"matchLabels", {{"app", "web"}}}};
  p["metadata"]["namespace"] = "other";
  EXPECT_FALSE(pdbSelectsPod(budget, p));
}

TEST(ComputePdbCounts, IntegerMinAvailableCountsSelectedPods) {
  auto counts = computePdbCounts(pdb("b", "minAvailable", 2), pods(3, 1), {}, Clock::now());
  EXPECT_EQ(counts.expectedPods, 4);
  EXPECT_EQ(counts.desiredHealthy, 2);
  EXPECT_EQ(counts.currentHealthy, 3);
  EXPECT_EQ(counts.disruptionsAllowed, 1);
}

TEST(ComputePdbCounts, PercentMinAvailableRoundsUpOverControllerScale) {
  // 50% of 3 replicas is 1.5, rounded up to 2.
  auto counts =
      computePdbCounts(pdb("b", "minAvailable", "50%"), pods(3, 0), fixedScale(3), Clock::now());
  EXPECT_EQ(counts.expectedPods, 3);
  EXPECT_EQ(counts.desiredHealthy, 2);
  EXPECT_EQ(counts.disruptionsAllowed, 1);
}

TEST(ComputePdbCounts, MaxUnavailableUsesTheScaleNotThePodCount) {
  // The Deployment wants 5 but only 3 pods exist: 5 - ceil(20% of 5) = 4.
  auto counts =
      computePdbCounts(pdb("b", "maxUnavailable", "20%"), pods(3, 0), fixedScale(5), Clock::now());
  EXPECT_EQ(counts.expectedPods, 5);
  EXPECT_EQ(counts.desiredHealthy, 4);
  EXPECT_EQ(counts.currentHealthy, 3);
  EXPECT_EQ(counts.disruptionsAllowed, 0);
  counts = computePdbCounts(pdb("b", "maxUnavailable", 1), pods(3, 0), fixedScale(3), Clock::now());
  EXPECT_EQ(counts.desiredHealthy, 2);
  EXPECT_EQ(counts.disruptionsAllowed, 1);
}

TEST(ComputePdbCounts, UnknownControllerIsAnError) {
  ScaleLookup none = [](const std::string&, const json&) { return std::nullopt; };
  auto counts = computePdbCounts(pdb("b", "maxUnavailable", 1), pods(2, 0), none, Clock::now());
  ASSERT_TRUE(counts.error);
  EXPECT_EQ(*counts.error, "found no controllers for pod \"r0\"");
}

TEST(ComputePdbCounts, UnmanagedPodsAreLeftOutOfTheScale) {
  std::vector<json> ps = pods(2, 0);
  ps.push_back(pod("bare", true, "web", ""));
  auto counts = computePdbCounts(pdb("b", "maxUnavailable", 0), ps, fixedScale(2), Clock::now());
  EXPECT_FALSE(counts.error);
  EXPECT_EQ(counts.expectedPods, 2);
  EXPECT_EQ(counts.currentHealthy, 3);
  EXPECT_EQ(counts.disruptionsAllowed, 1);
}

TEST(ComputePdbCounts, TerminatingAndRecentlyDisruptedPodsAreNotHealthy) {
  auto now = Clock::now();
  std::vector<json> ps = pods(4, 0);
  ps[0]["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  json budget = pdb("b", "minAvailable", 1);
  std::time_t t = Clock::to_time_t(now - std::chrono::seconds(30));
  char recent[32];
  std::strftime(recent, sizeof recent, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  budget["status"]["disruptedPods"] = {{"r1", recent}, {"r2", "2000-01-01T00:00:00Z"}};
  auto counts = computePdbCounts(budget, ps, {}, now);
  // r0 is terminating, r1 was evicted 30s ago; r2's record is stale.
  EXPECT_EQ(counts.currentHealthy, 2);
  EXPECT_EQ(counts.disruptedPods, json({{"r1", recent}}));
}

TEST(ComputePdbCounts, NoExpectedPodsAllowsNoDisruption) {
  auto counts = computePdbCounts(pdb("b", "maxUnavailable", 1), {}, fixedScale(0), Clock::now());
  EXPECT_EQ(counts.expectedPods, 0);
  EXPECT_EQ(counts.disruptionsAllowed, 0);
}

TEST(PdbStatus, WritesCountsAndConditionAndIsStableWhenNothingChanges) {
  auto now = Clock::now();
  json budget = pdb("b", "minAvailable", 2, 3);
  auto counts = computePdbCounts(budget, pods(3, 0), {}, now);
  json status = pdbStatus(budget, counts, now);
  EXPECT_EQ(status["currentHealthy"], 3);
  EXPECT_EQ(status["desiredHealthy"], 2);
  EXPECT_EQ(status["expectedPods"], 3);
  EXPECT_EQ(status["disruptionsAllowed"], 1);
  EXPECT_EQ(status["observedGeneration"], 3);
  ASSERT_EQ(status["conditions"].size(), 1u);
  const json& c = status["conditions"][0];
  EXPECT_EQ(c["type"], "DisruptionAllowed");
  EXPECT_EQ(c["status"], "True");
  EXPECT_EQ(c["reason"], "SufficientPods");
  EXPECT_EQ(c["message"], "");
  EXPECT_EQ(c["observedGeneration"], 3);
  EXPECT_FALSE(status.contains("disruptedPods"));

  budget["status"] = status;
  EXPECT_EQ(pdbStatus(budget, counts, now + std::chrono::hours(1)), status);

  auto fewer = computePdbCounts(budget, pods(2, 1), {}, now);
  json next = pdbStatus(budget, fewer, now + std::chrono::hours(1));
  EXPECT_EQ(next["disruptionsAllowed"], 0);
  EXPECT_EQ(next["conditions"][0]["status"], "False");
  EXPECT_EQ(next["conditions"][0]["reason"], "InsufficientPods");
  EXPECT_NE(next["conditions"][0]["lastTransitionTime"], c["lastTransitionTime"]);
}

TEST(PdbStatus, FailsSafeWhenTheExpectedCountIsUnknown) {
  json budget = pdb("b", "maxUnavailable", 1);
  budget["status"] = {{"currentHealthy", 2},
                      {"desiredHealthy", 1},
                      {"disruptionsAllowed", 1},
                      {"expectedPods", 2},
                      {"observedGeneration", 1}};
  PdbCounts counts;
  counts.error = "found no controllers for pod \"x\"";
  json status = pdbStatus(budget, counts, Clock::now());
  EXPECT_EQ(status["disruptionsAllowed"], 0);
  EXPECT_EQ(status["currentHealthy"], 2);
  EXPECT_EQ(status["conditions"][0]["reason"], "SyncFailed");
  EXPECT_EQ(status["conditions"][0]["message"], "found no controllers for pod \"x\"");
}

TEST(CheckEviction, AllowedWithinTheBudget) {
  auto ps = pods(3, 0);
  EXPECT_FALSE(checkEviction(ps[0], {pdb("b", "minAvailable", 2)}, ps));
}

TEST(CheckEviction, RefusedWith429WhenTheBudgetIsExhausted) {
  auto ps = pods(2, 0);
  auto refusal = checkEviction(ps[0], {pdb("web-pdb", "minAvailable", 2)}, ps);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, 429);
  EXPECT_EQ(refusal->reason, "TooManyRequests");
  EXPECT_EQ(refusal->message, "Cannot evict pod as it would violate the pod's disruption budget.");
  EXPECT_TRUE(refusal->headers.empty());
  EXPECT_EQ(refusal->details,
            json({{"causes",
                   json::array({{{"reason", "DisruptionBudget"},
                                 {"message",
                                  "The disruption budget web-pdb needs 2 healthy pods and has 2 "
                                  "currently"}}})}}));
  json status = refusal->toStatus();
  EXPECT_EQ(status["code"], 429);
}

TEST(CheckEviction, MoreThanOneBudgetIs500) {
  auto ps = pods(3, 0);
  auto refusal =
      checkEviction(ps[0], {pdb("a", "minAvailable", 1), pdb("b", "maxUnavailable", 1)}, ps);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, 500);
  EXPECT_EQ(refusal->message,
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
            "not support.");
  EXPECT_FALSE(refusal->toStatus().contains("reason"));
}

TEST(CheckEviction, PodsNotSelectedOrNotRunningIgnoreBudgets) {
  auto ps = pods(1, 0);
  json other = pod("x", true, "api");
  ps.push_back(other);
  EXPECT_FALSE(checkEviction(other, {pdb("b", "minAvailable", 1)}, ps));
  json pending = ps[0];
  pending["status"]["phase"] = "Pending";
  EXPECT_FALSE(checkEviction(pending, {pdb("b", "minAvailable", 5)}, ps));
  json done = ps[0];
  done["status"]["phase"] = "Succeeded";
  EXPECT_FALSE(checkEviction(done, {pdb("b", "minAvailable", 5)}, ps));
}

TEST(CheckEviction, UnreadyPodMayGoWhenTheBudgetIsMet) {
  auto ps = pods(2, 1);
  const json& unready = ps[2];
  EXPECT_FALSE(checkEviction(unready, {pdb("b", "minAvailable", 2)}, ps));
  // Not met: the unready pod is protected like any other...
  auto refusal = checkEviction(unready, {pdb("b", "minAvailable", 3)}, ps);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, 429);
  // ...unless the budget always allows evicting unhealthy pods.
  json always = pdb("b", "minAvailable", 3);
  always["spec"]["unhealthyPodEvictionPolicy"] = "AlwaysAllow";
  EXPECT_FALSE(checkEviction(unready, {always}, ps));
}

}  // namespace
}  // namespace remedy::sandbox
