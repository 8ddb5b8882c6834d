#include "engine/approval_gate.h"

#include "api/approval.h"
#include "api/duration.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <algorithm>
#include <set>

namespace remedy::engine {

namespace {

constexpr const char* kServiceAccountPrefix = "system:serviceaccount:";

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::vector<std::string> stringsAt(const nlohmann::json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

bool ApprovalGate::approverAllowed(const api::ApprovalPolicy* policy, const std::string& approver,
                                   const std::vector<std::string>& groups) {
  if (approver.empty()) return false;
  const std::vector<std::string> none;
  const auto& users = policy && policy->users ? *policy->users : none;
  const auto& allowedGroups = policy && policy->groups ? *policy->groups : none;
  if (contains(users, approver)) return true;
  if (approver.rfind(kServiceAccountPrefix, 0) == 0) return false;
  if (users.empty() && allowedGroups.empty()) return true;
  for (const auto& g : groups) {
    if (contains(allowedGroups, g)) return true;
  }
  return false;
}

ApprovalVerdict ApprovalGate::evaluate(const ApprovalWait& wait,
                                       const std::vector<nlohmann::json>& approvals,
                                       kube::WallTime now) {
  ApprovalVerdict verdict;
  const api::ApprovalPolicy* policy = wait.policy;
  const std::string& step = wait.step;
  int needed = policy && policy->minApprovals ? *policy->minApprovals : 1;
  std::set<std::string> approvers;
  std::vector<std::string> ignored;
  std::vector<std::string> unchecked;  // RBAC could not be asked
  int64_t waitingSince =
      std::chrono::duration_cast<std::chrono::seconds>(wait.waitingSince.time_since_epoch())
          .count();
  for (const auto& object : approvals) {
    auto approval = api::Approval::fromJson(object);
    if (!approval.ok() || !approval->spec) continue;
    const api::ApprovalSpec& spec = *approval->spec;
    if (!spec.incidentRef || spec.incidentRef->name != wait.incident) continue;
    if (spec.step && !spec.step->empty() && *spec.step != step) continue;
    std::string name = kube::nameOf(object);
    std::string approver = spec.approver.value_or("");
    auto refuse = [&](const char* reason, const std::string& message) {
      verdict.refused.push_back({name, reason, message});
    };
    if (!wait.sealer) {
      refuse(kRefusedUnverified,
             "Remedy has no key to verify who approved (remedy-operator "
             "--approval-seal-key-file), so no Approval counts");
      continue;
    }
    admission::SealCheck seal = wait.sealer->verifyApproval(object);
    if (!seal.valid) {
      refuse(kRefusedUnverified, "the Approval did not pass Remedy's admission webhook (" +
                                     seal.problem + "), so who approved is not known");
      continue;
    }
    // Sealed for an earlier Incident of the same name: not about this one.
    std::string uid = object["spec"]["incidentRef"].is_object()
                          ? object["spec"]["incidentRef"].value("uid", "")
                          : "";
    if (uid != wait.incidentUid) continue;
    if (seal.sealedAt < waitingSince) {
      refuse(kRefusedStepNotWaiting, "made before step " + step +
                                         " began waiting for approval at " +
                                         kube::formatRfc3339(wait.waitingSince));
      continue;
    }
    std::vector<std::string> groups = stringsAt(object["spec"], "approverGroups");
    if (!approverAllowed(policy, approver, groups)) {
      ignored.push_back(approver);
      refuse(kRefusedNotAnApprover,
             "approver " + approver +
                 " is not among the Runbook's spec.approval.users, nor in one of its groups");
      continue;
    }
    if (wait.mayApprove) {
      auto allowed = wait.mayApprove(approver, groups);
      if (!allowed.ok()) {
        // Undecided, not refused: RBAC is asked again at the next look.
        unchecked.push_back(approver + " (" + allowed.status().message() + ")");
        continue;
      }
      if (!*allowed) {
        ignored.push_back(approver);
        refuse(kRefusedNotAnApprover, "approver " + approver +
                                          " may not approve this Runbook: RBAC grants no verb "
                                          "\"approve\" on remedy.dev runbooks here");
        continue;
      }
    }
    api::ApprovalRecord record;
    record.name = name;
    record.step = step;
    record.decision = spec.decision;
    record.approver = approver;
    record.time = object["metadata"].value("creationTimestamp", "");
    if (spec.decision == api::ApprovalDecision::kReject) {
      verdict.kind = ApprovalVerdict::Kind::kRejected;
      verdict.message =
          "step " + step + " rejected by " + approver + (spec.comment ? ": " + *spec.comment : "");
      verdict.records = {record};
      return verdict;
    }
    if (spec.decision != api::ApprovalDecision::kApprove) continue;
    if (!approvers.insert(approver).second) {
      refuse(kRefusedDuplicate,
             approver + " already approved step " + step + ": minApprovals counts people");
      continue;
    }
    verdict.records.push_back(record);
  }
  // Four eyes: the creator of a Manual Incident is never its only approver.
  bool creatorAlone =
      !wait.allowSelfApproval && approvers.size() == 1 &&
      (wait.creatorUnverified || (!wait.creator.empty() && *approvers.begin() == wait.creator));
  std::string creatorName = wait.creatorUnverified ? "its unverified creator" : wait.creator;
  if (static_cast<int>(approvers.size()) >= needed && !creatorAlone) {
    verdict.kind = ApprovalVerdict::Kind::kApproved;
    std::string who;
    for (const auto& a : approvers) who += (who.empty() ? "" : ", ") + a;
    verdict.message = "step " + step + " approved by " + who;
    return verdict;
  }
  api::Duration timeout = std::chrono::minutes(30);
  if (policy && policy->timeout) {
    auto parsed = api::parseDuration(*policy->timeout);
    if (parsed.ok()) timeout = *parsed;
  }
  auto deadline = wait.waitingSince + timeout;
  if (now >= deadline) {
    verdict.kind = ApprovalVerdict::Kind::kTimedOut;
    verdict.message = "step " + step + " got " + std::to_string(approvers.size()) + " of " +
                      std::to_string(needed) + " approvals within " + api::formatDuration(timeout);
    for (const auto& r : verdict.records) {
      verdict.accepted.push_back({r.name.value_or(""), kAcceptedMoreNeeded, verdict.message});
    }
    verdict.records.clear();
    return verdict;
  }
  verdict.kind = ApprovalVerdict::Kind::kWaiting;
  size_t more = creatorAlone ? std::max<size_t>(1, needed - approvers.size())
                             : static_cast<size_t>(needed) - approvers.size();
  verdict.message =
      "step " + step + " waits for " + std::to_string(more) + " more approval(s)" +
      (creatorAlone ? " from someone other than " + creatorName + ", who created the Incident"
                    : "") +
      (ignored.empty() ? "" : " (ignored approvers not allowed: " + ignored[0] + ")") +
      (unchecked.empty() ? "" : " (could not ask RBAC about " + unchecked[0] + ")");
  for (const auto& r : verdict.records) {
    bool self = creatorAlone;
    verdict.accepted.push_back(
        {r.name.value_or(""), self ? kAcceptedAnotherApproverNeeded : kAcceptedMoreNeeded,
         self ? (wait.creatorUnverified
                     ? std::string("who created this Incident is not verified (its creator "
                                   "seal does not match), so one approver is not enough")
                     : wait.creator + " created this Incident and may not be its only approver") +
                    "; another approver must approve too"
              : "verified; step " + step + " needs " + std::to_string(more) + " more approval(s)"});
  }
  verdict.records.clear();
  verdict.retryAfter = deadline - now;
  return verdict;
}

}  // namespace remedy::engine
