#include "kube/authenticating_transport.h"

namespace remedy::kube {
namespace {

class FailedStream : public ResponseStream {
 public:
  explicit FailedStream(Response head) : head_(std::move(head)) {}
  const Response& head() const override { return head_; }
  bool read(std::string& chunk) override { return false; }
  std::string error() const override { return head_.error; }
  void cancel() override {}

 private:
  Response head_;
};

}  // namespace

AuthenticatingTransport::AuthenticatingTransport(std::unique_ptr<Transport> inner,
                                                 std::shared_ptr<Credentials> credentials)
    : inner_(std::move(inner)), credentials_(std::move(credentials)) {}

bool AuthenticatingTransport::authorize(Request& request, AuthInfo* used, Response* failure) {
  if (!credentials_) return true;
  auto auth = credentials_->get();
  if (!auth) {
    failure->error = "credentials: " + auth.status().message();
    return false;
  }
  *used = *auth;
  // A caller-provided Authorization header wins (impersonation tools).
  if (!auth->bearerToken.empty() && headerValue(request.headers, "Authorization").empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + auth->bearerToken);
  }
  return true;
}

Response AuthenticatingTransport::send(const Request& original) {
  Request request = original;
  AuthInfo used;
  Response failure;
  if (!authorize(request, &used, &failure)) return failure;
  Response response = inner_->send(request);
  if (response.status == 401 && credentials_) credentials_->invalidate(used);
  return response;
}

std::unique_ptr<ResponseStream> AuthenticatingTransport::open(const Request& original) {
  Request request = original;
  AuthInfo used;
  Response failure;
  if (!authorize(request, &used, &failure)) return std::make_unique<FailedStream>(failure);
  auto stream = inner_->open(request);
  if (stream->head().status == 401 && credentials_) credentials_->invalidate(used);
  return stream;
}

}  // namespace remedy::kube
