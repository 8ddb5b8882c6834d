#include "sandbox/impersonation.h"

#include <gtest/gtest.h>

#include <vector>

namespace remedy::sandbox {
namespace {

http::Request requestWith(std::map<std::string, std::string> headers) {
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/namespaces/a/pods?limit=1";
  r.path = "/api/v1/namespaces/a/pods";
  r.headers = std::move(headers);
  return r;
}

const UserInfo kRequestor{"system:serviceaccount:ops:operator",
                          {"system:serviceaccounts", "system:authenticated"}};

TEST(Impersonation, NoHeadersAsksForNothing) {
  auto out = impersonate(requestWith({}), kRequestor, [](const Attributes&, std::string*) {
    ADD_FAILURE() << "no check expected";
    return false;
  });
  EXPECT_FALSE(out.user);
  EXPECT_FALSE(out.forbidden);
  EXPECT_EQ(out.internalError, "");
}

TEST(Impersonation, EachThingAskedForIsCheckedInTheRealServersOrder) {
  std::vector<Attributes> checked;
  auto out = impersonate(requestWith({{"impersonate-user", "system:serviceaccount:team-a:runner"},
                                      {"impersonate-group", "sre, oncall"},
                                      {"impersonate-extra-scopes%2fa", "read"},
                                      {"impersonate-uid", "1234"}}),
                         kRequestor, [&](const Attributes& a, std::string*) {
                           checked.push_back(a);
                           return true;
                         });
  ASSERT_EQ(checked.size(), 5u);
  EXPECT_EQ(checked[0].resource, "serviceaccounts");
  EXPECT_EQ(checked[0].namespace_, "team-a");
  EXPECT_EQ(checked[0].name, "runner");
  EXPECT_EQ(checked[0].verb, "impersonate");
  EXPECT_EQ(checked[0].user.name, kRequestor.name);
  EXPECT_EQ(checked[1].resource, "groups");
  EXPECT_EQ(checked[1].name, "sre");
  EXPECT_EQ(checked[2].name, "oncall");
  EXPECT_EQ(checked[3].apiGroup, "authentication.k8s.io");
  EXPECT_EQ(checked[3].resource, "userextras");
  EXPECT_EQ(checked[3].subresource, "scopes/a");
  EXPECT_EQ(checked[3].name, "read");
  EXPECT_EQ(checked[4].resource, "uids");
  ASSERT_TRUE(out.user);
  // Groups asked for replace the ServiceAccount's own; system:authenticated
  // is still added.
  EXPECT_EQ(out.user->name, "system:serviceaccount:team-a:runner");
  EXPECT_EQ(out.user->groups, (std::vector<std::string>{"sre", "oncall", "system:authenticated"}));
}

TEST(Impersonation, RefusalNamesWhatWasAskedForAndTheRequestor) {
  auto out = impersonate(
      requestWith({{"impersonate-user", "alice"}, {"impersonate-extra-scopes", "read"}}),
      kRequestor, [](const Attributes& a, std::string* reason) {
        if (a.resource == "users") return true;
        *reason = "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found";
        return false;
      });
  ASSERT_TRUE(out.forbidden);
  EXPECT_EQ(out.forbidden->code, 403);
  EXPECT_EQ(out.forbidden->message,
            "userextras.authentication.k8s.io \"read\" is forbidden: User "
            "\"system:serviceaccount:ops:operator\" cannot impersonate resource "
            "\"userextras/scopes\" in API group \"authentication.k8s.io\" at the cluster scope: "
            "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found");
  EXPECT_FALSE(out.user);
}

TEST(Impersonation, AnythingButAUserAloneIsAServerError) {
  auto out = impersonate(requestWith({{"impersonate-group", "dev"}, {"impersonate-uid", "7"}}),
                         kRequestor, [](const Attributes&, std::string*) { return true; });
  EXPECT_EQ(out.internalError,
            "Internal Server Error: \"/api/v1/namespaces/a/pods?limit=1\": requested [{Group  dev "
            "   } {UID  7  authentication.k8s.io/v1  }] without impersonating a user");
}

TEST(Impersonation, AnonymousGetsTheUnauthenticatedGroup) {
  auto out = impersonate(requestWith({{"impersonate-user", "system:anonymous"}}), kRequestor,
                         [](const Attributes&, std::string*) { return true; });
  ASSERT_TRUE(out.user);
  EXPECT_EQ(out.user->groups, (std::vector<std::string>{"system:unauthenticated"}));
}

TEST(Impersonation, ServiceAccountUserNamesNeedValidNames) {
  EXPECT_EQ(splitServiceAccountUserName("system:serviceaccount:team-a:runner"),
            std::make_optional(std::make_pair(std::string("team-a"), std::string("runner"))));
  EXPECT_FALSE(splitServiceAccountUserName("system:serviceaccount:team-a"));
  EXPECT_FALSE(splitServiceAccountUserName("system:serviceaccount:a:b:c"));
  EXPECT_FALSE(splitServiceAccountUserName("system:serviceaccount:Team:runner"));
  EXPECT_FALSE(splitServiceAccountUserName("system:serviceaccounts:team-a:runner"));
  // Not a ServiceAccount: impersonated as the user of that name.
  std::vector<Attributes> checked;
  impersonate(requestWith({{"impersonate-user", "system:serviceaccount:a:b:c"}}), kRequestor,
              [&](const Attributes& a, std::string*) {
                checked.push_back(a);
                return true;
              });
  ASSERT_EQ(checked.size(), 1u);
  EXPECT_EQ(checked[0].resource, "users");
}

}  // namespace
}  // namespace remedy::sandbox
