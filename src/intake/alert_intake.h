// The Alertmanager webhook: POST /api/v1/alerts with Alertmanager's
// payload (version "4") turns each firing alert into an Incident and
// marks the Incident of each resolved alert resolved.
//
// The answer tells Alertmanager what to do, and Alertmanager retries only
// 5xx and 429 (notify/util.go), so:
// - 2xx only once every alert of the payload is stored: its Incident was
//   created or already existed, or its resolution was written;
// - 503 + Retry-After when the API server failed (5xx, 429, no answer,
//   timeout) or the request ran out of time; 429 + Retry-After when Remedy
//   is overloaded (the alert rate limit, or maxActiveIncidents): a retry
//   will succeed later, and the work already done is kept (creation is
//   idempotent: the Incident's name is derived from the alert);
// - 4xx otherwise only for input that can never succeed (401, 404, 405,
//   413, 415, 400 naming the field), each counted and logged.
// See README.md for the mapping of alerts to Incidents.
#pragma once

#include "http/server.h"
#include "intake/alert_payload.h"
#include "intake/incident_alert.h"
#include "kube/client.h"
#include "kube/clock.h"
#include "kube/informer.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
}

namespace remedy::intake {

struct AlertIntakeOptions {
  // The file holding the token Alertmanager sends as "Authorization:
  // Bearer <token>" (http_config.authorization.credentials_file); read at
  // start() and again whenever it changes. Empty: no token is checked, and
  // AlertIntakeServer then insists on required client certificates.
  std::string bearerTokenFile;

  // Larger bodies are refused with 413 (checked before the body is read).
  size_t maxBodyBytes = 1024 * 1024;
  // Alerts per request (413 beyond), label and annotation bounds (400).
  PayloadLimits limits;
  // What of an alert its Incident keeps (values cut with a marker beyond).
  IncidentAlertLimits incidentAlert;

  // Incidents go to the alert's `namespace` label when Remedy manages that
  // namespace, else (or when that namespace does not exist) here.
  std::string defaultNamespace = "remedy-system";
  // The managed namespaces; empty: all.
  std::vector<std::string> managedNamespaces;
  // When set, decides instead of managedNamespaces.
  std::function<bool(const std::string& ns)> managesNamespace;

  // New Incidents per second and burst (a token bucket); alerts whose
  // Incident exists and resolutions are not limited. <= 0: no limit.
  double alertsPerSecond = 50;
  int alertBurst = 100;
  // New Incidents are refused (429) while this many Incidents have no
  // final phase. 0: no limit.
  size_t maxActiveIncidents = 500;

  // Each API call's timeout, and the time a whole request may take; past
  // either the answer is 503 and Alertmanager retries.
  kube::Duration apiTimeout = std::chrono::seconds(10);
  kube::Duration requestDeadline = std::chrono::seconds(25);
  // Retry-After when the API server gave none, and when overloaded by
  // active Incidents.
  std::chrono::seconds unavailableRetryAfter{5};
  std::chrono::seconds overloadedRetryAfter{30};

  // An informer on Incidents (all namespaces) to share, e.g. the engine's;
  // not owned, and it must outlive this AlertIntake. nullptr: the intake
  // runs its own from start() to stop(), which caches only what the index
  // reads of each Incident (IncidentIndex::keepWhatItReads).
  kube::Informer* incidentInformer = nullptr;
  std::string fieldManager = "remedy-intake";
};

// Thread-safe: handle() runs on the HTTP server's connection threads.
class AlertIntake {
 public:
  static constexpr const char* kPath = "/api/v1/alerts";

  // Registers its metrics on `registry` (both must outlive this object):
  // remedy_alerts_received_total{status}, remedy_alerts_handled_total{outcome},
  // remedy_alerts_refused_total{reason}, remedy_intake_requests_total{code},
  // remedy_intake_requests_refused_total{reason},
  // remedy_intake_request_duration_seconds.
  AlertIntake(kube::Client& client, prometheus::Registry& registry, AlertIntakeOptions options,
              const kube::Clock& clock = kube::Clock::real());
  ~AlertIntake();
  AlertIntake(const AlertIntake&) = delete;
  AlertIntake& operator=(const AlertIntake&) = delete;

  // Reads the token file and starts the Incident informer (if owned). An
  // error names the problem (never the token).
  std::optional<std::string> start();
  void stop();
  // The Incident informer has listed: duplicates are skipped without an API
  // call and maxActiveIncidents can be enforced (until then new Incidents
  // are refused with 503 when that limit is set).
  bool ready() const;
  bool waitUntilReady(kube::Duration timeout) const;

  // One HTTP request, any method and path; never throws.
  http::Response handle(const http::Request& request);
  // The checks handle() makes before it looks at the body (path, method,
  // bearer token), for the HTTP server to make as soon as the header fields
  // are read: std::nullopt, or the refusal handle() would answer (counted
  // the same way). An unauthenticated client is thus refused without its
  // body being read, and never holds a connection slot kept for
  // authenticated ones (http::ServerConfig::reservedConnections).
  std::optional<http::Response> admit(const http::Request& request);

  const AlertIntakeOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The kube::Resource of Incidents (remedy.dev/v1alpha1).
kube::Resource incidentsResource();

}  // namespace remedy::intake
