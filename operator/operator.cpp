#include "operator.h"

#include "action_set.h"
#include "actions/web_client.h"
#include "admission/admission_server.h"
#include "admission/webhook_certificates.h"
#include "engine/engine.h"
#include "engine/resources.h"
#include "intake/alert_intake_server.h"
#include "kube/event_recorder.h"
#include "kube/impersonation.h"
#include "kube/kubeconfig.h"
#include "kube/leader_elector.h"
#include "kube/rest_client.h"
#include "metrics.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

namespace remedy::op {
namespace {

std::string defaultIdentity() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "remedy");
  std::random_device rd;
  std::uniform_int_distribution<int> digit(0, 35);
  std::string suffix;
  for (int i = 0; i < 6; ++i) suffix += "0123456789abcdefghijklmnopqrstuvwxyz"[digit(rd)];
  return std::string(host) + "_" + suffix;
}

// The addresses of the API server (the kubeconfig's server, and in a pod the
// kubernetes Service), which no web action may reach.
std::vector<std::string> apiServerAddresses(const kube::Config& config) {
  std::vector<std::string> out;
  std::vector<std::string> hosts;
  std::string server = config.server;
  size_t scheme = server.find("://");
  if (scheme != std::string::npos) {
    std::string authority = server.substr(scheme + 3, server.find('/', scheme + 3) - (scheme + 3));
    if (!authority.empty() && authority[0] == '[') {
      hosts.push_back(authority.substr(1, authority.find(']') - 1));
    } else {
      hosts.push_back(authority.substr(0, authority.rfind(':')));
    }
  }
  if (const char* service = std::getenv("KUBERNETES_SERVICE_HOST")) hosts.push_back(service);
  auto resolver = actions::systemResolver();
  for (const auto& host : hosts) {
    std::string error;
    for (const auto& address : resolver->resolve(host, std::chrono::seconds(5), &error)) {
      out.push_back(address.text());
    }
    if (!error.empty()) spdlog::warn("egress: the API server's {} not resolved: {}", host, error);
  }
  return out;
}

std::optional<std::string> readFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return std::nullopt;
}

// /healthz, /readyz and /metrics, on one server or two.
http::Handler observabilityHandler(OperatorMetrics& metrics,
                                   const std::function<std::string()>& notReady) {
  return [&metrics, notReady](const http::Request& request, http::Responder& responder) {
    if (request.method != "GET" && request.method != "HEAD") {
      responder.send(http::Response::text(405, "method not allowed\n"));
    } else if (request.path == "/healthz" || request.path == "/livez") {
      responder.send(http::Response::text(200, "ok\n"));
    } else if (request.path == "/readyz") {
      std::string why = notReady();
      responder.send(why.empty() ? http::Response::text(200, "ok\n")
                                 : http::Response::text(503, "not ready: " + why + "\n"));
    } else if (request.path == "/metrics") {
      http::Response response;
      response.status = 200;
      response.headers.push_back({"Content-Type", "text/plain; version=0.0.4; charset=utf-8"});
      response.body = metrics.scrape();
      responder.send(std::move(response));
    } else {
      responder.send(http::Response::text(404, "not found\n"));
    }
  };
}

}  // namespace

int runOperator(const Options& o, kube::StopSignal& stop) {
  kube::KubeconfigOptions kubeconfig;
  kubeconfig.path = o.kubeconfig;
  auto config = kube::defaultConfig(kubeconfig);
  if (!config.ok()) {
    spdlog::error("no API server configuration: {}", config.status().message());
    return 2;
  }
  config->timeout = std::chrono::seconds(30);
  config->userAgent = "remedy-operator/0.1";
  // A client, and so a token bucket, per part of the operator (the
  // budgets of operator/README.md): a storm of Events or reverts never
  // starves the intake or the engine, nor they each other.
  auto budgetClient = [&](const std::string& budget, double qps, int burst, kube::Duration timeout,
                          int maxRetries) -> std::unique_ptr<kube::RestClient> {
    kube::Config c = *config;
    c.budget = budget;
    c.qps = qps;
    c.burst = burst;
    c.timeout = timeout;
    c.maxRetries = maxRetries;
    auto made = kube::RestClient::fromConfig(c);
    if (!made.ok()) {
      spdlog::error("API client ({}) for {}: {}", budget, config->origin, made.status().message());
      return nullptr;
    }
    return std::move(made.value());
  };
  auto client =
      budgetClient("engine", o.kubeApiQps, o.kubeApiBurst, config->timeout, config->maxRetries);
  // The webhook answers Alertmanager within its deadline: its client does
  // not sit out repeated Retry-Afters (a 503 makes Alertmanager retry).
  auto intakeClient =
      budgetClient("intake", o.intakeQps, o.intakeBurst, std::chrono::seconds(10), 1);
  auto followupsClient = budgetClient("followups", o.followupsQps, o.followupsBurst,
                                      config->timeout, config->maxRetries);
  auto eventsClient = budgetClient("events", o.eventsQps, o.eventsBurst, std::chrono::seconds(10),
                                   config->maxRetries);
  if (!client || !intakeClient || !followupsClient || !eventsClient) return 2;
  kube::Client& api = *client;
  std::string identity = o.identity.empty() ? defaultIdentity() : o.identity;
  spdlog::info("event=starting identity={} server={} namespaces={} leaderElect={} dryRun={}",
               identity, config->server,
               o.watchNamespaces.empty() ? std::string("all") : [&] {
                 std::string s;
                 for (const auto& n : o.watchNamespaces) s += (s.empty() ? "" : ",") + n;
                 return s;
               }(),
               o.leaderElect, o.dryRun);

  auto registry = std::make_shared<prometheus::Registry>();
  OperatorMetrics metrics(registry);
  kube::setMetricsSink(&metrics);

  // The engine exists while this replica leads.
  std::mutex engineMu;
  engine::Engine* currentEngine = nullptr;
  std::atomic<bool> leading{false};
  metrics.setIncidentCounter([&]() -> std::map<std::string, int> {
    std::lock_guard<std::mutex> lock(engineMu);
    return currentEngine ? currentEngine->incidentsByPhase() : std::map<std::string, int>{};
  });
  metrics.setRunbookGauges([&]() {
    OperatorMetrics::RunbookGaugeMap out;
    std::lock_guard<std::mutex> lock(engineMu);
    if (!currentEngine) return out;
    auto now = std::chrono::system_clock::now();
    for (const auto& [key, g] : currentEngine->incidentGauges(now)) {
      OperatorMetrics::RunbookGauges& r = out[key];
      r.approvalsWaiting = g.awaitingApproval;
      r.pastTimeout = g.pastTimeout;
      if (g.oldestApprovalSince)
        r.oldestApprovalWaitSeconds =
            std::chrono::duration<double>(now - *g.oldestApprovalSince).count();
    }
    return out;
  });

  // The alert webhook, on every replica.
  intake::AlertIntakeOptions intakeOptions;
  intakeOptions.bearerTokenFile = o.webhookTokenFile;
  intakeOptions.defaultNamespace = o.incidentNamespace;
  intakeOptions.managedNamespaces = o.watchNamespaces;
  intakeOptions.alertsPerSecond = o.alertRate;
  intakeOptions.alertBurst = o.alertBurst;
  intakeOptions.maxActiveIncidents = static_cast<size_t>(o.maxActiveIncidents);
  intake::AlertIntakeServerOptions serverOptions;
  serverOptions.bindAddress = o.webhookBindAddress;
  serverOptions.port = static_cast<uint16_t>(o.webhookPort);
  serverOptions.maxConnections = static_cast<size_t>(o.webhookMaxConnections);
  serverOptions.reservedConnections = static_cast<size_t>(o.webhookReservedConnections);
  serverOptions.headerTimeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(o.webhookHeaderTimeout);
  serverOptions.requestTimeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(o.webhookRequestTimeout);
  if (!o.webhookTlsCertFile.empty()) {
    http::TlsConfig tls;
    for (auto [path, out] : {std::pair{o.webhookTlsCertFile, &tls.certificatePem},
                             std::pair{o.webhookTlsKeyFile, &tls.privateKeyPem}}) {
      if (auto error = readFile(path, out)) {
        spdlog::error("webhook TLS: {}", *error);
        return 2;
      }
    }
    if (!o.webhookClientCaFile.empty()) {
      if (auto error = readFile(o.webhookClientCaFile, &tls.clientCaPem)) {
        spdlog::error("webhook client CA: {}", *error);
        return 2;
      }
      tls.requireClientCertificate = true;
    }
    serverOptions.tls = tls;
  }
  intake::AlertIntakeServer webhook(*intakeClient, *registry, intakeOptions, serverOptions);

  auto notReady = [&]() -> std::string {
    if (stop.stopRequested()) return "shutting down";
    if (!webhook.intake().ready()) return "the alert intake has not synced its Incident cache";
    if (leading) {
      std::lock_guard<std::mutex> lock(engineMu);
      if (!currentEngine || !currentEngine->ready()) return "the engine's caches are not synced";
    }
    return "";
  };
  http::ServerConfig healthConfig;
  healthConfig.bindAddress = o.metricsBindAddress;
  healthConfig.port = static_cast<uint16_t>(o.healthPort);
  healthConfig.maxBodyBytes = 4096;
  healthConfig.maxConnections = 64;
  healthConfig.name = "health";
  http::HttpServer health(healthConfig, observabilityHandler(metrics, notReady));
  std::unique_ptr<http::HttpServer> metricsServer;
  if (o.metricsPort != o.healthPort) {
    http::ServerConfig metricsConfig = healthConfig;
    metricsConfig.port = static_cast<uint16_t>(o.metricsPort);
    metricsConfig.name = "metrics";
    metricsServer =
        std::make_unique<http::HttpServer>(metricsConfig, observabilityHandler(metrics, notReady));
  }
  for (http::HttpServer* server : {&health, metricsServer.get()}) {
    if (!server) continue;
    if (auto error = server->start()) {
      spdlog::error("cannot serve health/metrics: {}", *error);
      return 2;
    }
  }
  if (auto error = webhook.start()) {
    spdlog::error("cannot serve the alert webhook: {}", *error);
    return 2;
  }
  spdlog::info("event=serving webhookPort={} tls={} metricsPort={} healthPort={}", webhook.port(),
               serverOptions.tls.has_value(), o.metricsPort, o.healthPort);

  // Seals on Approvals: made by the admission webhooks (every replica),
  // verified by the engine (the leader).
  std::unique_ptr<admission::Sealer> sealer;
  if (!o.approvalSealKeyFile.empty()) {
    auto keys =
        admission::SealKeys::fromFiles(o.approvalSealKeyFile, o.approvalSealPreviousKeyFiles);
    if (!keys.ok()) {
      spdlog::error("--approval-seal-key-file: {}", keys.status().message());
      return 2;
    }
    sealer = std::make_unique<admission::Sealer>(std::move(*keys));
  } else {
    spdlog::warn(
        "event=no-approval-seal-key: without --approval-seal-key-file no Approval counts, and "
        "steps that need approval wait until their timeout");
  }
  std::unique_ptr<admission::ApprovalAdmission> approvalAdmission;
  std::unique_ptr<admission::WebhookCertificates> webhookCertificates;
  std::unique_ptr<admission::AdmissionServer> admissionServer;
  std::string admissionCaPem;  // what kube-apiserver must trust (Secret mode)
  if (o.admissionPort != 0) {
    approvalAdmission = std::make_unique<admission::ApprovalAdmission>(
        *sealer,
        [&api](const std::string& ns, const std::string& name) {
          return api.get(engine::incidents(), ns, name);
        },
        kube::Clock::real());
    admission::WebhookCertificatesOptions certOptions;
    certOptions.secretNamespace = o.leaderElectionNamespace;
    certOptions.secretName = o.admissionCertSecret;
    certOptions.dnsNames = o.admissionCertDnsNames;
    certOptions.ipAddresses = o.admissionCertIpAddresses;
    certOptions.certFile = o.admissionTlsCertFile;
    certOptions.keyFile = o.admissionTlsKeyFile;
    certOptions.mutatingConfigurations = o.admissionWebhookConfigurations;
    certOptions.validatingConfigurations = o.admissionWebhookConfigurations;
    webhookCertificates =
        std::make_unique<admission::WebhookCertificates>(api, certOptions, kube::Clock::real());
    auto bundle = webhookCertificates->load();
    if (!bundle.ok()) {
      spdlog::error("admission webhooks' certificate: {}", bundle.status().message());
      return 2;
    }
    admissionCaPem = bundle->caPem;
    admission::AdmissionServerOptions admissionOptions;
    admissionOptions.bindAddress = o.admissionBindAddress;
    admissionOptions.port = static_cast<uint16_t>(o.admissionPort);
    admissionOptions.tls =
        http::TlsConfig{bundle->serving.certificatePem, bundle->serving.privateKeyPem, "", false};
    admissionServer =
        std::make_unique<admission::AdmissionServer>(*approvalAdmission, admissionOptions);
    if (auto error = admissionServer->start()) {
      spdlog::error("cannot serve the admission webhooks: {}", *error);
      return 2;
    }
    webhookCertificates->start(
        [&](const admission::ServingBundle& renewed) {
          auto error = admissionServer->reloadTls(http::TlsConfig{
              renewed.serving.certificatePem, renewed.serving.privateKeyPem, "", false});
          if (error) spdlog::error("admission webhooks' renewed certificate: {}", *error);
        },
        [&] { return leading.load(); });
    spdlog::info("event=serving-admission port={} certificate={}", admissionServer->port(),
                 webhookCertificates->secretMode() ? "secret " + o.admissionCertSecret
                                                   : o.admissionTlsCertFile);
  }

  kube::EventRecorderOptions eventOptions;
  eventOptions.component = "remedy-operator";
  eventOptions.host = identity;
  kube::EventRecorder events(*eventsClient, eventOptions);
  events.start();
  auto egress = egressRules(o, apiServerAddresses(*config));
  auto registryOfActions = buildActionRegistry(o, egress);
  // Every action runs as a ServiceAccount of its Runbook's namespace.
  kube::ImpersonatingClients serviceAccounts(*client);
  kube::ImpersonatingClients followupServiceAccounts(*followupsClient);

  engine::EngineOptions engineOptions;
  engineOptions.incidentWorkers = o.workers;
  engineOptions.namespaces = o.watchNamespaces;
  engineOptions.maxFinishedIncidents = static_cast<size_t>(o.maxFinishedIncidents);
  engineOptions.sweepInterval = o.incidentSweepInterval;
  engineOptions.incident.pauseNamespace = o.pauseNamespace;
  engineOptions.incident.pauseName = o.pauseName;
  engineOptions.incident.retention = o.incidentRetention;
  engineOptions.incident.deliverDrillNotifications = o.deliverDrillNotifications;
  engineOptions.incident.dryRun = o.dryRun;
  engineOptions.incident.metrics = &metrics;
  engineOptions.incident.defaultServiceAccount = o.defaultServiceAccount;
  engineOptions.incident.serviceAccountNames = o.serviceAccounts;
  engineOptions.incident.sealer = sealer.get();
  engineOptions.incident.followupClient = followupsClient.get();
  engineOptions.incident.followupServiceAccounts = &followupServiceAccounts;
  engineOptions.sweeperClient = followupsClient.get();
  // The fence: with leader election, no effect once the Lease may be lost
  // (kube::LeaderElector::mayAct). Set before the elector leads, so before
  // the engine runs.
  const kube::LeaderElector* fence = nullptr;
  if (o.leaderElect) {
    engineOptions.incident.mayAct = [&fence] { return fence && fence->mayAct(); };
  }

  // Leads: runs the engine until `leadingSignal` stops.
  std::atomic<bool> engineFailed{false};
  auto lead = [&](kube::StopSignal& leadingSignal) {
    leading = true;
    metrics.setLeader(true);
    // The caBundle at once, not at the certificates' next check.
    if (webhookCertificates && webhookCertificates->secretMode()) {
      auto injected = webhookCertificates->injectCaBundle(admissionCaPem);
      if (!injected.ok()) {
        spdlog::warn("event=cabundle-not-injected: {}", injected.status().message());
      }
    }
    spdlog::info("event=leading identity={}", identity);
    auto engine = std::make_unique<engine::Engine>(api, serviceAccounts, *registryOfActions,
                                                   kube::Clock::real(), &events, engineOptions);
    {
      std::lock_guard<std::mutex> lock(engineMu);
      currentEngine = engine.get();
    }
    kube::Status started = engine->start();
    if (!started.ok()) {
      spdlog::error("engine did not start: {}", started.toString());
      engineFailed = true;
      stop.requestStop();
    } else {
      leadingSignal.wait();
    }
    {
      std::lock_guard<std::mutex> lock(engineMu);
      currentEngine = nullptr;
    }
    engine->stop();  // lets running reconciles finish: each is one checkpointed transition
    leading = false;
    metrics.setLeader(false);
    spdlog::info("event=stopped-leading identity={}", identity);
  };

  int exitCode = 0;
  if (o.leaderElect) {
    kube::LeaderElectionConfig lec;
    lec.namespace_ = o.leaderElectionNamespace;
    lec.name = o.leaderElectionName;
    lec.identity = identity;
    lec.leaseDuration = o.leaseDuration;
    lec.renewDeadline = o.renewDeadline;
    lec.retryPeriod = o.retryPeriod;
    lec.onStartedLeading = lead;
    lec.onNewLeader = [&](const std::string& holder) {
      spdlog::info("event=new-leader leader={}", holder);
    };
    if (kube::Status valid = kube::validate(lec); !valid.ok()) {
      spdlog::error("leader election: {}", valid.message());
      return 2;
    }
    kube::LeaderElector elector(api, lec);
    fence = &elector;
    elector.run(stop);
    fence = nullptr;
    if (!stop.stopRequested()) {
      spdlog::error("event=leadership-lost identity={}: exiting so a fresh process campaigns",
                    identity);
      exitCode = 1;
    }
  } else {
    kube::StopSignal& leadingSignal = stop;
    lead(leadingSignal);
  }
  if (engineFailed) exitCode = 1;

  spdlog::info("event=shutting-down");
  webhook.stop();
  // Queued Events are dropped at shutdown; one waiting for its budget
  // must not hold the process.
  eventsClient->shutdown();
  events.stop();
  if (metricsServer) metricsServer->stop();
  health.stop();
  kube::setMetricsSink(nullptr);
  spdlog::info("event=stopped exitCode={}", exitCode);
  return exitCode;
}

}  // namespace remedy::op
