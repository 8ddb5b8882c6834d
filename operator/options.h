// remedy-operator's configuration: flags, each also settable from the
// environment as REMEDY_<FLAG> (--kube-api-qps <-> REMEDY_KUBE_API_QPS); a
// flag wins over the environment. Parsing never exits: an error names the
// flag and the problem, and main prints it.
#pragma once

#include "kube/clock.h"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace remedy::op {

struct Options {
  // The API server.
  std::string kubeconfig;  // empty: KUBECONFIG, in-cluster, ~/.kube/config
  // Client budgets: each part of the operator has a client and token bucket
  // of its own (qps sustained, burst saved up), so a storm in one never
  // starves another. The defaults sum to 40 requests per second; the
  // numbers are argued in operator/README.md ("API budgets").
  // The engine: Incident and Runbook reconciles, their effects (as the
  // Runbooks' ServiceAccounts), leader election, admission reads.
  double kubeApiQps = 20;
  int kubeApiBurst = 30;
  // The alert webhook: creating Incidents, and its Incident cache.
  double intakeQps = 10;
  int intakeBurst = 50;
  // Follow-ups: reverts, escalations, the sweeper of finished Incidents.
  double followupsQps = 5;
  int followupsBurst = 10;
  // Events, apart from the rest, so Events never wait behind the engine's
  // requests nor the engine behind Events.
  double eventsQps = 5;
  int eventsBurst = 25;

  // What the operator manages.
  std::vector<std::string> watchNamespaces;  // empty: all
  std::string incidentNamespace = "remedy-system";
  std::string podNamespace;  // $POD_NAMESPACE; defaults of the two below

  // Leader election.
  bool leaderElect = true;
  std::string leaderElectionNamespace;  // default: podNamespace, else incidentNamespace
  std::string leaderElectionName = "remedy-operator";
  std::string identity;  // default: hostname + random suffix
  kube::Duration leaseDuration = std::chrono::seconds(15);
  kube::Duration renewDeadline = std::chrono::seconds(10);
  kube::Duration retryPeriod = std::chrono::seconds(2);

  // The alert webhook.
  std::string webhookBindAddress = "0.0.0.0";
  int webhookPort = 9443;
  std::string webhookTokenFile;
  std::string webhookTlsCertFile;
  std::string webhookTlsKeyFile;
  std::string webhookClientCaFile;
  int webhookMaxConnections = 64;
  int webhookReservedConnections = 16;  // for authenticated clients
  kube::Duration webhookHeaderTimeout = std::chrono::seconds(10);
  kube::Duration webhookRequestTimeout = std::chrono::seconds(30);
  double alertRate = 50;
  int alertBurst = 100;
  int maxActiveIncidents = 500;

  // Observability.
  std::string metricsBindAddress = "0.0.0.0";
  int metricsPort = 8080;
  int healthPort = 8081;
  std::string logLevel = "info";
  std::string logFormat = "json";

  // The engine.
  int workers = 4;
  bool dryRun = false;
  std::string pauseNamespace;  // default: the leader-election namespace
  std::string pauseName = "remedy-pause";
  std::string prometheusUrl;
  std::vector<std::string> patchAllowedKinds = {"Deployment", "StatefulSet", "ConfigMap"};
  std::vector<std::string> applyAllowedKinds = {"NetworkPolicy", "ConfigMap"};
  kube::Duration incidentRetention = std::chrono::hours(24 * 7);
  int maxFinishedIncidents = 1000;
  kube::Duration incidentSweepInterval = std::chrono::seconds(60);
  bool deliverDrillNotifications = false;
  std::string incidentLinkBase;  // e.g. a dashboard URL; "" for none
  // Outbound HTTPS of the http, notify and prometheusCheck actions.
  std::string actionsCaFile;
  bool actionsInsecureSkipTlsVerify = false;
  // Where they may connect (actions/egress_policy.h): empty allows nothing.
  std::vector<std::string> egressAllow;
  std::vector<std::string> egressDeny;

  // Tenancy: Kubernetes actions run as a ServiceAccount of the Runbook's
  // namespace, impersonated; the operator's RBAC names the same names.
  std::string defaultServiceAccount = "remedy-runner";
  std::vector<std::string> serviceAccounts;  // empty: the default only
  // Names a runJob pod template may run as (none: the namespace's default).
  std::vector<std::string> runJobServiceAccounts;

  // Approvals: the seal key, and Remedy's admission webhooks, which take
  // who approved from the API server's authentication and seal it.
  std::string approvalSealKeyFile;  // without it, no Approval counts
  std::vector<std::string> approvalSealPreviousKeyFiles;
  std::string admissionBindAddress = "0.0.0.0";
  int admissionPort = 0;  // 0: not served
  // The serving certificate: files (cert-manager), or a Secret in the pod's
  // namespace that the first replica creates.
  std::string admissionTlsCertFile;
  std::string admissionTlsKeyFile;
  std::string admissionCertSecret;
  std::vector<std::string> admissionCertDnsNames;
  std::vector<std::string> admissionCertIpAddresses;
  // Webhook configurations (mutating and validating, by name) whose
  // caBundle the leader keeps, in Secret mode.
  std::vector<std::string> admissionWebhookConfigurations;

  kube::Duration shutdownTimeout = std::chrono::seconds(30);
};

struct ParseResult {
  Options options;
  std::string error;  // non-empty: the flag and what is wrong with it
  bool help = false;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

ParseResult parseOptions(const std::vector<std::string>& args, const EnvLookup& env);
std::string usage();

}  // namespace remedy::op
