#include "kube/status.h"

namespace remedy::kube {
namespace {

const std::string kEmpty;
const std::vector<StatusCause> kNoCauses;

// apimachinery/pkg/api/errors/errors.go NewGenericServerResponse.
const char* reasonForCode(int code) {
  switch (code) {
    case 400:
      return reason::kBadRequest;
    case 401:
      return reason::kUnauthorized;
    case 403:
      return reason::kForbidden;
    case 404:
      return reason::kNotFound;
    case 405:
      return reason::kMethodNotAllowed;
    case 406:
      return reason::kNotAcceptable;
    case 409:
      return reason::kConflict;
    case 410:
      return reason::kGone;
    case 413:
      return reason::kRequestEntityTooLarge;
    case 415:
      return reason::kUnsupportedMediaType;
    case 422:
      return reason::kInvalid;
    case 429:
      return reason::kTooManyRequests;
    case 500:
      return reason::kInternalError;
    case 503:
      return reason::kServiceUnavailable;
    case 504:
      return reason::kTimeout;
    default:
      return reason::kUnknown;
  }
}

bool is(const Status& s, const char* r, int code) {
  if (s.ok()) return false;
  if (s.reason() == r) return true;
  return (s.reason().empty() || s.reason() == reason::kUnknown) && s.code() == code;
}

}  // namespace

Status Status::error(int code, std::string reason, std::string message,
                     std::vector<StatusCause> causes) {
  Status s;
  s.error_ = Error{code, std::move(reason), std::move(message), std::move(causes), 0};
  return s;
}

Status Status::fromStatusObject(const json& status, int fallbackCode) {
  int code = fallbackCode;
  if (status.contains("code") && status["code"].is_number_integer()) code = status["code"];
  std::string r = status.value("reason", "");
  if (r.empty()) r = reasonForCode(code);
  std::string message = status.value("message", "");
  std::vector<StatusCause> causes;
  int retryAfter = 0;
  if (status.contains("details") && status["details"].is_object()) {
    const json& details = status["details"];
    if (details.contains("causes") && details["causes"].is_array()) {
      for (const json& c : details["causes"]) {
        if (!c.is_object()) continue;
        causes.push_back({c.value("reason", ""), c.value("message", ""), c.value("field", "")});
      }
    }
    if (details.contains("retryAfterSeconds") && details["retryAfterSeconds"].is_number()) {
      retryAfter = details["retryAfterSeconds"];
    }
  }
  Status s = error(code, std::move(r), std::move(message), std::move(causes));
  s.error_->retryAfterSeconds = retryAfter;
  return s;
}

Status Status::fromHttp(int code, const std::string& body, int retryAfterSeconds) {
  json parsed = json::parse(body, nullptr, false);
  Status s;
  if (!parsed.is_discarded() && parsed.is_object() && parsed.value("kind", "") == "Status") {
    s = fromStatusObject(parsed, code);
    // The HTTP code is the truth when the body disagrees (rest/request.go).
    if (s.error_->code == 0) s.error_->code = code;
  } else {
    std::string message = body.size() > 512 ? body.substr(0, 512) + "..." : body;
    if (message.empty()) message = "the server responded with status " + std::to_string(code);
    s = error(code, reasonForCode(code), std::move(message));
  }
  if (retryAfterSeconds > 0) s.error_->retryAfterSeconds = retryAfterSeconds;
  return s;
}

Status Status::connectionFailed(std::string message) {
  return error(0, reason::kConnectionFailed, std::move(message));
}

Status Status::configError(std::string message) {
  return error(0, reason::kConfigError, std::move(message));
}

const std::string& Status::reason() const { return error_ ? error_->reason : kEmpty; }
const std::string& Status::message() const { return error_ ? error_->message : kEmpty; }
const std::vector<StatusCause>& Status::causes() const {
  return error_ ? error_->causes : kNoCauses;
}

std::string Status::toString() const {
  if (!error_) return "OK";
  std::string out = error_->reason;
  if (error_->code != 0) out += " (" + std::to_string(error_->code) + ")";
  out += ": " + error_->message;
  return out;
}

Status Status::withContext(const std::string& context) const {
  if (!error_) return *this;
  Status s = *this;
  s.error_->message = context + ": " + s.error_->message;
  return s;
}

bool isNotFound(const Status& s) { return is(s, reason::kNotFound, 404); }
bool isAlreadyExists(const Status& s) { return is(s, reason::kAlreadyExists, 409); }
bool isConflict(const Status& s) { return is(s, reason::kConflict, 409); }
bool isGone(const Status& s) { return is(s, reason::kGone, 410); }
bool isResourceExpired(const Status& s) { return !s.ok() && s.reason() == reason::kExpired; }
bool isExpired(const Status& s) { return isResourceExpired(s) || isGone(s); }
bool isInvalid(const Status& s) { return is(s, reason::kInvalid, 422); }
bool isBadRequest(const Status& s) { return is(s, reason::kBadRequest, 400); }
bool isUnauthorized(const Status& s) { return is(s, reason::kUnauthorized, 401); }
bool isForbidden(const Status& s) { return is(s, reason::kForbidden, 403); }
bool isMethodNotSupported(const Status& s) { return is(s, reason::kMethodNotAllowed, 405); }
bool isUnsupportedMediaType(const Status& s) { return is(s, reason::kUnsupportedMediaType, 415); }
bool isTooManyRequests(const Status& s) {
  return is(s, reason::kTooManyRequests, 429) || (!s.ok() && s.code() == 429);
}
bool isServerTimeout(const Status& s) { return !s.ok() && s.reason() == reason::kServerTimeout; }
bool isTimeout(const Status& s) { return is(s, reason::kTimeout, 504); }
bool isInternalError(const Status& s) { return is(s, reason::kInternalError, 500); }
bool isServiceUnavailable(const Status& s) { return is(s, reason::kServiceUnavailable, 503); }
bool isConnectionFailed(const Status& s) {
  return !s.ok() && s.reason() == reason::kConnectionFailed;
}
bool isCancelled(const Status& s) { return !s.ok() && s.reason() == reason::kCancelled; }

bool hasStatusCause(const Status& s, const std::string& causeReason) {
  for (const StatusCause& c : s.causes()) {
    if (c.reason == causeReason) return true;
  }
  return false;
}

bool suggestsClientDelay(const Status& s, int* seconds) {
  if (s.ok()) return false;
  if (s.retryAfterSeconds() > 0 &&
      (isServerTimeout(s) || isTooManyRequests(s) || s.code() >= 500)) {
    if (seconds) *seconds = s.retryAfterSeconds();
    return true;
  }
  return false;
}

}  // namespace remedy::kube
