// Failures as values. A Status is either OK or an error that keeps what the
// API server said (metav1.Status: code, reason, message, causes) so callers
// branch on reason and code, never on message text. Transport failures
// (connection refused, TLS, timeout) have code 0 and a reason of our own.
#pragma once

#include "formats/result.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remedy::kube {

using json = nlohmann::json;

// One entry of metav1.StatusDetails.causes.
struct StatusCause {
  std::string reason;  // "FieldValueInvalid", "ResourceVersionTooLarge", ...
  std::string message;
  std::string field;  // "spec.replicas"
};

// metav1.StatusReason values, from k8s.io/apimachinery/pkg/apis/meta/v1/types.go,
// plus the transport reasons of this library (code 0).
namespace reason {
inline constexpr const char* kNotFound = "NotFound";
inline constexpr const char* kAlreadyExists = "AlreadyExists";
inline constexpr const char* kConflict = "Conflict";
inline constexpr const char* kGone = "Gone";
inline constexpr const char* kExpired = "Expired";
inline constexpr const char* kInvalid = "Invalid";
inline constexpr const char* kBadRequest = "BadRequest";
inline constexpr const char* kUnauthorized = "Unauthorized";
inline constexpr const char* kForbidden = "Forbidden";
inline constexpr const char* kMethodNotAllowed = "MethodNotAllowed";
inline constexpr const char* kNotAcceptable = "NotAcceptable";
inline constexpr const char* kUnsupportedMediaType = "UnsupportedMediaType";
inline constexpr const char* kTooManyRequests = "TooManyRequests";
inline constexpr const char* kServerTimeout = "ServerTimeout";
inline constexpr const char* kTimeout = "Timeout";
inline constexpr const char* kInternalError = "InternalError";
inline constexpr const char* kServiceUnavailable = "ServiceUnavailable";
inline constexpr const char* kRequestEntityTooLarge = "RequestEntityTooLarge";
inline constexpr const char* kUnknown = "Unknown";
// Ours: the request never got an HTTP answer.
inline constexpr const char* kConnectionFailed = "ConnectionFailed";
inline constexpr const char* kCancelled = "Cancelled";
// Ours: a configuration or local input problem.
inline constexpr const char* kConfigError = "ConfigError";
inline constexpr const char* kDecodeError = "DecodeError";
}  // namespace reason

class Status {
 public:
  Status() = default;  // OK

  static Status error(int code, std::string reason, std::string message,
                      std::vector<StatusCause> causes = {});
  // The error an HTTP answer means: metav1.Status when the body is one, else
  // a generic error for the code, like apimachinery's NewGenericServerResponse.
  static Status fromHttp(int code, const std::string& body, int retryAfterSeconds = 0);
  // A metav1.Status object (watch ERROR events carry one).
  static Status fromStatusObject(const json& status, int fallbackCode = 500);
  static Status connectionFailed(std::string message);
  static Status configError(std::string message);

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }

  int code() const { return error_ ? error_->code : 0; }
  const std::string& reason() const;
  const std::string& message() const;
  const std::vector<StatusCause>& causes() const;
  // Retry-After seconds the server asked for (0 when none), also read from
  // metav1.StatusDetails.retryAfterSeconds.
  int retryAfterSeconds() const { return error_ ? error_->retryAfterSeconds : 0; }
  // "Conflict (409): message".
  std::string toString() const;
  // Prefixes the message with context: "get pods default/x: ...".
  Status withContext(const std::string& context) const;

 private:
  struct Error {
    int code = 0;
    std::string reason;
    std::string message;
    std::vector<StatusCause> causes;
    int retryAfterSeconds = 0;
  };
  std::optional<Error> error_;
};

// The predicates of k8s.io/apimachinery/pkg/api/errors: by reason first,
// by code when the server gave no reason.
bool isNotFound(const Status& s);
bool isAlreadyExists(const Status& s);
bool isConflict(const Status& s);
bool isGone(const Status& s);
bool isResourceExpired(const Status& s);
// 410 of either kind: what a reflector relists on (reflector.go isExpiredError).
bool isExpired(const Status& s);
bool isInvalid(const Status& s);
bool isBadRequest(const Status& s);
bool isUnauthorized(const Status& s);
bool isForbidden(const Status& s);
bool isMethodNotSupported(const Status& s);
bool isUnsupportedMediaType(const Status& s);
bool isTooManyRequests(const Status& s);
bool isServerTimeout(const Status& s);
bool isTimeout(const Status& s);
bool isInternalError(const Status& s);
bool isServiceUnavailable(const Status& s);
bool isConnectionFailed(const Status& s);
bool isCancelled(const Status& s);
bool hasStatusCause(const Status& s, const std::string& causeReason);
// The server asked the client to wait (errors.SuggestsClientDelay).
bool suggestsClientDelay(const Status& s, int* seconds);

// A value or an error Status (formats/result.h); status() is OK when a
// value is held, so `return r.status();` passes an error on.
template <typename T>
class Result : public formats::Result<T, Status> {
 public:
  using formats::Result<T, Status>::Result;
  Status status() const { return this->ok() ? Status() : this->error(); }
};

}  // namespace remedy::kube
