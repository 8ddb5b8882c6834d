// Kubeconfig and in-cluster configuration (clientcmd and rest.InClusterConfig
// rules), from files written by the test.
#include "kube/kubeconfig.h"

#include "kube/config.h"
#include "test_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace remedy::kube {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const char* kCaPem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

std::string base64(const std::string& in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(a[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(a[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

std::string config(const std::string& clusterExtra, const std::string& user,
                   const std::string& contextExtra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
         "clusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443\n" +
         clusterExtra + "users:\n- name: u1\n  user:\n" + user +
         "contexts:\n- name: main\n  context:\n    cluster: c1\n    user: u1\n" + contextExtra +
         "- name: other\n  context:\n    cluster: c1\n    user: u1\n    namespace: other-ns\n";
}

TEST(Kubeconfig, TokenAndNamespaceFromTheCurrentContext) {
  TempDir dir;
  auto path = dir.write("config", config("", "    token: abc\n", "    namespace: team-a\n"));
  auto c = loadKubeconfig({path, "", "", fakeEnv({})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->bearerToken, "abc");
  EXPECT_EQ(c->namespace_, "team-a");
}

TEST(Kubeconfig, NamedContextWinsOverCurrentContext) {
  TempDir dir;
  auto path = dir.write("config", config("", "    token: abc\n"));
  auto c = loadKubeconfig({path, "other", "", fakeEnv({})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->namespace_, "other-ns");
  auto d = loadKubeconfig({path, "", "", fakeEnv({})});
  EXPECT_EQ(d->namespace_, "default");
}

TEST(Kubeconfig, CertificateAuthorityDataAndClientCertificateData) {
  TempDir dir;
  auto path = dir.write("config", config("    certificate-authority-data: " + base64(kCaPem) + "\n",
                                         "    client-certificate-data: " + base64("CERT") +
                                             "\n    client-key-data: " + base64("KEY") + "\n"));
  auto c = loadKubeconfig({path, "", "", fakeEnv({})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->caPem, kCaPem);
  EXPECT_EQ(c->clientCertificatePem, "CERT");
  EXPECT_EQ(c->clientKeyPem, "KEY");
}

TEST(Kubeconfig, FilePathsAreRelativeToTheKubeconfig) {
  TempDir dir;
  dir.write("pki/ca.crt", kCaPem);
  dir.write("pki/client.crt", "CERT");
  dir.write("pki/client.key", "KEY");
  dir.write("pki/token", "from-file\n");
  auto path = dir.write("sub/../config", config("    certificate-authority: pki/ca.crt\n",
                                                "    client-certificate: pki/client.crt\n"
                                                "    client-key: pki/client.key\n"
                                                "    tokenFile: pki/token\n"));
  auto c = loadKubeconfig({dir.file("config"), "", "", fakeEnv({})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->caPem, kCaPem);
  EXPECT_EQ(c->clientCertificatePem, "CERT");
  EXPECT_EQ(c->bearerTokenFile, dir.path() + "/pki/token");
}

TEST(Kubeconfig, TlsServerNameAndInsecure) {
  TempDir dir;
  auto path = dir.write("config", config("    tls-server-name: kubernetes.local\n"
                                         "    insecure-skip-tls-verify: true\n",
                                         "    token: t\n"));
  auto c = loadKubeconfig({path, "", "", fakeEnv({})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->tlsServerName, "kubernetes.local");
  EXPECT_TRUE(c->insecureSkipTlsVerify);
}

TEST(Kubeconfig, ExecPluginSettings) {
  TempDir dir;
  auto path = dir.write("config", config("",
                                         "    exec:\n"
                                         "      apiVersion: client.authentication.k8s.io/v1\n"
                                         "      command: ./bin/get-token\n"
                                         "      args: [\"--cluster\", \"c1\"]\n"
                                         "      env:\n      - name: FOO\n        value: bar\n"
                                         "      installHint: install get-token\n"
                                         "      provideClusterInfo: true\n"
                                         "      interactiveMode: Never\n"));
  auto c = loadKubeconfig({path, "", "", fakeEnv({})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE(c->exec.has_value());
  EXPECT_EQ(c->exec->command, dir.path() + "/./bin/get-token");
  EXPECT_EQ(c->exec->args, (std::vector<std::string>{"--cluster", "c1"}));
  ASSERT_EQ(c->exec->env.size(), 1u);
  EXPECT_EQ(c->exec->env[0].second, "bar");
  EXPECT_TRUE(c->exec->provideClusterInfo);
}

TEST(Kubeconfig, KubeconfigListMergesWithTheFirstFileWinning) {
  TempDir dir;
  auto first = dir.write("a",
                         "current-context: main\nusers:\n- name: u1\n  user:\n"
                         "    token: from-a\n");
  auto second = dir.write("b", config("", "    token: from-b\n", "    namespace: ns-b\n"));
  std::string list = first + ":" + dir.file("missing") + ":" + second;
  auto c = loadKubeconfig({"", "", "", fakeEnv({{"KUBECONFIG", list}})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->bearerToken, "from-a");
  EXPECT_EQ(c->namespace_, "ns-b");
}

TEST(Kubeconfig, FallsBackToHomeKubeConfig) {
  TempDir dir;
  dir.write(".kube/config", config("", "    token: home\n"));
  auto c = loadKubeconfig({"", "", "", fakeEnv({{"HOME", dir.path()}})});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->bearerToken, "home");
}

TEST(Kubeconfig, NamespaceOverride) {
  TempDir dir;
  auto path = dir.write("config", config("", "    token: t\n", "    namespace: team-a\n"));
  auto c = loadKubeconfig({path, "", "override", fakeEnv({})});
  EXPECT_EQ(c->namespace_, "override");
}

struct BadCase {
  std::string name;
  std::string yaml;
  std::string expectedMessage;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class KubeconfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(KubeconfigErrors, NameTheFileAndTheField) {
  TempDir dir;
  auto path = dir.write("config", GetParam().yaml);
  auto c = loadKubeconfig({path, "", "", fakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().reason(), reason::kConfigError);
  EXPECT_THAT(c.status().message(), HasSubstr(GetParam().expectedMessage));
  EXPECT_THAT(c.status().message(), HasSubstr(path));
}

INSTANTIATE_TEST_SUITE_P(
    BadFiles, KubeconfigErrors,
    ::testing::Values(
        BadCase{"InvalidYaml", "clusters: [\n", "invalid YAML"},
        BadCase{"NoCurrentContext", "clusters: []\n", "no current-context"},
        BadCase{"UnknownContext", "current-context: nope\n", "context \"nope\" not found"},
        BadCase{"MissingServer",
                "current-context: m\nclusters:\n- name: c\n  cluster: {}\n"
                "contexts:\n- name: m\n  context: {cluster: c}\n",
                "clusters[c].cluster.server: required"},
        BadCase{"MissingCaFile", config("    certificate-authority: /nonexistent/ca.crt\n", ""),
                "certificate-authority: cannot read /nonexistent/ca.crt"},
        BadCase{"BadBase64", config("    certificate-authority-data: '!!!'\n", ""),
                "certificate-authority-data: not valid base64"},
        BadCase{"CertWithoutKey", config("", "    client-certificate-data: " + base64("C") + "\n"),
                "users[u1].user: client-certificate and client-key must be given together"},
        BadCase{"InsecureWithCa",
                config("    insecure-skip-tls-verify: true\n    certificate-authority-data: " +
                           base64(kCaPem) + "\n",
                       ""),
                "insecure-skip-tls-verify"},
        BadCase{"MissingTokenFile", config("", "    tokenFile: /nonexistent/token\n"),
                "users[u1].user.tokenFile: cannot read /nonexistent/token"},
        BadCase{"ExecWithoutApiVersion", config("", "    exec:\n      command: x\n"),
                "users[u1].user.exec.apiVersion: required"},
        // Found by fuzz/kubeconfig: a map among the arguments threw
        // YAML::TypedBadConversion out of the parser.
        BadCase{"ExecArgumentThatIsNotAString",
                config("",
                       "    exec:\n      command: x\n"
                       "      apiVersion: client.authentication.k8s.io/v1\n"
                       "      args:\n      - --flag\n      - name: A\n        value: b\n"),
                "users[u1].user.exec.args[1]: expected a string"},
        BadCase{"ExecArgumentsThatAreNotAList",
                config("",
                       "    exec:\n      command: x\n"
                       "      apiVersion: client.authentication.k8s.io/v1\n"
                       "      args: {a: b}\n"),
                "users[u1].user.exec.args: expected a list of strings"},
        BadCase{"ExecOldApiVersion",
                config("",
                       "    exec:\n      command: x\n"
                       "      apiVersion: client.authentication.k8s.io/v1alpha1\n"),
                "is not supported"},
        BadCase{"UnknownUser",
                "current-context: m\nclusters:\n- name: c\n  cluster: {server: https://x}\n"
                "contexts:\n- name: m\n  context: {cluster: c, user: ghost}\n",
                "user \"ghost\" not found"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(Kubeconfig, MissingExplicitFileIsAnError) {
  auto c = loadKubeconfig({"/nonexistent/kubeconfig", "", "", fakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/kubeconfig"));
}

TEST(InClusterConfig, ReadsTheServiceAccountDirectory) {
  TempDir dir;
  dir.write("sa/token", "sa-token\n");
  dir.write("sa/ca.crt", kCaPem);
  dir.write("sa/namespace", "payments\n");
  InClusterOptions options;
  options.serviceAccountDir = dir.file("sa");
  options.env =
      fakeEnv({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  auto c = inClusterConfig(options);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->bearerToken, "sa-token");
  EXPECT_EQ(c->bearerTokenFile, dir.file("sa/token"));
  EXPECT_EQ(c->caPem, kCaPem);
  EXPECT_EQ(c->namespace_, "payments");
}

TEST(InClusterConfig, Ipv6HostIsBracketedAndPodNamespaceWins) {
  TempDir dir;
  dir.write("sa/token", "t");
  dir.write("sa/ca.crt", kCaPem);
  dir.write("sa/namespace", "from-file");
  InClusterOptions options;
  options.serviceAccountDir = dir.file("sa");
  options.env = fakeEnv({{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                         {"KUBERNETES_SERVICE_PORT", "6443"},
                         {"POD_NAMESPACE", "from-env"}});
  auto c = inClusterConfig(options);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->server, "https://[fd00::1]:6443");
  EXPECT_EQ(c->namespace_, "from-env");
}

TEST(InClusterConfig, OutsideAClusterIsAClearError) {
  InClusterOptions options;
  options.env = fakeEnv({});
  auto c = inClusterConfig(options);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("KUBERNETES_SERVICE_HOST"));
}

TEST(InClusterConfig, MissingTokenNamesTheFile) {
  TempDir dir;
  InClusterOptions options;
  options.serviceAccountDir = dir.file("sa");
  options.env = fakeEnv({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}});
  auto c = inClusterConfig(options);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(dir.file("sa/token")));
}

TEST(DefaultConfig, PrefersKubeconfigEnvThenInCluster) {
  TempDir dir;
  dir.write("sa/token", "in-cluster");
  dir.write("sa/ca.crt", kCaPem);
  auto kc = dir.write("config", config("", "    token: from-kubeconfig\n"));
  InClusterOptions inCluster;
  inCluster.serviceAccountDir = dir.file("sa");
  inCluster.env = fakeEnv({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}});
  auto fromEnv = defaultConfig(
      {"", "", "", fakeEnv({{"KUBECONFIG", kc}, {"KUBERNETES_SERVICE_HOST", "h"}})}, inCluster);
  ASSERT_TRUE(fromEnv.ok());
  EXPECT_EQ(fromEnv->bearerToken, "from-kubeconfig");
  auto fromCluster =
      defaultConfig({"", "", "", fakeEnv({{"KUBERNETES_SERVICE_HOST", "h"}})}, inCluster);
  ASSERT_TRUE(fromCluster.ok()) << fromCluster.status().toString();
  EXPECT_EQ(fromCluster->bearerToken, "in-cluster");
}

}  // namespace
}  // namespace remedy::kube
