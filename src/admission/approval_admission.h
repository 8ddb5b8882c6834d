// Remedy's admission rules for Approvals and Incidents: who approved (and who
// created an Incident) comes from the API server's authentication, never
// from the object.
//
// Mutating, on CREATE:
// - Approval: must be named (generateName is refused: the seal covers the
//   name). spec.approver and spec.approverGroups become the authenticated
//   user and groups; a request that wrote another name (or other groups) is
//   refused with a field error naming spec.approver (spec.approverGroups).
//   spec.incidentRef.uid is bound to the named Incident's uid (refused when
//   the Incident does not exist, or when the uid names an earlier Incident
//   of that name). Then the seal (seal.h). A warning tells the user when no
//   step of the Incident is waiting for approval.
// - Incident: remedy.dev/created-by (and -groups) become the authenticated
//   user and groups, sealed; whatever the request wrote there is replaced.
//   An Incident created with generateName gets no creator (its name, which
//   the seal covers, is not known yet).
//
// Validating:
// - Approval CREATE: the seal verifies and names the requesting user, so a
//   later mutation, or a request the mutating webhook never saw, is refused.
// - Approval UPDATE: spec and the seal are immutable.
// - Incident UPDATE: the creator annotations are immutable.
#pragma once

#include "admission/admission_review.h"
#include "admission/seal.h"
#include "kube/clock.h"
#include "kube/status.h"

#include <functional>
#include <string>

namespace remedy::admission {

class ApprovalAdmission {
 public:
  // Reads an Incident from the API server (a GET: every replica serves the
  // webhook, only the leader keeps caches).
  using IncidentGetter =
      std::function<kube::Result<json>(const std::string& ns, const std::string& name)>;

  ApprovalAdmission(const Sealer& sealer, IncidentGetter getIncident, const kube::Clock& clock)
      : sealer_(sealer), getIncident_(std::move(getIncident)), clock_(clock) {}

  AdmissionResponse mutate(const AdmissionRequest& request) const;
  AdmissionResponse validate(const AdmissionRequest& request) const;

 private:
  AdmissionResponse mutateApproval(const AdmissionRequest& request) const;
  AdmissionResponse mutateIncident(const AdmissionRequest& request) const;
  AdmissionResponse validateApprovalCreate(const AdmissionRequest& request) const;
  AdmissionResponse validateApprovalUpdate(const AdmissionRequest& request) const;
  AdmissionResponse validateIncidentUpdate(const AdmissionRequest& request) const;

  const Sealer& sealer_;
  IncidentGetter getIncident_;
  const kube::Clock& clock_;
};

}  // namespace remedy::admission
