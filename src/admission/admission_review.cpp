#include "admission/admission_review.h"

#include "formats/json_depth.h"
#include "kube/base64.h"

namespace remedy::admission {

namespace {

kube::Status badRequest(const std::string& message) {
  return kube::Status::error(400, kube::reason::kBadRequest, message);
}

std::string stringField(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

kube::Result<AdmissionRequest> parseAdmissionReview(const std::string& body) {
  // The body is read before its sender is known: measured before it is parsed.
  if (std::string problem = formats::jsonDepthProblem(body); !problem.empty()) {
    return badRequest("the body is not an AdmissionReview: " + problem);
  }
  json review = json::parse(body, nullptr, false);
  if (review.is_discarded() || !review.is_object()) {
    return badRequest("the body is not a JSON object");
  }
  if (review.value("apiVersion", "") != "admission.k8s.io/v1" ||
      review.value("kind", "") != "AdmissionReview") {
    return badRequest("expected an AdmissionReview of admission.k8s.io/v1, got kind \"" +
                      stringField(review, "kind") + "\" of \"" + stringField(review, "apiVersion") +
                      "\"");
  }
  auto r = review.find("request");
  if (r == review.end() || !r->is_object()) return badRequest("request: required");
  AdmissionRequest out;
  out.uid = stringField(*r, "uid");
  if (out.uid.empty()) return badRequest("request.uid: required");
  json kind = r->value("kind", json::object());
  out.group = stringField(kind, "group");
  out.version = stringField(kind, "version");
  out.kind = stringField(kind, "kind");
  out.resource = stringField(r->value("resource", json::object()), "resource");
  out.subResource = stringField(*r, "subResource");
  out.name = stringField(*r, "name");
  out.namespace_ = stringField(*r, "namespace");
  out.operation = stringField(*r, "operation");
  if (out.operation.empty()) return badRequest("request.operation: required");
  json user = r->value("userInfo", json::object());
  if (!user.is_object()) return badRequest("request.userInfo: must be an object");
  out.userInfo.username = stringField(user, "username");
  out.userInfo.uid = stringField(user, "uid");
  for (const auto& g : user.value("groups", json::array())) {
    if (!g.is_string()) return badRequest("request.userInfo.groups: must be strings");
    out.userInfo.groups.push_back(g.get<std::string>());
  }
  if (user.contains("extra") && user["extra"].is_object()) out.userInfo.extra = user["extra"];
  out.object = r->value("object", json());
  out.oldObject = r->value("oldObject", json());
  if (!out.object.is_null() && !out.object.is_object()) {
    return badRequest("request.object: must be an object");
  }
  if (!out.oldObject.is_null() && !out.oldObject.is_object()) {
    return badRequest("request.oldObject: must be an object");
  }
  auto dryRun = r->find("dryRun");
  out.dryRun = dryRun != r->end() && dryRun->is_boolean() && dryRun->get<bool>();
  return out;
}

AdmissionResponse AdmissionResponse::deny(int code, const std::string& reason,
                                          const std::string& message) {
  AdmissionResponse r;
  r.allowed = false;
  r.status = {{"metadata", json::object()},
              {"status", "Failure"},
              {"message", message},
              {"reason", reason},
              {"code", code}};
  return r;
}

AdmissionResponse AdmissionResponse::invalid(const std::string& group, const std::string& kind,
                                             const std::string& name,
                                             const std::vector<kube::StatusCause>& causes) {
  // apierrors.NewInvalid: `Kind.group "name" is invalid: [a, b]` with one
  // cause per field; a single error is not bracketed.
  std::string qualified = group.empty() ? kind : kind + "." + group;
  std::string list;
  for (size_t i = 0; i < causes.size(); ++i) {
    list += (i ? ", " : "") + causes[i].field + ": " + causes[i].message;
  }
  if (causes.size() > 1) list = "[" + list + "]";
  AdmissionResponse r =
      deny(422, kube::reason::kInvalid, qualified + " \"" + name + "\" is invalid: " + list);
  json details = {{"name", name}, {"group", group}, {"kind", kind}, {"causes", json::array()}};
  for (const auto& c : causes) {
    details["causes"].push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  r.status["details"] = details;
  return r;
}

kube::StatusCause fieldForbidden(const std::string& field, const std::string& detail) {
  return {"FieldValueForbidden", "Forbidden: " + detail, field};
}

kube::StatusCause fieldRequired(const std::string& field, const std::string& detail) {
  return {"FieldValueRequired", "Required value" + (detail.empty() ? "" : ": " + detail), field};
}

kube::StatusCause fieldInvalid(const std::string& field, const json& value,
                               const std::string& detail) {
  return {"FieldValueInvalid", "Invalid value: " + value.dump() + ": " + detail, field};
}

kube::StatusCause fieldNotFound(const std::string& field, const json& value) {
  return {"FieldValueNotFound", "Not found: " + value.dump(), field};
}

json admissionReviewResponse(const std::string& uid, const AdmissionResponse& response) {
  json r = {{"uid", uid}, {"allowed", response.allowed}};
  if (!response.allowed && !response.status.is_null()) r["status"] = response.status;
  if (response.allowed && !response.patch.empty()) {
    r["patchType"] = "JSONPatch";
    r["patch"] = kube::encodeBase64(response.patch.dump());
  }
  if (!response.warnings.empty()) r["warnings"] = response.warnings;
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", r}};
}

std::string escapeJsonPointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace remedy::admission
