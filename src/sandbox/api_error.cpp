#include "sandbox/api_error.h"

namespace remedy::sandbox {

std::string qualifiedResource(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

json ApiError::toStatus() const {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = details;
  if (reason.empty()) s.erase("reason");
  return s;
}

namespace {

json detailsFor(const std::string& name, const std::string& group, const std::string& kind) {
  json d = json::object();
  if (!name.empty()) d["name"] = name;
  if (!group.empty()) d["group"] = group;
  d["kind"] = kind;
  return d;
}

ApiError make(int code, std::string reason, std::string message, json details = nullptr) {
  ApiError e;
  e.code = code;
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.details = std::move(details);
  return e;
}

}  // namespace

ApiError ApiError::notFound(const std::string& group, const std::string& resource,
                            const std::string& name) {
  return make(404, "NotFound", qualifiedResource(group, resource) + " \"" + name + "\" not found",
              detailsFor(name, group, resource));
}

ApiError ApiError::alreadyExists(const std::string& group, const std::string& resource,
                                 const std::string& name) {
  return make(409, "AlreadyExists",
              qualifiedResource(group, resource) + " \"" + name + "\" already exists",
              detailsFor(name, group, resource));
}

// k8s.io/apimachinery/pkg/api/errors.NewConflict.
ApiError ApiError::conflict(const std::string& group, const std::string& resource,
                            const std::string& name, const std::string& detail) {
  return make(409, "Conflict",
              "Operation cannot be fulfilled on " + qualifiedResource(group, resource) + " \"" +
                  name + "\": " + detail,
              detailsFor(name, group, resource));
}

// k8s.io/apimachinery/pkg/api/errors.NewInvalid: one cause is inlined, several
// are listed in brackets.
ApiError ApiError::invalid(const std::string& group, const std::string& kind,
                           const std::string& name, std::vector<StatusCause> causes) {
  std::string qualifiedKind = group.empty() ? kind : kind + "." + group;
  std::string joined;
  json jcauses = json::array();
  for (size_t i = 0; i < causes.size(); ++i) {
    const auto& c = causes[i];
    std::string one = c.field.empty() ? c.message : c.field + ": " + c.message;
    joined += (i ? ", " : "") + one;
    jcauses.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  if (causes.size() > 1) joined = "[" + joined + "]";
  json details = detailsFor(name, group, kind);
  details["causes"] = jcauses;
  return make(422, "Invalid", qualifiedKind + " \"" + name + "\" is invalid: " + joined, details);
}

ApiError ApiError::badRequest(const std::string& message) {
  return make(400, "BadRequest", message);
}

ApiError ApiError::methodNotAllowed(const std::string& message) {
  return make(405, "MethodNotAllowed", message);
}

ApiError ApiError::unsupportedMediaType(const std::string& contentType) {
  return make(415, "UnsupportedMediaType",
              "the body of the request was in an unknown format - accepted media types include: "
              "application/json-patch+json, application/merge-patch+json, "
              "application/apply-patch+yaml");
}

ApiError ApiError::notAcceptable(const std::string& message) {
  return make(406, "NotAcceptable", message);
}

ApiError ApiError::gone(const std::string& message) { return make(410, "Expired", message); }

ApiError ApiError::tooManyRequests(const std::string& message, int retryAfterSeconds) {
  ApiError e =
      make(429, "TooManyRequests", message, json{{"retryAfterSeconds", retryAfterSeconds}});
  e.headers.emplace_back("Retry-After", std::to_string(retryAfterSeconds));
  return e;
}

// k8s.io/apiserver/pkg/endpoints/handlers/responsewriters.ForbiddenStatusError.
ApiError ApiError::forbidden(const std::string& user, const std::string& verb,
                             const std::string& group, const std::string& resource,
                             const std::string& subresource, const std::string& namespace_,
                             const std::string& name) {
  std::string res = subresource.empty() ? resource : resource + "/" + subresource;
  std::string subject = qualifiedResource(group, resource);
  if (!name.empty()) subject += " \"" + name + "\"";
  std::string message = subject + " is forbidden: User \"" + user + "\" cannot " + verb +
                        " resource \"" + res + "\" in API group \"" + group + "\"";
  message +=
      namespace_.empty() ? " at the cluster scope" : " in the namespace \"" + namespace_ + "\"";
  return make(403, "Forbidden", message, detailsFor(name, group, resource));
}

ApiError ApiError::unauthorized() { return make(401, "Unauthorized", "Unauthorized"); }

ApiError ApiError::internal(const std::string& message) {
  return make(500, "InternalError", "Internal error occurred: " + message,
              json{{"causes", json::array({{{"message", message}}})}});
}

ApiError ApiError::serviceUnavailable(const std::string& message) {
  return make(503, "ServiceUnavailable", message);
}

ApiError ApiError::requestEntityTooLarge(const std::string& message) {
  return make(413, "RequestEntityTooLarge", message);
}

ApiError ApiError::fromCode(int code, const std::string& message) {
  switch (code) {
    case 400:
      return badRequest(message);
    case 401:
      return unauthorized();
    case 404:
      return make(404, "NotFound", message, json::object());
    case 409:
      return make(409, "Conflict", message);
    case 410:
      return gone(message);
    case 429:
      return tooManyRequests(message, 1);
    case 500:
      return make(500, "InternalError", message);
    case 503:
      return serviceUnavailable(message);
    case 504:
      return make(504, "Timeout", message);
    default:
      return make(code, "", message);
  }
}

}  // namespace remedy::sandbox
