// The `notify` step (and the Runbook's escalation.notify messages, which have
// the same shape): a message POSTed as JSON to a webhook, `url` or `urlFrom`.
//
// Formats:
// - Slack: {"text": MESSAGE}, with "\n<LINK|Incident NS/NAME>" appended when
//   the operator has an Incident link base (also read by Mattermost and
//   Rocket.Chat).
// - Generic (the default):
//     {"message": MESSAGE,
//      "incident": {"name", "namespace", "phase", "runbook", "source", "link"},
//      "alert": {"name", "status", "labels", "annotations", "startsAt"}}
//   "link" only when the operator has an Incident link base.
// With no message (allowed for escalation messages) the message is a
// summary of the Incident.
//
// Any 2xx is success; a connection failure, a timeout, a 5xx or a 429 is
// retriable; another status, or a destination the egress policy refuses,
// is permanent. The response body is never reported. Outputs: `status` (""
// when nothing was sent). A URL from a Secret never appears in messages or
// outputs. Dry run, and an operator that does not deliver (drills), send
// nothing and succeed.
#pragma once

#include "actions/action.h"
#include "actions/web_client.h"

#include <chrono>
#include <memory>
#include <string>

namespace remedy::actions {

struct NotifyOptions {
  // False for drills: every notify succeeds with "not sent (drill)".
  bool deliver = true;
  // When set, messages carry a link to the Incident:
  // LINK_BASE/NAMESPACE/NAME (a trailing "/" of the base is ignored).
  std::string incidentLinkBase;
  // Null: makeWebClient().
  std::shared_ptr<WebClient> client;
  WebTlsOptions tls;
  // Where messages may go; null refuses every message.
  std::shared_ptr<const EgressRules> egress;
  int maxRedirects = 5;
  std::chrono::milliseconds maxRequestTimeout{std::chrono::seconds(30)};
};

class NotifyAction : public Action {
 public:
  explicit NotifyAction(NotifyOptions options);
  std::string field() const override { return "notify"; }
  ActionOutcome run(const json& params, const ActionContext& context) override;

  // The JSON body posted for `params` about `incident` (ActionContext::incident).
  json payload(const json& params, const json& incident) const;

 private:
  NotifyOptions options_;
};

std::unique_ptr<Action> makeNotifyAction(NotifyOptions options = {});

}  // namespace remedy::actions
