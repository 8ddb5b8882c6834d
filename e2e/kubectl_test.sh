#!/usr/bin/env bash
# The real kubectl against `remedyctl sandbox` over HTTPS, with a fresh cache,
# and the same test body against the real control plane: everything a user
# does with kubectl on a cluster must work the same on the sandbox.
# usage: [REMEDY_TEST_APISERVER=sandbox|real] kubectl_test.sh PATH/TO/remedyctl
source "$(dirname "$0")/lib.sh"
REMEDYCTL=$1
DATA="$(dirname "$0")/testdata"

start_apiserver "$REMEDYCTL" --tls --authorization

assert_contains "the API server serves HTTPS" "https://127.0.0.1:" "$API_URL"

# --- a Deployment: apply, get in every output format, wait ---
out=$(k apply -f "$DATA/web-deployment.yaml" 2>&1)
assert_contains "apply creates the Deployment" "deployment.apps/web created" "$out"
out=$(k apply -f "$DATA/web-deployment.yaml" 2>&1)
assert_contains "a second apply changes nothing" "deployment.apps/web unchanged" "$out"
assert_eq "get -o jsonpath reads spec.replicas" "2" "$(k get deploy web -o jsonpath='{.spec.replicas}')"
assert_contains "get -o yaml prints the object" "kind: Deployment" "$(k get deployment web -o yaml)"
assert_contains "get -o json prints the object" '"name": "web"' "$(k get deployment web -o json)"
out=$(k wait --for=condition=Available deployment/web --timeout=30s 2>&1)
assert_contains "wait --for=condition=Available" "condition met" "$out"
out=$(k wait --for=jsonpath='{.status.readyReplicas}'=2 deployment/web --timeout=30s 2>&1)
assert_contains "wait --for=jsonpath on readyReplicas" "condition met" "$out"
assert_eq "the Deployment's pods exist, selected by label" "2" "$(k get pods -l app=web -o name | wc -l)"
assert_eq "a selector that matches nothing lists nothing" "0" "$(k get pods -l 'app in (db,cache)' -o name | wc -l)"
assert_eq "a negated set selector matches the pods" "2" "$(k get pods -l 'app notin (db),!missing' -o name | wc -l)"
out=$(k get deployments 2>&1)
assert_contains "get prints the built-in columns" "UP-TO-DATE" "$out"
assert_contains "get prints the Deployment's row" "web    2/2" "$out"

# --- patch: strategic merge by default on a built-in kind ---
k patch deployment web -p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}' >/dev/null 2>&1
assert_eq "strategic patch replaces the image of the named container" "nginx:1.27" \
  "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[?(@.name=="web")].image}')"
assert_eq "strategic patch keeps the other containers" "web sidecar" \
  "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')"
assert_eq "strategic patch keeps the env list" "20" \
  "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="POOL_SIZE")].value}')"
assert_eq "a spec change increments generation" "2" "$(k get deploy web -o jsonpath='{.metadata.generation}')"

# --- scale and rollout restart ---
out=$(k scale deployment web --replicas=3 2>&1)
assert_contains "scale" "deployment.apps/web scaled" "$out"
out=$(k wait --for=jsonpath='{.status.readyReplicas}'=3 deployment/web --timeout=30s 2>&1)
assert_contains "the scaled Deployment reaches 3 ready replicas" "condition met" "$out"
before=$(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
out=$(k rollout restart deployment/web 2>&1)
assert_contains "rollout restart" "deployment.apps/web restarted" "$out"
out=$(k rollout status deployment/web --timeout=30s 2>&1)
assert_contains "rollout status sees the rollout finish" "successfully rolled out" "$out"
after=$(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
replaced=yes
for p in $before; do [[ " $after " == *" $p "* ]] && replaced=no; done
assert_eq "rollout restart replaced every pod" "yes" "$replaced"
assert_eq "three pods after the restart" "3" "$(wc -w <<<"$after")"

# --- a CRD and custom objects ---
# (On the real control plane the CRD is shared by the run; no other test
# uses this group.)
out=$(k apply -f "$DATA/widgets-crd.yaml" 2>&1)
assert_contains "apply creates the CRD" "customresourcedefinition.apiextensions.k8s.io/widgets.example.com" "$out"
out=$(k wait --for=condition=Established crd/widgets.example.com --timeout=30s 2>&1)
assert_contains "the CRD becomes Established" "condition met" "$out"
out=$(k apply -f "$DATA/widget.yaml" 2>&1)
assert_contains "apply creates a custom object" "widget.example.com/w1 created" "$out"
out=$(k get widgets 2>&1)
assert_contains "get prints the printer columns" "NAME   SIZE   COLOR   READY   AGE" "$out"
assert_contains "get prints the custom object's row" "w1     2      red" "$out"
out=$(k apply -f "$DATA/widget-unknown-field.yaml" 2>&1)
assert_contains "kubectl's strict field validation refuses an unknown field" \
  'strict decoding error: unknown field "spec.colour"' "$out"
out=$(k apply --validate=false -f "$DATA/widget-unknown-field.yaml" 2>&1)
assert_contains "without validation the object is created" "widget.example.com/w-extra created" "$out"
assert_eq "and the unknown field is pruned" "" "$(k get wd w-extra -o jsonpath='{.spec.colour}')"
assert_eq "and the schema default is applied" "green" "$(k get wd w-extra -o jsonpath='{.spec.color}')"
out=$(k patch widget w1 --type merge -p '{"spec":{"size":3}}' 2>&1)
assert_contains "merge patch on a custom object" "widget.example.com/w1 patched" "$out"
assert_eq "the merge patch applied" "3" "$(k get widget w1 -o jsonpath='{.spec.size}')"
out=$(k patch widget w1 -p '{"spec":{"size":4}}' 2>&1)
assert_contains "strategic merge patch on a custom object is refused (415)" "the body of the request was in an unknown format" "$out"
out=$(k scale widget w1 --replicas=5 2>&1)
assert_contains "scale through a CRD's scale subresource" "widget.example.com/w1 scaled" "$out"
assert_eq "the scale subresource wrote specReplicasPath" "5" "$(k get widget w1 -o jsonpath='{.spec.size}')"
out=$(k create -f "$DATA/widget-invalid.yaml" 2>&1)
assert_contains "an invalid custom object names the field (maximum)" "spec.size" "$out"
assert_contains "an invalid custom object names the field (enum)" 'spec.color: Unsupported value: "purple"' "$out"
out=$(k explain widgets.spec 2>&1)
assert_contains "explain prints the field descriptions" "How big the widget is" "$out"

# --- finalizers ---
k create configmap held --from-literal=a=b >/dev/null
k patch configmap held --type merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
out=$(k delete configmap held --wait=false 2>&1)
assert_contains "delete of an object with a finalizer is accepted" 'configmap "held" deleted' "$out"
assert_contains "the object stays, with a deletionTimestamp" "T" "$(k get configmap held -o jsonpath='{.metadata.deletionTimestamp}')"
k patch configmap held --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
out=$(k get configmap held 2>&1)
assert_contains "removing the last finalizer deletes the object" 'configmaps "held" not found' "$out"

# --- RBAC: a user without permission is Forbidden ---
if ! on_real; then
  # The sandbox's admin endpoint adds an identity (the real control plane's
  # users have client certificates).
  admin_token=$(k config view --raw -o jsonpath='{.users[0].user.token}')
  curl -sf --cacert <(k config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d) \
    -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
    -d '{"token":"viewer-token","user":"viewer","groups":["viewers"]}' "$API_URL/sandbox/v1/tokens" >/dev/null
  k config set-credentials viewer --token=viewer-token >/dev/null
fi
out=$(k --user viewer get pods 2>&1)
assert_contains "a user without RBAC permission gets Forbidden" \
  "pods is forbidden: User \"$VIEWER\" cannot list resource \"pods\" in API group \"\" in the namespace \"$TEST_NS\"" "$out"
k create role pod-reader --verb=get,list,watch --resource=pods >/dev/null
k create rolebinding viewer-reads-pods --role=pod-reader --group="$VIEWER_GROUP" >/dev/null
out=$(k --user viewer get pods -l app=web -o name 2>&1)
assert_contains "a RoleBinding to the user's group grants access" "pod/web-" "$out"
out=$(k --user viewer delete pods -l app=web 2>&1)
assert_contains "verbs outside the Role stay forbidden" 'cannot delete resource "pods"' "$out"
assert_eq "auth can-i agrees" "no" "$(k --user viewer auth can-i delete pods 2>/dev/null)"
assert_contains "auth whoami names the user" "$VIEWER" "$(k --user viewer auth whoami 2>&1)"

wait_for 20 "the namespace's default ServiceAccount" k get serviceaccount default
sa_token=$(k create token default 2>&1)
# A user of its own: with --token alone, kubectl would still present the
# administrator's client certificate on the real control plane.
k config set-credentials default-sa --token="$sa_token" >/dev/null
out=$(k --user default-sa auth whoami 2>&1)
assert_contains "a TokenRequest token authenticates as the service account" "system:serviceaccount:$TEST_NS:default" "$out"
out=$(k --user default-sa get pods 2>&1)
assert_contains "the service account has no permissions until bound" \
  "User \"system:serviceaccount:$TEST_NS:default\" cannot list resource \"pods\"" "$out"

# --- diff (server-side dry run) ---
sed 's/replicas: 2/replicas: 5/' "$DATA/web-deployment.yaml" >"$WORKDIR/web-5.yaml"
out=$(k diff -f "$WORKDIR/web-5.yaml" 2>&1)
assert_contains "kubectl diff shows the change a server-side dry run computes" "+  replicas: 5" "$out"
assert_eq "the dry run changed nothing" "3" "$(k get deploy web -o jsonpath='{.spec.replicas}')"

# --- delete cascades to owned objects ---
out=$(k delete deployment web 2>&1)
assert_contains "delete the Deployment" 'deployment.apps "web" deleted' "$out"
wait_for 20 "the Deployment's pods to be garbage-collected" bash -c "[[ -z \"\$('$KUBECTL_BIN' --kubeconfig '$KUBECONFIG_FILE' --cache-dir '$WORKDIR/cache' get pods -l app=web -o name)\" ]]" \
  && ok "owned ReplicaSets and Pods are deleted with their owner" || not_ok "owned pods remain after the owner's deletion"

finish
