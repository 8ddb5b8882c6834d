// Approvals (#5 item 3, #16): a step with `approval: Required` waits until
// enough distinct people have approved it (Approval objects naming the
// Incident and the step, or the whole Incident); one allowed rejection
// rejects; the Runbook's approval timeout applies.
//
// Who approved is what Remedy's admission webhook sealed (src/admission):
// an Approval counts only when its seal verifies with the operator's key, so
// one written while the webhook was missing, misconfigured or bypassed never
// counts, and without a key nothing counts (fail closed). It must name this
// Incident by uid (not an earlier Incident of the same name) and be sealed
// no earlier than the second the step began waiting.
#pragma once

#include "admission/seal.h"
#include "api/incident.h"
#include "api/runbook.h"
#include "kube/clock.h"

#include "kube/status.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace remedy::engine {

// Why an Approval did not count (its status.reason).
inline constexpr const char* kRefusedNotAnApprover = "NotAnApprover";
inline constexpr const char* kRefusedUnverified = "Unverified";
inline constexpr const char* kRefusedStepNotWaiting = "StepNotWaiting";
inline constexpr const char* kRefusedDuplicate = "Duplicate";
inline constexpr const char* kRefusedTooLate = "TooLate";
// Why a verified, allowed Approval is only Accepted so far.
inline constexpr const char* kAcceptedMoreNeeded = "MoreApprovalsNeeded";
inline constexpr const char* kAcceptedAnotherApproverNeeded = "AnotherApproverNeeded";

struct RefusedApproval {
  std::string name;    // the Approval's
  std::string reason;  // kRefused...
  std::string message;
};

// Whether `approver` (with `groups`) holds the verb `approve` on the
// Incident's Runbook: a SubjectAccessReview. An error leaves the Approval
// undecided (not counted, no status) until a later evaluation.
using ApproveCheck = std::function<kube::Result<bool>(const std::string& approver,
                                                      const std::vector<std::string>& groups)>;

struct ApprovalVerdict {
  enum class Kind { kApproved, kWaiting, kRejected, kTimedOut };
  Kind kind = Kind::kWaiting;
  std::string message;
  // The decisions that counted, for status.approvals.
  std::vector<api::ApprovalRecord> records;
  // Approvals for this step that did not count.
  std::vector<RefusedApproval> refused;
  // kWaiting: verified, allowed Approvals that wait for more (reason
  // kAccepted...).
  std::vector<RefusedApproval> accepted;
  kube::Duration retryAfter{0};  // kWaiting: when the timeout falls due
};

// A step waiting for approval.
struct ApprovalWait {
  const api::ApprovalPolicy* policy = nullptr;
  std::string incident;     // the Incident's name
  std::string incidentUid;  // and uid
  std::string step;
  kube::WallTime waitingSince;
  // Verifies seals; null: no Approval can be verified, so none counts.
  const admission::Sealer* sealer = nullptr;
  // RBAC's verdict on the verb `approve`; null: none is asked (tests of the
  // policy alone).
  ApproveCheck mayApprove;
  // Who created the Incident (a Manual one, by its creator seal), and
  // whether that person may be its only approver.
  std::string creator;
  // The Incident carries creator annotations whose seal does not verify:
  // its creator cannot be told apart, so one approver is never enough.
  bool creatorUnverified = false;
  bool allowSelfApproval = false;
};

class ApprovalGate {
 public:
  // `approvals`: the Approval objects of the Incident's namespace.
  static ApprovalVerdict evaluate(const ApprovalWait& wait,
                                  const std::vector<nlohmann::json>& approvals, kube::WallTime now);

  // Whether the policy lets `approver` (with `groups`) decide: anyone
  // authenticated when it names no users and no groups; else a listed user
  // or a member of a listed group. A ServiceAccount counts only when listed
  // by name in `users`.
  static bool approverAllowed(const api::ApprovalPolicy* policy, const std::string& approver,
                              const std::vector<std::string>& groups);
};

}  // namespace remedy::engine
