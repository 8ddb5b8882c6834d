#include "options.h"

#include "actions/egress_policy.h"
#include "api/duration.h"
#include "api/typed_values.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace remedy::op {
namespace {

using Setter = std::function<std::string(Options&, const std::string&)>;

struct Flag {
  std::string name;  // without the leading "--"
  std::string help;
  Setter set;
  bool boolean = false;
};

std::string envName(const std::string& flag) {
  std::string out = "REMEDY_";
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

Setter text(std::string Options::*field) {
  return [field](Options& o, const std::string& v) {
    o.*field = v;
    return std::string();
  };
}

Setter integer(int Options::*field, int min, int max) {
  return [=](Options& o, const std::string& v) -> std::string {
    errno = 0;
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0) return "\"" + v + "\" is not an integer";
    if (n < min || n > max) {
      return std::to_string(n) + " is out of range [" + std::to_string(min) + ", " +
             std::to_string(max) + "]";
    }
    o.*field = static_cast<int>(n);
    return "";
  };
}

Setter port(int Options::*field) { return integer(field, 0, 65535); }

std::string shortNumber(double n) {
  char out[32];
  std::snprintf(out, sizeof out, "%g", n);
  return out;
}

// A requests-per-second figure: finite (strtod reads "nan" and "inf"), at
// least `min` and at most `max`.
Setter number(double Options::*field, double min, double max = 1e6) {
  return [=](Options& o, const std::string& v) -> std::string {
    char* end = nullptr;
    double n = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(n)) return "\"" + v + "\" is not a number";
    if (n < min) return v + " is below the minimum " + shortNumber(min);
    if (n > max) return v + " is above the maximum " + shortNumber(max);
    o.*field = n;
    return "";
  };
}

Setter boolean(bool Options::*field) {
  return [field](Options& o, const std::string& v) -> std::string {
    if (v == "true" || v == "1" || v.empty()) {
      o.*field = true;
    } else if (v == "false" || v == "0") {
      o.*field = false;
    } else {
      return "\"" + v + "\" is not a boolean (true or false)";
    }
    return "";
  };
}

Setter duration(kube::Duration Options::*field, kube::Duration min) {
  return [=](Options& o, const std::string& v) -> std::string {
    auto d = api::parseDuration(v);
    if (!d.ok()) return "\"" + v + "\": " + d.error();
    auto value = std::chrono::duration_cast<kube::Duration>(*d);
    if (value < min)
      return "\"" + v + "\" is shorter than " +
             api::formatDuration(std::chrono::duration_cast<api::Duration>(min));
    o.*field = value;
    return "";
  };
}

Setter list(std::vector<std::string> Options::*field) {
  return [field](Options& o, const std::string& v) {
    std::vector<std::string> items;
    std::stringstream in(v);
    std::string item;
    while (std::getline(in, item, ',')) {
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty() && std::find(items.begin(), items.end(), item) == items.end()) {
        items.push_back(item);
      }
    }
    o.*field = items;
    return std::string();
  };
}

Setter oneOf(std::string Options::*field, std::vector<std::string> allowed) {
  return [=](Options& o, const std::string& v) -> std::string {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      return "\"" + v + "\" is not one of " + names;
    }
    o.*field = v;
    return "";
  };
}

const std::vector<Flag>& flags() {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  static const std::vector<Flag> f = {
      {"kubeconfig", "kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)",
       text(&Options::kubeconfig)},
      {"kube-api-qps",
       "the engine's API requests per second, sustained: reconciles, their effects, leader "
       "election (default 20; 0: unlimited)",
       number(&Options::kubeApiQps, 0)},
      {"kube-api-burst", "the engine's API requests in a burst (default 30)",
       integer(&Options::kubeApiBurst, 1, 10000)},
      {"intake-qps",
       "the alert webhook's API requests per second, sustained: creating Incidents (default 10; "
       "0: unlimited)",
       number(&Options::intakeQps, 0)},
      {"intake-burst", "the alert webhook's API requests in a burst (default 50)",
       integer(&Options::intakeBurst, 1, 10000)},
      {"followups-qps",
       "API requests per second of reverts, escalations and the sweeper, sustained (default 5; "
       "0: unlimited)",
       number(&Options::followupsQps, 0)},
      {"followups-burst",
       "API requests of reverts, escalations and the sweeper in a burst "
       "(default 10)",
       integer(&Options::followupsBurst, 1, 10000)},
      {"events-qps", "Events written per second, sustained, on a client of their own (default 5)",
       number(&Options::eventsQps, 0.001)},
      {"events-burst", "Events written in a burst (default 25)",
       integer(&Options::eventsBurst, 1, 10000)},
      {"watch-namespaces", "comma-separated namespaces to manage (default: all)",
       list(&Options::watchNamespaces)},
      {"incident-namespace",
       "namespace for Incidents of alerts whose namespace is not managed (default remedy-system)",
       text(&Options::incidentNamespace)},
      {"leader-elect", "elect one active reconciler among replicas (default true)",
       boolean(&Options::leaderElect), true},
      {"leader-election-namespace", "namespace of the Lease (default: $POD_NAMESPACE)",
       text(&Options::leaderElectionNamespace)},
      {"leader-election-name", "name of the Lease (default remedy-operator)",
       text(&Options::leaderElectionName)},
      {"leader-election-id", "this replica's identity (default: hostname and a random suffix)",
       text(&Options::identity)},
      {"lease-duration", "how long a Lease is valid without renewal (default 15s)",
       duration(&Options::leaseDuration, seconds(1))},
      {"renew-deadline", "how long the leader tries to renew before giving up (default 10s)",
       duration(&Options::renewDeadline, milliseconds(100))},
      {"retry-period", "time between leader-election attempts (default 2s)",
       duration(&Options::retryPeriod, milliseconds(100))},
      {"webhook-bind-address", "address of the alert webhook (default 0.0.0.0)",
       text(&Options::webhookBindAddress)},
      {"webhook-port", "port of the alert webhook, POST /api/v1/alerts (default 9443)",
       port(&Options::webhookPort)},
      {"webhook-token-file", "file holding the bearer token Alertmanager sends (required)",
       text(&Options::webhookTokenFile)},
      {"webhook-tls-cert-file", "serve the webhook over TLS with this certificate (PEM)",
       text(&Options::webhookTlsCertFile)},
      {"webhook-tls-key-file", "the key of --webhook-tls-cert-file (PEM)",
       text(&Options::webhookTlsKeyFile)},
      {"webhook-client-ca-file", "require client certificates signed by this CA (PEM)",
       text(&Options::webhookClientCaFile)},
      {"webhook-max-connections", "connections the alert webhook holds open at once (default 64)",
       integer(&Options::webhookMaxConnections, 1, 100000)},
      {"webhook-reserved-connections",
       "of those, connections kept for clients that sent the bearer token (default 16)",
       integer(&Options::webhookReservedConnections, 0, 100000)},
      {"webhook-header-timeout",
       "time a webhook request may take to send its header fields (default 10s)",
       duration(&Options::webhookHeaderTimeout, milliseconds(100))},
      {"webhook-request-timeout",
       "time a webhook request may take to arrive, body included (default 30s)",
       duration(&Options::webhookRequestTimeout, milliseconds(100))},
      {"alert-rate", "alerts accepted per second, sustained (default 50)",
       number(&Options::alertRate, 0.001)},
      {"alert-burst", "alerts accepted in a burst (default 100)",
       integer(&Options::alertBurst, 1, 1000000)},
      {"max-active-incidents", "refuse new alerts (429) while this many Incidents are active",
       integer(&Options::maxActiveIncidents, 1, 1000000)},
      {"metrics-bind-address", "address of /metrics (default 0.0.0.0)",
       text(&Options::metricsBindAddress)},
      {"metrics-port", "port of /metrics (default 8080)", port(&Options::metricsPort)},
      {"health-port", "port of /healthz and /readyz (default 8081)", port(&Options::healthPort)},
      {"log-level", "trace, debug, info, warn or error (default info)",
       oneOf(&Options::logLevel, {"trace", "debug", "info", "warn", "error"})},
      {"log-format", "json or text (default json)", oneOf(&Options::logFormat, {"json", "text"})},
      {"workers", "Incidents reconciled at once (default 4)", integer(&Options::workers, 1, 256)},
      {"dry-run", "every step only reports what it would do", boolean(&Options::dryRun), true},
      {"pause-namespace",
       "namespace of the remedy-pause ConfigMap (default: the leader-election namespace)",
       text(&Options::pauseNamespace)},
      {"pause-name", "name of the pause ConfigMap (default remedy-pause)",
       text(&Options::pauseName)},
      {"prometheus-url", "default Prometheus for prometheusCheck and prometheusQuery steps",
       text(&Options::prometheusUrl)},
      {"patch-allowed-kinds", "kinds the patch action may change (default Deployment,...)",
       list(&Options::patchAllowedKinds)},
      {"apply-allowed-kinds", "kinds the apply action may create (default NetworkPolicy,ConfigMap)",
       list(&Options::applyAllowedKinds)},
      {"incident-retention", "keep finished Incidents this long (default 168h)",
       duration(&Options::incidentRetention, seconds(1))},
      {"max-finished-incidents", "keep at most this many finished Incidents (default 1000)",
       integer(&Options::maxFinishedIncidents, 1, 10000000)},
      {"incident-sweep-interval",
       "how often finished Incidents beyond --max-finished-incidents are deleted, those that "
       "never acted first (default 60s)",
       duration(&Options::incidentSweepInterval, std::chrono::milliseconds(100))},
      {"deliver-drill-notifications", "let drills send their notifications (default false)",
       boolean(&Options::deliverDrillNotifications), true},
      {"incident-link-base", "URL prefix for Incident links in notifications",
       text(&Options::incidentLinkBase)},
      {"actions-ca-file",
       "PEM file of extra CAs trusted by the http, notify and Prometheus actions",
       text(&Options::actionsCaFile)},
      {"actions-insecure-skip-tls-verify",
       "do not verify the servers of http, notify and the Prometheus actions (labs only)",
       boolean(&Options::actionsInsecureSkipTlsVerify), true},
      {"egress-allow",
       "hosts, *.domains and CIDRs the http, notify and Prometheus actions may reach, or * "
       "(default: none)",
       list(&Options::egressAllow)},
      {"egress-deny", "CIDRs they may never reach, besides loopback, link-local and the API server",
       list(&Options::egressDeny)},
      {"default-service-account",
       "ServiceAccount (of the Runbook's namespace) that actions run as when the Runbook names "
       "none (default remedy-runner)",
       text(&Options::defaultServiceAccount)},
      {"service-accounts",
       "every ServiceAccount name actions may run as; the RBAC impersonate rule must name the same "
       "(default: the default one)",
       list(&Options::serviceAccounts)},
      {"runjob-service-accounts",
       "ServiceAccount names a runJob pod may run as (default: none, the namespace's default)",
       list(&Options::runJobServiceAccounts)},
      {"approval-seal-key-file",
       "file holding the HMAC key that seals Approvals (at least 32 bytes; without it no "
       "Approval counts)",
       text(&Options::approvalSealKeyFile)},
      {"approval-seal-previous-key-files",
       "files of keys being rotated out: their seals still verify",
       list(&Options::approvalSealPreviousKeyFiles)},
      {"admission-bind-address", "address of the admission webhooks (default 0.0.0.0)",
       text(&Options::admissionBindAddress)},
      {"admission-port", "port of the admission webhooks over HTTPS (default 0: not served)",
       port(&Options::admissionPort)},
      {"admission-tls-cert-file", "the admission webhooks' certificate (PEM; e.g. cert-manager's)",
       text(&Options::admissionTlsCertFile)},
      {"admission-tls-key-file", "the key of --admission-tls-cert-file (PEM)",
       text(&Options::admissionTlsKeyFile)},
      {"admission-cert-secret",
       "Secret in the pod's namespace holding the webhooks' CA and certificate, created if absent",
       text(&Options::admissionCertSecret)},
      {"admission-cert-dns-names", "names the webhooks' certificate carries (the Service's)",
       list(&Options::admissionCertDnsNames)},
      {"admission-cert-ip-addresses", "IP addresses the webhooks' certificate carries",
       list(&Options::admissionCertIpAddresses)},
      {"admission-webhook-configurations",
       "Mutating/ValidatingWebhookConfigurations whose caBundle the leader keeps",
       list(&Options::admissionWebhookConfigurations)},
      {"shutdown-timeout", "longest a graceful shutdown may take (default 30s)",
       duration(&Options::shutdownTimeout, seconds(1))},
  };
  return f;
}

std::string finish(Options& o, const EnvLookup& env) {
  if (o.podNamespace.empty()) {
    if (auto ns = env("POD_NAMESPACE")) o.podNamespace = *ns;
  }
  if (o.leaderElectionNamespace.empty()) {
    o.leaderElectionNamespace = o.podNamespace.empty() ? o.incidentNamespace : o.podNamespace;
  }
  if (o.pauseNamespace.empty()) o.pauseNamespace = o.leaderElectionNamespace;
  if (o.incidentNamespace.empty()) return "--incident-namespace: must not be empty";
  if (o.webhookTokenFile.empty() && o.webhookClientCaFile.empty()) {
    return "--webhook-token-file: required (or --webhook-client-ca-file): the alert webhook "
           "never runs unauthenticated";
  }
  if (o.webhookReservedConnections >= o.webhookMaxConnections) {
    return "--webhook-reserved-connections: must be fewer than --webhook-max-connections (" +
           std::to_string(o.webhookMaxConnections) +
           "), or no client could connect before it "
           "authenticates";
  }
  if (o.webhookRequestTimeout < o.webhookHeaderTimeout) {
    return "--webhook-request-timeout: must be at least --webhook-header-timeout (the header "
           "fields are part of the request)";
  }
  if (o.webhookTlsCertFile.empty() != o.webhookTlsKeyFile.empty()) {
    return "--webhook-tls-cert-file and --webhook-tls-key-file: give both or neither";
  }
  if (!o.webhookClientCaFile.empty() && o.webhookTlsCertFile.empty()) {
    return "--webhook-client-ca-file: needs --webhook-tls-cert-file (client certificates need "
           "TLS)";
  }
  if (o.admissionPort != 0) {
    if (o.approvalSealKeyFile.empty()) {
      return "--admission-port: needs --approval-seal-key-file (the webhooks seal what they "
             "admit)";
    }
    if (o.admissionTlsCertFile.empty() != o.admissionTlsKeyFile.empty()) {
      return "--admission-tls-cert-file and --admission-tls-key-file: give both or neither";
    }
    if (o.admissionTlsCertFile.empty() == o.admissionCertSecret.empty()) {
      return "--admission-port: needs either --admission-tls-cert-file or "
             "--admission-cert-secret (kube-apiserver calls webhooks over HTTPS only)";
    }
    if (!o.admissionCertSecret.empty() && o.admissionCertDnsNames.empty() &&
        o.admissionCertIpAddresses.empty()) {
      return "--admission-cert-secret: needs --admission-cert-dns-names or "
             "--admission-cert-ip-addresses (the names the API server calls)";
    }
  }
  if (o.leaderElect) {
    if (o.leaseDuration % std::chrono::seconds(1) != kube::Duration(0)) {
      return "--lease-duration: must be whole seconds (the Lease stores leaseDurationSeconds)";
    }
    if (o.renewDeadline >= o.leaseDuration) {
      return "--renew-deadline: must be shorter than --lease-duration";
    }
    if (o.retryPeriod * 1.2 >= o.renewDeadline) {
      return "--retry-period: times 1.2 (jitter) must be shorter than --renew-deadline";
    }
  }
  if (!api::isObjectName(o.defaultServiceAccount)) {
    return "--default-service-account: \"" + o.defaultServiceAccount +
           "\" is not a ServiceAccount name";
  }
  if (o.serviceAccounts.empty()) o.serviceAccounts = {o.defaultServiceAccount};
  for (const auto* list : {&o.serviceAccounts, &o.runJobServiceAccounts}) {
    for (const auto& name : *list) {
      if (!api::isObjectName(name)) {
        return std::string(list == &o.serviceAccounts ? "--service-accounts"
                                                      : "--runjob-service-accounts") +
               ": \"" + name + "\" is not a ServiceAccount name";
      }
    }
  }
  if (std::find(o.serviceAccounts.begin(), o.serviceAccounts.end(), o.defaultServiceAccount) ==
      o.serviceAccounts.end()) {
    return "--service-accounts: must include --default-service-account (" +
           o.defaultServiceAccount + ")";
  }
  for (const auto* list : {&o.patchAllowedKinds, &o.applyAllowedKinds}) {
    if (std::find(list->begin(), list->end(), "Secret") != list->end()) {
      return std::string(list == &o.patchAllowedKinds ? "--patch-allowed-kinds"
                                                      : "--apply-allowed-kinds") +
             ": Secret is never the target of a step (Runbooks read Secrets only through a "
             "secretKeyRef)";
    }
  }
  std::string egressError;
  if (!actions::EgressRules::make({o.egressAllow, {}}, &egressError)) {
    return "--egress-allow: " + egressError;
  }
  if (!actions::EgressRules::make({{}, o.egressDeny}, &egressError)) {
    return "--egress-deny: " + egressError;
  }
  if (!o.watchNamespaces.empty() && std::find(o.watchNamespaces.begin(), o.watchNamespaces.end(),
                                              o.incidentNamespace) == o.watchNamespaces.end()) {
    return "--incident-namespace: " + o.incidentNamespace +
           " is not in --watch-namespaces, so its Incidents would never run";
  }
  return "";
}

}  // namespace

ParseResult parseOptions(const std::vector<std::string>& args, const EnvLookup& env) {
  ParseResult r;
  std::map<std::string, const Flag*> byName;
  for (const Flag& f : flags()) byName[f.name] = &f;

  // The environment first, so flags win.
  for (const Flag& f : flags()) {
    if (auto v = env(envName(f.name))) {
      std::string error = f.set(r.options, *v);
      if (!error.empty()) {
        r.error = envName(f.name) + ": " + error;
        return r;
      }
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      r.help = true;
      return r;
    }
    if (arg.rfind("--", 0) != 0) {
      r.error = "unexpected argument \"" + arg + "\" (flags start with --)";
      return r;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = byName.find(name);
    if (it == byName.end()) {
      r.error = "unknown flag --" + name + " (see --help)";
      return r;
    }
    const Flag& f = *it->second;
    if (!value) {
      if (f.boolean) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        r.error = "--" + name + ": needs a value";
        return r;
      }
    }
    std::string error = f.set(r.options, *value);
    if (!error.empty()) {
      r.error = "--" + name + ": " + error;
      return r;
    }
  }
  r.error = finish(r.options, env);
  return r;
}

std::string usage() {
  std::string out =
      "usage: remedy-operator [flags]\n\n"
      "Runs Remedy: receives Alertmanager alerts, creates Incidents and runs their Runbooks.\n"
      "Every flag can also be set as REMEDY_<FLAG> in the environment (--kube-api-qps:\n"
      "REMEDY_KUBE_API_QPS); a flag wins over the environment.\n\nflags:\n";
  for (const Flag& f : flags()) {
    std::string name = "--" + f.name + (f.boolean ? "" : " VALUE");
    out += "  " + name + std::string(name.size() < 34 ? 34 - name.size() : 1, ' ') + f.help + "\n";
  }
  return out;
}

}  // namespace remedy::op
