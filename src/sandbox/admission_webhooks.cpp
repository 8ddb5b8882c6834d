#include "sandbox/admission_webhooks.h"

#include "formats/base64.h"
#include "formats/go_format.h"
#include "formats/go_regexp.h"
#include "http/client.h"
#include "sandbox/object_meta.h"
#include "sandbox/patch.h"
#include "sandbox/selectors.h"

#include <algorithm>
#include <set>

namespace remedy::sandbox {

using formats::goQuote;

namespace {

constexpr const char* kGroup = "admissionregistration.k8s.io";

std::string text(const json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// encoding/json reads a []byte (caBundle, patch) as standard base64.
std::optional<std::string> decodeBase64(const std::string& in) {
  auto decoded = formats::decodeBase64(in);
  if (!decoded.ok()) return std::nullopt;
  return decoded.value();
}

bool exactOrWildcard(const json& items, const std::string& requested) {
  if (!items.is_array()) return false;
  return std::any_of(items.begin(), items.end(), [&](const json& item) {
    return item.is_string() && (item == "*" || item == requested);
  });
}

// rules.Matcher (predicates/rules/rules.go).
bool ruleMatches(const json& rule, const AdmissionAttributes& a) {
  std::string scope = rule.value("scope", "*");
  bool isNamespace = a.type->group.empty() && a.type->resource == "namespaces";
  if (scope == "Namespaced" && (isNamespace || a.ns.empty())) return false;
  if (scope == "Cluster" && !(isNamespace || a.ns.empty())) return false;
  if (scope != "*" && scope != "Namespaced" && scope != "Cluster") return false;
  if (!exactOrWildcard(rule.value("operations", json::array()), a.operation) &&
      !exactOrWildcard(rule.value("operations", json::array()), "*")) {
    return false;
  }
  if (!exactOrWildcard(rule.value("apiGroups", json::array()), a.type->group)) return false;
  if (!exactOrWildcard(rule.value("apiVersions", json::array()), a.type->version)) return false;
  for (const auto& r : rule.value("resources", json::array())) {
    if (!r.is_string()) continue;
    std::string res = r.get<std::string>(), sub;
    if (auto slash = res.find('/'); slash != std::string::npos) {
      sub = res.substr(slash + 1);
      res = res.substr(0, slash);
    }
    bool resMatch = res == "*" || res == a.type->resource;
    bool subMatch = sub == "*" || sub == a.subresource;
    if (resMatch && subMatch) return true;
  }
  return false;
}

bool exempt(const AdmissionAttributes& a) {
  return a.type->group == kGroup && (a.type->kind == "ValidatingWebhookConfiguration" ||
                                     a.type->kind == "MutatingWebhookConfiguration" ||
                                     a.type->kind == "ValidatingAdmissionPolicy" ||
                                     a.type->kind == "ValidatingAdmissionPolicyBinding" ||
                                     a.type->kind == "MutatingAdmissionPolicy" ||
                                     a.type->kind == "MutatingAdmissionPolicyBinding");
}

// The failure to call a webhook (webhookutil.ErrCallingWebhook).
struct CallError {
  std::string message;  // its Error(): `failed calling webhook "NAME": ...`
};

// What the webhook answered, once VerifyAdmissionResponse accepts it.
struct Answer {
  bool allowed = false;
  json status;
  json patch;  // decoded JSONPatch, or null
  std::vector<std::string> warnings;
};

// apierrors for an HTTP answer that is not 2xx (rest client
// transformResponse / NewGenericServerResponse), as the dispatcher reports
// it after "failed to call webhook: ".
std::string httpFailure(int code, const std::string& body) {
  json status = json::parse(body, nullptr, false);
  if (status.is_object() && status.value("kind", "") == "Status" && status.contains("message")) {
    return status.value("message", "");
  }
  switch (code) {
    case 400:
      return "the server rejected our request for an unknown reason";
    case 401:
      return "Unauthorized";
    case 403:
      return "the server does not allow access to the requested resource";
    case 404:
      return "the server could not find the requested resource";
    case 405:
      return "the server does not allow this method on the requested resource";
    case 429:
      return "the server has received too many requests and has asked us to try again later";
    case 503:
      return "the server is currently unable to handle the request";
    case 504:
      return "the server was unable to return a response in the time allotted, but may still be "
             "processing the request";
    default:
      return "an error on the server (" + goQuote(body.substr(0, 1024)) +
             ") has prevented the request from succeeding";
  }
}

std::variant<Answer, CallError, ApiError> call(const json& hook, bool mutating,
                                               const AdmissionAttributes& a, const json* object,
                                               const json* old) {
  std::string name = text(hook, "name");
  std::string prefix = "failed calling webhook " + goQuote(name) + ": ";
  if (a.dryRun) {
    std::string sideEffects = text(hook, "sideEffects");
    if (sideEffects != "None" && sideEffects != "NoneOnDryRun") {
      return ApiError::badRequest("admission webhook " + goQuote(name) +
                                  " does not support dry run");
    }
  }
  std::string uid = newUid();
  json kind = {{"group", a.type->group}, {"version", a.type->version}, {"kind", a.type->kind}};
  json resource = {
      {"group", a.type->group}, {"version", a.type->version}, {"resource", a.type->resource}};
  json request = {{"uid", uid},
                  {"kind", kind},
                  {"resource", resource},
                  {"requestKind", kind},
                  {"requestResource", resource},
                  {"operation", a.operation},
                  {"userInfo", {{"username", a.user.name}, {"groups", a.user.groups}}},
                  {"object", object ? *object : json()},
                  {"oldObject", old ? *old : json()},
                  {"dryRun", a.dryRun},
                  {"options", a.options}};
  if (!a.subresource.empty()) {
    request["subResource"] = a.subresource;
    request["requestSubResource"] = a.subresource;
  }
  if (!a.name.empty()) request["name"] = a.name;
  if (!a.ns.empty()) request["namespace"] = a.ns;
  json review = {
      {"kind", "AdmissionReview"}, {"apiVersion", "admission.k8s.io/v1"}, {"request", request}};

  const json cc = hook.value("clientConfig", json::object());
  int timeoutSeconds = hook.value("timeoutSeconds", 10);
  http::ClientRequest post;
  if (cc.contains("url")) {
    post.url = text(cc, "url");
  } else {
    json service = cc.value("service", json::object());
    std::string path = text(service, "path");
    post.url = "https://" + text(service, "name") + "." + text(service, "namespace") +
               ".svc:" + std::to_string(service.value("port", 443)) + (path.empty() ? "/" : path);
  }
  post.url += (post.url.find('?') == std::string::npos ? "?" : "&") + std::string("timeout=") +
              std::to_string(timeoutSeconds) + "s";
  if (auto bundle = text(cc, "caBundle"); !bundle.empty()) {
    auto pem = decodeBase64(bundle);
    if (!pem)
      return CallError{prefix + "could not get REST client: illegal base64 data in caBundle"};
    post.caPem = *pem;
  }
  post.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json, */*"}};
  post.body = review.dump();
  post.timeout = std::chrono::seconds(timeoutSeconds);
  http::ClientResult sent = http::sendRequest(post);
  if (!sent.response) {
    return CallError{prefix + "failed to call webhook: Post " + goQuote(post.url) + ": " +
                     sent.error};
  }
  if (sent.response->status < 200 || sent.response->status > 299) {
    return CallError{prefix + "failed to call webhook: " +
                     httpFailure(sent.response->status, sent.response->body)};
  }
  auto invalid = [&](const std::string& why) {
    return CallError{prefix + "received invalid webhook response: " + why};
  };
  json answer = json::parse(sent.response->body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    return CallError{prefix + "failed to call webhook: the webhook's answer is not JSON"};
  }
  json response = answer.value("response", json());
  if (!response.is_object()) return invalid("webhook response was absent");
  if (text(response, "uid") != uid) {
    return invalid("expected response.uid=" + goQuote(uid) + ", got " +
                   goQuote(text(response, "uid")));
  }
  if (text(answer, "apiVersion") != "admission.k8s.io/v1" ||
      text(answer, "kind") != "AdmissionReview") {
    std::string got = text(answer, "apiVersion");
    std::string gv = got.find('/') == std::string::npos ? "/" + got : got;
    return invalid("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got " +
                   gv + ", Kind=" + text(answer, "kind"));
  }
  Answer out;
  out.allowed = response.value("allowed", false);
  out.status = response.value("status", json());
  for (const auto& w : response.value("warnings", json::array())) {
    if (w.is_string()) out.warnings.push_back(w.get<std::string>());
  }
  std::string patch = text(response, "patch");
  bool hasPatchType = response.contains("patchType") && !response["patchType"].is_null();
  if (mutating) {
    if (!patch.empty() && !hasPatchType) {
      return invalid("webhook returned response.patch but not response.patchType");
    }
    if (patch.empty() && hasPatchType) {
      return invalid("webhook returned response.patchType but not response.patch");
    }
  } else {
    if (!patch.empty()) return invalid("validating webhook may not return response.patch");
    if (hasPatchType) return invalid("validating webhook may not return response.patchType");
  }
  if (out.allowed && !patch.empty()) {
    std::string patchType = text(response, "patchType");
    if (patchType.empty()) {
      return invalid("webhook returned invalid response.patchType of \"\"");
    }
    auto decoded = decodeBase64(patch);
    json ops = decoded ? json::parse(*decoded, nullptr, false) : json();
    if (!decoded || ops.is_discarded() || !ops.is_array()) {
      return CallError{prefix +
                       "received undecodable patch in webhook response: invalid JSON patch"};
    }
    if (patchType != "JSONPatch") {
      return CallError{prefix + "unsupported patch type " + goQuote(patchType)};
    }
    out.patch = std::move(ops);
  }
  return out;
}

// webhookerrors.ToStatusErr (v1.33): the webhook's Status, at least 400 and
// a Failure, its message prefixed with who denied it.
ApiError denial(const std::string& hookName, const json& result) {
  json status = result.is_object() ? result : json::object();
  ApiError e;
  e.code = status.value("code", 0);
  if (e.code < 400) e.code = 400;
  e.reason = text(status, "reason");
  std::string deniedBy = "admission webhook " + goQuote(hookName) + " denied the request";
  std::string message = text(status, "message");
  if (!message.empty()) {
    e.message = deniedBy + ": " + message;
  } else if (!e.reason.empty()) {
    e.message = deniedBy + ": " + e.reason;
  } else {
    e.message = deniedBy + " without explanation";
  }
  if (status.contains("details") && status["details"].is_object()) e.details = status["details"];
  return e;
}

Result<LabelSelector> selectorOf(const json& hook, const char* key) {
  json selector = hook.value(key, json::object());
  if (selector.is_null()) selector = json::object();
  return LabelSelector::fromLabelSelectorJson(selector);
}

json labelsOf(const json* object) {
  if (!object || !object->is_object()) return json::object();
  return (*object)["metadata"].value("labels", json::object());
}

}  // namespace

std::vector<json> AdmissionWebhooks::hooks(const char* resource) const {
  auto list = store_.list(std::string(kGroup) + "/" + resource, "");
  std::vector<ObjectPtr> configurations(list.items.begin(), list.items.end());
  // The configurations in name order, their webhooks in order
  // (generic/webhook.go sorts by configuration name).
  std::sort(configurations.begin(), configurations.end(),
            [](const ObjectPtr& a, const ObjectPtr& b) {
              return (*a)["metadata"].value("name", "") < (*b)["metadata"].value("name", "");
            });
  std::vector<json> out;
  for (const auto& c : configurations) {
    for (const auto& h : c->value("webhooks", json::array())) out.push_back(h);
  }
  return out;
}

Result<bool> AdmissionWebhooks::matches(const json& hook, const AdmissionAttributes& a,
                                        const json* object, const json* old) const {
  // Selector errors count only for a webhook whose rules match.
  std::optional<ApiError> selectorError;
  bool selected = true;
  bool isNamespace = a.type->group.empty() && a.type->resource == "namespaces";
  if (!a.ns.empty() || isNamespace) {
    auto selector = selectorOf(hook, "namespaceSelector");
    if (!selector.ok()) {
      selectorError = ApiError::internal(selector.error().message);
    } else if (!selector->matchesEverything()) {
      json labels;
      if (isNamespace && a.subresource.empty()) {
        labels = labelsOf(object);
      } else if (ObjectPtr ns = store_.get("/namespaces", "", a.ns)) {
        labels = (*ns)["metadata"].value("labels", json::object());
      } else {
        selectorError = ApiError::notFound("", "namespaces", a.ns);
      }
      if (!selectorError) selected = selector->matches(labels);
    }
  }
  if (selected && !selectorError) {
    auto selector = selectorOf(hook, "objectSelector");
    if (!selector.ok()) {
      selectorError = ApiError::internal(selector.error().message);
    } else if (!selector->matchesEverything()) {
      selected = selector->matches(labelsOf(object)) || (old && selector->matches(labelsOf(old)));
    }
  }
  if (!selected && !selectorError) return false;
  bool ruled = false;
  for (const auto& rule : hook.value("rules", json::array())) {
    if (ruleMatches(rule, a)) {
      ruled = true;
      break;
    }
  }
  if (!ruled) return false;
  if (selectorError) return *selectorError;
  return true;
}

bool AdmissionWebhooks::applies(const AdmissionAttributes& a) const {
  if (exempt(a) || (a.operation != "CREATE" && a.operation != "UPDATE")) return false;
  for (const char* resource :
       {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}) {
    for (const auto& hook : hooks(resource)) {
      for (const auto& rule : hook.value("rules", json::array())) {
        if (ruleMatches(rule, a)) return true;
      }
    }
  }
  return false;
}

std::optional<ApiError> AdmissionWebhooks::mutate(const AdmissionAttributes& a, json& object,
                                                  const json* old) const {
  if (exempt(a)) return std::nullopt;
  for (const auto& hook : hooks("mutatingwebhookconfigurations")) {
    auto matched = matches(hook, a, &object, old);
    if (!matched.ok()) return matched.error();
    if (!*matched) continue;
    auto outcome = call(hook, true, a, &object, old);
    if (auto* e = std::get_if<ApiError>(&outcome)) return *e;
    if (auto* failed = std::get_if<CallError>(&outcome)) {
      if (hook.value("failurePolicy", "Fail") == "Ignore") continue;
      return ApiError::internal(failed->message);
    }
    Answer& answer = std::get<Answer>(outcome);
    if (a.warnings)
      a.warnings->insert(a.warnings->end(), answer.warnings.begin(), answer.warnings.end());
    if (!answer.allowed) return denial(text(hook, "name"), answer.status);
    if (answer.patch.is_array() && !answer.patch.empty()) {
      auto patched = applyJsonPatch(object, answer.patch);
      if (!patched.ok()) return ApiError::internal(patched.error().message);
      object = std::move(patched.value());
    }
  }
  return std::nullopt;
}

std::optional<ApiError> AdmissionWebhooks::validate(const AdmissionAttributes& a,
                                                    const json& object, const json* old) const {
  if (exempt(a)) return std::nullopt;
  // kube-apiserver calls them in parallel and reports the first error; in
  // order here, which gives the same answer for one failing webhook.
  for (const auto& hook : hooks("validatingwebhookconfigurations")) {
    auto matched = matches(hook, a, &object, old);
    if (!matched.ok()) return matched.error();
    if (!*matched) continue;
    auto outcome = call(hook, false, a, &object, old);
    if (auto* e = std::get_if<ApiError>(&outcome)) return *e;
    if (auto* failed = std::get_if<CallError>(&outcome)) {
      if (hook.value("failurePolicy", "Fail") == "Ignore") continue;
      return ApiError::internal(failed->message);
    }
    Answer& answer = std::get<Answer>(outcome);
    if (a.warnings)
      a.warnings->insert(a.warnings->end(), answer.warnings.begin(), answer.warnings.end());
    if (!answer.allowed) return denial(text(hook, "name"), answer.status);
  }
  return std::nullopt;
}

// ---- the configurations themselves ----

void defaultWebhookConfiguration(json& configuration, bool mutating) {
  if (!configuration.contains("webhooks") || !configuration["webhooks"].is_array()) return;
  for (auto& hook : configuration["webhooks"]) {
    if (!hook.is_object()) continue;
    if (!hook.contains("failurePolicy")) hook["failurePolicy"] = "Fail";
    if (!hook.contains("matchPolicy")) hook["matchPolicy"] = "Equivalent";
    if (!hook.contains("namespaceSelector")) hook["namespaceSelector"] = json::object();
    if (!hook.contains("objectSelector")) hook["objectSelector"] = json::object();
    if (!hook.contains("timeoutSeconds")) hook["timeoutSeconds"] = 10;
    if (mutating && !hook.contains("reinvocationPolicy")) hook["reinvocationPolicy"] = "Never";
    if (hook.contains("rules") && hook["rules"].is_array()) {
      for (auto& rule : hook["rules"]) {
        if (rule.is_object() && !rule.contains("scope")) rule["scope"] = "*";
      }
    }
    if (hook.contains("clientConfig") && hook["clientConfig"].is_object() &&
        hook["clientConfig"].contains("service") && hook["clientConfig"]["service"].is_object() &&
        !hook["clientConfig"]["service"].contains("port")) {
      hook["clientConfig"]["service"]["port"] = 443;
    }
  }
}

namespace {

std::string supportedList(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + goQuote(v);
  return out;
}

void notSupported(std::vector<StatusCause>& causes, const std::string& field,
                  const std::string& value, const std::vector<std::string>& supported) {
  causes.push_back(
      {"FieldValueNotSupported",
       "Unsupported value: " + goQuote(value) + ": supported values: " + supportedList(supported),
       field});
}

bool isDns1123Subdomain(const std::string& s) {
  static const auto re = formats::GoRegexp::compile(
      "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return !s.empty() && s.size() <= 253 && re.ok() && re->matchesAll(s);
}

// A []string as Go's %#v prints it in field errors: []string{"a", "b"}.
std::string goStringSlice(const json& values) {
  std::string out;
  for (const auto& v : values) {
    out += (out.empty() ? "" : ", ") + goQuote(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return "[]string{" + out + "}";
}

}  // namespace

std::vector<StatusCause> validateWebhookConfiguration(const json& configuration, bool mutating) {
  std::vector<StatusCause> causes;
  std::set<std::string> names;
  json hooks = configuration.value("webhooks", json::array());
  if (!hooks.is_array()) return causes;
  for (size_t i = 0; i < hooks.size(); ++i) {
    const json& hook = hooks[i];
    std::string at = "webhooks[" + std::to_string(i) + "]";
    std::string name = text(hook, "name");
    if (name.empty()) {
      causes.push_back({"FieldValueRequired", "Required value", at + ".name"});
    } else if (!isDns1123Subdomain(name)) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + goQuote(name) +
                            ": a lowercase RFC 1123 subdomain must consist of lower case "
                            "alphanumeric characters, '-' or '.', and must start and end with an "
                            "alphanumeric character (e.g. 'example.com', regex used for "
                            "validation is "
                            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                        at + ".name"});
    } else if (std::count(name.begin(), name.end(), '.') < 2) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + goQuote(name) +
                            ": should be a domain with at least three segments separated by dots",
                        at + ".name"});
    } else if (!names.insert(name).second) {
      causes.push_back({"FieldValueDuplicate", "Duplicate value: " + goQuote(name), at + ".name"});
    }
    json rules = hook.value("rules", json::array());
    for (size_t r = 0; rules.is_array() && r < rules.size(); ++r) {
      std::string rat = at + ".rules[" + std::to_string(r) + "]";
      const json& rule = rules[r];
      json ops = rule.value("operations", json::array());
      if (!ops.is_array() || ops.empty()) {
        causes.push_back({"FieldValueRequired", "Required value", rat + ".operations"});
      }
      for (size_t o = 0; ops.is_array() && o < ops.size(); ++o) {
        std::string op = ops[o].is_string() ? ops[o].get<std::string>() : "";
        if (op != "*" && op != "CREATE" && op != "UPDATE" && op != "DELETE" && op != "CONNECT") {
          notSupported(causes, rat + ".operations[" + std::to_string(o) + "]", op,
                       {"*", "CONNECT", "CREATE", "DELETE", "UPDATE"});
        }
      }
      for (const char* list : {"apiGroups", "apiVersions", "resources"}) {
        json values = rule.value(list, json::array());
        if (!values.is_array() || values.empty()) {
          causes.push_back({"FieldValueRequired", "Required value", rat + "." + list});
        }
      }
      if (rule.contains("scope")) {
        std::string scope = text(rule, "scope");
        if (scope != "*" && scope != "Cluster" && scope != "Namespaced") {
          notSupported(causes, rat + ".scope", scope, {"*", "Cluster", "Namespaced"});
        }
      }
    }
    if (hook.contains("failurePolicy")) {
      std::string p = text(hook, "failurePolicy");
      if (p != "Fail" && p != "Ignore")
        notSupported(causes, at + ".failurePolicy", p, {"Fail", "Ignore"});
    }
    if (hook.contains("matchPolicy")) {
      std::string p = text(hook, "matchPolicy");
      if (p != "Exact" && p != "Equivalent") {
        notSupported(causes, at + ".matchPolicy", p, {"Equivalent", "Exact"});
      }
    }
    if (!hook.contains("sideEffects")) {
      causes.push_back({"FieldValueRequired",
                        "Required value: must specify one of None, NoneOnDryRun",
                        at + ".sideEffects"});
    } else {
      std::string se = text(hook, "sideEffects");
      if (se != "None" && se != "NoneOnDryRun") {
        notSupported(causes, at + ".sideEffects", se, {"None", "NoneOnDryRun"});
      }
    }
    if (hook.contains("timeoutSeconds")) {
      int64_t t =
          hook["timeoutSeconds"].is_number_integer() ? hook["timeoutSeconds"].get<int64_t>() : 0;
      if (t < 1 || t > 30) {
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: " + std::to_string(t) +
                              ": the timeout value must be between 1 and 30 seconds",
                          at + ".timeoutSeconds"});
      }
    }
    if (mutating && hook.contains("reinvocationPolicy")) {
      std::string p = text(hook, "reinvocationPolicy");
      if (p != "Never" && p != "IfNeeded") {
        notSupported(causes, at + ".reinvocationPolicy", p, {"IfNeeded", "Never"});
      }
    }
    json cc = hook.value("clientConfig", json::object());
    bool hasUrl = cc.is_object() && cc.contains("url");
    bool hasService = cc.is_object() && cc.contains("service");
    if (hasUrl == hasService) {
      causes.push_back({"FieldValueRequired",
                        "Required value: exactly one of url or service is required",
                        at + ".clientConfig"});
    } else if (hasUrl) {
      std::string url = text(cc, "url");
      const std::string form = "; desired format: https://host[/path]";
      std::string scheme =
          url.substr(0, url.find("://") == std::string::npos ? 0 : url.find("://"));
      std::string rest =
          url.find("://") == std::string::npos ? url : url.substr(url.find("://") + 3);
      std::string host = rest.substr(0, rest.find_first_of("/?#"));
      if (scheme != "https") {
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: " + goQuote(scheme) +
                              ": 'https' is the only allowed URL scheme" + form,
                          at + ".clientConfig.url"});
      }
      if (host.empty()) {
        causes.push_back({"FieldValueInvalid", "Invalid value: \"\": host must be specified" + form,
                          at + ".clientConfig.url"});
      }
      if (auto q = url.find('?'); q != std::string::npos) {
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: " + goQuote(url.substr(q + 1)) +
                              ": query parameters are not permitted in the URL",
                          at + ".clientConfig.url"});
      }
    } else {
      // validation.go passes (Name, Namespace) to ValidateWebhookService's
      // (namespace, name) parameters, so v1.33 reports a missing namespace
      // as "service name is required" and a missing name the other way.
      json service = cc["service"];
      if (text(service, "namespace").empty()) {
        causes.push_back({"FieldValueRequired", "Required value: service name is required",
                          at + ".clientConfig.service.name"});
      }
      if (text(service, "name").empty()) {
        causes.push_back({"FieldValueRequired", "Required value: service namespace is required",
                          at + ".clientConfig.service.namespace"});
      }
    }
    json versions = hook.value("admissionReviewVersions", json::array());
    if (!versions.is_array() || versions.empty()) {
      causes.push_back({"FieldValueRequired", "Required value: must specify one of v1, v1beta1",
                        at + ".admissionReviewVersions"});
    } else if (std::none_of(versions.begin(), versions.end(),
                            [](const json& v) { return v == "v1" || v == "v1beta1"; })) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + goStringSlice(versions) +
                            ": must include at least one of v1, v1beta1",
                        at + ".admissionReviewVersions"});
    }
  }
  return causes;
}

}  // namespace remedy::sandbox
