// remedy-operator's configuration (operator/options.h): flags, REMEDY_*
// environment variables, which wins, and errors that name the flag.
#include "options.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::op {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An environment made of `vars` only.
EnvLookup environment(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The flags every valid command line needs.
std::vector<std::string> withToken(std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"--webhook-token-file", "/etc/remedy/token"});
  return args;
}

ParseResult parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return parseOptions(args, environment(std::move(env)));
}

TEST(OperatorOptions, DefaultsNeedOnlyTheWebhookToken) {
  ParseResult r = parse(withToken());
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.help);
  const Options& o = r.options;
  EXPECT_EQ(o.webhookTokenFile, "/etc/remedy/token");
  EXPECT_TRUE(o.leaderElect);
  EXPECT_EQ(o.incidentNamespace, "remedy-system");
  // The Lease and the pause ConfigMap live where the Incidents go, absent a pod namespace.
  EXPECT_EQ(o.leaderElectionNamespace, "remedy-system");
  EXPECT_EQ(o.pauseNamespace, "remedy-system");
  EXPECT_EQ(o.leaderElectionName, "remedy-operator");
  EXPECT_EQ(o.leaseDuration, seconds(15));
  EXPECT_EQ(o.renewDeadline, seconds(10));
  EXPECT_EQ(o.retryPeriod, seconds(2));
  EXPECT_EQ(o.webhookPort, 9443);
  EXPECT_EQ(o.metricsPort, 8080);
  EXPECT_EQ(o.healthPort, 8081);
  EXPECT_EQ(o.logFormat, "json");
  EXPECT_EQ(o.logLevel, "info");
  EXPECT_EQ(o.workers, 4);
  EXPECT_FALSE(o.dryRun);
  EXPECT_TRUE(o.watchNamespaces.empty());
  EXPECT_EQ(o.shutdownTimeout, seconds(30));
  // Each part has a budget of its own; sustained, they sum to 40 requests
  // per second (operator/README.md, "API budgets").
  EXPECT_DOUBLE_EQ(o.kubeApiQps, 20);
  EXPECT_EQ(o.kubeApiBurst, 30);
  EXPECT_DOUBLE_EQ(o.intakeQps, 10);
  EXPECT_EQ(o.intakeBurst, 50);
  EXPECT_DOUBLE_EQ(o.followupsQps, 5);
  EXPECT_EQ(o.followupsBurst, 10);
  EXPECT_DOUBLE_EQ(o.eventsQps, 5);
  EXPECT_EQ(o.eventsBurst, 25);
  EXPECT_DOUBLE_EQ(o.kubeApiQps + o.intakeQps + o.followupsQps + o.eventsQps, 40);
}

TEST(OperatorOptions, FlagsSetEveryKindOfValue) {
  ParseResult r = parse(withToken({"--kubeconfig",
                                   "/tmp/kc",
                                   "--kube-api-qps=7.5",
                                   "--kube-api-burst",
                                   "12",
                                   "--events-qps=0.5",
                                   "--events-burst",
                                   "3",
                                   "--intake-qps=2.5",
                                   "--intake-burst",
                                   "7",
                                   "--followups-qps",
                                   "0",
                                   "--followups-burst=4",
                                   "--watch-namespaces",
                                   " shop, db ,shop,",
                                   "--incident-namespace",
                                   "shop",
                                   "--leader-elect=false",
                                   "--lease-duration",
                                   "20s",
                                   "--renew-deadline",
                                   "1500ms",
                                   "--retry-period",
                                   "1s",
                                   "--webhook-port",
                                   "0",
                                   "--log-format",
                                   "text",
                                   "--log-level",
                                   "debug",
                                   "--dry-run",
                                   "--workers",
                                   "8",
                                   "--shutdown-timeout",
                                   "1m30s",
                                   "--patch-allowed-kinds",
                                   "Deployment"}));
  ASSERT_EQ(r.error, "");
  const Options& o = r.options;
  EXPECT_EQ(o.kubeconfig, "/tmp/kc");
  EXPECT_DOUBLE_EQ(o.kubeApiQps, 7.5);
  EXPECT_EQ(o.kubeApiBurst, 12);
  EXPECT_DOUBLE_EQ(o.eventsQps, 0.5);
  EXPECT_EQ(o.eventsBurst, 3);
  EXPECT_DOUBLE_EQ(o.intakeQps, 2.5);
  EXPECT_EQ(o.intakeBurst, 7);
  EXPECT_DOUBLE_EQ(o.followupsQps, 0);  // unlimited
  EXPECT_EQ(o.followupsBurst, 4);
  // Trimmed, empty items dropped, duplicates kept once, in order.
  EXPECT_EQ(o.watchNamespaces, (std::vector<std::string>{"shop", "db"}));
  EXPECT_EQ(o.incidentNamespace, "shop");
  EXPECT_FALSE(o.leaderElect);
  EXPECT_EQ(o.leaseDuration, seconds(20));
  EXPECT_EQ(o.renewDeadline, milliseconds(1500));
  EXPECT_EQ(o.retryPeriod, seconds(1));
  EXPECT_EQ(o.webhookPort, 0);
  EXPECT_EQ(o.logFormat, "text");
  EXPECT_EQ(o.logLevel, "debug");
  EXPECT_TRUE(o.dryRun);  // a boolean flag alone means true
  EXPECT_EQ(o.workers, 8);
  EXPECT_EQ(o.shutdownTimeout, seconds(90));
  EXPECT_EQ(o.patchAllowedKinds, (std::vector<std::string>{"Deployment"}));
}

TEST(OperatorOptions, EnvironmentSetsFlagsNamedRemedyUpperSnake) {
  ParseResult r = parse({}, {{"REMEDY_WEBHOOK_TOKEN_FILE", "/run/token"},
                             {"REMEDY_KUBE_API_QPS", "3"},
                             {"REMEDY_LEADER_ELECT", "false"},
                             {"REMEDY_WATCH_NAMESPACES", "a,remedy-system"},
                             {"REMEDY_LOG_FORMAT", "text"},
                             {"REMEDY_SHUTDOWN_TIMEOUT", "5s"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.webhookTokenFile, "/run/token");
  EXPECT_DOUBLE_EQ(r.options.kubeApiQps, 3);
  EXPECT_FALSE(r.options.leaderElect);
  EXPECT_EQ(r.options.watchNamespaces, (std::vector<std::string>{"a", "remedy-system"}));
  EXPECT_EQ(r.options.logFormat, "text");
  EXPECT_EQ(r.options.shutdownTimeout, seconds(5));
}

TEST(OperatorOptions, FlagBeatsEnvironment) {
  ParseResult r = parse(withToken({"--kube-api-qps", "9", "--log-format=json", "--leader-elect"}),
                        {{"REMEDY_KUBE_API_QPS", "3"},
                         {"REMEDY_LOG_FORMAT", "text"},
                         {"REMEDY_LEADER_ELECT", "false"},
                         {"REMEDY_WEBHOOK_TOKEN_FILE", "/from/env"}});
  ASSERT_EQ(r.error, "");
  EXPECT_DOUBLE_EQ(r.options.kubeApiQps, 9);
  EXPECT_EQ(r.options.logFormat, "json");
  EXPECT_TRUE(r.options.leaderElect);
  EXPECT_EQ(r.options.webhookTokenFile, "/etc/remedy/token");
}

TEST(OperatorOptions, PodNamespaceDefaultsTheLeaseAndPauseNamespaces) {
  ParseResult r = parse(withToken(), {{"POD_NAMESPACE", "ops"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.leaderElectionNamespace, "ops");
  EXPECT_EQ(r.options.pauseNamespace, "ops");
  EXPECT_EQ(r.options.incidentNamespace, "remedy-system");

  r = parse(withToken({"--leader-election-namespace", "le"}), {{"POD_NAMESPACE", "ops"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.leaderElectionNamespace, "le");
  EXPECT_EQ(r.options.pauseNamespace, "le");

  r = parse(withToken({"--pause-namespace", "p"}));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.pauseNamespace, "p");
}

// Each bad value is refused with an error that starts with the flag's
// name (or the variable's) and quotes what was wrong.
TEST(OperatorOptions, BadValuesNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string prefix;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {{"--webhook-port", "http"}, "--webhook-port: ", "\"http\" is not an integer"},
      {{"--webhook-port", "70000"}, "--webhook-port: ", "out of range"},
      {{"--metrics-port", "-1"}, "--metrics-port: ", "out of range"},
      {{"--workers", "0"}, "--workers: ", "out of range"},
      {{"--workers", "4x"}, "--workers: ", "not an integer"},
      {{"--kube-api-qps", "fast"}, "--kube-api-qps: ", "\"fast\" is not a number"},
      {{"--kube-api-qps", "-1"}, "--kube-api-qps: ", "below the minimum"},
      // strtod reads these; a budget of them would be no budget.
      {{"--kube-api-qps", "nan"}, "--kube-api-qps: ", "\"nan\" is not a number"},
      {{"--intake-qps", "inf"}, "--intake-qps: ", "\"inf\" is not a number"},
      {{"--intake-qps", "-0.5"}, "--intake-qps: ", "-0.5 is below the minimum 0"},
      {{"--intake-qps", "2e9"}, "--intake-qps: ", "2e9 is above the maximum 1e+06"},
      {{"--intake-burst", "0"}, "--intake-burst: ", "out of range [1, 10000]"},
      {{"--followups-qps", "slow"}, "--followups-qps: ", "\"slow\" is not a number"},
      {{"--followups-burst", "10001"}, "--followups-burst: ", "out of range [1, 10000]"},
      // Events cannot be unlimited: they would compete with nothing but the
      // API server's own fairness.
      {{"--events-qps", "0"}, "--events-qps: ", "below the minimum"},
      {{"--events-burst", "0"}, "--events-burst: ", "out of range"},
      {{"--lease-duration", "15"}, "--lease-duration: ", "\"15\""},
      {{"--lease-duration", "500ms"}, "--lease-duration: ", "shorter than 1s"},
      {{"--retry-period", "10ms"}, "--retry-period: ", "shorter than"},
      {{"--shutdown-timeout", "soon"}, "--shutdown-timeout: ", "\"soon\""},
      {{"--log-format", "xml"}, "--log-format: ", "\"xml\" is not one of json, text"},
      {{"--log-level", "loud"}, "--log-level: ", "not one of"},
      {{"--leader-elect=maybe"}, "--leader-elect: ", "\"maybe\" is not a boolean"},
      {{"--no-such-flag"}, "unknown flag --no-such-flag", ""},
      {{"stray"}, "unexpected argument \"stray\"", ""},
      {{"--webhook-port"}, "--webhook-port: ", "needs a value"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = withToken(c.args);
    ParseResult r = parse(args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.error.rfind(c.prefix, 0), 0u) << joined << "-> " << r.error;
    EXPECT_NE(r.error.find(c.mentions), std::string::npos) << joined << "-> " << r.error;
  }
}

TEST(OperatorOptions, BadEnvironmentValueNamesTheVariable) {
  ParseResult r = parse(withToken(), {{"REMEDY_WORKERS", "many"}});
  EXPECT_EQ(r.error, "REMEDY_WORKERS: \"many\" is not an integer");
  r = parse(withToken(), {{"REMEDY_LEASE_DURATION", "forever"}});
  EXPECT_EQ(r.error.rfind("REMEDY_LEASE_DURATION: \"forever\"", 0), 0u) << r.error;
}

TEST(OperatorOptions, WebhookTokenFileIsRequired) {
  ParseResult r = parse({});
  EXPECT_EQ(r.error.rfind("--webhook-token-file: required", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("unauthenticated"), std::string::npos) << r.error;
  // Client certificates instead of a token need TLS.
  r = parse({"--webhook-client-ca-file", "/ca.pem"});
  EXPECT_EQ(r.error.rfind("--webhook-client-ca-file: needs --webhook-tls-cert-file", 0), 0u)
      << r.error;
  r = parse({"--webhook-client-ca-file", "/ca.pem", "--webhook-tls-cert-file", "/c.pem",
             "--webhook-tls-key-file", "/k.pem"});
  EXPECT_EQ(r.error, "");
  r = parse(withToken({"--webhook-tls-cert-file", "/c.pem"}));
  EXPECT_NE(r.error.find("--webhook-tls-key-file"), std::string::npos) << r.error;
}

TEST(OperatorOptions, RenewDeadlineMustBeShorterThanLeaseDuration) {
  ParseResult r = parse(withToken({"--lease-duration", "2s", "--renew-deadline", "2s"}));
  EXPECT_EQ(r.error, "--renew-deadline: must be shorter than --lease-duration");
  r = parse(withToken({"--lease-duration", "2s", "--renew-deadline", "3s"}));
  EXPECT_EQ(r.error, "--renew-deadline: must be shorter than --lease-duration");
  // The retry period with its jitter must fit in the renew deadline.
  r = parse(withToken(
      {"--lease-duration", "2s", "--renew-deadline", "1500ms", "--retry-period", "1250ms"}));
  EXPECT_EQ(r.error.rfind("--retry-period: ", 0), 0u) << r.error;
  // What the end-to-end tests use is consistent.
  r = parse(withToken(
      {"--lease-duration", "2s", "--renew-deadline", "1500ms", "--retry-period", "500ms"}));
  EXPECT_EQ(r.error, "");
  // Without leader election the durations are not used, so not checked.
  r = parse(
      withToken({"--leader-elect=false", "--lease-duration", "2s", "--renew-deadline", "5s"}));
  EXPECT_EQ(r.error, "");
}

TEST(OperatorOptions, WebhookConnectionLimitsAndDeadlines) {
  ParseResult r = parse(withToken());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.webhookMaxConnections, 64);
  EXPECT_EQ(r.options.webhookReservedConnections, 16);
  EXPECT_EQ(r.options.webhookHeaderTimeout, seconds(10));
  EXPECT_EQ(r.options.webhookRequestTimeout, seconds(30));
  r = parse(withToken({"--webhook-max-connections", "200", "--webhook-reserved-connections", "50",
                       "--webhook-header-timeout", "2s", "--webhook-request-timeout", "1m"}));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.webhookMaxConnections, 200);
  EXPECT_EQ(r.options.webhookReservedConnections, 50);
  EXPECT_EQ(r.options.webhookHeaderTimeout, seconds(2));
  EXPECT_EQ(r.options.webhookRequestTimeout, seconds(60));
  r = parse(withToken({"--webhook-max-connections", "16"}));
  EXPECT_EQ(r.error.rfind("--webhook-reserved-connections: must be fewer than "
                          "--webhook-max-connections (16)",
                          0),
            0u)
      << r.error;
  r = parse(withToken({"--webhook-header-timeout", "40s"}));
  EXPECT_EQ(
      r.error.rfind("--webhook-request-timeout: must be at least --webhook-header-timeout", 0), 0u)
      << r.error;
  r = parse(withToken({"--webhook-header-timeout", "10ms"}));
  EXPECT_EQ(r.error.rfind("--webhook-header-timeout: ", 0), 0u) << r.error;
}

// The Lease stores leaseDurationSeconds as an integer, and leader election
// refuses anything else when it starts: the flag must be refused here, by
// name, not later as "leader election: leaseDuration must be a whole
// number of seconds".
TEST(OperatorOptions, LeaseDurationMustBeWholeSeconds) {
  ParseResult r = parse(withToken({"--lease-duration", "2500ms"}));
  EXPECT_EQ(r.error.rfind("--lease-duration: ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("whole"), std::string::npos) << r.error;
  r = parse(withToken({"--lease-duration", "2500ms", "--leader-elect=false"}));
  EXPECT_EQ(r.error, "");
}

TEST(OperatorOptions, IncidentNamespaceMustBeWatched) {
  ParseResult r = parse(withToken({"--watch-namespaces", "shop,db"}));
  EXPECT_EQ(r.error,
            "--incident-namespace: remedy-system is not in --watch-namespaces, so its Incidents "
            "would never run");
  r = parse(withToken({"--watch-namespaces", "shop,db", "--incident-namespace", "db"}));
  EXPECT_EQ(r.error, "");
  r = parse(withToken({"--incident-namespace", ""}));
  EXPECT_EQ(r.error, "--incident-namespace: must not be empty");
}

TEST(OperatorOptions, ActionsRunAsTheDefaultServiceAccountAndReachNoHostByDefault) {
  ParseResult r = parse(withToken());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.defaultServiceAccount, "remedy-runner");
  EXPECT_EQ(r.options.serviceAccounts, std::vector<std::string>{"remedy-runner"});
  EXPECT_TRUE(r.options.runJobServiceAccounts.empty());
  EXPECT_TRUE(r.options.egressAllow.empty());
  r = parse(withToken({"--default-service-account", "runner", "--service-accounts",
                       "runner,db-runner", "--egress-allow", "hooks.slack.com,10.0.0.0/8,*",
                       "--egress-deny", "10.96.0.0/12", "--runjob-service-accounts", "jobs"}));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.serviceAccounts, (std::vector<std::string>{"runner", "db-runner"}));
  EXPECT_EQ(r.options.egressAllow,
            (std::vector<std::string>{"hooks.slack.com", "10.0.0.0/8", "*"}));
  EXPECT_EQ(r.options.runJobServiceAccounts, std::vector<std::string>{"jobs"});
}

TEST(OperatorOptions, TenancyValuesThatWouldWidenReachAreRefused) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  std::vector<Case> cases = {
      {{"--service-accounts", "a,b"},
       "--service-accounts: must include --default-service-account (remedy-runner)"},
      {{"--default-service-account", "Runner!"},
       "--default-service-account: \"Runner!\" is not a ServiceAccount name"},
      {{"--patch-allowed-kinds", "Deployment,Secret"},
       "--patch-allowed-kinds: Secret is never the target of a step (Runbooks read Secrets only "
       "through a secretKeyRef)"},
      {{"--apply-allowed-kinds", "Secret"},
       "--apply-allowed-kinds: Secret is never the target of a step (Runbooks read Secrets only "
       "through a secretKeyRef)"},
      {{"--egress-allow", "https://hooks.slack.com"},
       "--egress-allow: \"https://hooks.slack.com\" is not a CIDR such as 10.0.0.0/8"},
      {{"--egress-deny", "metadata"},
       "--egress-deny: \"metadata\" is not a CIDR or an address to deny"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse(withToken(c.args)).error, c.error) << c.args.front();
  }
}

TEST(OperatorOptions, HelpIsNotAnError) {
  ParseResult r = parse({"--help"});
  EXPECT_TRUE(r.help);
  EXPECT_EQ(r.error, "");
  std::string text = usage();
  for (const char* flag :
       {"--webhook-token-file", "--lease-duration", "--renew-deadline", "--retry-period",
        "--leader-elect", "--shutdown-timeout", "REMEDY_KUBE_API_QPS"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace remedy::op
