// RestClient::getText on the sandbox's pods/log: the text, its bounds, and
// errors decoded with the server's reason and code.
#include "sandbox/pod_logs.h"
#include "sandbox_fixture.h"

namespace remedy::kube::testing {
namespace {

class PodLogsSandboxTest : public SandboxTest {
 protected:
  void createPod(const std::string& name, const json& containers, const std::string& log) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata",
                 {{"name", name},
                  {"namespace", namespace_},
                  {"annotations", {{std::string(sandbox::kPodLogAnnotationPrefix) + "app", log}}}}},
                {"spec", {{"containers", containers}}}};
    auto created = client_->create(resources::pods(), namespace_, pod);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    ASSERT_TRUE(eventually([&] {
      auto got = client_->get(resources::pods(), namespace_, name);
      return got.ok() && got->value("status", json::object()).value("phase", "") == "Running";
    }));
  }

  Result<std::string> logOf(const std::string& pod,
                            std::vector<std::pair<std::string, std::string>> params) {
    TextGetOptions o;
    o.subresource = "log";
    o.params = std::move(params);
    return client_->getText(resources::pods(), namespace_, pod, o);
  }
};

TEST_F(PodLogsSandboxTest, ServesTheTailOfAContainersLogBoundedByLimitBytes) {
  createPod("web", json::array({{{"name", "app"}, {"image", "x"}}}), "one\ntwo\nthree\n");
  auto all = logOf("web", {});
  ASSERT_TRUE(all.ok()) << all.status().toString();
  EXPECT_EQ(*all, "one\ntwo\nthree\n");
  auto tail = logOf("web", {{"tailLines", "2"}, {"limitBytes", "6"}});
  ASSERT_TRUE(tail.ok()) << tail.status().toString();
  EXPECT_EQ(*tail, "two\nth");
}

TEST_F(PodLogsSandboxTest, ErrorsKeepTheServersReasonAndCode) {
  createPod("two",
            json::array({{{"name", "app"}, {"image", "x"}}, {{"name", "proxy"}, {"image", "y"}}}),
            "x");
  auto unnamed = logOf("two", {});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.status().code(), 400);
  EXPECT_EQ(unnamed.status().reason(), reason::kBadRequest);
  EXPECT_EQ(unnamed.status().message(),
            "a container name must be specified for pod two, choose one of: [app proxy]");
  auto unknown = logOf("two", {{"container", "db"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), 400);
  auto missing = logOf("nope", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), 404);
  EXPECT_EQ(missing.status().reason(), reason::kNotFound);
  auto invalid = logOf("two", {{"container", "app"}, {"tailLines", "-1"}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), 422);
  auto previous = logOf("two", {{"container", "app"}, {"previous", "true"}});
  ASSERT_FALSE(previous.ok());
  EXPECT_EQ(previous.status().message(),
            "previous terminated container \"app\" in pod \"two\" not found");
}

TEST_F(PodLogsSandboxTest, TheClientKeepsAtMostMaxBytes) {
  createPod("big", json::array({{{"name", "app"}, {"image", "x"}}}), std::string(1000, 'a'));
  TextGetOptions o;
  o.subresource = "log";
  o.maxBytes = 10;
  auto text = client_->getText(resources::pods(), namespace_, "big", o);
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_EQ(*text, std::string(10, 'a'));
}

}  // namespace
}  // namespace remedy::kube::testing
