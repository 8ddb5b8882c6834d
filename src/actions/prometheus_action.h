// The Prometheus steps, both one instant PromQL query (GET
// URL/api/v1/query?query=...) to the step's `url` or the operator's
// --prometheus-url, through the WebClient under the egress rules, its answer
// bounded by maxResponseBytes. Query errors that Prometheus reports
// (bad_data: a PromQL syntax error; execution) are permanent, with
// Prometheus's message; a connection failure, a timeout or a 5xx is
// retriable. A scalar is one sample without labels; a range vector or a
// string is a permanent failure.
//
// `prometheusCheck` polls the query until every sample compares true with
// the threshold, for `holdFor` if set. It never waits itself: while the check
// does not pass it returns InProgress with retryAfter = pollInterval, and the
// step's timeout (the engine's) ends it.
// - A vector passes when every sample compares true; an empty vector passes
//   or not as `emptyResult` says (default Fail).
// - holdFor: the first passing poll records `holdingSince` in the
//   InProgress outputs, which the engine hands back in
//   ActionContext::baseline; a failing poll resets it (to ""). The record is
//   tied to the attempt (`holdingAttempt`), so a retry after a failed
//   attempt starts the hold again.
// Outputs: `value` (the sample that decided: the first failing one, else the
// last one; "" for an empty result) and `samples` (every sample compared,
// `{labels} value`, bounded to 2 KiB).
//
// `prometheusQuery` asks once and reports what it got, for later steps'
// `when` and templates; it only reads, so it runs in dry runs too. The
// samples are sorted by value, highest first (NaN last), equal values by
// their labels, and the first `maxSeries` (1 to 100, default 10) kept.
// Outputs: `series` (how many the query returned), `value` (the first
// sample's value, "" when none), `metric` (its __name__, "" when none),
// `labels` (its other labels, `{k="v",...}`, "" when none), `label_NAME`
// for each of those labels whose name is an identifier (at most 32, each
// value cut to 512 bytes), `samples` (the kept samples, `name{labels}
// value`, bounded to 2 KiB) and `truncated` ("true" when series were left
// out or a label value was cut).
#pragma once

#include "actions/action.h"
#include "actions/web_client.h"

#include <chrono>
#include <memory>
#include <string>

namespace remedy::actions {

struct PrometheusOptions {
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
  explicit PrometheusCheckAction(PrometheusOptions options);
  std::string field() const override { return "prometheusCheck"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;

 private:
  PrometheusOptions options_;
};

class PrometheusQueryAction : public Action {
 public:
  explicit PrometheusQueryAction(PrometheusOptions options);
  std::string field() const override { return "prometheusQuery"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;

 private:
  PrometheusOptions options_;
};

std::unique_ptr<Action> makePrometheusCheckAction(PrometheusOptions options = {});
std::unique_ptr<Action> makePrometheusQueryAction(PrometheusOptions options = {});

}  // namespace remedy::actions
