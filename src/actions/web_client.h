// Outbound HTTP(S) for the web actions (http, notify, prometheusCheck): one
// request, one bounded response. The interface keeps cpprestsdk out of every
// header; makeWebClient() is the cpprestsdk implementation.
//
// Bounds: the whole exchange (connect, TLS, request, response head and body)
// ends by `timeout`, whatever the server does; at most `maxResponseBytes` of
// the body are read, then the connection is dropped. Redirects are not
// followed: a 3xx is returned as is, so a header meant for one host (an
// Authorization from a Secret) never travels to another.
#pragma once

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
};

struct WebResponse {
  // 0 when no response arrived (see `error`).
  int status = 0;
  // Header names as the server wrote them.
  std::vector<std::pair<std::string, std::string>> headers;
  // At most maxResponseBytes of the body.
  std::string body;
  bool truncated = false;
  // Why no (complete) response arrived: connection refused, TLS, timeout. A
  // transport's text; it may quote the URL, so callers redact secrets from it.
  std::string error;
  bool timedOut = false;
  // The request could not be made as given (not an http(s) URL, an
  // unreadable CA file): trying again will not help.
  bool invalid = false;

  bool ok() const { return error.empty(); }
  // The first value of a header (name in any case), or "".
  std::string header(const std::string& name) const;
};

class WebClient {
 public:
  virtual ~WebClient() = default;
  // Never throws; a failure is WebResponse::error.
  virtual WebResponse send(const WebRequest& request) = 0;
};

// The cpprestsdk client. Stateless between requests: safe to share between
// threads and actions.
std::shared_ptr<WebClient> makeWebClient();

// Text helpers for what the web actions report.

// `text` with every occurrence of each non-empty secret replaced by
// "[redacted]".
std::string redactSecrets(std::string text, std::vector<std::string> secrets);

// At most `maxBytes` bytes of `text` as valid UTF-8: invalid bytes become
// U+FFFD and a multi-byte character is never cut in half. Outputs and
// messages end up in JSON (Incident status), which must be UTF-8.
std::string utf8Excerpt(const std::string& text, size_t maxBytes);

}  // namespace remedy::actions
