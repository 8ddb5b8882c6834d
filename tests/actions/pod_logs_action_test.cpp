// podLogs and runJob's logTail on the sandbox, whose pods take their log
// text from annotations (src/sandbox/pod_logs.h): the tail and its bounds,
// previous runs, the container the server insists on, and every secret
// value of the Incident's Runbook redacted before anything is reported.
#include "actions/pod_logs_action.h"
#include "actions/kubernetes_actions.h"
#include "kubernetes_fixture.h"
#include "sandbox/pod_logs.h"
#include "sandbox/workload_simulator.h"

#include "kube/base64.h"

namespace remedy::actions {
namespace {

using kube::testing::eventually;
using testing::KubernetesActionTest;

const std::string kLog = std::string(sandbox::kPodLogAnnotationPrefix) + "app";
const std::string kPreviousLog = std::string(sandbox::kPreviousPodLogAnnotationPrefix) + "app";

class PodLogsActionTest : public KubernetesActionTest {
 protected:
  // A running pod with containers `names` and `annotations`.
  void createPod(const std::string& name, const json& annotations,
                 const std::vector<std::string>& names = {"app"}) {
    json containers = json::array();
    for (const auto& n : names) containers.push_back({{"name", n}, {"image", "x"}});
    json pod = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}, {"namespace", namespace_}, {"annotations", annotations}}},
        {"spec", {{"containers", containers}}}};
    auto created = client_->create(kube::resources::pods(), namespace_, pod);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    ASSERT_TRUE(eventually([&] {
      auto got = client_->get(kube::resources::pods(), namespace_, name);
      return got.ok() && got->value("status", json::object()).value("phase", "") == "Running";
    }));
  }

  void createSecret(const std::string& name, const std::string& key, const std::string& value) {
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}},
                   {"data", {{key, kube::encodeBase64(value)}}}};
    auto created = client_->create(kube::resources::secrets(), namespace_, secret);
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }

  // An Incident whose Runbook names `refs` in secretKeyRefs.
  ActionContext contextWithSecrets(const json& refs) {
    ActionContext c = context();
    c.incident = {{"name", "inc"}, {"namespace", namespace_}, {"secretKeyRefs", refs}};
    return c;
  }

  PodLogsAction action_;
};

TEST_F(PodLogsActionTest, ReadsTheLastLinesOfTheNamedPod) {
  createPod("web-1", {{kLog, "one\ntwo\nthree\nfour\n"}});
  auto out = action_.run({{"pod", "web-1"}, {"tailLines", 2}}, context());
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], "three\nfour\n");
  EXPECT_EQ(out.outputs["lines"], "2");
  EXPECT_EQ(out.outputs["truncated"], "false");
  EXPECT_EQ(out.outputs["pod"], "web-1");
  EXPECT_EQ(out.outputs["container"], "app");
  EXPECT_EQ(out.message, "read 2 lines of the log of pod " + namespace_ + "/web-1 container app");
}

TEST_F(PodLogsActionTest, LimitBytesCutsTheTextAndMarksIt) {
  createPod("web-1", {{kLog, "aaaa\nbbbb\ncccc\n"}});
  auto out = action_.run({{"pod", "web-1"}, {"limitBytes", 7}}, context());
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], std::string("aaaa\nbb") + kLogTruncatedMarker);
  EXPECT_EQ(out.outputs["truncated"], "true");
  EXPECT_EQ(out.outputs["lines"], "2");
}

TEST_F(PodLogsActionTest, PreviousReadsTheLastTerminatedRun) {
  createPod("web-1", {{kLog, "starting\n"},
                      {kPreviousLog, "panic: connection refused\n"},
                      {sandbox::kCrashLoopAnnotation, "true"}});
  ASSERT_TRUE(eventually([&] {
    auto pod = client_->get(kube::resources::pods(), namespace_, "web-1");
    if (!pod.ok()) return false;
    auto statuses = (*pod)["status"].value("containerStatuses", json::array());
    return !statuses.empty() && statuses[0]["lastState"].contains("terminated");
  }));
  auto out = action_.run({{"pod", "web-1"}, {"previous", true}}, context());
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], "panic: connection refused\n");
  EXPECT_NE(out.message.find("(previous)"), std::string::npos) << out.message;
}

TEST_F(PodLogsActionTest, PreviousWithoutACrashIsAPermanentFailureWithTheServersReason) {
  createPod("web-1", {{kLog, "fine\n"}});
  auto out = action_.run({{"pod", "web-1"}, {"previous", true}}, context());
  EXPECT_EQ(out.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(out.message.find("previous terminated container \"app\" in pod \"web-1\" not found"),
            std::string::npos)
      << out.message;
}

TEST_F(PodLogsActionTest, AContainerThePodLacksOrNoneInAPodOfSeveralFailsNamingThem) {
  createPod("web-1", {{kLog, "x\n"}}, {"app", "proxy"});
  auto unnamed = action_.run({{"pod", "web-1"}}, context());
  EXPECT_EQ(unnamed.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(unnamed.message.find("choose one of: [app proxy]"), std::string::npos)
      << unnamed.message;
  auto missing = action_.run({{"pod", "web-1"}, {"container", "db"}}, context());
  EXPECT_EQ(missing.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(missing.message.find("container db is not valid for pod web-1"), std::string::npos)
      << missing.message;
  auto named = action_.run({{"pod", "web-1"}, {"container", "app"}}, context());
  EXPECT_EQ(named.kind, OutcomeKind::kSucceeded) << named.message;
  auto gone = action_.run({{"pod", "web-2"}}, context());
  EXPECT_EQ(gone.kind, OutcomeKind::kPermanentFailure);
  EXPECT_NE(gone.message.find("not found"), std::string::npos) << gone.message;
}

TEST_F(PodLogsActionTest, EverySecretValueTheRunbookNamesIsRedacted) {
  const std::string uri = "postgres://app:s3cr3t-pw@db:5432/shop";
  createSecret("db", "uri", uri);
  createSecret("hook", "url", "https://hooks.example.com/T0/B0/XYZtoken123");
  createPod("web-1", {{kLog, "connecting to " + uri + "\nauth failed for password s3cr3t-pw\n" +
                                 "posting to https://hooks.example.com/T0/B0/XYZtoken123\n"}});
  json refs = json::array({{{"name", "db"}, {"key", "uri"}},
                           {{"name", "hook"}, {"key", "url"}},
                           // Neither exists: nothing the Incident read, nothing to redact.
                           {{"name", "gone"}, {"key", "x"}},
                           {{"name", "db"}, {"key", "other"}}});
  auto out = action_.run({{"pod", "web-1"}}, contextWithSecrets(refs));
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  const std::string& text = out.outputs["text"];
  EXPECT_EQ(text,
            "connecting to [redacted]\nauth failed for password [redacted]\nposting to "
            "[redacted]\n");
  for (const auto& [key, value] : out.outputs) {
    EXPECT_EQ(value.find("s3cr3t"), std::string::npos) << key;
    EXPECT_EQ(value.find("XYZtoken"), std::string::npos) << key;
  }
}

TEST_F(PodLogsActionTest, ASecretCutInHalfAtLimitBytesLeavesNoPrefix) {
  createSecret("api", "token", "tok-0123456789abcdef");
  createPod("web-1", {{kLog, "header line\nusing tok-0123456789abcdef now\n"}});
  // The cut falls inside the token: "header line\nusing tok-0123".
  auto out = action_.run({{"pod", "web-1"}, {"limitBytes", 26}},
                         contextWithSecrets(json::array({{{"name", "api"}, {"key", "token"}}})));
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], std::string("header line\nusing ") + kLogTruncatedMarker);
  EXPECT_EQ(out.outputs["text"].find("tok-"), std::string::npos);
}

// A log as a kubelet may serve it: any bytes.
class RawLogClient : public testing::InterferingClient {
 public:
  RawLogClient(kube::Client& real, std::string bytes)
      : InterferingClient(
            real, [](const std::string&, const kube::PatchOptions&) { return false; }, [] {}),
        bytes_(std::move(bytes)) {}
  kube::Result<std::string> getText(const kube::Resource&, const std::string&, const std::string&,
                                    const kube::TextGetOptions& o) override {
    std::string out = bytes_;
    if (o.maxBytes > 0 && out.size() > o.maxBytes) out.resize(o.maxBytes);
    return out;
  }

 private:
  std::string bytes_;
};

TEST_F(PodLogsActionTest, InvalidUtf8BecomesReplacementCharactersWithinLimitBytes) {
  createPod("web-1", {{kLog, "ok\n"}});
  RawLogClient raw(*client_, "bad \xff\xfe bytes\n\xc3");
  ActionContext c = context();
  c.client = &raw;
  auto out = action_.run({{"pod", "web-1"}}, c);
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes\n\xEF\xBF\xBD");
  EXPECT_NO_THROW(json(out.outputs).dump());
  // Three bytes of U+FFFD for each bad one must still fit limitBytes.
  auto cut = action_.run({{"pod", "web-1"}, {"limitBytes", 8}}, c);
  ASSERT_EQ(cut.kind, OutcomeKind::kSucceeded) << cut.message;
  EXPECT_EQ(cut.outputs["text"], std::string("bad \xEF\xBF\xBD") + kLogTruncatedMarker);
  EXPECT_NO_THROW(json(cut.outputs).dump());
}

TEST_F(PodLogsActionTest, OfAWorkloadsPodsThePodWithTheMostRestartsIsChosen) {
  createPod("calm", {{kLog, "calm\n"}});
  createPod("crashing", {{kLog, "boom\n"}, {sandbox::kCrashLoopAnnotation, "true"}});
  ASSERT_TRUE(eventually([&] {
    auto pod = client_->get(kube::resources::pods(), namespace_, "crashing");
    if (!pod.ok()) return false;
    auto statuses = (*pod)["status"].value("containerStatuses", json::array());
    return !statuses.empty() && statuses[0].value("restartCount", 0) > 0;
  }));
  auto pods = client_->list(kube::resources::pods(), namespace_);
  ASSERT_TRUE(pods.ok());
  std::vector<json> items = (*pods)["items"].get<std::vector<json>>();
  const json* chosen = choosePodForLogs(items);
  ASSERT_NE(chosen, nullptr);
  EXPECT_EQ(kube::nameOf(*chosen), "crashing");
  // A Pod target is that pod.
  auto out = action_.run({{"target", {{"kind", "Pod"}, {"name", "calm"}}}}, context());
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], "calm\n");
}

TEST_F(PodLogsActionTest, ADeploymentTargetReadsOneOfItsPods) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "api"}, {"namespace", namespace_}}},
            {"spec",
             {{"replicas", 2},
              {"selector", {{"matchLabels", {{"app", "api"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "api"}}}, {"annotations", {{kLog, "ready\n"}}}}},
                {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}}})}}}}}}}};
  ASSERT_TRUE(client_->create(kube::resources::deployments(), namespace_, d).ok());
  ASSERT_TRUE(eventually([&] {
    auto got = client_->get(kube::resources::deployments(), namespace_, "api");
    return got.ok() && got->value("status", json::object()).value("readyReplicas", 0) == 2;
  }));
  auto out = action_.run({{"target", {{"name", "api"}}}}, context());
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["text"], "ready\n");
  EXPECT_EQ(out.outputs["pod"].rfind("api-", 0), 0u) << out.outputs["pod"];
}

TEST_F(PodLogsActionTest, RunJobReportsTheRedactedTailOfItsPodsLog) {
  createSecret("db", "password", "hunter2-hunter2");
  RunJobAction job;
  json containers = json::array({{{"name", "reset"}, {"image", "busybox"}}});
  std::string log;
  for (int i = 1; i <= 30; ++i) log += "line " + std::to_string(i) + "\n";
  log += "done with hunter2-hunter2\n";
  json params = {
      {"template",
       {{"metadata",
         {{"annotations", {{std::string(sandbox::kPodLogAnnotationPrefix) + "reset", log}}}}},
        {"spec", {{"containers", containers}}}}},
      {"logTail", {{"tailLines", 2}}}};
  auto c = contextWithSecrets(json::array({{{"name", "db"}, {"key", "password"}}}));
  auto owner = client_->create(kube::resources::configMaps(), namespace_, configMap("owner"));
  ASSERT_TRUE(owner.ok());
  c.owner["metadata"]["uid"] = kube::uidOf(*owner);
  ActionOutcome out;
  ASSERT_TRUE(eventually([&] {
    out = job.run(params, c);
    return out.kind != OutcomeKind::kInProgress;
  }));
  ASSERT_EQ(out.kind, OutcomeKind::kSucceeded) << out.message;
  EXPECT_EQ(out.outputs["logTail"], "line 30\ndone with [redacted]\n");
}

TEST_F(PodLogsActionTest, AFailedJobKeepsItsLogTail) {
  RunJobAction job;
  json containers = json::array({{{"name", "reset"}, {"image", "busybox"}}});
  json params = {
      {"template",
       {{"metadata",
         {{"annotations",
           {{std::string(sandbox::kPodLogAnnotationPrefix) + "reset", "error: no such group\n"},
            {sandbox::kFailAnnotation, "true"}}}}},
        {"spec", {{"containers", containers}}}}}};
  auto c = context();
  auto owner = client_->create(kube::resources::configMaps(), namespace_, configMap("owner"));
  ASSERT_TRUE(owner.ok());
  c.owner["metadata"]["uid"] = kube::uidOf(*owner);
  ActionOutcome out;
  ASSERT_TRUE(eventually([&] {
    out = job.run(params, c);
    return out.kind != OutcomeKind::kInProgress;
  }));
  ASSERT_EQ(out.kind, OutcomeKind::kPermanentFailure) << out.message;
  EXPECT_EQ(out.outputs["logTail"], "error: no such group\n");
}

}  // namespace
}  // namespace remedy::actions
