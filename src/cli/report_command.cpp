// remedyctl report INCIDENT: a post-incident review in Markdown (or JSON for
// tools) from the Incident's own record, in the shape of the post-incident
// template the runbooks use: summary, impact window, detection, timeline in
// UTC, actions taken automatically and by people, what was reverted,
// escalation, root cause and prevention left to write, follow-ups left open.
#include "cli/cluster.h"
#include "cli/incident_view.h"
#include "engine/resources.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <algorithm>
#include <cstdio>

namespace remedy::cli {
namespace {

std::optional<long long> secondsBetween(const std::string& from, const std::string& to) {
  auto a = kube::parseRfc3339(from);
  auto b = kube::parseRfc3339(to);
  if (!a || !b) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*b - *a).count();
}

json orNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string plural(long long n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The review as data: what --format json prints and the Markdown is made of.
json reviewOf(const json& incident, kube::WallTime now) {
  const json spec = incident.value("spec", json::object());
  const json alert = spec.value("alert", json::object());
  const json status = incident.value("status", json::object());
  const json runbook = status.value("runbook", json::object());
  const json rbSpec = runbook.value("spec", json::object());
  std::string name = kube::nameOf(incident), ns = kube::namespaceOf(incident);
  std::string phase = status.value("phase", "Pending");
  json r;
  r["incident"] = {{"name", name},
                   {"namespace", ns},
                   {"source", spec.value("source", "")},
                   {"dryRun", spec.value("dryRun", false)}};
  std::string severity = rbSpec.value("severity", "");
  if (severity.empty()) severity = alert.value("labels", json::object()).value("severity", "");
  r["severity"] = orNull(severity);
  std::string fired = alert.value("startsAt", "");
  std::string resolved;
  if (alert.value("status", "") == "resolved") resolved = alert.value("endsAt", "");
  if (resolved.empty()) resolved = status.value("resolvedAt", "");
  r["alert"] = {{"name", alert.value("name", "")},
                {"status", alert.value("status", "")},
                {"labels", alert.value("labels", json::object())},
                {"annotations", alert.value("annotations", json::object())},
                {"firedAt", orNull(fired)},
                {"resolvedAt", orNull(resolved)},
                {"fingerprint", orNull(alert.value("fingerprint", ""))},
                {"generatorURL", orNull(alert.value("generatorURL", ""))}};
  r["runbook"] = runbook.empty() ? json(nullptr)
                                 : json{{"name", runbook.value("name", "")},
                                        {"generation", runbook.value("generation", 0)},
                                        {"description", orNull(rbSpec.value("description", ""))}};
  json outcome = {{"phase", phase},
                  {"startedAt", orNull(status.value("startedAt", ""))},
                  {"finishedAt", orNull(status.value("finishedAt", ""))}};
  if (const json* c = conditionOf(incident, "Completed")) {
    outcome["reason"] = c->value("reason", "");
    outcome["message"] = c->value("message", "");
  }
  r["outcome"] = outcome;
  json impact = {
      {"start", orNull(fired)}, {"end", orNull(resolved)}, {"ongoing", resolved.empty()}};
  std::string impactEnd = resolved.empty() ? kube::formatRfc3339(now) : resolved;
  if (auto s = secondsBetween(fired, impactEnd)) impact["durationSeconds"] = *s;
  r["impact"] = impact;

  json timeline = json::array();
  if (!fired.empty())
    timeline.push_back(
        {{"time", fired}, {"type", "AlertFired"}, {"message", alert.value("name", "") + " fired"}});
  for (const auto& t : status.value("timeline", json::array())) {
    json e = {{"time", t.value("time", "")},
              {"type", t.value("type", "")},
              {"message", t.value("message", "")}};
    if (t.contains("step")) e["step"] = t["step"];
    timeline.push_back(e);
  }
  if (alert.value("status", "") == "resolved" && !alert.value("endsAt", "").empty())
    timeline.push_back({{"time", alert.value("endsAt", "")},
                        {"type", "AlertEnded"},
                        {"message", alert.value("name", "") + " stopped firing (endsAt)"}});
  std::stable_sort(timeline.begin(), timeline.end(), [](const json& a, const json& b) {
    return a.value("time", "") < b.value("time", "");
  });
  r["timeline"] = timeline;
  r["droppedTimelineEntries"] = status.value("droppedTimelineEntries", 0);

  json automatic = json::array(), people = json::array(), reverted = json::array();
  json followUps = json::array();
  for (const auto& st : status.value("steps", json::array())) {
    std::string step = st.value("name", "");
    const json* def = stepSpecOf(incident, step);
    std::string stepPhase = st.value("phase", "Pending");
    json a = {{"step", step},
              {"action", def ? actionOf(*def) : ""},
              {"phase", stepPhase},
              {"attempts", st.value("attempts", 0)},
              {"startedAt", orNull(st.value("startedAt", ""))},
              {"finishedAt", orNull(st.value("finishedAt", ""))},
              {"message", orNull(st.value("message", ""))},
              {"dryRun", st.value("dryRun", false)},
              {"outputs", st.value("outputs", json::object())}};
    if (auto s = secondsBetween(st.value("startedAt", ""), st.value("finishedAt", "")))
      a["durationSeconds"] = *s;
    if (st.contains("when")) a["when"] = st["when"];
    automatic.push_back(a);
    if (stepPhase == "Failed")
      followUps.push_back("Find out why step " + step + " failed: " + st.value("message", ""));
    if (stepPhase == "AwaitingApproval")
      followUps.push_back("Decide on step " + step +
                          ", which still waits for approval (kubectl remedy describe " + name +
                          " -n " + ns + ")");
    if (st.contains("revert")) {
      const json rv = st["revert"];
      std::string state = rv.value("state", "");
      json entry = {{"step", step},
                    {"state", state},
                    {"revertedAt", orNull(rv.value("revertedAt", ""))},
                    {"dueAt", orNull(rv.value("dueAt", ""))},
                    {"onResolved", rv.value("onResolved", false)},
                    {"message", orNull(rv.value("message", ""))}};
      reverted.push_back(entry);
      if (state == "Pending") {
        std::string due = rv.contains("dueAt") ? "due at " + utcDateTime(rv.value("dueAt", ""))
                                               : "when the alert resolves";
        followUps.push_back("The change of step " + step + " is still in place (revert " + due +
                            "); to revert it now: kubectl remedy revert " + name + " -n " + ns);
      } else if (state == "Refused" || state == "Failed") {
        followUps.push_back("The change of step " + step + " was not reverted (" + state + ": " +
                            rv.value("message", "") + "); check the object by hand");
      }
    }
  }
  for (const auto& ap : status.value("approvals", json::array())) {
    std::string decision = ap.value("decision", "");
    std::string what =
        ap.value("step", "").empty() ? "the incident" : "step " + ap.value("step", "");
    people.push_back({{"time", ap.value("time", "")},
                      {"who", ap.value("approver", "")},
                      {"what", std::string(decision == "Approve" ? "approved " : "rejected ") +
                                   what + " (Approval " + ap.value("name", "") + ")"}});
  }
  const json annotations =
      incident.value("metadata", json::object()).value("annotations", json::object());
  if (annotations.contains("remedy.dev/revert-requested")) {
    people.push_back({{"time", annotations.value("remedy.dev/revert-requested", "")},
                      {"who", nullptr},
                      {"what", "asked for the pending reverts now (remedyctl revert)"}});
  }
  if (spec.value("source", "") == "Manual")
    people.push_back(
        {{"time", nullptr}, {"who", nullptr}, {"what", "created the Incident by hand"}});
  r["actions"] = {{"automatic", automatic}, {"byPeople", people}};
  r["reverted"] = reverted;

  json escalations = json::array();
  for (const auto& e : status.value("escalations", json::array())) {
    escalations.push_back({{"name", e.value("name", "")},
                           {"tier", e.contains("tier") ? e["tier"] : json(nullptr)},
                           {"firedAt", orNull(e.value("firedAt", ""))},
                           {"state", e.value("state", "")},
                           {"message", orNull(e.value("message", ""))}});
    if (e.value("state", "") == "Failed")
      followUps.push_back("Escalation " + e.value("name", "") +
                          " was not delivered: " + e.value("message", ""));
  }
  r["escalations"] = escalations;

  if (alert.value("status", "") != "resolved" && resolved.empty())
    followUps.push_back("The alert " + alert.value("name", "") +
                        " was still firing when this review was generated");
  if (phase == "Escalated" || phase == "Failed")
    followUps.push_back("Remedy did not fix this: the Incident ended " + phase +
                        "; record what people did to resolve it");
  if (phase == "Skipped")
    followUps.push_back("The Runbook did not run (" + outcome.value("message", "") +
                        "); check that someone handled the alert");
  if (!isFinalPhase(phase) && phase != "AwaitingApproval")
    followUps.push_back("The Incident is still " + phase +
                        "; generate this review again when it ends");
  followUps.push_back("Write down the root cause and how to prevent it");
  if (!runbook.empty())
    followUps.push_back("Review Runbook " + runbook.value("name", "") +
                        ": did its steps fit this incident?");
  r["followUps"] = followUps;

  // One paragraph a reader can paste as is.
  std::string summary = alert.value("name", "The alert");
  if (!fired.empty()) summary += " fired at " + utcDateTime(fired);
  std::string labels;
  const json alertLabels = alert.value("labels", json::object());
  for (const auto& [k, v] : alertLabels.items()) {
    if (k == "alertname") continue;
    labels +=
        (labels.empty() ? "" : ", ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  if (!labels.empty()) summary += " (" + labels + ")";
  summary += ".";
  if (!runbook.empty()) {
    long long ok = 0, failed = 0, skipped = 0, other = 0;
    for (const auto& a : automatic) {
      std::string p = a.value("phase", "");
      if (p == "Succeeded")
        ++ok;
      else if (p == "Failed")
        ++failed;
      else if (p == "Skipped")
        ++skipped;
      else
        ++other;
    }
    summary += " Remedy matched Runbook " + runbook.value("name", "") + " and ";
    summary += "of its " + plural(static_cast<long long>(automatic.size()), "step", "steps") + ", ";
    std::vector<std::string> parts;
    if (ok) parts.push_back(std::to_string(ok) + " succeeded");
    if (failed) parts.push_back(std::to_string(failed) + " failed");
    if (skipped) parts.push_back(std::to_string(skipped) + " were skipped");
    if (other) parts.push_back(std::to_string(other) + " did not run yet");
    for (size_t i = 0; i < parts.size(); ++i)
      summary += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
    summary += ".";
  } else {
    summary += " No Runbook was chosen.";
  }
  if (isFinalPhase(phase)) {
    summary += " The Incident ended " + phase;
    if (outcome.contains("message")) summary += " (" + outcome.value("message", "") + ")";
    std::string took =
        durationBetween(status.value("startedAt", ""), status.value("finishedAt", ""));
    if (!took.empty()) summary += " " + took + " after Remedy started";
    summary += ".";
  } else {
    summary += " The Incident is " + phase + ".";
  }
  if (!people.empty())
    summary +=
        " People took " + plural(static_cast<long long>(people.size()), "action", "actions") + ".";
  long long undone = std::count_if(reverted.begin(), reverted.end(), [](const json& x) {
    return x.value("state", "") == "Reverted";
  });
  if (undone) summary += " " + plural(undone, "change was", "changes were") + " reverted.";
  if (!resolved.empty()) {
    summary += " The alert resolved at " + utcDateTime(resolved) + ", " +
               durationBetween(fired, resolved) + " after it fired.";
  }
  r["summary"] = summary;
  return r;
}

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

std::string markdownOf(const json& r) {
  std::string md;
  auto line = [&](const std::string& s = "") { md += s + "\n"; };
  const json& alert = r["alert"];
  const json& incident = r["incident"];
  std::string ns = str(incident["namespace"]), name = str(incident["name"]);
  line("# Post-incident review: " + str(alert["name"]) + " in " + ns);
  line();
  line("| | |");
  line("| --- | --- |");
  line("| Incident | `" + ns + "/" + name + "` (source " + str(incident["source"]) +
       (incident.value("dryRun", false) ? ", dry run" : "") + ") |");
  const json& outcome = r["outcome"];
  line("| Status | " +
       cell(str(outcome["phase"]) +
            (outcome.contains("reason")
                 ? " (" + str(outcome["reason"]) + ": " + str(outcome["message"]) + ")"
                 : "")) +
       " |");
  if (!r["severity"].is_null()) line("| Severity | " + cell(str(r["severity"])) + " |");
  std::string summaryAnnotation = alert["annotations"].value("summary", "");
  line("| Alert | " +
       cell(str(alert["name"]) + (summaryAnnotation.empty() ? "" : ": " + summaryAnnotation)) +
       " |");
  if (!r["runbook"].is_null())
    line("| Runbook | " +
         cell(str(r["runbook"]["name"]) + ", generation " +
              std::to_string(r["runbook"].value("generation", 0))) +
         " |");
  const json& impact = r["impact"];
  std::string window = impact["start"].is_null() ? "unknown" : utcDateTime(str(impact["start"]));
  window += " to " + (impact.value("ongoing", false) ? std::string("(still firing)")
                                                     : utcDateTime(str(impact["end"])));
  if (impact.contains("durationSeconds"))
    window += " (" + formatDuration(std::chrono::seconds(impact.value("durationSeconds", 0LL))) +
              (impact.value("ongoing", false) ? " so far" : "") + ")";
  line("| Impact window | " + cell(window) + " |");
  line();
  line("## Summary");
  line();
  line(str(r["summary"]));
  line();
  line("## Impact");
  line();
  line("- **Start**: " +
       (impact["start"].is_null() ? "unknown" : utcDateTime(str(impact["start"]))) +
       " (the alert fired)");
  line("- **End**: " + (impact.value("ongoing", false)
                            ? std::string("not resolved when this review was generated")
                            : utcDateTime(str(impact["end"])) + " (the alert resolved)"));
  if (impact.contains("durationSeconds"))
    line("- **Duration**: " +
         formatDuration(std::chrono::seconds(impact.value("durationSeconds", 0LL))));
  std::string labels;
  for (const auto& [k, v] : alert["labels"].items())
    labels += (labels.empty() ? "" : ", ") + std::string("`") + k + "=" + str(v) + "`";
  if (!labels.empty()) line("- **Affected**: " + labels);
  line("- **Users and business**: _to be filled in by the reviewer_");
  line();
  line("## Detection");
  line();
  line("- **Alert**: " + str(alert["name"]) +
       (alert["generatorURL"].is_null() ? "" : ", from " + str(alert["generatorURL"])));
  for (const auto& [k, v] : alert["annotations"].items()) line("- **" + k + "**: " + str(v));
  if (!alert["fingerprint"].is_null())
    line("- **Fingerprint**: `" + str(alert["fingerprint"]) + "`");
  line();
  line("## Timeline (UTC)");
  line();
  if (r.value("droppedTimelineEntries", 0) > 0)
    line("_" + std::to_string(r.value("droppedTimelineEntries", 0)) +
         " older entries were dropped from the Incident's record._\n");
  line("| Time | Event | Detail |");
  line("| --- | --- | --- |");
  for (const auto& t : r["timeline"]) {
    std::string detail = str(t["message"]);
    std::string step = t.value("step", "");
    if (!step.empty() && detail.rfind(step + ":", 0) != 0) detail = step + ": " + detail;
    line("| " + utcDateTime(str(t["time"])).substr(0, 19) + " | " + cell(str(t["type"])) + " | " +
         cell(detail) + " |");
  }
  line();
  line("## Actions taken");
  line();
  line("### Automatically, by Remedy");
  line();
  const json& automatic = r["actions"]["automatic"];
  if (automatic.empty()) {
    line("None.");
  } else {
    line("| # | Step | Action | Result | Attempts | Took | Detail |");
    line("| --- | --- | --- | --- | --- | --- | --- |");
    int n = 0;
    for (const auto& a : automatic) {
      std::string took = a.contains("durationSeconds")
                             ? formatDuration(std::chrono::seconds(a.value("durationSeconds", 0LL)))
                             : "";
      std::string detail = str(a["message"]);
      if (a.contains("when")) {
        detail = "when `" + a["when"].value("expression", "") + "` was " +
                 (a["when"].value("result", false) ? "true" : "false") +
                 (detail.empty() ? "" : "; " + detail);
      }
      line("| " + std::to_string(++n) + " | " + cell(str(a["step"])) + " | " +
           cell(str(a["action"])) + " | " + str(a["phase"]) +
           (a.value("dryRun", false) ? " (dry run)" : "") + " | " +
           std::to_string(a.value("attempts", 0)) + " | " + took + " | " + cell(detail) + " |");
    }
  }
  line();
  line("### By people");
  line();
  if (r["actions"]["byPeople"].empty()) line("None.");
  for (const auto& p : r["actions"]["byPeople"]) {
    std::string when = p["time"].is_null() ? "" : utcDateTime(str(p["time"])) + ": ";
    line("- " + when + (p["who"].is_null() ? "someone" : str(p["who"])) + " " + str(p["what"]));
  }
  line();
  line("## Reverted");
  line();
  if (r["reverted"].empty()) line("Nothing was set to be reverted.");
  for (const auto& v : r["reverted"]) {
    std::string state = str(v["state"]);
    std::string when = !v["revertedAt"].is_null()     ? " at " + utcDateTime(str(v["revertedAt"]))
                       : !v["dueAt"].is_null()        ? ", due at " + utcDateTime(str(v["dueAt"]))
                       : v.value("onResolved", false) ? ", when the alert resolves"
                                                      : "";
    line("- **" + str(v["step"]) + "**: " + state + when +
         (v["message"].is_null() ? "" : ": " + str(v["message"])));
  }
  line();
  line("## Escalation");
  line();
  if (r["escalations"].empty()) line("No escalation fired.");
  for (const auto& e : r["escalations"]) {
    line("- " + (e["firedAt"].is_null() ? "" : utcDateTime(str(e["firedAt"])) + ": ") +
         str(e["name"]) + ", " + str(e["state"]) +
         (e["message"].is_null() ? "" : ": " + str(e["message"])));
  }
  line();
  line("## Root cause");
  line();
  line("_To be written by the reviewer._");
  line();
  line("## Prevention");
  line();
  line("_To be written by the reviewer._");
  line();
  line("## Follow-ups");
  line();
  for (const auto& f : r["followUps"]) line("- [ ] " + str(f));
  return md;
}

}  // namespace

int runReport(const Args& args) {
  ClusterFlags flags;
  Args rest;
  if (auto error = takeClusterFlags(args, &flags, &rest)) {
    std::fprintf(stderr, "remedyctl report: %s\n", error->c_str());
    return 2;
  }
  std::string name, format = "markdown";
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: remedyctl report INCIDENT [--format markdown|json] [-n NAMESPACE]\n\n"
          "Writes a post-incident review of the Incident from its own record, ready to\n"
          "paste into a ticket: summary, impact window (alert start to resolution),\n"
          "detection, timeline in UTC, actions taken automatically and by people, what\n"
          "was reverted, escalation, and the follow-ups left open. Root cause and\n"
          "prevention are left for the reviewer.\n\nflags:\n"
          "  --format FORMAT     markdown (default) or json\n%s",
          kClusterFlagsHelp);
      return 0;
    } else if (a == "--format" && i + 1 < rest.size()) {
      format = rest[++i];
    } else if (a.rfind("--format=", 0) == 0) {
      format = a.substr(9);
    } else if (!a.empty() && a[0] != '-' && name.empty()) {
      name = a;
    } else {
      std::fprintf(stderr, "remedyctl report: unexpected argument \"%s\"\n", a.c_str());
      return 2;
    }
  }
  if (format != "markdown" && format != "json") {
    std::fprintf(stderr, "remedyctl report: --format: \"%s\" is not markdown or json\n",
                 format.c_str());
    return 2;
  }
  if (name.empty()) {
    std::fprintf(stderr, "remedyctl report: name the Incident (see --help)\n");
    return 2;
  }
  Output out;
  if (auto error = makeOutput("never", &out)) {
    std::fprintf(stderr, "remedyctl report: %s\n", error->c_str());
    return 2;
  }
  auto cluster = connect(flags, "report");
  if (!cluster) return 1;
  auto got = cluster->client->get(engine::incidents(), cluster->namespace_, name);
  if (!got.ok()) {
    std::fprintf(stderr, "remedyctl report: incident %s/%s: %s\n", cluster->namespace_.c_str(),
                 name.c_str(), got.status().message().c_str());
    return 1;
  }
  json review = reviewOf(*got, out.now);
  review["generatedAt"] = kube::formatRfc3339(out.now);
  std::string text = format == "json" ? review.dump(2) + "\n" : markdownOf(review);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace remedy::cli
