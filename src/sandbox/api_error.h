// Errors of the Kubernetes API as values: each becomes a metav1.Status with the
// reason, code and message shape the real API server uses, so clients branch
// on reason and code exactly as they would against a cluster.
#pragma once

#include "formats/result.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::sandbox {

using json = nlohmann::json;

// One entry of metav1.StatusDetails.causes.
struct StatusCause {
  std::string reason;  // "FieldValueInvalid", "FieldValueRequired", ...
  std::string message;
  std::string field;  // "spec.replicas"
};

struct ApiError {
  int code = 500;
  std::string reason;  // metav1.StatusReason: "NotFound", "Conflict", ...
  std::string message;
  // metav1.StatusDetails; null when the real server sends none.
  json details;
  // Extra response headers, e.g. Retry-After on 429.
  std::vector<std::pair<std::string, std::string>> headers;

  json toStatus() const;

  // qualifiedResource is "deployments.apps" or "pods" (core group).
  static ApiError notFound(const std::string& group, const std::string& resource,
                           const std::string& name);
  static ApiError alreadyExists(const std::string& group, const std::string& resource,
                                const std::string& name);
  static ApiError conflict(const std::string& group, const std::string& resource,
                           const std::string& name, const std::string& detail);
  // 422: `Kind.group "name" is invalid: <causes joined>`.
  static ApiError invalid(const std::string& group, const std::string& kind,
                          const std::string& name, std::vector<StatusCause> causes);
  static ApiError badRequest(const std::string& message);
  static ApiError methodNotAllowed(const std::string& message);
  static ApiError unsupportedMediaType(const std::string& contentType);
  static ApiError notAcceptable(const std::string& message);
  static ApiError gone(const std::string& message);  // reason Expired
  static ApiError tooManyRequests(const std::string& message, int retryAfterSeconds);
  static ApiError forbidden(const std::string& user, const std::string& verb,
                            const std::string& group, const std::string& resource,
                            const std::string& subresource, const std::string& namespace_,
                            const std::string& name);
  static ApiError unauthorized();
  static ApiError internal(const std::string& message);
  static ApiError serviceUnavailable(const std::string& message);
  static ApiError requestEntityTooLarge(const std::string& message);
  // A Status for any code, used by fault injection.
  static ApiError fromCode(int code, const std::string& message);
};

// A value or an ApiError (formats/result.h).
template <typename T>
using Result = formats::Result<T, ApiError>;

// "deployments.apps", or "pods" for the core group.
std::string qualifiedResource(const std::string& group, const std::string& resource);

}  // namespace remedy::sandbox
