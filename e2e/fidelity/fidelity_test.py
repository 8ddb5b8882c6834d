#!/usr/bin/python3
"""The differential fidelity suite: the same requests sent to the sandbox
(`remedyctl sandbox`) and to the real kube-apiserver of e2e/cluster, by three
clients nobody else in this suite shares code with:

  kubectl             the real one (get/apply/patch/explain/api-resources)
  src/kube            fidelity_probe, a small program over RestClient
  python3-kubernetes  Debian's python3-kubernetes (typed APIs, watch, raw calls)

Each check runs once per server, in a namespace of the same name on both;
the answers are normalised (see normalise()) and compared. A difference
fails the suite unless allowlist.yaml lists it with its reason; an allow-list
entry that matches no difference fails it too, so the list stays true.

usage: /usr/bin/python3 fidelity_test.py --remedyctl PATH --probe PATH
                                         --cluster-dir DIR [--only REGEX] [-v]
"""

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import yaml

# python3-kubernetes, Debian's (imports only under /usr/bin/python3).
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes import dynamic as kdynamic
from kubernetes import watch as kwatch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"
AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


def deadline_poll(condition, seconds, what):
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise RuntimeError("timed out after %ss waiting for %s" % (seconds, what))
        time.sleep(0.1)  # polling interval of a wait-for-condition loop


# ---------------------------------------------------------------------------
# One API server and the three clients pointed at it
# ---------------------------------------------------------------------------

class Server:
    def __init__(self, name, kubeconfig, workdir, probe):
        self.name = name
        self.kubeconfig = kubeconfig
        self.cache = os.path.join(workdir, "kubectl-cache-" + name)
        self.api = kconfig.new_client_from_config(config_file=kubeconfig)
        self.probe_process = subprocess.Popen([probe, kubeconfig], stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, text=True, bufsize=1)

    def close(self):
        self.probe_process.stdin.close()
        self.probe_process.wait(timeout=30)
        self.api.close()

    # --- kubectl ---
    def kubectl(self, *args, stdin=None):
        """Exit code, stdout (a table as rows of {column: cell}) and stderr."""
        p = subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache] + list(args),
                           input=stdin, capture_output=True, text=True, timeout=60)
        out = p.stdout
        if out.startswith("{"):
            try:
                out = json.loads(out)
            except ValueError:
                pass
        return {"rc": p.returncode, "out": table_rows(out) if isinstance(out, str) else out,
                "err": p.stderr.strip()}

    # --- src/kube ---
    def probe(self, op, **request):
        request["op"] = op
        self.probe_process.stdin.write(json.dumps(request) + "\n")
        self.probe_process.stdin.flush()
        line = self.probe_process.stdout.readline()
        if not line:
            raise RuntimeError("fidelity_probe exited")
        return json.loads(line)

    # --- python3-kubernetes: raw calls through its ApiClient ---
    def call(self, method, path, query=None, body=None, content_type="application/json",
             accept="application/json", timeout=30):
        """(status code, content type, body as JSON or text) of one request."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            resp = self.api.call_api(path, method, query_params=list((query or {}).items()),
                                     header_params=headers, body=body, auth_settings=["BearerToken"],
                                     _preload_content=False, _return_http_data_only=True,
                                     _request_timeout=timeout)
            status, ctype, data = resp.status, resp.getheader("Content-Type", ""), resp.data
        except kclient.ApiException as e:
            status, ctype, data = e.status, (e.headers or {}).get("Content-Type", ""), e.body
        if isinstance(data, bytes):
            try:
                data = data.decode()
            except UnicodeDecodeError:
                data = "<%d bytes of binary>" % len(data)
        try:
            data = json.loads(data) if data else ""
        except ValueError:
            pass
        return {"code": status, "contentType": ctype.split(";")[0], "body": data}


def table_rows(text):
    """kubectl's printed table as [{column: cell}]: column widths depend on
    every row, so two servers' tables are compared cell by cell."""
    lines = text.splitlines()
    if not lines or not re.fullmatch(r"[A-Z][A-Z0-9_() -]*", lines[0].rstrip()):
        return text
    header = lines[0]
    # Columns are at least three spaces apart; a name may hold one ("LAST RUN").
    starts = [m.start() for m in re.finditer(r"(?:(?<=^)|(?<=  ))[A-Z]", header)]
    names = [header[a:b].strip() for a, b in zip(starts, starts[1:] + [len(header) + 1000])]
    rows = []
    for line in lines[1:]:
        rows.append({n: line[a:b].strip() for n, a, b in zip(names, starts, starts[1:] + [len(line) + 1000])})
    return rows


# ---------------------------------------------------------------------------
# Normalisation: what legitimately differs between two servers, or two runs
# ---------------------------------------------------------------------------

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
# Keys whose values are the server's own and compared by presence only.
OPAQUE_KEYS = {
    "uid": "<uid>", "resourceVersion": "<rv>", "continue": "<continue>",
    "creationTimestamp": "<time>", "deletionTimestamp": "<time>", "selfLink": "<selfLink>",
    "clusterIP": "<ip>", "token": "<token>", "storageVersionHash": "<hash>",
}
# Dropped everywhere: field ownership is structured-merge-diff's (allow-listed
# as a feature, never compared field by field).
DROPPED_KEYS = {"managedFields"}


def normalise(value):
    """A copy with server-chosen values replaced by placeholders: uids,
    timestamps, resourceVersions, continue tokens, cluster IPs, tokens,
    managedFields, and the random suffix of names from a generateName of
    "gen-" (and of the ServiceAccount token volume)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in DROPPED_KEYS:
                continue
            if k in OPAQUE_KEYS and isinstance(v, (str, int)) and v != "":
                out[k] = OPAQUE_KEYS[k]
            elif k == "clusterIPs" and isinstance(v, list):
                out[k] = ["<ip>" for _ in v]
            elif k == "verbs" and isinstance(v, list):
                out[k] = sorted(v)  # a set; kube-apiserver's order varies by kind
            elif k == "causes" and isinstance(v, list):
                # kube-apiserver walks a schema's properties in Go map order:
                # the order of the causes (and of the message that joins
                # them) is not stable from one request to the next.
                out[k] = sorted((normalise(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
            elif k == "VERBS" and isinstance(v, str):
                out[k] = ",".join(sorted(v.split(",")))  # kubectl api-resources' column
            else:
                out[k] = normalise(v)
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        if UUID.match(value):
            return "<uid>"
        if TIME.match(value):
            return "<time>"
        value = re.sub(r"\b([Gg]en[-_])[a-z0-9]{5}\b", r"\1<generated>", value)
        value = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uid>", value)
        value = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", value)
        # Why a continue token is bad is the decoder's business (Go's JSON
        # error there); which current resourceVersion a 410 names is the
        # server's.
        value = re.sub(r"(continue key is not valid: ).*", r"\1<detail>", value)
        value = re.sub(r"^(.* is invalid: )\[.*\]$", r"\1[<the causes, in details>]", value, flags=re.S)
        value = re.sub(r"(too old resource version: \d+) \(\d+\)", r"\1 (<rv>)", value)
        value = re.sub(r"kube-api-access-[a-z0-9]{5}", "kube-api-access-<generated>", value)
        return re.sub(r"\b(\d+)s\b|\b\d+m\d*s?\b|\b\d+h\d*m?\b|<invalid>", "<age>", value) \
            if re.fullmatch(r"(\d+[smhd])+|<invalid>", value) else value
    return value


def diff(a, b, path=""):
    """[(path, sandbox value, real value)] where the two differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            p = "%s.%s" % (path, k) if path else str(k)
            if k not in a:
                out.append((p, "<absent>", b[k]))
            elif k not in b:
                out.append((p, a[k], "<absent>"))
            else:
                out += diff(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, "%s[%d]" % (path, i))
        return out
    return [] if a == b else [(path, a, b)]


# ---------------------------------------------------------------------------
# Objects of every kind the sandbox serves
# ---------------------------------------------------------------------------

def crd(group, kind, plural):
    """A CRD with a structural schema, printer columns, and the scale and
    status subresources."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "%s.%s" % (plural, group)},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": ["fg"],
                      "categories": ["fidelity"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size",
                                                         "statusReplicasPath": ".status.size"}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}],
                "schema": {"openAPIV3Schema": {
                    "type": "object", "description": "A gadget has a size and a color.",
                    "properties": {
                        "spec": {"type": "object", "required": ["size"], "description": "What it should be.",
                                 "properties": {
                                     "size": {"type": "integer", "minimum": 1, "maximum": 10,
                                              "description": "How big, 1 to 10."},
                                     "color": {"type": "string", "enum": ["red", "green", "blue"],
                                               "default": "green"},
                                     "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                                     "name": {"type": "string", "maxLength": 5},
                                     "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}},
                        "status": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]},
    }


def builtin_objects(ns):
    """(apiVersion, kind, plural, namespaced, object) of the built-in kinds
    the sandbox serves; objects the controllers leave alone where possible
    (a Deployment of 0 replicas, a suspended Job and CronJob)."""
    meta = lambda name: {"name": name, "namespace": ns, "labels": {"fidelity": "yes"}}  # noqa: E731
    pod_template = {"metadata": {"labels": {"app": "f"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
    selector = {"matchLabels": {"app": "f"}}
    return [
        ("v1", "ConfigMap", "configmaps", True, {"metadata": meta("cm"), "data": {"a": "1"}}),
        ("v1", "Secret", "secrets", True, {"metadata": meta("sec"), "stringData": {"k": "v"}}),
        ("v1", "ServiceAccount", "serviceaccounts", True, {"metadata": meta("sa")}),
        ("v1", "Service", "services", True,
         {"metadata": meta("svc"), "spec": {"selector": {"app": "f"}, "ports": [{"port": 80}]}}),
        ("v1", "Pod", "pods", True, {"metadata": meta("pod"), "spec": pod_template["spec"]}),
        ("v1", "Event", "events", True,
         {"metadata": meta("ev"), "involvedObject": {"kind": "ConfigMap", "name": "cm", "namespace": ns},
          "reason": "Test", "message": "m", "type": "Normal"}),
        ("apps/v1", "Deployment", "deployments", True,
         {"metadata": meta("dep"), "spec": {"replicas": 0, "selector": selector, "template": pod_template}}),
        ("apps/v1", "StatefulSet", "statefulsets", True,
         {"metadata": meta("sts"), "spec": {"replicas": 0, "serviceName": "svc", "selector": selector,
                                            "template": pod_template}}),
        ("apps/v1", "ReplicaSet", "replicasets", True,
         {"metadata": meta("rs"), "spec": {"replicas": 0, "selector": selector, "template": pod_template}}),
        ("apps/v1", "DaemonSet", "daemonsets", True,
         {"metadata": meta("ds"), "spec": {"selector": selector, "template": dict(
             pod_template, spec=dict(pod_template["spec"], nodeSelector={"none": "none"}))}}),
        ("batch/v1", "Job", "jobs", True,
         {"metadata": meta("job"), "spec": {"suspend": True, "template": {
             "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}),
        ("batch/v1", "CronJob", "cronjobs", True,
         {"metadata": meta("cj"), "spec": {"schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {
             "spec": {"template": {"spec": {"restartPolicy": "Never",
                                            "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}}}),
        ("coordination.k8s.io/v1", "Lease", "leases", True,
         {"metadata": meta("lease"), "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}),
        ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True,
         {"metadata": meta("pdb"), "spec": {"minAvailable": 1, "selector": selector}}),
        ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True,
         {"metadata": meta("np"), "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
        ("rbac.authorization.k8s.io/v1", "Role", "roles", True,
         {"metadata": meta("role"), "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True,
         {"metadata": meta("rb"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                              "name": "role"},
          "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}]}),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False,
         {"metadata": {"name": ns + "-cr", "labels": {"fidelity": "yes"}},
          "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False,
         {"metadata": {"name": ns + "-crb", "labels": {"fidelity": "yes"}},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ns + "-cr"},
          "subjects": [{"kind": "Group", "name": "g", "apiGroup": "rbac.authorization.k8s.io"}]}),
    ]


def api_path(api_version, plural, ns, name=""):
    base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
    path = base + ("/namespaces/%s" % ns if ns else "") + "/" + plural
    return path + ("/" + name if name else "")


def resource_of(api_version, plural, namespaced):
    group, _, version = api_version.rpartition("/")
    return {"group": group, "version": version, "resource": plural, "namespaced": namespaced}


# ---------------------------------------------------------------------------
# The checks: each returns {observation: value} for one server
# ---------------------------------------------------------------------------

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


class Context:
    """What a check gets: the server, the namespace (same name on both), and
    the sandbox's resource list (the kinds compared)."""

    def __init__(self, server, ns, group, sandbox_resources, sandbox_names):
        self.s = server
        self.ns = ns
        self.group = group  # the suite's CRD group
        self.sandbox_resources = sandbox_resources  # [(groupVersion, resource)]
        self.sandbox_names = sandbox_names  # {groupVersion: [resource and subresource names]}


@check
def discovery(c):
    s = c.s
    out = {}
    api = s.call("GET", "/api")
    out["python GET /api"] = {"code": api["code"], "kind": api["body"].get("kind"),
                              "versions": api["body"].get("versions")}
    groups = s.call("GET", "/apis")["body"]
    wanted = {g for g, _ in c.sandbox_resources}
    out["python GET /apis (the sandbox's groups)"] = sorted(
        [g for g in groups["groups"] if g["name"] in wanted], key=lambda g: g["name"])
    for gv in sorted({gv for gv, _ in c.sandbox_resources}):
        path = "/api/v1" if gv == "v1" else "/apis/" + gv
        body = s.call("GET", path)["body"]
        # The resources and subresources the sandbox serves (kube-apiserver
        # serves more: pods/exec, nodes, ...; the sandbox is a subset).
        mine = set(c.sandbox_names.get(gv, []))
        out["python GET " + path] = {
            "kind": body.get("kind"), "groupVersion": body.get("groupVersion"),
            "resources": sorted([r for r in body.get("resources", []) if r["name"] in mine],
                                key=lambda r: r["name"])}
    aggregated = s.call("GET", "/apis", accept=AGGREGATED)
    out["python GET /apis as APIGroupDiscoveryList"] = {
        "contentType": aggregated["contentType"], "kind": aggregated["body"].get("kind")}
    rows = s.kubectl("api-resources", "-o", "wide")["out"]
    mine = set(c.sandbox_resources)
    out["kubectl api-resources -o wide (the sandbox's resources)"] = sorted(
        [r for r in rows if (r.get("APIVERSION"), r.get("NAME")) in mine], key=lambda r: (r["APIVERSION"], r["NAME"])) \
        if isinstance(rows, list) else rows
    dyn = kdynamic.DynamicClient(s.api)
    found = {}
    for api_version, kind in (("v1", "ConfigMap"), ("apps/v1", "Deployment"), ("batch/v1", "CronJob"),
                              ("rbac.authorization.k8s.io/v1", "ClusterRole"),
                              (c.group + "/v1", "Gadget"), ("remedy.dev/v1alpha1", "Runbook")):
        r = dyn.resources.get(api_version=api_version, kind=kind)
        found[kind] = {"name": r.name, "namespaced": r.namespaced, "verbs": sorted(r.verbs or []),
                       "shortNames": r.short_names, "categories": getattr(r, "categories", None)}
        found[kind + " (src/kube)"] = s.probe("resourceFor", apiVersion=api_version, kind=kind)
    out["discovery of kinds"] = found
    return out


@check
def version(c):
    s = c.s
    out = {}
    for path in ("/version", "/version/"):
        r = s.call("GET", path)
        body = r["body"]
        out["python GET " + path] = {"code": r["code"], "keys": sorted(body) if isinstance(body, dict) else body}
    v = s.kubectl("version", "-o", "json")
    out["kubectl version"] = {"rc": v["rc"], "serverVersion keys": sorted(v["out"].get("serverVersion", {}))
                                                        if isinstance(v["out"], dict) else v["out"]}
    return out


@check
def crud_every_kind(c):
    """create, get, list by label, merge patch, dry-run create, delete of each
    built-in kind, with python3-kubernetes' raw calls; the create answers
    also through src/kube."""
    s = c.s
    out = {}
    for api_version, kind, plural, namespaced, obj in builtin_objects(c.ns):
        obj = dict(copy.deepcopy(obj), apiVersion=api_version, kind=kind)
        ns = c.ns if namespaced else ""
        name = obj["metadata"]["name"]
        res = {}
        created = s.call("POST", api_path(api_version, plural, ns), body=obj)
        res["create"] = created
        dry = copy.deepcopy(obj)
        dry["metadata"]["name"] = name + "-dry"
        res["dry-run create"] = s.call("POST", api_path(api_version, plural, ns), query={"dryRun": "All"}, body=dry)
        res["get after dry-run"] = s.call("GET", api_path(api_version, plural, ns, name + "-dry"))
        if kind not in ("Pod", "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "Service",
                        "PodDisruptionBudget"):
            # Controllers change the others' status as they please.
            res["get"] = s.call("GET", api_path(api_version, plural, ns, name))
        listed = s.call("GET", api_path(api_version, plural, ns), query={"labelSelector": "fidelity=yes"})
        res["list by label: names"] = sorted(i["metadata"]["name"] for i in listed["body"].get("items") or [])
        res["list: kind, apiVersion"] = [listed["body"].get("kind"), listed["body"].get("apiVersion")]
        patched = s.call("PATCH", api_path(api_version, plural, ns, name),
                         body={"metadata": {"labels": {"patched": "yes"}}},
                         content_type="application/merge-patch+json")
        # (A pod's generation is left out: the sandbox's simulator binds it
        # with an update of spec.nodeName, kube-scheduler through
        # pods/binding, and when that happens is theirs.)
        res["merge patch: labels, generation"] = [
            patched["code"], patched["body"].get("metadata", {}).get("labels"),
            None if kind == "Pod" else patched["body"].get("metadata", {}).get("generation")]
        res["src/kube get: kind, name"] = (lambda r: [r["ok"], r.get("value", {}).get("kind"),
                                                      r.get("value", {}).get("metadata", {}).get("name")])(
            s.probe("get", resource=resource_of(api_version, plural, namespaced), namespace=ns, name=name))
        deleted = s.call("DELETE", api_path(api_version, plural, ns, name))
        body = deleted["body"]
        # A deleted object's status is the controllers' (kwok's or the
        # simulator's): only what the delete itself says is compared.
        res["delete"] = {"code": deleted["code"], "kind": body.get("kind"),
                         "status": body.get("status") if body.get("kind") == "Status" else None,
                         "details": body.get("details"),
                         "deletionTimestamp": "deletionTimestamp" in body.get("metadata", {})}
        out[kind] = res
    return out


@check
def review_kinds(c):
    """The create-only kinds: who am I, may I, what may I."""
    s = c.s
    out = {}
    out["SelfSubjectAccessReview"] = s.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": c.ns, "verb": "get", "resource": "pods"}}})
    out["SubjectAccessReview"] = s.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "nobody", "resourceAttributes": {"namespace": c.ns, "verb": "get", "resource": "pods"}}})
    out["SubjectAccessReview without a user"] = s.call(
        "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body={"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})
    return out


@check
def custom_resources(c):
    """A CRD's objects: schema defaulting and pruning, 422 with causes,
    415 for strategic merge, the scale and status subresources, through
    python3-kubernetes and src/kube."""
    s = c.s
    out = {}
    api_version = c.group + "/v1"
    coll = api_path(api_version, "gadgets", c.ns)
    res = resource_of(api_version, "gadgets", True)
    g = {"apiVersion": api_version, "kind": "Gadget",
         "metadata": {"name": "g1", "namespace": c.ns, "labels": {"fidelity": "yes"}},
         "spec": {"size": 2, "unknown": "pruned", "extra": {"kept": True}}, "status": {"size": 9}}
    out["create (defaults, pruning, status ignored)"] = s.call("POST", coll, body=g)
    out["create again: 409"] = s.call("POST", coll, body=g)
    out["src/kube create again"] = s.probe("create", resource=res, namespace=c.ns, body=g)
    bad = {"apiVersion": api_version, "kind": "Gadget", "metadata": {"name": "bad", "namespace": c.ns},
           "spec": {"size": 42, "color": "purple", "tags": ["a", "b", "c"], "name": "toolong"}}
    out["invalid: 422 with causes"] = s.call("POST", coll, body=bad)
    out["src/kube invalid"] = s.probe("create", resource=res, namespace=c.ns, body=bad)
    out["missing required"] = s.call("POST", coll, body={"apiVersion": api_version, "kind": "Gadget",
                                                         "metadata": {"name": "req", "namespace": c.ns},
                                                         "spec": {}})
    out["wrong type"] = s.call("POST", coll, body={"apiVersion": api_version, "kind": "Gadget",
                                                   "metadata": {"name": "typ", "namespace": c.ns},
                                                   "spec": {"size": "two"}})
    out["strategic merge patch: 415"] = s.call("PATCH", coll + "/g1", body={"spec": {"size": 3}},
                                               content_type="application/strategic-merge-patch+json")
    out["src/kube strategic merge patch"] = s.probe("patch", resource=res, namespace=c.ns, name="g1",
                                                    body={"spec": {"size": 3}}, options={"type": "strategic"})
    out["json patch"] = s.call("PATCH", coll + "/g1", body=[{"op": "replace", "path": "/spec/size", "value": 4}],
                               content_type="application/json-patch+json")
    out["json patch with a failing test"] = s.call(
        "PATCH", coll + "/g1", body=[{"op": "test", "path": "/spec/size", "value": 99}],
        content_type="application/json-patch+json")
    out["get scale"] = s.call("GET", coll + "/g1/scale")
    scale = s.call("GET", coll + "/g1/scale")["body"]
    scale["spec"]["replicas"] = 5
    out["update scale"] = s.call("PUT", coll + "/g1/scale", body=scale)
    out["patch status"] = s.call("PATCH", coll + "/g1/status", body={"status": {"size": 5}, "spec": {"size": 1}},
                                 content_type="application/merge-patch+json")
    qualified = "gadgets." + c.group
    bad_crd = crd(c.group, "Thing", "things")
    bad_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = {
        "type": "object", "description": "Standard object metadata."}
    r = s.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=bad_crd)
    out["a CRD whose metadata schema has a description"] = {"code": r["code"], "message": r["body"].get("message")
                                                           if r["code"] != 201 else None}
    if r["code"] == 201:
        s.call("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things." + c.group)
    out["kubectl get gadgets"] = s.kubectl("-n", c.ns, "get", qualified)
    out["kubectl get -o wide"] = s.kubectl("-n", c.ns, "get", qualified, "-o", "wide")
    out["kubectl get fg (short name)"] = s.kubectl("-n", c.ns, "get", "fg", "-o", "name")
    out["kubectl get fidelity (category)"] = s.kubectl("-n", c.ns, "get", "fidelity", "-o", "name")
    out["kubectl patch (strategic)"] = s.kubectl("-n", c.ns, "patch", qualified, "g1", "-p", '{"spec":{"size":3}}')
    for field in ("gadgets.spec", "gadgets.spec.size", "gadgets"):
        out["kubectl explain " + field] = s.kubectl("explain", field, "--api-version=%s/v1" % c.group)
    return out


@check
def yaml_bodies(c):
    """An application/yaml body as kube-apiserver reads it (sigs.k8s.io/yaml
    over go-yaml v2, formats/yaml_json.h in the sandbox): YAML 1.1 booleans,
    octal and hexadecimal, keys resolved and written as text, integral
    floats as integers, quoted scalars and timestamps as strings."""
    s = c.s
    api_version = c.group + "/v1"
    coll = api_path(api_version, "gadgets", c.ns)
    body = (
        "apiVersion: %s\n"
        "kind: Gadget\n"
        "metadata: {name: yaml-scalars, namespace: %s}\n"
        "spec:\n"
        "  size: 0x3\n"
        "  extra:\n"
        "    yes: on\n"
        "    n: Y\n"
        "    0755: octal key\n"
        "    1.50: float key\n"
        "    octal: 0755\n"
        "    newOctal: 0o17\n"
        "    binary: 0b101\n"
        "    underscores: 1_000\n"
        "    notOctal: 08\n"
        "    float: 1.0\n"
        "    exponent: 1e3\n"
        "    fraction: .5\n"
        "    empty: ~\n"
        "    quoted: \"on\"\n"
        "    single: 'yes'\n"
        "    tagged: !!str 0755\n"
        "    block: |\n"
        "      no\n"
        "    time: 2024-05-01T03:00:00Z\n"
        "    version: 1.10\n"
        "    word: yEs\n"
    ) % (api_version, c.ns)
    out = {}
    created = s.call("POST", coll, body=body, content_type="application/yaml")
    out["create from YAML"] = created
    out["get it back"] = s.call("GET", coll + "/yaml-scalars")
    return out


@check
def errors(c):
    """404, 409 (AlreadyExists, Conflict), 422 with causes, 400, 405, 415,
    as Status objects, and as src/kube decodes them."""
    s = c.s
    out = {}
    cms = api_path("v1", "configmaps", c.ns)
    res = resource_of("v1", "configmaps", True)
    out["get missing"] = s.call("GET", cms + "/missing")
    out["src/kube get missing"] = s.probe("get", resource=res, namespace=c.ns, name="missing")
    out["get in a missing namespace"] = s.call("GET", api_path("v1", "configmaps", "no-such-ns") + "/x")
    out["create in a missing namespace"] = s.call("POST", api_path("v1", "configmaps", "no-such-ns"), body={
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e1", "namespace": c.ns}, "data": {"a": "1"}}
    created = s.call("POST", cms, body=cm)["body"]
    out["create twice"] = s.call("POST", cms, body=cm)
    out["src/kube create twice"] = s.probe("create", resource=res, namespace=c.ns, body=cm)
    stale = copy.deepcopy(created)
    s.call("PATCH", cms + "/e1", body={"data": {"a": "2"}}, content_type="application/merge-patch+json")
    stale["data"] = {"a": "3"}
    out["update with a stale resourceVersion"] = s.call("PUT", cms + "/e1", body=stale)
    out["src/kube update with a stale resourceVersion"] = s.probe("update", resource=res, namespace=c.ns, body=stale)
    out["update of a missing object"] = s.call("PUT", cms + "/nope", body=dict(cm, metadata={"name": "nope"}))
    out["update with a name differing from the path"] = s.call("PUT", cms + "/e1", body=dict(
        cm, metadata={"name": "other", "namespace": c.ns}))
    out["create with an invalid name"] = s.call("POST", cms, body=dict(cm, metadata={"name": "Bad_Name"}))
    out["src/kube create with an invalid name"] = s.probe("create", resource=res, namespace=c.ns,
                                                          body=dict(cm, metadata={"name": "Bad_Name"}))
    out["create without a name"] = s.call("POST", cms, body=dict(cm, metadata={}))
    out["create with generateName"] = s.call("POST", cms, body=dict(cm, metadata={"generateName": "gen-"}))
    out["create with an invalid generateName"] = s.call("POST", cms, body=dict(cm, metadata={"generateName": "Gen_"}))
    out["create with the wrong namespace"] = s.call("POST", cms, body=dict(cm, metadata={"name": "w",
                                                                                         "namespace": "other"}))
    out["create of the wrong kind"] = s.call("POST", cms, body={"apiVersion": "v1", "kind": "Secret",
                                                                "metadata": {"name": "k"}})
    deps = api_path("apps/v1", "deployments", c.ns)
    out["an invalid Deployment"] = s.call("POST", deps, body={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
        "spec": {"replicas": -1, "selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "c"}}, "spec": {"containers": []}}}})
    out["malformed JSON"] = s.call("POST", cms, body="{not json", content_type="application/json")
    out["unsupported content type"] = s.call("POST", cms, body="a: b", content_type="text/plain")
    out["unknown patch type"] = s.call("PATCH", cms + "/e1", body={}, content_type="application/foo+json")
    out["method not allowed"] = s.call("PUT", cms, body=cm)
    out["delete with a uid precondition"] = s.call("DELETE", cms + "/e1", body={
        "apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}})
    out["unknown resource"] = s.call("GET", "/api/v1/namespaces/%s/nothings" % c.ns)
    out["unknown group"] = s.call("GET", "/apis/nothing.example.com/v1")
    out["kubectl get missing"] = s.kubectl("-n", c.ns, "get", "configmap", "missing")
    out["kubectl create twice"] = s.kubectl("-n", c.ns, "create", "configmap", "e1")
    return out


@check
def selectors(c):
    s = c.s
    out = {}
    cms = api_path("v1", "configmaps", c.ns)
    for i, (tier, env) in enumerate([("web", "prod"), ("web", "dev"), ("db", "prod"), ("cache", None)]):
        labels = {"tier": tier, "sel": "yes"}
        if env:
            labels["env"] = env
        s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": "s%d" % i, "labels": labels}})

    def names(query):
        r = s.call("GET", cms, query=query)
        if r["code"] != 200:
            return r
        return sorted(i["metadata"]["name"] for i in r["body"]["items"])
    for sel in ("sel=yes,tier=web", "sel,tier!=web", "tier in (web,db),env notin (dev)", "sel,!env",
                "sel,env", "sel=yes,tier==db", "tier in (web", "a=b=c", "sel,tier notin ()"):
        out["labelSelector " + sel] = names({"labelSelector": sel})
    for sel in ("metadata.name=s1", "metadata.name!=s1,metadata.namespace=" + c.ns, "metadata.name==s2",
                "data.a=b", "metadata.labels=x"):
        out["fieldSelector " + sel] = names({"fieldSelector": sel, "labelSelector": "sel"})
    out["src/kube list with selectors"] = (lambda r: sorted(i["metadata"]["name"] for i in r["value"]["items"])
                                           if r["ok"] else r)(
        s.probe("list", resource=resource_of("v1", "configmaps", True), namespace=c.ns,
                options={"labelSelector": "tier in (web,db)", "fieldSelector": "metadata.name!=s0"}))
    out["a pod field on ConfigMaps"] = names({"fieldSelector": "status.phase=Running,spec.nodeName="})
    pods = s.call("GET", api_path("v1", "pods", c.ns), query={"fieldSelector": "status.phase=Running,spec.nodeName="})
    out["pods by status.phase and spec.nodeName"] = [pods["code"], len(pods["body"].get("items") or [])]
    for plural, api_version in (("jobs", "batch/v1"), ("deployments", "apps/v1"), ("events", "v1"),
                                ("gadgets", c.group + "/v1")):
        out["an unknown field selector on " + plural] = s.call(
            "GET", api_path(api_version, plural, c.ns), query={"fieldSelector": "x.y=z"})["body"].get("message")
    out["kubectl get -l"] = s.kubectl("-n", c.ns, "get", "configmaps", "-l", "tier=web", "-o", "name")
    out["kubectl get --field-selector"] = s.kubectl("-n", c.ns, "get", "configmaps", "--field-selector",
                                                    "metadata.name=s3", "-o", "name")
    return out


@check
def pagination(c):
    """limit/continue over Secrets (no controller adds any to a namespace,
    as kube-controller-manager adds kube-root-ca.crt to its ConfigMaps)."""
    s = c.s
    out = {}
    secrets = api_path("v1", "secrets", c.ns)
    for i in range(5):
        s.call("POST", secrets, body={"apiVersion": "v1", "kind": "Secret",
                                      "metadata": {"name": "p%d" % i, "labels": {"page": "yes" if i < 4 else "no"}}})
    pages, token, n = [], None, 0
    while n < 10:
        q = {"limit": "2"}
        if token:
            q["continue"] = token
        body = s.call("GET", secrets, query=q)["body"]
        pages.append({"names": [i["metadata"]["name"] for i in body.get("items") or []],
                      "continue": bool(body.get("metadata", {}).get("continue")),
                      "remainingItemCount": body.get("metadata", {}).get("remainingItemCount")})
        token = body.get("metadata", {}).get("continue")
        n += 1
        if not token:
            break
    out["limit=2 pages (no selector)"] = pages
    r = s.call("GET", secrets, query={"limit": "2", "labelSelector": "page=yes"})
    out["limit=2 with a selector"] = {"names": [i["metadata"]["name"] for i in r["body"]["items"]],
                                      "remainingItemCount": r["body"]["metadata"].get("remainingItemCount"),
                                      "continue": bool(r["body"]["metadata"].get("continue"))}
    out["an invalid continue token"] = s.call("GET", secrets, query={"limit": "2", "continue": "garbage"})
    first = s.call("GET", secrets, query={"limit": "2"})["body"]["metadata"]
    out["continue with a resourceVersion"] = s.call(
        "GET", secrets, query={"limit": "2", "continue": first["continue"], "resourceVersion": first["resourceVersion"]})
    out["continue with resourceVersion=0"] = [i["metadata"]["name"] for i in s.call(
        "GET", secrets, query={"limit": "2", "continue": first["continue"], "resourceVersion": "0"})["body"].get("items") or []]
    out["limit=0 (no limit)"] = len(s.call("GET", secrets, query={"limit": "0"})["body"]["items"])
    out["src/kube pages"] = (lambda r: [len(r["value"]["items"]), bool(r["value"]["metadata"].get("continue"))]
                             if r["ok"] else r)(
        s.probe("list", resource=resource_of("v1", "secrets", True), namespace=c.ns,
                options={"limit": 3, "labelSelector": "page=yes"}))
    out["kubectl get --chunk-size=2"] = s.kubectl("-n", c.ns, "get", "secrets", "-l", "page=yes",
                                                  "--chunk-size=2", "-o", "name")
    typed = kclient.CoreV1Api(s.api).list_namespaced_secret(c.ns, limit=3, label_selector="page=yes")
    out["python typed list limit=3"] = [len(typed.items), bool(typed.metadata._continue)]
    out["a new namespace's ConfigMaps"] = sorted(
        i["metadata"]["name"] for i in s.call("GET", api_path("v1", "configmaps", c.ns + "-new"))["body"].get("items") or [])
    return out


@check
def resource_versions(c):
    """resourceVersion semantics of get and list: 0, NotOlderThan, Exact,
    an unknown match, a version from the future."""
    s = c.s
    out = {}
    cms = api_path("v1", "configmaps", c.ns)
    one = s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "rv1", "labels": {"rv": "yes"}}})["body"]
    rv1 = one["metadata"]["resourceVersion"]
    two = s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "rv2", "labels": {"rv": "yes"}}})["body"]
    rv2 = two["metadata"]["resourceVersion"]

    def names(q):
        r = s.call("GET", cms, query=dict(q, labelSelector="rv=yes"))
        if r["code"] != 200:
            return r
        return sorted(i["metadata"]["name"] for i in r["body"]["items"])
    # resourceVersion=0 means "any": kube-apiserver answers from its watch
    # cache, which may not hold rv2 yet. A NotOlderThan rv2 list waits until
    # the cache does, so the "any" list after it is deterministic.
    out["list NotOlderThan rv2"] = names({"resourceVersion": rv2, "resourceVersionMatch": "NotOlderThan"})
    out["list resourceVersion=0"] = names({"resourceVersion": "0"})
    out["list NotOlderThan rv1"] = names({"resourceVersion": rv1, "resourceVersionMatch": "NotOlderThan"})
    out["list Exact rv1 (what existed then)"] = names({"resourceVersion": rv1, "resourceVersionMatch": "Exact"})
    out["list Exact without a resourceVersion"] = names({"resourceVersionMatch": "Exact"})
    out["list with an unknown resourceVersionMatch"] = names({"resourceVersion": rv1, "resourceVersionMatch": "Newest"})
    out["list with a resourceVersion that is not a number"] = names({"resourceVersion": "abc"})
    out["get resourceVersion=0"] = s.call("GET", cms + "/rv1", query={"resourceVersion": "0"})["code"]
    out["src/kube list Exact rv1"] = (lambda r: sorted(i["metadata"]["name"] for i in r["value"]["items"])
                                      if r["ok"] else r)(
        s.probe("list", resource=resource_of("v1", "configmaps", True), namespace=c.ns,
                options={"labelSelector": "rv=yes", "resourceVersion": rv1, "resourceVersionMatch": "Exact"}))
    return out


@check
def watches(c):
    """Watch from a resourceVersion, from 0 (synthetic ADDED), with
    bookmarks asked for, too old (410 Expired), and python3-kubernetes'
    watch=True."""
    s = c.s
    out = {}
    cms = api_path("v1", "configmaps", c.ns)
    res = resource_of("v1", "configmaps", True)
    start = s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": "w0", "labels": {"w": "yes"}}})["body"]
    rv = start["metadata"]["resourceVersion"]
    s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1", "labels": {"w": "yes"}},
                              "data": {"a": "1"}})
    s.call("PATCH", cms + "/w1", body={"data": {"a": "2"}}, content_type="application/merge-patch+json")
    s.call("DELETE", cms + "/w1")

    def events(r):
        if not r["ok"]:
            return r
        return [[e["type"], e["object"].get("metadata", {}).get("name"), e["object"].get("data"),
                 e["object"].get("code"), e["object"].get("reason")] for e in r["events"]]
    out["src/kube watch from rv"] = events(s.probe("watch", resource=res, namespace=c.ns, options={
        "resourceVersion": rv, "labelSelector": "w=yes", "maxEvents": 3, "timeoutSeconds": 5}))
    out["src/kube watch from 0"] = events(s.probe("watch", resource=res, namespace=c.ns, options={
        "resourceVersion": "0", "labelSelector": "w=yes", "maxEvents": 1, "timeoutSeconds": 5}))
    out["src/kube watch with bookmarks, filtered"] = events(s.probe("watch", resource=res, namespace=c.ns, options={
        "resourceVersion": rv, "labelSelector": "w=yes", "allowWatchBookmarks": True, "maxEvents": 3,
        "timeoutSeconds": 5}))
    out["src/kube watch of one object by field selector"] = events(s.probe("watch", resource=res, namespace=c.ns,
                                                                          options={
        "resourceVersion": rv, "fieldSelector": "metadata.name=w1", "maxEvents": 3, "timeoutSeconds": 5}))
    watched = []
    try:
        for e in kwatch.Watch().stream(kclient.CoreV1Api(s.api).list_namespaced_config_map, c.ns,
                                       label_selector="w=yes", resource_version=rv, timeout_seconds=3):
            watched.append([e["type"], e["object"].metadata.name])
            if len(watched) == 3:
                break
    except Exception as e:  # noqa: BLE001: the answer is the observation
        watched.append("error: %s" % type(e).__name__)
    out["python3-kubernetes Watch().stream (watch=True)"] = watched
    out["python raw watch=true"] = (lambda r: r["code"] if r["code"] != 200 else
                                    [json.loads(l).get("type") for l in r["body"].splitlines()]
                                    if isinstance(r["body"], str) else r["body"].get("kind"))(
        s.call("GET", cms, query={"watch": "true", "resourceVersion": rv, "labelSelector": "w=yes",
                                  "timeoutSeconds": "1"}))
    out["kubectl get --watch-only"] = s.kubectl("-n", c.ns, "get", "configmaps", "-l", "w=yes", "--watch",
                                                "--request-timeout=2s", "-o", "name")
    # (Last: on the sandbox it forgets every resourceVersion.)
    # 410: kube-apiserver's watch cache starts at its first list, long after
    # resourceVersion 1; the sandbox keeps a bounded history and is told to
    # forget it (its fault endpoint), which is the same condition.
    if c.s.name == "sandbox":
        c.s.call("POST", "/sandbox/v1/faults", body={"expireResourceVersions": True})
    out["src/kube watch too old"] = events(s.probe("watch", resource=res, namespace=c.ns, options={
        "resourceVersion": "1", "maxEvents": 1, "timeoutSeconds": 5}))
    r = s.call("GET", cms, query={"watch": "1", "resourceVersion": "1", "timeoutSeconds": "2"})
    body = r["body"]
    first = json.loads(body.splitlines()[0]) if isinstance(body, str) and body else body
    out["python raw watch too old"] = {"code": r["code"], "first event": normalise(first)}
    return out


@check
def server_side_apply(c):
    """What the applied object holds; field ownership and conflicts are
    allow-listed (structured-merge-diff)."""
    s = c.s
    out = {}
    path = api_path("v1", "configmaps", c.ns, "ssa")
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1", "b": "2"}}
    out["apply creates"] = s.call("PATCH", path, query={"fieldManager": "one"}, body=json.dumps(doc),
                                  content_type="application/apply-patch+yaml")
    out["apply without a fieldManager"] = s.call("PATCH", path, body=json.dumps(doc),
                                                 content_type="application/apply-patch+yaml")
    doc2 = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "9"}}
    out["a second manager conflicts"] = s.call("PATCH", path, query={"fieldManager": "two"}, body=json.dumps(doc2),
                                               content_type="application/apply-patch+yaml")
    out["forced"] = s.call("PATCH", path, query={"fieldManager": "two", "force": "true"}, body=json.dumps(doc2),
                           content_type="application/apply-patch+yaml")
    doc3 = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"b": "2"}}
    out["the first manager drops a field it owned alone"] = s.call(
        "PATCH", path, query={"fieldManager": "one"}, body=json.dumps(doc3), content_type="application/apply-patch+yaml")
    out["src/kube apply"] = s.probe("patch", resource=resource_of("v1", "configmaps", True), namespace=c.ns,
                                    name="ssa2", body=json.dumps(dict(doc, metadata={"name": "ssa2"})),
                                    options={"type": "apply", "fieldManager": "probe", "force": True})
    out["kubectl apply --server-side"] = s.kubectl(
        "-n", c.ns, "apply", "--server-side", "--field-manager=kubectl-test", "-f", "-",
        stdin=json.dumps(dict(doc, metadata={"name": "ssa3"})))
    out["kubectl apply --server-side --dry-run=server"] = s.kubectl(
        "-n", c.ns, "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-",
        stdin=json.dumps(dict(doc, metadata={"name": "ssa4"})))
    return out


@check
def openapi(c):
    s = c.s
    out = {}
    v2 = s.call("GET", "/openapi/v2", accept="application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    out["GET /openapi/v2 as protobuf"] = {"code": v2["code"]}
    v3 = s.call("GET", "/openapi/v3")
    paths = v3["body"].get("paths", {}) if isinstance(v3["body"], dict) else {}
    wanted = ["api/v1"] + ["apis/" + gv for gv in sorted({gv for gv, _ in c.sandbox_resources if gv != "v1"})]
    out["GET /openapi/v3: the sandbox's group-versions"] = {
        gv: ("serverRelativeURL" in paths.get(gv, {})) for gv in wanted}
    doc = s.call("GET", "/openapi/v3/apis/%s/v1" % c.group)["body"]
    schemas = doc.get("components", {}).get("schemas", {}) if isinstance(doc, dict) else {}
    gadget = [v for v in schemas.values()
              if {"group": c.group, "version": "v1", "kind": "Gadget"} in v.get("x-kubernetes-group-version-kind", [])]
    out["the CRD's OpenAPI v3 schema: spec"] = gadget[0].get("properties", {}).get("spec") if gadget else None
    list_path = "/apis/%s/v1/namespaces/{namespace}/gadgets" % c.group
    item_path = list_path + "/{name}"
    out["the CRD's OpenAPI v3 paths"] = {p: sorted(k for k in doc.get("paths", {}).get(p, {})
                                                   if k in ("get", "put", "post", "patch", "delete"))
                                         for p in (list_path, item_path)} if isinstance(doc, dict) else doc
    for what in ("deployment.spec.replicas", "configmap.data", "runbook.spec.guardrails.cooldown",
                 "pods.spec.containers.image"):
        out["kubectl explain " + what] = s.kubectl("explain", what)
    return out


@check
def tables(c):
    s = c.s
    out = {}
    cms = api_path("v1", "configmaps", c.ns)
    s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t1", "labels": {"t": "y"}},
                              "data": {"a": "1", "b": "2"}})
    s.call("POST", api_path(c.group + "/v1", "gadgets", c.ns), body={
        "apiVersion": c.group + "/v1", "kind": "Gadget", "metadata": {"name": "t1"}, "spec": {"size": 7}})
    for what, path in (("ConfigMap", cms), ("Gadget", api_path(c.group + "/v1", "gadgets", c.ns)),
                       ("Namespace (cluster-scoped)", "/api/v1/namespaces")):
        r = s.call("GET", path, query={"labelSelector": "t=y"} if what == "ConfigMap" else
                   ({"fieldSelector": "metadata.name=" + c.ns} if what.startswith("Namespace") else {}),
                   accept=TABLE)
        body = r["body"]
        out[what + " as Table"] = {
            "kind": body.get("kind"), "apiVersion": body.get("apiVersion"),
            "columnDefinitions": body.get("columnDefinitions"),
            # (managedFields: field ownership, see server_side_apply)
            "rows": [{"cells": row.get("cells"),
                      "object": sorted(k for k in (row.get("object") or {}).get("metadata", {})
                                       if k != "managedFields")}
                     for row in body.get("rows", [])]}
    one = s.call("GET", cms + "/t1", accept=TABLE)
    out["one ConfigMap as Table"] = {"kind": one["body"].get("kind"), "rows": len(one["body"].get("rows", []))}
    out["includeObject=None"] = [row.get("object") for row in s.call(
        "GET", cms, query={"labelSelector": "t=y", "includeObject": "None"}, accept=TABLE)["body"].get("rows", [])]
    out["kubectl get configmaps"] = s.kubectl("-n", c.ns, "get", "configmaps", "-l", "t=y")
    out["kubectl get namespace"] = s.kubectl("get", "namespace", c.ns)
    out["kubectl get gadgets -o custom-columns"] = s.kubectl("-n", c.ns, "get", "gadgets." + c.group, "-o",
                                                             "custom-columns=N:.metadata.name,S:.spec.size")
    return out


@check
def dry_run_and_deletion(c):
    s = c.s
    out = {}
    cms = api_path("v1", "configmaps", c.ns)
    s.call("POST", cms, body={"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "d1", "finalizers": ["example.com/hold"]}})
    out["dry-run delete"] = s.call("DELETE", cms + "/d1", query={"dryRun": "All"})
    out["exists after the dry run"] = s.call("GET", cms + "/d1")["code"]
    out["delete with a finalizer"] = s.call("DELETE", cms + "/d1")
    out["get while finalizing"] = s.call("GET", cms + "/d1")
    out["finalizers cannot be added while deleting"] = s.call(
        "PATCH", cms + "/d1", body={"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}},
        content_type="application/merge-patch+json")
    out["removing the finalizer deletes"] = s.call(
        "PATCH", cms + "/d1", body={"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    out["gone"] = s.call("GET", cms + "/d1")["code"]
    out["dry-run with an invalid value"] = s.call("POST", cms, query={"dryRun": "Some"},
                                                  body={"apiVersion": "v1", "kind": "ConfigMap",
                                                        "metadata": {"name": "d2"}})
    out["src/kube dry-run create"] = s.probe("create", resource=resource_of("v1", "configmaps", True),
                                             namespace=c.ns, body={"apiVersion": "v1", "kind": "ConfigMap",
                                                                   "metadata": {"name": "d3"}},
                                             options={"dryRun": True})
    out["after src/kube's dry run"] = s.call("GET", cms + "/d3")["code"]
    out["kubectl create --dry-run=server"] = s.kubectl("-n", c.ns, "create", "configmap", "d4", "--dry-run=server",
                                                       "-o", "name")
    return out


@check
def remedy_crds(c):
    """Remedy's own kinds: an example Runbook, an Incident, an Approval."""
    s = c.s
    out = {}
    with open(os.path.join(ROOT, "runbooks", "examples", "db-connection-pool-exhaustion.yaml")) as f:
        rb = yaml.safe_load(f)
    rb["metadata"]["namespace"] = c.ns
    base = api_path("remedy.dev/v1alpha1", "runbooks", c.ns)
    out["create Runbook"] = s.call("POST", base, body=rb)
    out["get Runbook"] = s.call("GET", base + "/" + rb["metadata"]["name"])
    bad = copy.deepcopy(rb)
    bad["metadata"]["name"] = "bad"
    bad["spec"]["steps"][0]["onFailure"] = "Explode"
    bad["spec"]["steps"][0]["timeout"] = 5
    out["an invalid Runbook"] = s.call("POST", base, body=bad)
    inc = {"apiVersion": "remedy.dev/v1alpha1", "kind": "Incident", "metadata": {"name": "i1"},
           "spec": {"source": "Manual", "alert": {"name": "X", "status": "firing", "labels": {"a": "b"}}}}
    out["create Incident"] = s.call("POST", api_path("remedy.dev/v1alpha1", "incidents", c.ns), body=inc)
    # The Incident's spec is immutable but for the alert's status and endsAt
    # (CEL rules): only the code and the first cause's field are compared.
    for what, patch in (("labels", {"spec": {"alert": {"labels": {"a": "c"}}}}),
                        ("status", {"spec": {"alert": {"status": "resolved"}}})):
        r = s.call("PATCH", api_path("remedy.dev/v1alpha1", "incidents", c.ns, "i1"), body=patch,
                   content_type="application/merge-patch+json")
        causes = ((r["body"].get("details") or {}).get("causes") or [{}]) if isinstance(r["body"], dict) else [{}]
        out["patch Incident spec.alert." + what] = {"code": r["code"], "field": causes[0].get("field")}
    ap = {"apiVersion": "remedy.dev/v1alpha1", "kind": "Approval", "metadata": {"name": "a1"},
          "spec": {"incidentRef": {"name": "i1"}, "decision": "Maybe"}}
    out["an invalid Approval"] = s.call("POST", api_path("remedy.dev/v1alpha1", "approvals", c.ns), body=ap)
    invalid_dir = os.path.join(ROOT, "runbooks", "invalid")
    for name in sorted(n for n in os.listdir(invalid_dir) if n.endswith(".yaml")):
        with open(os.path.join(invalid_dir, name)) as f:
            doc = yaml.safe_load(f)
        doc["metadata"]["namespace"] = c.ns
        r = s.call("POST", base, query={"fieldValidation": "Strict"}, body=doc)
        out["runbooks/invalid/" + name] = {"code": r["code"], "message": r["body"].get("message")
                                           if isinstance(r["body"], dict) and r["code"] != 201 else None}
    out["kubectl get runbooks"] = s.kubectl("-n", c.ns, "get", "runbooks")
    out["kubectl get incidents -o wide"] = s.kubectl("-n", c.ns, "get", "incidents", "-o", "wide")
    out["kubectl explain incident.status.phase"] = s.kubectl("explain", "incident.status.phase")
    out["kubectl explain runbookpolicy.spec.targets"] = s.kubectl("explain", "runbookpolicy.spec.targets")
    return out


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def start_sandbox(remedyctl, workdir):
    kubeconfig = os.path.join(workdir, "sandbox.kubeconfig")
    log = open(os.path.join(workdir, "sandbox.log"), "w")
    proc = subprocess.Popen([remedyctl, "sandbox", "--port", "0", "--tls", "--authorization",
                             "--kubeconfig-out", kubeconfig], stdout=log, stderr=subprocess.STDOUT)
    deadline_poll(lambda: os.path.exists(kubeconfig) and os.path.getsize(kubeconfig) > 0, 20, "the sandbox")
    return proc, kubeconfig


def setup(server, ns, group):
    """The namespace, the suite's CRD and Remedy's CRDs (created unless
    present: the real control plane is shared by the run)."""
    for name in (ns, ns + "-new"):
        r = server.call("POST", "/api/v1/namespaces", body={"apiVersion": "v1", "kind": "Namespace",
                                                             "metadata": {"name": name}})
        assert r["code"] == 201, r
    docs = [crd(group, "Gadget", "gadgets")]
    for name in sorted(n for n in os.listdir(os.path.join(ROOT, "crds")) if n.endswith(".yaml")):
        with open(os.path.join(ROOT, "crds", name)) as f:
            docs.append(yaml.safe_load(f))
    for doc in docs:
        r = server.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=doc)
        assert r["code"] in (201, 409), r

    def established():
        for doc in docs:
            got = server.call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + doc["metadata"]["name"])
            # (A CRD just created may answer "conditions": null.)
            conditions = (got["body"].get("status") or {}).get("conditions") or []
            if not any(x["type"] == "Established" and x["status"] == "True" for x in conditions):
                return False
        # kubectl and discovery see the new group.
        return server.call("GET", "/apis/%s/v1" % group)["code"] == 200
    deadline_poll(established, 30, "the CRDs on " + server.name)
    # The namespace's default ServiceAccount (the real one's controller makes it).
    deadline_poll(lambda: server.call("GET", "/api/v1/namespaces/%s/serviceaccounts/default" % ns)["code"] == 200,
                  30, "the default ServiceAccount on " + server.name)
    if server.name == "real":
        # kube-controller-manager's root-ca-cert-publisher, which the
        # pagination check compares against the sandbox (allow-listed).
        deadline_poll(lambda: server.call("GET", "/api/v1/namespaces/%s-new/configmaps/kube-root-ca.crt" % ns)["code"]
                      == 200, 30, "kube-root-ca.crt in the second namespace")


def sandbox_resources(server):
    """([(groupVersion, resource)], {groupVersion: [names with subresources]})
    of what the sandbox serves, from its discovery."""
    found, names = [], {}
    paths = ["/api/v1"] + ["/apis/" + g["preferredVersion"]["groupVersion"]
                           for g in server.call("GET", "/apis")["body"]["groups"]]
    for path in paths:
        body = server.call("GET", path)["body"]
        for r in body.get("resources", []):
            names.setdefault(body["groupVersion"], []).append(r["name"])
            if "/" not in r["name"]:
                found.append((body["groupVersion"], r["name"]))
    return found, names


def load_allowlist():
    with open(os.path.join(HERE, "allowlist.yaml")) as f:
        entries = yaml.safe_load(f) or []
    for e in entries:
        assert set(e) <= {"match", "reason", "fix"} and e.get("match") and e.get("reason"), \
            "allowlist.yaml: each entry needs `match` and `reason`: %r" % e
    return entries


def glob_match(pattern, text):
    """`*` is any run of characters, `?` one; everything else (brackets of
    list indexes too) stands for itself."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.S) is not None


def render(v):
    text = json.dumps(v, sort_keys=True)
    return text if len(text) <= 400 else text[:400] + "..."


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--remedyctl", required=True)
    parser.add_argument("--probe", required=True)
    parser.add_argument("--cluster-dir", required=True)
    parser.add_argument("--only", default="")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()

    env_file = os.path.join(args.cluster_dir, "cluster.env")
    if not os.path.exists(env_file):
        print("no control plane at %s (cluster.env missing): run `ctest -R cluster.up` or "
              "e2e/cluster/cluster.sh up DIR" % args.cluster_dir, file=sys.stderr)
        return 1
    cluster = dict(line.split("=", 1) for line in open(env_file).read().splitlines() if "=" in line)
    workdir = tempfile.mkdtemp(prefix="remedy-fidelity.")
    sandbox_proc, sandbox_kubeconfig = start_sandbox(args.remedyctl, workdir)
    ns = "fid-%d" % os.getpid()
    group = "fid%d.example.com" % os.getpid()
    servers = [Server("sandbox", sandbox_kubeconfig, workdir, args.probe),
               Server("real", cluster["ADMIN_KUBECONFIG"], workdir, args.probe)]
    allow = load_allowlist()
    used = set()
    failures, allowed, compared = [], [], 0
    try:
        for s in servers:
            setup(s, ns, group)
        resources, names = sandbox_resources(servers[0])
        for fn in CHECKS:
            if args.only and not re.search(args.only, fn.__name__):
                continue
            t0 = time.monotonic()
            results = {}
            for s in servers:
                ctx = Context(s, ns, group, resources, names)
                try:
                    results[s.name] = normalise(fn(ctx))
                except Exception:  # noqa: BLE001: a check that breaks fails the suite
                    failures.append("%s raised on %s:\n%s" % (fn.__name__, s.name, traceback.format_exc()))
                    results[s.name] = {}
            if len(results) != 2 or not results["sandbox"] or not results["real"]:
                continue
            compared += 1
            for observation in sorted(set(results["sandbox"]) | set(results["real"])):
                a = results["sandbox"].get(observation, "<absent>")
                b = results["real"].get(observation, "<absent>")
                for path, x, y in diff(a, b):
                    ident = "%s/%s%s" % (fn.__name__, observation, (":" + path) if path else "")
                    hits = [i for i, e in enumerate(allow)
                            if any(glob_match(m, ident) for m in
                                   (e["match"] if isinstance(e["match"], list) else [e["match"]]))]
                    line = "%s\n      sandbox: %s\n      real:    %s" % (ident, render(x), render(y))
                    if hits:
                        used.update(hits)
                        allowed.append((ident, allow[hits[0]]["reason"]))
                        if args.verbose:
                            print("allowed - " + line)
                    else:
                        failures.append(line)
            print("# %s: %.1f s" % (fn.__name__, time.monotonic() - t0))
    finally:
        for s in servers:
            try:
                s.call("DELETE", "/api/v1/namespaces/" + ns)
                s.call("DELETE", "/api/v1/namespaces/%s-new" % ns)
                s.call("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets." + group)
                for kind in ("cr", "crb"):
                    plural = "clusterroles" if kind == "cr" else "clusterrolebindings"
                    s.call("DELETE", "/apis/rbac.authorization.k8s.io/v1/%s/%s-%s" % (plural, ns, kind))
            except Exception:  # noqa: BLE001: best effort on the way out
                pass
            s.close()
        sandbox_proc.terminate()
        sandbox_proc.wait(timeout=30)
        if not os.environ.get("REMEDY_KEEP_TEST_DIRS"):
            shutil.rmtree(workdir, ignore_errors=True)
    stale = [allow[i] for i in range(len(allow)) if i not in used and not args.only]
    for f in failures:
        print("not ok - difference: " + f)
    for e in stale:
        print("not ok - allowlist.yaml entry matches no difference (remove it): %s" % e["match"])
    print("# %d checks, %d differences allow-listed, %d not, in %.1f s"
          % (compared, len(allowed), len(failures), time.monotonic() - started))
    print("%d passed, %d failed" % (compared - len({f.split("/")[0] for f in failures}),
                                    len(failures) + len(stale)))
    return 1 if failures or stale else 0


if __name__ == "__main__":
    sys.exit(main())
