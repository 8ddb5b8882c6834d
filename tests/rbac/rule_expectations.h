// Which permissions of the chart's rule files the combined scenario cannot
// prove necessary, and why. Every other permission must be necessary: the
// minimality tests take each away in turn and expect the scenario to fail.
//
// Granularity: one permission is one (apiGroup, resource, verb) of a rule
// file, the smallest thing a PolicyRule grants. A whole PolicyRule would be
// coarser than least privilege needs: the jobs rule is necessary as a whole
// (runJob creates and reads Jobs) while three of its five verbs are never
// used.
#pragma once

#include "chart_rules.h"

#include <map>
#include <string>
#include <vector>

namespace remedy::testing {

// Not needed by the sandbox, needed by real API servers: kept. On
// kube-apiserver v1.33 (WatchNamespaces/PermissionRemovedFromRolesTest) the
// scenario fails without each, as the server answers:
// - incidents/finalizers update: runJob's create is refused, 'jobs.batch
//   "..." is forbidden: cannot set blockOwnerDeletion if an ownerReference
//   refers to a resource you can't set finalizers on';
// - configmaps / networkpolicies create: apply's server-side apply PATCH of
//   a missing object is refused, 'configmaps "remedy-note" is forbidden:
//   User "system:serviceaccount:..." cannot create resource "configmaps"'.
inline const std::map<std::string, std::string>& realClusterPermissions() {
  static const std::map<std::string, std::string> table = {
      {"rbac-rules.yaml: remedy.dev/incidents/finalizers update",
       "runJob creates its Job with an ownerReference to the Incident with "
       "blockOwnerDeletion: true; the OwnerReferencesPermissionEnforcement admission plugin "
       "(OpenShift, hardened clusters) then requires update on incidents/finalizers "
       "(plugin/pkg/admission/gc). The sandbox has no admission plugins"},
      {"rbac-rules.yaml: core/configmaps create",
       "apply creates a missing ConfigMap with a server-side apply PATCH; kube-apiserver then "
       "also authorizes verb create (apiserver handlers/patch.go createAuthorizerAttributes). "
       "The sandbox authorizes only patch"},
      {"rbac-rules.yaml: networking.k8s.io/networkpolicies create",
       "apply creates a missing NetworkPolicy with a server-side apply PATCH; kube-apiserver "
       "then also authorizes verb create (apiserver handlers/patch.go). The sandbox authorizes "
       "only patch"},
  };
  return table;
}

// Granted twice in cluster-wide mode (the ClusterRole's ConfigMap rule covers
// remedy-system too): proven necessary in watchNamespaces mode instead (on
// the sandbox by WatchNamespacesTest, on kube-apiserver with the others).
inline const std::map<std::string, std::string>& watchNamespacesOnlyPermissions() {
  static const std::map<std::string, std::string> table = {
      {"pause-rules.yaml: core/configmaps get",
       "the engine GETs remedy-pause before every step; in cluster-wide mode the ClusterRole's "
       "configmaps get (for patch/apply) grants it as well"},
  };
  return table;
}

// The permissions each minimality case takes away in cluster-wide mode on
// the sandbox: every permission of the rule files but those above. (On
// kube-apiserver every permission of the rule files, in watchNamespaces
// mode: chartPermissions().)
inline std::vector<Permission> necessaryPermissions() {
  std::vector<Permission> out;
  for (const auto& p : chartPermissions()) {
    if (realClusterPermissions().count(p.text()) ||
        watchNamespacesOnlyPermissions().count(p.text())) {
      continue;
    }
    out.push_back(p);
  }
  return out;
}

// The permissions named in `table`, as the rule files spell them.
inline std::vector<Permission> permissionsNamedIn(const std::map<std::string, std::string>& table) {
  std::vector<Permission> out;
  for (const auto& p : chartPermissions()) {
    if (table.count(p.text())) out.push_back(p);
  }
  return out;
}

}  // namespace remedy::testing
