#include "sandbox/api_server.h"

#include "formats/go_format.h"
#include "sandbox/impersonation.h"
#include "sandbox/object_meta.h"
#include "sandbox/pod_logs.h"
#include "sandbox/protobuf_codec.h"
#include "sandbox/selectors.h"
#include "sandbox/table.h"
#include "sandbox/yaml_json.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <thread>

namespace remedy::sandbox {

namespace {

using formats::goQuote;
using http::Request;
using http::Responder;
using http::Response;

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string p;
  while (std::getline(ss, p, '/')) {
    if (!p.empty()) parts.push_back(p);
  }
  return parts;
}

void sendJson(Responder& r, int code, const json& body,
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Response resp = Response::json(code, body.dump());
  resp.headers.insert(resp.headers.end(), headers.begin(), headers.end());
  r.send(std::move(resp));
}

void sendError(Responder& r, const ApiError& e) { sendJson(r, e.code, e.toStatus(), e.headers); }

bool wantsTable(const Request& req) {
  std::string accept = req.header("accept");
  return accept.find("as=Table") != std::string::npos;
}

// A boolean query parameter as kube-apiserver reads one
// (k8s.io/apimachinery/pkg/runtime/conversion.go Convert_Slice_string_To_bool):
// false when absent, or when its first value is "0" or "false" in any case;
// true otherwise, so `watch`, `watch=`, `watch=True` and `watch=yes` all
// ask for a watch.
bool boolParam(const Request& request, const std::string& name) {
  std::optional<std::string> v = request.param(name);
  if (!v || *v == "0") return false;
  // strings.EqualFold: ASCII case, and U+017F (long s) folds to 's'.
  std::string folded;
  for (size_t i = 0; i < v->size(); ++i) {
    if (v->compare(i, 2, "\xC5\xBF") == 0) {
      folded += 's';
      ++i;
    } else {
      folded += static_cast<char>(std::tolower(static_cast<unsigned char>((*v)[i])));
    }
  }
  return folded != "false";
}

// "/version" and "/version/" (any number of trailing slashes): kube-apiserver
// serves its version on a go-restful route that matches both.
bool isVersionPath(const std::string& path) {
  if (path.rfind("/version", 0) != 0) return false;
  return path.find_first_not_of('/', 8) == std::string::npos;
}

// ListOptions validation of kube-apiserver 1.33 with its default feature
// gates (WatchList off): any sendInitialEvents is refused, whatever its value
// (k8s.io/apimachinery/pkg/apis/meta/internalversion/validation).
std::optional<ApiError> checkSendInitialEvents(const Request& request, bool watch) {
  if (!request.param("sendInitialEvents")) return std::nullopt;
  std::string detail = watch ? "sendInitialEvents is forbidden for watch unless the WatchList "
                               "feature gate is enabled"
                             : "sendInitialEvents is forbidden for list";
  return ApiError::invalid("meta.k8s.io", "ListOptions", "",
                           {{"FieldValueForbidden", "Forbidden: " + detail, "sendInitialEvents"}});
}

bool hasGroup(const UserInfo& u, const std::string& g) {
  return std::find(u.groups.begin(), u.groups.end(), g) != u.groups.end();
}

json userInfoJson(const UserInfo& u) { return {{"username", u.name}, {"groups", u.groups}}; }

// Watch event filtering with selectors: an object that stops matching is
// DELETED for this watcher, one that starts matching is ADDED
// (k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go convertToWatchEvent).
std::optional<std::string> filteredEventType(const StoreEvent& e, const LabelSelector& labels,
                                             const FieldSelector& fields) {
  auto matches = [&](const ObjectPtr& o) {
    return o && labels.matches((*o)["metadata"].value("labels", json::object())) &&
           fields.matches(*o);
  };
  bool cur = e.type != EventType::Deleted && matches(e.object);
  bool prev = e.type == EventType::Deleted ? matches(e.object) : matches(e.previous);
  switch (e.type) {
    case EventType::Added:
      return cur ? std::optional<std::string>("ADDED") : std::nullopt;
    case EventType::Modified:
      if (cur && prev) return "MODIFIED";
      if (cur) return "ADDED";
      if (prev) return "DELETED";
      return std::nullopt;
    case EventType::Deleted:
      return prev ? std::optional<std::string>("DELETED") : std::nullopt;
  }
  return std::nullopt;
}

std::string hexHash(const std::string& s) {
  std::ostringstream o;
  o << std::hex << std::uppercase << std::hash<std::string>{}(s);
  return o.str();
}

std::string reversedGroup(const std::string& group) {
  std::vector<std::string> parts;
  std::stringstream ss(group);
  std::string p;
  while (std::getline(ss, p, '.')) parts.insert(parts.begin(), p);
  std::string out;
  for (const auto& x : parts) out += (out.empty() ? "" : ".") + x;
  return out;
}

}  // namespace

struct ApiServer::Route {
  std::string group;
  std::string version;
  std::string ns;
  std::string name;
  std::string subresource;
  ResourceTypePtr type;
  bool watchPath = false;  // legacy /watch/ prefix
};

ApiServer::ApiServer(Objects& objects, Faults& faults, ApiServerOptions options)
    : objects_(objects),
      faults_(faults),
      authorizer_(objects.store()),
      options_(std::move(options)) {}

void ApiServer::addToken(const std::string& token, UserInfo user) {
  std::lock_guard<std::mutex> lock(tokensMu_);
  tokens_[token] = withAuthenticatedGroup(std::move(user));
}

void ApiServer::setServerAddress(const std::string& hostPort) {
  std::lock_guard<std::mutex> lock(tokensMu_);
  options_.serverAddress = hostPort;
}

void ApiServer::shutdown() { stopping_ = true; }

std::optional<UserInfo> ApiServer::authenticate(const Request& request) const {
  std::string auth = request.header("authorization");
  if (auth.size() > 7 &&
      (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
    std::string token = auth.substr(7);
    std::lock_guard<std::mutex> lock(tokensMu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
  }
  if (!auth.empty()) return std::nullopt;
  if (request.peer && !request.peer->commonName.empty()) {
    return withAuthenticatedGroup(UserInfo{request.peer->commonName, request.peer->organizations});
  }
  return std::nullopt;
}

void ApiServer::handle(const Request& request, Responder& responder) {
  const std::string& path = request.path;
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    responder.send(Response::text(200, "ok"));
    return;
  }
  if (isVersionPath(path)) {
    sendJson(responder, 200,
             {{"major", "1"},
              {"minor", "32"},
              {"gitVersion", "v1.32.0-remedy-sandbox"},
              {"gitCommit", "0000000000000000000000000000000000000000"},
              {"gitTreeState", "clean"},
              {"buildDate", "2026-01-01T00:00:00Z"},
              {"goVersion", "go1.23.0"},
              {"compiler", "gc"},
              {"platform", "linux/amd64"}});
    return;
  }
  auto user = authenticate(request);
  if (!user) {
    sendError(responder, ApiError::unauthorized());
    return;
  }
  // After authentication and before authorization, as kube-apiserver's
  // handler chain (server/config.go DefaultBuildHandlerChain) orders them.
  ImpersonationOutcome impersonation =
      impersonate(request, *user, [&](const Attributes& a, std::string* reason) {
        if (!options_.authorization || hasGroup(*user, kSystemMasters)) return true;
        return authorizer_.authorize(a, reason);
      });
  if (!impersonation.internalError.empty()) {
    responder.send(Response::text(500, impersonation.internalError + "\n"));
    return;
  }
  if (impersonation.forbidden) {
    sendError(responder, *impersonation.forbidden);
    return;
  }
  if (impersonation.user) user = std::move(impersonation.user);
  if (path.rfind("/sandbox/", 0) == 0) {
    serveAdmin(request, *user, responder);
    return;
  }
  if (auto latency = faults_.latency(); latency.count() > 0) std::this_thread::sleep_for(latency);
  if (auto failure = faults_.takeFailure(path)) {
    ApiError e = ApiError::fromCode(failure->code, failure->message);
    if (failure->code == 429 || failure->code == 503) {
      e.headers = {{"Retry-After", std::to_string(failure->retryAfterSeconds)}};
    }
    sendError(responder, e);
    return;
  }
  try {
    serveApi(request, *user, responder);
  } catch (const std::exception& e) {
    sendError(responder, ApiError::internal(e.what()));
  }
}

void ApiServer::serveAdmin(const Request& request, const UserInfo& user, Responder& responder) {
  if (!hasGroup(user, kSystemMasters)) {
    sendError(responder, ApiError::forbidden(user.name, "use", "", "sandbox", "", "", ""));
    return;
  }
  if (request.method != "POST") {
    sendError(responder, ApiError::methodNotAllowed("the sandbox admin endpoints take POST"));
    return;
  }
  auto body = parseBody(request.body.empty() ? "{}" : request.body, false);
  if (!body.ok() || !body->is_object()) {
    sendError(responder, ApiError::badRequest("the body must be a JSON object"));
    return;
  }
  const json& b = *body;
  if (request.path == "/sandbox/v1/faults") {
    if (b.value("clear", false)) faults_.clear();
    if (b.contains("latencyMs")) {
      faults_.setLatency(std::chrono::milliseconds(b["latencyMs"].get<int64_t>()));
    }
    if (b.contains("failNext")) {
      const json& f = b["failNext"];
      if (f.value("pathIsSuffix", false)) {
        faults_.failNextEndingWith(f.value("count", 1), f.value("code", 500), f.value("path", ""),
                                   f.value("retryAfterSeconds", 1));
      } else {
        faults_.failNext(f.value("count", 1), f.value("code", 500), f.value("path", ""),
                         f.value("retryAfterSeconds", 1));
      }
    }
    if (b.value("closeWatches", false)) objects_.store().closeAllWatches();
    if (b.value("expireResourceVersions", false)) objects_.store().compact();
    sendJson(responder, 200, {{"status", "ok"}});
    return;
  }
  if (request.path == "/sandbox/v1/tokens") {
    std::string token = b.value("token", "");
    std::string name = b.value("user", "");
    if (token.empty() || name.empty()) {
      sendError(responder, ApiError::badRequest("token and user are required"));
      return;
    }
    addToken(token, UserInfo{name, b.value("groups", std::vector<std::string>{})});
    sendJson(responder, 200, {{"status", "ok"}});
    return;
  }
  sendError(responder, ApiError::fromCode(404, "no such sandbox endpoint: " + request.path));
}

json ApiServer::discoveryFor(const std::string& group, const std::string& version) const {
  json resources = json::array();
  for (const auto& t : objects_.registry().all()) {
    if (t->group != group || t->version != version) continue;
    json r = {{"name", t->resource},
              {"singularName", t->singular},
              {"namespaced", t->namespaced},
              {"kind", t->kind},
              {"verbs", t->verbs}};
    if (!t->shortNames.empty()) r["shortNames"] = t->shortNames;
    if (!t->categories.empty()) r["categories"] = t->categories;
    // Kinds that are never stored (the reviews) publish no storage hash.
    if (!t->createOnly) r["storageVersionHash"] = hexHash(t->storageKey()).substr(0, 11);
    resources.push_back(r);
    if (t->hasStatus) {
      resources.push_back({{"name", t->resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", t->kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (t->hasScale) {
      resources.push_back({{"name", t->resource + "/scale"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (t->group.empty() && t->resource == "serviceaccounts") {
      resources.push_back({{"name", "serviceaccounts/token"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"group", "authentication.k8s.io"},
                           {"version", "v1"},
                           {"kind", "TokenRequest"},
                           {"verbs", {"create"}}});
    }
    if (t->group.empty() && t->resource == "pods") {
      resources.push_back({{"name", "pods/log"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", "Pod"},
                           {"verbs", {"get"}}});
      resources.push_back({{"name", "pods/eviction"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"group", "policy"},
                           {"version", "v1"},
                           {"kind", "Eviction"},
                           {"verbs", {"create"}}});
    }
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

json ApiServer::openApiV3Index() const {
  json paths = json::object();
  for (const auto& g : objects_.registry().groups()) {
    for (const auto& v : objects_.registry().versions(g)) {
      std::string key = g.empty() ? "api/" + v : "apis/" + g + "/" + v;
      auto doc = openApiV3(g, v);
      if (!doc) continue;
      paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hexHash(doc->dump())}};
    }
  }
  return {{"paths", paths}};
}

// The OpenAPI v3 document of a group-version, for the custom resources in it:
// what `kubectl explain` reads (it needs the resource's path with an
// operation carrying x-kubernetes-group-version-kind, and a schema with the
// same GVK).
namespace {
constexpr const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
}  // namespace

std::optional<json> ApiServer::openApiV3(const std::string& group,
                                         const std::string& version) const {
  json paths = json::object();
  json schemas = json::object();
  for (const auto& t : objects_.registry().all()) {
    if (t->group != group || t->version != version || !t->custom) continue;
    json gvk = {{"group", t->group}, {"version", t->version}, {"kind", t->kind}};
    std::string schemaName = reversedGroup(t->group) + "." + t->version + "." + t->kind;
    json schema = t->schema.is_object() ? t->schema : json{{"type", "object"}};
    schema["x-kubernetes-group-version-kind"] = json::array({gvk});
    if (!schema.contains("properties")) schema["properties"] = json::object();
    // The descriptions kube-apiserver's builder gives these three fields;
    // metadata refers to ObjectMeta, as kubectl explain shows it.
    schema["properties"]["apiVersion"] = {
        {"type", "string"},
        {"description",
         "APIVersion defines the versioned schema of this representation of an object. Servers "
         "should convert recognized schemas to the latest internal value, and may reject "
         "unrecognized values. More info: "
         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
         "api-conventions.md#resources"}};
    schema["properties"]["kind"] = {
        {"type", "string"},
        {"description",
         "Kind is a string value representing the REST resource this object represents. Servers "
         "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
         "CamelCase. More info: "
         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
         "api-conventions.md#types-kinds"}};
    schema["properties"]["metadata"] = {
        {"description",
         "Standard object's metadata. More info: "
         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
         "api-conventions.md#metadata"},
        {"allOf", json::array({{{"$ref", std::string("#/components/schemas/") + kObjectMeta}}})}};
    schemas[kObjectMeta] = {
        {"type", "object"},
        {"description",
         "ObjectMeta is metadata that all persisted resources must have, which includes all "
         "objects users must create."},
        {"properties",
         {{"name",
           {{"type", "string"}, {"description", "Name must be unique within a namespace."}}},
          {"namespace",
           {{"type", "string"},
            {"description", "Namespace defines the space within which each name must be unique."}}},
          {"labels",
           {{"type", "object"},
            {"additionalProperties", {{"type", "string"}, {"default", ""}}},
            {"description",
             "Map of string keys and values that can be used to organize and categorize (scope and "
             "select) objects."}}},
          {"annotations",
           {{"type", "object"},
            {"additionalProperties", {{"type", "string"}, {"default", ""}}},
            {"description",
             "Annotations is an unstructured key value map stored with a resource that may be set "
             "by external tools to store and retrieve arbitrary metadata."}}}}}};
    schemas[schemaName] = schema;
    json ref = {{"$ref", "#/components/schemas/" + schemaName}};
    json op = {
        {"x-kubernetes-group-version-kind", gvk},
        {"x-kubernetes-action", "get"},
        {"operationId", "read" + t->kind},
        {"responses",
         {{"200",
           {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref}}}}}}}}}};
    std::string base = "/apis/" + t->group + "/" + t->version + "/";
    std::string item = t->namespaced ? base + "namespaces/{namespace}/" + t->resource + "/{name}"
                                     : base + t->resource + "/{name}";
    json listOp = op;
    listOp["x-kubernetes-action"] = "post";
    listOp["operationId"] = "create" + t->kind;
    std::string collection =
        t->namespaced ? base + "namespaces/{namespace}/" + t->resource : base + t->resource;
    // The operations kube-apiserver publishes for a custom resource (its
    // builder's routes; deletecollection is the collection's delete).
    auto operation = [&](const std::string& action, const std::string& id) {
      json o = op;
      o["x-kubernetes-action"] = action;
      o["operationId"] = id + t->kind;
      return o;
    };
    std::string scope = t->namespaced ? "Namespaced" : "";
    paths[item] = {{"get", op},
                   {"put", operation("put", "replace" + scope)},
                   {"patch", operation("patch", "patch" + scope)},
                   {"delete", operation("delete", "delete" + scope)}};
    paths[collection] = {{"get", operation("list", "list" + scope)},
                         {"post", listOp},
                         {"delete", operation("deletecollection", "deleteCollection" + scope)}};
  }
  if (schemas.empty()) return std::nullopt;
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes CRD Swagger"}, {"version", "v0.1.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

void ApiServer::serveApi(const Request& request, const UserInfo& user, Responder& responder) {
  auto parts = splitPath(request.path);
  bool admin = hasGroup(user, kSystemMasters);
  auto authorizeNonResource = [&](const std::string& verb) {
    if (!options_.authorization || admin) return true;
    Attributes a;
    a.user = user;
    a.verb = verb;
    a.resourceRequest = false;
    a.path = request.path;
    if (authorizer_.authorize(a, nullptr)) return true;
    ApiError e = ApiError::forbidden(user.name, verb, "", "", "", "", "");
    e.message =
        "forbidden: User \"" + user.name + "\" cannot " + verb + " path \"" + request.path + "\"";
    sendError(responder, e);
    return false;
  };
  if (parts.empty()) {
    if (!authorizeNonResource("get")) return;
    sendJson(responder, 200,
             {{"paths", {"/api", "/api/v1", "/apis", "/openapi/v2", "/openapi/v3", "/version"}}});
    return;
  }
  if (parts[0] == "openapi") {
    if (!authorizeNonResource("get")) return;
    if (parts.size() == 2 && parts[1] == "v2") {
      // kubectl reads /openapi/v2 as protobuf; an empty document is accepted
      // and turns client-side schema validation off.
      Response r;
      r.status = 200;
      r.headers.emplace_back("Content-Type",
                             "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
      responder.send(std::move(r));
      return;
    }
    if (parts.size() == 2 && parts[1] == "v3") {
      sendJson(responder, 200, openApiV3Index());
      return;
    }
    if (parts.size() >= 4 && parts[1] == "v3") {
      std::optional<json> doc;
      if (parts[2] == "apis" && parts.size() == 5) doc = openApiV3(parts[3], parts[4]);
      if (parts[2] == "api" && parts.size() == 4) doc = openApiV3("", parts[3]);
      if (doc) {
        sendJson(responder, 200, *doc);
        return;
      }
    }
    sendError(responder,
              ApiError::fromCode(404, "the server could not find the requested resource"));
    return;
  }
  bool core = parts[0] == "api";
  if (!core && parts[0] != "apis") {
    sendError(responder,
              ApiError::fromCode(404, "the server could not find the requested resource"));
    return;
  }
  Registry& registry = objects_.registry();
  if (core && parts.size() == 1) {
    if (!authorizeNonResource("get")) return;
    std::string addr;
    {
      std::lock_guard<std::mutex> lock(tokensMu_);
      addr = options_.serverAddress;
    }
    sendJson(responder, 200,
             {{"kind", "APIVersions"},
              {"versions", {"v1"}},
              {"serverAddressByClientCIDRs",
               json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", addr}}})}});
    return;
  }
  auto groupJson = [&](const std::string& g) {
    json versions = json::array();
    for (const auto& v : registry.versions(g)) {
      versions.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
    }
    return json{{"name", g}, {"versions", versions}, {"preferredVersion", versions.at(0)}};
  };
  if (!core && parts.size() == 1) {
    if (!authorizeNonResource("get")) return;
    json groups = json::array();
    for (const auto& g : registry.groups()) {
      if (!g.empty()) groups.push_back(groupJson(g));
    }
    sendJson(responder, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
    return;
  }
  Route route;
  size_t rest;
  if (core) {
    route.version = parts[1];
    rest = 2;
  } else {
    route.group = parts[1];
    if (parts.size() == 2) {
      if (!authorizeNonResource("get")) return;
      if (registry.versions(route.group).empty()) {
        // No handler serves an unknown group: Go's mux answers in plain text.
        responder.send(Response::text(404, "404 page not found\n"));
        return;
      }
      json g = groupJson(route.group);
      g["kind"] = "APIGroup";
      g["apiVersion"] = "v1";
      sendJson(responder, 200, g);
      return;
    }
    route.version = parts[2];
    rest = 3;
  }
  auto versions = registry.versions(route.group);
  if (std::find(versions.begin(), versions.end(), route.version) == versions.end()) {
    responder.send(Response::text(404, "404 page not found\n"));
    return;
  }
  std::vector<std::string> r(parts.begin() + static_cast<long>(rest), parts.end());
  if (r.empty()) {
    if (!authorizeNonResource("get")) return;
    sendJson(responder, 200, discoveryFor(route.group, route.version));
    return;
  }
  if (r[0] == "watch") {
    route.watchPath = true;
    r.erase(r.begin());
  }
  auto lookup = [&](const std::string& res) {
    return registry.find(route.group, route.version, res);
  };
  if (r.size() >= 3 && r[0] == "namespaces" && core && lookup(r[2]) && lookup(r[2])->namespaced) {
    route.ns = r[1];
    r.erase(r.begin(), r.begin() + 2);
  } else if (r.size() >= 3 && r[0] == "namespaces" && !core) {
    route.ns = r[1];
    r.erase(r.begin(), r.begin() + 2);
  }
  route.type = lookup(r[0]);
  if (!route.type || r.size() > 3) {
    sendError(responder,
              ApiError::fromCode(404, "the server could not find the requested resource"));
    return;
  }
  if (r.size() >= 2) route.name = r[1];
  if (r.size() == 3) route.subresource = r[2];
  if (route.type->namespaced && route.ns.empty() && !route.name.empty()) {
    sendError(responder,
              ApiError::fromCode(404, "the server could not find the requested resource"));
    return;
  }
  serveResource(request, user, route, responder);
}

void ApiServer::serveResource(const Request& request, const UserInfo& user, Route& route,
                              Responder& responder) {
  const ResourceType& type = *route.type;
  const std::string& method = request.method;
  bool watch = route.watchPath || boolParam(request, "watch");
  std::string verb;
  if (method == "GET") {
    verb = watch ? "watch" : route.name.empty() ? "list" : "get";
  } else if (method == "POST") {
    verb = "create";
  } else if (method == "PUT") {
    verb = "update";
  } else if (method == "PATCH") {
    verb = "patch";
  } else if (method == "DELETE") {
    verb = route.name.empty() ? "deletecollection" : "delete";
  } else {
    sendError(responder, ApiError::methodNotAllowed(method + " is not supported"));
    return;
  }
  const std::string& sub = route.subresource;
  bool knownSub = sub.empty() || (sub == "status" && type.hasStatus) ||
                  (sub == "scale" && type.hasScale) ||
                  (sub == "eviction" && type.group.empty() && type.resource == "pods") ||
                  (sub == "log" && type.group.empty() && type.resource == "pods") ||
                  (sub == "token" && type.group.empty() && type.resource == "serviceaccounts") ||
                  (sub == "finalize" && type.group.empty() && type.resource == "namespaces");
  if (!knownSub) {
    sendError(responder,
              ApiError::fromCode(404, "the server could not find the requested resource"));
    return;
  }
  if (options_.authorization && !hasGroup(user, kSystemMasters)) {
    Attributes a;
    a.user = user;
    a.verb = verb;
    a.apiGroup = type.group;
    a.resource = type.resource;
    a.subresource = sub;
    a.namespace_ = route.ns;
    a.name = route.name;
    std::string reason;
    if (!authorizer_.authorize(a, &reason)) {
      ApiError e = ApiError::forbidden(user.name, verb, type.group, type.resource, sub, route.ns,
                                       route.name);
      if (!reason.empty()) e.message += ": " + reason;
      sendError(responder, e);
      return;
    }
  }
  if (type.createOnly) {
    if (verb != "create" || !route.name.empty()) {
      sendError(responder,
                ApiError::methodNotAllowed(verb + " is not supported on " + type.resource));
      return;
    }
    serveReview(request, user, type, responder);
    return;
  }
  // A collection takes create, list, watch and deletecollection; an object
  // everything else (the apiserver's installer registers no other route).
  if ((route.name.empty() && (verb == "update" || verb == "patch")) ||
      (!route.name.empty() && verb == "create" && sub.empty())) {
    ApiError e = ApiError::methodNotAllowed(
        "the server does not allow this method on the requested resource");
    e.details = json::object();
    return sendError(responder, e);
  }
  if (auto dryRun = request.param("dryRun"); dryRun && !dryRun->empty() && *dryRun != "All") {
    // metav1 validation.ValidateDryRun.
    const char* options = verb == "create"   ? "CreateOptions"
                          : verb == "update" ? "UpdateOptions"
                          : verb == "patch"  ? "PatchOptions"
                                             : "DeleteOptions";
    return sendError(responder, ApiError::invalid("meta.k8s.io", options, "",
                                                  {{"FieldValueNotSupported",
                                                    "Unsupported value: []string{\"" + *dryRun +
                                                        "\"}: supported values: \"All\"",
                                                    "dryRun"}}));
  }
  WriteOptions wo;
  wo.dryRun = request.param("dryRun").value_or("") == "All";
  wo.fieldManager = request.param("fieldManager").value_or("");
  wo.force = boolParam(request, "force");
  wo.fieldValidation = request.param("fieldValidation").value_or("");
  wo.user = user;  // admission webhooks see who asks
  wo.warnings = std::make_shared<std::vector<std::string>>();
  // Admission warnings reach the client as kube-apiserver sends them
  // (warning.go: `299 - "text"`), and kubectl prints them.
  auto warnings = [&]() {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& w : *wo.warnings) headers.emplace_back("Warning", "299 - " + goQuote(w));
    return headers;
  };
  bool table = wantsTable(request);
  std::string includeObject = request.param("includeObject").value_or("Metadata");
  auto objectOut = [&](const json& o) {
    if (!table) return o;
    return toTable(type, {o}, includeObject,
                   {{"resourceVersion", o["metadata"].value("resourceVersion", "")}});
  };
  auto decodeBody = [&]() -> Result<json> {
    std::string ct = request.header("content-type");
    // kubectl's typed clients send built-in kinds as protobuf.
    if (isKubernetesProtobuf(ct)) return decodeKubernetesProtobuf(request.body);
    std::string mediaType = ct.substr(0, ct.find(';'));
    bool known = mediaType.empty() || mediaType == "application/json" ||
                 mediaType == "application/yaml" || mediaType == "*/*";
    if (!known) {
      ApiError e = ApiError::unsupportedMediaType(ct);
      e.message =
          "the body of the request was in an unknown format - accepted media types include: "
          "application/json, application/yaml, application/vnd.kubernetes.protobuf";
      return e;
    }
    return parseBody(request.body, ct.find("yaml") != std::string::npos);
  };

  if (verb == "watch" || verb == "list") {
    if (auto refused = checkSendInitialEvents(request, verb == "watch")) {
      return sendError(responder, *refused);
    }
  }
  if (verb == "watch") {
    serveWatch(request, route, responder);
    return;
  }
  if (verb == "list") {
    ListOptions lo;
    lo.labelSelector = request.param("labelSelector").value_or("");
    lo.fieldSelector = request.param("fieldSelector").value_or("");
    lo.continueToken = request.param("continue").value_or("");
    lo.resourceVersion = request.param("resourceVersion").value_or("");
    lo.resourceVersionMatch = request.param("resourceVersionMatch").value_or("");
    if (auto limit = request.param("limit"); limit && !limit->empty()) {
      try {
        lo.limit = std::stoll(*limit);
      } catch (...) {
        sendError(responder, ApiError::badRequest("limit must be an integer"));
        return;
      }
    }
    auto list = objects_.list(type, route.ns, lo);
    if (!list.ok()) return sendError(responder, list.error());
    if (table) {
      std::vector<json> items(list->at("items").begin(), list->at("items").end());
      sendJson(responder, 200, toTable(type, items, includeObject, (*list)["metadata"]));
    } else {
      sendJson(responder, 200, *list);
    }
    return;
  }
  if (sub == "log") {
    // pods/log serves GET only (registry/core/pod/rest/log.go).
    if (verb != "get") {
      return sendError(responder, ApiError::methodNotAllowed(
                                      "the server does not allow this method on the requested "
                                      "resource"));
    }
    auto query =
        parsePodLogQuery(route.name, [&](const std::string& p) { return request.param(p); });
    if (!query.ok()) return sendError(responder, query.error());
    auto pod = objects_.get(type, route.ns, route.name);
    if (!pod.ok()) return sendError(responder, pod.error());
    auto text = podLog(**pod, *query);
    if (!text.ok()) return sendError(responder, text.error());
    return responder.send(http::Response::text(200, std::move(text.value())));
  }
  if (verb == "get") {
    if (sub == "scale") {
      auto s = objects_.getScale(type, route.ns, route.name);
      if (!s.ok()) return sendError(responder, s.error());
      return sendJson(responder, 200, *s);
    }
    auto o = objects_.get(type, route.ns, route.name);
    if (!o.ok()) return sendError(responder, o.error());
    return sendJson(responder, 200, objectOut(**o));
  }
  if (verb == "create") {
    auto body = decodeBody();
    if (!body.ok()) return sendError(responder, body.error());
    if (sub == "eviction") {
      auto r = objects_.evict(route.ns, route.name, *body);
      if (!r.ok()) return sendError(responder, r.error());
      return sendJson(responder, 201, *r);
    }
    if (sub == "token") {
      // A bound service-account token (TokenRequest): the sandbox keeps it
      // for the life of the process and authenticates it as the account.
      auto sa = objects_.get(type, route.ns, route.name);
      if (!sa.ok()) return sendError(responder, sa.error());
      std::string token = "sandbox-sa-" + newUid();
      addToken(token, serviceAccountUser(route.ns, route.name));
      json spec = body->value("spec", json::object());
      if (!spec.contains("audiences")) {
        spec["audiences"] = json::array({"https://kubernetes.default.svc.cluster.local"});
      }
      int64_t seconds = spec.value("expirationSeconds", int64_t(3600));
      spec["expirationSeconds"] = seconds;
      return sendJson(
          responder, 201,
          {{"kind", "TokenRequest"},
           {"apiVersion", "authentication.k8s.io/v1"},
           {"metadata",
            {{"name", route.name}, {"namespace", route.ns}, {"creationTimestamp", nowRfc3339()}}},
           {"spec", spec},
           {"status", {{"token", token}, {"expirationTimestamp", rfc3339After(seconds)}}}});
    }
    if (!route.name.empty()) {
      sendError(responder, ApiError::methodNotAllowed("POST is not supported on a named object"));
      return;
    }
    auto o = objects_.create(type, route.ns, std::move(body.value()), wo);
    if (!o.ok()) return sendError(responder, o.error());
    return sendJson(responder, 201, objectOut(**o), warnings());
  }
  if (verb == "update") {
    auto body = decodeBody();
    if (!body.ok()) return sendError(responder, body.error());
    if (sub == "scale") {
      auto s = objects_.updateScale(type, route.ns, route.name, *body, wo);
      if (!s.ok()) return sendError(responder, s.error());
      return sendJson(responder, 200, *s);
    }
    std::string s = sub == "finalize" ? "" : sub;
    auto o = objects_.update(type, route.ns, route.name, std::move(body.value()), s, wo);
    if (!o.ok()) return sendError(responder, o.error());
    return sendJson(responder, 200, objectOut(**o), warnings());
  }
  if (verb == "patch") {
    std::string ct = request.header("content-type");
    auto semi = ct.find(';');
    if (semi != std::string::npos) ct = ct.substr(0, semi);
    PatchType pt;
    if (ct == "application/merge-patch+json") {
      pt = PatchType::Merge;
    } else if (ct == "application/json-patch+json") {
      pt = PatchType::Json;
    } else if (ct == "application/strategic-merge-patch+json") {
      pt = PatchType::StrategicMerge;
    } else if (ct == "application/apply-patch+yaml") {
      pt = PatchType::Apply;
    } else {
      // handlers/patch.go answers an unknown patch type with the bare code.
      ApiError e = ApiError::unsupportedMediaType(ct);
      e.message = "415: Unsupported Media Type";
      e.details = json::object();
      return sendError(responder, e);
    }
    if (sub == "scale") {
      if (pt == PatchType::StrategicMerge || pt == PatchType::Apply) pt = PatchType::Merge;
      auto s = objects_.patchScale(type, route.ns, route.name, pt, request.body, wo);
      if (!s.ok()) return sendError(responder, s.error());
      return sendJson(responder, 200, *s);
    }
    bool existed = pt != PatchType::Apply || objects_.get(type, route.ns, route.name).ok();
    auto o = objects_.patch(type, route.ns, route.name, pt, request.body, sub, wo);
    if (!o.ok()) return sendError(responder, o.error());
    return sendJson(responder, existed ? 200 : 201, objectOut(**o), warnings());
  }
  // delete, deletecollection
  DeleteOptions dopts;
  if (!request.body.empty()) {
    auto body = decodeBody();
    if (!body.ok()) return sendError(responder, body.error());
    const json& b = *body;
    dopts.propagationPolicy = b.value("propagationPolicy", "");
    if (b.contains("orphanDependents") && b["orphanDependents"].is_boolean() &&
        b["orphanDependents"].get<bool>()) {
      dopts.propagationPolicy = "Orphan";
    }
    if (b.contains("preconditions") && b["preconditions"].is_object()) {
      const json& p = b["preconditions"];
      if (p.contains("uid") && p["uid"].is_string()) dopts.preconditionUid = p["uid"];
      if (p.contains("resourceVersion") && p["resourceVersion"].is_string()) {
        dopts.preconditionResourceVersion = p["resourceVersion"];
      }
    }
    if (b.contains("dryRun") && b["dryRun"].is_array() && !b["dryRun"].empty()) dopts.dryRun = true;
  }
  if (auto p = request.param("propagationPolicy")) dopts.propagationPolicy = *p;
  if (wo.dryRun) dopts.dryRun = true;
  if (!dopts.propagationPolicy.empty() && dopts.propagationPolicy != "Orphan" &&
      dopts.propagationPolicy != "Background" && dopts.propagationPolicy != "Foreground") {
    return sendError(responder,
                     ApiError::invalid("", "DeleteOptions", "",
                                       {{"FieldValueNotSupported",
                                         "Unsupported value: \"" + dopts.propagationPolicy +
                                             "\": supported values: \"Foreground\", "
                                             "\"Background\", \"Orphan\"",
                                         "propagationPolicy"}}));
  }
  if (verb == "delete") {
    auto o = objects_.remove(type, route.ns, route.name, dopts);
    if (!o.ok()) return sendError(responder, o.error());
    const json& meta = (**o)["metadata"];
    // registry/generic/registry/store.go finalizeDelete: an object deleted at
    // once is answered with a Success Status naming it, unless its store
    // sets ReturnDeletedObject (custom resources, services, service
    // accounts, jobs) or its deletion
    // is pending (finalizers, a pod's grace period): then the object.
    bool returnsObject =
        type.custom || meta.contains("deletionTimestamp") ||
        (type.group.empty() && (type.resource == "services" || type.resource == "pods" ||
                                type.resource == "serviceaccounts")) ||
        (type.group == "batch" && type.resource == "jobs");
    if (returnsObject) return sendJson(responder, 200, objectOut(**o));
    json details = {{"name", route.name}, {"kind", type.resource}, {"uid", meta.value("uid", "")}};
    if (!type.group.empty()) details["group"] = type.group;
    return sendJson(responder, 200,
                    {{"kind", "Status"},
                     {"apiVersion", "v1"},
                     {"metadata", json::object()},
                     {"status", "Success"},
                     {"details", details}});
  }
  ListOptions lo;
  lo.labelSelector = request.param("labelSelector").value_or("");
  lo.fieldSelector = request.param("fieldSelector").value_or("");
  auto list = objects_.list(type, route.ns, lo);
  if (!list.ok()) return sendError(responder, list.error());
  json deleted = json::array();
  for (const auto& item : (*list)["items"]) {
    auto o = objects_.remove(type, item["metadata"].value("namespace", ""),
                             item["metadata"].value("name", ""), dopts);
    if (o.ok()) deleted.push_back(**o);
  }
  (*list)["items"] = deleted;
  sendJson(responder, 200, *list);
}

void ApiServer::serveWatch(const Request& request, const Route& route, Responder& responder) {
  const ResourceType& type = *route.type;
  std::string fieldSelector = request.param("fieldSelector").value_or("");
  if (!route.name.empty()) {
    fieldSelector +=
        (fieldSelector.empty() ? "" : ",") + std::string("metadata.name=") + route.name;
  }
  auto labels = LabelSelector::parse(request.param("labelSelector").value_or(""));
  if (!labels.ok()) return sendError(responder, labels.error());
  auto fields = parseFieldSelector(type, fieldSelector);
  if (!fields.ok()) return sendError(responder, fields.error());
  std::string rvParam = request.param("resourceVersion").value_or("");
  int64_t fromRv = 0;
  if (!rvParam.empty() && rvParam != "0") {
    try {
      size_t used = 0;
      fromRv = std::stoll(rvParam, &used);
      if (used != rvParam.size()) throw std::invalid_argument("rv");
    } catch (...) {
      return sendError(responder,
                       ApiError::badRequest("invalid resource version \"" + rvParam + "\""));
    }
  }
  auto timeout = options_.defaultWatchTimeout;
  if (auto t = request.param("timeoutSeconds"); t && !t->empty()) {
    try {
      timeout = std::chrono::seconds(std::stoll(*t));
    } catch (...) {
      return sendError(responder, ApiError::badRequest("timeoutSeconds must be an integer"));
    }
  }
  bool bookmarks = boolParam(request, "allowWatchBookmarks");
  bool table = wantsTable(request);
  std::string includeObject = request.param("includeObject").value_or("Metadata");
  std::string scopedNs = type.namespaced ? route.ns : "";

  std::shared_ptr<WatchChannel> channel;
  std::vector<ObjectPtr> initial;
  std::optional<ApiError> gone;
  if (fromRv == 0) {
    auto [list, ch] = objects_.store().listAndWatch(type.storageKey(), scopedNs);
    initial = std::move(list.items);
    channel = ch;
  } else {
    auto w = objects_.store().watch(type.storageKey(), scopedNs, fromRv);
    if (w.ok()) {
      channel = *w;
    } else {
      gone = w.error();
    }
  }
  auto& stream = responder.startStream(200, {{"Content-Type", "application/json"}});
  bool first = true;
  auto emit = [&](const std::string& eventType, const json& object) {
    json o = object;
    if (table && eventType != "ERROR" && eventType != "BOOKMARK") {
      o = toTable(type, {object}, includeObject,
                  {{"resourceVersion", object["metadata"].value("resourceVersion", "")}});
      if (!first) o["columnDefinitions"] = json::array();
      first = false;
    } else if (eventType != "ERROR" && eventType != "BOOKMARK") {
      o["apiVersion"] = type.apiVersion();
    }
    return stream.write(json{{"type", eventType}, {"object", o}}.dump() + "\n");
  };
  if (gone) {
    // The watch cache answers a too-old resourceVersion with an ERROR event
    // carrying 410 Expired on an open stream.
    emit("ERROR", gone->toStatus());
    return;
  }
  for (const auto& o : initial) {
    if (!labels->matches((*o)["metadata"].value("labels", json::object())) ||
        !fields->matches(*o)) {
      continue;
    }
    if (!emit("ADDED", *o)) {
      channel->close();
      return;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto nextBookmark = std::chrono::steady_clock::now() + options_.bookmarkInterval;
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    auto wait = std::min({std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                          std::chrono::milliseconds(500),
                          std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
                              nextBookmark - now, std::chrono::steady_clock::duration(0)))});
    auto e = channel->next(wait);
    if (e) {
      if (auto t = filteredEventType(*e, *labels, *fields)) {
        if (!emit(*t, *e->object)) break;
      }
      continue;
    }
    if (channel->closed()) break;
    if (stream.peerClosed()) break;
    if (bookmarks && std::chrono::steady_clock::now() >= nextBookmark) {
      if (auto rv = channel->bookmarkVersion()) {
        json bm = {{"kind", type.kind},
                   {"apiVersion", type.apiVersion()},
                   {"metadata", {{"resourceVersion", std::to_string(*rv)}}}};
        if (!stream.write(json{{"type", "BOOKMARK"}, {"object", bm}}.dump() + "\n")) break;
      }
      nextBookmark = std::chrono::steady_clock::now() + options_.bookmarkInterval;
    }
  }
  channel->close();
}

void ApiServer::serveReview(const Request& request, const UserInfo& user, const ResourceType& type,
                            Responder& responder) {
  auto parsed = isKubernetesProtobuf(request.header("content-type"))
                    ? decodeKubernetesProtobuf(request.body)
                    : parseBody(request.body.empty() ? "{}" : request.body, false);
  if (!parsed.ok()) return sendError(responder, parsed.error());
  json body = *parsed;
  json out = {{"kind", type.kind},
              {"apiVersion", type.apiVersion()},
              {"metadata", {{"creationTimestamp", nullptr}}}};
  if (body.contains("spec")) out["spec"] = body["spec"];
  const json& spec = body.value("spec", json::object());
  auto accessReview = [&](const UserInfo& who) {
    Attributes a;
    a.user = who;
    if (spec.contains("resourceAttributes")) {
      const json& ra = spec["resourceAttributes"];
      a.verb = ra.value("verb", "");
      a.apiGroup = ra.value("group", "");
      a.resource = ra.value("resource", "");
      a.subresource = ra.value("subresource", "");
      a.namespace_ = ra.value("namespace", "");
      a.name = ra.value("name", "");
    } else {
      const json& nra = spec.value("nonResourceAttributes", json::object());
      a.resourceRequest = false;
      a.verb = nra.value("verb", "");
      a.path = nra.value("path", "");
    }
    std::string reason;
    bool allowed = hasGroup(who, kSystemMasters) || !options_.authorization ||
                   authorizer_.authorize(a, &reason);
    json status = {{"allowed", allowed}};
    if (!reason.empty()) status["reason"] = reason;
    return status;
  };
  if (type.kind == "SelfSubjectReview") {
    out["status"] = {{"userInfo", userInfoJson(user)}};
  } else if (type.kind == "TokenReview") {
    Request fake;
    fake.headers["authorization"] = "Bearer " + spec.value("token", "");
    auto who = authenticate(fake);
    out["status"] = who ? json{{"authenticated", true}, {"user", userInfoJson(*who)}}
                        : json{{"authenticated", false}, {"error", "invalid bearer token"}};
  } else if (type.kind == "SubjectAccessReview" && spec.value("user", "").empty() &&
             spec.value("groups", json::array()).empty()) {
    // authorization/validation ValidateSubjectAccessReviewSpec.
    ApiError e = ApiError::invalid(
        "authorization.k8s.io", "", "",
        {{"FieldValueInvalid",
          "Invalid value: \"\": at least one of user or group must be specified", "spec.user"}});
    e.details.erase("kind");
    return sendError(responder, e);
  } else if (type.kind == "SubjectAccessReview") {
    UserInfo who{spec.value("user", ""), spec.value("groups", std::vector<std::string>{})};
    out["status"] = accessReview(who);
  } else if (type.kind == "SelfSubjectAccessReview") {
    out["status"] = accessReview(user);
  } else if (type.kind == "SelfSubjectRulesReview") {
    std::string ns = spec.value("namespace", "");
    json resourceRules = json::array(), nonResourceRules = json::array();
    if (hasGroup(user, kSystemMasters) || !options_.authorization) {
      resourceRules.push_back({{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}});
      nonResourceRules.push_back({{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}});
    } else {
      for (const auto& rule : authorizer_.rulesFor(user, ns)) {
        if (rule.contains("nonResourceURLs")) {
          nonResourceRules.push_back(rule);
        } else {
          resourceRules.push_back(rule);
        }
      }
    }
    out["status"] = {{"resourceRules", resourceRules},
                     {"nonResourceRules", nonResourceRules},
                     {"incomplete", false}};
  }
  sendJson(responder, 201, out);
}

}  // namespace remedy::sandbox
