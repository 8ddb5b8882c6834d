// The RunbookPolicy kind (cluster-scoped, owned by administrators): where
// Runbooks of some namespaces may act beyond their own namespace, and on
// which kinds. Field meanings are documented in
// crds/remedy.dev_runbookpolicies.yaml (`kubectl explain runbookpolicy`).
//
// The rule every target of every step obeys (reachDecision):
// - its own namespace: the Runbook's namespace is always reachable (the
//   ServiceAccount's RBAC there still applies);
// - any other namespace T must be listed in the Runbook's
//   spec.guardrails.allowedNamespaces (the author's narrowing) AND granted
//   by a RunbookPolicy naming the Runbook's namespace in runbookNamespaces
//   with a target naming T in namespaces and the target's group and kind in
//   kinds (the administrator's grant) AND, at run time, allowed by RBAC for
//   the ServiceAccount the Runbook acts as.
// So a Runbook author cannot widen their reach, and an administrator's grant
// alone acts on nothing until a Runbook asks for it.
#pragma once

#include "api/common_types.h"
#include "api/json_fields.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

// A kind of an API group ("" for the core group), as Argo CD's
// AppProject resource lists name them.
struct GroupKind {
  std::optional<std::string> group;
  std::optional<std::string> kind;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("group", s.group);
    v("kind", s.kind);
  }
};

struct PolicyTarget {
  std::optional<std::vector<std::string>> namespaces;
  std::optional<std::vector<GroupKind>> kinds;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("namespaces", s.namespaces);
    v("kinds", s.kinds);
  }
};

struct RunbookPolicySpec {
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> runbookNamespaces;
  std::optional<std::vector<PolicyTarget>> targets;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("description", s.description);
    v("runbookNamespaces", s.runbookNamespaces);
    v("targets", s.targets);
  }
};

struct RunbookPolicyStatus {
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S&, V&) {}
};

struct RunbookPolicy : KubeObject<RunbookPolicy, RunbookPolicySpec, RunbookPolicyStatus> {};

// The API group of an apiVersion: "apps" of "apps/v1", "" of "v1".
std::string groupOf(const std::string& apiVersion);

// What a step wants to reach.
struct Reach {
  std::string runbookNamespace;
  // spec.guardrails.allowedNamespaces of the Runbook (empty: none).
  std::vector<std::string> allowedNamespaces;
  std::string group;  // "" for the core group
  std::string kind;
  std::string targetNamespace;
};

struct ReachDecision {
  bool allowed = false;
  // Why not: names the namespaces and the kind, never anything read from
  // the target. Empty when allowed.
  std::string reason;
  // The policy that granted it ("" for the Runbook's own namespace).
  std::string grantedBy;
};

ReachDecision reachDecision(const Reach& reach, const std::vector<RunbookPolicy>& policies);

}  // namespace remedy::api
