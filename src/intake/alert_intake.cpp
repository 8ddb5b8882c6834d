#include "intake/alert_intake.h"

#include "api/incident.h"
#include "intake/bearer_token.h"
#include "intake/incident_index.h"
#include "kube/token_bucket.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace remedy::intake {

kube::Resource incidentsResource() {
  return {"remedy.dev", "v1alpha1", "incidents", "Incident", true};
}

namespace {

using json = nlohmann::json;

constexpr size_t kMaxErrorsInAnswer = 50;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// The media type of a Content-Type header, without parameters.
std::string mediaType(const std::string& contentType) {
  return lower(trim(contentType.substr(0, contentType.find(';'))));
}

// The token of "Authorization: Bearer <token>" (the scheme in any case,
// RFC 7235 section 2.1), or nullopt.
std::optional<std::string> bearerToken(const std::string& authorization) {
  std::string value = trim(authorization);
  auto space = value.find(' ');
  if (space == std::string::npos || lower(value.substr(0, space)) != "bearer") return std::nullopt;
  std::string token = trim(value.substr(space + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

http::Response answer(int code, json body) {
  return http::Response::json(code, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

http::Response errorAnswer(int code, const std::string& message) {
  return answer(code, {{"status", "error"}, {"message", message}});
}

// Labels an alert's Incident carries, so `kubectl get inc -l` finds it.
std::map<std::string, std::string> incidentLabels(const WebhookAlert& alert) {
  std::map<std::string, std::string> labels = {{"app.kubernetes.io/managed-by", "remedy"}};
  if (isLabelValue(alert.alertName())) labels["remedy.dev/alertname"] = alert.alertName();
  if (isLabelValue(alert.fingerprint)) labels["remedy.dev/fingerprint"] = alert.fingerprint;
  return labels;
}

}  // namespace

struct AlertIntake::Impl {
  // What one request did, alert by alert.
  struct Tally {
    int created = 0, existing = 0, resolved = 0, unknown = 0;
    std::map<std::string, int> refused;  // reason -> alerts
    json incidents = json::array();
    std::vector<std::string> errors;         // per-alert problems (400)
    std::optional<std::string> unavailable;  // why the API server could not be used (503)
    int unavailableRetryAfter = 0;
    std::optional<std::string> overloaded;  // why Remedy refused more work (429)
    int overloadedRetryAfter = 0;
    kube::TimePoint deadline;
    const WebhookPayload* payload = nullptr;
  };

  Impl(kube::Client& c, prometheus::Registry& registry, AlertIntakeOptions o,
       const kube::Clock& clk)
      : client(c),
        options(std::move(o)),
        clock(clk),
        bucket(options.alertsPerSecond, std::max(1, options.alertBurst), clk),
        managed(options.managedNamespaces.begin(), options.managedNamespaces.end()),
        received(prometheus::BuildCounter()
                     .Name("remedy_alerts_received_total")
                     .Help("Alerts received by the Alertmanager webhook, by status (firing, "
                           "resolved, invalid).")
                     .Register(registry)),
        handled(prometheus::BuildCounter()
                    .Name("remedy_alerts_handled_total")
                    .Help("Alerts stored by the webhook, by outcome: created (a new Incident), "
                          "existing (its Incident existed), resolved (its Incident marked "
                          "resolved), unknown (resolved, but no Incident: ignored).")
                    .Register(registry)),
        refused(prometheus::BuildCounter()
                    .Name("remedy_alerts_refused_total")
                    .Help("Alerts the webhook refused, by reason: invalid, too_many_alerts, "
                          "rate_limited, too_many_active, api_unavailable, "
                          "rejected_by_api_server.")
                    .Register(registry)),
        truncated(prometheus::BuildCounter()
                      .Name("remedy_alerts_truncated_total")
                      .Help("Alerts whose Incident keeps only a part of their labels or "
                            "annotations (values cut with a marker, annotations dropped), to "
                            "bound the Incident's size.")
                      .Register(registry)),
        requests(prometheus::BuildCounter()
                     .Name("remedy_intake_requests_total")
                     .Help("Webhook requests, by HTTP status code answered.")
                     .Register(registry)),
        requestsRefused(prometheus::BuildCounter()
                            .Name("remedy_intake_requests_refused_total")
                            .Help("Webhook requests refused as a whole, by reason: not_found, "
                                  "method_not_allowed, unauthorized, unsupported_media_type, "
                                  "body_too_large, malformed_json, invalid_payload, "
                                  "too_many_alerts.")
                            .Register(registry)),
        duration(prometheus::BuildHistogram()
                     .Name("remedy_intake_request_duration_seconds")
                     .Help("Time to answer a webhook request, API calls included.")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{
                                  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})) {
    if (!options.bearerTokenFile.empty()) {
      token = std::make_unique<BearerTokenFile>(options.bearerTokenFile);
    }
    std::vector<kube::Informer*> informers;
    // An informer of its own feeds only the index: it caches what the index
    // reads of each Incident, not the whole object (the engine's informer
    // holds those, on the leader).
    kube::InformerOptions own;
    own.reflector.transform = IncidentIndex::keepWhatItReads;
    if (options.incidentInformer) {
      informers.push_back(options.incidentInformer);
    } else if (options.managedNamespaces.empty()) {
      ownInformers.push_back(std::make_unique<kube::Informer>(client, incidentsResource(), own));
    } else {
      // Namespaced RBAC grants no cluster-wide list: one watch per namespace.
      for (const auto& ns : options.managedNamespaces) {
        kube::InformerOptions scoped = own;
        scoped.namespace_ = ns;
        ownInformers.push_back(
            std::make_unique<kube::Informer>(client, incidentsResource(), scoped));
      }
    }
    for (auto& owned : ownInformers) informers.push_back(owned.get());
    index = std::make_unique<IncidentIndex>(std::move(informers), clock);
  }

  http::Response handle(const http::Request& request);
  std::optional<http::Response> admit(const http::Request& request);
  std::optional<http::Response> checkHeaders(const http::Request& request);
  http::Response process(const http::Request& request);
  http::Response refuseRequest(const http::Request& request, int code, const std::string& reason,
                               const std::string& message);
  void storeFiring(const WebhookAlert& alert, Tally& t);
  void storeResolved(const WebhookAlert& alert, Tally& t);
  // Creates the Incident in `ns`. kNoNamespace: try another namespace;
  // kFailed: the API server is unavailable (marked on the tally).
  enum class Created { kCreated, kExisting, kNoNamespace, kRejected, kFailed };
  Created create(const WebhookAlert& alert, const std::string& ns, const std::string& name,
                 Tally& t);
  bool timeLeft(Tally& t);
  void markUnavailable(Tally& t, const std::string& why, int retryAfter);
  void refuse(Tally& t, const WebhookAlert& alert, const std::string& reason,
              const std::string& message);
  std::string route(const WebhookAlert& alert) const;
  bool manages(const std::string& ns) const;
  void record(Tally& t, const std::string& ns, const std::string& name, const WebhookAlert& alert,
              const std::string& result);

  kube::Client& client;
  const AlertIntakeOptions options;
  const kube::Clock& clock;
  kube::TokenBucket bucket;
  const std::set<std::string> managed;
  std::unique_ptr<BearerTokenFile> token;
  std::vector<std::unique_ptr<kube::Informer>> ownInformers;  // when none was given
  std::unique_ptr<IncidentIndex> index;

  prometheus::Family<prometheus::Counter>& received;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Counter>& refused;
  prometheus::Family<prometheus::Counter>& truncated;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& requestsRefused;
  prometheus::Histogram& duration;
};

http::Response AlertIntake::Impl::handle(const http::Request& request) {
  auto started = clock.now();
  http::Response response;
  try {
    response = process(request);
  } catch (const std::exception& e) {
    // A bug, not an input problem: Alertmanager should retry.
    spdlog::error("intake: internal error remote={}: {}", request.remoteAddress, e.what());
    response = errorAnswer(500, std::string("internal error: ") + e.what());
  }
  requests.Add({{"code", std::to_string(response.status)}}).Increment();
  duration.Observe(std::chrono::duration<double>(clock.now() - started).count());
  return response;
}

std::optional<http::Response> AlertIntake::Impl::admit(const http::Request& request) {
  auto started = clock.now();
  std::optional<http::Response> refusal;
  try {
    refusal = checkHeaders(request);
  } catch (const std::exception& e) {
    spdlog::error("intake: internal error remote={}: {}", request.remoteAddress, e.what());
    refusal = errorAnswer(500, std::string("internal error: ") + e.what());
  }
  if (refusal) {
    requests.Add({{"code", std::to_string(refusal->status)}}).Increment();
    duration.Observe(std::chrono::duration<double>(clock.now() - started).count());
  }
  return refusal;
}

http::Response AlertIntake::Impl::refuseRequest(const http::Request& request, int code,
                                                const std::string& reason,
                                                const std::string& message) {
  requestsRefused.Add({{"reason", reason}}).Increment();
  spdlog::warn("intake: refused remote={} code={} reason={} message=\"{}\"", request.remoteAddress,
               code, reason, message);
  return errorAnswer(code, message);
}

std::optional<http::Response> AlertIntake::Impl::checkHeaders(const http::Request& request) {
  if (request.path != kPath) {
    return refuseRequest(request, 404, "not_found",
                         "not found: the Alertmanager webhook is POST " + std::string(kPath));
  }
  if (request.method != "POST") {
    auto r = refuseRequest(request, 405, "method_not_allowed",
                           request.method + " is not allowed: the webhook takes POST");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (token) {
    auto presented = bearerToken(request.header("authorization"));
    if (!presented || !token->matches(*presented)) {
      // Never the token itself, in the log or the answer.
      auto r = refuseRequest(request, 401, "unauthorized",
                             presented ? "the bearer token is not valid"
                                       : "a bearer token is required (Authorization: Bearer ...)");
      r.headers.emplace_back("WWW-Authenticate",
                             presented ? "Bearer realm=\"remedy\", error=\"invalid_token\""
                                       : "Bearer realm=\"remedy\"");
      return r;
    }
  }
  return std::nullopt;
}

http::Response AlertIntake::Impl::process(const http::Request& request) {
  if (auto refusal = checkHeaders(request)) return *refusal;
  std::string type = mediaType(request.header("content-type"));
  if (type != "application/json") {
    return refuseRequest(request, 415, "unsupported_media_type",
                         "Content-Type must be application/json, got " +
                             (type.empty() ? std::string("none") : "\"" + type + "\""));
  }
  if (request.body.size() > options.maxBodyBytes) {
    return refuseRequest(request, 413, "body_too_large",
                         "the body is " + std::to_string(request.body.size()) +
                             " bytes, more than the limit of " +
                             std::to_string(options.maxBodyBytes));
  }

  ParsedPayload parsed = parseWebhookPayload(request.body, options.limits);
  switch (parsed.error) {
    case PayloadError::kNone:
      break;
    case PayloadError::kMalformedJson:
      return refuseRequest(request, 400, "malformed_json", parsed.message);
    case PayloadError::kInvalid:
      return refuseRequest(request, 400, "invalid_payload", parsed.message);
    case PayloadError::kTooManyAlerts:
      refused.Add({{"reason", "too_many_alerts"}})
          .Increment(static_cast<double>(parsed.payload.alertsSent));
      return refuseRequest(request, 413, "too_many_alerts", parsed.message);
  }
  const WebhookPayload& payload = parsed.payload;
  if (payload.truncatedAlerts > 0) {
    spdlog::warn(
        "intake: Alertmanager left {} alerts out of the notification to receiver {} (its "
        "max_alerts); Remedy never sees them",
        payload.truncatedAlerts, payload.receiver);
  }

  Tally t;
  t.deadline = clock.now() + options.requestDeadline;
  t.payload = &payload;
  for (const WebhookAlert& alert : payload.alerts) {
    received.Add({{"status", alert.valid() ? alert.status : "invalid"}}).Increment();
  }
  for (const WebhookAlert& alert : payload.alerts) {
    if (!alert.valid()) {
      for (const auto& problem : alert.problems) t.errors.push_back(problem);
      refuse(t, alert, "invalid", alert.problems.front());
      continue;
    }
    if (alert.firing()) {
      storeFiring(alert, t);
    } else {
      storeResolved(alert, t);
    }
  }

  int refusedCount = 0;
  std::string refusedReasons;
  for (const auto& [reason, n] : t.refused) {
    refusedCount += n;
    refusedReasons += (refusedReasons.empty() ? "" : ",") + reason + ":" + std::to_string(n);
  }
  json body = {{"created", t.created}, {"existing", t.existing},  {"resolved", t.resolved},
               {"unknown", t.unknown}, {"refused", refusedCount}, {"incidents", t.incidents}};
  int code = 200;
  std::string message = "stored";
  int retryAfter = 0;
  if (t.unavailable) {
    code = 503;
    message = *t.unavailable + "; alerts not stored yet, retry later";
    retryAfter = t.unavailableRetryAfter;
  } else if (t.overloaded) {
    code = 429;
    message = *t.overloaded + "; retry later";
    retryAfter = t.overloadedRetryAfter;
  } else if (!t.errors.empty()) {
    code = 400;
    message = std::to_string(t.errors.size()) + " problem(s) with alerts: " + t.errors.front();
  }
  if (!t.errors.empty()) {
    json errors = json::array();
    for (size_t i = 0; i < t.errors.size() && i < kMaxErrorsInAnswer; ++i) {
      errors.push_back(t.errors[i]);
    }
    body["errors"] = errors;
  }
  body["status"] = code == 200 ? "success" : "error";
  body["message"] = message;
  auto level = code == 200 ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level,
              "intake: remote={} receiver={} alerts={} created={} existing={} resolved={} "
              "unknown={} refused={} refusedReasons={} code={} message=\"{}\"",
              request.remoteAddress, payload.receiver, payload.alerts.size(), t.created, t.existing,
              t.resolved, t.unknown, refusedCount, refusedReasons.empty() ? "-" : refusedReasons,
              code, message);
  http::Response response = answer(code, body);
  if (retryAfter > 0) response.headers.emplace_back("Retry-After", std::to_string(retryAfter));
  return response;
}

bool AlertIntake::Impl::manages(const std::string& ns) const {
  if (options.managesNamespace) return options.managesNamespace(ns);
  return managed.empty() || managed.count(ns) > 0;
}

std::string AlertIntake::Impl::route(const WebhookAlert& alert) const {
  auto it = alert.labels.find("namespace");
  if (it == alert.labels.end() || !isDnsLabel(it->second) || !manages(it->second)) {
    return options.defaultNamespace;
  }
  return it->second;
}

void AlertIntake::Impl::record(Tally& t, const std::string& ns, const std::string& name,
                               const WebhookAlert& alert, const std::string& result) {
  t.incidents.push_back(
      {{"alert", alert.index}, {"namespace", ns}, {"name", name}, {"result", result}});
}

void AlertIntake::Impl::refuse(Tally& t, const WebhookAlert& alert, const std::string& reason,
                               const std::string& message) {
  ++t.refused[reason];
  refused.Add({{"reason", reason}}).Increment();
  // Alerts refused for good are logged one by one; those refused for now
  // (limits, API server) only in the request's summary line, so a storm
  // does not flood the log.
  bool permanent = reason == "invalid" || reason == "rejected_by_api_server";
  spdlog::log(permanent ? spdlog::level::warn : spdlog::level::debug,
              "intake: alert refused index={} alertname=\"{}\" fingerprint={} reason={} "
              "message=\"{}\"",
              alert.index, alert.alertName(), alert.fingerprint, reason, message);
}

void AlertIntake::Impl::markUnavailable(Tally& t, const std::string& why, int retryAfter) {
  if (t.unavailable) return;
  t.unavailable = why;
  t.unavailableRetryAfter =
      retryAfter > 0 ? retryAfter : static_cast<int>(options.unavailableRetryAfter.count());
}

bool AlertIntake::Impl::timeLeft(Tally& t) {
  if (clock.now() < t.deadline) return true;
  markUnavailable(
      t,
      "the request took longer than " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(options.requestDeadline).count()) +
          "s",
      0);
  return false;
}

AlertIntake::Impl::Created AlertIntake::Impl::create(const WebhookAlert& alert,
                                                     const std::string& ns, const std::string& name,
                                                     Tally& t) {
  api::Incident incident;
  incident.apiVersion = api::kApiVersion;
  incident.kind = "Incident";
  api::ObjectMeta meta;
  meta.name = name;
  meta.namespace_ = ns;
  meta.labels = incidentLabels(alert);
  std::map<std::string, std::string> annotations;
  if (!t.payload->externalURL.empty()) {
    annotations["remedy.dev/alertmanager-url"] = t.payload->externalURL;
  }
  if (!t.payload->receiver.empty()) {
    annotations["remedy.dev/alertmanager-receiver"] = t.payload->receiver;
  }
  // The alert's identity (fingerprint, name) came from the whole alert;
  // the Incident keeps a bounded part of it.
  LabelSet labels = alert.labels;
  LabelSet alertAnnotations = alert.annotations;
  std::vector<std::string> cut =
      fitAlertToIncident(labels, alertAnnotations, options.incidentAlert);
  if (!cut.empty()) {
    std::string fields;  // at most about 1 KiB, however many were cut
    for (size_t i = 0; i < cut.size(); ++i) {
      if (fields.size() > 1024) {
        fields += " and " + std::to_string(cut.size() - i) + " more";
        break;
      }
      fields += (fields.empty() ? "" : ", ") + cut[i];
    }
    annotations[std::string(kAlertTruncatedAnnotation)] = fields;
    truncated.Add({}).Increment();
    spdlog::warn(
        "intake: Incident {}/{} keeps part of alert {} (fingerprint {}): {} cut to bound its "
        "size to {} bytes of labels and annotations",
        ns, name, alert.alertName(), alert.fingerprint, fields,
        options.incidentAlert.maxAlertBytes);
  }
  if (!annotations.empty()) meta.annotations = annotations;
  incident.metadata = meta;
  api::Alert a;
  a.name = alert.alertName();
  a.status = api::AlertStatus::kFiring;
  a.labels = std::move(labels);
  if (!alertAnnotations.empty()) a.annotations = std::move(alertAnnotations);
  a.fingerprint = alert.fingerprint;
  a.startsAt = alert.startsAt;
  if (!alert.generatorURL.empty()) a.generatorURL = alert.generatorURL;
  api::IncidentSpec spec;
  spec.source = api::IncidentSource::kAlertmanager;
  spec.alert = a;
  incident.spec = spec;

  kube::WriteOptions wo;
  wo.fieldManager = options.fieldManager;
  wo.timeout = options.apiTimeout;
  auto created = client.create(incidentsResource(), ns, api::toJson(incident), wo);
  if (created.ok()) return Created::kCreated;
  const kube::Status& s = created.status();
  if (kube::isAlreadyExists(s)) return Created::kExisting;
  if (kube::isNotFound(s)) return Created::kNoNamespace;
  if (kube::isInvalid(s) || kube::isBadRequest(s)) {
    spdlog::error("intake: the API server refused Incident {}/{}: {}", ns, name, s.toString());
    return Created::kRejected;
  }
  spdlog::warn("intake: creating Incident {}/{} failed: {}", ns, name, s.toString());
  markUnavailable(t, "the API server could not store the Incident: " + s.toString(),
                  s.retryAfterSeconds());
  return Created::kFailed;
}

void AlertIntake::Impl::storeFiring(const WebhookAlert& alert, Tally& t) {
  std::string name = incidentName(alert.alertName(), alert.fingerprint, alert.startsAtTime);
  std::string ns = route(alert);
  const std::string& fallback = options.defaultNamespace;
  for (const std::string& candidate : {ns, fallback}) {
    if (index->contains(kube::objectKey(candidate, name))) {
      ++t.existing;
      handled.Add({{"outcome", "existing"}}).Increment();
      record(t, candidate, name, alert, "existing");
      return;
    }
  }
  if (t.unavailable || !timeLeft(t)) {
    refuse(t, alert, "api_unavailable", *t.unavailable);
    return;
  }
  if (options.maxActiveIncidents > 0) {
    if (!index->synced()) {
      markUnavailable(t, "not ready: the count of active Incidents is not known yet", 0);
      refuse(t, alert, "api_unavailable", *t.unavailable);
      return;
    }
    size_t active = index->active();
    if (active >= options.maxActiveIncidents) {
      std::string why = std::to_string(active) + " Incidents are active, the limit is " +
                        std::to_string(options.maxActiveIncidents);
      if (!t.overloaded) t.overloaded = why;
      t.overloadedRetryAfter =
          std::max(t.overloadedRetryAfter, static_cast<int>(options.overloadedRetryAfter.count()));
      refuse(t, alert, "too_many_active", why);
      return;
    }
  }
  if (!bucket.tryAccept()) {
    std::ostringstream why;
    why << "more than " << options.alertsPerSecond << " new alerts per second (burst "
        << options.alertBurst << ")";
    if (!t.overloaded) t.overloaded = why.str();
    int wait = static_cast<int>(std::ceil(1.0 / options.alertsPerSecond));
    t.overloadedRetryAfter = std::max({t.overloadedRetryAfter, wait, 1});
    refuse(t, alert, "rate_limited", why.str());
    return;
  }
  Created result = create(alert, ns, name, t);
  if (result == Created::kNoNamespace && ns != fallback) {
    spdlog::info("intake: namespace {} of alert {} does not exist; its Incident goes to {}", ns,
                 alert.alertName(), fallback);
    ns = fallback;
    if (timeLeft(t)) result = create(alert, ns, name, t);
  }
  switch (result) {
    case Created::kCreated:
      index->noteCreated(kube::objectKey(ns, name));
      ++t.created;
      handled.Add({{"outcome", "created"}}).Increment();
      record(t, ns, name, alert, "created");
      spdlog::info("incident={}/{} alertname=\"{}\" fingerprint={} event=created", ns, name,
                   alert.alertName(), alert.fingerprint);
      return;
    case Created::kExisting:
      ++t.existing;
      handled.Add({{"outcome", "existing"}}).Increment();
      record(t, ns, name, alert, "existing");
      return;
    case Created::kNoNamespace:
      markUnavailable(t, "namespace " + ns + " for Incidents does not exist", 0);
      refuse(t, alert, "api_unavailable", *t.unavailable);
      return;
    case Created::kRejected:
      t.errors.push_back("alerts[" + std::to_string(alert.index) +
                         "]: the API server refused its Incident (see the operator's log)");
      refuse(t, alert, "rejected_by_api_server", "the API server refused the Incident");
      return;
    case Created::kFailed:
      refuse(t, alert, "api_unavailable", *t.unavailable);
      return;
  }
}

void AlertIntake::Impl::storeResolved(const WebhookAlert& alert, Tally& t) {
  std::string name = incidentName(alert.alertName(), alert.fingerprint, alert.startsAtTime);
  std::string ns = route(alert);
  json patch = {{"spec", {{"alert", {{"status", "resolved"}}}}}};
  if (!alert.endsAt.empty()) patch["spec"]["alert"]["endsAt"] = alert.endsAt;
  kube::PatchOptions po;
  po.type = kube::PatchType::Merge;
  po.fieldManager = options.fieldManager;
  po.timeout = options.apiTimeout;
  std::vector<std::string> candidates = {ns};
  if (ns != options.defaultNamespace) candidates.push_back(options.defaultNamespace);
  for (const std::string& candidate : candidates) {
    if (t.unavailable || !timeLeft(t)) {
      refuse(t, alert, "api_unavailable", *t.unavailable);
      return;
    }
    auto patched = client.patch(incidentsResource(), candidate, name, patch.dump(), po);
    if (patched.ok()) {
      ++t.resolved;
      handled.Add({{"outcome", "resolved"}}).Increment();
      record(t, candidate, name, alert, "resolved");
      spdlog::info("incident={}/{} alertname=\"{}\" fingerprint={} event=resolved", candidate, name,
                   alert.alertName(), alert.fingerprint);
      return;
    }
    const kube::Status& s = patched.status();
    if (kube::isNotFound(s)) continue;
    if (kube::isInvalid(s) || kube::isBadRequest(s)) {
      spdlog::error("intake: the API server refused resolving Incident {}/{}: {}", candidate, name,
                    s.toString());
      t.errors.push_back("alerts[" + std::to_string(alert.index) +
                         "]: the API server refused its resolution (see the operator's log)");
      refuse(t, alert, "rejected_by_api_server", "the API server refused the resolution");
      return;
    }
    spdlog::warn("intake: resolving Incident {}/{} failed: {}", candidate, name, s.toString());
    markUnavailable(t, "the API server could not store the resolution: " + s.toString(),
                    s.retryAfterSeconds());
    refuse(t, alert, "api_unavailable", *t.unavailable);
    return;
  }
  // Resolved before Remedy saw it fire (or its Incident was deleted).
  ++t.unknown;
  handled.Add({{"outcome", "unknown"}}).Increment();
  record(t, ns, name, alert, "unknown");
  spdlog::info("intake: resolved alert without an Incident ignored alertname=\"{}\" fingerprint={}",
               alert.alertName(), alert.fingerprint);
}

AlertIntake::AlertIntake(kube::Client& client, prometheus::Registry& registry,
                         AlertIntakeOptions options, const kube::Clock& clock)
    : impl_(std::make_unique<Impl>(client, registry, std::move(options), clock)) {}

AlertIntake::~AlertIntake() { stop(); }

std::optional<std::string> AlertIntake::start() {
  if (impl_->token) {
    if (auto error = impl_->token->load()) return error;
  }
  for (auto& informer : impl_->ownInformers) informer->start();
  return std::nullopt;
}

void AlertIntake::stop() {
  for (auto& informer : impl_->ownInformers) informer->stop();
}

bool AlertIntake::ready() const { return impl_->index->synced(); }

bool AlertIntake::waitUntilReady(kube::Duration timeout) const {
  return impl_->index->waitForSync(timeout);
}

http::Response AlertIntake::handle(const http::Request& request) { return impl_->handle(request); }

std::optional<http::Response> AlertIntake::admit(const http::Request& request) {
  return impl_->admit(request);
}

const AlertIntakeOptions& AlertIntake::options() const { return impl_->options; }

}  // namespace remedy::intake
