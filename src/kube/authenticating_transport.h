// Adds the bearer token of the current credentials to each request, and on
// a 401 tells the credentials the token was refused so the next request uses
// fresh ones (client-go bearerAuthRoundTripper and the exec authenticator).
#pragma once

#include "kube/credentials.h"
#include "kube/transport.h"

#include <memory>

namespace remedy::kube {

class AuthenticatingTransport : public Transport {
 public:
  AuthenticatingTransport(std::unique_ptr<Transport> inner,
                          std::shared_ptr<Credentials> credentials);
  Response send(const Request& request) override;
  std::unique_ptr<ResponseStream> open(const Request& request) override;
  void cancelAll() override { inner_->cancelAll(); }

 private:
  // Returns false (and fills `failure`) when credentials are unavailable.
  bool authorize(Request& request, AuthInfo* used, Response* failure);
  std::unique_ptr<Transport> inner_;
  std::shared_ptr<Credentials> credentials_;
};

}  // namespace remedy::kube
