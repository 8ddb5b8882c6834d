#include "action_set.h"

#include "actions/http_action.h"
#include "actions/kubernetes_actions.h"
#include "actions/notify_action.h"
#include "actions/postgres_action.h"
#include "actions/prometheus_action.h"
#include "actions/redis_action.h"

namespace remedy::op {
namespace {

// The host of an http(s) URL, or "".
std::string hostOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  std::string authority =
      url.substr(scheme + 3, url.find_first_of("/?#", scheme + 3) - (scheme + 3));
  authority =
      authority.substr(authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
  if (!authority.empty() && authority[0] == '[') {
    return authority.substr(1, authority.find(']') - 1);
  }
  return authority.substr(0, authority.rfind(':'));
}

}  // namespace

std::shared_ptr<const actions::EgressRules> egressRules(
    const Options& options, const std::vector<std::string>& apiServerAddresses) {
  actions::EgressPolicy policy;
  policy.allow = options.egressAllow;
  std::string prometheus = hostOf(options.prometheusUrl);
  if (!prometheus.empty()) policy.allow.push_back(prometheus);
  policy.deny = options.egressDeny;
  for (const auto& address : apiServerAddresses) policy.deny.push_back(address);
  std::string error;
  auto rules = actions::EgressRules::make(policy, &error);
  // The options were checked when parsed; the API server's addresses are
  // addresses. Should anything still fail, nothing is allowed.
  if (!rules) return std::make_shared<const actions::EgressRules>();
  return std::make_shared<const actions::EgressRules>(std::move(*rules));
}

std::unique_ptr<actions::ActionRegistry> buildActionRegistry(
    const Options& options, std::shared_ptr<const actions::EgressRules> egress) {
  actions::KubernetesActionOptions kubernetes;
  kubernetes.patch.allowedKinds = options.patchAllowedKinds;
  kubernetes.apply.allowedKinds = options.applyAllowedKinds;
  kubernetes.runJobServiceAccounts = options.runJobServiceAccounts;
  auto registry = actions::kubernetesActionRegistry(kubernetes);
  registry->add(actions::makePostgresAction());
  registry->add(actions::makeRedisAction());
  actions::WebTlsOptions tls;
  tls.caFile = options.actionsCaFile;
  tls.verify = !options.actionsInsecureSkipTlsVerify;
  actions::WebActionOptions http;
  http.tls = tls;
  http.egress = egress;
  registry->add(actions::makeHttpAction(http));
  actions::NotifyOptions notify;
  notify.incidentLinkBase = options.incidentLinkBase;
  notify.tls = tls;
  notify.egress = egress;
  registry->add(actions::makeNotifyAction(notify));
  actions::PrometheusOptions prometheus;
  prometheus.defaultUrl = options.prometheusUrl;
  prometheus.tls = tls;
  prometheus.egress = egress;
  registry->add(actions::makePrometheusCheckAction(prometheus));
  registry->add(actions::makePrometheusQueryAction(prometheus));
  return registry;
}

}  // namespace remedy::op
