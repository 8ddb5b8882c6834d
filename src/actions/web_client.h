// Outbound HTTP(S) for the web actions (http, notify, the Prometheus steps): one
// request, one bounded response, under an egress policy (egress_policy.h).
//
// How a request leaves: the URL's host is resolved once; every address is
// checked against the policy; the connection goes to a checked address
// (TLS verifies the certificate against the host name of the URL, and SNI
// names it), so no second resolution can point it elsewhere. Proxies from
// the environment (HTTP_PROXY, HTTPS_PROXY) are ignored.
//
// Bounds: the whole exchange (resolution, connect, TLS, request, response
// head and body) ends by `timeout`, whatever the server does; at most
// `maxResponseBytes` of the body are read, then the connection is dropped.
// Redirects are followed only up to `maxRedirects`, each new target
// resolved and checked like the first; a header from a Secret and URL
// credentials never travel to another host (a request that carries them is
// not redirected off its host at all).
#pragma once

#include "actions/egress_policy.h"
#include "actions/redaction.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace remedy::actions {

struct WebTlsOptions {
  // Verify the server's certificate chain and host name. Only an operator
  // flag turns this off (for a lab), never a Runbook.
  bool verify = true;
  // A PEM file of extra certificate authorities, trusted besides the
  // system's (an internal CA for in-cluster services).
  std::string caFile;
};

struct WebRequest {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when non-empty (Content-Type from `headers`, else application/json)
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  size_t maxResponseBytes = 64 * 1024;
  WebTlsOptions tls;
  // Where the request may go; null refuses every request.
  std::shared_ptr<const EgressRules> egress;
  // The request carries a secret: URL credentials, a URL from a Secret, or
  // the headers named in `secretHeaders` (values from Secrets). It then goes
  // only to hosts the allow-list names, and is never redirected to another.
  bool carriesSecrets = false;
  std::vector<std::string> secretHeaders;
  int maxRedirects = 0;
};

struct WebResponse {
  // 0 when no response arrived (see `error`).
  int status = 0;
  // Header names as the server wrote them.
  std::vector<std::pair<std::string, std::string>> headers;
  // At most maxResponseBytes of the body.
  std::string body;
  bool truncated = false;
  // Why no (complete) response arrived: connection refused, TLS, timeout, the
  // egress policy. Names the host, never the URL's path or credentials.
  std::string error;
  bool timedOut = false;
  // The request could not be made as given (not an http(s) URL, an
  // unreadable CA file): trying again will not help.
  bool invalid = false;
  // The egress policy refused the destination (or a redirect's): nothing
  // was sent there.
  bool refused = false;
  // Redirects followed.
  int redirects = 0;

  bool ok() const { return error.empty(); }
  // The first value of a header (name in any case), or "".
  std::string header(const std::string& name) const;
};

// Resolves host names; tests substitute one to play DNS.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Every address of `host` (an IP literal resolves to itself); empty with
  // `error` set on failure or when `timeout` passes.
  virtual std::vector<IpAddress> resolve(const std::string& host, std::chrono::milliseconds timeout,
                                         std::string* error) = 0;
};

// getaddrinfo, bounded by the timeout.
std::shared_ptr<Resolver> systemResolver();

class WebClient {
 public:
  virtual ~WebClient() = default;
  // Never throws; a failure is WebResponse::error.
  virtual WebResponse send(const WebRequest& request) = 0;
};

// The client over POSIX sockets and OpenSSL. Stateless between requests:
// safe to share between threads and actions. Null `resolver`: the system's.
std::shared_ptr<WebClient> makeWebClient(std::shared_ptr<Resolver> resolver = nullptr);

}  // namespace remedy::actions
