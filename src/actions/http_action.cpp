#include "actions/http_action.h"

#include "actions/secret_ref.h"
#include "kube/base64.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace remedy::actions {
namespace {

// The most of a response body quoted in a failure message.
constexpr size_t kBodyInMessageBytes = 256;

bool isTokenChar(char c) {
  static const std::string kSpecials = "!#$%&'*+.^_`|~-";
  return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != std::string::npos;
}

std::string percentDecoded(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool validHeaderName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), isTokenChar);
}

// A value with a line break would let a templated value (an alert label)
// inject headers of its own.
bool validHeaderValue(const std::string& value) {
  return value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

std::string statusList(const std::vector<int>& codes) {
  if (codes.empty()) return "2xx";
  std::string out;
  for (int c : codes) out += (out.empty() ? "" : ", ") + std::to_string(c);
  return out;
}

}  // namespace

// ---- shared helpers ----

std::string displayUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end - 1);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

std::optional<ActionOutcome> resolveWebTarget(const json& params, const std::string& field,
                                              const ActionContext& context, WebTarget* target) {
  auto components = [](const std::string& url) {
    // user info, path and query: a server's error page may echo any of them.
    std::vector<std::string> parts;
    size_t scheme = url.find("://");
    if (scheme == std::string::npos) return parts;
    size_t start = scheme + 3;
    size_t end = url.find_first_of("/?#", start);
    if (end == std::string::npos) return parts;
    size_t at = url.rfind('@', end - 1);
    if (at != std::string::npos && at >= start) parts.push_back(url.substr(start, at - start));
    std::string rest = url.substr(end);
    size_t hash = rest.find('#');
    if (hash != std::string::npos) rest.resize(hash);
    size_t query = rest.find('?');
    if (rest.size() > 1) parts.push_back(rest);
    if (query != std::string::npos) {
      if (query > 1) parts.push_back(rest.substr(0, query));
      if (rest.size() > query + 1) parts.push_back(rest.substr(query + 1));
    }
    return parts;
  };
  if (params.contains("urlFrom")) {
    const json ref = params["urlFrom"].is_object()
                         ? params["urlFrom"].value("secretKeyRef", json::object())
                         : json::object();
    std::string name = ref.is_object() ? ref.value("name", "") : "";
    std::string key = ref.is_object() ? ref.value("key", "") : "";
    if (context.client == nullptr) {
      return ActionOutcome::permanent(field + ".urlFrom: no API client to read the Secret");
    }
    SecretValue secret = readSecretKey(*context.client, context.defaultNamespace, ref,
                                       field + ".urlFrom.secretKeyRef");
    if (!secret.ok()) {
      return secret.retriable ? ActionOutcome::retriable(secret.error)
                              : ActionOutcome::permanent(secret.error);
    }
    target->url = secret.value;
    // A trailing newline is a common accident of `kubectl create secret
    // --from-file`.
    while (!target->url.empty() && std::isspace(static_cast<unsigned char>(target->url.back()))) {
      target->url.pop_back();
    }
    target->description = "the URL from Secret " + name + " key " + key;
    target->carriesSecrets = true;
    addSecret(secret.value, &target->secrets);
    addSecret(target->url, &target->secrets);
    for (const auto& part : components(target->url)) addSecret(part, &target->secrets);
  } else if (params.contains("url") && params["url"].is_string() &&
             !params["url"].get<std::string>().empty()) {
    target->url = params["url"].get<std::string>();
    target->description = displayUrl(target->url);
    std::string display = target->description;
    // A literal URL's password is still a password.
    size_t scheme = target->url.find("://");
    size_t at = target->url.find('@');
    if (scheme != std::string::npos && target->url != display && at != std::string::npos) {
      addSecret(target->url.substr(scheme + 3, at - scheme - 3), &target->secrets);
      target->carriesSecrets = true;
    }
  } else {
    return ActionOutcome::permanent(field + ": one of url or urlFrom is required");
  }
  // The Basic authorization the client makes of user info, and the
  // password alone, both decoded: a server may echo either.
  {
    size_t scheme = target->url.find("://");
    size_t end = scheme == std::string::npos ? std::string::npos
                                             : target->url.find_first_of("/?#", scheme + 3);
    std::string authority =
        scheme == std::string::npos
            ? ""
            : target->url.substr(scheme + 3,
                                 end == std::string::npos ? std::string::npos : end - scheme - 3);
    size_t at = authority.rfind('@');
    if (at != std::string::npos) {
      std::string info = percentDecoded(authority.substr(0, at));
      target->carriesSecrets = true;
      addSecret(info, &target->secrets);
      addSecret(kube::encodeBase64(info), &target->secrets);
      size_t colon = info.find(':');
      if (colon != std::string::npos) addSecret(info.substr(colon + 1), &target->secrets);
    }
  }
  if (target->url.rfind("http://", 0) != 0 && target->url.rfind("https://", 0) != 0) {
    return ActionOutcome::permanent(
        field + ": " +
        (params.contains("urlFrom")
             ? target->description
             : "url \"" + redactSecrets(target->description, target->secrets) + "\"") +
        " is not an http:// or https:// URL");
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> requestTimeout(const ActionContext& context,
                                                        std::chrono::milliseconds cap) {
  if (context.deadline == kube::WallTime{}) return cap;
  kube::WallTime now =
      context.now == kube::WallTime{} ? std::chrono::system_clock::now() : context.now;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(context.deadline - now);
  if (left.count() <= 0) return std::nullopt;
  return std::min(left, cap);
}

// ---- http ----

HttpAction::HttpAction(WebActionOptions options) : options_(std::move(options)) {
  if (!options_.client) options_.client = makeWebClient();
}

std::unique_ptr<Action> makeHttpAction(WebActionOptions options) {
  return std::make_unique<HttpAction>(std::move(options));
}

ActionOutcome HttpAction::run(const json& params, const ActionContext& context) {
  static const std::set<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  std::string method = params.value("method", std::string("GET"));
  if (kMethods.count(method) == 0) {
    return ActionOutcome::permanent("http.method: \"" + method +
                                    "\" is not one of GET, HEAD, POST, PUT, PATCH, DELETE");
  }
  WebTarget target;
  if (auto failed = resolveWebTarget(params, "http", context, &target)) return *failed;
  std::vector<std::string>& secrets = target.secrets;

  WebRequest request;
  request.method = method;
  request.url = target.url;
  request.tls = options_.tls;
  request.maxResponseBytes = options_.maxResponseBytes;
  request.egress = options_.egress;
  request.maxRedirects = options_.maxRedirects;
  request.carriesSecrets = target.carriesSecrets;
  const bool keepBody = params.value("keepResponseBody", false);
  const json headers = params.value("headers", json::array());
  for (size_t i = 0; i < headers.size(); ++i) {
    const json& h = headers[i];
    std::string where = "http.headers[" + std::to_string(i) + "]";
    std::string name = h.is_object() ? h.value("name", "") : "";
    if (!validHeaderName(name)) {
      return ActionOutcome::permanent(where + ".name: \"" + utf8Excerpt(name, 256) +
                                      "\" is not a valid header name");
    }
    where += " (" + name + ")";
    std::string value;
    if (h.contains("valueFrom")) {
      const json ref = h["valueFrom"].is_object()
                           ? h["valueFrom"].value("secretKeyRef", json::object())
                           : json::object();
      if (context.client == nullptr) {
        return ActionOutcome::permanent(where + ": no API client to read the Secret");
      }
      SecretValue secret = readSecretKey(*context.client, context.defaultNamespace, ref,
                                         where + ".valueFrom.secretKeyRef");
      if (!secret.ok()) {
        return secret.retriable ? ActionOutcome::retriable(secret.error)
                                : ActionOutcome::permanent(secret.error);
      }
      value = secret.value;
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      addSecret(secret.value, &secrets);
      addSecret(value, &secrets);
      request.carriesSecrets = true;
      request.secretHeaders.push_back(name);
    } else {
      value = h.value("value", "");
    }
    if (!validHeaderValue(value)) {
      return ActionOutcome::permanent(where + ": the value contains a line break or NUL");
    }
    request.headers.emplace_back(name, value);
  }
  request.body = params.value("body", "");
  std::vector<int> expected;
  for (const auto& code : params.value("expectedStatus", json::array())) {
    if (!code.is_number_integer()) {
      return ActionOutcome::permanent("http.expectedStatus: " + code.dump() +
                                      " is not a status code");
    }
    expected.push_back(code.get<int>());
  }

  const std::string what = method + " " + target.description;
  auto report = [&](const std::string& text) { return redactSecrets(text, secrets); };
  if (context.dryRun) {
    Outputs outputs = {{"status", ""}};
    if (keepBody) outputs["body"] = "";
    return ActionOutcome::succeeded(report("dry run: would send " + what), outputs);
  }
  auto timeout = requestTimeout(context, options_.maxRequestTimeout);
  if (!timeout) {
    return ActionOutcome::retriable(
        report(what + ": the attempt's deadline passed before sending"));
  }
  request.timeout = *timeout;

  WebResponse response = options_.client->send(request);
  if (!response.ok()) {
    std::string message = report(what + ": " + response.error);
    return response.invalid || response.refused ? ActionOutcome::permanent(message)
                                                : ActionOutcome::retriable(message);
  }
  // The body reaches status only when the step asks for it.
  std::string body = keepBody ? report(response.body) : std::string();
  Outputs outputs = {{"status", std::to_string(response.status)}};
  if (keepBody) outputs["body"] = utf8Excerpt(body, kBodyOutputBytes);
  bool success = expected.empty() ? response.status >= 200 && response.status <= 299
                                  : std::find(expected.begin(), expected.end(), response.status) !=
                                        expected.end();
  if (success) {
    ActionOutcome outcome =
        ActionOutcome::succeeded(report(what + " returned " + std::to_string(response.status)));
    outcome.outputs = std::move(outputs);
    return outcome;
  }
  std::string message =
      what + " returned " + std::to_string(response.status) + ", expected " + statusList(expected);
  std::string excerpt = utf8Excerpt(body, kBodyInMessageBytes);
  if (!excerpt.empty()) {
    message += ": " + excerpt + (body.size() > excerpt.size() ? "..." : "");
  }
  message = report(message);
  bool retriable = response.status >= 500 || response.status == 429;
  ActionOutcome outcome =
      retriable ? ActionOutcome::retriable(message) : ActionOutcome::permanent(message);
  outcome.outputs = std::move(outputs);
  return outcome;
}

}  // namespace remedy::actions
