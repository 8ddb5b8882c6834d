#include "sandbox/table.h"

#include "formats/rfc3339.h"
#include "sandbox/json_path.h"

#include <ctime>
#include <functional>

namespace remedy::sandbox {

namespace {

struct Column {
  std::string name;
  std::string type;  // string, integer, number, boolean, date
  std::string format;
  std::string description;
  int priority;
  std::function<json(const json&)> cell;
};

std::string str(const json& o, const std::string& a, const std::string& b = "",
                const std::string& c = "") {
  const json* cur = &o;
  for (const auto& k : {a, b, c}) {
    if (k.empty()) break;
    if (!cur->is_object() || !cur->contains(k)) return "";
    cur = &(*cur)[k];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

int64_t num(const json& o, const std::string& a, const std::string& b) {
  if (!o.contains(a) || !o[a].is_object() || !o[a].contains(b) || !o[a][b].is_number()) return 0;
  return o[a][b].get<int64_t>();
}

json age(const json& o) {
  return humanDuration(secondsSince(str(o, "metadata", "creationTimestamp")));
}

Column nameColumn() {
  return {"Name",
          "string",
          "name",
          "Name must be unique within a namespace. Is required when creating resources, "
          "although some resources may allow a client to request the generation of an "
          "appropriate name automatically. Name is primarily intended for creation idempotence "
          "and configuration definition. Cannot be updated. More info: "
          "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
          0,
          [](const json& o) { return json(str(o, "metadata", "name")); }};
}

Column ageColumn() {
  return {"Age",
          "string",
          "",
          "CreationTimestamp is a timestamp representing the server time when this object was "
          "created. It is not guaranteed to be set in happens-before order across separate "
          "operations. Clients may not set this value. It is represented in RFC3339 form and is "
          "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
          "api-conventions.md#metadata",
          0,
          age};
}

std::string podStatus(const json& pod) {
  std::string reason = str(pod, "status", "reason");
  if (reason.empty()) reason = str(pod, "status", "phase");
  const json& statuses =
      pod.value("status", json::object()).value("containerStatuses", json::array());
  for (const auto& cs : statuses) {
    const json& state = cs.value("state", json::object());
    if (state.contains("waiting") && !str(state, "waiting", "reason").empty()) {
      reason = str(state, "waiting", "reason");
    } else if (state.contains("terminated") && !str(state, "terminated", "reason").empty()) {
      reason = str(state, "terminated", "reason");
    }
  }
  if (pod["metadata"].contains("deletionTimestamp")) reason = "Terminating";
  return reason;
}

std::vector<Column> builtinColumns(const ResourceType& t) {
  std::vector<Column> c = {nameColumn()};
  const std::string& r = t.resource;
  if (t.group.empty() && r == "pods") {
    c.push_back(
        {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
         0, [](const json& o) {
           const json& st = o.value("status", json::object());
           const json& cs = st.value("containerStatuses", json::array());
           size_t total = o.value("spec", json::object()).value("containers", json::array()).size();
           size_t ready = 0;
           for (const auto& s : cs) ready += s.value("ready", false) ? 1 : 0;
           return json(std::to_string(ready) + "/" + std::to_string(total));
         }});
    c.push_back({"Status", "string", "", "The aggregate status of the containers in this pod.", 0,
                 [](const json& o) { return json(podStatus(o)); }});
    c.push_back(
        {"Restarts", "string", "",
         "The number of times the containers in this pod have been restarted and when the last "
         "container in this pod has restarted.",
         0, [](const json& o) {
           int64_t n = 0;
           for (const auto& s :
                o.value("status", json::object()).value("containerStatuses", json::array())) {
             n += s.value("restartCount", int64_t(0));
           }
           return json(std::to_string(n));
         }});
    c.push_back(ageColumn());
    c.push_back({"IP", "string", "",
                 "IP address allocated to the pod. Routable at least within the cluster. Empty if "
                 "not yet allocated.",
                 1, [](const json& o) {
                   return json(str(o, "status", "podIP").empty() ? "<none>"
                                                                 : str(o, "status", "podIP"));
                 }});
    c.push_back(
        {"Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.",
         1, [](const json& o) {
           return json(str(o, "spec", "nodeName").empty() ? "<none>" : str(o, "spec", "nodeName"));
         }});
    return c;
  }
  if (t.group == "apps" && r == "deployments") {
    c.push_back({"Ready", "string", "", "Number of the pod with ready state", 0, [](const json& o) {
                   return json(std::to_string(num(o, "status", "readyReplicas")) + "/" +
                               std::to_string(num(o, "spec", "replicas")));
                 }});
    c.push_back({"Up-to-date", "integer", "",
                 "Total number of non-terminated pods targeted by this deployment that have the "
                 "desired template spec.",
                 0, [](const json& o) { return json(num(o, "status", "updatedReplicas")); }});
    c.push_back({"Available", "integer", "",
                 "Total number of available pods (ready for at least minReadySeconds) targeted by "
                 "this deployment.",
                 0, [](const json& o) { return json(num(o, "status", "availableReplicas")); }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group == "apps" && r == "replicasets") {
    c.push_back({"Desired", "integer", "", "Number of desired pods.", 0,
                 [](const json& o) { return json(num(o, "spec", "replicas")); }});
    c.push_back({"Current", "integer", "", "Number of actual pods.", 0,
                 [](const json& o) { return json(num(o, "status", "replicas")); }});
    c.push_back({"Ready", "integer", "", "Number of ready pods.", 0,
                 [](const json& o) { return json(num(o, "status", "readyReplicas")); }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group == "apps" && r == "statefulsets") {
    c.push_back({"Ready", "string", "", "Number of the pod with ready state", 0, [](const json& o) {
                   return json(std::to_string(num(o, "status", "readyReplicas")) + "/" +
                               std::to_string(num(o, "spec", "replicas")));
                 }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group == "apps" && r == "daemonsets") {
    for (auto [name, field] :
         std::vector<std::pair<const char*, const char*>>{{"Desired", "desiredNumberScheduled"},
                                                          {"Current", "currentNumberScheduled"},
                                                          {"Ready", "numberReady"},
                                                          {"Up-to-date", "updatedNumberScheduled"},
                                                          {"Available", "numberAvailable"}}) {
      std::string f = field;
      c.push_back(
          {name, "integer", "", "", 0, [f](const json& o) { return json(num(o, "status", f)); }});
    }
    c.push_back(ageColumn());
    return c;
  }
  if (t.group == "batch" && r == "jobs") {
    c.push_back({"Status", "string", "", "Status of the job.", 0, [](const json& o) {
                   for (const auto& cond :
                        o.value("status", json::object()).value("conditions", json::array())) {
                     if (cond.value("status", "") != "True") continue;
                     std::string type = cond.value("type", "");
                     if (type == "Complete") return json("Complete");
                     if (type == "Failed") return json("Failed");
                   }
                   return json("Running");
                 }});
    c.push_back(
        {"Completions", "string", "", "The completion status of the job.", 0, [](const json& o) {
           return json(std::to_string(num(o, "status", "succeeded")) + "/" +
                       std::to_string(num(o, "spec", "completions")));
         }});
    c.push_back(
        {"Duration", "string", "", "Time required to complete the job.", 0, [](const json& o) {
           std::string start = str(o, "status", "startTime");
           if (start.empty()) return json("");
           std::string end = str(o, "status", "completionTime");
           int64_t d = secondsSince(start) - (end.empty() ? 0 : secondsSince(end));
           return json(humanDuration(d));
         }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group.empty() && r == "services") {
    c.push_back({"Type", "string", "", "The type of the service.", 0,
                 [](const json& o) { return json(str(o, "spec", "type")); }});
    c.push_back({"Cluster-IP", "string", "", "The IP address of the service.", 0,
                 [](const json& o) { return json(str(o, "spec", "clusterIP")); }});
    c.push_back({"External-IP", "string", "", "The external IP address of the service.", 0,
                 [](const json&) { return json("<none>"); }});
    c.push_back({"Port(s)", "string", "", "The ports of the service.", 0, [](const json& o) {
                   std::string out;
                   for (const auto& p :
                        o.value("spec", json::object()).value("ports", json::array())) {
                     if (!out.empty()) out += ",";
                     out += std::to_string(p.value("port", 0)) + "/" + p.value("protocol", "TCP");
                   }
                   return json(out.empty() ? "<none>" : out);
                 }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group.empty() && r == "namespaces") {
    c.push_back({"Status", "string", "", "The status of the namespace", 0,
                 [](const json& o) { return json(str(o, "status", "phase")); }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group.empty() && (r == "configmaps" || r == "secrets")) {
    if (r == "secrets") {
      c.push_back({"Type", "string", "", "The type of the secret", 0,
                   [](const json& o) { return json(o.value("type", "")); }});
    }
    // The printer's column (pkg/printers/internalversion): a string column,
    // described by the field's API documentation.
    const char* dataDoc =
        r == "secrets"
            ? "Number of data entries"
            : "Data contains the configuration data. Each key must consist of alphanumeric "
              "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the "
              "BinaryData field. The keys stored in Data must not overlap with the keys in the "
              "BinaryData field, this is enforced during validation process.";
    c.push_back({"Data", r == "secrets" ? "integer" : "string", "", dataDoc, 0, [](const json& o) {
                   return json(o.value("data", json::object()).size() +
                               o.value("binaryData", json::object()).size());
                 }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group.empty() && r == "events") {
    c = {};
    c.push_back({"Last Seen", "string", "", "Time when last this event was observed.", 0,
                 [](const json& o) {
                   std::string ts = o.value("lastTimestamp", json("")).is_string()
                                        ? o.value("lastTimestamp", "")
                                        : "";
                   if (ts.empty()) ts = str(o, "metadata", "creationTimestamp");
                   return json(humanDuration(secondsSince(ts)));
                 }});
    c.push_back({"Type", "string", "", "Type of this event (Normal, Warning).", 0,
                 [](const json& o) { return json(o.value("type", "")); }});
    c.push_back({"Reason", "string", "",
                 "Short, machine understandable string that gives the reason for the transition "
                 "into the object's current status.",
                 0, [](const json& o) { return json(o.value("reason", "")); }});
    c.push_back(
        {"Object", "string", "", "The object that this event is about.", 0, [](const json& o) {
           std::string kind = str(o, "involvedObject", "kind");
           std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
           return json(kind + "/" + str(o, "involvedObject", "name"));
         }});
    c.push_back({"Message", "string", "",
                 "A human-readable description of the status of this operation.", 0,
                 [](const json& o) { return json(o.value("message", "")); }});
    c.insert(c.begin() + 4, nameColumn());
    c[4].priority = 1;
    return c;
  }
  if (t.group == "coordination.k8s.io" && r == "leases") {
    c.push_back({"Holder", "string", "", "The holder of the lease.", 0,
                 [](const json& o) { return json(str(o, "spec", "holderIdentity")); }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group == "policy" && r == "poddisruptionbudgets") {
    c.push_back({"Min Available", "string", "",
                 "The minimum number of pods that must be available.", 0, [](const json& o) {
                   std::string v = str(o, "spec", "minAvailable");
                   return json(v.empty() ? "N/A" : v);
                 }});
    c.push_back({"Max Unavailable", "string", "",
                 "The maximum number of pods that may be unavailable.", 0, [](const json& o) {
                   std::string v = str(o, "spec", "maxUnavailable");
                   return json(v.empty() ? "N/A" : v);
                 }});
    c.push_back({"Allowed Disruptions", "integer", "",
                 "Calculated number of pods that may be disrupted at this time.", 0,
                 [](const json& o) { return json(num(o, "status", "disruptionsAllowed")); }});
    c.push_back(ageColumn());
    return c;
  }
  if (t.group == "apiextensions.k8s.io") {
    c.push_back({"Created At", "date", "", "", 0,
                 [](const json& o) { return json(str(o, "metadata", "creationTimestamp")); }});
    return c;
  }
  c.push_back(ageColumn());
  return c;
}

std::vector<Column> customColumns(const ResourceType& t) {
  std::vector<Column> c = {nameColumn()};
  if (!t.printerColumns.is_array() || t.printerColumns.empty()) {
    c.push_back(ageColumn());
    return c;
  }
  for (const auto& pc : t.printerColumns) {
    std::string type = pc.value("type", "string");
    std::string path = pc.value("jsonPath", "");
    bool isDate = type == "date";
    bool isAge = isDate && path == ".metadata.creationTimestamp";
    // apiextensions-apiserver tableconvertor: an undescribed column is
    // described by its path.
    std::string description = pc.value("description", "");
    if (description.empty()) {
      description =
          "Custom resource definition column (in JSONPath format): " + pc.value("jsonPath", "");
    }
    c.push_back({pc.value("name", ""), type, pc.value("format", ""), description,
                 pc.value("priority", 0), [path, isDate, isAge](const json& o) -> json {
                   if (isAge) return age(o);
                   auto values = evaluateJsonPath(o, path);
                   if (values.empty() || values[0].is_null()) return nullptr;
                   if (isDate && values[0].is_string()) {
                     return humanDuration(secondsSince(values[0].get<std::string>()));
                   }
                   if (values.size() == 1) {
                     if (values[0].is_string() || values[0].is_number() || values[0].is_boolean()) {
                       return values[0];
                     }
                     return values[0].dump();
                   }
                   std::string joined;
                   for (const auto& v : values) {
                     joined += (joined.empty() ? "" : ",") +
                               (v.is_string() ? v.get<std::string>() : v.dump());
                   }
                   return joined;
                 }});
  }
  return c;
}

}  // namespace

int64_t secondsSince(const std::string& ts) {
  auto t = formats::parseRfc3339(ts);
  if (!t) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *t)
      .count();
}

std::string humanDuration(int64_t s) {
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  auto n = [](int64_t v) { return std::to_string(v); };
  if (s < 60 * 2) return n(s) + "s";
  int64_t minutes = s / 60;
  if (minutes < 10) {
    int64_t rest = s % 60;
    return rest == 0 ? n(minutes) + "m" : n(minutes) + "m" + n(rest) + "s";
  }
  if (minutes < 60 * 3) return n(minutes) + "m";
  int64_t hours = s / 3600;
  if (hours < 8) {
    int64_t rest = minutes % 60;
    return rest == 0 ? n(hours) + "h" : n(hours) + "h" + n(rest) + "m";
  }
  if (hours < 48) return n(hours) + "h";
  if (hours < 24 * 8) {
    int64_t rest = hours % 24;
    return rest == 0 ? n(hours / 24) + "d" : n(hours / 24) + "d" + n(rest) + "h";
  }
  if (hours < 24 * 365 * 2) return n(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t days = (hours / 24) % 365;
    return days == 0 ? n(hours / 24 / 365) + "y" : n(hours / 24 / 365) + "y" + n(days) + "d";
  }
  return n(hours / 24 / 365) + "y";
}

json toTable(const ResourceType& type, const std::vector<json>& objects,
             const std::string& includeObject, const json& listMetadata) {
  std::vector<Column> cols = type.custom ? customColumns(type) : builtinColumns(type);
  json defs = json::array();
  for (const auto& c : cols) {
    defs.push_back({{"name", c.name},
                    {"type", c.type},
                    {"format", c.format},
                    {"description", c.description},
                    {"priority", c.priority}});
  }
  json rows = json::array();
  for (const auto& o : objects) {
    json cells = json::array();
    for (const auto& c : cols) cells.push_back(c.cell(o));
    json row = {{"cells", cells}};
    if (includeObject == "Object") {
      row["object"] = o;
    } else if (includeObject != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o.value("metadata", json::object())}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", listMetadata},
          {"columnDefinitions", defs},
          {"rows", rows}};
}

}  // namespace remedy::sandbox
