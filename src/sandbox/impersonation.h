// Impersonation as kube-apiserver does it (k8s.io/apiserver v0.33
// pkg/endpoints/filters/impersonation.go): a request carrying
// Impersonate-User (and optionally Impersonate-Group, Impersonate-Uid,
// Impersonate-Extra-<key>) runs as that identity once the authenticated
// requestor passes the `impersonate` check for each thing asked:
//   Impersonate-User system:serviceaccount:NS:NAME  impersonate serviceaccounts NAME in NS
//   Impersonate-User NAME (anything else)            impersonate users NAME (cluster scope)
//   Impersonate-Group G                              impersonate groups G (cluster scope)
//   Impersonate-Uid U                                impersonate uids U (authentication.k8s.io)
//   Impersonate-Extra-K V                            impersonate userextras/K V
//   (authentication.k8s.io)
// The identity then gets the ServiceAccount's groups (system:serviceaccounts,
// system:serviceaccounts:NS) when no group is asked for, and
// system:authenticated unless a group asked for is system:authenticated or
// system:unauthenticated.
//
// Differences from the real server: the sandbox's HTTP server joins a
// repeated header with ", ", so a group name containing ", " cannot be asked
// for; the uid and extras are checked but not carried into the identity.
#pragma once

#include "http/server.h"
#include "sandbox/api_error.h"
#include "sandbox/rbac_authorizer.h"

#include <functional>
#include <optional>
#include <string>

namespace remedy::sandbox {

struct ImpersonationOutcome {
  // The identity the request runs as; nullopt when it asks for none.
  std::optional<UserInfo> user;
  // 403 (a Status) when the requestor may not impersonate what it asked for.
  std::optional<ApiError> forbidden;
  // The plain-text 500 body the real server answers when groups, extras or
  // a uid are asked for without a user; empty otherwise.
  std::string internalError;
};

// `authorize` decides one `impersonate` check for `requestor` (the sandbox
// passes RBAC, or allow-all when it does not enforce authorization).
ImpersonationOutcome impersonate(
    const http::Request& request, const UserInfo& requestor,
    const std::function<bool(const Attributes&, std::string* reason)>& authorize);

// serviceaccount.SplitUsername: NS and NAME of "system:serviceaccount:NS:NAME"
// when both are valid names, else nullopt.
std::optional<std::pair<std::string, std::string>> splitServiceAccountUserName(
    const std::string& user);

}  // namespace remedy::sandbox
