// fidelity_probe: src/kube as one of the differential suite's clients.
//
// Reads requests as JSON lines on stdin and answers each with one JSON line
// on stdout, so fidelity_test.py sends the same requests through RestClient
// to the sandbox and to kube-apiserver and compares what the library made of
// the answers (decoded objects, Status reason/code/causes, watch events).
//
// usage: fidelity_probe KUBECONFIG
//
// A request: {"op": OP, "resource": {"group", "version", "resource",
// "namespaced"}, "namespace", "name", "body", "options": {...}} with OP one
// of get, list, create, update, patch, delete, watch, call, resourceFor.
// An answer: {"ok": true, "value": ...} or {"ok": false, "error": {"code",
// "reason", "message", "causes": [{"reason", "message", "field"}]}}; a watch
// answers {"ok": true, "events": [{"type", "object"}], "end": {...}} after
// options.maxEvents events or the end of the stream.
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/rest_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

using remedy::kube::json;
namespace kube = remedy::kube;

json errorJson(const kube::Status& s) {
  json causes = json::array();
  for (const auto& c : s.causes()) {
    causes.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  return {{"code", s.code()}, {"reason", s.reason()}, {"message", s.message()}, {"causes", causes}};
}

json answer(const kube::Result<json>& r) {
  if (r.ok()) return {{"ok", true}, {"value", *r}};
  return {{"ok", false}, {"error", errorJson(r.status())}};
}

kube::Resource resourceOf(const json& request) {
  const json& r = request.value("resource", json::object());
  kube::Resource resource;
  resource.group = r.value("group", "");
  resource.version = r.value("version", "v1");
  resource.resource = r.value("resource", "");
  resource.kind = r.value("kind", "");
  resource.namespaced = r.value("namespaced", true);
  return resource;
}

kube::PatchType patchType(const std::string& name) {
  if (name == "json") return kube::PatchType::Json;
  if (name == "strategic") return kube::PatchType::StrategicMerge;
  if (name == "apply") return kube::PatchType::Apply;
  return kube::PatchType::Merge;
}

kube::ListOptions listOptions(const json& o) {
  kube::ListOptions options;
  options.labelSelector = o.value("labelSelector", "");
  options.fieldSelector = o.value("fieldSelector", "");
  options.resourceVersion = o.value("resourceVersion", "");
  options.resourceVersionMatch = o.value("resourceVersionMatch", "");
  options.limit = o.value("limit", int64_t{0});
  options.continueToken = o.value("continue", "");
  options.timeoutSeconds = o.value("timeoutSeconds", int64_t{0});
  options.allowWatchBookmarks = o.value("allowWatchBookmarks", false);
  return options;
}

json watch(kube::RestClient& client, const json& request) {
  const json& o = request.value("options", json::object());
  auto stream = client.watch(resourceOf(request), request.value("namespace", ""), listOptions(o));
  if (!stream.ok()) return {{"ok", false}, {"error", errorJson(stream.status())}};
  const auto maxEvents = o.value("maxEvents", std::size_t{1000});
  const bool skipBookmarks = o.value("skipBookmarks", true);
  json events = json::array();
  while (events.size() < maxEvents) {
    auto event = (*stream)->next();
    if (!event) break;
    if (skipBookmarks && event->type == kube::WatchEventType::Bookmark) continue;
    events.push_back(
        {{"type", kube::watchEventTypeName(event->type)}, {"object", std::move(event->object)}});
  }
  (*stream)->cancel();
  auto end = (*stream)->status();
  return {{"ok", true},
          {"events", events},
          {"end", end.ok() ? json{{"ok", true}} : json{{"ok", false}, {"error", errorJson(end)}}}};
}

json handle(kube::RestClient& client, const json& request) {
  const std::string op = request.value("op", "");
  const std::string ns = request.value("namespace", "");
  const std::string name = request.value("name", "");
  const json& o = request.value("options", json::object());
  if (op == "get") {
    kube::GetOptions options;
    options.subresource = o.value("subresource", "");
    options.resourceVersion = o.value("resourceVersion", "");
    return answer(client.get(resourceOf(request), ns, name, options));
  }
  if (op == "list") return answer(client.list(resourceOf(request), ns, listOptions(o)));
  if (op == "create" || op == "update") {
    kube::WriteOptions options;
    options.subresource = o.value("subresource", "");
    options.fieldManager = o.value("fieldManager", "");
    options.dryRun = o.value("dryRun", false);
    const json& body = request.at("body");
    return answer(op == "create" ? client.create(resourceOf(request), ns, body, options)
                                 : client.update(resourceOf(request), ns, body, options));
  }
  if (op == "patch") {
    kube::PatchOptions options;
    options.type = patchType(o.value("type", "merge"));
    options.subresource = o.value("subresource", "");
    options.fieldManager = o.value("fieldManager", "");
    if (o.contains("force")) options.force = o.at("force").get<bool>();
    options.dryRun = o.value("dryRun", false);
    const json& body = request.at("body");
    return answer(client.patch(resourceOf(request), ns, name,
                               body.is_string() ? body.get<std::string>() : body.dump(), options));
  }
  if (op == "delete") {
    kube::DeleteOptions options;
    options.propagationPolicy = o.value("propagationPolicy", "");
    options.preconditionUid = o.value("preconditionUid", "");
    options.preconditionResourceVersion = o.value("preconditionResourceVersion", "");
    options.dryRun = o.value("dryRun", false);
    return answer(client.remove(resourceOf(request), ns, name, options));
  }
  if (op == "watch") return watch(client, request);
  if (op == "call") {
    const json& body = request.value("body", json());
    return answer(client.call(
        request.value("method", "GET"), request.value("target", "/"),
        body.is_null() ? "" : (body.is_string() ? body.get<std::string>() : body.dump()),
        request.value("contentType", "")));
  }
  if (op == "resourceFor") {
    auto r = client.resourceFor(request.value("apiVersion", ""), request.value("kind", ""));
    if (!r.ok()) return {{"ok", false}, {"error", errorJson(r.status())}};
    return {{"ok", true},
            {"value",
             {{"group", r->group},
              {"version", r->version},
              {"resource", r->resource},
              {"kind", r->kind},
              {"namespaced", r->namespaced}}}};
  }
  return {{"ok", false},
          {"error", {{"code", 0}, {"reason", "ProbeError"}, {"message", "op " + op}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fidelity_probe KUBECONFIG\n";
    return 2;
  }
  kube::KubeconfigOptions options;
  options.path = argv[1];
  auto config = kube::loadKubeconfig(options);
  if (!config.ok()) {
    std::cerr << argv[1] << ": " << config.status().toString() << "\n";
    return 1;
  }
  config->qps = 0;
  auto client = kube::RestClient::fromConfig(*config);
  if (!client.ok()) {
    std::cerr << client.status().toString() << "\n";
    return 1;
  }
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    json out;
    try {
      out = handle(**client, json::parse(line));
    } catch (const std::exception& e) {
      out = {{"ok", false},
             {"error", {{"code", 0}, {"reason", "ProbeError"}, {"message", e.what()}}}};
    }
    std::cout << out.dump() << std::endl;
  }
  return 0;
}
