#include "actions/prometheus_action.h"

#include "actions/http_action.h"
#include "api/duration.h"
#include "formats/json_depth.h"
#include "kube/time_format.h"

#include <cctype>
#include <cstdlib>
#include <vector>

namespace remedy::actions {
namespace {

constexpr size_t kSamplesOutputBytes = 2048;

// RFC 3986 unreserved characters stay; everything else is %XX.
std::string percentEncode(const std::string& in) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

const char* operatorSymbol(const std::string& op) {
  if (op == "LessThan") return "<";
  if (op == "LessThanOrEqual") return "<=";
  if (op == "GreaterThan") return ">";
  if (op == "GreaterThanOrEqual") return ">=";
  if (op == "Equal") return "==";
  if (op == "NotEqual") return "!=";
  return nullptr;
}

// NaN compares false with everything but NotEqual, as in PromQL.
bool compare(double value, const std::string& op, double threshold) {
  if (op == "LessThan") return value < threshold;
  if (op == "LessThanOrEqual") return value <= threshold;
  if (op == "GreaterThan") return value > threshold;
  if (op == "GreaterThanOrEqual") return value >= threshold;
  if (op == "Equal") return value == threshold;
  return value != threshold;
}

struct Sample {
  std::string labels;  // `name{k="v"}`, "" for a scalar
  std::string text;    // the value as Prometheus wrote it ("3", "NaN", "+Inf")
  double value = 0;
};

std::string labelsText(const json& metric) {
  if (!metric.is_object()) return "{}";
  std::string name;
  std::string inner;
  for (const auto& [key, value] : metric.items()) {
    std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    if (key == "__name__") {
      name = v;
      continue;
    }
    inner += (inner.empty() ? "" : ",") + key + "=\"" + v + "\"";
  }
  if (!name.empty() && inner.empty()) return name;
  return name + "{" + inner + "}";
}

bool parseSample(const json& pair, Sample* sample) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) return false;
  sample->text = pair[1].get<std::string>();
  char* end = nullptr;
  sample->value = std::strtod(sample->text.c_str(), &end);
  return !sample->text.empty() && end != nullptr && *end == '\0';
}

std::string samplesText(const std::vector<Sample>& samples) {
  std::string out;
  for (size_t i = 0; i < samples.size(); ++i) {
    std::string item = (samples[i].labels.empty() ? "" : samples[i].labels + " ") + samples[i].text;
    std::string more = " ... (" + std::to_string(samples.size() - i) + " more)";
    if (out.size() + 2 + item.size() + 24 > kSamplesOutputBytes) {
      out += more;
      break;
    }
    out += (out.empty() ? "" : "; ") + item;
  }
  return utf8Excerpt(out, kSamplesOutputBytes);
}

std::optional<api::Duration> durationParam(const json& params, const char* key,
                                           api::Duration fallback, std::string* error) {
  if (!params.contains(key)) return fallback;
  if (!params[key].is_string()) {
    *error = std::string("prometheusCheck.") + key + ": " + params[key].dump() +
             " is not a duration such as \"15s\"";
    return std::nullopt;
  }
  auto parsed = api::parseDuration(params[key].get<std::string>());
  if (!parsed.ok()) {
    *error = std::string("prometheusCheck.") + key + ": " + parsed.error();
    return std::nullopt;
  }
  return parsed.value();
}

}  // namespace

PrometheusCheckAction::PrometheusCheckAction(PrometheusCheckOptions options)
    : options_(std::move(options)) {
  if (!options_.client) options_.client = makeWebClient();
}

std::unique_ptr<Action> makePrometheusCheckAction(PrometheusCheckOptions options) {
  return std::make_unique<PrometheusCheckAction>(std::move(options));
}

ActionOutcome PrometheusCheckAction::run(const json& params, const ActionContext& context) {
  std::string url = params.value("url", "");
  if (url.empty()) url = options_.defaultUrl;
  if (url.empty()) {
    return ActionOutcome::permanent(
        "prometheusCheck.url: not given, and the operator has no --prometheus-url");
  }
  WebTarget target;
  if (auto failed = resolveWebTarget(json{{"url", url}}, "prometheusCheck", context, &target)) {
    return *failed;
  }
  auto report = [&](const std::string& text) { return redactSecrets(text, target.secrets); };
  std::string query = params.value("query", "");
  if (query.empty()) return ActionOutcome::permanent("prometheusCheck.query: required");
  std::string op = params.value("operator", "");
  const char* symbol = operatorSymbol(op);
  if (symbol == nullptr) {
    return ActionOutcome::permanent("prometheusCheck.operator: \"" + op +
                                    "\" is not one of LessThan, LessThanOrEqual, GreaterThan, "
                                    "GreaterThanOrEqual, Equal, NotEqual");
  }
  if (!params.contains("threshold") || !params["threshold"].is_number()) {
    return ActionOutcome::permanent("prometheusCheck.threshold: a number is required");
  }
  double threshold = params["threshold"].get<double>();
  std::string thresholdText = params["threshold"].dump();
  std::string emptyResult = params.value("emptyResult", std::string("Fail"));
  if (emptyResult != "Pass" && emptyResult != "Fail") {
    return ActionOutcome::permanent("prometheusCheck.emptyResult: \"" + emptyResult +
                                    "\" is not one of Pass, Fail");
  }
  std::string error;
  auto poll = durationParam(params, "pollInterval", std::chrono::seconds(15), &error);
  if (!poll) return ActionOutcome::permanent(error);
  auto holdFor = durationParam(params, "holdFor", api::Duration(0), &error);
  if (!holdFor) return ActionOutcome::permanent(error);
  if (*poll < std::chrono::milliseconds(1)) *poll = std::chrono::milliseconds(1);

  auto timeout = requestTimeout(context, options_.maxQueryTimeout);
  if (!timeout) {
    return ActionOutcome::retriable(
        report("querying Prometheus at " + target.description +
               ": the attempt's deadline passed before the query was sent"));
  }
  std::string base = target.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  WebRequest request;
  request.url = base + "/api/v1/query?query=" + percentEncode(query) +
                "&timeout=" + std::to_string(timeout->count()) + "ms";
  request.headers = {{"Accept", "application/json"}};
  request.timeout = *timeout;
  request.maxResponseBytes = options_.maxResponseBytes;
  request.tls = options_.tls;
  request.egress = options_.egress;
  request.maxRedirects = options_.maxRedirects;
  request.carriesSecrets = target.carriesSecrets;
  WebResponse response = options_.client->send(request);
  const std::string where = "querying Prometheus at " + target.description;
  if (!response.ok()) {
    std::string message = report(where + ": " + response.error);
    return response.invalid || response.refused ? ActionOutcome::permanent(message)
                                                : ActionOutcome::retriable(message);
  }
  bool serverTrouble = response.status >= 500 || response.status == 429;
  if (response.truncated) {
    return ActionOutcome::permanent(
        report(where + ": the answer is larger than " + std::to_string(options_.maxResponseBytes) +
               " bytes; aggregate the query (sum, max, topk) so it returns fewer series"));
  }
  json answer = formats::jsonDepthProblem(response.body).empty()
                    ? json::parse(response.body, nullptr, false)
                    : json(json::value_t::discarded);
  if (answer.is_discarded() || !answer.is_object()) {
    // What else answered stays off the status.
    std::string message = report(where + ": status " + std::to_string(response.status) +
                                 ", not a Prometheus API answer");
    return serverTrouble ? ActionOutcome::retriable(message) : ActionOutcome::permanent(message);
  }
  if (answer.value("status", "") != "success") {
    // https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview:
    // bad_data (400) and execution (422) describe the query; timeout,
    // canceled, unavailable and internal are the server's trouble.
    std::string errorType = answer.value("errorType", "");
    std::string message = report(where + ": Prometheus refused the query (" +
                                 (errorType.empty() ? std::to_string(response.status) : errorType) +
                                 "): " + utf8Excerpt(answer.value("error", ""), 1024));
    bool retriable = serverTrouble || errorType == "timeout" || errorType == "canceled" ||
                     errorType == "unavailable" || errorType == "internal";
    return retriable ? ActionOutcome::retriable(message) : ActionOutcome::permanent(message);
  }
  const json data = answer.value("data", json::object());
  std::string resultType = data.is_object() ? data.value("resultType", "") : "";
  const json result = data.is_object() ? data.value("result", json()) : json();
  std::vector<Sample> samples;
  bool malformed = false;
  if (resultType == "vector" && result.is_array()) {
    for (const auto& item : result) {
      Sample s;
      if (!item.is_object() || !parseSample(item.value("value", json()), &s)) {
        malformed = true;
        break;
      }
      s.labels = labelsText(item.value("metric", json::object()));
      samples.push_back(std::move(s));
    }
  } else if (resultType == "scalar") {
    Sample s;
    malformed = !parseSample(result, &s);
    samples.push_back(std::move(s));
  } else if (resultType == "matrix" || resultType == "string") {
    return ActionOutcome::permanent(
        "prometheusCheck.query: returns a " +
        std::string(resultType == "matrix" ? "range vector" : "string") +
        "; it must return an instant vector or a scalar (drop the [range] or wrap it in a "
        "function such as rate() or max_over_time())");
  } else {
    malformed = true;
  }
  if (malformed) {
    return ActionOutcome::permanent(
        report(where + ": an answer not in the Prometheus API's shape"));
  }

  // Every sample must pass; the first that does not decides.
  bool holds = true;
  std::string value;
  std::string why;
  if (samples.empty()) {
    holds = emptyResult == "Pass";
    why = std::string("the query returned no samples (emptyResult: ") + emptyResult + ")";
  } else {
    for (const auto& s : samples) {
      value = s.text;
      if (!compare(s.value, op, threshold)) {
        holds = false;
        why = (s.labels.empty() ? "" : s.labels + " ") + s.text + " is not " + symbol + " " +
              thresholdText;
        break;
      }
    }
    if (holds) {
      why = samples.size() == 1 ? samples[0].text + " " + symbol + " " + thresholdText
                                : "all " + std::to_string(samples.size()) + " samples are " +
                                      symbol + " " + thresholdText;
    }
  }
  Outputs outputs = {{"value", value}, {"samples", report(samplesText(samples))}};
  const std::string pollText = api::formatDuration(*poll);
  if (!holds) {
    if (holdFor->count() > 0) {
      outputs["holdingSince"] = "";
      outputs["holdingAttempt"] = "";
    }
    ActionOutcome outcome =
        ActionOutcome::inProgress(report(why + "; querying again in " + pollText), *poll);
    outcome.outputs = std::move(outputs);
    return outcome;
  }
  if (holdFor->count() <= 0) return ActionOutcome::succeeded(report(why), outputs);

  kube::WallTime now =
      context.now == kube::WallTime{} ? std::chrono::system_clock::now() : context.now;
  kube::WallTime since = now;
  auto recorded = context.baseline.find("holdingSince");
  auto attempt = context.baseline.find("holdingAttempt");
  if (recorded != context.baseline.end() && attempt != context.baseline.end() &&
      attempt->second == context.idempotencyKey) {
    auto parsed = kube::parseRfc3339(recorded->second);
    if (parsed && *parsed <= now) since = *parsed;
  }
  auto held = std::chrono::duration_cast<api::Duration>(now - since);
  if (held >= *holdFor) {
    return ActionOutcome::succeeded(report(why + ", held for " + api::formatDuration(held) +
                                           " (holdFor " + api::formatDuration(*holdFor) + ")"),
                                    outputs);
  }
  outputs["holdingSince"] = kube::formatRfc3339Micro(since);
  outputs["holdingAttempt"] = context.idempotencyKey;
  ActionOutcome outcome = ActionOutcome::inProgress(
      report(why + ", holding since " + outputs["holdingSince"] + " (" + api::formatDuration(held) +
             " of " + api::formatDuration(*holdFor) + ")"),
      std::min<kube::Duration>(*poll, *holdFor - held));
  outcome.outputs = std::move(outputs);
  return outcome;
}

}  // namespace remedy::actions
