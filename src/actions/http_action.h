// The `http` step: one HTTP(S) request, such as warming a cache or calling an
// admin endpoint. Retries are the engine's: a connection failure, a timeout,
// a 5xx or a 429 is a retriable failure; any other unexpected status is
// permanent; a destination the egress policy refuses is permanent and
// nothing is sent. Outputs: `status`, and `body` (the first 4 KiB, valid
// UTF-8) only when the step sets keepResponseBody; a failure message quotes
// the body only then too.
//
// Secrets (a URL from `urlFrom`, header values from `valueFrom`) never
// appear in messages or outputs: such a URL is named "the URL from Secret
// NAME key KEY", and every occurrence of a secret value (say, in a response
// body that echoes a header) is replaced by "[redacted]".
//
// Dry run sends nothing, whatever the method.
#pragma once

#include "actions/action.h"
#include "actions/web_client.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::actions {

struct WebActionOptions {
  // Null: makeWebClient().
  std::shared_ptr<WebClient> client;
  WebTlsOptions tls;
  // Where requests may go; null refuses every request.
  std::shared_ptr<const EgressRules> egress;
  // Redirects followed, each to a destination the egress policy allows.
  int maxRedirects = 5;
  // The most one request may take, however long the step's timeout.
  std::chrono::milliseconds maxRequestTimeout{std::chrono::minutes(5)};
  // How much of a response body is read (the output keeps 4 KiB of it).
  size_t maxResponseBytes = 64 * 1024;
};

class HttpAction : public Action {
 public:
  explicit HttpAction(WebActionOptions options);
  std::string field() const override { return "http"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;

 private:
  WebActionOptions options_;
};

std::unique_ptr<Action> makeHttpAction(WebActionOptions options = {});

// ---- shared by the web actions (http, notify, the Prometheus steps) ----

// The most bytes of a response body an `http` step outputs.
inline constexpr size_t kBodyOutputBytes = 4096;

// A step's `url` or `urlFrom` (a Secret key) resolved.
struct WebTarget {
  std::string url;
  // For messages: the URL without user info, or "the URL from Secret NAME
  // key KEY".
  std::string description;
  // Values that must never be reported: the URL and its parts when it came
  // from a Secret, a literal URL's user info and password (and the Basic
  // authorization made of them).
  std::vector<std::string> secrets;
  // The URL came from a Secret or carries credentials: the request goes only
  // to hosts the egress allow-list names.
  bool carriesSecrets = false;
};

// Reads params.url or params.urlFrom (`field` names the step field for
// messages: "http", "notify"). On failure returns the outcome to report.
std::optional<ActionOutcome> resolveWebTarget(const json& params, const std::string& field,
                                              const ActionContext& context, WebTarget* target);

// The time a request may take: what is left of the attempt (context.deadline
// - context.now), at most `cap`; `cap` when the context has no deadline.
// nullopt when the deadline has passed.
std::optional<std::chrono::milliseconds> requestTimeout(const ActionContext& context,
                                                        std::chrono::milliseconds cap);

// `url` without user info ("https://user:pw@host/x" -> "https://host/x").
std::string displayUrl(const std::string& url);

}  // namespace remedy::actions
