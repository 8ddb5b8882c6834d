#include "cli/incident_view.h"

#include "engine/resources.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace remedy::cli {

std::optional<std::string> makeOutput(const std::string& colorFlag, Output* out) {
  if (colorFlag == "always") {
    out->colour = true;
  } else if (colorFlag == "never") {
    out->colour = false;
  } else if (colorFlag.empty() || colorFlag == "auto") {
    const char* noColor = std::getenv("NO_COLOR");
    out->colour = ::isatty(STDOUT_FILENO) && !(noColor && *noColor);
  } else {
    return "--color: \"" + colorFlag + "\" is not auto, always or never";
  }
  out->now = std::chrono::system_clock::now();
  if (const char* now = std::getenv("REMEDYCTL_NOW"); now && *now) {
    auto t = kube::parseRfc3339(now);
    if (!t) return std::string("REMEDYCTL_NOW: \"") + now + "\" is not an RFC 3339 time";
    out->now = *t;
  }
  return std::nullopt;
}

std::string paint(const Output& out, Colour colour, const std::string& text) {
  if (!out.colour || colour == Colour::kNone || text.empty()) return text;
  const char* code = "";
  switch (colour) {
    case Colour::kGreen:
      code = "32";
      break;
    case Colour::kRed:
      code = "31";
      break;
    case Colour::kYellow:
      code = "33";
      break;
    case Colour::kCyan:
      code = "36";
      break;
    case Colour::kDim:
      code = "2";
      break;
    case Colour::kBold:
      code = "1";
      break;
    case Colour::kNone:
      break;
  }
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

Colour phaseColour(const std::string& phase) {
  if (phase == "Succeeded" || phase == "Reverted" || phase == "Notified" || phase == "Approve")
    return Colour::kGreen;
  if (phase == "Failed" || phase == "Escalated" || phase == "Refused" || phase == "Reject")
    return Colour::kRed;
  if (phase == "AwaitingApproval" || phase == "Pending" || phase == "Running")
    return Colour::kYellow;
  if (phase == "Skipped" || phase == "Cancelled") return Colour::kDim;
  return Colour::kNone;
}

bool isFinalPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Escalated" || phase == "Skipped" ||
         phase == "Cancelled";
}

std::optional<kube::WallTime> timeAt(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return kube::parseRfc3339(it->get<std::string>());
}

std::string formatDuration(std::chrono::seconds d) {
  long long s = std::max<long long>(0, d.count());
  auto two = [](long long a, const char* ua, long long b, const char* ub) {
    return std::to_string(a) + ua + (b ? std::to_string(b) + ub : "");
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", (s % 3600) / 60, "m");
  return two(s / 86400, "d", (s % 86400) / 3600, "h");
}

std::string utcDateTime(const std::string& rfc3339) {
  auto t = kube::parseRfc3339(rfc3339);
  if (!t) return rfc3339;
  std::string text = kube::formatRfc3339(*t);  // 2026-12-06T20:14:45Z
  return text.substr(0, 10) + " " + text.substr(11, 8) + " UTC";
}

std::string utcClock(const std::string& rfc3339) {
  auto t = kube::parseRfc3339(rfc3339);
  if (!t) return rfc3339;
  return kube::formatRfc3339(*t).substr(11, 8);
}

std::string durationBetween(const std::string& from, const std::string& to) {
  auto a = kube::parseRfc3339(from);
  auto b = kube::parseRfc3339(to);
  if (!a || !b) return "";
  return formatDuration(std::chrono::duration_cast<std::chrono::seconds>(*b - *a));
}

std::vector<std::string> wrap(const std::string& text, size_t width, const std::string& first,
                              const std::string& rest) {
  std::vector<std::string> lines;
  std::string line = first;
  size_t lineStart = first.size();
  auto flush = [&] {
    lines.push_back(line);
    line = rest;
    lineStart = rest.size();
  };
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\n') {
      if (text[i] == '\n') flush();
      ++i;
      continue;
    }
    size_t end = text.find_first_of(" \n", i);
    std::string word = text.substr(i, end == std::string::npos ? std::string::npos : end - i);
    i = end == std::string::npos ? text.size() : end;
    while (!word.empty()) {
      bool atStart = line.size() == lineStart;
      size_t room =
          width > line.size() + (atStart ? 0 : 1) ? width - line.size() - (atStart ? 0 : 1) : 0;
      if (word.size() <= room) {
        line += (atStart ? "" : " ") + word;
        word.clear();
      } else if (!atStart) {
        flush();
      } else {
        size_t take = std::max<size_t>(room, 1);
        line += word.substr(0, take);
        word = word.substr(take);
        flush();
      }
    }
  }
  if (line.size() > lineStart || lines.empty()) lines.push_back(line);
  return lines;
}

const json* stepSpecOf(const json& incident, const std::string& step) {
  const json* steps = nullptr;
  try {
    steps = &incident.at("status").at("runbook").at("spec").at("steps");
  } catch (const json::exception&) {
    return nullptr;
  }
  for (const auto& s : *steps) {
    if (s.value("name", "") == step) return &s;
  }
  return nullptr;
}

std::string actionOf(const json& stepSpec) {
  static const std::set<std::string> notActions = {"name",      "description", "timeout", "retries",
                                                   "onFailure", "approval",    "when",    "revert"};
  for (auto it = stepSpec.begin(); it != stepSpec.end(); ++it) {
    if (!notActions.count(it.key()) && it.value().is_object()) return it.key();
  }
  return "";
}

const json* conditionOf(const json& incident, const std::string& type) {
  auto status = incident.find("status");
  if (status == incident.end() || !status->contains("conditions")) return nullptr;
  for (const auto& c : (*status)["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

std::string waitingFor(const json& incident, kube::WallTime now) {
  const json status = incident.value("status", json::object());
  std::string phase = status.value("phase", "");
  if (!isFinalPhase(phase)) {
    if (phase == "AwaitingApproval") {
      for (const auto& st : status.value("steps", json::array())) {
        if (st.value("phase", "") == "AwaitingApproval")
          return "approval of " + st.value("name", "");
      }
      return "approval";
    }
    const json* waiting = conditionOf(incident, "Waiting");
    if (waiting && waiting->value("status", "") == "True")
      return "guardrail " + waiting->value("reason", "");
    for (const auto& st : status.value("steps", json::array())) {
      if (st.value("phase", "") != "Running" && st.value("phase", "") != "Pending") continue;
      if (auto next = timeAt(st, "nextAttemptAt"); next && *next > now) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(*next - now);
        return "retry in " + formatDuration(left);
      }
    }
    if (phase.empty() || phase == "Pending") return "matching";
  }
  for (const auto& st : status.value("steps", json::array())) {
    const json revert = st.value("revert", json::object());
    if (revert.value("state", "") != "Pending") continue;
    if (auto due = timeAt(revert, "dueAt")) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(*due - now);
      return left.count() > 0 ? "revert in " + formatDuration(left) : "revert now";
    }
    if (revert.value("onResolved", false)) return "revert on resolve";
    return "revert";
  }
  return "";
}

kube::Result<std::vector<json>> listIncidents(kube::Client& client, const std::string& ns) {
  auto list = kube::listAll(client, engine::incidents(), ns);
  if (!list.ok()) return list.status();
  return (*list).value("items", json::array()).get<std::vector<json>>();
}

std::vector<json> eventsAbout(kube::Client& client, const json& incident) {
  std::string name = kube::nameOf(incident);
  kube::ListOptions options;
  options.limit = 500;
  auto list = client.list(kube::resources::events(), kube::namespaceOf(incident), options);
  std::vector<json> events;
  if (!list.ok()) return events;
  const std::string mention = "incident " + name + " ";
  for (const auto& e : (*list).value("items", json::array())) {
    const json involved = e.value("involvedObject", json::object());
    bool onIt = involved.value("kind", "") == "Incident" && involved.value("name", "") == name;
    bool aboutIt = e.value("message", "").rfind(mention, 0) == 0;
    if (onIt || aboutIt) events.push_back(e);
  }
  auto when = [](const json& e) {
    std::string t = e.value("lastTimestamp", "");
    if (t.empty()) t = e.value("eventTime", "");
    return t;
  };
  std::stable_sort(events.begin(), events.end(),
                   [&](const json& a, const json& b) { return when(a) < when(b); });
  return events;
}

namespace {

bool plainYamlScalar(const std::string& s) {
  if (s.empty()) return false;
  static const std::set<std::string> special = {"true", "false", "yes", "no",  "on",   "off",
                                                "null", "~",     "y",   "n",   "True", "False",
                                                "Yes",  "No",    "On",  "Off", "NULL", "Null"};
  if (special.count(s)) return false;
  bool numeric = true;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string("-_./").find(c) == std::string::npos)
      return false;
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != 'e' &&
        c != 'E')
      numeric = false;
  }
  if (numeric) return false;
  return s[0] != '-' && s[0] != '.';
}

std::string yamlKey(const std::string& key) {
  return plainYamlScalar(key) ? key : json(key).dump();
}

void emitYaml(const json& v, int indent, std::string& out);

std::string scalar(const json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return plainYamlScalar(s) ? s : json(s).dump();
  }
  return v.dump();
}

bool inlineValue(const json& v) {
  return !(v.is_object() && !v.empty()) && !(v.is_array() && !v.empty());
}

void emitYaml(const json& v, int indent, std::string& out) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += pad + yamlKey(it.key()) + ":";
      if (inlineValue(it.value())) {
        out += " " + scalar(it.value()) + "\n";
      } else {
        out += "\n";
        emitYaml(it.value(), indent + (it.value().is_array() ? 0 : 2), out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (inlineValue(item)) {
        out += pad + "- " + scalar(item) + "\n";
      } else {
        std::string nested;
        emitYaml(item, indent + 2, nested);
        // The first line's indentation becomes the dash.
        out += pad + "- " + nested.substr(indent + 2);
      }
    }
  } else {
    out += pad + scalar(v) + "\n";
  }
}

}  // namespace

std::string toYaml(const json& value) {
  std::string out;
  if (inlineValue(value)) return scalar(value) + "\n";
  emitYaml(value, 0, out);
  return out;
}

}  // namespace remedy::cli
