// The `prometheusCheck` step: an instant PromQL query (GET
// URL/api/v1/query?query=...) polled until every sample compares true with
// the threshold, for `holdFor` if set. It never waits itself: while the check
// does not pass it returns InProgress with retryAfter = pollInterval, and the
// step's timeout (the engine's) ends it.
//
// - A vector passes when every sample compares true; a scalar is one sample;
//   an empty vector passes or not as `emptyResult` says (default Fail).
//   A range vector or a string is a permanent failure.
// - holdFor: the first passing poll records `holdingSince` in the
//   InProgress outputs, which the engine hands back in
//   ActionContext::baseline; a failing poll resets it (to ""). The record is
//   tied to the attempt (`holdingAttempt`), so a retry after a failed
//   attempt starts the hold again.
// - Query errors that Prometheus reports (bad_data: a PromQL syntax error;
//   execution) are permanent, with Prometheus's message; a connection
//   failure, a timeout or a 5xx is retriable.
// Outputs: `value` (the sample that decided: the first failing one, else the
// last one; "" for an empty result) and `samples` (every sample compared,
// `{labels} value`, bounded to 2 KiB).
#pragma once

#include "actions/action.h"
#include "actions/web_client.h"

#include <chrono>
#include <memory>
#include <string>

namespace remedy::actions {

struct PrometheusCheckOptions {
  // The operator's --prometheus-url, for steps that give no `url`.
  std::string defaultUrl;
  // Null: makeWebClient().
  std::shared_ptr<WebClient> client;
  WebTlsOptions tls;
  // Where queries may go; null refuses every query.
  std::shared_ptr<const EgressRules> egress;
  int maxRedirects = 5;
  // The most one query may take (also sent as the query's `timeout`).
  std::chrono::milliseconds maxQueryTimeout{std::chrono::seconds(30)};
  // A larger answer is refused: aggregate the query instead.
  size_t maxResponseBytes = 4 * 1024 * 1024;
};

class PrometheusCheckAction : public Action {
 public:
  explicit PrometheusCheckAction(PrometheusCheckOptions options);
  std::string field() const override { return "prometheusCheck"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;

 private:
  PrometheusCheckOptions options_;
};

std::unique_ptr<Action> makePrometheusCheckAction(PrometheusCheckOptions options = {});

}  // namespace remedy::actions
