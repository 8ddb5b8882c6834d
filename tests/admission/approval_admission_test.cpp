#include "admission/approval_admission.h"

#include "kube/base64.h"

#include <gtest/gtest.h>

namespace remedy::admission {
namespace {

class ApprovalAdmissionTest : public ::testing::Test {
 protected:
  ApprovalAdmissionTest()
      : sealer_(*SealKeys::fromKeys(std::string(48, 's'))),
        admission_(
            sealer_,
            [this](const std::string& ns, const std::string& name) -> kube::Result<json> {
              ++reads_;
              if (!readError_.ok()) return readError_;
              if (ns == "shop" && name == "inc-1") return incident_;
              return kube::Status::error(404, kube::reason::kNotFound,
                                         "incidents.remedy.dev \"" + name + "\" not found");
            },
            clock_) {
    incident_ = {{"apiVersion", "remedy.dev/v1alpha1"},
                 {"kind", "Incident"},
                 {"metadata", {{"name", "inc-1"}, {"namespace", "shop"}, {"uid", "uid-1"}}},
                 {"status",
                  {{"phase", "AwaitingApproval"},
                   {"steps", json::array({{{"name", "scale-out"}, {"phase", "AwaitingApproval"}},
                                          {{"name", "restart"}, {"phase", "Pending"}}})}}}};
  }

  static AdmissionRequest request(const std::string& operation, const std::string& resource,
                                  json object, json old = json(), const std::string& user = "alice",
                                  std::vector<std::string> groups = {"sre", "oncall",
                                                                     "system:authenticated"}) {
    AdmissionRequest r;
    r.uid = "req-1";
    r.group = "remedy.dev";
    r.version = "v1alpha1";
    r.kind = resource == "approvals" ? "Approval" : "Incident";
    r.resource = resource;
    r.namespace_ = "shop";
    r.name = object["metadata"].value("name", "");
    r.operation = operation;
    r.userInfo.username = user;
    r.userInfo.groups = std::move(groups);
    r.object = std::move(object);
    r.oldObject = std::move(old);
    return r;
  }

  static json approval(json spec, const std::string& name = "approve-scale") {
    return {{"apiVersion", "remedy.dev/v1alpha1"},
            {"kind", "Approval"},
            {"metadata", {{"name", name}, {"namespace", "shop"}}},
            {"spec", spec}};
  }

  // The object as the API server stores it after the patch.
  static json patched(json object, const AdmissionResponse& response) {
    for (const auto& op : response.patch) {
      EXPECT_EQ(op["op"], "add");
      std::string path = op["path"];
      if (path == "/spec") object["spec"] = op["value"];
      if (path == "/metadata/annotations") object["metadata"]["annotations"] = op["value"];
    }
    return object;
  }

  static std::string causesOf(const AdmissionResponse& r) {
    std::string out;
    for (const auto& c : r.status["details"].value("causes", json::array())) {
      out += c.value("field", "") + ": " + c.value("message", "") + "\n";
    }
    return out;
  }

  kube::FakeClock clock_;
  Sealer sealer_;
  json incident_;
  kube::Status readError_;
  int reads_ = 0;
  ApprovalAdmission admission_;
};

TEST_F(ApprovalAdmissionTest, TheApproverIsTheAuthenticatedUserAndTheApprovalIsSealed) {
  auto response = admission_.mutate(request(
      "CREATE", "approvals",
      approval(
          {{"incidentRef", {{"name", "inc-1"}}}, {"step", "scale-out"}, {"decision", "Approve"}})));
  ASSERT_TRUE(response.allowed) << response.status.dump();
  EXPECT_TRUE(response.warnings.empty());
  json stored = patched(
      approval(
          {{"incidentRef", {{"name", "inc-1"}}}, {"step", "scale-out"}, {"decision", "Approve"}}),
      response);
  EXPECT_EQ(stored["spec"]["approver"], "alice");
  EXPECT_EQ(stored["spec"]["approverGroups"], json({"sre", "oncall", "system:authenticated"}));
  EXPECT_EQ(stored["spec"]["incidentRef"]["uid"], "uid-1");
  SealCheck check = sealer_.verifyApproval(stored);
  ASSERT_TRUE(check.valid) << check.problem;
  EXPECT_EQ(check.sealedAt,
            std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch())
                .count());
  // And the validating webhook accepts what the mutating one made.
  EXPECT_TRUE(admission_.validate(request("CREATE", "approvals", stored)).allowed);
  // The answer kube-apiserver reads.
  json review = admissionReviewResponse("req-1", response);
  EXPECT_EQ(review["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(json::parse(*kube::decodeBase64(review["response"]["patch"].get<std::string>())),
            response.patch);
}

TEST_F(ApprovalAdmissionTest, WritingAnotherUsersNameIsAFieldErrorOnSpecApprover) {
  auto response = admission_.mutate(request(
      "CREATE", "approvals",
      approval(
          {{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}, {"approver", "bob"}}),
      json(), "dave", {"system:authenticated"}));
  ASSERT_FALSE(response.allowed);
  EXPECT_EQ(response.status["code"], 422);
  EXPECT_EQ(response.status["reason"], "Invalid");
  EXPECT_EQ(response.status["message"],
            "Approval.remedy.dev \"approve-scale\" is invalid: spec.approver: Forbidden: is "
            "\"bob\", but the API server authenticated this request as \"dave\": an Approval is "
            "made by the user who creates it (leave it empty, or write your own user name)");
  EXPECT_EQ(response.status["details"]["causes"][0]["field"], "spec.approver");
  EXPECT_EQ(response.status["details"]["causes"][0]["reason"], "FieldValueForbidden");
  // Writing your own name is fine.
  EXPECT_TRUE(admission_
                  .mutate(request("CREATE", "approvals",
                                  approval({{"incidentRef", {{"name", "inc-1"}}},
                                            {"decision", "Approve"},
                                            {"approver", "alice"}})))
                  .allowed);
}

TEST_F(ApprovalAdmissionTest, ClaimedGroupsMustBeTheAuthenticatedOnes) {
  auto response = admission_.mutate(request("CREATE", "approvals",
                                            approval({{"incidentRef", {{"name", "inc-1"}}},
                                                      {"decision", "Approve"},
                                                      {"approverGroups", {"system:masters"}}})));
  ASSERT_FALSE(response.allowed);
  EXPECT_EQ(causesOf(response),
            "spec.approverGroups: Forbidden: must be empty or exactly the groups the API server "
            "authenticated this request with, [\"sre\",\"oncall\",\"system:authenticated\"]\n");
}

TEST_F(ApprovalAdmissionTest, TheIncidentMustExistAndBeTheOneNamedByUid) {
  auto missing = admission_.mutate(
      request("CREATE", "approvals",
              approval({{"incidentRef", {{"name", "inc-9"}}}, {"decision", "Approve"}})));
  ASSERT_FALSE(missing.allowed);
  EXPECT_EQ(causesOf(missing), "spec.incidentRef.name: Not found: \"inc-9\"\n");
  auto earlier = admission_.mutate(request(
      "CREATE", "approvals",
      approval({{"incidentRef", {{"name", "inc-1"}, {"uid", "uid-0"}}}, {"decision", "Approve"}})));
  ASSERT_FALSE(earlier.allowed);
  EXPECT_EQ(causesOf(earlier),
            "spec.incidentRef.uid: Invalid value: \"uid-0\": Incident inc-1 has uid uid-1: this "
            "Approval was written for an earlier Incident of that name\n");
  readError_ = kube::Status::connectionFailed("connection refused");
  auto unreadable = admission_.mutate(
      request("CREATE", "approvals",
              approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}})));
  ASSERT_FALSE(unreadable.allowed) << "an Incident that cannot be read fails closed";
  EXPECT_EQ(unreadable.status["code"], 503);
}

TEST_F(ApprovalAdmissionTest, GenerateNameIsRefusedBecauseTheSealCoversTheName) {
  json a = approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}}, "");
  a["metadata"]["generateName"] = "approve-";
  auto response = admission_.mutate(request("CREATE", "approvals", a));
  ASSERT_FALSE(response.allowed);
  EXPECT_EQ(causesOf(response),
            "metadata.name: Required value: an Approval needs a name: generateName is not "
            "supported, because the seal that proves who approved covers the name\n");
}

TEST_F(ApprovalAdmissionTest, WarnsWhenNoStepWaits) {
  auto response = admission_.mutate(request(
      "CREATE", "approvals",
      approval(
          {{"incidentRef", {{"name", "inc-1"}}}, {"step", "restart"}, {"decision", "Approve"}})));
  ASSERT_TRUE(response.allowed);
  ASSERT_EQ(response.warnings.size(), 1u);
  EXPECT_EQ(response.warnings[0],
            "Incident inc-1 has no step \"restart\" waiting for approval now (phase "
            "AwaitingApproval): this Approval will be recorded, and will count only for a step "
            "that starts waiting after it was made");
}

TEST_F(ApprovalAdmissionTest, ValidationRefusesWhatTheMutatingWebhookDidNotSeal) {
  json unsealed = approval({{"incidentRef", {{"name", "inc-1"}, {"uid", "uid-1"}}},
                            {"decision", "Approve"},
                            {"approver", "alice"}});
  auto response = admission_.validate(request("CREATE", "approvals", unsealed));
  ASSERT_FALSE(response.allowed);
  EXPECT_EQ(causesOf(response),
            "metadata.annotations[remedy.dev/approval-seal]: Forbidden: it has no seal: the "
            "Approval must pass Remedy's mutating admission webhook unchanged\n");
  // Sealed for alice, sent by bob (a replay through another path).
  auto mutated = admission_.mutate(
      request("CREATE", "approvals",
              approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}})));
  json stored =
      patched(approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}}), mutated);
  auto replay = admission_.validate(request("CREATE", "approvals", stored, json(), "bob", {"dev"}));
  ASSERT_FALSE(replay.allowed);
  EXPECT_EQ(replay.status["details"]["causes"][0]["field"], "spec.approver");
}

TEST_F(ApprovalAdmissionTest, TheDecisionAndItsSealAreImmutable) {
  auto mutated = admission_.mutate(
      request("CREATE", "approvals",
              approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}})));
  json stored =
      patched(approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}}), mutated);
  json relabelled = stored;
  relabelled["metadata"]["labels"]["team"] = "shop";
  EXPECT_TRUE(admission_.validate(request("UPDATE", "approvals", relabelled, stored)).allowed);
  json flipped = stored;
  flipped["spec"]["decision"] = "Reject";
  auto response = admission_.validate(request("UPDATE", "approvals", flipped, stored));
  ASSERT_FALSE(response.allowed);
  EXPECT_EQ(causesOf(response),
            "spec: Forbidden: an Approval's decision cannot be changed after it was made; "
            "create another Approval instead\n");
  json unsealed = stored;
  unsealed["metadata"]["annotations"].erase(kApprovalSealAnnotation);
  EXPECT_FALSE(admission_.validate(request("UPDATE", "approvals", unsealed, stored)).allowed);
}

TEST_F(ApprovalAdmissionTest, IncidentsAreSealedWithTheirCreatorWhateverTheyClaim) {
  json incident = {{"apiVersion", "remedy.dev/v1alpha1"},
                   {"kind", "Incident"},
                   {"metadata",
                    {{"name", "db-fix"},
                     {"namespace", "shop"},
                     {"annotations", {{kCreatedByAnnotation, "someone-else"}, {"note", "kept"}}}}},
                   {"spec", {{"source", "Manual"}, {"alert", {{"name", "DbDown"}}}}}};
  auto response =
      admission_.mutate(request("CREATE", "incidents", incident, json(), "carol", {"sre"}));
  ASSERT_TRUE(response.allowed);
  json stored = patched(incident, response);
  EXPECT_EQ(stored["metadata"]["annotations"][kCreatedByAnnotation], "carol");
  EXPECT_EQ(stored["metadata"]["annotations"]["note"], "kept");
  Creator creator;
  ASSERT_TRUE(sealer_.verifyCreator(stored, &creator).valid);
  EXPECT_EQ(creator.user, "carol");
  EXPECT_EQ(creator.groups, std::vector<std::string>{"sre"});
  // The creator cannot be rewritten later; other annotations can.
  json retargeted = stored;
  retargeted["metadata"]["annotations"][kCreatedByAnnotation] = "bob";
  auto refused = admission_.validate(request("UPDATE", "incidents", retargeted, stored));
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(causesOf(refused),
            "metadata.annotations[remedy.dev/created-by]: Forbidden: is set by Remedy when the "
            "Incident is created, and cannot change\n");
  json noted = stored;
  noted["metadata"]["annotations"]["remedy.dev/revert-requested"] = "now";
  EXPECT_TRUE(admission_.validate(request("UPDATE", "incidents", noted, stored)).allowed);
}

TEST_F(ApprovalAdmissionTest, OtherResourcesAndSubresourcesPassUntouched) {
  AdmissionRequest r =
      request("CREATE", "approvals",
              approval({{"incidentRef", {{"name", "inc-1"}}}, {"decision", "Approve"}}));
  r.resource = "pods";
  r.group = "";
  EXPECT_TRUE(admission_.mutate(r).allowed);
  EXPECT_TRUE(admission_.mutate(r).patch.empty());
  AdmissionRequest status =
      request("UPDATE", "approvals", approval({}), approval({{"decision", "Approve"}}));
  status.subResource = "status";
  EXPECT_TRUE(admission_.validate(status).allowed);
  EXPECT_EQ(reads_, 0);
}

}  // namespace
}  // namespace remedy::admission
