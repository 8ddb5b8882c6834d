// Approvals in their simplest sound form (#5 item 3): a step with
// `approval: Required` waits until enough distinct approvers have approved
// it (Approval objects naming the Incident and the step, or the whole
// Incident); one rejection rejects; the Runbook's approval timeout applies.
//
// Who may approve is decided in one place, `approverAllowed`, so the
// authentication issue can tighten it: today it trusts spec.approver and
// checks it against spec.approval.users; groups cannot be checked until the
// approver is authenticated, so a policy naming only groups accepts anyone.
#pragma once

#include "api/incident.h"
#include "api/runbook.h"
#include "kube/clock.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace remedy::engine {

struct ApprovalVerdict {
  enum class Kind { kApproved, kWaiting, kRejected, kTimedOut };
  Kind kind = Kind::kWaiting;
  std::string message;
  // The decisions that counted, for status.approvals.
  std::vector<api::ApprovalRecord> records;
  // Approvals for this step that did not count: (Approval name, why).
  std::vector<std::pair<std::string, std::string>> refused;
  kube::Duration retryAfter{0};  // kWaiting: when the timeout falls due
};

class ApprovalGate {
 public:
  // `approvals`: the Approval objects of the Incident's namespace.
  static ApprovalVerdict evaluate(const api::ApprovalPolicy* policy, const std::string& incident,
                                  const std::string& step,
                                  const std::vector<nlohmann::json>& approvals,
                                  kube::WallTime waitingSince, kube::WallTime now);

  static bool approverAllowed(const api::ApprovalPolicy* policy, const std::string& approver);
};

}  // namespace remedy::engine
