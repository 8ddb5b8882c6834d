#!/usr/bin/env bash
# The PriorityLevelConfiguration and FlowSchema of operator/README.md ("A
# priority level of its own"), read from the README as written, on
# kube-apiserver: the server accepts them (flowcontrol.apiserver.k8s.io/v1),
# and API Priority and Fairness classifies a request of the ServiceAccount
# they name by that FlowSchema into that level (the X-Kubernetes-PF-*
# response headers). A request impersonating a Runbook's ServiceAccount is
# classified as that account (the built-in service-accounts FlowSchema)
# until, as the README says, a subject for it is added.
#
# Only names change, so parallel runs never share the cluster-scoped
# objects: remedy -> this test's name, remedy-system -> its namespace.
#
# usage: flowschema_test.sh   (REMEDY_CLUSTER_DIR: the control plane)
source "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REMEDY_TEST_APISERVER=real
start_apiserver /nonexistent

NAME=remedy-fs-$$
cleanup_flowcontrol() {
  k delete flowschema "$NAME" --ignore-not-found >/dev/null 2>&1
  k delete prioritylevelconfiguration "$NAME" --ignore-not-found >/dev/null 2>&1
  k delete clusterrolebinding "$NAME" --ignore-not-found >/dev/null 2>&1
  k delete clusterrole "$NAME" --ignore-not-found >/dev/null 2>&1
}
trap 'cleanup_flowcontrol; cleanup' EXIT

# The YAML block between the README's flowschema markers.
doc=$(awk '/<!-- flowschema:begin -->/{on=1; next} /<!-- flowschema:end -->/{on=0} on' \
  "$ROOT/operator/README.md" | sed '/^```/d')
assert_contains "the README carries the PriorityLevelConfiguration" "kind: PriorityLevelConfiguration" "$doc"
assert_contains "the README carries the FlowSchema" "kind: FlowSchema" "$doc"
# The two objects' names, the FlowSchema's level and the ServiceAccount:
# exactly what is renamed, so nothing else of the README's text is changed.
assert_eq "the README names remedy four times" 4 "$(grep -c 'name: remedy$' <<<"$doc")"
assert_eq "the README names remedy-system once" 1 "$(grep -c 'namespace: remedy-system$' <<<"$doc")"
yaml=$(sed -e "s/name: remedy\$/name: $NAME/" -e "s/namespace: remedy-system\$/namespace: $TEST_NS/" <<<"$doc")

applied=$(k apply -f - <<<"$yaml" 2>&1)
assert_contains "kube-apiserver accepts the priority level" "prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/$NAME created" "$applied"
assert_contains "kube-apiserver accepts the FlowSchema" "flowschema.flowcontrol.apiserver.k8s.io/$NAME created" "$applied"

fs_uid=$(k get flowschema "$NAME" -o jsonpath='{.metadata.uid}')
pl_uid=$(k get prioritylevelconfiguration "$NAME" -o jsonpath='{.metadata.uid}')
k create serviceaccount "$NAME" >/dev/null
k create serviceaccount remedy-runner >/dev/null
# Remedy's ServiceAccount may impersonate the runner, as the chart lets it.
k create clusterrole "$NAME" --verb=impersonate --resource=serviceaccounts \
  --resource-name=remedy-runner >/dev/null
k create clusterrolebinding "$NAME" --clusterrole="$NAME" \
  --serviceaccount="$TEST_NS:$NAME" >/dev/null
token=$(k create token "$NAME" -n "$TEST_NS")

# The X-Kubernetes-PF-* headers of a GET as Remedy's ServiceAccount (the
# answer itself may be 403: classification comes before authorization).
pf_headers() {
  curl -s --cacert "$CA_FILE" -o /dev/null -D - -H "Authorization: Bearer $token" "$@" \
    "$API_URL/api/v1/namespaces/$TEST_NS/configmaps" | tr -d '\r' | grep -i '^x-kubernetes-pf-'
}
classified_as_remedy() {
  local h
  h=$(pf_headers "$@")
  grep -qi "^x-kubernetes-pf-flowschema-uid: $fs_uid\$" <<<"$h" &&
    grep -qi "^x-kubernetes-pf-prioritylevel-uid: $pl_uid\$" <<<"$h"
}

# APF's configuration controller takes the new objects up within seconds.
if wait_for 30 "Remedy's requests in its FlowSchema" classified_as_remedy; then
  ok "a request of Remedy's ServiceAccount is classified by the FlowSchema into its priority level"
else
  not_ok "a request of Remedy's ServiceAccount is not classified by the FlowSchema: $(pf_headers)"
fi

as_runner=(-H "Impersonate-User: system:serviceaccount:$TEST_NS:remedy-runner")
headers=$(pf_headers "${as_runner[@]}")
if [[ -n $headers ]] && ! classified_as_remedy "${as_runner[@]}"; then
  ok "a request impersonating a Runbook's ServiceAccount is classified as that account"
else
  not_ok "an impersonated request: [$headers]"
fi
k patch flowschema "$NAME" --type=json -p "[{\"op\": \"add\", \"path\": \"/spec/rules/0/subjects/-\",
  \"value\": {\"kind\": \"ServiceAccount\", \"serviceAccount\": {\"namespace\": \"$TEST_NS\",
  \"name\": \"remedy-runner\"}}}]" >/dev/null
if wait_for 30 "the runner in Remedy's FlowSchema" classified_as_remedy "${as_runner[@]}"; then
  ok "with a subject for it, the impersonated runner's requests are in Remedy's level too"
else
  not_ok "the runner's subject did not move its requests: $(pf_headers "${as_runner[@]}")"
fi

finish
