// A small blocking HTTP/1.1 client over POSIX sockets and OpenSSL: one
// request per connection, a deadline for the whole exchange, and a bounded
// answer. The sandbox calls admission webhooks with it, as kube-apiserver
// does: HTTPS verified against the webhook's caBundle (or the system's
// roots), the host name or IP address checked against the certificate.
//
// Failures are described in the words of Go's net/http and crypto/tls
// ("dial tcp 127.0.0.1:9: connect: connection refused", "context deadline
// exceeded", "tls: failed to verify certificate: x509: certificate signed by
// unknown authority"), because the sandbox repeats them in the errors
// kube-apiserver gives for a webhook it cannot call.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remedy::http {

struct ClientRequest {
  std::string method = "POST";
  // http://host[:port]/path?query or https://...; host may be [IPv6].
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // HTTPS: the certificates to trust (PEM); empty: the system's roots.
  std::string caPem;
  // Connecting, the handshake, sending and reading the whole answer.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // A longer answer is an error, not read further.
  size_t maxResponseBytes = 3 * 1024 * 1024;
};

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ClientResult {
  std::optional<ClientResponse> response;
  std::string error;  // why there is no response
};

ClientResult sendRequest(const ClientRequest& request);

}  // namespace remedy::http
