#include "api/runbook_policy.h"

#include <algorithm>

namespace remedy::api {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string kindText(const std::string& group, const std::string& kind) {
  return group.empty() ? kind : kind + "." + group;
}

}  // namespace

std::string groupOf(const std::string& apiVersion) {
  size_t slash = apiVersion.find('/');
  return slash == std::string::npos ? "" : apiVersion.substr(0, slash);
}

ReachDecision reachDecision(const Reach& reach, const std::vector<RunbookPolicy>& policies) {
  ReachDecision out;
  if (reach.targetNamespace == reach.runbookNamespace) {
    out.allowed = true;
    return out;
  }
  if (!contains(reach.allowedNamespaces, reach.targetNamespace)) {
    out.reason = "namespace " + reach.targetNamespace + " is neither the Runbook's namespace (" +
                 reach.runbookNamespace + ") nor in spec.guardrails.allowedNamespaces";
    return out;
  }
  for (const RunbookPolicy& policy : policies) {
    if (!policy.spec) continue;
    const RunbookPolicySpec& spec = *policy.spec;
    if (!contains(spec.runbookNamespaces.value_or(std::vector<std::string>{}),
                  reach.runbookNamespace)) {
      continue;
    }
    for (const PolicyTarget& target : spec.targets.value_or(std::vector<PolicyTarget>{})) {
      if (!contains(target.namespaces.value_or(std::vector<std::string>{}),
                    reach.targetNamespace)) {
        continue;
      }
      for (const GroupKind& gk : target.kinds.value_or(std::vector<GroupKind>{})) {
        if (gk.group.value_or("") == reach.group && gk.kind.value_or("") == reach.kind) {
          out.allowed = true;
          out.grantedBy =
              policy.metadata && policy.metadata->name ? *policy.metadata->name : std::string();
          return out;
        }
      }
    }
  }
  out.reason = "no RunbookPolicy lets Runbooks of namespace " + reach.runbookNamespace +
               " act on " + kindText(reach.group, reach.kind) + " in namespace " +
               reach.targetNamespace;
  return out;
}

}  // namespace remedy::api
