// pods/log as kube-apiserver and the kubelet answer it, on Pod objects.
#include "sandbox/pod_logs.h"

#include <gtest/gtest.h>

#include <map>

namespace remedy::sandbox {
namespace {

using json = nlohmann::json;

json runningPod(const std::string& log, json containers = json::array({{{"name", "app"}}})) {
  json statuses = json::array();
  for (const auto& c : containers) {
    statuses.push_back({{"name", c["name"]},
                        {"state", {{"running", {{"startedAt", "2026-01-01T00:00:00Z"}}}}},
                        {"lastState", json::object()}});
  }
  return {{"metadata",
           {{"name", "web-1"},
            {"namespace", "shop"},
            {"annotations", {{std::string(kPodLogAnnotationPrefix) + "app", log}}}}},
          {"spec", {{"nodeName", "sandbox-node"}, {"containers", containers}}},
          {"status", {{"containerStatuses", statuses}}}};
}

Result<PodLogQuery> parse(const std::map<std::string, std::string>& params) {
  return parsePodLogQuery("web-1", [&](const std::string& name) -> std::optional<std::string> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  });
}

std::string logOf(const json& pod, const std::map<std::string, std::string>& params) {
  auto q = parse(params);
  EXPECT_TRUE(q.ok()) << q.error().message;
  auto text = podLog(pod, *q);
  EXPECT_TRUE(text.ok()) << text.error().message;
  return text.ok() ? *text : "<error>";
}

TEST(PodLogs, TailLinesKeepsTheLastLinesAndAnUnterminatedLastLineCounts) {
  json pod = runningPod("one\ntwo\nthree\n");
  EXPECT_EQ(logOf(pod, {}), "one\ntwo\nthree\n");
  EXPECT_EQ(logOf(pod, {{"tailLines", "2"}}), "two\nthree\n");
  EXPECT_EQ(logOf(pod, {{"tailLines", "10"}}), "one\ntwo\nthree\n");
  EXPECT_EQ(logOf(pod, {{"tailLines", "0"}}), "");
  EXPECT_EQ(logOf(runningPod("a\nb"), {{"tailLines", "1"}}), "b");
}

TEST(PodLogs, LimitBytesCutsTheTailedText) {
  json pod = runningPod("one\ntwo\nthree\n");
  EXPECT_EQ(logOf(pod, {{"limitBytes", "5"}}), "one\nt");
  EXPECT_EQ(logOf(pod, {{"tailLines", "1"}, {"limitBytes", "3"}}), "thr");
}

TEST(PodLogs, BadOptionsAreRefusedAsKubeApiserverDoes) {
  auto notInt = parse({{"tailLines", "x"}});
  ASSERT_FALSE(notInt.ok());
  EXPECT_EQ(notInt.error().code, 400);
  auto negative = parse({{"tailLines", "-1"}, {"limitBytes", "0"}});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, 422);
  EXPECT_EQ(negative.error().message,
            "PodLogOptions \"web-1\" is invalid: [tailLines: Invalid value: -1: must be greater "
            "than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]");
}

TEST(PodLogs, AContainerMustBeNamedInAPodOfSeveralAndMustExist) {
  json pod = runningPod("x", json::array({{{"name", "app"}}, {{"name", "proxy"}}}));
  pod["spec"]["initContainers"] = json::array({{{"name", "migrate"}}});
  auto q = parse({});
  auto none = podLog(pod, *q);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, 400);
  EXPECT_EQ(none.error().reason, "BadRequest");
  EXPECT_EQ(none.error().message,
            "a container name must be specified for pod web-1, choose one of: [app proxy] or one "
            "of the init containers: [migrate]");
  auto unknown = podLog(pod, *parse({{"container", "db"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, 400);
  EXPECT_EQ(unknown.error().message, "container db is not valid for pod web-1");
  EXPECT_EQ(logOf(pod, {{"container", "app"}}), "x");
}

TEST(PodLogs, PreviousNeedsATerminatedInstance) {
  json pod = runningPod("now\n");
  auto refused = podLog(pod, *parse({{"previous", "true"}}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 400);
  EXPECT_EQ(refused.error().message,
            "previous terminated container \"app\" in pod \"web-1\" not found");

  pod["status"]["containerStatuses"][0]["lastState"] = {{"terminated", {{"exitCode", 1}}}};
  // Without its own annotation the last run wrote what the running one does.
  EXPECT_EQ(logOf(pod, {{"previous", "true"}}), "now\n");
  pod["metadata"]["annotations"][std::string(kPreviousPodLogAnnotationPrefix) + "app"] =
      "panic: nil map\n";
  EXPECT_EQ(logOf(pod, {{"previous", "true"}}), "panic: nil map\n");
  EXPECT_EQ(logOf(pod, {{"previous", "false"}}), "now\n");
}

TEST(PodLogs, AWaitingContainerShowsItsLastRunOrIsRefused) {
  json pod = runningPod("now\n");
  pod["status"]["containerStatuses"][0]["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
  auto refused = podLog(pod, *parse({}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 400);
  EXPECT_EQ(refused.error().message,
            "container \"app\" in pod \"web-1\" is waiting to start: ContainerCreating");

  // CrashLoopBackOff: the kubelet serves the last terminated run.
  pod["status"]["containerStatuses"][0]["state"] = {{"waiting", {{"reason", "CrashLoopBackOff"}}}};
  pod["status"]["containerStatuses"][0]["lastState"] = {{"terminated", {{"exitCode", 1}}}};
  pod["metadata"]["annotations"][std::string(kPreviousPodLogAnnotationPrefix) + "app"] = "crash\n";
  EXPECT_EQ(logOf(pod, {}), "crash\n");
}

TEST(PodLogs, APodNotYetOnANodeHasAnEmptyLog) {
  json pod = runningPod("x");
  pod["spec"].erase("nodeName");
  EXPECT_EQ(logOf(pod, {}), "");
}

}  // namespace
}  // namespace remedy::sandbox
