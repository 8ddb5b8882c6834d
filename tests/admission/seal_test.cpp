#include "admission/seal.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

namespace remedy::admission {
namespace {

const std::string kKey(40, 'k');
const std::string kOtherKey(40, 'o');

Sealer sealer(const std::string& key = kKey, std::vector<std::string> previous = {}) {
  auto keys = SealKeys::fromKeys(key, std::move(previous));
  EXPECT_TRUE(keys.ok()) << keys.status().toString();
  return Sealer(*keys);
}

json approval() {
  return {{"apiVersion", "remedy.dev/v1alpha1"},
          {"kind", "Approval"},
          {"metadata", {{"name", "approve-scale"}, {"namespace", "shop"}}},
          {"spec",
           {{"incidentRef", {{"name", "inc-1"}, {"uid", "uid-1"}}},
            {"step", "scale-out"},
            {"decision", "Approve"},
            {"approver", "alice"},
            {"approverGroups", {"sre", "system:authenticated"}}}}};
}

json sealedApproval(const Sealer& s,
                    kube::WallTime at = kube::WallTime(std::chrono::seconds(1000))) {
  json a = approval();
  a["metadata"]["annotations"][kApprovalSealAnnotation] = s.sealApproval(a, at);
  return a;
}

TEST(Seal, AnApprovalSealVerifiesAndCarriesItsTime) {
  Sealer s = sealer();
  json a = sealedApproval(s);
  SealCheck check = s.verifyApproval(a);
  EXPECT_TRUE(check.valid) << check.problem;
  EXPECT_EQ(check.sealedAt, 1000);
  EXPECT_EQ(
      a["metadata"]["annotations"][kApprovalSealAnnotation].get<std::string>().rfind("v1.1000.", 0),
      0u);
}

TEST(Seal, EveryCoveredFieldBreaksTheSeal) {
  Sealer s = sealer();
  std::vector<std::pair<std::string, std::function<void(json&)>>> edits = {
      {"namespace", [](json& a) { a["metadata"]["namespace"] = "other"; }},
      {"name", [](json& a) { a["metadata"]["name"] = "copy"; }},
      {"incident name", [](json& a) { a["spec"]["incidentRef"]["name"] = "inc-2"; }},
      {"incident uid", [](json& a) { a["spec"]["incidentRef"]["uid"] = "uid-0"; }},
      {"step", [](json& a) { a["spec"]["step"] = "restart"; }},
      {"whole incident", [](json& a) { a["spec"].erase("step"); }},
      {"decision", [](json& a) { a["spec"]["decision"] = "Reject"; }},
      {"approver", [](json& a) { a["spec"]["approver"] = "bob"; }},
      {"groups", [](json& a) { a["spec"]["approverGroups"].push_back("system:masters"); }},
  };
  for (const auto& [what, edit] : edits) {
    json a = sealedApproval(s);
    edit(a);
    SealCheck check = s.verifyApproval(a);
    EXPECT_FALSE(check.valid) << what;
    EXPECT_NE(check.problem.find("does not match"), std::string::npos) << check.problem;
  }
  json commented = sealedApproval(s);
  commented["spec"]["comment"] = "the comment is not covered";
  commented["metadata"]["labels"]["team"] = "shop";
  EXPECT_TRUE(s.verifyApproval(commented).valid);
}

TEST(Seal, MissingMalformedOrForeignSealsAreRefusedWithTheReason) {
  Sealer s = sealer();
  EXPECT_EQ(s.verifyApproval(approval()).problem, "it has no seal");
  json a = sealedApproval(s);
  a["metadata"]["annotations"][kApprovalSealAnnotation] = "v1.notatime.abc";
  EXPECT_EQ(s.verifyApproval(a).problem, "its seal is malformed");
  a["metadata"]["annotations"][kApprovalSealAnnotation] = "v2.1000.abc";
  EXPECT_EQ(s.verifyApproval(a).problem, "its seal is malformed");
  // The time is covered: moving it breaks the seal.
  std::string seal = sealedApproval(s)["metadata"]["annotations"][kApprovalSealAnnotation];
  a["metadata"]["annotations"][kApprovalSealAnnotation] = "v1.2000." + seal.substr(8);
  EXPECT_FALSE(s.verifyApproval(a).valid);
  // Another key's seal.
  EXPECT_FALSE(s.verifyApproval(sealedApproval(sealer(kOtherKey))).valid);
}

TEST(Seal, PreviousKeysStillVerifyDuringARotation) {
  json old = sealedApproval(sealer(kOtherKey));
  Sealer rotated = sealer(kKey, {kOtherKey});
  EXPECT_TRUE(rotated.verifyApproval(old).valid);
  json fresh = sealedApproval(rotated);
  EXPECT_TRUE(sealer(kKey).verifyApproval(fresh).valid) << "new seals use the current key";
}

TEST(Seal, KeysAreLongEnoughAndReadFromFiles) {
  auto shortKey = SealKeys::fromKeys("too short");
  ASSERT_FALSE(shortKey.ok());
  EXPECT_EQ(shortKey.status().message(), "the seal key is 9 bytes long; it must have at least 32");
  EXPECT_EQ(shortKey.status().message().find("too short"), std::string::npos)
      << "a key never appears in a message";
  std::string path = "/tmp/remedy-seal-key-" + std::to_string(::getpid());
  std::ofstream(path) << kKey << "\n";
  auto fromFile = SealKeys::fromFiles(path);
  ASSERT_TRUE(fromFile.ok()) << fromFile.status().toString();
  EXPECT_EQ(fromFile->current(), kKey);
  ::unlink(path.c_str());
  auto missing = SealKeys::fromFiles(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "cannot read the seal key file " + path);
}

TEST(Seal, ACreatorSealCoversTheIncidentAndTheIdentity) {
  Sealer s = sealer();
  json incident = {
      {"metadata",
       {{"name", "db-fix"},
        {"namespace", "shop"},
        {"annotations",
         {{kCreatedByAnnotation, "alice"},
          {kCreatedByGroupsAnnotation, "[\"sre\",\"oncall\"]"},
          {kCreatorSealAnnotation, s.sealCreator("shop", "db-fix", "alice", {"sre", "oncall"},
                                                 kube::WallTime(std::chrono::seconds(5)))}}}}}};
  Creator creator;
  SealCheck check = s.verifyCreator(incident, &creator);
  ASSERT_TRUE(check.valid) << check.problem;
  EXPECT_EQ(creator.user, "alice");
  EXPECT_EQ(creator.groups, (std::vector<std::string>{"sre", "oncall"}));
  json renamed = incident;
  renamed["metadata"]["name"] = "db-fix-2";
  EXPECT_FALSE(s.verifyCreator(renamed, &creator).valid);
  json other = incident;
  other["metadata"]["annotations"][kCreatedByAnnotation] = "bob";
  EXPECT_FALSE(s.verifyCreator(other, &creator).valid);
  // An approval seal is never a creator seal.
  json forged = incident;
  forged["metadata"]["annotations"][kCreatorSealAnnotation] =
      sealedApproval(s)["metadata"]["annotations"][kApprovalSealAnnotation];
  EXPECT_FALSE(s.verifyCreator(forged, &creator).valid);
}

}  // namespace
}  // namespace remedy::admission
