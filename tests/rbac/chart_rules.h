// The chart's RBAC rules as data (charts/remedy/files/*.yaml), selected and
// placed the way charts/remedy/templates/rbac.yaml and _helpers.tpl do, and
// split into single permissions (apiGroup, resource, verb) so a test can take
// one away.
#pragma once

#include "api/yaml_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace remedy::testing {

using json = nlohmann::json;

inline constexpr const char* kOperatorRulesFile = "rbac-rules.yaml";
inline constexpr const char* kClusterRulesFile = "cluster-rules.yaml";
inline constexpr const char* kTenantRulesFile = "tenant-rules.yaml";
inline constexpr const char* kLeaderElectionRulesFile = "leader-election-rules.yaml";
inline constexpr const char* kPauseRulesFile = "pause-rules.yaml";
inline constexpr const char* kApprovalRulesFile = "approval-rules.yaml";
inline constexpr const char* kAdmissionSecretRulesFile = "admission-secret-rules.yaml";

// A rule file of the chart as a JSON array of rbac/v1 PolicyRules.
inline json readRuleFile(const std::string& file) {
  std::string path = std::string(REMEDY_SOURCE_DIR) + "/charts/remedy/files/" + file;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = api::yamlToJson(text.str());
  if (!in || !parsed.ok() || !parsed->is_array()) {
    ADD_FAILURE() << path << ": not a YAML list of PolicyRules"
                  << (parsed.ok() ? "" : ": " + parsed.error());
    return json::array();
  }
  return *parsed;
}

// The values that decide which rules the chart grants and where.
struct ChartValues {
  bool readSecrets = true;  // actions.readSecrets (the runner Role)
  bool runJob = true;       // actions.runJob (the runner Role)
  // tenancy.serviceAccounts: the names the operator may impersonate.
  std::vector<std::string> serviceAccounts = {"remedy-runner"};
  std::vector<std::string> patchKinds = {"Deployment", "StatefulSet", "ConfigMap"};
  std::vector<std::string> applyKinds = {"NetworkPolicy", "ConfigMap"};
  // watchNamespaces: empty grants the operator rules with a ClusterRole,
  // otherwise with one Role per namespace.
  std::vector<std::string> watchNamespaces;
  // leaderElection.enabled: decides the operator's flags only; the Leases
  // rule is granted either way (the engine holds a Lease per target).
  bool leaderElection = true;
  // admission.enabled with admission.certificate.mode "secret": the operator
  // keeps the webhooks' certificate in a Secret of the release namespace and
  // writes its CA into the two webhook configurations, so the chart grants
  // the rule of files/approval-rules.yaml on those configurations (by name)
  // and the Role of files/admission-secret-rules.yaml. Off in the scenario:
  // it serves the admission webhooks with a certificate from files and the
  // test registers them with their caBundle, so nothing in it would use
  // those rules, and a minimality case could not show them necessary. That
  // is the chart's certificate mode certManager (cert-manager keeps the
  // Secret and injects the caBundle), where the chart grants neither; the
  // Secret mode's rules are shown in use by e2e/helm_install_test.sh
  // (tests/README.md).
  bool admissionSecretMode = false;
  std::string admissionConfigurationName;  // remedy.admissionConfigurationName
  std::string admissionCertSecretName;     // remedy.admissionCertSecretName
};

// _helpers.tpl "remedy.tenantRuleEnabled": a rule of tenant-rules.yaml naming
// secrets, jobs, configmaps or networkpolicies depends on the values.
inline bool ruleEnabled(const json& rule, const ChartValues& v) {
  auto kinds = v.patchKinds;
  kinds.insert(kinds.end(), v.applyKinds.begin(), v.applyKinds.end());
  auto has = [&](const char* kind) {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  };
  for (const auto& r : rule.value("resources", json::array())) {
    if (r == "secrets" && !v.readSecrets) return false;
    if (r == "jobs" && !v.runJob) return false;
    if (r == "configmaps" && !has("ConfigMap")) return false;
    if (r == "networkpolicies" && !has("NetworkPolicy")) return false;
  }
  return true;
}

// One permission a rule file grants: a verb on a resource of an API group
// ("" is the core group). A PolicyRule grants the cross product of its
// apiGroups, resources and verbs; this is one element of it.
struct Permission {
  std::string file;
  std::string group;
  std::string resource;  // "pods" or "pods/eviction"
  std::string verb;

  // "rbac-rules.yaml: apps/deployments/scale update" (core shown as "core").
  std::string text() const {
    return file + ": " + (group.empty() ? "core" : group) + "/" + resource + " " + verb;
  }
  // A gtest parameter name: letters, digits and underscores.
  std::string id() const {
    std::string source = file.substr(
        0, file.find('-'));  // rbac, cluster, tenant, leader, pause, approval, admission
    std::string out = source + "_" + (group.empty() ? "core" : group) + "_" + resource + "_" + verb;
    for (char& c : out) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return out;
  }
  bool operator==(const Permission& o) const {
    return file == o.file && group == o.group && resource == o.resource && verb == o.verb;
  }
};

inline std::vector<std::string> stringsOf(const json& rule, const char* field) {
  std::vector<std::string> out;
  for (const auto& v : rule.value(field, json::array())) out.push_back(v.get<std::string>());
  return out;
}

// gtest prints parameters with this.
inline void PrintTo(const Permission& p, std::ostream* out) { *out << p.text(); }

// Every permission of `rules` (read from `file`), in file order, each once.
inline std::vector<Permission> permissionsIn(const std::string& file, const json& rules) {
  std::vector<Permission> out;
  for (const auto& rule : rules) {
    for (const auto& g : stringsOf(rule, "apiGroups")) {
      for (const auto& r : stringsOf(rule, "resources")) {
        for (const auto& v : stringsOf(rule, "verbs")) {
          Permission p{file, g, r, v};
          if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
        }
      }
    }
  }
  return out;
}

// _helpers.tpl "remedy.approvalClusterRules": the rule on the webhook
// configurations is granted in certificate mode "secret" only.
inline bool approvalRuleEnabled(const json& rule, const ChartValues& v) {
  auto groups = stringsOf(rule, "apiGroups");
  bool configurations =
      std::find(groups.begin(), groups.end(), "admissionregistration.k8s.io") != groups.end();
  return !configurations || v.admissionSecretMode;
}

// Every permission the chart grants from its rule files with `values` (the
// scenario's by default): the five rule files whole (the tenant rules that
// depend on values are all on by default), and of the approval rules those
// the values enable.
inline std::vector<Permission> chartPermissions(const ChartValues& values = {}) {
  std::vector<Permission> out;
  auto add = [&](const char* file, const json& rules) {
    auto some = permissionsIn(file, rules);
    out.insert(out.end(), some.begin(), some.end());
  };
  for (const char* file : {kOperatorRulesFile, kClusterRulesFile, kTenantRulesFile,
                           kLeaderElectionRulesFile, kPauseRulesFile}) {
    add(file, readRuleFile(file));
  }
  json approval = json::array();
  for (const auto& rule : readRuleFile(kApprovalRulesFile)) {
    if (approvalRuleEnabled(rule, values)) approval.push_back(rule);
  }
  add(kApprovalRulesFile, approval);
  if (values.admissionSecretMode)
    add(kAdmissionSecretRulesFile, readRuleFile(kAdmissionSecretRulesFile));
  return out;
}

// `rules` with one permission taken away and nothing else: a rule granting
// it is split into the rules that grant the rest of its cross product.
inline json withoutPermission(const json& rules, const Permission& p) {
  json out = json::array();
  auto minus = [](std::vector<std::string> list, const std::string& item) {
    list.erase(std::remove(list.begin(), list.end(), item), list.end());
    return list;
  };
  for (const auto& rule : rules) {
    auto groups = stringsOf(rule, "apiGroups");
    auto resources = stringsOf(rule, "resources");
    auto verbs = stringsOf(rule, "verbs");
    auto has = [](const std::vector<std::string>& l, const std::string& x) {
      return std::find(l.begin(), l.end(), x) != l.end();
    };
    if (!has(groups, p.group) || !has(resources, p.resource) || !has(verbs, p.verb)) {
      out.push_back(rule);
      continue;
    }
    auto add = [&](std::vector<std::string> g, std::vector<std::string> r,
                   std::vector<std::string> v) {
      if (g.empty() || r.empty() || v.empty()) return;
      json split = rule;
      split["apiGroups"] = g;
      split["resources"] = r;
      split["verbs"] = v;
      out.push_back(split);
    };
    add(minus(groups, p.group), resources, verbs);
    add({p.group}, minus(resources, p.resource), verbs);
    add({p.group}, {p.resource}, minus(verbs, p.verb));
  }
  return out;
}

// What the chart grants: the operator rules (in every managed namespace, the
// impersonate rule bounded to tenancy.serviceAccounts), the cluster rules
// (RunbookPolicies), the runner's rules (in each tenancy namespace) and the
// release-namespace rules (Lease and pause switch), the approval rules
// (ClusterRole <fullname>-approvals, in every mode) and, in certificate mode
// "secret", the certificate Secret's rules (Role <fullname>-admission in the
// release namespace).
struct GrantedRules {
  json operatorRules = json::array();
  json clusterRules = json::array();
  json tenantRules = json::array();
  json releaseNamespaceRules = json::array();
  json approvalClusterRules = json::array();
  json admissionSecretRules = json::array();
};

// _helpers.tpl "remedy.operatorRules", "remedy.clusterRules",
// "remedy.tenantRules", "remedy.releaseNamespaceRules" (extraRules empty),
// "remedy.approvalClusterRules" and "remedy.admissionSecretRules",
// with the permissions in `without` taken away from the file that grants them.
inline GrantedRules chartRules(const ChartValues& values,
                               const std::vector<Permission>& without = {}) {
  auto fileRules = [&](const char* file) {
    json rules = readRuleFile(file);
    for (const auto& p : without) {
      if (p.file == file) rules = withoutPermission(rules, p);
    }
    return rules;
  };
  GrantedRules g;
  for (json rule : fileRules(kOperatorRulesFile)) {
    const json verbs = rule.value("verbs", json::array());
    if (std::find(verbs.begin(), verbs.end(), "impersonate") != verbs.end()) {
      rule["resourceNames"] = values.serviceAccounts;
    }
    g.operatorRules.push_back(rule);
  }
  g.clusterRules = fileRules(kClusterRulesFile);
  for (const auto& rule : fileRules(kTenantRulesFile)) {
    if (ruleEnabled(rule, values)) g.tenantRules.push_back(rule);
  }
  // With or without leader election: the targets' Leases need the same rule.
  for (const auto& rule : fileRules(kLeaderElectionRulesFile)) {
    g.releaseNamespaceRules.push_back(rule);
  }
  for (const auto& rule : fileRules(kPauseRulesFile)) g.releaseNamespaceRules.push_back(rule);
  for (json rule : fileRules(kApprovalRulesFile)) {
    if (!approvalRuleEnabled(rule, values)) continue;
    auto groups = stringsOf(rule, "apiGroups");
    if (std::find(groups.begin(), groups.end(), "admissionregistration.k8s.io") != groups.end()) {
      rule["resourceNames"] = json::array({values.admissionConfigurationName});
    }
    g.approvalClusterRules.push_back(rule);
  }
  if (values.admissionSecretMode) {
    for (json rule : fileRules(kAdmissionSecretRulesFile)) {
      auto verbs = stringsOf(rule, "verbs");
      if (std::find(verbs.begin(), verbs.end(), "create") == verbs.end()) {
        rule["resourceNames"] = json::array({values.admissionCertSecretName});
      }
      g.admissionSecretRules.push_back(rule);
    }
  }
  return g;
}

}  // namespace remedy::testing
