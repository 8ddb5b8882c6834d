#include "actions/notify_action.h"

#include "actions/http_action.h"

namespace remedy::actions {
namespace {

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string incidentName(const json& incident) {
  std::string ns = text(incident, "namespace");
  std::string name = text(incident, "name");
  return ns.empty() ? name : ns + "/" + name;
}

// "Incident shop/db-1 is Escalated (runbook db-pool): alert DbPool is firing:
// SUMMARY".
std::string summaryOf(const json& incident) {
  std::string out = "Incident " + incidentName(incident);
  std::string phase = text(incident, "phase");
  if (!phase.empty()) out += " is " + phase;
  std::string runbook = text(incident, "runbook");
  if (!runbook.empty()) out += " (runbook " + runbook + ")";
  const json alert = incident.is_object() ? incident.value("alert", json::object()) : json();
  std::string alertName = text(alert, "name");
  if (!alertName.empty()) {
    out += ": alert " + alertName;
    std::string status = text(alert, "status");
    if (!status.empty()) out += " is " + status;
  }
  std::string summary = text(
      alert.is_object() ? alert.value("annotations", json::object()) : json::object(), "summary");
  if (!summary.empty()) out += ": " + summary;
  return out;
}

}  // namespace

NotifyAction::NotifyAction(NotifyOptions options) : options_(std::move(options)) {
  if (!options_.client) options_.client = makeWebClient();
}

std::unique_ptr<Action> makeNotifyAction(NotifyOptions options) {
  return std::make_unique<NotifyAction>(std::move(options));
}

json NotifyAction::payload(const json& params, const json& incident) const {
  std::string message = params.value("message", "");
  if (message.empty()) message = summaryOf(incident);
  std::string link;
  if (!options_.incidentLinkBase.empty()) {
    link = options_.incidentLinkBase;
    while (!link.empty() && link.back() == '/') link.pop_back();
    link += "/" + text(incident, "namespace") + "/" + text(incident, "name");
  }
  if (params.value("format", std::string("Generic")) == "Slack") {
    std::string body = message;
    if (!link.empty()) body += "\n<" + link + "|Incident " + incidentName(incident) + ">";
    return {{"text", body}};
  }
  const json alert = incident.is_object() ? incident.value("alert", json::object()) : json();
  json summary = {{"name", text(incident, "name")},
                  {"namespace", text(incident, "namespace")},
                  {"phase", text(incident, "phase")},
                  {"runbook", text(incident, "runbook")},
                  {"source", text(incident, "source")}};
  if (!link.empty()) summary["link"] = link;
  json alertSummary = {
      {"name", text(alert, "name")},
      {"status", text(alert, "status")},
      {"labels", alert.is_object() ? alert.value("labels", json::object()) : json::object()},
      {"annotations",
       alert.is_object() ? alert.value("annotations", json::object()) : json::object()}};
  if (!text(alert, "startsAt").empty()) alertSummary["startsAt"] = text(alert, "startsAt");
  return {{"message", message}, {"incident", summary}, {"alert", alertSummary}};
}

ActionOutcome NotifyAction::run(const json& params, const ActionContext& context) {
  std::string format = params.value("format", std::string("Generic"));
  if (format != "Slack" && format != "Generic") {
    return ActionOutcome::permanent("notify.format: \"" + format +
                                    "\" is not one of Slack, Generic");
  }
  WebTarget target;
  if (auto failed = resolveWebTarget(params, "notify", context, &target)) return *failed;
  auto report = [&](const std::string& text) { return redactSecrets(text, target.secrets); };
  const std::string what = "a " + format + " message to " + target.description;
  if (!options_.deliver) {
    return ActionOutcome::succeeded(report("not sent (drill): " + what), {{"status", ""}});
  }
  if (context.dryRun) {
    return ActionOutcome::succeeded(report("dry run: would send " + what), {{"status", ""}});
  }
  auto timeout = requestTimeout(context, options_.maxRequestTimeout);
  if (!timeout) {
    return ActionOutcome::retriable(
        report("sending " + what + ": the attempt's deadline passed before sending"));
  }
  WebRequest request;
  request.method = "POST";
  request.url = target.url;
  request.headers = {{"Content-Type", "application/json"}};
  // The same for every attempt of the step (and for an escalation tier's
  // message), across retries and operator restarts: a receiver that keeps
  // the keys it has seen drops the repeats of an at-least-once delivery.
  std::string key = context.stepKey.empty() ? context.idempotencyKey : context.stepKey;
  if (!key.empty()) request.headers.emplace_back("Idempotency-Key", key);
  // Invalid UTF-8 in a templated value must not make dump() throw.
  request.body =
      payload(params, context.incident).dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = *timeout;
  request.maxResponseBytes = 16 * 1024;
  request.tls = options_.tls;
  request.egress = options_.egress;
  request.maxRedirects = options_.maxRedirects;
  request.carriesSecrets = target.carriesSecrets;
  WebResponse response = options_.client->send(request);
  if (!response.ok()) {
    std::string message = report("sending " + what + ": " + response.error);
    return response.invalid || response.refused ? ActionOutcome::permanent(message)
                                                : ActionOutcome::retriable(message);
  }
  Outputs outputs = {{"status", std::to_string(response.status)}};
  if (response.status >= 200 && response.status <= 299) {
    return ActionOutcome::succeeded(report("sent " + what), outputs);
  }
  // The body is not reported: what a server answers stays off the status.
  std::string message =
      report("sending " + what + ": the webhook returned " + std::to_string(response.status));
  ActionOutcome outcome = response.status >= 500 || response.status == 429
                              ? ActionOutcome::retriable(message)
                              : ActionOutcome::permanent(message);
  outcome.outputs = outputs;
  return outcome;
}

}  // namespace remedy::actions
