#include "sandbox/objects.h"

#include "formats/base64.h"
#include "sandbox/admission_webhooks.h"
#include "sandbox/disruption.h"
#include "sandbox/object_meta.h"
#include "sandbox/patch.h"
#include "sandbox/schema.h"
#include "sandbox/selectors.h"
#include "sandbox/yaml_json.h"

#include <algorithm>

namespace remedy::sandbox {

namespace {

const char* kConflictDetail =
    "the object has been modified; please apply your changes to the latest version and try again";

// Which kinds keep metadata.generation: custom resources and the built-ins
// whose strategy sets it (kube-apiserver v1.33: not services; network
// policies do, without a status subresource).
bool hasGeneration(const ResourceType& t) {
  if (t.group.empty() && (t.resource == "services" || t.resource == "namespaces")) return false;
  if (t.group == "networking.k8s.io" && t.resource == "networkpolicies") return true;
  return t.custom || t.hasStatus;
}

// Everything but metadata and status: a change here is a new generation
// (k8s.io/apiserver registry strategies compare spec; custom resources
// compare every field outside metadata and status).
bool specChanged(const json& a, const json& b) {
  json x = a, y = b;
  for (json* o : {&x, &y}) {
    if (!o->is_object()) continue;
    o->erase("metadata");
    o->erase("status");
  }
  return x != y;
}

std::vector<std::string> stringList(const json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

std::vector<std::string> selectableFields(const ResourceType& t) {
  std::vector<std::string> f = {"metadata.name", "metadata.namespace"};
  if (t.group.empty() && t.resource == "pods") {
    f.insert(f.end(), {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                       "spec.serviceAccountName", "status.phase", "status.podIP",
                       "status.nominatedNodeName"});
  } else if (t.group.empty() && t.resource == "events") {
    f.insert(f.end(),
             {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"});
  } else if (t.group.empty() && t.resource == "secrets") {
    f.push_back("type");
  } else if (t.group.empty() && t.resource == "namespaces") {
    f.push_back("status.phase");
  } else if (t.group == "batch" && t.resource == "jobs") {
    f.push_back("status.successful");
  }
  return f;
}

Result<FieldSelector> parseFieldSelector(const ResourceType& t, const std::string& selector) {
  auto parsed = FieldSelector::parse(selector, selectableFields(t));
  if (parsed.ok()) return parsed;
  ApiError e = parsed.error();
  const std::string prefix = "field label not supported: ";
  if (e.message.rfind(prefix, 0) != 0) return e;
  std::string field = e.message.substr(prefix.size());
  // Kinds with a field label conversion function (pods, events, secrets,
  // namespaces, services; custom resources) keep that message; Job's says
  // its kind; every other kind has only the metadata fields
  // (apiserver/pkg/registry/generic DefaultClusterScopedAttr and the
  // scheme's default conversion).
  bool conversion =
      t.custom || (t.group.empty() &&
                   (t.resource == "pods" || t.resource == "events" || t.resource == "secrets" ||
                    t.resource == "namespaces" || t.resource == "services"));
  if (t.group == "batch" && t.resource == "jobs") {
    e.message = "field label \"" + field + "\" not supported for Job";
  } else if (!conversion) {
    e.message = "\"" + field +
                "\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"";
  }
  return e;
}

namespace {

// encoding/json's name for the kind of a JSON value it cannot decode.
std::string jsonKind(const json& v) {
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "string";
}

// A Secret as kube-apiserver decodes one: every data value is base64
// (encoding/json's []byte: StdEncoding, line breaks skipped) and is kept
// re-encoded without them, a null is empty, and stringData overwrites data
// and is dropped. What does not decode is 400 BadRequest, before any
// validation.
std::optional<ApiError> decodeSecretData(json& object) {
  const std::string cannot = "Secret in version \"v1\" cannot be handled as a Secret: ";
  if (object.contains("data") && object["data"].is_object()) {
    for (auto& [k, v] : object["data"].items()) {
      if (v.is_null()) {
        v = "";
        continue;
      }
      if (!v.is_string()) {
        return ApiError::badRequest(cannot + "json: cannot unmarshal " + jsonKind(v) +
                                    " into Go struct field Secret.data of type []uint8");
      }
      auto decoded = formats::decodeBase64(v.get<std::string>());
      if (!decoded.ok()) return ApiError::badRequest(cannot + decoded.error());
      v = formats::encodeBase64(decoded.value());
    }
  }
  if (object.contains("stringData") && object["stringData"].is_object()) {
    for (auto& [k, v] : object["stringData"].items()) {
      if (!v.is_string() && !v.is_null()) {
        return ApiError::badRequest(cannot + "json: cannot unmarshal " + jsonKind(v) +
                                    " into Go struct field Secret.stringData of type string");
      }
      object["data"][k] = formats::encodeBase64(v.is_string() ? v.get<std::string>() : "");
    }
    object.erase("stringData");
  }
  return std::nullopt;
}

// Reads a ".spec.replicas"-style path.
const json* atPath(const json& o, const std::string& path) {
  const json* cur = &o;
  size_t i = path.empty() || path[0] != '.' ? 0 : 1;
  while (i < path.size()) {
    size_t dot = path.find('.', i);
    std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
    if (dot == std::string::npos) break;
    i = dot + 1;
  }
  return cur;
}

void setAtPath(json& o, const std::string& path, json value) {
  json* cur = &o;
  size_t i = path.empty() || path[0] != '.' ? 0 : 1;
  while (true) {
    size_t dot = path.find('.', i);
    std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    if (dot == std::string::npos) {
      (*cur)[part] = std::move(value);
      return;
    }
    cur = &(*cur)[part];
    i = dot + 1;
  }
}

// metav1.LabelSelector as the string form Scale.status.selector uses.
std::string selectorString(const json& sel) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ",") + s; };
  if (!sel.is_object()) return out;
  const json matchLabels = sel.value("matchLabels", json::object());
  for (auto& [k, v] : matchLabels.items()) {
    add(k + "=" + v.get<std::string>());
  }
  for (const auto& e : sel.value("matchExpressions", json::array())) {
    std::string op = e.value("operator", "");
    std::string key = e.value("key", "");
    std::string values;
    for (const auto& v : e.value("values", json::array())) {
      values += (values.empty() ? "" : ",") + v.get<std::string>();
    }
    if (op == "In") add(key + " in (" + values + ")");
    if (op == "NotIn") add(key + " notin (" + values + ")");
    if (op == "Exists") add(key);
    if (op == "DoesNotExist") add("!" + key);
  }
  return out;
}

// pkg/apis/core/v1/defaults.go SetDefaults_Container: IfNotPresent unless
// the image is untagged or :latest.
void defaultContainers(json& containers) {
  if (!containers.is_array()) return;
  for (auto& c : containers) {
    if (!c.is_object()) continue;
    if (!c.contains("imagePullPolicy")) {
      std::string image = c.value("image", "");
      std::string ref = image.substr(0, image.find('@'));
      size_t slash = ref.rfind('/');
      size_t colon = ref.rfind(':');
      bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
      bool latest = !tagged || ref.substr(colon + 1) == "latest";
      c["imagePullPolicy"] =
          latest && image.find('@') == std::string::npos ? "Always" : "IfNotPresent";
    }
    if (!c.contains("resources")) c["resources"] = json::object();
    if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
    if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
    if (c.contains("ports") && c["ports"].is_array()) {
      for (auto& p : c["ports"]) {
        if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
      }
    }
  }
}

// SetDefaults_PodSpec, for pods and the pod templates of workloads.
void defaultPodSpec(json& spec) {
  if (!spec.is_object()) return;
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  if (!spec.contains("securityContext")) spec["securityContext"] = json::object();
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (spec.contains("containers")) defaultContainers(spec["containers"]);
  if (spec.contains("initContainers")) defaultContainers(spec["initContainers"]);
}

// What a bare pod gets beyond its spec defaults: SetDefaults_Pod, the
// Priority and DefaultTolerationSeconds admission plugins, and the
// ServiceAccount plugin's serviceAccount field (its token volume is not
// simulated).
void defaultPod(json& spec) {
  if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
  if (!spec.contains("preemptionPolicy")) spec["preemptionPolicy"] = "PreemptLowerPriority";
  if (!spec.contains("priority")) spec["priority"] = 0;
  if (!spec.contains("serviceAccount"))
    spec["serviceAccount"] = spec.value("serviceAccountName", "default");
  json& tolerations = spec["tolerations"];
  if (!tolerations.is_array()) tolerations = json::array();
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool present = false;
    for (const auto& t : tolerations) {
      if (t.is_object() && t.value("key", "") == key && t.value("effect", "") == "NoExecute")
        present = true;
    }
    if (!present) {
      tolerations.push_back({{"key", key},
                             {"operator", "Exists"},
                             {"effect", "NoExecute"},
                             {"tolerationSeconds", 300}});
    }
  }
}

// Defaults of built-in kinds that clients and the simulator rely on
// (pkg/apis/*/v1/defaults.go, the parts that matter here).
void applyBuiltinDefaults(const ResourceType& t, json& o) {
  if (t.group == "admissionregistration.k8s.io") {
    defaultWebhookConfiguration(o, t.kind == "MutatingWebhookConfiguration");
  }
  if ((t.group == "apps" && (t.resource == "deployments" || t.resource == "statefulsets" ||
                             t.resource == "replicasets" || t.resource == "daemonsets")) ||
      (t.group == "batch" && t.resource == "jobs")) {
    json& spec = o["spec"];
    if (spec.is_object() && spec.contains("template") && spec["template"].is_object()) {
      json& template_ = spec["template"];
      if (t.resource == "jobs" && template_.contains("spec") &&
          !template_["spec"].contains("restartPolicy")) {
        template_["spec"]["restartPolicy"] = "Never";
      }
      if (template_.contains("spec")) defaultPodSpec(template_["spec"]);
    }
  }
  if (t.group == "batch" && t.resource == "cronjobs") {
    json& spec = o["spec"];
    if (spec.is_object()) {
      if (!spec.contains("concurrencyPolicy")) spec["concurrencyPolicy"] = "Allow";
      if (!spec.contains("suspend")) spec["suspend"] = false;
      if (!spec.contains("successfulJobsHistoryLimit")) spec["successfulJobsHistoryLimit"] = 3;
      if (!spec.contains("failedJobsHistoryLimit")) spec["failedJobsHistoryLimit"] = 1;
      if (spec.contains("jobTemplate") && spec["jobTemplate"].contains("spec") &&
          spec["jobTemplate"]["spec"].contains("template") &&
          spec["jobTemplate"]["spec"]["template"].contains("spec")) {
        defaultPodSpec(spec["jobTemplate"]["spec"]["template"]["spec"]);
      }
    }
  }
  if (t.group.empty() && t.resource == "events") {
    if (!o.contains("reportingComponent")) o["reportingComponent"] = "";
    if (!o.contains("reportingInstance")) o["reportingInstance"] = "";
    if (!o.contains("source")) o["source"] = json::object();
  }
  // The status a create answers with: the zero values Go serialises of each
  // kind's status struct (fields without omitempty).
  if (!o.contains("status")) {
    if (t.group == "apps" && t.resource == "replicasets") o["status"] = {{"replicas", 0}};
    if (t.group == "apps" && t.resource == "statefulsets") {
      o["status"] = {{"availableReplicas", 0}, {"replicas", 0}};
    }
    if (t.group == "apps" && t.resource == "daemonsets") {
      o["status"] = {{"currentNumberScheduled", 0},
                     {"desiredNumberScheduled", 0},
                     {"numberMisscheduled", 0},
                     {"numberReady", 0}};
    }
    if ((t.group == "apps" && t.resource == "deployments") ||
        (t.group == "batch" && (t.resource == "jobs" || t.resource == "cronjobs"))) {
      o["status"] = json::object();
    }
  }
  if (t.group == "policy" && t.resource == "poddisruptionbudgets" && !o.contains("status")) {
    o["status"] = {{"currentHealthy", 0},
                   {"desiredHealthy", 0},
                   {"disruptionsAllowed", 0},
                   {"expectedPods", 0}};
  }
  if (t.group == "apps" && (t.resource == "deployments" || t.resource == "statefulsets" ||
                            t.resource == "replicasets" || t.resource == "daemonsets")) {
    json& spec = o["spec"];
    if (!spec.contains("replicas") && t.resource != "daemonsets") spec["replicas"] = 1;
    if (t.resource == "deployments") {
      if (!spec.contains("strategy")) {
        spec["strategy"] = {{"type", "RollingUpdate"},
                            {"rollingUpdate", {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}};
      }
      if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
      if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
    }
    if (t.resource == "daemonsets") {
      if (!spec.contains("updateStrategy")) {
        spec["updateStrategy"] = {{"type", "RollingUpdate"},
                                  {"rollingUpdate", {{"maxUnavailable", 1}, {"maxSurge", 0}}}};
      }
      if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
    }
    if (t.resource == "daemonsets" && !o["metadata"]
                                           .value("annotations", json::object())
                                           .contains("deprecated.daemonset.template.generation")) {
      o["metadata"]["annotations"]["deprecated.daemonset.template.generation"] =
          std::to_string(o["metadata"].value("generation", int64_t{1}));
    }
    if (t.resource == "statefulsets") {
      if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
      if (!spec.contains("persistentVolumeClaimRetentionPolicy")) {
        spec["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Retain"},
                                                        {"whenScaled", "Retain"}};
      }
      if (!spec.contains("podManagementPolicy")) spec["podManagementPolicy"] = "OrderedReady";
      if (!spec.contains("updateStrategy")) {
        spec["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}};
      }
    }
  }
  if (t.group == "batch" && t.resource == "jobs") {
    json& spec = o["spec"];
    if (!spec.contains("completions")) spec["completions"] = 1;
    if (!spec.contains("parallelism")) spec["parallelism"] = 1;
    if (!spec.contains("backoffLimit")) spec["backoffLimit"] = 6;
    if (!spec.contains("completionMode")) spec["completionMode"] = "NonIndexed";
    if (!spec.contains("podReplacementPolicy"))
      spec["podReplacementPolicy"] = "TerminatingOrFailed";
    if (!spec.contains("manualSelector") && !spec.contains("selector"))
      spec["manualSelector"] = false;
    if (!spec.contains("selector")) {
      std::string uid = o["metadata"].value("uid", "");
      spec["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
      json& labels = spec["template"]["metadata"]["labels"];
      labels["batch.kubernetes.io/controller-uid"] = uid;
      labels["batch.kubernetes.io/job-name"] = o["metadata"].value("name", "");
      labels["controller-uid"] = uid;
      labels["job-name"] = o["metadata"].value("name", "");
    }
    json& podSpec = spec["template"]["spec"];
    if (!podSpec.contains("restartPolicy")) podSpec["restartPolicy"] = "Never";
  }
  if (t.group.empty() && t.resource == "services") {
    json& spec = o["spec"];
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    if (!spec.contains("clusterIP") && spec.value("type", "") != "ExternalName") {
      std::string uid = o["metadata"].value("uid", "");
      unsigned h = std::hash<std::string>{}(uid);
      spec["clusterIP"] =
          "10.96." + std::to_string((h >> 8) % 250 + 1) + "." + std::to_string(h % 250 + 1);
      spec["clusterIPs"] = json::array({spec["clusterIP"]});
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
      for (auto& p : spec["ports"]) {
        if (!p.contains("protocol")) p["protocol"] = "TCP";
        if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
      }
    }
    if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
    if (spec.value("type", "") != "ExternalName") {
      if (!spec.contains("ipFamilies")) spec["ipFamilies"] = json::array({"IPv4"});
      if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
      if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
    }
    if (!o.contains("status")) o["status"] = {{"loadBalancer", json::object()}};
  }
  if (t.group.empty() && t.resource == "pods") {
    json& spec = o["spec"];
    if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
    if (!spec.contains("serviceAccountName")) spec["serviceAccountName"] = "default";
    if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
    if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
    defaultPodSpec(spec);
    defaultPod(spec);
  }
  if (t.group.empty() && t.resource == "secrets" && !o.contains("type")) o["type"] = "Opaque";
}

// A map[string]string as Go's %#v prints it in validation messages.
std::string goStringMap(const json& m) {
  std::string out = "map[string]string{";
  bool first = true;
  for (auto& [k, v] : m.items()) {  // nlohmann keeps keys sorted, as %#v does
    out += (first ? "" : ", ") + json(k).dump() + ":" +
           (v.is_string() ? v.dump() : json(v.dump()).dump());
    first = false;
  }
  return out + "}";
}

// Validation of built-in kinds: the rules clients run into most, in the
// order kube-apiserver reports them.
std::vector<StatusCause> validateBuiltin(const ResourceType& t, const json& o) {
  std::vector<StatusCause> causes;
  if (t.group == "admissionregistration.k8s.io") {
    return validateWebhookConfiguration(o, t.kind == "MutatingWebhookConfiguration");
  }
  auto required = [&](const std::string& field) {
    causes.push_back({"FieldValueRequired", "Required value", field});
  };
  const json& spec = o.value("spec", json::object());
  if (t.group == "apps" && (t.resource == "deployments" || t.resource == "statefulsets" ||
                            t.resource == "replicasets" || t.resource == "daemonsets")) {
    if (spec.contains("replicas") && spec["replicas"].is_number_integer() &&
        spec["replicas"].get<int64_t>() < 0) {
      causes.push_back(
          {"FieldValueInvalid",
           "Invalid value: " + spec["replicas"].dump() + ": must be greater than or equal to 0",
           "spec.replicas"});
    }
    if (!spec.contains("selector")) {
      required("spec.selector");
    } else if (auto sel = LabelSelector::fromLabelSelectorJson(spec["selector"]); sel.ok()) {
      json labels = json::object();
      if (spec.contains("template") && spec["template"].contains("metadata")) {
        labels = spec["template"]["metadata"].value("labels", json::object());
      }
      if (!sel->matches(labels)) {
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: " + goStringMap(labels) +
                              ": `selector` does not match template `labels`",
                          "spec.template.metadata.labels"});
      }
    }
  }
  const json* podSpec = nullptr;
  std::string podPath;
  if (t.group.empty() && t.resource == "pods") {
    podSpec = &spec;
    podPath = "spec";
  } else if (t.group == "batch" && t.resource == "cronjobs") {
    const json* job = nullptr;
    if (spec.contains("jobTemplate") && spec["jobTemplate"].is_object() &&
        spec["jobTemplate"].contains("spec")) {
      job = &spec["jobTemplate"]["spec"];
    }
    if (job && job->is_object() && job->contains("template") &&
        (*job)["template"].contains("spec")) {
      podSpec = &(*job)["template"]["spec"];
      podPath = "spec.jobTemplate.spec.template.spec";
    } else {
      required("spec.jobTemplate.spec.template.spec.containers");
    }
  } else if (spec.contains("template") && spec["template"].contains("spec")) {
    podSpec = &spec["template"]["spec"];
    podPath = "spec.template.spec";
  } else if (t.group == "apps" || t.group == "batch") {
    required("spec.template.spec.containers");
  }
  if (podSpec) {
    const json& containers = podSpec->value("containers", json::array());
    if (!containers.is_array() || containers.empty()) {
      required(podPath + ".containers");
    } else {
      for (size_t i = 0; i < containers.size(); ++i) {
        std::string p = podPath + ".containers[" + std::to_string(i) + "]";
        if (!containers[i].contains("name")) required(p + ".name");
        if (!containers[i].contains("image")) required(p + ".image");
      }
    }
  }
  return causes;
}

// Fields a PUT or a patch may not change (ObjectMeta rules in
// k8s.io/apimachinery/pkg/api/validation/objectmeta.go ValidateObjectMetaUpdate).
void keepImmutableMeta(const json& old, json& updated) {
  json& m = updated["metadata"];
  const json& om = old["metadata"];
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation", "namespace", "name"}) {
    if (om.contains(f)) {
      m[f] = om[f];
    } else {
      m.erase(f);
    }
  }
}

}  // namespace

Objects::Objects(Store& store, Registry& registry) : store_(store), registry_(registry) {}

Result<ObjectPtr> Objects::get(const ResourceType& type, const std::string& ns,
                               const std::string& name) const {
  ObjectPtr o = store_.get(type.storageKey(), type.namespaced ? ns : "", name);
  if (!o) return ApiError::notFound(type.group, type.resource, name);
  return o;
}

Result<json> Objects::list(const ResourceType& type, const std::string& ns,
                           const ListOptions& options) const {
  auto labelSel = LabelSelector::parse(options.labelSelector);
  if (!labelSel.ok()) return labelSel.error();
  auto fieldSel = parseFieldSelector(type, options.fieldSelector);
  if (!fieldSel.ok()) return fieldSel.error();
  std::string scopedNs = type.namespaced ? ns : "";
  // k8s.io/apimachinery/pkg/apis/meta/internalversion/validation
  // ValidateListOptions, and the cacher's resourceVersion semantics.
  const std::string& match = options.resourceVersionMatch;
  if (!match.empty() && match != "Exact" && match != "NotOlderThan") {
    return ApiError::invalid("meta.k8s.io", "ListOptions", "",
                             {{"FieldValueNotSupported",
                               "Unsupported value: \"" + match +
                                   "\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
                               "resourceVersionMatch"}});
  }
  if (!match.empty() && options.resourceVersion.empty()) {
    return ApiError::invalid(
        "meta.k8s.io", "ListOptions", "",
        {{"FieldValueForbidden",
          "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
          "resourceVersionMatch"}});
  }
  int64_t requestedRv = 0;
  if (!options.resourceVersion.empty()) {
    try {
      size_t used = 0;
      requestedRv = std::stoll(options.resourceVersion, &used);
      if (used != options.resourceVersion.size() || requestedRv < 0)
        throw std::invalid_argument("");
    } catch (...) {
      // storage.APIObjectVersioner.ParseResourceVersion's error, as the
      // cacher wraps it.
      return ApiError::badRequest("invalid resource version: resourceVersion: Invalid value: \"" +
                                  options.resourceVersion + "\": strconv.ParseUint: parsing \"" +
                                  options.resourceVersion + "\": invalid syntax");
    }
  }
  if (!options.continueToken.empty() && requestedRv != 0) {
    // storage/etcd3 store.go GetList.
    return ApiError::badRequest("specifying resource version is not allowed when using continue");
  }
  if (match == "Exact" && requestedRv == 0) {
    return ApiError::invalid("meta.k8s.io", "ListOptions", "",
                             {{"FieldValueForbidden",
                               "Forbidden: resourceVersionMatch \"exact\" is forbidden for "
                               "resourceVersion \"0\"",
                               "resourceVersionMatch"}});
  }
  if (requestedRv > store_.currentResourceVersion()) {
    ApiError e = ApiError::fromCode(
        504, "Too large resource version: " + std::to_string(requestedRv) +
                 ", current: " + std::to_string(store_.currentResourceVersion()));
    e.details = {{"causes", json::array({{{"reason", "ResourceVersionTooLarge"},
                                          {"message", "Too large resource version"}}})},
                 {"retryAfterSeconds", 1}};
    return e;
  }
  Store::ListResult all;
  std::string startAfter;
  if (options.continueToken.empty() && match == "Exact") {
    auto snapshot = store_.listAt(type.storageKey(), scopedNs, requestedRv);
    if (!snapshot.ok()) {
      return ApiError::gone("too old resource version: " + std::to_string(requestedRv) + " (" +
                            std::to_string(store_.oldestResumableVersion() + 1) + ")");
    }
    all = std::move(snapshot.value());
  } else if (options.continueToken.empty()) {
    all = store_.list(type.storageKey(), scopedNs);
  } else {
    auto token = decodeContinue(options.continueToken);
    if (!token) {
      return ApiError::badRequest(
          "invalid continue token: continue key is not valid: illegal base64 data");
    }
    startAfter = token->first;
    // Every page of a list is the snapshot of its first page.
    auto snapshot = store_.listAt(type.storageKey(), scopedNs, token->second);
    if (!snapshot.ok()) return snapshot.error();
    all = std::move(snapshot.value());
  }
  int64_t listRv = all.resourceVersion;
  json items = json::array();
  int64_t remaining = 0;
  std::string lastKey;
  for (const auto& o : all.items) {
    const json& meta = (*o)["metadata"];
    std::string key = meta.value("namespace", "") + "/" + meta.value("name", "");
    if (!startAfter.empty() && key <= startAfter) continue;
    if (!labelSel->matches(meta.value("labels", json::object()))) continue;
    if (!fieldSel->matches(*o)) continue;
    if (options.limit > 0 && static_cast<int64_t>(items.size()) >= options.limit) {
      ++remaining;
      continue;
    }
    json item = *o;
    item["apiVersion"] = type.apiVersion();
    items.push_back(std::move(item));
    lastKey = key;
  }
  json metadata = {{"resourceVersion", std::to_string(listRv)}};
  if (remaining > 0) {
    metadata["continue"] = encodeContinue(lastKey, listRv);
    // Counted only when nothing filters the list (storage/etcd3 GetList:
    // pred.Empty()).
    if (options.labelSelector.empty() && options.fieldSelector.empty()) {
      metadata["remainingItemCount"] = remaining;
    }
  }
  return json{{"apiVersion", type.apiVersion()},
              {"kind", type.listKind},
              {"metadata", metadata},
              {"items", std::move(items)}};
}

std::optional<ApiError> Objects::checkNamespace(const ResourceType& type,
                                                const std::string& ns) const {
  if (!type.namespaced) return std::nullopt;
  ObjectPtr nsObj = store_.get("/namespaces", "", ns);
  if (!nsObj) return ApiError::notFound("", "namespaces", ns);
  if ((*nsObj)["metadata"].contains("deletionTimestamp")) {
    ApiError e = ApiError::forbidden("", "", "", "", "", "", "");
    e.message =
        "unable to create new content in namespace " + ns + " because it is being terminated";
    e.details =
        json{{"name", ns},
             {"kind", type.resource},
             {"causes", json::array({{{"reason", "NamespaceTerminating"},
                                      {"message", "namespace " + ns + " is being terminated"},
                                      {"field", "metadata.namespace"}}})}};
    return e;
  }
  return std::nullopt;
}

// Strict field validation of a custom resource as the client sent it:
// unknown fields are an error, not pruned (k8s.io/apiserver/pkg/endpoints/
// handlers: "strict decoding error").
static std::optional<ApiError> strictFieldCheck(const ResourceType& type, const json& object,
                                                const WriteOptions& options) {
  if (!type.custom || type.schema.is_null() || options.fieldValidation != "Strict") {
    return std::nullopt;
  }
  json pruned = object;
  pruneUnknownFields(pruned, type.schema);
  std::vector<std::string> unknown = unknownFields(object, pruned);
  if (unknown.empty()) return std::nullopt;
  std::string message = type.kind + " in version \"" + type.version + "\" cannot be handled as a " +
                        type.kind + ": strict decoding error: ";
  for (size_t i = 0; i < unknown.size(); ++i) {
    message += (i ? ", " : "") + std::string("unknown field \"") + unknown[i] + "\"";
  }
  return ApiError::badRequest(message);
}

// Schema validation and the other per-kind rules that both create and update
// run. `object` may be rewritten (pruning, defaults, stringData).
std::optional<ApiError> Objects::admit(const ResourceType& type, json& object, const json* old,
                                       const WriteOptions& options) const {
  std::string name = object["metadata"].value("name", "");
  NameRule nameRule = NameRule::DnsSubdomain;
  if (type.group == "rbac.authorization.k8s.io") nameRule = NameRule::PathSegment;
  if (type.group.empty() && (type.resource == "namespaces" || type.resource == "services")) {
    nameRule = NameRule::DnsLabel;
  }
  std::vector<StatusCause> causes = validateObjectMeta(object["metadata"], nameRule);
  if (type.custom) {
    if (auto err = strictFieldCheck(type, object, options)) return *err;
    if (!type.schema.is_null()) {
      auto schemaCauses = validateCustomObject(object, type.schema);
      causes.insert(causes.end(), schemaCauses.begin(), schemaCauses.end());
    }
  } else {
    if (type.group.empty() && type.resource == "secrets") {
      if (auto undecodable = decodeSecretData(object)) return undecodable;
    }
    auto builtin = validateBuiltin(type, object);
    causes.insert(causes.end(), builtin.begin(), builtin.end());
    if (type.group == "apiextensions.k8s.io") {
      auto crdCauses = validateCustomResourceDefinition(object);
      causes.insert(causes.end(), crdCauses.begin(), crdCauses.end());
    }
  }
  if (old) {
    // No new finalizers once deletion has begun
    // (apimachinery ValidateObjectMetaUpdate).
    const json& om = (*old)["metadata"];
    if (om.contains("deletionTimestamp")) {
      auto before = stringList(om.value("finalizers", json::array()));
      for (const auto& f : stringList(object["metadata"].value("finalizers", json::array()))) {
        if (std::find(before.begin(), before.end(), f) == before.end()) {
          causes.push_back({"FieldValueForbidden",
                            "Forbidden: no new finalizers can be added if the object is being "
                            "deleted, found new finalizers []string{\"" +
                                f + "\"}",
                            "metadata.finalizers"});
        }
      }
    }
    if (type.group == "apps" && (*old).contains("spec") && (*old)["spec"].contains("selector") &&
        object["spec"].value("selector", json()) != (*old)["spec"]["selector"]) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + object["spec"].value("selector", json()).dump() +
                            ": field is immutable",
                        "spec.selector"});
    }
  }
  if (!causes.empty()) return ApiError::invalid(type.group, type.kind, name, causes);
  return std::nullopt;
}

Result<ObjectPtr> Objects::create(const ResourceType& type, const std::string& ns, json object,
                                  const WriteOptions& options) {
  if (!object.is_object()) return ApiError::badRequest("the body of the request is not an object");
  if (type.createOnly) return ApiError::methodNotAllowed("create of " + type.resource);
  std::string apiVersion = object.value("apiVersion", type.apiVersion());
  if (apiVersion != type.apiVersion()) {
    return ApiError::badRequest("the API version in the data (" + apiVersion +
                                ") does not match the expected API version (" + type.apiVersion() +
                                ")");
  }
  std::string kind = object.value("kind", type.kind);
  if (kind != type.kind) {
    return ApiError::badRequest("the kind in the data (" + kind +
                                ") does not match the expected kind (" + type.kind + ")");
  }
  object["apiVersion"] = type.apiVersion();
  object["kind"] = type.kind;
  if (!object.contains("metadata") || !object["metadata"].is_object()) {
    object["metadata"] = json::object();
  }
  if (type.namespaced) {
    std::string bodyNs = object["metadata"].value("namespace", "");
    if (!bodyNs.empty() && bodyNs != ns) {
      return ApiError::badRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    object["metadata"]["namespace"] = ns;
    if (auto err = checkNamespace(type, ns)) return *err;
  } else {
    object["metadata"].erase("namespace");
  }
  if (object["metadata"].value("name", "").empty() &&
      object["metadata"].value("generateName", "").empty()) {
    return ApiError::invalid(
        type.group, type.kind, "",
        {{"FieldValueRequired", "Required value: name or generateName is required",
          "metadata.name"}});
  }
  // Mutating admission sees the object as decoded, before the server names
  // it and fills in its own fields (handlers/create.go admits before
  // rest.BeforeCreate).
  auto attributes =
      admissionFor("CREATE", type, ns, object["metadata"].value("name", ""), "", options);
  WriteOptions admitted = options;
  if (attributes) {
    applyBuiltinDefaults(type, object);
    if (auto err = strictFieldCheck(type, object, options)) return *err;
    admitted.fieldValidation.clear();  // the webhooks' fields are pruned, not refused
    if (auto err = admission_->mutate(*attributes, object, nullptr)) return *err;
  }
  json& meta = object["metadata"];
  if (meta.value("name", "").empty())
    meta["name"] = meta.value("generateName", "") + randomSuffix(5);
  meta["uid"] = newUid();
  meta["creationTimestamp"] = nowRfc3339();
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("managedFields");
  if (hasGeneration(type)) {
    meta["generation"] = 1;
  } else {
    meta.erase("generation");
  }
  // A create never sets status through the main resource
  // (PrepareForCreate in each registry strategy).
  if (type.hasStatus && !(type.group.empty() && type.resource == "namespaces")) {
    object.erase("status");
  }
  if (type.group.empty() && type.resource == "pods") {
    object["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
  }
  if (type.group.empty() && type.resource == "namespaces") {
    object["status"] = {{"phase", "Active"}};
    object["spec"]["finalizers"] = json::array({"kubernetes"});
    meta["labels"]["kubernetes.io/metadata.name"] = meta["name"];
  }
  applyBuiltinDefaults(type, object);
  if (auto err = admit(type, object, nullptr, admitted)) return *err;
  if (attributes) {
    attributes->name = object["metadata"].value("name", "");
    if (auto err = admission_->validate(*attributes, object, nullptr)) return *err;
  }
  std::string name = object["metadata"]["name"];
  if (type.group == "apiextensions.k8s.io" && type.resource == "customresourcedefinitions") {
    if (auto err = establish(object)) return *err;
  }
  if (options.dryRun) {
    if (store_.get(type.storageKey(), type.namespaced ? ns : "", name)) {
      return ApiError::alreadyExists(type.group, type.resource, name);
    }
    return std::make_shared<const json>(std::move(object));
  }
  auto created = store_.create(type.storageKey(), std::move(object), [&] {
    return ApiError::alreadyExists(type.group, type.resource, name);
  });
  // The service-account controller gives every namespace a "default" account.
  if (created.ok() && type.group.empty() && type.resource == "namespaces") {
    if (auto sa = registry_.find("", "v1", "serviceaccounts")) {
      this->create(*sa, name, {{"metadata", {{"name", "default"}}}}, {});
    }
  }
  return created;
}

std::optional<ApiError> Objects::establish(json& crd) {
  if (auto err = registry_.registerCustomResource(crd)) {
    crd["status"]["conditions"] = json::array({{{"type", "NamesAccepted"},
                                                {"status", "False"},
                                                {"reason", "NameConflict"},
                                                {"message", *err},
                                                {"lastTransitionTime", nowRfc3339()}},
                                               {{"type", "Established"},
                                                {"status", "False"},
                                                {"reason", "NotAccepted"},
                                                {"message", "not all names are accepted"},
                                                {"lastTransitionTime", nowRfc3339()}}});
    return std::nullopt;
  }
  json names = crd["spec"]["names"];
  if (!names.contains("singular")) {
    names["singular"] = [&] {
      std::string k = names.value("kind", "");
      std::transform(k.begin(), k.end(), k.begin(), ::tolower);
      return k;
    }();
  }
  if (!names.contains("listKind")) names["listKind"] = names.value("kind", "") + "List";
  json stored = json::array();
  for (const auto& v : crd["spec"].value("versions", json::array())) {
    if (v.value("storage", false)) stored.push_back(v.value("name", ""));
  }
  std::string now = nowRfc3339();
  crd["status"] = {{"acceptedNames", names},
                   {"storedVersions", stored},
                   {"conditions", json::array({{{"type", "NamesAccepted"},
                                                {"status", "True"},
                                                {"reason", "NoConflicts"},
                                                {"message", "no conflicts found"},
                                                {"lastTransitionTime", now}},
                                               {{"type", "Established"},
                                                {"status", "True"},
                                                {"reason", "InitialNamesAccepted"},
                                                {"message", "the initial names have been accepted"},
                                                {"lastTransitionTime", now}}})}};
  return std::nullopt;
}

std::optional<AdmissionAttributes> Objects::admissionFor(
    const std::string& operation, const ResourceType& type, const std::string& ns,
    const std::string& name, const std::string& subresource, const WriteOptions& options) const {
  if (!admission_ || !options.user) return std::nullopt;
  AdmissionAttributes a;
  a.operation = operation;
  a.type = &type;
  a.ns = type.namespaced ? ns : "";
  a.name = name;
  a.subresource = subresource;
  a.user = *options.user;
  a.dryRun = options.dryRun;
  // A patch is admitted as the update it becomes (handlers/patch.go
  // patchToUpdateOptions).
  a.options = {{"kind", operation == "CREATE" ? "CreateOptions" : "UpdateOptions"},
               {"apiVersion", "meta.k8s.io/v1"}};
  if (!options.fieldManager.empty()) a.options["fieldManager"] = options.fieldManager;
  if (!options.fieldValidation.empty()) a.options["fieldValidation"] = options.fieldValidation;
  if (options.dryRun) a.options["dryRun"] = json::array({"All"});
  a.warnings = options.warnings.get();
  if (!admission_->applies(a)) return std::nullopt;
  return a;
}

Result<json> Objects::updatedObject(const ResourceType& type, const std::string& name,
                                    const std::string& subresource, const WriteOptions& options,
                                    const json& current,
                                    const std::function<Result<json>(const json& current)>& produce,
                                    const AdmissionAttributes* attributes) const {
  auto next = produce(current);
  if (!next.ok()) return next.error();
  json updated = std::move(next.value());
  if (!updated.is_object()) return ApiError::badRequest("the object is not a JSON object");
  if (!updated.contains("metadata") || !updated["metadata"].is_object()) {
    updated["metadata"] = json::object();
  }
  const json& cm = current["metadata"];
  std::string sentRv = updated["metadata"].value("resourceVersion", "");
  if (!sentRv.empty() && sentRv != cm.value("resourceVersion", "")) {
    return ApiError::conflict(type.group, type.resource, name, kConflictDetail);
  }
  std::string bodyName = updated["metadata"].value("name", name);
  if (bodyName != name) {
    return ApiError::badRequest("the name of the object (" + bodyName +
                                ") does not match the name on the URL (" + name + ")");
  }
  updated["apiVersion"] = type.apiVersion();
  updated["kind"] = type.kind;
  // Status updates change status only
  // (apiextensions-apiserver/pkg/registry/customresource/status_strategy.go);
  // others keep it.
  auto keepStatus = [&](json& o) {
    if (subresource == "status") {
      json merged = current;
      if (o.contains("status")) {
        merged["status"] = o["status"];
      } else {
        merged.erase("status");
      }
      o = std::move(merged);
    } else if (type.hasStatus) {
      if (current.contains("status")) {
        o["status"] = current["status"];
      } else {
        o.erase("status");
      }
    }
    keepImmutableMeta(current, o);
    o["metadata"].erase("managedFields");
  };
  keepStatus(updated);
  // Every write is decoded with the kind's defaults, so a field a client
  // drops or sends as its zero value (`resources: {}`) is the same as
  // before, and no new generation.
  if (!type.custom && subresource.empty()) applyBuiltinDefaults(type, updated);
  WriteOptions admitted = options;
  if (attributes) {
    if (auto err = strictFieldCheck(type, updated, options)) return *err;
    admitted.fieldValidation.clear();
    if (auto err = admission_->mutate(*attributes, updated, &current)) return *err;
    keepStatus(updated);
  }
  if (hasGeneration(type) && specChanged(current, updated)) {
    updated["metadata"]["generation"] = cm.value("generation", int64_t(1)) + 1;
  }
  if (auto err = admit(type, updated, &current, admitted)) return *err;
  if (attributes) {
    if (auto err = admission_->validate(*attributes, updated, &current)) return *err;
  }
  return updated;
}

Result<ObjectPtr> Objects::writeUpdate(
    const ResourceType& type, const std::string& ns, const std::string& name,
    const std::string& subresource, const WriteOptions& options,
    const std::function<Result<json>(const json& current)>& produce) {
  std::string scopedNs = type.namespaced ? ns : "";
  bool isCrd = type.group == "apiextensions.k8s.io" && type.resource == "customresourcedefinitions";
  auto attributes = admissionFor("UPDATE", type, ns, name, subresource, options);
  // Admission webhooks are called outside the store's lock, on a snapshot;
  // the result is committed only if the object did not change meanwhile,
  // else computed again (etcd3 GuaranteedUpdate retries its tryUpdate the
  // same way).
  for (int attempt = 0;; ++attempt) {
    std::optional<json> prepared;
    std::string preparedRv;
    if (attributes) {
      ObjectPtr snapshot = store_.get(type.storageKey(), scopedNs, name);
      if (!snapshot) return ApiError::notFound(type.group, type.resource, name);
      auto u = updatedObject(type, name, subresource, options, *snapshot, produce, &*attributes);
      if (!u.ok()) return u.error();
      prepared = std::move(u.value());
      preparedRv = (*snapshot)["metadata"].value("resourceVersion", "");
    }
    bool raced = false;
    std::optional<std::string> deletedNow;
    std::optional<json> dryRunResult;
    std::optional<json> lastWritten;  // of an object the update deleted
    auto result = store_.mutate(
        type.storageKey(), scopedNs, name, [&](const ObjectPtr& current) -> Result<json> {
          if (!current) return ApiError::notFound(type.group, type.resource, name);
          json updated;
          if (prepared) {
            if ((*current)["metadata"].value("resourceVersion", "") != preparedRv) {
              raced = true;
              return ApiError::conflict(type.group, type.resource, name, kConflictDetail);
            }
            updated = *prepared;
          } else {
            auto u = updatedObject(type, name, subresource, options, *current, produce, nullptr);
            if (!u.ok()) return u.error();
            updated = std::move(u.value());
          }
          if (isCrd && subresource.empty()) {
            if (auto err = establish(updated)) return *err;
          }
          // The last finalizer removed from an object being deleted deletes it.
          if (updated["metadata"].contains("deletionTimestamp") &&
              stringList(updated["metadata"].value("finalizers", json::array())).empty() &&
              !(type.group.empty() && type.resource == "namespaces")) {
            deletedNow = updated["metadata"].value("uid", "");
            // The answer is the object as it was last written, without the
            // finalizer (the store's final update before the delete).
            lastWritten = updated;
            if (options.dryRun) return *current;
            return json(nullptr);
          }
          if (options.dryRun) {
            // Nothing is written; the answer is the object as it would be.
            dryRunResult = std::move(updated);
            return *current;
          }
          return updated;
        });
    if (raced && attempt < 16) continue;
    if (result.ok() && dryRunResult) return std::make_shared<const json>(std::move(*dryRunResult));
    if (result.ok() && deletedNow) {
      if (isCrd) registry_.unregisterCustomResource(name);
      collectDependents(*deletedNow, scopedNs, "Background");
      // The last finalized object of a terminating namespace lets the
      // namespace go.
      if (!scopedNs.empty()) {
        auto nsObj = store_.get("/namespaces", "", scopedNs);
        if (nsObj && (*nsObj)["metadata"].contains("deletionTimestamp")) {
          finalizeNamespace(scopedNs);
        }
      }
      if (lastWritten && !options.dryRun)
        return std::make_shared<const json>(std::move(*lastWritten));
    }
    return result;
  }
}

Result<ObjectPtr> Objects::update(const ResourceType& type, const std::string& ns,
                                  const std::string& name, json object,
                                  const std::string& subresource, const WriteOptions& options) {
  if (!object.is_object()) return ApiError::badRequest("the body of the request is not an object");
  std::string apiVersion = object.value("apiVersion", type.apiVersion());
  if (apiVersion != type.apiVersion() && subresource.empty()) {
    return ApiError::badRequest("the API version in the data (" + apiVersion +
                                ") does not match the expected API version (" + type.apiVersion() +
                                ")");
  }
  return writeUpdate(type, ns, name, subresource, options,
                     [&](const json&) -> Result<json> { return object; });
}

Result<ObjectPtr> Objects::patch(const ResourceType& type, const std::string& ns,
                                 const std::string& name, PatchType patchType,
                                 const std::string& body, const std::string& subresource,
                                 const WriteOptions& options) {
  if (patchType == PatchType::StrategicMerge && type.custom) {
    return ApiError::unsupportedMediaType("application/strategic-merge-patch+json");
  }
  auto parsed = parseBody(body, patchType == PatchType::Apply);
  if (!parsed.ok()) return parsed.error();
  json patchDoc = std::move(parsed.value());
  if (patchType == PatchType::Apply) {
    if (options.fieldManager.empty()) {
      // apiserver handlers/patch.go: PatchOptions validation.
      return ApiError::invalid(
          "meta.k8s.io", "PatchOptions", "",
          {{"FieldValueRequired", "Required value: is required for apply patch", "fieldManager"}});
    }
    if (!patchDoc.is_object()) return ApiError::badRequest("apply patch must be an object");
    // Server-side apply of an object that does not exist creates it.
    if (!store_.get(type.storageKey(), type.namespaced ? ns : "", name)) {
      json object = patchDoc;
      object["metadata"]["name"] = name;
      auto created = create(type, ns, std::move(object), options);
      if (created.ok() || created.error().reason != "AlreadyExists") return created;
    }
  }
  return writeUpdate(type, ns, name, subresource, options,
                     [&](const json& current) -> Result<json> {
                       switch (patchType) {
                         case PatchType::Merge:
                           return applyMergePatch(current, patchDoc);
                         case PatchType::Json:
                           return applyJsonPatch(current, patchDoc);
                         case PatchType::StrategicMerge:
                           return applyStrategicMergePatch(current, patchDoc, type.kind);
                         case PatchType::Apply: {
                           // Simplified server-side apply: the applied
                           // configuration is merged into the live object;
                           // field ownership is not tracked.
                           json doc = patchDoc;
                           doc["metadata"].erase("resourceVersion");
                           if (type.custom) return applyMergePatch(current, doc);
                           return applyStrategicMergePatch(current, doc, type.kind);
                         }
                       }
                       return ApiError::internal("unknown patch type");
                     });
}

Result<ObjectPtr> Objects::remove(const ResourceType& type, const std::string& ns,
                                  const std::string& name, const DeleteOptions& options) {
  std::string scopedNs = type.namespaced ? ns : "";
  bool removed = false;
  std::string uid;
  std::optional<json> dryRunResult;
  auto result = store_.mutate(
      type.storageKey(), scopedNs, name, [&](const ObjectPtr& current) -> Result<json> {
        if (!current) return ApiError::notFound(type.group, type.resource, name);
        const json& meta = (*current)["metadata"];
        uid = meta.value("uid", "");
        // storage/etcd3 store.go checkPreconditions: the error names the kind.
        if (options.preconditionUid && *options.preconditionUid != uid) {
          return ApiError::conflict(type.group, type.kind, name,
                                    "the UID in the precondition (" + *options.preconditionUid +
                                        ") does not match the UID in record (" + uid +
                                        "). The object might have been deleted and then "
                                        "recreated");
        }
        if (options.preconditionResourceVersion &&
            *options.preconditionResourceVersion != meta.value("resourceVersion", "")) {
          return ApiError::conflict(
              type.group, type.kind, name,
              "the ResourceVersion in the precondition (" + *options.preconditionResourceVersion +
                  ") does not match the ResourceVersion in record (" +
                  meta.value("resourceVersion", "") + "). The object might have been modified");
        }
        auto finalizers = stringList(meta.value("finalizers", json::array()));
        if (options.propagationPolicy == "Foreground" && !meta.contains("deletionTimestamp")) {
          // Dependents go first; collected below, then the owner.
        }
        bool isNamespace = type.group.empty() && type.resource == "namespaces";
        if (!finalizers.empty() || isNamespace) {
          if (meta.contains("deletionTimestamp")) return *current;  // already being deleted
          json updated = *current;
          updated["metadata"]["deletionTimestamp"] = nowRfc3339();
          updated["metadata"]["deletionGracePeriodSeconds"] = 0;
          if (hasGeneration(type)) {
            updated["metadata"]["generation"] = meta.value("generation", int64_t(1)) + 1;
          }
          if (isNamespace) updated["status"]["phase"] = "Terminating";
          if (options.dryRun) {
            // Nothing is written; the answer is the object as it would be.
            dryRunResult = std::move(updated);
            return *current;
          }
          return updated;
        }
        if (options.dryRun) return *current;
        removed = true;
        return json(nullptr);
      });
  if (result.ok() && dryRunResult) return std::make_shared<const json>(std::move(*dryRunResult));
  if (!result.ok() || options.dryRun) return result;
  bool isCrd = type.group == "apiextensions.k8s.io" && type.resource == "customresourcedefinitions";
  if (removed) {
    if (isCrd) registry_.unregisterCustomResource(name);
    collectDependents(uid, scopedNs, options.propagationPolicy);
  } else if (type.group.empty() && type.resource == "namespaces") {
    finalizeNamespace(name);
    auto gone = store_.get("/namespaces", "", name);
    if (!gone) return result;
  }
  return result;
}

// What the namespace controller does: delete everything in the namespace,
// then the namespace itself once its contents are gone.
void Objects::finalizeNamespace(const std::string& ns) {
  for (const auto& t : registry_.all()) {
    if (!t->namespaced || t->createOnly || !t->storage) continue;
    for (const auto& o : store_.list(t->storageKey(), ns).items) {
      remove(*t, ns, (*o)["metadata"].value("name", ""), DeleteOptions{});
    }
  }
  bool empty = true;
  for (const auto& t : registry_.all()) {
    if (t->namespaced && !t->createOnly && !store_.list(t->storageKey(), ns).items.empty()) {
      empty = false;
    }
  }
  if (!empty) return;  // objects with finalizers remain; deletion completes later
  store_.mutate("/namespaces", "", ns, [](const ObjectPtr& current) -> Result<json> {
    if (!current) return ApiError::notFound("", "namespaces", "");
    return json(nullptr);
  });
}

// The garbage collector, synchronously: dependents of a deleted owner are
// deleted (Background, Foreground) or orphaned (Orphan).
void Objects::collectDependents(const std::string& ownerUid, const std::string& ns,
                                const std::string& policy) {
  if (ownerUid.empty()) return;
  for (const auto& t : registry_.all()) {
    if (t->createOnly || !t->storage) continue;
    // Namespaced owners own only objects in their namespace.
    if (!ns.empty() && !t->namespaced) continue;
    for (const auto& o : store_.list(t->storageKey(), t->namespaced ? ns : "").items) {
      const json& refs = (*o)["metadata"].value("ownerReferences", json::array());
      bool owned = false;
      for (const auto& r : refs) owned = owned || r.value("uid", "") == ownerUid;
      if (!owned) continue;
      std::string depNs = (*o)["metadata"].value("namespace", "");
      std::string depName = (*o)["metadata"].value("name", "");
      if (policy == "Orphan") {
        modify(*t, depNs, depName, [&](json& obj) {
          json kept = json::array();
          for (const auto& r : obj["metadata"]["ownerReferences"]) {
            if (r.value("uid", "") != ownerUid) kept.push_back(r);
          }
          if (kept.empty()) {
            obj["metadata"].erase("ownerReferences");
          } else {
            obj["metadata"]["ownerReferences"] = kept;
          }
          return true;
        });
        continue;
      }
      // An object with another owner still alive is kept.
      bool otherOwnerAlive = false;
      for (const auto& r : refs) {
        if (r.value("uid", "") == ownerUid) continue;
        otherOwnerAlive = true;
      }
      if (otherOwnerAlive) continue;
      DeleteOptions cascade;
      cascade.propagationPolicy = policy == "Foreground" ? "Foreground" : "";
      remove(*t, depNs, depName, cascade);
    }
  }
}

Result<json> Objects::getScale(const ResourceType& type, const std::string& ns,
                               const std::string& name) const {
  if (!type.hasScale) return ApiError::notFound(type.group, type.resource + "/scale", name);
  auto o = get(type, ns, name);
  if (!o.ok()) return o.error();
  return scaleOf(type, **o);
}

json Objects::scaleOf(const ResourceType& type, const json& o) const {
  const json& meta = o["metadata"];
  const json* specReplicas = atPath(o, type.scale.specReplicasPath);
  const json* statusReplicas = atPath(o, type.scale.statusReplicasPath);
  json scale = {
      {"kind", "Scale"},
      {"apiVersion", "autoscaling/v1"},
      {"metadata",
       {{"name", meta.value("name", "")},
        {"namespace", meta.value("namespace", "")},
        {"uid", meta.value("uid", "")},
        {"resourceVersion", meta.value("resourceVersion", "")},
        {"creationTimestamp", meta.value("creationTimestamp", "")}}},
      {"spec", {{"replicas", specReplicas && specReplicas->is_number() ? *specReplicas : json(0)}}},
      {"status",
       {{"replicas", statusReplicas && statusReplicas->is_number() ? *statusReplicas : json(0)}}}};
  if (!type.custom && o.contains("spec") && o["spec"].contains("selector")) {
    scale["status"]["selector"] = selectorString(o["spec"]["selector"]);
  } else if (!type.scale.labelSelectorPath.empty()) {
    if (const json* sel = atPath(o, type.scale.labelSelectorPath); sel && sel->is_string()) {
      scale["status"]["selector"] = *sel;
    }
  }
  return scale;
}

Result<json> Objects::updateScale(const ResourceType& type, const std::string& ns,
                                  const std::string& name, const json& scale,
                                  const WriteOptions& options) {
  if (!type.hasScale) return ApiError::notFound(type.group, type.resource + "/scale", name);
  const json* replicas = atPath(scale, ".spec.replicas");
  if (!replicas || !replicas->is_number_integer() || replicas->get<int64_t>() < 0) {
    return ApiError::invalid("autoscaling", "Scale", name,
                             {{"FieldValueInvalid",
                               "Invalid value: " + (replicas ? replicas->dump() : "null") +
                                   ": must be greater than or equal to 0",
                               "spec.replicas"}});
  }
  std::string rv = scale.contains("metadata") ? scale["metadata"].value("resourceVersion", "") : "";
  auto r = writeUpdate(type, ns, name, "", options, [&](const json& current) -> Result<json> {
    json updated = current;
    if (!rv.empty()) updated["metadata"]["resourceVersion"] = rv;
    setAtPath(updated, type.scale.specReplicasPath, *replicas);
    return updated;
  });
  if (!r.ok()) return r.error();
  return scaleOf(type, **r);
}

Result<json> Objects::patchScale(const ResourceType& type, const std::string& ns,
                                 const std::string& name, PatchType patchType,
                                 const std::string& body, const WriteOptions& options) {
  auto current = getScale(type, ns, name);
  if (!current.ok()) return current.error();
  auto parsed = parseBody(body, patchType == PatchType::Apply);
  if (!parsed.ok()) return parsed.error();
  Result<json> patched = patchType == PatchType::Json ? applyJsonPatch(*current, *parsed)
                                                      : applyMergePatch(*current, *parsed);
  if (!patched.ok()) return patched.error();
  return updateScale(type, ns, name, *patched, options);
}

Result<json> Objects::evict(const std::string& ns, const std::string& name, const json& eviction) {
  auto podType = registry_.find("", "v1", "pods");
  auto pod = get(*podType, ns, name);
  if (!pod.ok()) return pod.error();
  auto pdbType = registry_.find("policy", "v1", "poddisruptionbudgets");
  std::vector<json> pdbs, pods;
  for (const auto& p : store_.list(pdbType->storageKey(), ns).items) pdbs.push_back(*p);
  for (const auto& p : store_.list(podType->storageKey(), ns).items) pods.push_back(*p);
  // A pod already terminated or being deleted may always be evicted
  // (pkg/registry/core/pod/storage/eviction.go canIgnorePDB).
  std::string phase = (**pod).value("status", json::object()).value("phase", "");
  bool ignorePdb = phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
                   (**pod)["metadata"].contains("deletionTimestamp");
  if (!ignorePdb) {
    if (auto refusal = checkEviction(**pod, pdbs, pods, storeScaleLookup(store_))) {
      return *refusal;
    }
  }
  DeleteOptions opts;
  bool dryRun = false;
  if (eviction.contains("deleteOptions") && eviction["deleteOptions"].is_object()) {
    const json& d = eviction["deleteOptions"];
    if (d.contains("dryRun") && d["dryRun"].is_array() && !d["dryRun"].empty()) dryRun = true;
    if (d.contains("preconditions")) {
      if (d["preconditions"].contains("uid")) opts.preconditionUid = d["preconditions"]["uid"];
      if (d["preconditions"].contains("resourceVersion")) {
        opts.preconditionResourceVersion = d["preconditions"]["resourceVersion"];
      }
    }
  }
  opts.dryRun = dryRun;
  auto removed = remove(*podType, ns, name, opts);
  if (!removed.ok()) return removed.error();
  // The disruption controller records the disruption on the budget.
  return json{{"kind", "Status"},
              {"apiVersion", "v1"},
              {"metadata", json::object()},
              {"status", "Success"},
              {"code", 201}};
}

Result<ObjectPtr> Objects::modify(const ResourceType& type, const std::string& ns,
                                  const std::string& name,
                                  const std::function<bool(json&)>& change) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto current = get(type, ns, name);
    if (!current.ok()) return current.error();
    json copy = **current;
    if (!change(copy)) return *current;
    bool statusChanged = copy.value("status", json()) != (*current)->value("status", json());
    bool restChanged = [&] {
      json a = copy, b = **current;
      a.erase("status");
      b.erase("status");
      return a != b;
    }();
    Result<ObjectPtr> r = *current;
    if (restChanged) {
      json main = copy;
      r = writeUpdate(type, ns, name, "", {}, [&](const json&) -> Result<json> { return main; });
      if (!r.ok()) {
        if (r.error().reason == "Conflict") continue;
        return r;
      }
    }
    if (statusChanged && type.hasStatus) {
      json st = copy;
      if (r.ok() && *r) st["metadata"]["resourceVersion"] = (**r)["metadata"]["resourceVersion"];
      r = writeUpdate(type, ns, name, "status", {},
                      [&](const json&) -> Result<json> { return st; });
      if (!r.ok() && r.error().reason == "Conflict") continue;
    } else if (statusChanged && !restChanged) {
      r = writeUpdate(type, ns, name, "", {}, [&](const json&) -> Result<json> { return copy; });
      if (!r.ok() && r.error().reason == "Conflict") continue;
    }
    return r;
  }
  return ApiError::conflict(type.group, type.resource, name, kConflictDetail);
}

}  // namespace remedy::sandbox
