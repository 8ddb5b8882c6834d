#include "engine/resources.h"

namespace remedy::engine {

kube::Resource runbooks() { return {"remedy.dev", "v1alpha1", "runbooks", "Runbook", true}; }
kube::Resource incidents() { return {"remedy.dev", "v1alpha1", "incidents", "Incident", true}; }
kube::Resource approvals() { return {"remedy.dev", "v1alpha1", "approvals", "Approval", true}; }
kube::Resource runbookPolicies() {
  return {"remedy.dev", "v1alpha1", "runbookpolicies", "RunbookPolicy", false};
}

}  // namespace remedy::engine
