// Acting as another identity, as client-go's rest.ImpersonationConfig does
// (transport/round_trippers.go, impersonatingRoundTripper): every request
// carries Impersonate-User (and Impersonate-Group), and the API server runs
// it as that identity once the client's own identity passes its
// `impersonate` checks (k8s.io/apiserver endpoints/filters/impersonation.go).
//
// A ServiceAccount is impersonated by its user name,
// system:serviceaccount:NS:NAME; the API server then adds the
// ServiceAccount's groups itself (system:serviceaccounts,
// system:serviceaccounts:NS, system:authenticated), and RBAC checks
// `impersonate` on serviceaccounts NAME in NS, so a rule with resourceNames
// bounds which ServiceAccounts a client may become.
#pragma once

#include "kube/client.h"
#include "kube/transport.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace remedy::kube {

class RestClient;

struct Impersonation {
  std::string user;
  // Sent as one Impersonate-Group header each. Empty: the API server's
  // defaults for the user (a ServiceAccount's groups).
  std::vector<std::string> groups;
  bool empty() const { return user.empty(); }
};

// The user name of ServiceAccount NAME of namespace NS.
std::string serviceAccountUser(const std::string& ns, const std::string& name);

// Adds the impersonation headers to every request (replacing any the caller
// set) and hands it to `inner`, which it shares with other clients:
// cancelAll() therefore ends nothing of theirs (the owner of `inner` cancels
// it at shutdown).
class ImpersonatingTransport : public Transport {
 public:
  ImpersonatingTransport(std::shared_ptr<Transport> inner, Impersonation as);
  Response send(const Request& request) override;
  std::unique_ptr<ResponseStream> open(const Request& request) override;
  void cancelAll() override {}

 private:
  Request withHeaders(const Request& request) const;
  std::shared_ptr<Transport> inner_;
  const Impersonation as_;
};

// A Client for each ServiceAccount an application acts as: the seam between
// code that acts for a namespace and how the identity is obtained.
class ServiceAccountClients {
 public:
  virtual ~ServiceAccountClients() = default;
  // The client acting as ServiceAccount `name` of namespace `ns`; valid for
  // the life of this object.
  virtual Client& serviceAccount(const std::string& ns, const std::string& name) = 0;
};

// One impersonating RestClient per ServiceAccount, over the transport (and
// so the credentials and connections) of `base`, made on first use and kept.
class ImpersonatingClients : public ServiceAccountClients {
 public:
  explicit ImpersonatingClients(RestClient& base);
  ~ImpersonatingClients() override;
  Client& serviceAccount(const std::string& ns, const std::string& name) override;

 private:
  RestClient& base_;
  std::mutex mu_;  // guards clients_
  std::map<std::pair<std::string, std::string>, std::unique_ptr<RestClient>> clients_;
};

}  // namespace remedy::kube
