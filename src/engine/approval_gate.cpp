#include "engine/approval_gate.h"

#include "api/approval.h"
#include "api/duration.h"
#include "kube/resource.h"
#include "kube/time_format.h"

#include <algorithm>
#include <set>

namespace remedy::engine {

bool ApprovalGate::approverAllowed(const api::ApprovalPolicy* policy, const std::string& approver) {
  if (approver.empty()) return false;
  if (!policy || !policy->users || policy->users->empty()) return true;
  const auto& users = *policy->users;
  return std::find(users.begin(), users.end(), approver) != users.end();
}

ApprovalVerdict ApprovalGate::evaluate(const api::ApprovalPolicy* policy,
                                       const std::string& incident, const std::string& step,
                                       const std::vector<nlohmann::json>& approvals,
                                       kube::WallTime waitingSince, kube::WallTime now) {
  ApprovalVerdict verdict;
  int needed = policy && policy->minApprovals ? *policy->minApprovals : 1;
  std::set<std::string> approvers;
  std::vector<std::string> ignored;
  for (const auto& object : approvals) {
    auto approval = api::Approval::fromJson(object);
    if (!approval.ok() || !approval->spec) continue;
    const api::ApprovalSpec& spec = *approval->spec;
    if (!spec.incidentRef || spec.incidentRef->name != incident) continue;
    if (spec.step && !spec.step->empty() && *spec.step != step) continue;
    std::string approver = spec.approver.value_or("");
    if (!approverAllowed(policy, approver)) {
      ignored.push_back(approver.empty() ? "<no approver>" : approver);
      verdict.refused.emplace_back(kube::nameOf(object), approver.empty()
                                                             ? "spec.approver is empty"
                                                             : "approver " + approver +
                                                                   " is not in the Runbook's "
                                                                   "spec.approval.users");
      continue;
    }
    api::ApprovalRecord record;
    record.name = kube::nameOf(object);
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
    if (spec.decision == api::ApprovalDecision::kApprove && approvers.insert(approver).second) {
      verdict.records.push_back(record);
    }
  }
  if (static_cast<int>(approvers.size()) >= needed) {
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
  auto deadline = waitingSince + timeout;
  if (now >= deadline) {
    verdict.kind = ApprovalVerdict::Kind::kTimedOut;
    verdict.message = "step " + step + " got " + std::to_string(approvers.size()) + " of " +
                      std::to_string(needed) + " approvals within " + api::formatDuration(timeout);
    return verdict;
  }
  verdict.kind = ApprovalVerdict::Kind::kWaiting;
  verdict.message = "step " + step + " waits for " + std::to_string(needed - approvers.size()) +
                    " more approval(s)" +
                    (ignored.empty() ? "" : " (ignored approvers not allowed: " + ignored[0] + ")");
  verdict.retryAfter = deadline - now;
  return verdict;
}

}  // namespace remedy::engine
