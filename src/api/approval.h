// The Approval kind: a person's decision on a step of an Incident. Field
// meanings are documented in crds/remedy.dev_approvals.yaml.
#pragma once

#include "api/common_types.h"
#include "api/incident.h"
#include "api/json_fields.h"
#include "api/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace remedy::api {

// Accepted: verified and allowed, the step waits for more; Counted: part of
// the decision that took effect; Refused: never counts (see its reason).
enum class ApprovalState { kAccepted, kCounted, kRefused };
template <>
struct EnumTraits<ApprovalState> {
  static constexpr std::pair<ApprovalState, const char*> kNames[] = {
      {ApprovalState::kAccepted, "Accepted"},
      {ApprovalState::kCounted, "Counted"},
      {ApprovalState::kRefused, "Refused"}};
};

struct ApprovalSpec {
  std::optional<LocalObjectReference> incidentRef;
  std::optional<std::string> step;
  std::optional<ApprovalDecision> decision;
  std::optional<std::string> approver;
  std::optional<std::string> comment;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("incidentRef", s.incidentRef);
    v("step", s.step);
    v("decision", s.decision);
    v("approver", s.approver);
    v("comment", s.comment);
  }
};

struct ApprovalStatus {
  std::optional<ApprovalState> state;
  std::optional<std::string> reason;
  std::optional<std::string> message;
  std::optional<std::string> processedAt;
  std::optional<int64_t> observedGeneration;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("state", s.state);
    v("reason", s.reason);
    v("message", s.message);
    v("processedAt", s.processedAt);
    v("observedGeneration", s.observedGeneration);
  }
};

struct Approval : KubeObject<Approval, ApprovalSpec, ApprovalStatus> {};

}  // namespace remedy::api
