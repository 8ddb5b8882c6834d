#include "actions/pod_logs_action.h"

#include "actions/kubernetes_actions.h"
#include "actions/redaction.h"
#include "actions/secret_ref.h"

#include <algorithm>
#include <set>

namespace remedy::actions {
namespace {

using kube::Status;

int64_t intParam(const json& params, const char* key, int64_t fallback) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_number_integer()) return fallback;
  return it->get<int64_t>();
}

// A secret value and the parts of it a log may print alone: its lines and
// long words, a URL's user info and password, a key=value connection
// string's password.
void addSecretParts(const std::string& value, std::vector<std::string>* secrets) {
  addSecret(value, secrets);
  size_t start = 0;
  while (start < value.size()) {
    size_t end = value.find('\n', start);
    if (end == std::string::npos) end = value.size();
    std::string line = value.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() >= 8 && line.size() < value.size()) addSecret(line, secrets);
    start = end + 1;
  }
  size_t scheme = value.find("://");
  if (scheme != std::string::npos) {
    size_t authorityEnd = value.find_first_of("/?#", scheme + 3);
    std::string authority =
        value.substr(scheme + 3, authorityEnd == std::string::npos ? std::string::npos
                                                                   : authorityEnd - scheme - 3);
    size_t at = authority.rfind('@');
    if (at != std::string::npos) {
      std::string userInfo = authority.substr(0, at);
      secrets->push_back(userInfo);
      size_t colon = userInfo.find(':');
      if (colon != std::string::npos && colon + 1 < userInfo.size()) {
        secrets->push_back(userInfo.substr(colon + 1));
      }
    }
  }
  for (size_t at = value.find("password="); at != std::string::npos;
       at = value.find("password=", at + 1)) {
    size_t begin = at + 9;
    size_t end = value.find_first_of(" \t\n&;", begin);
    std::string password =
        value.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (password.size() >= 2 && (password.front() == '\'' || password.front() == '"')) {
      password = password.substr(1, password.size() - 2);
    }
    if (!password.empty()) secrets->push_back(password);
  }
}

// A text cut at a byte limit may end inside a secret, where no whole
// occurrence is left to redact: drop any end that begins one.
void dropSecretPrefixAtEnd(std::string* text, const std::vector<std::string>& secrets) {
  size_t cut = 0;
  for (const auto& secret : secrets) {
    size_t longest = std::min(secret.size() - (secret.empty() ? 0 : 1), text->size());
    for (size_t k = longest; k > cut; --k) {
      if (text->compare(text->size() - k, k, secret, 0, k) == 0) {
        cut = k;
        break;
      }
    }
  }
  text->resize(text->size() - cut);
}

int64_t countLines(const std::string& text) {
  int64_t n = std::count(text.begin(), text.end(), '\n');
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

int64_t restartsOf(const json& pod) {
  int64_t n = 0;
  for (const auto& c :
       pod.value("status", json::object()).value("containerStatuses", json::array())) {
    if (c.contains("restartCount") && c["restartCount"].is_number_integer()) {
      n += c["restartCount"].get<int64_t>();
    }
  }
  return n;
}

bool isReady(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

kube::Result<std::vector<std::string>> incidentSecrets(const ActionContext& context) {
  std::vector<std::string> secrets;
  if (!context.incident.is_object() || !context.incident.contains("secretKeyRefs")) return secrets;
  const json& refs = context.incident["secretKeyRefs"];
  if (!refs.is_array()) return secrets;
  for (const auto& ref : refs) {
    SecretValue value =
        readSecretKey(*context.client, context.defaultNamespace, ref, "secretKeyRef");
    if (!value.ok()) {
      if (!value.retriable) continue;
      return Status::error(0, kube::reason::kUnknown,
                           "cannot read the secret values to redact: " + value.error);
    }
    addSecretParts(value.value, &secrets);
  }
  return secrets;
}

kube::Result<PodLog> readPodLog(kube::Client& client, const PodLogRequest& request,
                                const std::vector<std::string>& secrets) {
  kube::TextGetOptions options;
  options.subresource = "log";
  if (!request.container.empty()) options.params.emplace_back("container", request.container);
  if (request.previous) options.params.emplace_back("previous", "true");
  options.params.emplace_back("tailLines", std::to_string(request.tailLines));
  options.params.emplace_back("limitBytes", std::to_string(request.limitBytes));
  // The server honours limitBytes; the client holds it to it anyway.
  const auto limit = static_cast<size_t>(request.limitBytes);
  options.maxBytes = limit;
  options.timeout = request.timeout;
  auto raw = client.getText(kube::resources::pods(), request.ns, request.pod, options);
  if (!raw.ok()) return raw.status();
  PodLog log;
  std::string text = std::move(raw.value());
  log.truncated = text.size() >= limit;
  if (log.truncated) dropSecretPrefixAtEnd(&text, secrets);
  text = redactSecrets(std::move(text), secrets);
  // Redaction and U+FFFD for invalid bytes may lengthen it.
  std::string whole = utf8Excerpt(text, 3 * text.size());
  if (whole.size() > limit) log.truncated = true;
  log.text = utf8Excerpt(whole, limit);
  log.lines = countLines(log.text);
  if (log.truncated) log.text += kLogTruncatedMarker;
  return log;
}

kube::Duration logReadTimeout(const ActionContext& context) {
  if (context.deadline.time_since_epoch().count() == 0) return std::chrono::seconds(10);
  auto left = std::chrono::duration_cast<kube::Duration>(context.deadline - context.now);
  return std::clamp<kube::Duration>(left, std::chrono::seconds(1), std::chrono::seconds(30));
}

const json* choosePodForLogs(const std::vector<json>& pods) {
  const json* best = nullptr;
  auto better = [](const json& a, const json& b) {
    if (restartsOf(a) != restartsOf(b)) return restartsOf(a) > restartsOf(b);
    if (isReady(a) != isReady(b)) return !isReady(a);
    std::string ca = a["metadata"].value("creationTimestamp", "");
    std::string cb = b["metadata"].value("creationTimestamp", "");
    if (ca != cb) return ca > cb;
    return kube::nameOf(a) < kube::nameOf(b);
  };
  for (const auto& pod : pods) {
    if (pod["metadata"].contains("deletionTimestamp")) continue;
    if (!best || better(pod, *best)) best = &pod;
  }
  return best;
}

ActionOutcome PodLogsAction::run(const json& params, const ActionContext& context) {
  kube::Client& client = *context.client;
  PodLogRequest request;
  auto text = [&](const char* key) {
    auto it = params.find(key);
    return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  request.ns = text("namespace").empty() ? context.defaultNamespace : text("namespace");
  request.container = text("container");
  request.previous = params.contains("previous") && params["previous"].is_boolean() &&
                     params["previous"].get<bool>();
  request.tailLines = intParam(params, "tailLines", kDefaultLogTailLines);
  request.limitBytes = intParam(params, "limitBytes", kDefaultLogLimitBytes);
  if (request.tailLines < 1 || request.tailLines > kMaxLogTailLines) {
    return ActionOutcome::permanent("podLogs.tailLines: must be 1 to " +
                                    std::to_string(kMaxLogTailLines));
  }
  if (request.limitBytes < 1 || request.limitBytes > kMaxLogLimitBytes) {
    return ActionOutcome::permanent("podLogs.limitBytes: must be 1 to " +
                                    std::to_string(kMaxLogLimitBytes));
  }
  json pod;
  if (params.contains("pod") && params["pod"].is_string() &&
      !params["pod"].get<std::string>().empty()) {
    request.pod = params["pod"].get<std::string>();
    auto got = client.get(kube::resources::pods(), request.ns, request.pod);
    if (!got.ok())
      return apiFailure(got.status(), "podLogs: pod " + request.ns + "/" + request.pod);
    pod = *got;
  } else if (params.contains("target") && params["target"].is_object()) {
    auto target = resolveTarget(client, params["target"], context.defaultNamespace);
    if (!target.ok()) return apiFailure(target.status(), "podLogs");
    auto object = client.get(target->resource, target->ns, target->name);
    if (!object.ok()) return apiFailure(object.status(), "podLogs: read " + target->describe());
    request.ns = target->ns;
    if (target->kind == "Pod") {
      pod = *object;
    } else {
      auto selector = labelSelectorText((*object)["spec"].value("selector", json::object()));
      if (!selector.ok())
        return ActionOutcome::permanent("podLogs: " + selector.status().message());
      if (selector->empty()) {
        return ActionOutcome::permanent("podLogs: " + target->describe() + " has no pod selector");
      }
      kube::ListOptions options;
      options.labelSelector = *selector;
      auto pods = kube::listAll(client, kube::resources::pods(), request.ns, options);
      if (!pods.ok())
        return apiFailure(pods.status(), "podLogs: list the pods of " + target->describe());
      std::vector<json> items = (*pods)["items"].get<std::vector<json>>();
      const json* chosen = choosePodForLogs(items);
      if (!chosen) {
        return ActionOutcome::retriable("podLogs: " + target->describe() + " has no pods");
      }
      pod = *chosen;
    }
    request.pod = kube::nameOf(pod);
  } else {
    return ActionOutcome::permanent("podLogs: set pod or target");
  }
  if (request.container.empty()) {
    const json containers = pod.value("spec", json::object()).value("containers", json::array());
    if (containers.size() == 1) request.container = containers[0].value("name", "");
  }
  auto secrets = incidentSecrets(context);
  if (!secrets.ok()) return ActionOutcome::retriable("podLogs: " + secrets.status().message());
  request.timeout = logReadTimeout(context);
  auto log = readPodLog(client, request, *secrets);
  std::string where = "pod " + request.ns + "/" + request.pod +
                      (request.container.empty() ? "" : " container " + request.container) +
                      (request.previous ? " (previous)" : "");
  if (!log.ok()) return apiFailure(log.status(), "podLogs: " + where);
  Outputs outputs = {{"pod", request.pod},
                     {"container", request.container},
                     {"text", log->text},
                     {"lines", std::to_string(log->lines)},
                     {"truncated", log->truncated ? "true" : "false"}};
  return ActionOutcome::succeeded("read " + std::to_string(log->lines) + " lines of the log of " +
                                      where + (log->truncated ? ", cut at limitBytes" : ""),
                                  outputs);
}

}  // namespace remedy::actions
