// What `get`, `describe`, `report` and `watch` share: reading an Incident's
// own status record (phase, steps, approvals, reverts, escalations, the
// bounded timeline) into the words and times an on-call person reads, and how
// to print them (80 columns, colour only on a terminal).
#pragma once

#include "cli/commands.h"
#include "kube/client.h"
#include "kube/clock.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::cli {

using json = nlohmann::json;

// How a command prints: colour or not, the width text wraps at, and the time
// ages are measured from.
struct Output {
  bool colour = false;
  int width = 80;
  kube::WallTime now;
};

// `--color auto|always|never` (auto: when stdout is a terminal and NO_COLOR is
// unset). REMEDYCTL_NOW (RFC 3339) fixes "now", so output can be reproduced.
// Returns an error naming the flag, or nullopt.
std::optional<std::string> makeOutput(const std::string& colorFlag, Output* out);

enum class Colour { kNone, kGreen, kRed, kYellow, kCyan, kDim, kBold };
std::string paint(const Output& out, Colour colour, const std::string& text);
// Green for Succeeded, red for Failed and Escalated, yellow while waiting.
Colour phaseColour(const std::string& phase);

bool isFinalPhase(const std::string& phase);

std::optional<kube::WallTime> timeAt(const json& object, const char* key);
// "5s", "3m12s", "2h5m", "3d4h", as kubectl prints ages.
std::string formatDuration(std::chrono::seconds d);
// "2026-12-06 20:14:45 UTC" and "20:14:45" from an RFC 3339 time; the input
// itself when it does not parse.
std::string utcDateTime(const std::string& rfc3339);
std::string utcClock(const std::string& rfc3339);
// The duration between two RFC 3339 times, "" when either is missing.
std::string durationBetween(const std::string& from, const std::string& to);

// `text` in lines of at most `width` columns (words longer than a line are
// cut), the first prefixed by `first`, the rest by `rest`.
std::vector<std::string> wrap(const std::string& text, size_t width, const std::string& first,
                              const std::string& rest);

// The step's definition in the Runbook spec the Incident ran (status.runbook
// .spec), or null.
const json* stepSpecOf(const json& incident, const std::string& step);
// The step's action field ("scale", "waitFor", ...), "" when unknown.
std::string actionOf(const json& stepSpec);

// What the Incident waits for now, in a few words: "approval of raise-pool",
// "guardrail oneRemediationPerTarget", "retry in 12s", "revert in 1h",
// "revert on resolve"; "" when nothing.
std::string waitingFor(const json& incident, kube::WallTime now);

// The condition of `type`, or null.
const json* conditionOf(const json& incident, const std::string& type);

// Incidents of `ns` (every namespace when empty), every page.
kube::Result<std::vector<json>> listIncidents(kube::Client& client, const std::string& ns);
// Kubernetes Events about the Incident: on it, and on the objects its steps
// touched (their message names it), oldest first. Events expire (an hour by
// default); the status record does not.
std::vector<json> eventsAbout(kube::Client& client, const json& incident);

// JSON as YAML (block style, strings quoted when YAML would read them as
// something else), as `kubectl get -o yaml` prints.
std::string toYaml(const json& value);

}  // namespace remedy::cli
