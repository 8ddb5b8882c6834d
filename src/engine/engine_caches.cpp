#include "engine/engine_caches.h"

#include "api/incident.h"
#include "api/runbook.h"
#include "engine/incident_reconciler.h"
#include "engine/incident_work.h"
#include "engine/resources.h"
#include "engine/runbook_selector.h"

#include <algorithm>
#include <cstdlib>

namespace remedy::engine {

using json = nlohmann::json;

namespace {

constexpr const char* kTriggerIndex = "triggerAlertName";

// 0 when it is not a number (then no event is judged older than another).
int64_t revision(const json& object) {
  std::string rv = kube::resourceVersionOf(object);
  if (rv.empty()) return 0;
  char* end = nullptr;
  long long value = std::strtoll(rv.c_str(), &end, 10);
  return end && *end == '\0' ? value : 0;
}

// "ns/alertName" for each trigger naming an alert, "ns/" for each that
// names none (its matchers decide).
std::vector<std::string> triggerAlertNames(const json& runbook) {
  std::vector<std::string> out;
  std::string ns = kube::namespaceOf(runbook);
  const json spec = runbook.value("spec", json::object());
  const json triggers = spec.value("triggers", json::array());
  if (!triggers.is_array()) return out;
  for (const auto& t : triggers) {
    std::string name;
    if (t.is_object() && t.contains("alertName") && t["alertName"].is_string()) {
      name = t["alertName"].get<std::string>();
    }
    out.push_back(ns + "/" + name);
  }
  return out;
}

kube::InformerOptions inNamespace(const std::string& ns) {
  kube::InformerOptions o;
  o.namespace_ = ns;
  return o;
}

}  // namespace

std::optional<IncidentView> incidentViewOf(const json& item) {
  auto incident = api::Incident::fromJson(item);
  if (!incident.ok()) return std::nullopt;
  if (incident->spec && incident->spec->source == api::IncidentSource::kDrill) return std::nullopt;
  IncidentView v;
  v.name = kube::nameOf(item);
  v.order = item["metadata"].value("creationTimestamp", "") + "/" + v.name;
  if (incident->status) {
    const api::IncidentStatus& s = *incident->status;
    v.phase = s.phase;
    if (s.runbook) v.runbook = s.runbook->name.value_or("");
    v.finishedAt = parseTime(s.finishedAt);
    for (const auto& st : s.steps.value_or(std::vector<api::StepStatus>{})) {
      if (st.attempts.value_or(0) == 0) continue;
      v.executed = true;
      auto started = parseTime(st.startedAt);
      if (started && (!v.startedAt || *started < *v.startedAt)) v.startedAt = started;
    }
    if (s.runbook && s.runbook->spec) {
      if (auto spec = api::fromJson<api::RunbookSpec>(*s.runbook->spec); spec.ok()) {
        for (const auto& t : incidentTargets(*incident, *spec)) v.targets.insert(t.key());
      }
    }
  }
  return v;
}

EngineCaches::EngineCaches(kube::Client& client, EngineCachesOptions options)
    : options_(std::move(options)) {
  auto informersFor = [&](const kube::Resource& resource) {
    std::vector<std::unique_ptr<kube::Informer>> out;
    if (options_.namespaces.empty()) {
      out.push_back(std::make_unique<kube::Informer>(client, resource));
    } else {
      for (const auto& ns : options_.namespaces) {
        out.push_back(std::make_unique<kube::Informer>(client, resource, inNamespace(ns)));
      }
    }
    return out;
  };
  runbooks_ = informersFor(runbooks());
  incidentInformers_ = informersFor(incidents());
  // Only the pause switch of the operator's namespace, not its ConfigMaps.
  kube::InformerOptions pause = inNamespace(options_.pauseNamespace);
  pause.reflector.fieldSelector = "metadata.name=" + options_.pauseName;
  pause_ = std::make_unique<kube::Informer>(client, kube::resources::configMaps(), pause);

  for (auto& informer : runbooks_) informer->addIndexer(kTriggerIndex, triggerAlertNames);
  kube::EventHandler handler;
  handler.onAdd = [this](const json& object, bool) { upsertIncident(object, false); };
  handler.onUpdate = [this](const json&, const json& object) { upsertIncident(object, false); };
  handler.onDelete = [this](const json& object, bool) { eraseIncident(kube::objectKey(object)); };
  for (auto& informer : incidentInformers_) informer->addEventHandler(handler);
}

EngineCaches::~EngineCaches() { stop(); }

void EngineCaches::start() {
  for (auto& informer : runbooks_) informer->start();
  for (auto& informer : incidentInformers_) informer->start();
  pause_->start();
}

void EngineCaches::stop() {
  pause_->stop();
  for (auto& informer : incidentInformers_) informer->stop();
  for (auto& informer : runbooks_) informer->stop();
}

bool EngineCaches::synced() const {
  for (const auto* group : {&runbooks_, &incidentInformers_}) {
    for (const auto& informer : *group) {
      if (!informer->hasSynced()) return false;
    }
  }
  return pause_->hasSynced();
}

bool EngineCaches::runbooksSynced() const {
  return std::all_of(runbooks_.begin(), runbooks_.end(),
                     [](const auto& informer) { return informer->hasSynced(); });
}

bool EngineCaches::waitForSync(kube::Duration timeout) const {
  auto deadline = kube::Clock::real().now() + timeout;
  for (const auto* group : {&runbooks_, &incidentInformers_}) {
    for (const auto& informer : *group) {
      if (!informer->waitForSync(deadline - kube::Clock::real().now())) return false;
    }
  }
  return pause_->waitForSync(deadline - kube::Clock::real().now());
}

std::vector<kube::Informer*> EngineCaches::runbookInformers() const {
  std::vector<kube::Informer*> out;
  for (const auto& informer : runbooks_) out.push_back(informer.get());
  return out;
}

std::vector<kube::Informer*> EngineCaches::incidentInformers() const {
  std::vector<kube::Informer*> out;
  for (const auto& informer : incidentInformers_) out.push_back(informer.get());
  return out;
}

std::optional<std::vector<json>> EngineCaches::runbooksForAlert(
    const std::string& ns, const std::string& alertName) const {
  std::vector<json> out;
  for (const auto& informer : runbooks_) {
    if (!informer->hasSynced()) return std::nullopt;
    std::set<std::string> seen;
    for (const std::string& value : {ns + "/" + alertName, ns + "/"}) {
      for (auto& runbook : informer->byIndex(kTriggerIndex, value)) {
        if (seen.insert(kube::nameOf(runbook)).second) out.push_back(std::move(runbook));
      }
    }
  }
  return out;
}

std::optional<json> EngineCaches::runbook(const std::string& ns, const std::string& name) const {
  std::string key = kube::objectKey(ns, name);
  std::optional<json> cached;
  for (const auto& informer : runbooks_) {
    if (!informer->hasSynced()) return std::nullopt;
    if (auto found = informer->get(key)) cached = std::move(found);
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto written = runbookWrites_.find(key);
  if (written != runbookWrites_.end()) {
    if (!cached || revision(written->second) > revision(*cached)) return written->second;
  }
  return cached;
}

void EngineCaches::assumeRunbook(const json& written) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = runbookWrites_[kube::objectKey(written)];
  if (slot.is_null() || revision(written) >= revision(slot)) slot = written;
}

std::optional<bool> EngineCaches::paused() const {
  if (!pause_->hasSynced()) return std::nullopt;
  auto cm = pause_->get(options_.pauseNamespace, options_.pauseName);
  if (!cm) return false;
  return cm->value("data", json::object()).value("paused", "") == "true";
}

std::optional<std::vector<IncidentView>> EngineCaches::incidentViews(
    const std::string& ns, const std::string& self, const std::string& runbook,
    const std::set<std::string>& targets) const {
  for (const auto& informer : incidentInformers_) {
    if (!informer->hasSynced()) return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> keys;
  auto add = [&](const std::map<std::string, std::set<std::string>>& index,
                 const std::string& value) {
    auto it = index.find(value);
    if (it != index.end()) keys.insert(it->second.begin(), it->second.end());
  };
  for (const auto& t : targets) add(byTarget_, ns + "|" + t);
  if (!runbook.empty()) add(byRunbook_, ns + "/" + runbook);
  add(unmatched_, ns);
  keys.erase(kube::objectKey(ns, self));
  std::vector<IncidentView> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(incidents_.at(key).view);
  return out;
}

std::optional<IncidentView> EngineCaches::incidentView(const std::string& ns,
                                                       const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = incidents_.find(kube::objectKey(ns, name));
  if (it == incidents_.end()) return std::nullopt;
  return it->second.view;
}

EngineCaches::IncidentRead EngineCaches::incident(const std::string& ns,
                                                  const std::string& name) const {
  IncidentRead read;
  std::string key = kube::objectKey(ns, name);
  for (const auto& informer : incidentInformers_) {
    if (!informer->hasSynced()) return read;
  }
  read.synced = true;
  for (const auto& informer : incidentInformers_) {
    if (auto found = informer->get(key)) read.object = std::move(found);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto written = incidentWrites_.find(key);
    if (written != incidentWrites_.end() &&
        (!read.object || revision(written->second) > revision(*read.object))) {
      read.object = written->second;
    }
  }
  read.stale = read.object && stale(incidents(), *read.object);
  return read;
}

namespace {
std::string conflictKey(const kube::Resource& resource, const json& object) {
  return resource.resource + "/" + kube::objectKey(object);
}
}  // namespace

void EngineCaches::conflicted(const kube::Resource& resource, const json& sent) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t& rv = conflicts_[conflictKey(resource, sent)];
  rv = std::max(rv, revision(sent));
}

bool EngineCaches::stale(const kube::Resource& resource, const json& copy) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conflicts_.find(conflictKey(resource, copy));
  if (it == conflicts_.end()) return false;
  if (revision(copy) <= it->second) return true;
  conflicts_.erase(it);  // a newer version is here
  return false;
}

void EngineCaches::assumeIncident(const json& written) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = incidentWrites_[kube::objectKey(written)];
    if (slot.is_null() || revision(written) >= revision(slot)) slot = written;
  }
  upsertIncident(written, true);
}

void EngineCaches::claim(const std::string& key, IncidentView view) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = incidents_.find(key);
  std::optional<Entry> before;
  if (it != incidents_.end()) {
    before = it->second;
    unindexLocked(key, it->second);
  }
  if (!beforeClaims_.count(key)) beforeClaims_[key] = before;
  Entry entry;
  entry.ns = kube::splitObjectKey(key).first;
  entry.view = std::move(view);
  entry.resourceVersion = before ? before->resourceVersion : 0;
  entry.claimed = true;
  indexLocked(key, entry);
  incidents_[key] = std::move(entry);
}

void EngineCaches::dropClaim(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto claimed = beforeClaims_.find(key);
  if (claimed == beforeClaims_.end()) return;
  auto it = incidents_.find(key);
  if (it != incidents_.end()) {
    unindexLocked(key, it->second);
    incidents_.erase(it);
  }
  if (claimed->second) {
    indexLocked(key, *claimed->second);
    incidents_[key] = *claimed->second;
  }
  beforeClaims_.erase(claimed);
}

size_t EngineCaches::incidentCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return incidents_.size();
}

std::optional<std::set<std::string>> EngineCaches::predictTargets(const json& object) const {
  auto incident = api::Incident::fromJson(object);
  if (!incident.ok() || !incident->spec) return std::nullopt;
  const api::IncidentSpec& spec = *incident->spec;
  std::string ns = kube::namespaceOf(object);
  std::optional<std::vector<json>> runbooks;
  if (spec.runbookRef && spec.runbookRef->name) {
    if (auto rb = runbook(ns, *spec.runbookRef->name)) runbooks = std::vector<json>{*rb};
  } else {
    runbooks = runbooksForAlert(ns, spec.alert ? spec.alert->name.value_or("") : "");
  }
  if (!runbooks) return std::nullopt;
  return engine::predictTargets(*incident, *runbooks);
}

void EngineCaches::upsertIncident(const json& object, bool own) {
  std::string key = kube::objectKey(object);
  std::optional<IncidentView> view = incidentViewOf(object);
  // Before mu_ (the Runbook cache takes it).
  if (view && view->runbook.empty() && view->active()) {
    view->predictedTargets = predictTargets(object);
  }
  int64_t rv = revision(object);
  std::lock_guard<std::mutex> lock(mu_);
  if (!own) {
    // The informer has caught up with a write of this process.
    auto written = incidentWrites_.find(key);
    if (written != incidentWrites_.end() && rv > 0 && rv >= revision(written->second)) {
      incidentWrites_.erase(written);
    }
  }
  auto it = incidents_.find(key);
  if (!own && it != incidents_.end() && rv > 0 && rv < it->second.resourceVersion) {
    return;  // older than a write of this process
  }
  std::optional<Entry> entry;
  if (view) entry = Entry{kube::namespaceOf(object), std::move(*view), rv, false};
  if (!own && it != incidents_.end() && it->second.claimed) {
    // The claim holds until its writer resolves it; a drop restores this.
    beforeClaims_[key] = std::move(entry);
    return;
  }
  if (it != incidents_.end()) {
    unindexLocked(key, it->second);
    incidents_.erase(it);
  }
  if (own) beforeClaims_.erase(key);
  if (!entry) return;
  indexLocked(key, *entry);
  incidents_[key] = std::move(*entry);
}

void EngineCaches::eraseIncident(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  beforeClaims_.erase(key);
  incidentWrites_.erase(key);
  conflicts_.erase(incidents().resource + "/" + key);
  auto it = incidents_.find(key);
  if (it == incidents_.end()) return;
  unindexLocked(key, it->second);
  incidents_.erase(it);
}

// Finished Incidents are indexed by target only (one remediation per
// target, and executions of other Runbooks on it); executions of the same
// Runbook come from its status.history, so a Runbook with thousands of
// finished Incidents costs a check no more than one with none.
void EngineCaches::indexLocked(const std::string& key, const Entry& entry) {
  for (const auto& t : entry.view.targets) byTarget_[entry.ns + "|" + t].insert(key);
  if (!entry.view.active()) return;
  if (entry.view.runbook.empty()) {
    unmatched_[entry.ns].insert(key);
  } else {
    byRunbook_[entry.ns + "/" + entry.view.runbook].insert(key);
  }
}

void EngineCaches::unindexLocked(const std::string& key, const Entry& entry) {
  auto remove = [&](std::map<std::string, std::set<std::string>>& index, const std::string& value) {
    auto it = index.find(value);
    if (it == index.end()) return;
    it->second.erase(key);
    if (it->second.empty()) index.erase(it);
  };
  for (const auto& t : entry.view.targets) remove(byTarget_, entry.ns + "|" + t);
  remove(unmatched_, entry.ns);
  if (!entry.view.runbook.empty()) remove(byRunbook_, entry.ns + "/" + entry.view.runbook);
}

}  // namespace remedy::engine
