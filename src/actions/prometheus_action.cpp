#include "actions/prometheus_action.h"

#include "actions/http_action.h"
#include "actions/redaction.h"
#include "api/duration.h"
#include "formats/json_depth.h"
#include "kube/time_format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace remedy::actions {
namespace {

constexpr size_t kSamplesOutputBytes = 2048;
// prometheusQuery: maxSeries's bounds and default; what of the first
// sample's labels becomes outputs.
constexpr int64_t kMaxSeriesLimit = 100;
constexpr int64_t kDefaultMaxSeries = 10;
constexpr size_t kMaxLabelOutputs = 32;
constexpr size_t kLabelValueBytes = 512;

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
  std::string name;                                        // __name__
  std::vector<std::pair<std::string, std::string>> pairs;  // the other labels, by name
};

// A label value as PromQL writes it in a selector.
std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// `{k="v",...}` of the labels but __name__.
std::string selectorText(const Sample& sample) {
  std::string inner;
  for (const auto& [key, value] : sample.pairs) {
    inner += (inner.empty() ? "" : ",") + key + "=" + quoted(value);
  }
  return "{" + inner + "}";
}

void readLabels(const json& metric, Sample* sample) {
  if (metric.is_object()) {
    for (const auto& [key, value] : metric.items()) {
      std::string v = value.is_string() ? value.get<std::string>() : value.dump();
      if (key == "__name__") {
        sample->name = v;
      } else {
        sample->pairs.emplace_back(key, v);
      }
    }
  }
  sample->labels = !sample->name.empty() && sample->pairs.empty()
                       ? sample->name
                       : sample->name + selectorText(*sample);
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

// One instant query of `field`'s step (params.url, else the default URL;
// params.query): its samples, or the outcome that ends the attempt. `target`
// says what the answer's text must not show.
std::optional<ActionOutcome> instantQuery(const PrometheusOptions& options,
                                          const std::string& field, const json& params,
                                          const ActionContext& context, WebTarget* target,
                                          std::vector<Sample>* samples) {
  std::string url = params.value("url", "");
  if (url.empty()) url = options.defaultUrl;
  if (url.empty()) {
    return ActionOutcome::permanent(field +
                                    ".url: not given, and the operator has no --prometheus-url");
  }
  if (auto failed = resolveWebTarget(json{{"url", url}}, field, context, target)) return *failed;
  auto report = [&](const std::string& text) { return redactSecrets(text, target->secrets); };
  std::string query = params.value("query", "");
  if (query.empty()) return ActionOutcome::permanent(field + ".query: required");
  auto timeout = requestTimeout(context, options.maxQueryTimeout);
  if (!timeout) {
    return ActionOutcome::retriable(
        report("querying Prometheus at " + target->description +
               ": the attempt's deadline passed before the query was sent"));
  }
  std::string base = target->url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  WebRequest request;
  request.url = base + "/api/v1/query?query=" + percentEncode(query) +
                "&timeout=" + std::to_string(timeout->count()) + "ms";
  request.headers = {{"Accept", "application/json"}};
  request.timeout = *timeout;
  request.maxResponseBytes = options.maxResponseBytes;
  request.tls = options.tls;
  request.egress = options.egress;
  request.maxRedirects = options.maxRedirects;
  request.carriesSecrets = target->carriesSecrets;
  WebResponse response = options.client->send(request);
  const std::string where = "querying Prometheus at " + target->description;
  if (!response.ok()) {
    std::string message = report(where + ": " + response.error);
    return response.invalid || response.refused ? ActionOutcome::permanent(message)
                                                : ActionOutcome::retriable(message);
  }
  bool serverTrouble = response.status >= 500 || response.status == 429;
  if (response.truncated) {
    return ActionOutcome::permanent(
        report(where + ": the answer is larger than " + std::to_string(options.maxResponseBytes) +
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
  bool malformed = false;
  if (resultType == "vector" && result.is_array()) {
    for (const auto& item : result) {
      Sample s;
      if (!item.is_object() || !parseSample(item.value("value", json()), &s)) {
        malformed = true;
        break;
      }
      readLabels(item.value("metric", json::object()), &s);
      samples->push_back(std::move(s));
    }
  } else if (resultType == "scalar") {
    Sample s;
    malformed = !parseSample(result, &s);
    samples->push_back(std::move(s));
  } else if (resultType == "matrix" || resultType == "string") {
    return ActionOutcome::permanent(
        field + ".query: returns a " +
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
  return std::nullopt;
}

// Highest value first, NaN last (as sort_desc() leaves it), equal values by
// their labels: the same answer always gives the same first sample.
void sortByValueDescending(std::vector<Sample>* samples) {
  std::sort(samples->begin(), samples->end(), [](const Sample& a, const Sample& b) {
    bool aNan = std::isnan(a.value);
    bool bNan = std::isnan(b.value);
    if (aNan != bNan) return bNan;
    if (!aNan && a.value != b.value) return a.value > b.value;
    return a.labels < b.labels;
  });
}

// A label whose name can follow `steps.NAME.outputs.` in a reference.
bool isOutputName(const std::string& name) {
  if (name.empty() || name.size() > 63 || std::isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

PrometheusOptions withClient(PrometheusOptions options) {
  if (!options.client) options.client = makeWebClient();
  return options;
}

}  // namespace

PrometheusCheckAction::PrometheusCheckAction(PrometheusOptions options)
    : options_(withClient(std::move(options))) {}

std::unique_ptr<Action> makePrometheusCheckAction(PrometheusOptions options) {
  return std::make_unique<PrometheusCheckAction>(std::move(options));
}

ActionOutcome PrometheusCheckAction::run(const json& params, const ActionContext& context) {
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

  WebTarget target;
  std::vector<Sample> samples;
  if (auto failed = instantQuery(options_, field(), params, context, &target, &samples)) {
    return *failed;
  }
  auto report = [&](const std::string& text) { return redactSecrets(text, target.secrets); };

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

PrometheusQueryAction::PrometheusQueryAction(PrometheusOptions options)
    : options_(withClient(std::move(options))) {}

std::unique_ptr<Action> makePrometheusQueryAction(PrometheusOptions options) {
  return std::make_unique<PrometheusQueryAction>(std::move(options));
}

ActionOutcome PrometheusQueryAction::run(const json& params, const ActionContext& context) {
  int64_t maxSeries = kDefaultMaxSeries;
  if (params.contains("maxSeries")) {
    const json& given = params["maxSeries"];
    if (!given.is_number_integer() || given.get<int64_t>() < 1 ||
        given.get<int64_t>() > kMaxSeriesLimit) {
      return ActionOutcome::permanent("prometheusQuery.maxSeries: " + given.dump() +
                                      " is not a whole number from 1 to " +
                                      std::to_string(kMaxSeriesLimit));
    }
    maxSeries = given.get<int64_t>();
  }
  WebTarget target;
  std::vector<Sample> samples;
  if (auto failed = instantQuery(options_, field(), params, context, &target, &samples)) {
    return *failed;
  }
  auto report = [&](const std::string& text) { return redactSecrets(text, target.secrets); };

  sortByValueDescending(&samples);
  const size_t total = samples.size();
  bool truncated = total > static_cast<size_t>(maxSeries);
  if (truncated) samples.resize(static_cast<size_t>(maxSeries));
  Outputs outputs = {{"series", std::to_string(total)},
                     {"value", ""},
                     {"metric", ""},
                     {"labels", ""},
                     {"samples", report(samplesText(samples))}};
  std::string message = "the query returned no samples";
  if (!samples.empty()) {
    const Sample& first = samples.front();
    outputs["value"] = first.text;
    outputs["metric"] = report(utf8Excerpt(first.name, kLabelValueBytes));
    outputs["labels"] = report(utf8Excerpt(selectorText(first), kSamplesOutputBytes));
    size_t labelOutputs = 0;
    for (const auto& [name, value] : first.pairs) {
      if (!isOutputName(name)) continue;
      if (labelOutputs++ == kMaxLabelOutputs) {
        truncated = true;
        break;
      }
      std::string kept = utf8Excerpt(value, kLabelValueBytes);
      truncated = truncated || kept.size() < value.size();
      outputs["label_" + name] = report(kept);
    }
    std::string shown = (first.labels.empty() ? "" : first.labels + " ") + first.text;
    message =
        total == 1 ? "1 sample: " + shown : std::to_string(total) + " samples, the first " + shown;
    if (total > samples.size()) {
      message += "; kept " + std::to_string(samples.size()) + " (maxSeries)";
    }
  }
  outputs["truncated"] = truncated ? "true" : "false";
  return ActionOutcome::succeeded(report(utf8Excerpt(message, kSamplesOutputBytes)), outputs);
}

}  // namespace remedy::actions
