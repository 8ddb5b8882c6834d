// remedyctl describe INCIDENT: what Remedy did, why, and what waits for
// someone, from the Incident's own record, at 80 columns.
#include "cli/cluster.h"
#include "cli/incident_view.h"
#include "engine/resources.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <cstdio>

namespace remedy::cli {
namespace {

class Page {
 public:
  explicit Page(const Output& out) : out_(out) {}

  void section(const std::string& title) {
    std::printf("\n%s\n", paint(out_, Colour::kBold, title).c_str());
  }
  // "Label:        value", the value wrapped under itself.
  void field(const std::string& label, const std::string& value, Colour colour = Colour::kNone) {
    if (value.empty()) return;
    std::string head = label.empty() ? "" : label + ":";
    head.resize(std::max<size_t>(head.size() + 1, 14), ' ');
    auto lines = wrap(value, out_.width, head, std::string(14, ' '));
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string line = lines[i];
      if (i == 0 && colour != Colour::kNone) {
        line = line.substr(0, head.size()) + paint(out_, colour, line.substr(head.size()));
      }
      std::printf("%s\n", line.c_str());
    }
  }
  // Text wrapped with a hanging indent.
  void text(const std::string& value, size_t indent, size_t hang) {
    for (const auto& line :
         wrap(value, out_.width, std::string(indent, ' '), std::string(hang, ' ')))
      std::printf("%s\n", line.c_str());
  }
  // "  20:14:45  Kind   text", the text wrapped under itself at the kind
  // column's width (a longer kind pushes only its first line).
  void entry(const std::string& when, const std::string& kind, size_t kindWidth,
             const std::string& value, Colour colour = Colour::kNone) {
    std::string start = "  " + when + "  ";
    std::string head = start + kind + " ";
    std::string hang(start.size() + kindWidth + 1, ' ');
    if (head.size() < hang.size()) head.resize(hang.size(), ' ');
    auto lines = wrap(value, out_.width, head, hang);
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string line = lines[i];
      if (i == 0 && colour != Colour::kNone) {
        line = start + paint(out_, colour, kind) + line.substr(start.size() + kind.size());
      }
      std::printf("%s\n", line.c_str());
    }
  }

 private:
  const Output& out_;
};

std::string joinMap(const json& map, const char* sep = ", ") {
  std::string out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    out += (out.empty() ? "" : sep) + it.key() + "=" + v;
  }
  return out;
}

// Timeline entry types that are bad news, and good news.
Colour entryColour(const std::string& type) {
  static const char* bad[] = {"StepFailed",   "Failed",           "Escalated", "RevertRefused",
                              "RevertFailed", "ApprovalTimedOut", "Rejected",  "EscalationFailed"};
  static const char* good[] = {"StepSucceeded", "Succeeded",     "Reverted",
                               "Approved",      "AlertResolved", "EscalationNotified"};
  for (const char* b : bad)
    if (type == b) return Colour::kRed;
  for (const char* g : good)
    if (type == g) return Colour::kGreen;
  if (type == "Waiting" || type == "AwaitingApproval" || type == "StepRetry")
    return Colour::kYellow;
  return Colour::kNone;
}

void printStep(Page& page, const Output& out, const json& incident, const json& st, size_t n) {
  std::string name = st.value("name", "");
  std::string phase = st.value("phase", "Pending");
  const json* spec = stepSpecOf(incident, name);
  std::string action = spec ? actionOf(*spec) : "";
  std::string head = std::to_string(n) + ". " + name + (action.empty() ? "" : " (" + action + ")");
  std::string facts = phase;
  int attempts = st.value("attempts", 0);
  if (attempts > 0)
    facts += ", " + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
  std::string took = durationBetween(st.value("startedAt", ""), st.value("finishedAt", ""));
  if (!took.empty()) facts += ", " + took;
  if (st.value("dryRun", false)) facts += ", dry run";
  std::string line = "  " + head;
  size_t pad = line.size() < 44 ? 44 - line.size() : 1;
  std::printf("%s%s%s\n", line.c_str(), std::string(pad, ' ').c_str(),
              paint(out, phaseColour(phase), facts).c_str());
  if (st.contains("startedAt")) {
    std::string when = "started " + utcClock(st.value("startedAt", ""));
    if (st.contains("finishedAt")) when += ", finished " + utcClock(st.value("finishedAt", ""));
    page.text(when, 6, 8);
  }
  if (st.contains("when")) {
    const json& w = st["when"];
    std::string values = joinMap(w.value("values", json::object()));
    page.text("when " + w.value("expression", "") + " -> " +
                  (w.value("result", false) ? "true" : "false") +
                  (values.empty() ? "" : " (" + values + ")"),
              6, 8);
  }
  if (st.contains("message")) page.text(st.value("message", ""), 6, 8);
  if (st.contains("nextAttemptAt") && !isFinalPhase(phase) && phase != "Failed")
    page.text("next attempt at " + utcClock(st.value("nextAttemptAt", "")), 6, 8);
  const json outputs = st.value("outputs", json::object());
  if (!outputs.empty()) {
    std::string shown;
    for (auto it = outputs.begin(); it != outputs.end(); ++it) {
      std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      if (v.size() > 120) v = v.substr(0, 120) + "...";
      shown += (shown.empty() ? "" : ", ") + it.key() + "=" + v;
    }
    page.text("outputs: " + shown, 6, 8);
  }
  if (st.contains("revert")) {
    const json& r = st["revert"];
    std::string state = r.value("state", "");
    std::string text = "revert " + state;
    if (state == "Pending") {
      if (r.contains("dueAt"))
        text += ", due at " + utcDateTime(r.value("dueAt", ""));
      else if (r.value("onResolved", false))
        text += ", when the alert resolves";
    } else if (r.contains("revertedAt")) {
      text += " at " + utcClock(r.value("revertedAt", ""));
    }
    if (r.contains("message")) text += ": " + r.value("message", "");
    std::string painted = "revert " + paint(out, phaseColour(state), state);
    auto lines = wrap(text, out.width, std::string(6, ' '), std::string(8, ' '));
    lines[0].replace(6, ("revert " + state).size(), painted);
    for (const auto& l : lines) std::printf("%s\n", l.c_str());
  }
}

}  // namespace

int runDescribe(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl describe: %s\n", error->c_str());
    return 2;
  }
  std::string name, color;
  bool events = true;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: remedyctl describe INCIDENT [-n NAMESPACE] [--no-events] [--color auto]\n\n"
          "What Remedy did about an Incident and why, from the Incident's own record: the\n"
          "alert, the Runbook chosen and why, each step (its `when`, attempts, duration,\n"
          "message, outputs, revert), approvals and who gave them, escalations, the\n"
          "timeline (UTC), what it waits for, and the Kubernetes Events about it.\n\n"
          "flags:\n"
          "  --no-events         leave out the Kubernetes Events\n"
          "  --color WHEN        auto (on a terminal), always or never\n%s",
          kClusterFlagsHelp);
      return 0;
    } else if (a == "--color" && i + 1 < rest.size()) {
      color = rest[++i];
    } else if (a.rfind("--color=", 0) == 0) {
      color = a.substr(8);
    } else if (a == "--no-events") {
      events = false;
    } else if (!a.empty() && a[0] != '-' && name.empty()) {
      name = a;
    } else {
      std::fprintf(stderr, "remedyctl describe: unexpected argument \"%s\"\n", a.c_str());
      return 2;
    }
  }
  if (name.empty()) {
    std::fprintf(stderr, "remedyctl describe: name the Incident (see --help)\n");
    return 2;
  }
  Output out;
  if (auto error = makeOutput(color, &out)) {
    std::fprintf(stderr, "remedyctl describe: %s\n", error->c_str());
    return 2;
  }
  auto cluster = connect(flags, "describe");
  if (!cluster) return 1;
  auto got = cluster->client->get(engine::incidents(), cluster->namespace_, name);
  if (!got.ok()) {
    std::fprintf(stderr, "remedyctl describe: incident %s/%s: %s\n", cluster->namespace_.c_str(),
                 name.c_str(), got.status().message().c_str());
    return 1;
  }
  const json& incident = *got;
  const json spec = incident.value("spec", json::object());
  const json alert = spec.value("alert", json::object());
  const json status = incident.value("status", json::object());
  const json runbook = status.value("runbook", json::object());
  std::string phase = status.value("phase", "Pending");
  Page page(out);

  page.field("Name", kube::nameOf(incident));
  page.field("Namespace", kube::namespaceOf(incident));
  std::string outcome;
  if (const json* c = conditionOf(incident, "Completed")) {
    outcome = c->value("reason", "") + ": " + c->value("message", "");
  }
  page.field("Phase", phase + (outcome.empty() ? "" : " (" + outcome + ")"), phaseColour(phase));
  std::string waiting = waitingFor(incident, out.now);
  page.field("Waiting for", waiting, Colour::kYellow);
  std::string source = spec.value("source", "");
  if (spec.value("dryRun", false)) source += ", dry run";
  page.field("Source", source);
  if (!runbook.empty()) {
    std::string rb = runbook.value("name", "");
    if (runbook.contains("generation"))
      rb += " (generation " + std::to_string(runbook.value("generation", 0)) + ")";
    std::string severity = runbook.value("spec", json::object()).value("severity", "");
    if (!severity.empty()) rb += ", severity " + severity;
    page.field("Runbook", rb);
    page.field("", runbook.value("spec", json::object()).value("description", ""));
  }
  if (status.contains("startedAt"))
    page.field("Started", utcDateTime(status.value("startedAt", "")));
  if (status.contains("finishedAt")) {
    page.field("Finished",
               utcDateTime(status.value("finishedAt", "")) + " (after " +
                   durationBetween(status.value("startedAt", ""), status.value("finishedAt", "")) +
                   ")");
  }

  page.section("Alert");
  std::string alertLine = alert.value("name", "") + ", " + alert.value("status", "");
  page.field("Name", alertLine,
             alert.value("status", "") == "firing" ? Colour::kRed : Colour::kGreen);
  page.field("Labels", joinMap(alert.value("labels", json::object())));
  const json annotations = alert.value("annotations", json::object());
  for (const auto& [key, value] : annotations.items()) {
    std::string label = key;
    if (!label.empty()) label[0] = static_cast<char>(std::toupper(label[0]));
    page.field(label, value.is_string() ? value.get<std::string>() : value.dump());
  }
  if (alert.contains("startsAt")) page.field("Fired", utcDateTime(alert.value("startsAt", "")));
  std::string ends = alert.value("endsAt", "");
  if (alert.value("status", "") == "resolved" && !ends.empty()) {
    page.field("Resolved", utcDateTime(ends) + " (" +
                               durationBetween(alert.value("startsAt", ""), ends) +
                               " after it fired)");
  } else if (status.contains("resolvedAt")) {
    page.field("Resolved", utcDateTime(status.value("resolvedAt", "")));
  }
  page.field("Fingerprint", alert.value("fingerprint", ""));
  page.field("Generator", alert.value("generatorURL", ""));

  page.section("Matching");
  if (const json* m = conditionOf(incident, "Matched")) {
    page.text(m->value("reason", "") + ": " + m->value("message", ""), 2, 4);
  } else {
    page.text("no Runbook chosen yet", 2, 4);
  }
  if (status.contains("parameters") && !status["parameters"].empty())
    page.text("parameters: " + joinMap(status["parameters"]), 2, 4);

  const json steps = status.value("steps", json::array());
  if (!steps.empty()) {
    page.section("Steps");
    size_t n = 0;
    for (const auto& st : steps) printStep(page, out, incident, st, ++n);
  }

  const json approvals = status.value("approvals", json::array());
  const json gate = runbook.value("spec", json::object()).value("approval", json::object());
  if (!approvals.empty() || phase == "AwaitingApproval") {
    page.section("Approvals");
    for (const auto& a : approvals) {
      std::string decision = a.value("decision", "");
      std::string verb = decision == "Approve" ? "approved" : "rejected";
      std::string what =
          a.value("step", "").empty() ? "the incident" : "step " + a.value("step", "");
      page.entry(utcClock(a.value("time", "")), decision, 8,
                 a.value("approver", "?") + " " + verb + " " + what + " (Approval " +
                     a.value("name", "") + ")",
                 phaseColour(decision));
    }
    if (phase == "AwaitingApproval") {
      std::string who;
      if (gate.contains("users")) {
        std::string u;
        for (const auto& x : gate["users"]) u += (u.empty() ? "" : ", ") + x.get<std::string>();
        who += "users " + u;
      }
      if (gate.contains("groups")) {
        std::string g;
        for (const auto& x : gate["groups"]) g += (g.empty() ? "" : ", ") + x.get<std::string>();
        who += (who.empty() ? "" : "; ") + std::string("groups ") + g;
      }
      std::string since;
      if (const json* c = conditionOf(incident, "AwaitingApproval"))
        since = c->value("lastTransitionTime", "");
      std::string line = "waiting";
      if (!since.empty()) {
        line += " since " + utcClock(since);
        if (auto t = kube::parseRfc3339(since))
          line += " (" +
                  formatDuration(std::chrono::duration_cast<std::chrono::seconds>(out.now - *t)) +
                  ")";
      }
      for (const auto& st : steps) {
        if (st.value("phase", "") == "AwaitingApproval") line += " on step " + st.value("name", "");
      }
      if (!who.empty()) line += "; may approve: " + who;
      if (gate.contains("timeout")) line += "; times out after " + gate.value("timeout", "");
      if (gate.contains("onTimeout")) line += ", then " + gate.value("onTimeout", "");
      page.text(line, 2, 4);
    }
  }

  const json escalations = status.value("escalations", json::array());
  if (!escalations.empty()) {
    page.section("Escalations");
    for (const auto& e : escalations) {
      std::string state = e.value("state", "");
      page.entry(utcClock(e.value("firedAt", "")), state, 8,
                 e.value("name", "") + ": " + e.value("message", ""), phaseColour(state));
    }
  }

  const json timeline = status.value("timeline", json::array());
  if (!timeline.empty()) {
    std::string day;
    page.section("Timeline (UTC)");
    int64_t dropped = status.value("droppedTimelineEntries", int64_t{0});
    if (dropped > 0)
      page.text("(" + std::to_string(dropped) + " older entries dropped from the record)", 2, 4);
    const size_t typeWidth = 16;
    for (const auto& t : timeline) {
      std::string time = t.value("time", "");
      std::string date = utcDateTime(time).substr(0, 10);
      if (date != day) {
        std::printf("  %s\n", date.c_str());
        day = date;
      }
      std::string step = t.value("step", "");
      std::string message = t.value("message", "");
      if (!step.empty() && message.rfind(step + ":", 0) != 0) message = step + ": " + message;
      std::string type = t.value("type", "");
      page.entry(utcClock(time), type, typeWidth, message, entryColour(type));
    }
  }

  if (events) {
    std::vector<json> list = eventsAbout(*cluster->client, incident);
    page.section("Events");
    if (list.empty()) {
      page.text("none (Kubernetes keeps Events for an hour by default)", 2, 4);
    }
    for (const auto& e : list) {
      std::string when = e.value("lastTimestamp", "");
      if (when.empty()) when = e.value("eventTime", "");
      const json involved = e.value("involvedObject", json::object());
      std::string object = involved.value("kind", "") + "/" + involved.value("name", "");
      std::string message = e.value("message", "");
      const std::string mention = "incident " + name + " ";
      if (message.rfind(mention, 0) == 0) message = message.substr(mention.size());
      int count = e.value("count", 1);
      std::string reason = e.value("reason", "");
      std::string text = (involved.value("kind", "") == "Incident" ? "" : "on " + object + ": ") +
                         message + (count > 1 ? " (x" + std::to_string(count) + ")" : "");
      page.entry(utcClock(when), reason, 16, text,
                 e.value("type", "") == "Warning" ? Colour::kYellow : Colour::kNone);
    }
  }
  return 0;
}

}  // namespace remedy::cli
