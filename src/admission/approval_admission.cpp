#include "admission/approval_admission.h"

namespace remedy::admission {

namespace {

constexpr const char* kGroup = "remedy.dev";

bool isApprovals(const AdmissionRequest& r) {
  return r.group == kGroup && r.resource == "approvals" && r.subResource.empty();
}
bool isIncidents(const AdmissionRequest& r) {
  return r.group == kGroup && r.resource == "incidents" && r.subResource.empty();
}

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

json objectAt(const json& object, const char* key) {
  if (!object.is_object()) return json::object();
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : json::object();
}

std::string annotationPath(const char* key) {
  return "metadata.annotations[" + std::string(key) + "]";
}

std::string jsonQuoted(const std::string& s) { return json(s).dump(); }

// A step of the Incident that waits for approval now: `step`, or any when
// `step` is empty.
bool waitsForApproval(const json& incident, const std::string& step) {
  for (const auto& st : objectAt(incident, "status").value("steps", json::array())) {
    if (text(st, "phase") != "AwaitingApproval") continue;
    if (step.empty() || text(st, "name") == step) return true;
  }
  return false;
}

}  // namespace

AdmissionResponse ApprovalAdmission::mutate(const AdmissionRequest& request) const {
  if (request.operation != "CREATE") return AdmissionResponse::allow();
  if (isApprovals(request)) return mutateApproval(request);
  if (isIncidents(request)) return mutateIncident(request);
  return AdmissionResponse::allow();
}

AdmissionResponse ApprovalAdmission::validate(const AdmissionRequest& request) const {
  if (isApprovals(request) && request.operation == "CREATE") {
    return validateApprovalCreate(request);
  }
  if (isApprovals(request) && request.operation == "UPDATE") {
    return validateApprovalUpdate(request);
  }
  if (isIncidents(request) && request.operation == "UPDATE") {
    return validateIncidentUpdate(request);
  }
  return AdmissionResponse::allow();
}

AdmissionResponse ApprovalAdmission::mutateApproval(const AdmissionRequest& request) const {
  const json& object = request.object;
  json meta = objectAt(object, "metadata");
  std::string name = text(meta, "name");
  if (name.empty()) {
    return AdmissionResponse::invalid(
        kGroup, "Approval", "",
        {fieldRequired("metadata.name",
                       "an Approval needs a name: generateName is not supported, because the "
                       "seal that proves who approved covers the name")});
  }
  const UserInfo& user = request.userInfo;
  if (user.username.empty()) {
    return AdmissionResponse::deny(403, kube::reason::kForbidden,
                                   "the API server sent no authenticated user for this request");
  }
  json spec = objectAt(object, "spec");
  std::vector<kube::StatusCause> causes;
  std::string written = text(spec, "approver");
  if (!written.empty() && written != user.username) {
    causes.push_back(fieldForbidden(
        "spec.approver", "is " + jsonQuoted(written) + ", but the API server authenticated this " +
                             "request as " + jsonQuoted(user.username) +
                             ": an Approval is made by the user who creates it (leave it empty, "
                             "or write your own user name)"));
  }
  json groups = json(user.groups);
  if (spec.contains("approverGroups") && !spec["approverGroups"].empty() &&
      spec["approverGroups"] != groups) {
    causes.push_back(fieldForbidden("spec.approverGroups",
                                    "must be empty or exactly the groups the API server "
                                    "authenticated this request with, " +
                                        groups.dump()));
  }
  json ref = objectAt(spec, "incidentRef");
  std::string incidentName = text(ref, "name");
  json incident;
  if (incidentName.empty()) {
    causes.push_back(fieldRequired("spec.incidentRef.name", ""));
  } else {
    auto got = getIncident_(request.namespace_, incidentName);
    if (got.ok()) {
      incident = std::move(got.value());
      std::string uid = text(objectAt(incident, "metadata"), "uid");
      std::string givenUid = text(ref, "uid");
      if (ref.contains("uid") && givenUid != uid) {
        causes.push_back(fieldInvalid("spec.incidentRef.uid", givenUid,
                                      "Incident " + incidentName + " has uid " + uid +
                                          ": this Approval was written for an earlier Incident "
                                          "of that name"));
      }
      ref["uid"] = uid;
    } else if (kube::isNotFound(got.status())) {
      causes.push_back(fieldNotFound("spec.incidentRef.name", incidentName));
    } else {
      return AdmissionResponse::deny(503, kube::reason::kServiceUnavailable,
                                     "cannot read Incident " + request.namespace_ + "/" +
                                         incidentName +
                                         " to bind the Approval to it: " + got.status().message());
    }
  }
  if (!causes.empty()) return AdmissionResponse::invalid(kGroup, "Approval", name, causes);

  spec["incidentRef"] = ref;
  spec["approver"] = user.username;
  spec["approverGroups"] = groups;
  json sealed = object;
  sealed["spec"] = spec;
  json annotations = objectAt(meta, "annotations");
  annotations[kApprovalSealAnnotation] = sealer_.sealApproval(sealed, clock_.wallNow());

  AdmissionResponse response;
  response.patch =
      json::array({{{"op", "add"}, {"path", "/spec"}, {"value", spec}},
                   {{"op", "add"}, {"path", "/metadata/annotations"}, {"value", annotations}}});
  std::string step = text(spec, "step");
  if (!waitsForApproval(incident, step)) {
    std::string phase = text(objectAt(incident, "status"), "phase");
    response.warnings.push_back(
        "Incident " + incidentName + " has no step " +
        (step.empty() ? std::string("") : jsonQuoted(step) + " ") +
        "waiting for approval now (phase " + (phase.empty() ? "Pending" : phase) +
        "): this Approval will be recorded, and will count only for a step that starts waiting "
        "after it was made");
  }
  return response;
}

AdmissionResponse ApprovalAdmission::mutateIncident(const AdmissionRequest& request) const {
  const json& object = request.object;
  json meta = objectAt(object, "metadata");
  json annotations = objectAt(meta, "annotations");
  for (const char* key :
       {kCreatedByAnnotation, kCreatedByGroupsAnnotation, kCreatorSealAnnotation}) {
    annotations.erase(key);
  }
  AdmissionResponse response;
  std::string name = text(meta, "name");
  if (name.empty()) {
    response.warnings.push_back(
        "this Incident is created with generateName, so Remedy cannot seal who created it "
        "and cannot keep its creator from being its only approver; give it a name");
  } else if (!request.userInfo.username.empty()) {
    annotations[kCreatedByAnnotation] = request.userInfo.username;
    annotations[kCreatedByGroupsAnnotation] = json(request.userInfo.groups).dump();
    annotations[kCreatorSealAnnotation] =
        sealer_.sealCreator(request.namespace_, name, request.userInfo.username,
                            request.userInfo.groups, clock_.wallNow());
  }
  if (annotations == objectAt(meta, "annotations")) return response;
  response.patch =
      json::array({{{"op", "add"}, {"path", "/metadata/annotations"}, {"value", annotations}}});
  return response;
}

AdmissionResponse ApprovalAdmission::validateApprovalCreate(const AdmissionRequest& request) const {
  std::string name = text(objectAt(request.object, "metadata"), "name");
  SealCheck check = sealer_.verifyApproval(request.object);
  if (!check.valid) {
    return AdmissionResponse::invalid(
        kGroup, "Approval", name,
        {fieldForbidden(annotationPath(kApprovalSealAnnotation),
                        check.problem + ": the Approval must pass Remedy's mutating admission "
                                        "webhook unchanged")});
  }
  std::string approver = text(objectAt(request.object, "spec"), "approver");
  if (approver != request.userInfo.username) {
    return AdmissionResponse::invalid(
        kGroup, "Approval", name,
        {fieldForbidden("spec.approver", "is " + jsonQuoted(approver) +
                                             ", but the API server authenticated this request "
                                             "as " +
                                             jsonQuoted(request.userInfo.username))});
  }
  return AdmissionResponse::allow();
}

AdmissionResponse ApprovalAdmission::validateApprovalUpdate(const AdmissionRequest& request) const {
  std::string name = text(objectAt(request.object, "metadata"), "name");
  std::vector<kube::StatusCause> causes;
  if (objectAt(request.object, "spec") != objectAt(request.oldObject, "spec")) {
    causes.push_back(
        fieldForbidden("spec",
                       "an Approval's decision cannot be changed after it was made; create another "
                       "Approval instead"));
  }
  auto seal = [](const json& o) {
    return text(objectAt(objectAt(o, "metadata"), "annotations"), kApprovalSealAnnotation);
  };
  if (seal(request.object) != seal(request.oldObject)) {
    causes.push_back(fieldForbidden(annotationPath(kApprovalSealAnnotation),
                                    "is set by Remedy when the Approval is created"));
  }
  if (causes.empty()) return AdmissionResponse::allow();
  return AdmissionResponse::invalid(kGroup, "Approval", name, causes);
}

AdmissionResponse ApprovalAdmission::validateIncidentUpdate(const AdmissionRequest& request) const {
  auto annotations = [](const json& o) { return objectAt(objectAt(o, "metadata"), "annotations"); };
  json now = annotations(request.object);
  json before = annotations(request.oldObject);
  std::vector<kube::StatusCause> causes;
  for (const char* key :
       {kCreatedByAnnotation, kCreatedByGroupsAnnotation, kCreatorSealAnnotation}) {
    if (text(now, key) != text(before, key) || now.contains(key) != before.contains(key)) {
      causes.push_back(fieldForbidden(
          annotationPath(key), "is set by Remedy when the Incident is created, and cannot change"));
    }
  }
  if (causes.empty()) return AdmissionResponse::allow();
  return AdmissionResponse::invalid(kGroup, "Incident",
                                    text(objectAt(request.object, "metadata"), "name"), causes);
}

}  // namespace remedy::admission
