#include "sandbox/workload_simulator.h"

#include "formats/rfc3339.h"
#include "sandbox/disruption.h"
#include "sandbox/object_meta.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <random>
#include <set>
#include <vector>

namespace remedy::sandbox {

namespace {

using SteadyClock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

const char* const kHashLabel = "pod-template-hash";
const char* const kRevisionAnnotation = "deployment.kubernetes.io/revision";
const char* const kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
const char* const kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
const char* const kRevisionHashLabel = "controller-revision-hash";
const char* const kHostIp = "172.18.0.2";
const char* const kFieldManager = "kube-controller-manager";
constexpr Ms kMaxBackoff{10000};

// ---- JSON access that tolerates missing and mistyped fields ----

const json& at(const json& o, const char* k) {
  static const json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(k);
  return it == o.end() ? kNull : *it;
}

std::string str(const json& o, const char* k) {
  const json& v = at(o, k);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t num(const json& o, const char* k, int64_t otherwise = 0) {
  const json& v = at(o, k);
  return v.is_number_integer() ? v.get<int64_t>() : otherwise;
}

bool flag(const json& o, const char* k) {
  const json& v = at(o, k);
  return v.is_boolean() && v.get<bool>();
}

const json& meta(const json& o) { return at(o, "metadata"); }
std::string nameOf(const json& o) { return str(meta(o), "name"); }
std::string uidOf(const json& o) { return str(meta(o), "uid"); }
bool terminating(const json& o) { return meta(o).contains("deletionTimestamp"); }
std::string annotation(const json& o, const char* k) { return str(at(meta(o), "annotations"), k); }

const json* controllerOf(const json& o) {
  const json& refs = at(meta(o), "ownerReferences");
  if (!refs.is_array()) return nullptr;
  for (const auto& r : refs) {
    if (flag(r, "controller")) return &r;
  }
  return nullptr;
}

bool controlledBy(const json& o, const std::string& uid) {
  const json* ref = controllerOf(o);
  return ref && str(*ref, "uid") == uid;
}

json controllerRef(const std::string& apiVersion, const std::string& kind, const json& owner) {
  return {{"apiVersion", apiVersion}, {"kind", kind},       {"name", nameOf(owner)},
          {"uid", uidOf(owner)},      {"controller", true}, {"blockOwnerDeletion", true}};
}

std::string phaseOf(const json& pod) { return str(at(pod, "status"), "phase"); }

// controller.FilterActivePods: not terminal and not being deleted.
bool podActive(const json& pod) {
  std::string phase = phaseOf(pod);
  return phase != "Succeeded" && phase != "Failed" && !terminating(pod);
}

bool runningAndReady(const json& pod) { return phaseOf(pod) == "Running" && isPodReady(pod); }

const json* podCondition(const json& pod, const std::string& type) {
  const json& conditions = at(at(pod, "status"), "conditions");
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions) {
    if (str(c, "type") == type) return &c;
  }
  return nullptr;
}

std::optional<std::time_t> parseTime(const std::string& s) {
  auto t = formats::parseRfc3339(s);
  if (!t) return std::nullopt;
  return std::chrono::system_clock::to_time_t(*t);
}

// podutil.IsPodAvailable: Ready for at least minReadySeconds. When not yet,
// `wait` gets how long until it will be.
bool podAvailable(const json& pod, int64_t minReadySeconds, std::optional<Ms>* wait) {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const json* ready = podCondition(pod, "Ready");
  auto since = ready ? parseTime(str(*ready, "lastTransitionTime")) : std::nullopt;
  if (!since) return false;
  std::time_t due = *since + minReadySeconds;
  std::time_t now = std::time(nullptr);
  if (due <= now) return true;
  Ms left = std::chrono::seconds(due - now + 1);
  if (!*wait || left < **wait) *wait = left;
  return false;
}

bool labelsInclude(const json& labels, const json& required) {
  if (!required.is_object()) return true;
  for (const auto& [k, v] : required.items()) {
    if (at(labels, k.c_str()) != v) return false;
  }
  return true;
}

// ---- pod-template-hash (pkg/controller/controller_utils.go ComputeHash) ----

uint32_t fnv32a(const std::string& s, uint32_t h = 2166136261u) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// k8s.io/apimachinery/pkg/util/rand.SafeEncodeString: each character mapped
// into an alphabet without vowels or confusable characters.
std::string safeEncode(const std::string& s) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (unsigned char c : s) out.push_back(alphabet[c % (sizeof alphabet - 1)]);
  return out;
}

// A template as the controllers compare it: decoded into Go structs, a null
// field, an empty object and an empty list are all "unset"
// (apimachinery/pkg/api/equality.Semantic treats nil and empty alike), so
// `creationTimestamp: null` or `resources: {}` sent by kubectl changes nothing.
json semantic(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, child] : v.items()) {
      json c = semantic(child);
      if (!c.is_null()) out[k] = std::move(c);
    }
    return out.empty() ? json() : out;
  }
  if (v.is_array()) {
    if (v.empty()) return json();
    json out = json::array();
    for (const auto& child : v) {
      json c = semantic(child);
      out.push_back(c.is_null() ? json::object() : std::move(c));
    }
    return out;
  }
  return v;
}

// The hash of a pod template (FNV-32a of its canonical JSON, printed in
// decimal and safe-encoded, as ComputeHash does with its own printer).
std::string templateHash(const json& tmpl) {
  return safeEncode(std::to_string(fnv32a(semantic(tmpl).dump())));
}

json withoutLabel(json tmpl, const char* label) {
  if (tmpl.is_object() && tmpl.contains("metadata") && tmpl["metadata"].contains("labels")) {
    tmpl["metadata"]["labels"].erase(label);
    if (tmpl["metadata"]["labels"].empty()) tmpl["metadata"].erase("labels");
    if (tmpl["metadata"].empty()) tmpl.erase("metadata");
  }
  return tmpl;
}

// deployment/util EqualIgnoreHash.
bool equalIgnoreHash(const json& a, const json& b) {
  return semantic(withoutLabel(a, kHashLabel)) == semantic(withoutLabel(b, kHashLabel));
}

// ---- pods from templates (controller_utils.go GetPodFromTemplate) ----

json podFromTemplate(const json& tmpl, const json& owner) {
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", json::object()}};
  pod["spec"] = at(tmpl, "spec").is_object() ? at(tmpl, "spec") : json::object();
  for (const char* f : {"labels", "annotations", "finalizers"}) {
    const json& v = at(meta(tmpl), f);
    if (!v.is_null() && !v.empty()) pod["metadata"][f] = v;
  }
  pod["metadata"]["ownerReferences"] = json::array({owner});
  return pod;
}

// A rank for choosing which pods to delete first (controller.ActivePods):
// unscheduled, then pending, then unready, then more restarts, then newer.
bool deleteFirst(const json& a, const json& b) {
  auto scheduled = [](const json& p) { return !str(at(p, "spec"), "nodeName").empty(); };
  if (scheduled(a) != scheduled(b)) return !scheduled(a);
  auto phaseRank = [](const json& p) {
    std::string ph = phaseOf(p);
    return ph == "Pending" ? 0 : ph == "Running" ? 2 : 1;
  };
  if (phaseRank(a) != phaseRank(b)) return phaseRank(a) < phaseRank(b);
  if (isPodReady(a) != isPodReady(b)) return !isPodReady(a);
  auto restarts = [](const json& p) {
    int64_t n = 0;
    for (const auto& c : at(at(p, "status"), "containerStatuses")) n += num(c, "restartCount");
    return n;
  };
  if (restarts(a) != restarts(b)) return restarts(a) > restarts(b);
  std::string ca = str(meta(a), "creationTimestamp"), cb = str(meta(b), "creationTimestamp");
  if (ca != cb) return ca > cb;
  return nameOf(a) > nameOf(b);
}

// ---- deployment arithmetic (pkg/controller/deployment/util) ----

struct Fenceposts {
  int32_t maxSurge = 0;
  int32_t maxUnavailable = 0;
};

// ResolveFenceposts: surge rounds up, unavailable rounds down; both zero
// means one unavailable.
Fenceposts fenceposts(const json& spec, int32_t replicas) {
  const json& ru = at(at(spec, "strategy"), "rollingUpdate");
  json surge = at(ru, "maxSurge").is_null() ? json("25%") : at(ru, "maxSurge");
  json unavailable = at(ru, "maxUnavailable").is_null() ? json("25%") : at(ru, "maxUnavailable");
  Fenceposts f;
  f.maxSurge = scaledValue(surge, replicas, true).value_or(0);
  f.maxUnavailable = scaledValue(unavailable, replicas, false).value_or(0);
  if (f.maxSurge == 0 && f.maxUnavailable == 0) f.maxUnavailable = 1;
  return f;
}

int32_t specReplicas(const json& o) {
  return static_cast<int32_t>(num(at(o, "spec"), "replicas", 1));
}
int32_t statusCount(const json& o, const char* f) {
  return static_cast<int32_t>(num(at(o, "status"), f));
}
int64_t revisionOf(const json& rs) {
  std::string r = annotation(rs, kRevisionAnnotation);
  if (r.empty() || r.find_first_not_of("0123456789") != std::string::npos || r.size() > 18)
    return 0;
  return std::stoll(r);
}

bool byCreation(const ObjectPtr& a, const ObjectPtr& b) {
  std::string ca = str(meta(*a), "creationTimestamp"), cb = str(meta(*b), "creationTimestamp");
  if (ca != cb) return ca < cb;
  return nameOf(*a) < nameOf(*b);
}

// SetDeploymentCondition: an unchanged status and reason is left alone
// (lastUpdateTime included); the transition time survives a reason change.
void setDeploymentCondition(json& status, const std::string& type, const std::string& st,
                            const std::string& reason, const std::string& message,
                            const std::string& now) {
  json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  json cond = {{"type", type},          {"status", st},
               {"lastUpdateTime", now}, {"lastTransitionTime", now},
               {"reason", reason},      {"message", message}};
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    if (str(*it, "type") != type) continue;
    if (str(*it, "status") == st && str(*it, "reason") == reason) return;
    if (str(*it, "status") == st) cond["lastTransitionTime"] = (*it)["lastTransitionTime"];
    conditions.erase(it);
    break;
  }
  conditions.push_back(std::move(cond));
}

void removeCondition(json& status, const std::string& type) {
  json& conditions = status["conditions"];
  if (!conditions.is_array()) return;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    if (str(*it, "type") == type) {
      conditions.erase(it);
      return;
    }
  }
}

const json* findCondition(const json& status, const std::string& type) {
  const json& conditions = at(status, "conditions");
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions) {
    if (str(c, "type") == type) return &c;
  }
  return nullptr;
}

// Sets a counter the API serializes with omitempty: zero removes it.
void setCount(json& status, const char* field, int64_t value) {
  if (value == 0) {
    status.erase(field);
  } else {
    status[field] = value;
  }
}

// ---- the simulated kubelet ----

enum class PodState { Pending, Running, CrashLoop, Succeeded, Failed };

// How a container runtime reports an image reference: registry and tag made
// explicit ("nginx" is "docker.io/library/nginx:latest").
std::string normalizedImage(const std::string& image) {
  std::string name = image;
  size_t slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool hasRegistry =
      !first.empty() && (first.find('.') != std::string::npos ||
                         first.find(':') != std::string::npos || first == "localhost");
  if (!hasRegistry)
    name = (slash == std::string::npos ? "docker.io/library/" : "docker.io/") + name;
  size_t lastSlash = name.rfind('/');
  if (name.find('@') == std::string::npos && name.find(':', lastSlash) == std::string::npos) {
    name += ":latest";
  }
  return name;
}

std::string hexDigest(const std::string& seed, size_t chars) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  uint32_t h = fnv32a(seed);
  while (out.size() < chars) {
    h = fnv32a(std::to_string(h) + seed, h);
    for (int i = 0; i < 8 && out.size() < chars; ++i) out.push_back(hex[(h >> (4 * i)) & 0xf]);
  }
  return out;
}

std::string imageId(const std::string& normalized) {
  std::string repo = normalized.substr(0, normalized.find('@'));
  size_t lastSlash = repo.rfind('/');
  size_t colon = repo.find(':', lastSlash == std::string::npos ? 0 : lastSlash);
  if (colon != std::string::npos) repo = repo.substr(0, colon);
  return repo + "@sha256:" + hexDigest(normalized, 64);
}

std::string randomHex(size_t chars) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char hex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < chars) out.push_back(hex[rng() & 0xf]);
  return out;
}

// pkg/apis/core/helper/qos GetPodQOS, comparing quantities as written.
std::string qosClass(const json& spec) {
  bool any = false;
  bool guaranteed = true;
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : at(spec, list)) {
      const json& res = at(c, "resources");
      const json& requests = at(res, "requests");
      const json& limits = at(res, "limits");
      for (const char* r : {"cpu", "memory"}) {
        bool hasRequest = requests.is_object() && requests.contains(r);
        bool hasLimit = limits.is_object() && limits.contains(r);
        any = any || hasRequest || hasLimit;
        if (!hasLimit || (hasRequest && requests[r] != limits[r])) guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

// Sets a pod condition, keeping its lastTransitionTime while the status holds.
void setPodCondition(json& conditions, const json& previous, const std::string& type, bool value,
                     const std::string& reason, const std::string& message,
                     const std::string& now) {
  json c = {{"type", type},
            {"status", value ? "True" : "False"},
            {"lastProbeTime", nullptr},
            {"lastTransitionTime", now}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  if (previous.is_array()) {
    for (const auto& p : previous) {
      if (str(p, "type") == type && str(p, "status") == str(c, "status") &&
          p.contains("lastTransitionTime")) {
        c["lastTransitionTime"] = p["lastTransitionTime"];
      }
    }
  }
  conditions.push_back(std::move(c));
}

// kubelet's exponential back-off for restarting a crashed container: 10s
// doubling to 5m (pkg/kubelet/kuberuntime, MaxContainerBackOff).
int crashBackoffSeconds(int64_t restarts) {
  int64_t s = 10;
  for (int64_t i = 1; i < restarts && s < 300; ++i) s *= 2;
  return static_cast<int>(std::min<int64_t>(s, 300));
}

// The status the kubelet would report for `pod` in `state`.
void applyPodState(json& pod, PodState state, int64_t restarts, const std::string& now,
                   const std::string& podIp) {
  json& spec = pod["spec"];
  if (str(spec, "nodeName").empty()) spec["nodeName"] = kSandboxNodeName;
  const json previous = at(pod, "status").is_object() ? pod["status"] : json::object();
  json st = previous;
  bool terminal = state == PodState::Succeeded || state == PodState::Failed;
  st["phase"] = state == PodState::Pending     ? "Pending"
                : state == PodState::Succeeded ? "Succeeded"
                : state == PodState::Failed    ? "Failed"
                                               : "Running";
  st["hostIP"] = kHostIp;
  st["hostIPs"] = json::array({{{"ip", kHostIp}}});
  if (!st.contains("startTime")) st["startTime"] = now;
  st["qosClass"] = qosClass(spec);
  if (state != PodState::Pending) {
    if (!st.contains("podIP")) st["podIP"] = podIp;
    st["podIPs"] = json::array({{{"ip", st["podIP"]}}});
  }

  std::vector<const json*> containers;
  for (const auto& c : at(spec, "containers")) containers.push_back(&c);
  std::sort(containers.begin(), containers.end(),
            [](const json* a, const json* b) { return str(*a, "name") < str(*b, "name"); });
  std::string names;
  for (const json* c : containers) names += (names.empty() ? "" : " ") + str(*c, "name");

  json conditions = json::array();
  const json& prev = at(previous, "conditions");
  std::string podUid = uidOf(pod);
  std::string notReady = "containers with unready status: [" + names + "]";
  bool ready = state == PodState::Running;
  std::string readyReason = state == PodState::Succeeded ? "PodCompleted"
                            : state == PodState::Failed  ? "PodFailed"
                            : ready                      ? ""
                                                         : "ContainersNotReady";
  std::string readyMessage = ready || terminal ? "" : notReady;
  setPodCondition(conditions, prev, "PodReadyToStartContainers",
                  state != PodState::Pending && !terminal, "", "", now);
  setPodCondition(conditions, prev, "Initialized", true,
                  state == PodState::Succeeded ? "PodCompleted" : "", "", now);
  setPodCondition(conditions, prev, "Ready", ready, readyReason, readyMessage, now);
  setPodCondition(conditions, prev, "ContainersReady", ready, readyReason, readyMessage, now);
  setPodCondition(conditions, prev, "PodScheduled", true, "", "", now);
  st["conditions"] = conditions;

  auto previousStatus = [&](const char* list, const std::string& name) -> json {
    for (const auto& s : at(previous, list)) {
      if (str(s, "name") == name) return s;
    }
    return json::object();
  };
  json statuses = json::array();
  for (const json* c : containers) {
    std::string name = str(*c, "name");
    json old = previousStatus("containerStatuses", name);
    std::string image = normalizedImage(str(*c, "image"));
    json s = {
        {"name", name},     {"image", image},    {"imageID", imageId(image)},  {"ready", ready},
        {"started", ready}, {"restartCount", 0}, {"lastState", json::object()}};
    std::string containerId = str(old, "containerID");
    if (containerId.empty()) containerId = "containerd://" + randomHex(64);
    std::string startedAt = str(at(at(old, "state"), "running"), "startedAt");
    if (startedAt.empty()) startedAt = str(at(at(old, "state"), "terminated"), "startedAt");
    if (startedAt.empty()) startedAt = now;
    switch (state) {
      case PodState::Pending:
        s["imageID"] = "";
        s["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
        break;
      case PodState::Running:
        s["containerID"] = containerId;
        s["state"] = {{"running", {{"startedAt", startedAt}}}};
        break;
      case PodState::CrashLoop: {
        s["containerID"] = containerId;
        s["restartCount"] = restarts;
        s["state"] = {
            {"waiting",
             {{"reason", "CrashLoopBackOff"},
              {"message", "back-off " + std::to_string(crashBackoffSeconds(restarts)) +
                              "s restarting failed container=" + name + " pod=" + nameOf(pod) +
                              "_" + str(meta(pod), "namespace") + "(" + podUid + ")"}}}};
        // The last crash is reported until the next one.
        if (num(old, "restartCount") == restarts && at(old, "lastState").contains("terminated")) {
          s["lastState"] = old["lastState"];
          s["containerID"] = old.value("containerID", containerId);
        } else {
          s["containerID"] = "containerd://" + randomHex(64);
          s["lastState"] = {{"terminated",
                             {{"exitCode", 1},
                              {"reason", "Error"},
                              {"startedAt", now},
                              {"finishedAt", now},
                              {"containerID", s["containerID"]}}}};
        }
        break;
      }
      case PodState::Succeeded:
      case PodState::Failed: {
        bool ok = state == PodState::Succeeded;
        json terminated = {{"exitCode", ok ? 0 : 1},
                           {"reason", ok ? "Completed" : "Error"},
                           {"startedAt", startedAt},
                           {"finishedAt", now},
                           {"containerID", containerId}};
        const json& was = at(at(old, "state"), "terminated");
        if (was.is_object() && num(was, "exitCode") == (ok ? 0 : 1)) terminated = was;
        s["containerID"] = containerId;
        s["state"] = {{"terminated", terminated}};
        break;
      }
    }
    statuses.push_back(std::move(s));
  }
  st["containerStatuses"] = statuses;

  const json& inits = at(spec, "initContainers");
  if (inits.is_array() && !inits.empty()) {
    json initStatuses = json::array();
    for (const auto& c : inits) {
      std::string name = str(c, "name");
      json old = previousStatus("initContainerStatuses", name);
      std::string image = normalizedImage(str(c, "image"));
      json s = {
          {"name", name},     {"image", image},    {"imageID", imageId(image)},  {"ready", false},
          {"started", false}, {"restartCount", 0}, {"lastState", json::object()}};
      if (state == PodState::Pending) {
        s["imageID"] = "";
        s["state"] = {{"waiting", {{"reason", "PodInitializing"}}}};
      } else {
        const json& was = at(at(old, "state"), "terminated");
        std::string id = str(old, "containerID");
        if (id.empty()) id = "containerd://" + randomHex(64);
        s["ready"] = true;
        s["containerID"] = id;
        s["state"] = {{"terminated", was.is_object() ? was
                                                     : json{{"exitCode", 0},
                                                            {"reason", "Completed"},
                                                            {"startedAt", now},
                                                            {"finishedAt", now},
                                                            {"containerID", id}}}};
      }
      initStatuses.push_back(std::move(s));
    }
    st["initContainerStatuses"] = initStatuses;
  }
  pod["status"] = std::move(st);
}

// ---- work keys: "Kind/namespace/name" ----

std::string key(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + "/" + ns + "/" + name;
}

}  // namespace

// The work queue: keys ready now, keys due later, and whether anyone listens.
struct WorkloadSimulator::Queue {
  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::deque<std::string> ready;
  std::set<std::string> queued;  // the keys in `ready`
  std::multimap<SteadyClock::time_point, std::string> delayed;
  std::map<std::string, SteadyClock::time_point> due;  // each key's entry in `delayed`
  bool stopped = true;
  bool working = false;  // the worker is reconciling a key it took from `ready`

  void add(const std::string& k) {
    std::lock_guard<std::mutex> lock(mu);
    addLocked(k);
  }
  void addLocked(const std::string& k) {
    if (stopped) return;
    if (queued.insert(k).second) ready.push_back(k);
    cv.notify_all();
  }
  void addAfter(const std::string& k, Ms delay) {
    if (delay <= Ms(0)) return add(k);
    std::lock_guard<std::mutex> lock(mu);
    if (stopped) return;
    // One timer per key, the earliest asked for.
    auto when = SteadyClock::now() + delay;
    auto it = due.find(k);
    if (it != due.end()) {
      if (it->second <= when) return;
      auto range = delayed.equal_range(it->second);
      for (auto d = range.first; d != range.second; ++d) {
        if (d->second == k) {
          delayed.erase(d);
          break;
        }
      }
    }
    due[k] = when;
    delayed.emplace(when, k);
    cv.notify_all();
  }

  // Runs under the store's lock: reads the event's objects, takes only `mu`.
  void onEvent(const StoreEvent& e) {
    if (!e.object) return;
    const json& o = *e.object;
    const std::string& ns = e.namespace_;
    bool deleted = e.type == EventType::Deleted;
    std::lock_guard<std::mutex> lock(mu);
    if (stopped) return;
    const json* owner = controllerOf(o);
    std::string ownerKind = owner ? str(*owner, "kind") : "";
    if (e.storageKey == "/pods") {
      if (!deleted) addLocked(key("Pod", ns, e.name));
      if (ownerKind == "ReplicaSet" || ownerKind == "StatefulSet" || ownerKind == "DaemonSet" ||
          ownerKind == "Job") {
        addLocked(key(ownerKind, ns, str(*owner, "name")));
      }
      addLocked(key("PDB", ns, ""));
    } else if (e.storageKey == "apps/replicasets") {
      if (!deleted) addLocked(key("ReplicaSet", ns, e.name));
      if (ownerKind == "Deployment") addLocked(key("Deployment", ns, str(*owner, "name")));
      addLocked(key("PDB", ns, ""));
    } else if (e.storageKey == "apps/deployments") {
      if (!deleted) addLocked(key("Deployment", ns, e.name));
      addLocked(key("PDB", ns, ""));
    } else if (e.storageKey == "apps/statefulsets") {
      if (!deleted) addLocked(key("StatefulSet", ns, e.name));
      addLocked(key("PDB", ns, ""));
    } else if (e.storageKey == "apps/daemonsets") {
      if (!deleted) addLocked(key("DaemonSet", ns, e.name));
    } else if (e.storageKey == "batch/jobs") {
      if (!deleted) addLocked(key("Job", ns, e.name));
    } else if (e.storageKey == "policy/poddisruptionbudgets") {
      if (!deleted) addLocked(key("PDB", ns, ""));
    }
  }
};

WorkloadSimulator::WorkloadSimulator(Objects& objects, Ms podReadyDelay, Ms crashLoopInterval)
    : objects_(objects),
      store_(objects.store()),
      podReadyDelay_(podReadyDelay),
      crashLoopInterval_(crashLoopInterval.count() > 0 ? crashLoopInterval : Ms(2000)),
      queue_(std::make_shared<Queue>()) {
  Registry& r = objects.registry();
  deployments_ = r.find("apps", "v1", "deployments");
  replicaSets_ = r.find("apps", "v1", "replicasets");
  statefulSets_ = r.find("apps", "v1", "statefulsets");
  daemonSets_ = r.find("apps", "v1", "daemonsets");
  jobs_ = r.find("batch", "v1", "jobs");
  pods_ = r.find("", "v1", "pods");
  pdbs_ = r.find("policy", "v1", "poddisruptionbudgets");
}

WorkloadSimulator::~WorkloadSimulator() { stop(); }

void WorkloadSimulator::start() {
  if (worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(queue_->mu);
    queue_->stopped = false;
  }
  if (!observing_) {
    std::shared_ptr<Queue> q = queue_;
    store_.addObserver([q](const StoreEvent& e) { q->onEvent(e); });
    observing_ = true;
  }
  // What exists already is reconciled as if it had just been written.
  const std::pair<ResourceTypePtr, const char*> kinds[] = {{deployments_, "Deployment"},
                                                           {replicaSets_, "ReplicaSet"},
                                                           {statefulSets_, "StatefulSet"},
                                                           {daemonSets_, "DaemonSet"},
                                                           {jobs_, "Job"},
                                                           {pods_, "Pod"},
                                                           {pdbs_, "PDB"}};
  for (const auto& [type, kind] : kinds) {
    if (!type) continue;
    for (const auto& o : store_.list(type->storageKey(), "").items) {
      std::string ns = str(meta(*o), "namespace");
      queue_->add(key(kind, ns, std::string(kind) == "PDB" ? "" : nameOf(*o)));
    }
  }
  worker_ = std::thread([this] { run(); });
}

void WorkloadSimulator::stop() {
  {
    std::lock_guard<std::mutex> lock(queue_->mu);
    queue_->stopped = true;
    queue_->ready.clear();
    queue_->queued.clear();
    queue_->delayed.clear();
    queue_->due.clear();
    queue_->cv.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

void WorkloadSimulator::run() {
  pthread_setname_np(pthread_self(), "sandbox-sim");
  Queue& q = *queue_;
  while (true) {
    std::string next;
    {
      std::unique_lock<std::mutex> lock(q.mu);
      while (true) {
        if (q.stopped) return;
        auto now = SteadyClock::now();
        while (!q.delayed.empty() && q.delayed.begin()->first <= now) {
          std::string k = q.delayed.begin()->second;
          q.delayed.erase(q.delayed.begin());
          q.due.erase(k);
          if (q.queued.insert(k).second) q.ready.push_back(k);
        }
        if (!q.ready.empty()) break;
        if (q.delayed.empty()) {
          q.cv.wait(lock);
        } else {
          // A copy: the entry may be erased (by stop()) while we wait.
          SteadyClock::time_point due = q.delayed.begin()->first;
          q.cv.wait_until(lock, due);
        }
      }
      next = q.ready.front();
      q.ready.pop_front();
      q.queued.erase(next);
      q.working = true;
    }
    bool ok = false;
    try {
      ok = reconcile(next);
    } catch (const std::exception&) {
      // A malformed object must not end the simulator; it is retried with
      // backoff like any failure.
      ok = false;
    }
    if (ok) {
      failures_.erase(next);
    } else {
      int n = ++failures_[next];
      Ms delay = std::min(kMaxBackoff, Ms(100) * (1 << std::min(n, 7)));
      q.addAfter(next, delay);
    }
    std::lock_guard<std::mutex> lock(q.mu);
    q.working = false;
  }
}

bool WorkloadSimulator::settled() const {
  std::lock_guard<std::mutex> lock(queue_->mu);
  if (queue_->stopped) return true;
  if (queue_->working || !queue_->ready.empty()) return false;
  return queue_->delayed.empty() || queue_->delayed.begin()->first > SteadyClock::now();
}

void WorkloadSimulator::requeueAfter(const std::string& k, Ms delay) { queue_->addAfter(k, delay); }

bool WorkloadSimulator::reconcile(const std::string& k) {
  size_t a = k.find('/');
  size_t b = k.find('/', a + 1);
  std::string kind = k.substr(0, a);
  std::string ns = k.substr(a + 1, b - a - 1);
  std::string name = k.substr(b + 1);
  if (kind == "Pod") return syncPod(ns, name);
  if (kind == "ReplicaSet") return syncReplicaSet(ns, name);
  if (kind == "Deployment") return syncDeployment(ns, name);
  if (kind == "StatefulSet") return syncStatefulSet(ns, name);
  if (kind == "DaemonSet") return syncDaemonSet(ns, name);
  if (kind == "Job") return syncJob(ns, name);
  if (kind == "PDB") return syncDisruptionBudgets(ns);
  return true;
}

// ---- writes ----

bool WorkloadSimulator::createPod(const std::string& ns, json pod) {
  WriteOptions options;
  options.fieldManager = kFieldManager;
  // A generated name may collide; the API server then answers AlreadyExists
  // and the controller tries again (as ReplicaSets do on their next sync).
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = objects_.create(*pods_, ns, pod, options);
    if (r.ok()) return true;
    if (r.error().reason != "AlreadyExists" || !pod["metadata"].contains("generateName")) {
      return false;
    }
  }
  return false;
}

bool WorkloadSimulator::deletePod(const std::string& ns, const std::string& name) {
  auto r = objects_.remove(*pods_, ns, name, DeleteOptions{});
  return r.ok() || r.error().code == 404;
}

bool WorkloadSimulator::writeStatus(const ResourceType& type, const std::string& ns,
                                    const std::string& name, const json& status) {
  auto r = objects_.modify(type, ns, name, [&](json& o) {
    if (at(o, "status") == status) return false;
    o["status"] = status;
    return true;
  });
  return r.ok() || r.error().code == 404;
}

bool WorkloadSimulator::setReplicaSetReplicas(const json& rs, int32_t replicas,
                                              const json& deployment) {
  const json& spec = at(deployment, "spec");
  int32_t desired = specReplicas(deployment);
  int32_t maxSurge =
      str(at(spec, "strategy"), "type") == "Recreate" ? 0 : fenceposts(spec, desired).maxSurge;
  std::string uid = uidOf(rs);
  auto r = objects_.modify(*replicaSets_, str(meta(rs), "namespace"), nameOf(rs), [&](json& o) {
    if (uidOf(o) != uid) return false;
    json before = o;
    o["spec"]["replicas"] = replicas;
    // deployment/util SetReplicasAnnotations.
    o["metadata"]["annotations"][kDesiredReplicasAnnotation] = std::to_string(desired);
    o["metadata"]["annotations"][kMaxReplicasAnnotation] = std::to_string(desired + maxSurge);
    return o != before;
  });
  return r.ok() || r.error().code == 404;
}

std::string WorkloadSimulator::nextPodIp() {
  uint32_t n = nextIp_++;
  return "10.244." + std::to_string((n / 253) % 256) + "." + std::to_string(n % 253 + 2);
}

// ---- Deployment (pkg/controller/deployment: sync.go, rolling.go, recreate.go, progress.go) ----

namespace {

int32_t sumOf(const std::vector<ObjectPtr>& sets, int32_t (*f)(const json&)) {
  int32_t n = 0;
  for (const auto& rs : sets) n += f(*rs);
  return n;
}
int32_t availableOf(const json& rs) { return statusCount(rs, "availableReplicas"); }
int32_t runningOf(const json& rs) { return statusCount(rs, "replicas"); }
int32_t readyOf(const json& rs) { return statusCount(rs, "readyReplicas"); }

// Annotations a Deployment passes on to its ReplicaSets
// (deployment/util copyDeploymentAnnotationsToReplicaSet).
void copyDeploymentAnnotations(const json& deployment, json& rsMeta) {
  static const std::set<std::string> skipped = {"kubectl.kubernetes.io/last-applied-configuration",
                                                kRevisionAnnotation,
                                                "deployment.kubernetes.io/revision-history",
                                                kDesiredReplicasAnnotation,
                                                kMaxReplicasAnnotation,
                                                "deprecated.deployment.rollback.to"};
  for (const auto& [k, v] : at(meta(deployment), "annotations").items()) {
    if (!skipped.count(k)) rsMeta["annotations"][k] = v;
  }
}

// sync.go getNewReplicaSet: <deployment>-<hash>, the template and selector
// carrying the pod-template-hash label.
json newReplicaSetFor(const json& deployment, int32_t replicas, int64_t revision,
                      int32_t maxSurge) {
  const json& spec = at(deployment, "spec");
  std::string hash = templateHash(at(spec, "template"));
  json tmpl = at(spec, "template");
  tmpl["metadata"]["labels"][kHashLabel] = hash;
  json selector = at(spec, "selector").is_object() ? spec["selector"] : json::object();
  selector["matchLabels"][kHashLabel] = hash;
  json rs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata",
       {{"name", nameOf(deployment) + "-" + hash},
        {"namespace", str(meta(deployment), "namespace")},
        {"labels", tmpl["metadata"]["labels"]},
        {"ownerReferences", json::array({controllerRef("apps/v1", "Deployment", deployment)})}}},
      {"spec", {{"replicas", replicas}, {"selector", selector}, {"template", tmpl}}}};
  if (spec.contains("minReadySeconds")) rs["spec"]["minReadySeconds"] = spec["minReadySeconds"];
  copyDeploymentAnnotations(deployment, rs["metadata"]);
  json& annotations = rs["metadata"]["annotations"];
  annotations[kRevisionAnnotation] = std::to_string(revision);
  annotations[kDesiredReplicasAnnotation] = std::to_string(specReplicas(deployment));
  annotations[kMaxReplicasAnnotation] = std::to_string(specReplicas(deployment) + maxSurge);
  return rs;
}

// rolling.go reconcileOldReplicaSets: how far each old ReplicaSet may shrink
// (by name), keeping `replicas - maxUnavailable` pods available. Unavailable
// old pods go first (cleanupUnhealthyReplicas), then available ones
// (scaleDownOldReplicaSetsForRollingUpdate), oldest ReplicaSet first.
std::map<std::string, int32_t> oldReplicaSetTargets(const std::vector<ObjectPtr>& old,
                                                    const std::vector<ObjectPtr>& all,
                                                    const ObjectPtr& newRs, int32_t replicas,
                                                    int32_t maxUnavailable) {
  std::map<std::string, int32_t> target;
  for (const auto& rs : old) target[nameOf(*rs)] = specReplicas(*rs);
  int32_t minAvailable = replicas - maxUnavailable;
  int32_t newUnavailable = newRs ? specReplicas(*newRs) - availableOf(*newRs) : 0;
  int32_t maxScaledDown = sumOf(all, specReplicas) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return target;
  int32_t cleaned = 0;
  for (const auto& rs : old) {
    int32_t& t = target[nameOf(*rs)];
    if (cleaned >= maxScaledDown) break;
    if (t == 0 || t == availableOf(*rs)) continue;
    int32_t down = std::min(maxScaledDown - cleaned, t - availableOf(*rs));
    t -= down;
    cleaned += down;
  }
  int32_t budget = sumOf(all, availableOf) - minAvailable;
  for (const auto& rs : old) {
    int32_t& t = target[nameOf(*rs)];
    if (budget <= 0) break;
    if (t == 0) continue;
    int32_t down = std::min(t, budget);
    t -= down;
    budget -= down;
  }
  return target;
}

// deployment/util DeploymentComplete.
bool deploymentComplete(const json& deployment, const json& status) {
  int64_t replicas = specReplicas(deployment);
  return num(status, "updatedReplicas") == replicas && num(status, "replicas") == replicas &&
         num(status, "availableReplicas") == replicas &&
         num(status, "observedGeneration") >= num(meta(deployment), "generation");
}

// sync.go calculateStatus and progress.go syncRolloutStatus: the status the
// Deployment should have given its ReplicaSets as they are now. `status` is
// the stored status with the conditions set so far in this sync; `recheck`
// gets when to look again for the progress deadline.
json deploymentStatus(const json& deployment, const json& status,
                      const std::vector<ObjectPtr>& sets, const ObjectPtr& newRs,
                      int32_t maxUnavailable, const std::string& now, std::optional<Ms>* recheck) {
  const json& spec = at(deployment, "spec");
  const json& stored = at(deployment, "status");
  const int32_t replicas = specReplicas(deployment);
  json next = json::object();
  if (status.contains("conditions")) next["conditions"] = status["conditions"];
  if (stored.contains("collisionCount")) next["collisionCount"] = stored["collisionCount"];
  int32_t available = sumOf(sets, availableOf);
  next["observedGeneration"] = num(meta(deployment), "generation", 1);
  setCount(next, "replicas", sumOf(sets, runningOf));
  setCount(next, "updatedReplicas", newRs ? runningOf(*newRs) : 0);
  setCount(next, "readyReplicas", sumOf(sets, readyOf));
  setCount(next, "availableReplicas", available);
  setCount(next, "unavailableReplicas", std::max(0, sumOf(sets, specReplicas) - available));
  if (available >= replicas - maxUnavailable) {
    setDeploymentCondition(next, "Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability.", now);
  } else {
    setDeploymentCondition(next, "Available", "False", "MinimumReplicasUnavailable",
                           "Deployment does not have minimum availability.", now);
  }
  if (!spec.contains("progressDeadlineSeconds")) {
    removeCondition(next, "Progressing");
    return next;
  }
  const json* current = findCondition(status, "Progressing");
  if (num(next, "replicas") == num(next, "updatedReplicas") && current &&
      str(*current, "reason") == "NewReplicaSetAvailable") {
    return next;  // complete already
  }
  std::string rsName = newRs ? nameOf(*newRs) : "";
  int64_t deadline = num(spec, "progressDeadlineSeconds", 600);
  // util.DeploymentProgressing: any step forward since the stored status.
  int64_t oldBefore = num(stored, "replicas") - num(stored, "updatedReplicas");
  int64_t oldNow = num(next, "replicas") - num(next, "updatedReplicas");
  bool progressing = num(next, "updatedReplicas") > num(stored, "updatedReplicas") ||
                     oldNow < oldBefore ||
                     num(next, "readyReplicas") > num(stored, "readyReplicas") ||
                     num(next, "availableReplicas") > num(stored, "availableReplicas");
  if (deploymentComplete(deployment, next)) {
    setDeploymentCondition(next, "Progressing", "True", "NewReplicaSetAvailable",
                           "ReplicaSet \"" + rsName + "\" has successfully progressed.", now);
  } else if (progressing) {
    // Progress refreshes lastUpdateTime, which the deadline counts from.
    std::string message = newRs ? "ReplicaSet \"" + rsName + "\" is progressing."
                                : "Deployment \"" + nameOf(deployment) + "\" is progressing.";
    json since =
        current && str(*current, "status") == "True" ? (*current)["lastTransitionTime"] : json(now);
    removeCondition(next, "Progressing");
    setDeploymentCondition(next, "Progressing", "True", "ReplicaSetUpdated", message, now);
    next["conditions"].back()["lastTransitionTime"] = since;
    *recheck = std::chrono::seconds(deadline + 1);
  } else if (current && str(*current, "reason") != "ProgressDeadlineExceeded" &&
             str(*current, "reason") != "NewReplicaSetAvailable") {
    // util.DeploymentTimedOut.
    auto since = parseTime(str(*current, "lastUpdateTime"));
    std::time_t t = std::time(nullptr);
    if (since && *since + deadline < t) {
      setDeploymentCondition(next, "Progressing", "False", "ProgressDeadlineExceeded",
                             "ReplicaSet \"" + rsName + "\" has timed out progressing.", now);
    } else if (since) {
      *recheck = std::chrono::seconds(*since + deadline - t + 1);
    }
  }
  return next;
}

}  // namespace

std::vector<ObjectPtr> WorkloadSimulator::ownedReplicaSets(const std::string& ns,
                                                           const std::string& uid) const {
  std::vector<ObjectPtr> out;
  for (const auto& rs : store_.list(replicaSets_->storageKey(), ns).items) {
    if (controlledBy(*rs, uid)) out.push_back(rs);
  }
  std::sort(out.begin(), out.end(), byCreation);
  return out;
}

bool WorkloadSimulator::syncDeployment(const std::string& ns, const std::string& name) {
  ObjectPtr d = store_.get(deployments_->storageKey(), ns, name);
  if (!d || terminating(*d)) return true;
  const json& dep = *d;
  const json& spec = at(dep, "spec");
  const std::string uid = uidOf(dep);
  const int32_t replicas = specReplicas(dep);
  const bool recreate = str(at(spec, "strategy"), "type") == "Recreate";
  const bool paused = flag(spec, "paused");
  const Fenceposts posts = fenceposts(spec, replicas);
  const int32_t maxSurge = recreate ? 0 : posts.maxSurge;
  // deployment/util MaxUnavailable.
  const int32_t maxUnavailable =
      recreate || replicas == 0 ? 0 : std::min(posts.maxUnavailable, replicas);
  const std::string now = nowRfc3339();

  // util.FindNewReplicaSet / FindOldReplicaSets: the oldest ReplicaSet whose
  // template equals the Deployment's is the new one.
  std::vector<ObjectPtr> all = ownedReplicaSets(ns, uid);
  ObjectPtr newRs;
  std::vector<ObjectPtr> old;
  for (const auto& rs : all) {
    if (!newRs && equalIgnoreHash(at(at(*rs, "spec"), "template"), at(spec, "template"))) {
      newRs = rs;
    } else {
      old.push_back(rs);
    }
  }
  int64_t maxOldRevision = 0;
  for (const auto& rs : old) maxOldRevision = std::max(maxOldRevision, revisionOf(*rs));
  json status = at(dep, "status").is_object() ? dep["status"] : json::object();

  bool ok = true;
  // Recreate creates the new ReplicaSet only once the old pods are gone.
  bool oldPodsRemain = sumOf(old, specReplicas) > 0 || sumOf(old, runningOf) > 0;
  if (!newRs && !paused && !(recreate && oldPodsRemain)) {
    // NewRSNewReplicas: a rolling update starts within the surge room left.
    int32_t initial =
        recreate ? replicas
                 : std::max(0, std::min(replicas, replicas + maxSurge - sumOf(all, specReplicas)));
    WriteOptions options;
    options.fieldManager = kFieldManager;
    auto created = objects_.create(
        *replicaSets_, ns, newReplicaSetFor(dep, initial, maxOldRevision + 1, maxSurge), options);
    if (!created.ok()) return false;
    newRs = *created;
    all.push_back(newRs);
    setDeploymentCondition(status, "Progressing", "True", "NewReplicaSetCreated",
                           "Created new replica set \"" + nameOf(*newRs) + "\"", now);
  } else if (newRs) {
    // A template that returns to an old ReplicaSet's (a rollback) makes that
    // ReplicaSet the newest revision again.
    int64_t revision = revisionOf(*newRs);
    std::string rsUid = uidOf(*newRs);
    auto r = objects_.modify(*replicaSets_, ns, nameOf(*newRs), [&](json& o) {
      if (uidOf(o) != rsUid) return false;
      json before = o;
      copyDeploymentAnnotations(dep, o["metadata"]);
      if (revision <= maxOldRevision) {
        o["metadata"]["annotations"][kRevisionAnnotation] = std::to_string(maxOldRevision + 1);
      }
      return o != before;
    });
    if (!r.ok() && r.error().code != 404) ok = false;
    if (r.ok()) newRs = *r;
    if (!findCondition(status, "Progressing")) {
      setDeploymentCondition(status, "Progressing", "True", "FoundNewReplicaSet",
                             "Found new replica set \"" + nameOf(*newRs) + "\"", now);
    }
  }

  if (paused) {
    // sync.go scale: only a lone active ReplicaSet follows spec.replicas.
    std::vector<ObjectPtr> active;
    for (const auto& rs : all) {
      if (specReplicas(*rs) > 0) active.push_back(rs);
    }
    ObjectPtr target = active.size() == 1 ? active[0] : active.empty() ? newRs : nullptr;
    if (target && specReplicas(*target) != replicas) {
      ok = setReplicaSetReplicas(*target, replicas, dep) && ok;
    }
  } else if (recreate) {
    for (const auto& rs : old) {
      if (specReplicas(*rs) > 0) ok = setReplicaSetReplicas(*rs, 0, dep) && ok;
    }
    if (newRs && !oldPodsRemain && specReplicas(*newRs) != replicas) {
      ok = setReplicaSetReplicas(*newRs, replicas, dep) && ok;
    }
  } else {
    // rolling.go rolloutRolling: scale the new ReplicaSet up within the
    // surge; when it cannot grow, shrink the old ones.
    bool scaled = false;
    if (newRs) {
      int32_t current = specReplicas(*newRs);
      int32_t target = current;
      if (current > replicas) {
        target = replicas;
      } else if (current < replicas) {
        int32_t room = replicas + maxSurge - sumOf(all, specReplicas);
        if (room > 0) target = current + std::min(room, replicas - current);
      }
      if (target != current) {
        ok = setReplicaSetReplicas(*newRs, target, dep) && ok;
        scaled = true;
      }
    }
    if (!scaled && sumOf(old, specReplicas) > 0) {
      auto targets = oldReplicaSetTargets(old, all, newRs, replicas, maxUnavailable);
      for (const auto& rs : old) {
        int32_t t = targets[nameOf(*rs)];
        if (t != specReplicas(*rs)) ok = setReplicaSetReplicas(*rs, t, dep) && ok;
      }
    }
  }

  // sync.go cleanupDeployment: once complete, only revisionHistoryLimit
  // scaled-down old ReplicaSets are kept, the newest revisions.
  if (deploymentComplete(dep, at(dep, "status")) && !paused) {
    int64_t limit = num(spec, "revisionHistoryLimit", 10);
    std::vector<ObjectPtr> idle;
    for (const auto& rs : old) {
      if (specReplicas(*rs) == 0 && runningOf(*rs) == 0 && !terminating(*rs)) idle.push_back(rs);
    }
    std::sort(idle.begin(), idle.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
      return revisionOf(*a) < revisionOf(*b);
    });
    for (size_t i = 0; i + limit < idle.size(); ++i) {
      auto r = objects_.remove(*replicaSets_, ns, nameOf(*idle[i]), DeleteOptions{});
      if (!r.ok() && r.error().code != 404) ok = false;
    }
  }

  all = ownedReplicaSets(ns, uid);
  ObjectPtr current;
  for (const auto& rs : all) {
    if (newRs && uidOf(*rs) == uidOf(*newRs)) current = rs;
  }
  std::optional<Ms> recheck;
  json next = deploymentStatus(dep, status, all, current, maxUnavailable, now, &recheck);
  if (recheck) requeueAfter(key("Deployment", ns, name), *recheck);
  std::string revision = current ? annotation(*current, kRevisionAnnotation) : "";
  auto r = objects_.modify(*deployments_, ns, name, [&](json& o) {
    if (uidOf(o) != uid) return false;
    json before = o;
    if (!revision.empty()) o["metadata"]["annotations"][kRevisionAnnotation] = revision;
    o["status"] = next;
    return o != before;
  });
  if (!r.ok() && r.error().code != 404) ok = false;
  return ok;
}

// ---- ReplicaSet (pkg/controller/replicaset/replica_set.go) ----

bool WorkloadSimulator::syncReplicaSet(const std::string& ns, const std::string& name) {
  ObjectPtr rsPtr = store_.get(replicaSets_->storageKey(), ns, name);
  if (!rsPtr || terminating(*rsPtr)) return true;
  const json& rs = *rsPtr;
  const std::string uid = uidOf(rs);
  const int32_t replicas = specReplicas(rs);
  const json& tmpl = at(at(rs, "spec"), "template");

  auto activePods = [&] {
    std::vector<json> out;
    for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
      if (controlledBy(*p, uid) && podActive(*p)) out.push_back(*p);
    }
    return out;
  };
  std::vector<json> active = activePods();
  bool ok = true;
  int64_t diff = static_cast<int64_t>(active.size()) - replicas;
  if (diff < 0) {
    json pod = podFromTemplate(tmpl, controllerRef("apps/v1", "ReplicaSet", rs));
    pod["metadata"]["generateName"] = name + "-";
    for (int64_t i = 0; i < -diff; ++i) ok = createPod(ns, pod) && ok;
  } else if (diff > 0) {
    std::sort(active.begin(), active.end(), deleteFirst);
    for (int64_t i = 0; i < diff; ++i) ok = deletePod(ns, nameOf(active[i])) && ok;
  }
  if (diff != 0) active = activePods();

  // replica_set_utils.go calculateStatus.
  int64_t minReady = num(at(rs, "spec"), "minReadySeconds");
  std::optional<Ms> wait;
  int32_t fullyLabeled = 0, ready = 0, availableCount = 0;
  const json& templateLabels = at(meta(tmpl), "labels");
  for (const auto& p : active) {
    if (labelsInclude(at(meta(p), "labels"), templateLabels)) ++fullyLabeled;
    if (isPodReady(p)) ++ready;
    if (podAvailable(p, minReady, &wait)) ++availableCount;
  }
  json status = at(rs, "status").is_object() ? rs["status"] : json::object();
  status["replicas"] = static_cast<int32_t>(active.size());
  setCount(status, "fullyLabeledReplicas", fullyLabeled);
  setCount(status, "readyReplicas", ready);
  setCount(status, "availableReplicas", availableCount);
  setCount(status, "observedGeneration", num(meta(rs), "generation"));
  ok = writeStatus(*replicaSets_, ns, name, status) && ok;
  if (wait) requeueAfter(key("ReplicaSet", ns, name), *wait);
  return ok;
}

// ---- StatefulSet (pkg/controller/statefulset/stateful_set_control.go) ----

bool WorkloadSimulator::syncStatefulSet(const std::string& ns, const std::string& name) {
  ObjectPtr setPtr = store_.get(statefulSets_->storageKey(), ns, name);
  if (!setPtr || terminating(*setPtr)) return true;
  const json& set = *setPtr;
  const json& spec = at(set, "spec");
  const std::string uid = uidOf(set);
  const int32_t replicas = specReplicas(set);
  const json& tmpl = at(spec, "template");
  const std::string updateRevision = name + "-" + templateHash(tmpl);
  const json& stored = at(set, "status");
  std::string currentRevision = str(stored, "currentRevision");
  if (currentRevision.empty()) currentRevision = updateRevision;
  const bool parallel = str(spec, "podManagementPolicy") == "Parallel";
  const json& strategy = at(spec, "updateStrategy");
  const bool onDelete = str(strategy, "type") == "OnDelete";
  const int64_t partition = num(at(strategy, "rollingUpdate"), "partition");

  // Pods by ordinal: <name>-<ordinal>, controlled by this StatefulSet.
  std::map<int64_t, json> pods;
  for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
    if (!controlledBy(*p, uid)) continue;
    std::string podName = nameOf(*p);
    if (podName.compare(0, name.size() + 1, name + "-") != 0) continue;
    std::string suffix = podName.substr(name.size() + 1);
    if (suffix.empty() || suffix.size() > 9 ||
        suffix.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    pods[std::stoll(suffix)] = *p;
  }
  auto revisionOfPod = [](const json& p) { return str(at(meta(p), "labels"), kRevisionHashLabel); };
  auto healthy = [](const json& p) { return runningAndReady(p) && !terminating(p); };

  bool ok = true;
  bool waiting = false;
  // Replace pods that failed or succeeded, as the controller does.
  for (auto& [ordinal, p] : pods) {
    std::string phase = phaseOf(p);
    if ((phase == "Failed" || phase == "Succeeded") && !terminating(p)) {
      ok = deletePod(ns, nameOf(p)) && ok;
      waiting = true;
    }
  }
  // Create missing pods in order; OrderedReady waits for each to be ready.
  for (int64_t i = 0; i < replicas && !waiting; ++i) {
    auto it = pods.find(i);
    if (it == pods.end()) {
      std::string podName = name + "-" + std::to_string(i);
      json pod = podFromTemplate(tmpl, controllerRef("apps/v1", "StatefulSet", set));
      pod["metadata"]["name"] = podName;
      json& labels = pod["metadata"]["labels"];
      labels[kRevisionHashLabel] = updateRevision;
      labels["statefulset.kubernetes.io/pod-name"] = podName;
      labels["apps.kubernetes.io/pod-index"] = std::to_string(i);
      pod["spec"]["hostname"] = podName;
      if (!str(spec, "serviceName").empty()) pod["spec"]["subdomain"] = spec["serviceName"];
      ok = createPod(ns, pod) && ok;
      if (!parallel) waiting = true;
    } else if (!parallel && !healthy(it->second)) {
      waiting = true;
    }
  }
  // Scale down from the highest ordinal, one at a time unless Parallel.
  if (!waiting) {
    for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
      if (it->first < replicas) break;
      if (terminating(it->second)) {
        waiting = true;
        break;
      }
      ok = deletePod(ns, nameOf(it->second)) && ok;
      if (!parallel) {
        waiting = true;
        break;
      }
    }
  }
  // Rolling update: from the highest ordinal down to the partition, delete
  // one outdated pod at a time, waiting for the ones above to be healthy.
  if (!waiting && !onDelete) {
    for (int64_t i = replicas - 1; i >= partition; --i) {
      auto it = pods.find(i);
      if (it == pods.end()) break;
      if (revisionOfPod(it->second) != updateRevision && !terminating(it->second)) {
        ok = deletePod(ns, nameOf(it->second)) && ok;
        break;
      }
      if (!healthy(it->second)) break;
    }
  }

  // Status from the pods as they are now.
  std::vector<json> owned;
  for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
    if (controlledBy(*p, uid)) owned.push_back(*p);
  }
  int32_t count = 0, ready = 0, availableCount = 0, current = 0, updated = 0;
  int64_t minReady = num(spec, "minReadySeconds");
  std::optional<Ms> wait;
  for (const auto& p : owned) {
    ++count;
    if (runningAndReady(p)) {
      ++ready;
      if (podAvailable(p, minReady, &wait)) ++availableCount;
    }
    if (terminating(p)) continue;
    if (revisionOfPod(p) == currentRevision) ++current;
    if (revisionOfPod(p) == updateRevision) ++updated;
  }
  // completeRollingUpdate: every pod updated and ready makes the update
  // revision current.
  if (!onDelete && updated == count && ready == count && count == replicas) {
    currentRevision = updateRevision;
    current = updated;
  }
  json status = stored.is_object() ? stored : json::object();
  status["observedGeneration"] = num(meta(set), "generation", 1);
  status["replicas"] = count;
  setCount(status, "readyReplicas", ready);
  setCount(status, "currentReplicas", current);
  setCount(status, "updatedReplicas", updated);
  status["availableReplicas"] = availableCount;
  status["currentRevision"] = currentRevision;
  status["updateRevision"] = updateRevision;
  if (!status.contains("collisionCount")) status["collisionCount"] = 0;
  ok = writeStatus(*statefulSets_, ns, name, status) && ok;
  if (wait) requeueAfter(key("StatefulSet", ns, name), *wait);
  return ok;
}

// ---- DaemonSet (pkg/controller/daemon), on the one sandbox node ----

bool WorkloadSimulator::syncDaemonSet(const std::string& ns, const std::string& name) {
  ObjectPtr dsPtr = store_.get(daemonSets_->storageKey(), ns, name);
  if (!dsPtr || terminating(*dsPtr)) return true;
  const json& ds = *dsPtr;
  const json& spec = at(ds, "spec");
  const std::string uid = uidOf(ds);
  const json& tmpl = at(spec, "template");
  const std::string hash = templateHash(tmpl);
  const bool onDelete = str(at(spec, "updateStrategy"), "type") == "OnDelete";

  auto activePods = [&] {
    std::vector<json> out;
    for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
      if (controlledBy(*p, uid) && podActive(*p)) out.push_back(*p);
    }
    std::sort(out.begin(), out.end(),
              [](const json& a, const json& b) { return deleteFirst(b, a); });
    return out;
  };
  std::vector<json> active = activePods();
  bool ok = true;
  // Failed pods are deleted and replaced (daemon_controller.go podsShouldBeOnNode).
  for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
    if (controlledBy(*p, uid) && phaseOf(*p) == "Failed" && !terminating(*p)) {
      ok = deletePod(ns, nameOf(*p)) && ok;
    }
  }
  if (active.empty()) {
    json pod = podFromTemplate(tmpl, controllerRef("apps/v1", "DaemonSet", ds));
    pod["metadata"]["generateName"] = name + "-";
    pod["metadata"]["labels"][kRevisionHashLabel] = hash;
    pod["metadata"]["labels"]["pod-template-generation"] =
        std::to_string(num(meta(ds), "generation", 1));
    // util.ReplaceDaemonSetPodNodeNameNodeAffinity: pinned to its node.
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {"nodeSelectorTerms",
         json::array({{{"matchFields", json::array({{{"key", "metadata.name"},
                                                     {"operator", "In"},
                                                     {"values", {kSandboxNodeName}}}})}}})}};
    ok = createPod(ns, pod) && ok;
  } else {
    // One pod per node: extras go, the oldest stays.
    for (size_t i = 1; i < active.size(); ++i) ok = deletePod(ns, nameOf(active[i])) && ok;
    // RollingUpdate (maxUnavailable 1, maxSurge 0): the outdated pod goes first.
    const json& pod = active[0];
    if (!onDelete && str(at(meta(pod), "labels"), kRevisionHashLabel) != hash) {
      ok = deletePod(ns, nameOf(pod)) && ok;
    }
  }

  active = activePods();
  int64_t minReady = num(spec, "minReadySeconds");
  std::optional<Ms> wait;
  int32_t scheduled = active.empty() ? 0 : 1;
  int32_t ready = !active.empty() && isPodReady(active[0]) ? 1 : 0;
  int32_t availableCount = !active.empty() && podAvailable(active[0], minReady, &wait) ? 1 : 0;
  int32_t updated =
      !active.empty() && str(at(meta(active[0]), "labels"), kRevisionHashLabel) == hash ? 1 : 0;
  json status = at(ds, "status").is_object() ? ds["status"] : json::object();
  status["currentNumberScheduled"] = scheduled;
  status["desiredNumberScheduled"] = 1;
  status["numberMisscheduled"] = 0;
  status["numberReady"] = ready;
  setCount(status, "updatedNumberScheduled", updated);
  setCount(status, "numberAvailable", availableCount);
  setCount(status, "numberUnavailable", 1 - availableCount);
  status["observedGeneration"] = num(meta(ds), "generation", 1);
  ok = writeStatus(*daemonSets_, ns, name, status) && ok;
  if (wait) requeueAfter(key("DaemonSet", ns, name), *wait);
  return ok;
}

// ---- Job (pkg/controller/job/job_controller.go), non-indexed ----

bool WorkloadSimulator::syncJob(const std::string& ns, const std::string& name) {
  ObjectPtr jobPtr = store_.get(jobs_->storageKey(), ns, name);
  if (!jobPtr || terminating(*jobPtr)) return true;
  const json& job = *jobPtr;
  const json& spec = at(job, "spec");
  const std::string uid = uidOf(job);
  const json& stored = at(job, "status");
  const std::string now = nowRfc3339();

  auto finishedAt = [&]() -> std::string {
    for (const auto& c : at(stored, "conditions")) {
      if ((str(c, "type") == "Complete" || str(c, "type") == "Failed") &&
          str(c, "status") == "True") {
        return str(c, "lastTransitionTime");
      }
    }
    return "";
  };
  std::string finished = finishedAt();
  if (!finished.empty()) {
    // The TTL-after-finished controller deletes the Job (and its pods).
    if (spec.contains("ttlSecondsAfterFinished")) {
      auto since = parseTime(finished);
      std::time_t due =
          (since ? *since : std::time(nullptr)) + num(spec, "ttlSecondsAfterFinished");
      std::time_t t = std::time(nullptr);
      if (due <= t) {
        DeleteOptions options;
        options.propagationPolicy = "Background";
        auto r = objects_.remove(*jobs_, ns, name, options);
        return r.ok() || r.error().code == 404;
      }
      requeueAfter(key("Job", ns, name), std::chrono::seconds(due - t + 1));
    }
    return true;
  }

  std::vector<json> active;
  int64_t succeeded = 0, failed = 0, ready = 0;
  for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
    if (!controlledBy(*p, uid)) continue;
    std::string phase = phaseOf(*p);
    if (phase == "Succeeded") {
      ++succeeded;
    } else if (phase == "Failed") {
      ++failed;
    } else if (!terminating(*p)) {
      active.push_back(*p);
      if (isPodReady(*p)) ++ready;
    }
  }
  // Pods deleted after they finished were counted before.
  succeeded = std::max(succeeded, num(stored, "succeeded"));
  failed = std::max(failed, num(stored, "failed"));

  const bool suspended = flag(spec, "suspend");
  const json& completionsField = at(spec, "completions");
  const int64_t parallelism = num(spec, "parallelism", 1);
  const int64_t backoffLimit = num(spec, "backoffLimit", 6);
  json status = stored.is_object() ? stored : json::object();
  if (!suspended && !status.contains("startTime")) status["startTime"] = now;
  bool ok = true;

  auto deleteActive = [&] {
    for (const auto& p : active) ok = deletePod(ns, nameOf(p)) && ok;
    active.clear();
    ready = 0;
  };
  auto addCondition = [&](const std::string& type, const std::string& reason,
                          const std::string& message) {
    json& conditions = status["conditions"];
    if (!conditions.is_array()) conditions = json::array();
    conditions.push_back({{"type", type},
                          {"status", "True"},
                          {"lastProbeTime", now},
                          {"lastTransitionTime", now},
                          {"reason", reason},
                          {"message", message}});
  };

  bool complete = false;
  if (failed > backoffLimit) {
    // 1.31+: FailureTarget first, then Failed once the pods are gone.
    deleteActive();
    addCondition("FailureTarget", "BackoffLimitExceeded",
                 "Job has reached the specified backoff limit");
    addCondition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  } else if (completionsField.is_number_integer()) {
    int64_t completions = completionsField.get<int64_t>();
    if (succeeded >= completions) {
      complete = true;
    } else if (!suspended) {
      int64_t want = std::min(parallelism, completions - succeeded);
      for (int64_t i = static_cast<int64_t>(active.size()); i < want; ++i) {
        json pod = podFromTemplate(at(spec, "template"), controllerRef("batch/v1", "Job", job));
        pod["metadata"]["generateName"] = name + "-";
        json& labels = pod["metadata"]["labels"];
        if (!labels.contains("batch.kubernetes.io/job-name")) {
          labels["batch.kubernetes.io/controller-uid"] = uid;
          labels["batch.kubernetes.io/job-name"] = name;
          labels["controller-uid"] = uid;
          labels["job-name"] = name;
        }
        ok = createPod(ns, pod) && ok;
      }
    }
  } else if (succeeded > 0 && active.empty()) {
    complete = true;  // a work queue: done when any pod succeeded and none runs
  } else if (succeeded == 0 && !suspended) {
    for (int64_t i = static_cast<int64_t>(active.size()); i < parallelism; ++i) {
      json pod = podFromTemplate(at(spec, "template"), controllerRef("batch/v1", "Job", job));
      pod["metadata"]["generateName"] = name + "-";
      ok = createPod(ns, pod) && ok;
    }
  }
  if (suspended) deleteActive();
  if (complete) {
    deleteActive();
    // 1.31+: SuccessCriteriaMet precedes Complete, both with this reason.
    addCondition("SuccessCriteriaMet", "CompletionsReached",
                 "Reached expected number of succeeded pods");
    addCondition("Complete", "CompletionsReached", "Reached expected number of succeeded pods");
    status["completionTime"] = now;
  }

  // Re-count what runs now, for `active` and `ready`.
  int64_t activeNow = 0, readyNow = 0;
  for (const auto& p : store_.list(pods_->storageKey(), ns).items) {
    if (controlledBy(*p, uid) && podActive(*p)) {
      ++activeNow;
      if (isPodReady(*p)) ++readyNow;
    }
  }
  setCount(status, "active", activeNow);
  status["ready"] = readyNow;
  status["terminating"] = 0;
  setCount(status, "succeeded", succeeded);
  setCount(status, "failed", failed);
  status["uncountedTerminatedPods"] = json::object();
  ok = writeStatus(*jobs_, ns, name, status) && ok;
  if ((complete || failed > backoffLimit) && spec.contains("ttlSecondsAfterFinished")) {
    requeueAfter(key("Job", ns, name), std::chrono::seconds(num(spec, "ttlSecondsAfterFinished")));
  }
  return ok;
}

// ---- the kubelet and scheduler of the sandbox node ----

bool WorkloadSimulator::syncPod(const std::string& ns, const std::string& name) {
  const std::string runKey = ns + "/" + name;
  ObjectPtr p = store_.get(pods_->storageKey(), ns, name);
  if (!p || terminating(*p)) {
    podRuns_.erase(runKey);
    return true;
  }
  const json& pod = *p;
  std::string phase = phaseOf(pod);
  if (phase == "Succeeded" || phase == "Failed") {
    podRuns_.erase(runKey);
    return true;
  }
  const std::string uid = uidOf(pod);
  PodRun& run = podRuns_[runKey];
  auto now = SteadyClock::now();
  if (run.uid != uid) run = PodRun{uid, now, std::nullopt};

  const json* owner = controllerOf(pod);
  const bool jobPod = owner && str(*owner, "kind") == "Job";
  const std::string restartPolicy = str(at(pod, "spec"), "restartPolicy");
  const bool crash = annotation(pod, kCrashLoopAnnotation) == "true" && restartPolicy != "Never";
  const bool fail = annotation(pod, kFailAnnotation) == "true";
  const std::string selfKey = key("Pod", ns, name);

  PodState state = PodState::Running;
  int64_t restarts = 0;
  if (now < run.seenAt + podReadyDelay_) {
    state = PodState::Pending;
    requeueAfter(selfKey,
                 std::chrono::duration_cast<Ms>(run.seenAt + podReadyDelay_ - now) + Ms(1));
  } else {
    bool justStarted = !run.runningAt;
    if (justStarted) run.runningAt = now;
    auto elapsed = std::chrono::duration_cast<Ms>(now - *run.runningAt);
    if (crash) {
      // Restarts accrue every interval; the count never goes back (the
      // simulator may have restarted and lost its clock).
      int64_t prior = 0;
      for (const auto& c : at(at(pod, "status"), "containerStatuses")) {
        prior = std::max(prior, num(c, "restartCount"));
      }
      state = PodState::CrashLoop;
      restarts = std::max<int64_t>(prior, 1 + elapsed / crashLoopInterval_);
      requeueAfter(selfKey, crashLoopInterval_ - Ms(elapsed.count() % crashLoopInterval_.count()));
    } else if (jobPod && restartPolicy != "Always") {
      // A Job's pod is seen Running once, then finishes.
      if (justStarted) {
        requeueAfter(selfKey, podReadyDelay_);
      } else if (elapsed >= podReadyDelay_) {
        state = fail ? PodState::Failed : PodState::Succeeded;
      } else {
        requeueAfter(selfKey, podReadyDelay_ - elapsed);
      }
    }
  }

  std::string timestamp = nowRfc3339();
  std::string ip;
  if (state != PodState::Pending && !at(pod, "status").contains("podIP")) ip = nextPodIp();
  auto r = objects_.modify(*pods_, ns, name, [&](json& o) {
    if (uidOf(o) != uid) return false;
    json before = o;
    applyPodState(o, state, restarts, timestamp, ip);
    return o != before;
  });
  return r.ok() || r.error().code == 404;
}

// ---- PodDisruptionBudgets (pkg/controller/disruption) ----

bool WorkloadSimulator::syncDisruptionBudgets(const std::string& ns) {
  auto budgets = store_.list(pdbs_->storageKey(), ns).items;
  if (budgets.empty()) return true;
  std::vector<json> pods;
  for (const auto& p : store_.list(pods_->storageKey(), ns).items) pods.push_back(*p);
  ScaleLookup scales = storeScaleLookup(store_);
  auto now = wallNow();
  bool ok = true;
  for (const auto& pdb : budgets) {
    if (terminating(*pdb)) continue;
    PdbCounts counts = computePdbCounts(*pdb, pods, scales, now);
    json status = pdbStatus(*pdb, counts, now);
    if (status != at(*pdb, "status")) ok = writeStatus(*pdbs_, ns, nameOf(*pdb), status) && ok;
    // A recorded disruption expires after DeletionTimeout (2 minutes).
    if (!counts.disruptedPods.empty()) requeueAfter(key("PDB", ns, ""), std::chrono::seconds(121));
  }
  return ok;
}

}  // namespace remedy::sandbox
