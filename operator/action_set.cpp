#include "action_set.h"

#include "actions/http_action.h"
#include "actions/kubernetes_actions.h"
#include "actions/notify_action.h"
#include "actions/postgres_action.h"
#include "actions/prometheus_action.h"
#include "actions/redis_action.h"

namespace remedy::op {

std::unique_ptr<actions::ActionRegistry> buildActionRegistry(const Options& options) {
  actions::KubernetesActionOptions kubernetes;
  kubernetes.patch.allowedKinds = options.patchAllowedKinds;
  kubernetes.apply.allowedKinds = options.applyAllowedKinds;
  auto registry = actions::kubernetesActionRegistry(kubernetes);
  registry->add(actions::makePostgresAction());
  registry->add(actions::makeRedisAction());
  actions::WebTlsOptions tls;
  tls.caFile = options.actionsCaFile;
  tls.verify = !options.actionsInsecureSkipTlsVerify;
  actions::WebActionOptions http;
  http.tls = tls;
  registry->add(actions::makeHttpAction(http));
  actions::NotifyOptions notify;
  notify.incidentLinkBase = options.incidentLinkBase;
  notify.tls = tls;
  registry->add(actions::makeNotifyAction(notify));
  actions::PrometheusCheckOptions prometheus;
  prometheus.defaultUrl = options.prometheusUrl;
  prometheus.tls = tls;
  registry->add(actions::makePrometheusCheckAction(prometheus));
  return registry;
}

}  // namespace remedy::op
