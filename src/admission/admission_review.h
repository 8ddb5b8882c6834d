// AdmissionReview v1 (k8s.io/api/admission/v1) as a webhook reads and
// answers it: the request kube-apiserver sends (who asks, what, the object
// and the old object) and the response (allowed, a denial with a
// metav1.Status, a JSONPatch, warnings).
//
// kube-apiserver checks the answer (k8s.io/apiserver
// pkg/admission/plugin/webhook/request/admissionreview.go
// VerifyAdmissionResponse): kind and apiVersion AdmissionReview
// admission.k8s.io/v1, response.uid equal to the request's, a patch only
// from a mutating webhook and only with patchType JSONPatch. A denial's
// status reaches the client as "admission webhook "NAME" denied the
// request: MESSAGE" with its code, reason and details (causes) unchanged
// (webhook/errors/statuserror.go ToStatusErr), so a field error names its
// field to kubectl.
#pragma once

#include "kube/status.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::admission {

using json = nlohmann::json;

// authentication/v1 UserInfo: who the API server authenticated.
struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  json extra = json::object();
};

struct AdmissionRequest {
  std::string uid;
  std::string group, version, kind;  // request.kind
  std::string resource;              // request.resource.resource
  std::string subResource;           // "" or "status", ...
  std::string name;                  // "" for a create with generateName
  std::string namespace_;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  UserInfo userInfo;
  json object;     // null for DELETE
  json oldObject;  // null for CREATE
  bool dryRun = false;
};

// Parses an AdmissionReview v1 request body. Bad input is an error naming
// what is wrong (the server answers 400 with it).
kube::Result<AdmissionRequest> parseAdmissionReview(const std::string& body);

struct AdmissionResponse {
  bool allowed = true;
  // For a denial: a metav1.Status (code, reason, message, details).
  json status;
  // A JSONPatch (RFC 6902) array; empty: no change.
  json patch = json::array();
  std::vector<std::string> warnings;

  static AdmissionResponse allow() { return {}; }
  // A denial with `code` (403 Forbidden, 422 Invalid, 503 ...), `reason`
  // and `message`.
  static AdmissionResponse deny(int code, const std::string& reason, const std::string& message);
  // 422 Invalid naming fields, as apierrors.NewInvalid words it:
  // `KIND.GROUP "NAME" is invalid: FIELD: TYPE: DETAIL`, with one cause per
  // field.
  static AdmissionResponse invalid(const std::string& group, const std::string& kind,
                                   const std::string& name,
                                   const std::vector<kube::StatusCause>& causes);
};

// A field error as field.ErrorList words it: {reason, "TYPE: DETAIL", field}.
kube::StatusCause fieldForbidden(const std::string& field, const std::string& detail);
kube::StatusCause fieldRequired(const std::string& field, const std::string& detail);
kube::StatusCause fieldInvalid(const std::string& field, const json& value,
                               const std::string& detail);
kube::StatusCause fieldNotFound(const std::string& field, const json& value);

// The AdmissionReview v1 JSON that answers request `uid`.
json admissionReviewResponse(const std::string& uid, const AdmissionResponse& response);

// RFC 6901: `~` and `/` in a key of a JSON pointer.
std::string escapeJsonPointer(const std::string& key);

}  // namespace remedy::admission
