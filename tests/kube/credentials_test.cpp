// Token files re-read on rotation and exec credential plugins (a small shell
// script), with a fake clock for expiry.
#include "kube/credentials.h"

#include "kube/clock.h"
#include "kube/time_format.h"
#include "test_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace remedy::kube {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(TokenFileCredentials, ReReadsTheFileWhenItIsReplaced) {
  TempDir dir;
  dir.write("token", "first\n");
  FakeClock clock;
  TokenFileCredentials creds(dir.file("token"), {}, clock);
  EXPECT_EQ(creds.get()->bearerToken, "first");
  dir.replace("token", "second");
  EXPECT_EQ(creds.get()->bearerToken, "second");
}

TEST(TokenFileCredentials, ReReadsAfterAMinuteEvenIfTheFileLooksTheSame) {
  TempDir dir;
  dir.write("token", "aaaa");
  FakeClock clock;
  TokenFileCredentials creds(dir.file("token"), {}, clock);
  EXPECT_EQ(creds.get()->bearerToken, "aaaa");
  clock.step(seconds(61));
  dir.write("token", "bbbb");  // same size, maybe the same mtime second
  EXPECT_EQ(creds.get()->bearerToken, "bbbb");
}

TEST(TokenFileCredentials, KeepsTheLastTokenWhileTheFileIsMissing) {
  TempDir dir;
  dir.write("token", "kept");
  FakeClock clock;
  TokenFileCredentials creds(dir.file("token"), {}, clock);
  EXPECT_EQ(creds.get()->bearerToken, "kept");
  std::remove(dir.file("token").c_str());
  auto again = creds.get();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bearerToken, "kept");
}

TEST(TokenFileCredentials, MissingFileAtFirstIsAnError) {
  FakeClock clock;
  TokenFileCredentials creds("/nonexistent/token", {}, clock);
  auto r = creds.get();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/token"));
}

// A plugin that counts its runs, records its environment and prints a
// credential whose token names the run.
std::string writePlugin(const TempDir& dir, const std::string& status,
                        const std::string& apiVersion = "client.authentication.k8s.io/v1",
                        int exitCode = 0) {
  std::string script =
      "#!/bin/sh\n"
      "n=$(cat \"" +
      dir.file("runs") +
      "\" 2>/dev/null || echo 0)\n"
      "n=$((n+1))\n"
      "echo $n > \"" +
      dir.file("runs") +
      "\"\n"
      "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"" +
      dir.file("info") +
      "\"\n"
      "printf '%s' \"$PLUGIN_FLAVOUR $*\" > \"" +
      dir.file("args") +
      "\"\n"
      "cat <<JSON\n"
      "{\"apiVersion\": \"" +
      apiVersion + "\", \"kind\": \"ExecCredential\", \"status\": " + status +
      "}\nJSON\n"
      "exit " +
      std::to_string(exitCode) + "\n";
  return dir.write("plugin.sh", script, 0755);
}

ExecConfig execConfig(const std::string& command) {
  ExecConfig e;
  e.command = command;
  e.apiVersion = "client.authentication.k8s.io/v1";
  e.args = {"--cluster", "one"};
  e.env = {{"PLUGIN_FLAVOUR", "vanilla"}};
  e.provideClusterInfo = true;
  return e;
}

TEST(ExecCredentials, RunsThePluginAndCachesUntilExpiry) {
  TempDir dir;
  FakeClock clock;
  std::string expiry = formatRfc3339(clock.wallNow() + seconds(300));
  auto plugin =
      writePlugin(dir, "{\"token\": \"tok-$n\", \"expirationTimestamp\": \"" + expiry + "\"}");
  Config cluster;
  cluster.server = "https://10.0.0.1:6443";
  ExecCredentials creds(execConfig(plugin), cluster, {}, clock);

  auto first = creds.get();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(first->bearerToken, "tok-1");
  clock.step(seconds(299));
  EXPECT_EQ(creds.get()->bearerToken, "tok-1");
  EXPECT_EQ(creds.runs(), 1);
  clock.step(seconds(2));
  EXPECT_EQ(creds.get()->bearerToken, "tok-2");
  EXPECT_EQ(creds.runs(), 2);

  // The plugin saw its args, env and the cluster.
  EXPECT_EQ(slurp(dir.file("args")), "vanilla --cluster one");
  auto info = json::parse(slurp(dir.file("info")));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://10.0.0.1:6443");
}

TEST(ExecCredentials, WithoutExpiryCachesUntilA401) {
  TempDir dir;
  FakeClock clock;
  auto plugin = writePlugin(dir, "{\"token\": \"tok-$n\"}");
  ExecCredentials creds(execConfig(plugin), Config{}, {}, clock);
  auto first = creds.get();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  clock.step(std::chrono::hours(24));
  EXPECT_EQ(creds.get()->bearerToken, "tok-1");
  creds.invalidate(AuthInfo{"some-older-token", "", ""});  // not the cached one
  EXPECT_EQ(creds.get()->bearerToken, "tok-1");
  creds.invalidate(*first);
  EXPECT_EQ(creds.get()->bearerToken, "tok-2");
}

TEST(ExecCredentials, ClientCertificateFromThePlugin) {
  TempDir dir;
  FakeClock clock;
  auto plugin =
      writePlugin(dir, "{\"clientCertificateData\": \"CERT\", \"clientKeyData\": \"KEY\"}");
  ExecCredentials creds(execConfig(plugin), Config{}, {}, clock);
  auto r = creds.get();
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->clientCertificatePem, "CERT");
  EXPECT_EQ(r->clientKeyPem, "KEY");
  EXPECT_EQ(r->bearerToken, "");
}

struct PluginFailure {
  std::string name;
  std::string status;
  std::string apiVersion;
  int exitCode;
  std::string expected;
};

void PrintTo(const PluginFailure& p, std::ostream* os) { *os << p.name; }

class ExecCredentialsErrors : public ::testing::TestWithParam<PluginFailure> {};

TEST_P(ExecCredentialsErrors, AreClear) {
  TempDir dir;
  FakeClock clock;
  const auto& p = GetParam();
  auto plugin = writePlugin(dir, p.status, p.apiVersion, p.exitCode);
  ExecCredentials creds(execConfig(plugin), Config{}, {}, clock);
  auto r = creds.get();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(p.expected));
  EXPECT_THAT(r.status().message(), HasSubstr(plugin));
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, ExecCredentialsErrors,
    ::testing::Values(PluginFailure{"WrongApiVersion", "{\"token\": \"t\"}",
                                    "client.authentication.k8s.io/v1beta1", 0,
                                    "plugin returned version client.authentication.k8s.io/v1beta1"},
                      PluginFailure{"NoCredential", "{}", "client.authentication.k8s.io/v1", 0,
                                    "didn't return a token or cert/key pair"},
                      PluginFailure{"CertWithoutKey", "{\"clientCertificateData\": \"C\"}",
                                    "client.authentication.k8s.io/v1", 0,
                                    "both clientCertificateData"},
                      PluginFailure{"BadExpiry",
                                    "{\"token\": \"t\", \"expirationTimestamp\": \"soon\"}",
                                    "client.authentication.k8s.io/v1", 0, "expirationTimestamp"},
                      PluginFailure{"NonZeroExit", "{\"token\": \"t\"}",
                                    "client.authentication.k8s.io/v1", 3, "exited with status 3"}),
    [](const ::testing::TestParamInfo<PluginFailure>& info) { return info.param.name; });

TEST(ExecCredentials, MissingCommandShowsTheInstallHint) {
  FakeClock clock;
  ExecConfig e = execConfig("/nonexistent/kube-login");
  e.installHint = "install kube-login from example.com";
  ExecCredentials creds(e, Config{}, {}, clock);
  auto r = creds.get();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("install kube-login from example.com"));
}

TEST(MakeCredentials, TokenFileWinsOverToken) {
  TempDir dir;
  Config c;
  c.bearerToken = "inline";
  c.bearerTokenFile = dir.write("token", "file");
  auto creds = makeCredentials(c);
  EXPECT_EQ(creds->get()->bearerToken, "file");
}

}  // namespace
}  // namespace remedy::kube
