// The web client on its own (against a local server) and the text helpers
// the web actions report through.
#include "actions/web_client.h"

#include "actions/http_action.h"
#include "kube/base64.h"
#include "recording_server.h"

#include <gtest/gtest.h>

namespace remedy::actions {
namespace {

using testing::RecordingServer;

TEST(RedactSecrets, ReplacesEveryOccurrenceLongestFirst) {
  EXPECT_EQ(redactSecrets("a tok b tok-longer c", {"tok", "tok-longer"}),
            "a [redacted] b [redacted] c");
  EXPECT_EQ(redactSecrets("nothing here", {"", "absent"}), "nothing here");
}

TEST(AddSecret, TheTokenOfABearerValueIsASecretToo) {
  std::vector<std::string> secrets;
  addSecret("Bearer abcdef0123456789", &secrets);
  EXPECT_EQ(redactSecrets("echo: abcdef0123456789", secrets), "echo: [redacted]");
}

TEST(DisplayUrl, DropsUserInfo) {
  EXPECT_EQ(displayUrl("https://user:pw@host:8443/x?y=1"), "https://host:8443/x?y=1");
  EXPECT_EQ(displayUrl("http://host/a@b"), "http://host/a@b");
}

TEST(Utf8Excerpt, CutsOnCharacterBoundariesAndReplacesInvalidBytes) {
  EXPECT_EQ(utf8Excerpt("caf\xc3\xa9", 4), "caf");
  EXPECT_EQ(utf8Excerpt("caf\xc3\xa9", 5), "caf\xc3\xa9");
  EXPECT_EQ(utf8Excerpt("a\xff"
                        "b",
                        10),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8Excerpt("\xed\xa0\x80", 10), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_LE(utf8Excerpt(std::string(100, '\xff'), 10).size(), 10u);
}

TEST(WebClient, ReadsTheBodyUpToTheLimitAndSaysItWasCut) {
  RecordingServer server;
  server.replyWith(200, std::string(5000, 'z'));
  auto client = makeWebClient();
  WebRequest request;
  request.egress = testing::loopbackEgress();
  request.url = server.url();
  request.maxResponseBytes = 1000;
  WebResponse response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string(1000, 'z'));
  EXPECT_TRUE(response.truncated);

  request.maxResponseBytes = 5000;
  response = client->send(request);
  EXPECT_EQ(response.body.size(), 5000u);
  EXPECT_FALSE(response.truncated);
}

TEST(WebClient, ALargeBodyIsReadWholeOrCutAtTheLimit) {
  RecordingServer server;
  std::string large;
  for (int i = 0; large.size() < 300 * 1024; ++i) large += std::to_string(i) + ",";
  server.replyWith(200, large);
  auto client = makeWebClient();
  WebRequest request;
  request.egress = testing::loopbackEgress();
  request.url = server.url();
  request.maxResponseBytes = 1024 * 1024;
  WebResponse response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, large);
  EXPECT_FALSE(response.truncated);

  request.maxResponseBytes = 150 * 1000;
  response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, large.substr(0, 150 * 1000));
  EXPECT_TRUE(response.truncated);
}

TEST(WebClient, UserInfoInTheUrlBecomesBasicAuthentication) {
  RecordingServer server;
  auto client = makeWebClient();
  WebRequest request;
  request.egress = testing::loopbackEgress();
  request.url = "http://alice:p%40ss@127.0.0.1:" + std::to_string(server.port()) + "/x?a=b";
  WebResponse response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/x?a=b");
  EXPECT_EQ(requests[0].header("authorization"), "Basic " + kube::encodeBase64("alice:p@ss"));
}

TEST(WebClient, RedirectsAreNotFollowed) {
  RecordingServer server;
  server.reply([&](const http::Request& r, http::Responder& responder) {
    http::Response response;
    response.status = 302;
    response.headers.emplace_back("Location", server.url("/elsewhere"));
    responder.send(response);
  });
  auto client = makeWebClient();
  WebRequest request;
  request.egress = testing::loopbackEgress();
  request.url = server.url("/start");
  request.headers = {{"Authorization", "Bearer for-this-host-only"}};
  WebResponse response = client->send(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(WebClient, NotAnHttpUrlIsInvalid) {
  auto client = makeWebClient();
  WebRequest request;
  request.egress = testing::loopbackEgress();
  request.url = "file:///etc/passwd";
  WebResponse response = client->send(request);
  EXPECT_FALSE(response.ok());
  EXPECT_TRUE(response.invalid);
}

}  // namespace
}  // namespace remedy::actions
