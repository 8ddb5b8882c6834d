#include "kube/impersonation.h"

#include "kube/rest_client.h"

#include <strings.h>

#include <algorithm>

namespace remedy::kube {

std::string serviceAccountUser(const std::string& ns, const std::string& name) {
  return "system:serviceaccount:" + ns + ":" + name;
}

ImpersonatingTransport::ImpersonatingTransport(std::shared_ptr<Transport> inner, Impersonation as)
    : inner_(std::move(inner)), as_(std::move(as)) {}

Request ImpersonatingTransport::withHeaders(const Request& request) const {
  Request out = request;
  auto& h = out.headers;
  h.erase(std::remove_if(h.begin(), h.end(),
                         [](const std::pair<std::string, std::string>& header) {
                           return strncasecmp(header.first.c_str(), "Impersonate-", 12) == 0;
                         }),
          h.end());
  h.emplace_back("Impersonate-User", as_.user);
  for (const auto& group : as_.groups) h.emplace_back("Impersonate-Group", group);
  return out;
}

Response ImpersonatingTransport::send(const Request& request) {
  return inner_->send(withHeaders(request));
}

std::unique_ptr<ResponseStream> ImpersonatingTransport::open(const Request& request) {
  return inner_->open(withHeaders(request));
}

ImpersonatingClients::ImpersonatingClients(RestClient& base) : base_(base) {}

ImpersonatingClients::~ImpersonatingClients() = default;

Client& ImpersonatingClients::serviceAccount(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& client = clients_[{ns, name}];
  if (!client) client = base_.impersonating({serviceAccountUser(ns, name), {}});
  return *client;
}

}  // namespace remedy::kube
