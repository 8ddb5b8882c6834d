// Seals: proof that an object went through Remedy's admission webhook.
//
// The webhook takes identities from the API server's authentication
// (AdmissionReview request.userInfo) and writes them onto the object, with an
// HMAC-SHA256 over what it wrote, keyed with a secret only the operator
// holds. The engine trusts an identity only when its seal verifies, so an
// Approval created while the webhook was missing, misconfigured or bypassed
// (no seal), edited afterwards, or copied under another name never counts.
//
// What each seal covers (JSON-encoded, with a purpose string first so a seal
// of one kind never verifies as another):
// - Approval (annotation remedy.dev/approval-seal): namespace, name,
//   spec.incidentRef.name and .uid, spec.step, spec.decision, spec.approver,
//   spec.approverGroups, and the time of sealing. The Approval's own uid does
//   not exist yet during admission, and generateName is refused so the name
//   is known.
// - Incident creator (annotation remedy.dev/creator-seal, with
//   remedy.dev/created-by and remedy.dev/created-by-groups): namespace, name,
//   user, groups, and the time of sealing.
//
// Format: "v1.<unix seconds of sealing>.<base64url HMAC, unpadded>". The key
// never appears in any message.
#pragma once

#include "kube/clock.h"
#include "kube/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace remedy::admission {

using json = nlohmann::json;

inline constexpr const char* kApprovalSealAnnotation = "remedy.dev/approval-seal";
inline constexpr const char* kCreatedByAnnotation = "remedy.dev/created-by";
inline constexpr const char* kCreatedByGroupsAnnotation = "remedy.dev/created-by-groups";
inline constexpr const char* kCreatorSealAnnotation = "remedy.dev/creator-seal";

// The shortest key accepted, in bytes: HMAC-SHA256's block is 64, its
// output 32.
inline constexpr size_t kMinimumKeyBytes = 32;

// The HMAC keys: the current one seals and verifies; previous ones (a key
// being rotated out) only verify.
class SealKeys {
 public:
  // Each file holds one key (a trailing newline is ignored).
  static kube::Result<SealKeys> fromFiles(const std::string& currentPath,
                                          const std::vector<std::string>& previousPaths = {});
  static kube::Result<SealKeys> fromKeys(std::string current,
                                         std::vector<std::string> previous = {});

  const std::string& current() const { return current_; }
  const std::vector<std::string>& previous() const { return previous_; }

 private:
  std::string current_;
  std::vector<std::string> previous_;
};

struct SealCheck {
  bool valid = false;
  int64_t sealedAt = 0;  // unix seconds, when valid
  std::string problem;   // why not valid
};

// Who created an Incident, when its creator seal verifies.
struct Creator {
  std::string user;
  std::vector<std::string> groups;
};

class Sealer {
 public:
  explicit Sealer(SealKeys keys) : keys_(std::move(keys)) {}

  // The seal of an Approval as it stands (metadata.namespace and .name,
  // spec), sealed at `at`.
  std::string sealApproval(const json& approval, kube::WallTime at) const;
  // Whether the Approval's remedy.dev/approval-seal matches it.
  SealCheck verifyApproval(const json& approval) const;

  std::string sealCreator(const std::string& ns, const std::string& name, const std::string& user,
                          const std::vector<std::string>& groups, kube::WallTime at) const;
  // Whether the Incident's creator annotations carry a valid seal; `creator`
  // gets them when they do.
  SealCheck verifyCreator(const json& incident, Creator* creator) const;

 private:
  std::string mac(const std::string& key, const std::string& message) const;
  std::string seal(const json& covered, int64_t sealedAt) const;
  SealCheck verify(const json& covered, const std::string& seal) const;

  SealKeys keys_;
};

}  // namespace remedy::admission
