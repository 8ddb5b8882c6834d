#include "intake/alert_payload.h"

#include "formats/json_depth.h"

#include <nlohmann/json.hpp>

namespace remedy::intake {
namespace {

using json = nlohmann::json;

bool isIdentifier(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// A value quoted for a message, cut short so a message stays readable.
std::string quote(const std::string& s) {
  constexpr size_t kMax = 64;
  std::string shown = s.size() > kMax ? s.substr(0, kMax) + "..." : s;
  return json(shown).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string typeName(const json& j) {
  switch (j.type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    case json::value_t::boolean:
      return "boolean";
    default:
      return j.type_name();
  }
}

std::string tooLong(size_t size, size_t limit) {
  return std::to_string(size) + " bytes, more than the limit of " + std::to_string(limit);
}

// Reads an optional string member into `out`; a problem when it is not a
// string or too long.
void optionalString(const json& object, const char* name, const std::string& path, size_t limit,
                    std::string* out, std::vector<std::string>* problems) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return;
  std::string where = fieldPath(path, name);
  if (!it->is_string()) {
    problems->push_back(where + ": must be a string, got " + typeName(*it));
    return;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > limit) {
    problems->push_back(where + ": " + tooLong(s.size(), limit));
    return;
  }
  *out = s;
}

struct MapLimits {
  size_t maxEntries;
  size_t maxNameBytes;
  size_t maxValueBytes;
};

// An object of string values (labels, annotations).
void stringMap(const json& value, const std::string& path, const MapLimits& limits, LabelSet* out,
               std::vector<std::string>* problems) {
  if (!value.is_object()) {
    problems->push_back(path + ": must be an object, got " + typeName(value));
    return;
  }
  if (value.size() > limits.maxEntries) {
    problems->push_back(path + ": " + std::to_string(value.size()) +
                        " entries, more than the limit of " + std::to_string(limits.maxEntries));
    return;
  }
  for (const auto& [name, v] : value.items()) {
    std::string where = fieldPath(path, name);
    if (name.empty()) {
      problems->push_back(path + ": a name is empty");
      continue;
    }
    if (name.size() > limits.maxNameBytes) {
      problems->push_back(path + ": the name " + quote(name) + " is " +
                          tooLong(name.size(), limits.maxNameBytes));
      continue;
    }
    if (!v.is_string()) {
      problems->push_back(where + ": must be a string, got " + typeName(v));
      continue;
    }
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > limits.maxValueBytes) {
      problems->push_back(where + ": " + tooLong(s.size(), limits.maxValueBytes));
      continue;
    }
    (*out)[name] = s;
  }
}

WebhookAlert parseAlert(const json& a, size_t index, const PayloadLimits& limits) {
  WebhookAlert alert;
  alert.index = index;
  std::string path = "alerts[" + std::to_string(index) + "]";
  auto& problems = alert.problems;
  if (!a.is_object()) {
    problems.push_back(path + ": must be an object, got " + typeName(a));
    return alert;
  }

  auto status = a.find("status");
  if (status == a.end() || status->is_null()) {
    problems.push_back(path + ".status: required (firing or resolved)");
  } else if (!status->is_string()) {
    problems.push_back(path + ".status: must be a string, got " + typeName(*status));
  } else {
    alert.status = status->get<std::string>();
    if (alert.status != "firing" && alert.status != "resolved") {
      problems.push_back(path + ".status: " + quote(alert.status) + " is not firing or resolved");
    }
  }

  auto labels = a.find("labels");
  if (labels == a.end() || labels->is_null()) {
    problems.push_back(path + ".labels: required (an object with at least alertname)");
  } else {
    stringMap(*labels, path + ".labels",
              {limits.maxLabelsPerAlert, limits.maxLabelNameBytes, limits.maxLabelValueBytes},
              &alert.labels, &problems);
    if (labels->is_object()) {
      auto name = alert.labels.find("alertname");
      if (!labels->contains("alertname")) {
        problems.push_back(path + ".labels.alertname: required");
      } else if (name == alert.labels.end()) {
        // Wrong type or too long: stringMap said so.
      } else if (name->second.empty()) {
        problems.push_back(path + ".labels.alertname: must not be empty");
      } else if (name->second.size() > limits.maxAlertNameBytes) {
        problems.push_back(
            path + ".labels.alertname: " + tooLong(name->second.size(), limits.maxAlertNameBytes));
      }
    }
  }

  auto annotations = a.find("annotations");
  if (annotations != a.end() && !annotations->is_null()) {
    stringMap(*annotations, path + ".annotations",
              {limits.maxAnnotationsPerAlert, limits.maxAnnotationNameBytes,
               limits.maxAnnotationValueBytes},
              &alert.annotations, &problems);
  }

  auto startsAt = a.find("startsAt");
  if (startsAt == a.end() || startsAt->is_null()) {
    problems.push_back(path + ".startsAt: required (an RFC 3339 time)");
  } else if (!startsAt->is_string()) {
    problems.push_back(path + ".startsAt: must be a string, got " + typeName(*startsAt));
  } else {
    alert.startsAt = startsAt->get<std::string>();
    auto parsed = parseTimestamp(alert.startsAt);
    if (!parsed) {
      problems.push_back(path + ".startsAt: " + quote(alert.startsAt) +
                         " is not an RFC 3339 time such as 2024-05-01T12:00:00Z");
    } else {
      alert.startsAtTime = *parsed;
    }
  }

  std::string endsAt;
  optionalString(a, "endsAt", path, 64, &endsAt, &problems);
  if (!endsAt.empty()) {
    auto parsed = parseTimestamp(endsAt);
    if (!parsed) {
      problems.push_back(path + ".endsAt: " + quote(endsAt) +
                         " is not an RFC 3339 time such as 2024-05-01T12:00:00Z");
    } else if (!isZeroTime(*parsed)) {
      alert.endsAt = endsAt;
    }
  }

  optionalString(a, "generatorURL", path, limits.maxGeneratorUrlBytes, &alert.generatorURL,
                 &problems);
  optionalString(a, "fingerprint", path, limits.maxFingerprintBytes, &alert.fingerprint, &problems);
  if (alert.fingerprint.empty() && labels != a.end() && labels->is_object()) {
    // Alertmanager always sends one; a hand-made payload may not. The
    // computed one is what Alertmanager would have sent for these labels.
    alert.fingerprint = alertmanagerFingerprint(alert.labels);
    alert.fingerprintComputed = true;
  }
  return alert;
}

}  // namespace

const std::string& WebhookAlert::alertName() const {
  static const std::string kEmpty;
  auto it = labels.find("alertname");
  return it == labels.end() ? kEmpty : it->second;
}

std::string fieldPath(const std::string& parent, const std::string& name) {
  if (isIdentifier(name)) return parent.empty() ? name : parent + "." + name;
  return parent + "[" + quote(name) + "]";
}

ParsedPayload parseWebhookPayload(std::string_view body, const PayloadLimits& limits) {
  ParsedPayload out;
  auto fail = [&](PayloadError error, std::string message) {
    out.error = error;
    out.message = std::move(message);
    return out;
  };
  if (formats::jsonNestingDepth(body, limits.maxNestingDepth) > limits.maxNestingDepth) {
    return fail(PayloadError::kMalformedJson,
                "malformed JSON: arrays and objects nested more than " +
                    std::to_string(limits.maxNestingDepth) + " levels deep");
  }
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 5: ..."; the bracketed id means nothing to a client.
    std::string what = e.what();
    auto close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    return fail(PayloadError::kMalformedJson,
                "malformed JSON at byte " + std::to_string(e.byte) + ": " + what);
  } catch (const json::exception& e) {
    // A number too large for a double ("1e999") is out_of_range, not a
    // parse_error, and has no position.
    std::string what = e.what();
    auto close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    return fail(PayloadError::kMalformedJson, "malformed JSON: " + what);
  }
  if (!doc.is_object()) {
    return fail(
        PayloadError::kInvalid,
        "the payload must be a JSON object (Alertmanager's webhook format), got " + typeName(doc));
  }

  std::vector<std::string> problems;
  WebhookPayload& p = out.payload;
  optionalString(doc, "version", "", limits.maxStringBytes, &p.version, &problems);
  optionalString(doc, "receiver", "", limits.maxStringBytes, &p.receiver, &problems);
  optionalString(doc, "status", "", limits.maxStringBytes, &p.status, &problems);
  optionalString(doc, "externalURL", "", limits.maxStringBytes, &p.externalURL, &problems);
  optionalString(doc, "groupKey", "", limits.maxStringBytes, &p.groupKey, &problems);
  if (!p.version.empty() && p.version != "4") {
    problems.push_back("version: " + quote(p.version) +
                       " is not supported; Remedy reads Alertmanager's webhook version \"4\"");
  }
  for (const char* name : {"groupLabels", "commonLabels", "commonAnnotations"}) {
    auto it = doc.find(name);
    if (it != doc.end() && !it->is_null() && !it->is_object()) {
      problems.push_back(std::string(name) + ": must be an object, got " + typeName(*it));
    }
  }
  if (auto it = doc.find("truncatedAlerts"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      problems.push_back("truncatedAlerts: must be a non-negative integer");
    } else {
      p.truncatedAlerts = it->get<int64_t>();
    }
  }
  auto alerts = doc.find("alerts");
  if (alerts == doc.end() || alerts->is_null()) {
    problems.push_back("alerts: required (an array of alerts)");
  } else if (!alerts->is_array()) {
    problems.push_back("alerts: must be an array, got " + typeName(*alerts));
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& problem : problems) message += (message.empty() ? "" : "; ") + problem;
    return fail(PayloadError::kInvalid, message);
  }
  p.alertsSent = alerts->size();
  if (alerts->size() > limits.maxAlerts) {
    return fail(PayloadError::kTooManyAlerts,
                "alerts: " + std::to_string(alerts->size()) + " alerts, more than the limit of " +
                    std::to_string(limits.maxAlerts) +
                    " per request (set max_alerts in Alertmanager's webhook_config)");
  }
  p.alerts.reserve(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    p.alerts.push_back(parseAlert((*alerts)[i], i, limits));
  }
  return out;
}

}  // namespace remedy::intake
