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
// scenario fails without each, as the server answers: apply's server-side
// apply PATCH of a missing object is refused, 'configmaps "remedy-note" is
// forbidden: User "system:serviceaccount:..." cannot create resource
// "configmaps"'.
inline const std::map<std::string, std::string>& realClusterPermissions() {
  static const std::map<std::string, std::string> table = {
      {"tenant-rules.yaml: core/configmaps create",
       "apply creates a missing ConfigMap with a server-side apply PATCH; kube-apiserver then "
       "also authorizes verb create (apiserver handlers/patch.go createAuthorizerAttributes). "
       "The sandbox authorizes only patch"},
      {"tenant-rules.yaml: networking.k8s.io/networkpolicies create",
       "apply creates a missing NetworkPolicy with a server-side apply PATCH; kube-apiserver "
       "then also authorizes verb create (apiserver handlers/patch.go). The sandbox authorizes "
       "only patch"},
  };
  return table;
}

// Granted in admission.certificate.mode "secret" only, which the scenario
// does not run (its webhooks' certificate comes from files: ChartValues
// admissionSecretMode), so no minimality case takes them away; what uses
// each, and the test that shows it in use under exactly the chart's rules.
inline const std::map<std::string, std::string>& secretModePermissions() {
  static const std::map<std::string, std::string> table = {
      {"approval-rules.yaml: admissionregistration.k8s.io/mutatingwebhookconfigurations get",
       "the leader reads the configuration to write the CA into its caBundle; "
       "e2e/helm_install_test.sh: the leader wrote it, no request forbidden"},
      {"approval-rules.yaml: admissionregistration.k8s.io/mutatingwebhookconfigurations update",
       "the leader writes the caBundle (a PUT with the read resourceVersion); "
       "e2e/helm_install_test.sh"},
      {"approval-rules.yaml: admissionregistration.k8s.io/validatingwebhookconfigurations get",
       "as for the mutating configuration; e2e/helm_install_test.sh"},
      {"approval-rules.yaml: admissionregistration.k8s.io/validatingwebhookconfigurations update",
       "as for the mutating configuration; e2e/helm_install_test.sh"},
      {"admission-secret-rules.yaml: core/secrets create",
       "the first replica creates the certificate Secret; e2e/helm_install_test.sh: the Secret "
       "exists, made by the operator"},
      {"admission-secret-rules.yaml: core/secrets get",
       "every replica reads the certificate Secret at start; e2e/helm_install_test.sh"},
      {"admission-secret-rules.yaml: core/secrets update",
       "a replica renews the serving certificate before it expires; no test runs long enough "
       "to renew under the chart's rules"},
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
    if (realClusterPermissions().count(p.text())) continue;
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
