#!/usr/bin/python3
"""The Helm chart (charts/remedy) and the Dockerfile, checked on Helm's own
output: `helm lint`, and `helm install --dry-run=client -o json` (the
manifests and NOTES of `helm template`, with the values schema enforced) of
many value sets, checked as Kubernetes manifests (security context, probes,
RBAC per watch mode, labels, the webhook token). Also: values.yaml against
values.schema.json, every .Values reference against values.yaml, Chart.yaml,
the CRDs Helm installs against the top-level crds/, and the Dockerfile
against scripts/install-deps.sh and the CMake targets. What needs a cluster
(`lookup`: the token kept across upgrades, an existing Secret) is in
helm_install_test.sh, on the real control plane.

usage: /usr/bin/python3 chart_test.py --helm PATH/TO/helm [unittest args...]
(the helm of e2e/cluster/build.sh, v4).
"""

import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import jsonschema
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "charts", "remedy")


# ---------------------------------------------------------------------------
# Helm, the real one
# ---------------------------------------------------------------------------

HELM = None  # set from --helm


class HelmFail(Exception):
    """Helm refused the chart or its values (schema, `fail`, `required`)."""


def helm(*args):
    p = subprocess.run([HELM] + list(args), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, HELM_CACHE_HOME=WORKDIR, HELM_CONFIG_HOME=WORKDIR,
                                HELM_DATA_HOME=WORKDIR, NO_COLOR="1"))
    if p.returncode != 0:
        # Helm's notes on the CRD links are not the error.
        said = [line for line in (p.stdout + p.stderr).splitlines() if "found symbolic link" not in line]
        raise HelmFail("\n".join(said).strip())
    return p.stdout


def split_manifests(text):
    """{template file name: its documents} from Helm's `# Source:` comments."""
    files = {}
    for doc in re.split(r"^---\s*$", text, flags=re.M):
        m = re.search(r"^# Source: [^/]+/templates/(\S+)$", doc, re.M)
        if doc.strip() and m:
            files.setdefault(m.group(1), []).append(doc)
    return files


class Chart:
    """charts/remedy: its default values, and renderings by Helm."""

    def __init__(self, chart_dir):
        self.chart_dir = chart_dir
        with open(os.path.join(chart_dir, "values.yaml")) as f:
            self.default_values = yaml.safe_load(f) or {}

    def values(self, overrides=None):
        """The defaults with `overrides` merged as Helm merges a values file
        (a null deletes a default), for checking the schema by itself."""
        def merge(base, over):
            out = copy.deepcopy(base)
            for k, v in over.items():
                if v is None:
                    out.pop(k, None)
                elif isinstance(v, dict) and isinstance(out.get(k), dict):
                    out[k] = merge(out[k], v)
                else:
                    out[k] = copy.deepcopy(v)
            return out
        return merge(self.default_values, overrides or {})

    def render(self, overrides=None, release="remedy", namespace="remedy-system", validate=True):
        """(manifest text, NOTES) of `helm install --dry-run=client`."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=WORKDIR, delete=False) as f:
            json.dump(overrides or {}, f)
        args = ["install", release, self.chart_dir, "--namespace", namespace, "--dry-run=client",
                "-o", "json", "--values", f.name]
        if not validate:
            args.append("--skip-schema-validation")
        out = json.loads(helm(*args))
        return out["manifest"], out["info"].get("notes", "")


CHART_UNDER_TEST = None
WORKDIR = None


def renderer():
    global CHART_UNDER_TEST
    if CHART_UNDER_TEST is None:
        CHART_UNDER_TEST = Chart(CHART)
    return CHART_UNDER_TEST


# ---------------------------------------------------------------------------
# What the operator accepts (issue #8): every flag the chart passes must be one.
# ---------------------------------------------------------------------------

OPERATOR_FLAGS = {
    "kubeconfig", "watch-namespaces", "incident-namespace", "leader-elect", "leader-election-namespace",
    "leader-election-name", "lease-duration", "renew-deadline", "retry-period", "webhook-bind-address",
    "webhook-port", "webhook-token-file", "webhook-tls-cert-file", "webhook-tls-key-file",
    "webhook-client-ca-file", "metrics-port", "health-port", "log-level", "log-format", "kube-api-qps",
    "kube-api-burst", "workers", "dry-run", "pause-namespace", "prometheus-url", "patch-allowed-kinds",
    "apply-allowed-kinds", "incident-retention", "max-finished-incidents", "alert-rate", "alert-burst",
    "max-active-incidents", "shutdown-timeout", "default-service-account", "service-accounts",
    "runjob-service-accounts", "egress-allow", "egress-deny", "incident-sweep-interval",
    # Issue #16: the admission webhooks and the Approval seal key.
    "approval-seal-key-file", "approval-seal-previous-key-files", "admission-bind-address",
    "admission-port", "admission-tls-cert-file", "admission-tls-key-file", "admission-cert-secret",
    "admission-cert-dns-names", "admission-cert-ip-addresses", "admission-webhook-configurations",
    # Issue #17: a client budget per part of the operator.
    "intake-qps", "intake-burst", "followups-qps", "followups-burst", "events-qps", "events-burst",
}



def operator_flags():
    """The flags remedy-operator accepts: its flag table in operator/options.cpp
    once that exists, else the list of issue #8."""
    path = os.path.join(ROOT, "operator", "options.cpp")
    if os.path.exists(path):
        with open(path) as f:
            found = set(re.findall(r'^\s*\{"([a-z][a-z0-9-]+)",', f.read(), re.M))
        if found:
            return found, "operator/options.cpp"
    return OPERATOR_FLAGS, "issue #8"


STANDARD_LABELS = {
    "helm.sh/chart": "remedy-0.1.0",
    "app.kubernetes.io/name": "remedy",
    "app.kubernetes.io/instance": "remedy",
    "app.kubernetes.io/version": "0.1.0",
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/part-of": "remedy",
}
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration",
                  "ValidatingWebhookConfiguration"}

# The operator's permissions in a managed namespace, as (apiGroup, resource,
# verb): the least-privilege contract of files/rbac-rules.yaml. Its own kinds,
# Events and impersonating the runner ServiceAccounts; never a Secret, never a
# write to a tenant's object. Widening it means changing both, deliberately.
EXPECTED_PERMISSIONS = {
    ("remedy.dev", "runbooks"): {"list", "watch"},
    ("remedy.dev", "runbooks/status"): {"update"},
    ("remedy.dev", "incidents"): {"get", "list", "watch", "create", "patch", "delete"},
    ("remedy.dev", "incidents/status"): {"update"},
    ("remedy.dev", "approvals"): {"list", "watch"},
    ("remedy.dev", "approvals/status"): {"update"},
    ("", "events"): {"create", "patch"},
    ("", "serviceaccounts"): {"impersonate"},
}
# Cluster-wide, in every mode: files/cluster-rules.yaml.
EXPECTED_CLUSTER_PERMISSIONS = {
    ("remedy.dev", "runbookpolicies"): {"list"},
}
# What Runbook steps act with in a tenant namespace (files/tenant-rules.yaml)
# with every feature on.
EXPECTED_TENANT_PERMISSIONS = {
    ("apps", "deployments"): {"get", "patch"},
    ("apps", "statefulsets"): {"get", "patch"},
    ("apps", "deployments/scale"): {"get", "update"},
    ("apps", "statefulsets/scale"): {"get", "update"},
    ("apps", "replicasets"): {"get", "list"},
    ("", "pods"): {"get", "list", "delete"},
    ("", "pods/eviction"): {"create"},
    ("", "pods/log"): {"get"},
    ("batch", "jobs"): {"get", "create"},
    ("", "secrets"): {"get"},
    ("", "configmaps"): {"get", "create", "patch", "delete"},
    ("networking.k8s.io", "networkpolicies"): {"get", "create", "patch", "delete"},
}
EXPECTED_RELEASE_NAMESPACE_PERMISSIONS = {
    ("coordination.k8s.io", "leases"): {"get", "create", "update"},
    ("", "configmaps"): {"list", "watch"},
}
# Approvals (issue #16), cluster-wide: asking who may approve, and the two
# webhook configurations' caBundle (files/approval-rules.yaml).
EXPECTED_APPROVAL_PERMISSIONS = {
    ("authorization.k8s.io", "subjectaccessreviews"): {"create"},
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {"get", "update"},
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {"get", "update"},
}
# The webhooks' certificate Secret, in the release namespace
# (files/admission-secret-rules.yaml).
EXPECTED_ADMISSION_SECRET_PERMISSIONS = {
    ("", "secrets"): {"create", "get", "update"},
}


def permissions(rules):
    out = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


def read_yaml_list(path):
    with open(path) as f:
        return yaml.safe_load(f)


def operator_rules(service_accounts):
    """files/rbac-rules.yaml as _helpers.tpl grants it: the impersonate rule
    bounded to the runner ServiceAccount names."""
    rules = read_yaml_list(os.path.join(CHART, "files", "rbac-rules.yaml"))
    for rule in rules:
        if "impersonate" in rule["verbs"]:
            rule["resourceNames"] = list(service_accounts)
    return rules


def arg_map(container):
    out = {}
    for arg in container["args"]:
        m = re.fullmatch(r"--([a-z0-9-]+)=(.*)", arg, re.S)
        assert m, "operator argument %r is not --flag=value" % arg
        assert m.group(1) not in out, "operator flag --%s given twice" % m.group(1)
        out[m.group(1)] = m.group(2)
    return out


class Release:
    """One rendering of the chart, parsed."""

    def __init__(self, overrides=None, **kw):
        manifest, self.notes = renderer().render(overrides, **kw)
        documents = split_manifests(manifest)
        self.files = {name: "---\n".join(docs) for name, docs in documents.items()}
        self.objects = []
        for name, docs in documents.items():
            for doc in docs:
                obj = yaml.safe_load(doc)
                if obj is None:
                    raise AssertionError("templates/%s renders a document with no object:\n%s" % (name, doc))
                if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind"):
                    raise AssertionError("templates/%s renders a document without apiVersion/kind:\n%s" % (name, doc))
                self.objects.append(obj)

    def of_kind(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind, name=None, namespace=None):
        found = [o for o in self.of_kind(kind)
                 if (name is None or o["metadata"]["name"] == name)
                 and (namespace is None or o["metadata"].get("namespace") == namespace)]
        assert len(found) == 1, "expected one %s %s/%s, found %d" % (kind, namespace, name, len(found))
        return found[0]

    @property
    def deployment(self):
        return self.one("Deployment")

    @property
    def container(self):
        return self.deployment["spec"]["template"]["spec"]["containers"][0]

    @property
    def args(self):
        return arg_map(self.container)


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------

class HelmLintTest(unittest.TestCase):
    def test_helm_lint_finds_nothing_to_fix(self):
        out = helm("lint", CHART, "--strict")
        self.assertIn("1 chart(s) linted, 0 chart(s) failed", out)
        self.assertNotIn("[WARNING]", out)
        self.assertNotIn("[ERROR]", out)

    def test_helm_lint_with_the_values_of_each_mode(self):
        for values in ({"watchNamespaces": ["team-a", "team-b"], "incidentNamespace": "team-a"},
                       {"webhook": {"tls": {"enabled": True, "secretName": "t"}},
                        "networkPolicy": {"enabled": True, "admissionFrom": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]},
                        "serviceMonitor": {"enabled": True}},
                       {"admission": {"certificate": {"mode": "certManager"}, "url": "https://127.0.0.1:8443"}},
                       {"replicaCount": 1, "leaderElection": {"enabled": False}}):
            with self.subTest(values=values), tempfile.NamedTemporaryFile(
                    "w", suffix=".json", dir=WORKDIR) as f:
                json.dump(values, f)
                f.flush()
                self.assertIn("0 chart(s) failed", helm("lint", CHART, "--strict", "--values", f.name))

    def test_helm_lint_refuses_values_against_the_schema(self):
        with self.assertRaisesRegex(HelmFail, "replicaCount"):
            helm("lint", CHART, "--strict", "--set", "replicaCount=two")


class ChartFilesTest(unittest.TestCase):
    def test_helm_installs_exactly_the_top_level_crds(self):
        out = helm("template", "remedy", CHART, "--include-crds")
        crds = {}
        for doc in re.split(r"^---\s*$", out, flags=re.M):
            obj = yaml.safe_load(doc)
            if obj and obj.get("kind") == "CustomResourceDefinition":
                crds[obj["metadata"]["name"]] = obj
        top = {}
        for name in sorted(n for n in os.listdir(os.path.join(ROOT, "crds")) if n.endswith(".yaml")):
            with open(os.path.join(ROOT, "crds", name)) as f:
                obj = yaml.safe_load(f)
            top[obj["metadata"]["name"]] = obj
        self.assertEqual(sorted(crds), ["approvals.remedy.dev", "incidents.remedy.dev",
                                        "runbookpolicies.remedy.dev", "runbooks.remedy.dev"])
        self.assertEqual(crds, top)

    def test_chart_yaml_has_the_required_fields(self):
        with open(os.path.join(CHART, "Chart.yaml")) as f:
            chart = yaml.safe_load(f)
        self.assertEqual(chart["apiVersion"], "v2")
        self.assertEqual(chart["name"], "remedy")
        self.assertEqual(chart["version"], "0.1.0")
        self.assertIsInstance(chart["appVersion"], str, "appVersion must be a string, not a number")
        self.assertEqual(chart["appVersion"], "0.1.0")
        self.assertRegex(chart["kubeVersion"], r"^>=\s*1\.26(\.0)?(-0)?$")
        self.assertEqual(chart.get("type", "application"), "application")
        self.assertTrue(chart.get("description"))

    def test_every_yaml_file_parses(self):
        for directory, _, names in os.walk(CHART):
            if os.path.relpath(directory, CHART).startswith("templates"):
                continue  # templates are parsed after rendering
            for name in names:
                if name.endswith((".yaml", ".yml")):
                    path = os.path.join(directory, name)
                    with self.subTest(path=os.path.relpath(path, ROOT)), open(path) as f:
                        docs = [d for d in yaml.safe_load_all(f)]
                        self.assertTrue(docs and all(d is not None for d in docs))

    def test_crds_are_the_top_level_crds_byte_for_byte(self):
        top = os.path.join(ROOT, "crds")
        top_names = sorted(n for n in os.listdir(top) if n.endswith(".yaml"))
        chart_crds = os.path.join(CHART, "crds")
        chart_names = sorted(os.listdir(chart_crds))
        self.assertEqual(chart_names, top_names)
        self.assertEqual(len(top_names), 4)  # Runbook, Incident, Approval, RunbookPolicy
        for name in top_names:
            with self.subTest(crd=name):
                path = os.path.join(chart_crds, name)
                with open(path, "rb") as a, open(os.path.join(top, name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), "charts/remedy/crds/%s differs from crds/%s" % (name, name))
                if os.path.islink(path):  # the chosen form: a relative link inside the repository
                    self.assertEqual(os.readlink(path), "../../../crds/" + name)
                with open(path) as f:
                    self.assertEqual(yaml.safe_load(f)["kind"], "CustomResourceDefinition")

    def test_rbac_rule_files_are_least_privilege_policy_rules(self):
        allowed_keys = {"apiGroups", "resources", "verbs", "resourceNames"}
        known_verbs = {"get", "list", "watch", "create", "update", "patch", "delete", "impersonate"}
        for name in ("rbac-rules.yaml", "cluster-rules.yaml", "tenant-rules.yaml",
                     "leader-election-rules.yaml", "pause-rules.yaml", "approval-rules.yaml",
                     "admission-secret-rules.yaml"):
            rules = read_yaml_list(os.path.join(CHART, "files", name))
            with self.subTest(file=name):
                self.assertIsInstance(rules, list)
                for rule in rules:
                    self.assertLessEqual(set(rule), allowed_keys, rule)
                    self.assertLessEqual(set(rule["verbs"]), known_verbs, rule)
                    for key in ("apiGroups", "resources", "verbs"):
                        self.assertNotIn("*", rule[key], rule)
        self.assertEqual(permissions(read_yaml_list(os.path.join(CHART, "files", "rbac-rules.yaml"))),
                         EXPECTED_PERMISSIONS)
        self.assertEqual(permissions(read_yaml_list(os.path.join(CHART, "files", "cluster-rules.yaml"))),
                         EXPECTED_CLUSTER_PERMISSIONS)
        self.assertEqual(permissions(read_yaml_list(os.path.join(CHART, "files", "tenant-rules.yaml"))),
                         EXPECTED_TENANT_PERMISSIONS)
        for name in ("rbac-rules.yaml", "cluster-rules.yaml"):
            with self.subTest(file=name):
                for resource in permissions(read_yaml_list(os.path.join(CHART, "files", name))):
                    self.assertNotEqual(resource, ("", "secrets"), "the operator never reads Secrets")
        release_rules = (read_yaml_list(os.path.join(CHART, "files", "leader-election-rules.yaml"))
                         + read_yaml_list(os.path.join(CHART, "files", "pause-rules.yaml")))
        self.assertEqual(permissions(release_rules), EXPECTED_RELEASE_NAMESPACE_PERMISSIONS)
        self.assertEqual(permissions(read_yaml_list(os.path.join(CHART, "files", "approval-rules.yaml"))),
                         EXPECTED_APPROVAL_PERMISSIONS)
        self.assertEqual(permissions(read_yaml_list(os.path.join(CHART, "files", "admission-secret-rules.yaml"))),
                         EXPECTED_ADMISSION_SECRET_PERMISSIONS)

    def test_every_rbac_rule_group_is_commented(self):
        for name in ("rbac-rules.yaml", "cluster-rules.yaml", "tenant-rules.yaml", "approval-rules.yaml",
                     "admission-secret-rules.yaml"):
            with open(os.path.join(CHART, "files", name)) as f:
                lines = f.read().splitlines()
            for i, line in enumerate(lines):
                if line.startswith("- apiGroups:"):
                    above = [l for l in lines[:i] if l.strip()]
                    self.assertTrue(above[-1].lstrip().startswith(("#", "verbs:")),
                                    "%s: rule at line %d has no comment group above it" % (name, i + 1))


class ValuesTest(unittest.TestCase):
    def validator(self):
        with open(os.path.join(CHART, "values.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
        self.assertEqual(schema["$schema"], "http://json-schema.org/draft-07/schema#")
        return jsonschema.Draft7Validator(schema), schema

    def test_defaults_meet_the_schema(self):
        validator, _ = self.validator()
        errors = list(validator.iter_errors(renderer().values()))
        self.assertEqual(errors, [])

    def test_every_value_is_typed(self):
        _, schema = self.validator()

        def check(node, path):
            if "$ref" in node:
                node = schema["definitions"][node["$ref"].split("/")[-1]]
            self.assertTrue("type" in node or "anyOf" in node or "oneOf" in node, "%s has no type" % path)
            for key, sub in node.get("properties", {}).items():
                check(sub, path + "." + key)
            if node.get("type") == "object" and "properties" in node and path != "values.global":
                self.assertIn("additionalProperties", node, "%s accepts unknown keys" % path)
        check(schema, "values")

    def test_wrong_values_are_rejected(self):
        validator, _ = self.validator()
        wrong = {
            "a replica count that is a string": {"replicaCount": "two"},
            "zero replicas": {"replicaCount": 0},
            "watchNamespaces as a string": {"watchNamespaces": "team-a"},
            "an invalid namespace name": {"watchNamespaces": ["Team_A"]},
            "a misspelt top-level key": {"replicas": 3},
            "a misspelt nested key": {"webhook": {"prot": 9443}},
            "an unknown log level": {"logging": {"level": "verbose"}},
            "a port out of range": {"webhook": {"port": 70000}},
            "a duration without a unit": {"leaderElection": {"leaseDuration": "15"}},
            "running as root": {"securityContext": {"runAsUser": 0}},
            "TLS without its Secret": {"webhook": {"tls": {"enabled": True}}},
            "dryRun as a string": {"dryRun": "yes"},
            "a lower-case kind": {"actions": {"apply": {"allowedKinds": ["configmap"]}}},
            "Secret as a patch kind": {"actions": {"patch": {"allowedKinds": ["Secret"]}}},
            "a URL in the egress allow-list": {"egress": {"allow": ["https://hooks.slack.com"]}},
            "no ServiceAccount to act as": {"tenancy": {"serviceAccounts": []}},
            "an invalid ServiceAccount name": {"tenancy": {"defaultServiceAccount": "Runner!"}},
            "an egress CIDR that is a host": {"networkPolicy": {"egress": {"cidrs": ["hooks.example"]}}},
        }
        for what, override in wrong.items():
            with self.subTest(what=what):
                errors = list(validator.iter_errors(renderer().values(override)))
                self.assertTrue(errors, "%s was accepted" % what)
                with self.assertRaises(HelmFail):
                    renderer().render(override)

    def test_every_template_reference_exists_in_values_yaml(self):
        defaults = renderer().values()
        referenced = set()
        template_dir = os.path.join(CHART, "templates")
        for name in os.listdir(template_dir):
            with open(os.path.join(template_dir, name)) as f:
                for m in re.finditer(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", f.read()):
                    referenced.add(m.group(1)[1:])
        self.assertGreater(len(referenced), 40)
        for path in sorted(referenced):
            node = defaults
            for part in path.split("."):
                self.assertIsInstance(node, dict, ".Values.%s: %s is not a map in values.yaml" % (path, part))
                self.assertIn(part, node, ".Values.%s is not in values.yaml" % path)
                node = node[part]

    def test_every_value_is_used_by_a_template(self):
        referenced = set()
        for name in os.listdir(os.path.join(CHART, "templates")):
            with open(os.path.join(CHART, "templates", name)) as f:
                referenced.update(m.group(1)[1:] for m in
                                  re.finditer(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", f.read()))

        def leaves(node, path):
            if isinstance(node, dict) and node:
                for k, v in node.items():
                    yield from leaves(v, path + [k])
            else:
                yield ".".join(path)
        for leaf in leaves(renderer().values(), []):
            parts = leaf.split(".")
            covered = any(".".join(parts[:i]) in referenced for i in range(1, len(parts) + 1))
            self.assertTrue(covered, "values.yaml's %s is used by no template" % leaf)

    def test_values_yaml_is_commented(self):
        """Every value has a comment: right above it, above the run of sibling
        values it belongs to, or above the map that holds it."""
        with open(os.path.join(CHART, "values.yaml")) as f:
            lines = f.read().splitlines()

        def indent_of(line):
            return len(line) - len(line.lstrip())

        def is_leaf(line):
            return re.match(r"^\s*[A-Za-z][A-Za-z0-9]*:\s*\S", line) is not None

        def documented(i):
            j = i - 1
            while j >= 0:
                line = lines[j]
                if line.strip().startswith("#"):
                    return True
                if not line.strip():
                    return False
                if indent_of(line) < indent_of(lines[i]):
                    return documented(j)
                j -= 1  # a sibling above, or what it holds: one comment covers the run
            return False

        list_indent, checked = None, 0
        for i, line in enumerate(lines):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if list_indent is not None and indent_of(line) >= list_indent:
                continue  # the items of a list value
            list_indent = None
            if line.lstrip().startswith("- "):
                list_indent = indent_of(line)
                continue
            if is_leaf(line):
                checked += 1
                self.assertTrue(documented(i), "values.yaml line %d has no comment: %s" % (i + 1, line.strip()))
        self.assertGreater(checked, 50)


class DefaultRenderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.release = Release()

    def test_the_objects_a_default_install_creates(self):
        kinds = sorted(o["kind"] for o in self.release.objects)
        self.assertEqual(kinds, sorted(["ServiceAccount", "Secret", "Service", "Deployment",
                                        "PodDisruptionBudget", "ClusterRole", "ClusterRoleBinding",
                                        "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                                        # approvals (issue #16): the seal key, SubjectAccessReviews
                                        # and caBundle, the certificate Secret, the approver role,
                                        # the webhooks
                                        "Secret", "ClusterRole", "ClusterRoleBinding", "Role",
                                        "RoleBinding", "ClusterRole", "MutatingWebhookConfiguration",
                                        "ValidatingWebhookConfiguration"]))

    def test_every_object_has_the_standard_labels_and_namespace(self):
        for obj in self.release.objects:
            with self.subTest(kind=obj["kind"], name=obj["metadata"]["name"]):
                labels = obj["metadata"].get("labels", {})
                for key, value in STANDARD_LABELS.items():
                    self.assertEqual(labels.get(key), value, key)
                if obj["kind"] in CLUSTER_SCOPED:
                    self.assertNotIn("namespace", obj["metadata"])
                else:
                    self.assertEqual(obj["metadata"].get("namespace"), "remedy-system")

    def test_two_replicas_with_leader_election(self):
        self.assertEqual(self.release.deployment["spec"]["replicas"], 2)
        args = self.release.args
        self.assertEqual(args["leader-elect"], "true")
        self.assertEqual(args["leader-election-namespace"], "remedy-system")
        self.assertEqual(args["leader-election-name"], "remedy")
        self.assertEqual((args["lease-duration"], args["renew-deadline"], args["retry-period"]), ("15s", "10s", "2s"))
        self.assertEqual(args["pause-namespace"], "remedy-system")
        self.assertEqual(args["incident-namespace"], "remedy-system")
        self.assertNotIn("watch-namespaces", args)

    def test_every_argument_is_an_operator_flag_with_its_default(self):
        args = self.release.args
        accepted, source = operator_flags()
        self.assertEqual(set(args) - accepted, set(), "flags the operator does not accept (%s)" % source)
        self.assertEqual(set(args) - OPERATOR_FLAGS, set(), "flags issue #8 does not list")
        expected = {
            "webhook-bind-address": "0.0.0.0", "webhook-port": "9443", "metrics-port": "8080",
            "health-port": "8081", "log-level": "info", "log-format": "json", "kube-api-qps": "20",
            "kube-api-burst": "30", "intake-qps": "10", "intake-burst": "50", "followups-qps": "5",
            "followups-burst": "10", "events-qps": "5", "events-burst": "25", "workers": "4",
            "dry-run": "false",
            "patch-allowed-kinds": "Deployment,StatefulSet,ConfigMap",
            "apply-allowed-kinds": "NetworkPolicy,ConfigMap", "incident-retention": "168h",
            "max-finished-incidents": "1000", "alert-rate": "50", "alert-burst": "100",
            "max-active-incidents": "500", "shutdown-timeout": "30s",
            "default-service-account": "remedy-runner", "service-accounts": "remedy-runner",
        }
        for flag, value in expected.items():
            self.assertEqual(args.get(flag), value, "--" + flag)
        # Nothing is reachable until an administrator says where.
        self.assertNotIn("egress-allow", args)

    def test_restricted_security_context(self):
        pod = self.release.deployment["spec"]["template"]["spec"]
        self.assertEqual(pod["securityContext"]["runAsNonRoot"], True)
        self.assertEqual(pod["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
        sc = self.release.container["securityContext"]
        self.assertEqual(sc["runAsNonRoot"], True)
        self.assertEqual(sc["runAsUser"], 65532)
        self.assertEqual(sc["readOnlyRootFilesystem"], True)
        self.assertEqual(sc["allowPrivilegeEscalation"], False)
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertNotIn("privileged", sc)
        self.assertFalse(pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"))
        self.assertIn("/tmp", [m["mountPath"] for m in self.release.container["volumeMounts"]])

    def test_probes_on_the_health_port(self):
        c = self.release.container
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports, {"webhook": 9443, "admission": 8443, "metrics": 8080, "health": 8081})
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "health"})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "health"})
        self.assertIn("requests", c["resources"])
        self.assertIn("memory", c["resources"]["limits"])

    def test_pod_namespace_from_the_downward_api(self):
        env = {e["name"]: e for e in self.release.container["env"]}
        self.assertEqual(env["POD_NAMESPACE"]["valueFrom"], {"fieldRef": {"fieldPath": "metadata.namespace"}})

    def test_the_token_is_a_file_from_the_generated_secret(self):
        secret = self.release.one("Secret", name="remedy-webhook-token")
        token = base64.b64decode(secret["data"]["token"]).decode()
        self.assertRegex(token, r"^[A-Za-z0-9]{48}$")
        spec = self.release.deployment["spec"]["template"]["spec"]
        volume = next(v for v in spec["volumes"] if v["name"] == "webhook-token")
        self.assertEqual(volume["secret"]["secretName"], secret["metadata"]["name"])
        self.assertEqual(volume["secret"]["items"], [{"key": "token", "path": "token"}])
        mount = next(m for m in self.release.container["volumeMounts"] if m["name"] == "webhook-token")
        self.assertTrue(mount["readOnly"])
        self.assertEqual(self.release.args["webhook-token-file"], mount["mountPath"] + "/token")
        # The token is never in the pod spec itself.
        self.assertNotIn(token, json.dumps(self.release.deployment))
        annotations = self.release.deployment["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["checksum/webhook-token"], hashlib.sha256(token.encode()).hexdigest())

    def test_replicas_prefer_different_nodes(self):
        spec = self.release.deployment["spec"]["template"]["spec"]
        terms = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        self.assertEqual(terms[0]["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname")
        selector = self.release.deployment["spec"]["selector"]["matchLabels"]
        self.assertEqual(terms[0]["podAffinityTerm"]["labelSelector"]["matchLabels"], selector)
        self.assertEqual(spec["topologySpreadConstraints"][0]["whenUnsatisfiable"], "ScheduleAnyway")
        self.assertNotIn("requiredDuringSchedulingIgnoredDuringExecution", spec["affinity"]["podAntiAffinity"])

    def test_selectors_select_the_pods(self):
        pod_labels = self.release.deployment["spec"]["template"]["metadata"]["labels"]
        selector = self.release.deployment["spec"]["selector"]["matchLabels"]
        self.assertLessEqual(selector.items(), pod_labels.items())
        self.assertEqual(self.release.one("Service")["spec"]["selector"], selector)
        self.assertEqual(self.release.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"], selector)
        self.assertEqual(self.release.one("PodDisruptionBudget")["spec"]["minAvailable"], 1)

    def test_service_exposes_the_webhook_and_metrics(self):
        ports = {p["name"]: p for p in self.release.one("Service")["spec"]["ports"]}
        self.assertEqual(set(ports), {"webhook", "admission", "metrics"})
        self.assertEqual((ports["webhook"]["port"], ports["webhook"]["targetPort"]), (9443, "webhook"))
        self.assertEqual((ports["metrics"]["port"], ports["metrics"]["targetPort"]), (8080, "metrics"))
        self.assertEqual(ports["webhook"]["appProtocol"], "http")

    def test_cluster_role_grants_exactly_the_rules_file(self):
        role = self.release.one("ClusterRole", name="remedy")
        self.assertEqual(role["rules"], operator_rules(["remedy-runner"]))
        binding = self.release.one("ClusterRoleBinding", name="remedy")
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                              "name": role["metadata"]["name"]})
        sa = self.release.one("ServiceAccount")
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                                "namespace": "remedy-system"}])
        self.assertEqual(self.release.deployment["spec"]["template"]["spec"]["serviceAccountName"],
                         sa["metadata"]["name"])

    def test_lease_and_pause_rules_only_in_the_release_namespace(self):
        role = self.release.one("Role", name="remedy-release-namespace")
        self.assertEqual(role["metadata"]["namespace"], "remedy-system")
        self.assertEqual(permissions(role["rules"]), EXPECTED_RELEASE_NAMESPACE_PERMISSIONS)
        binding = self.release.one("RoleBinding", name="remedy-release-namespace")
        self.assertEqual(binding["roleRef"]["name"], role["metadata"]["name"])
        self.assertEqual(binding["subjects"][0]["namespace"], "remedy-system")
        self.assertNotIn(("coordination.k8s.io", "leases"),
                         permissions(self.release.one("ClusterRole", name="remedy")["rules"]))

    def test_impersonation_is_bounded_to_the_runner_names(self):
        rules = self.release.one("ClusterRole", name="remedy")["rules"]
        impersonate = [r for r in rules if "impersonate" in r["verbs"]]
        self.assertEqual(impersonate, [{"apiGroups": [""], "resources": ["serviceaccounts"],
                                        "verbs": ["impersonate"], "resourceNames": ["remedy-runner"]}])
        for rule in rules:
            self.assertNotIn("users", rule["resources"])
            self.assertNotIn("groups", rule["resources"])

    def test_runbook_policies_are_read_cluster_wide(self):
        role = self.release.one("ClusterRole", name="remedy-policies")
        self.assertEqual(permissions(role["rules"]), EXPECTED_CLUSTER_PERMISSIONS)
        binding = self.release.one("ClusterRoleBinding", name="remedy-policies")
        self.assertEqual(binding["roleRef"]["name"], "remedy-policies")
        self.assertEqual(binding["subjects"][0]["name"], "remedy")

    def test_notes_carry_a_working_alertmanager_receiver(self):
        notes = self.release.notes
        self.assertIn("kubectl get incidents -A -w", notes)
        self.assertIn("kubectl -n remedy-system get secret remedy-webhook-token -o jsonpath='{.data.token}' "
                      "| base64 -d", notes)
        self.assertIn("remedy-pause", notes)
        self.assertIn("paused=true", notes)
        self.assertIn("paused=false", notes)
        block = notes[notes.index("     route:"):notes.index("2. Watch Incidents")]
        config = yaml.safe_load("\n".join(l[5:] for l in block.splitlines()))
        self.assertEqual(config["route"]["routes"][0]["receiver"], "remedy")
        hook = config["receivers"][0]["webhook_configs"][0]
        self.assertEqual(hook["url"], "http://remedy.remedy-system.svc:9443/api/v1/alerts")
        self.assertIs(hook["send_resolved"], True)
        self.assertIsInstance(hook["max_alerts"], int)
        self.assertEqual(hook["http_config"]["authorization"]["type"], "Bearer")
        self.assertIn("credentials_file", hook["http_config"]["authorization"])
        self.assertNotIn(base64.b64decode(self.release.one("Secret", name="remedy-webhook-token")["data"]["token"])
                         .decode(), notes)

    def test_no_optional_objects_by_default(self):
        self.assertEqual(self.release.of_kind("ServiceMonitor"), [])
        self.assertEqual(self.release.of_kind("NetworkPolicy"), [])


class WatchNamespacesTest(unittest.TestCase):
    def test_one_role_per_watched_namespace_and_only_policies_read_cluster_wide(self):
        release = Release({"watchNamespaces": ["team-a", "team-b"], "incidentNamespace": "team-a"})
        # Besides the RunbookPolicies, only what is cluster-scoped by nature:
        # SubjectAccessReviews and the webhook configurations (by name), and
        # the approver role, bound by nobody.
        self.assertEqual(sorted(r["metadata"]["name"] for r in release.of_kind("ClusterRole")),
                         ["remedy-approvals", "remedy-approver", "remedy-policies"])
        self.assertEqual(permissions(release.one("ClusterRole", name="remedy-policies")["rules"]),
                         EXPECTED_CLUSTER_PERMISSIONS)
        self.assertEqual(permissions(release.one("ClusterRole", name="remedy-approvals")["rules"]),
                         EXPECTED_APPROVAL_PERMISSIONS)
        self.assertEqual(sorted(b["metadata"]["name"] for b in release.of_kind("ClusterRoleBinding")),
                         ["remedy-approvals", "remedy-policies"])
        rules = operator_rules(["remedy-runner"])
        for ns in ("team-a", "team-b"):
            with self.subTest(namespace=ns):
                role = release.one("Role", namespace=ns)
                self.assertEqual(role["rules"], rules)
                binding = release.one("RoleBinding", namespace=ns)
                self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                      "name": role["metadata"]["name"]})
                self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": "remedy",
                                                        "namespace": "remedy-system"}])
        release_role = release.one("Role", name="remedy-release-namespace", namespace="remedy-system")
        self.assertEqual(permissions(release_role["rules"]), EXPECTED_RELEASE_NAMESPACE_PERMISSIONS)
        self.assertEqual(release.args["watch-namespaces"], "team-a,team-b")
        self.assertEqual(release.args["incident-namespace"], "team-a")
        self.assertIn("the namespaces team-a, team-b", release.notes)
        for obj in release.objects:
            for key, value in STANDARD_LABELS.items():
                self.assertEqual(obj["metadata"]["labels"].get(key), value)

    def test_the_release_namespace_may_be_watched_too(self):
        release = Release({"watchNamespaces": ["remedy-system", "team-a"]})
        names = sorted(r["metadata"]["name"] for r in release.of_kind("Role")
                       if r["metadata"]["namespace"] == "remedy-system")
        self.assertEqual(names, ["remedy", "remedy-admission", "remedy-release-namespace"])
        self.assertEqual(release.args["incident-namespace"], "remedy-system")

    def test_an_unwatched_incident_namespace_is_refused(self):
        with self.assertRaisesRegex(HelmFail, "incidentNamespace \"remedy-system\" is not one of watchNamespaces"):
            Release({"watchNamespaces": ["team-a"]})


class ValuesChangeTheManifestsTest(unittest.TestCase):
    def test_feature_toggles_drop_their_rules_from_the_runner_role(self):
        release = Release({"tenancy": {"namespaces": ["team-a"]},
                           "actions": {"readSecrets": False, "runJob": False,
                                       "patch": {"allowedKinds": ["Deployment"]},
                                       "apply": {"allowedKinds": []}}})
        granted = permissions(release.one("Role", name="remedy-runner", namespace="team-a")["rules"])
        for resource in (("", "secrets"), ("batch", "jobs"), ("", "configmaps"),
                         ("networking.k8s.io", "networkpolicies")):
            self.assertNotIn(resource, granted)
        expected = {k: v for k, v in EXPECTED_TENANT_PERMISSIONS.items()
                    if k[1] not in ("secrets", "jobs", "configmaps", "networkpolicies")}
        self.assertEqual(granted, expected)
        self.assertEqual(release.args["patch-allowed-kinds"], "Deployment")
        self.assertEqual(release.args["apply-allowed-kinds"], "")
        # The operator's own rules do not move.
        self.assertEqual(release.one("ClusterRole", name="remedy")["rules"], operator_rules(["remedy-runner"]))

    def test_one_kind_keeps_its_rule(self):
        release = Release({"tenancy": {"namespaces": ["team-a"]},
                           "actions": {"patch": {"allowedKinds": ["ConfigMap"]}, "apply": {"allowedKinds": []}}})
        granted = permissions(release.one("Role", name="remedy-runner", namespace="team-a")["rules"])
        self.assertIn(("", "configmaps"), granted)
        self.assertNotIn(("networking.k8s.io", "networkpolicies"), granted)

    def test_extra_rules_are_appended(self):
        extra = {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "patch"]}
        release = Release({"rbac": {"extraRules": [extra]}, "tenancy": {"namespaces": ["team-a"],
                                                                        "extraRules": [extra]}})
        self.assertEqual(release.one("ClusterRole", name="remedy")["rules"][-1], extra)
        self.assertEqual(release.one("Role", name="remedy-runner", namespace="team-a")["rules"][-1], extra)

    def test_each_install_generates_its_own_token(self):
        tokens = {Release().one("Secret", name="remedy-webhook-token")["data"]["token"] for _ in range(3)}
        self.assertEqual(len(tokens), 3)

    def test_an_existing_secret_is_used_and_its_token_never_rendered(self):
        # (helm_install_test.sh renders it with that Secret in the cluster.)
        weak = "hunter2"
        release = Release({"webhook": {"token": {"existingSecret": "my-token", "key": "bearer"}}})
        self.assertEqual([s["metadata"]["name"] for s in release.of_kind("Secret")], ["remedy-approval-seal"])
        volume = next(v for v in release.deployment["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "webhook-token")
        self.assertEqual(volume["secret"], {"secretName": "my-token", "items": [{"key": "bearer", "path": "token"}]})
        everything = "".join(release.files.values()) + release.notes
        self.assertNotIn(weak, everything)
        self.assertNotIn(hashlib.sha256(weak.encode()).hexdigest(), everything)
        self.assertIn("get secret my-token -o jsonpath='{.data.bearer}'", release.notes)

    def test_tls_mounts_the_secret_and_verifies_clients(self):
        release = Release({"webhook": {"tls": {"enabled": True, "secretName": "remedy-tls", "verifyClients": True}}})
        args = release.args
        mount = next(m for m in release.container["volumeMounts"] if m["name"] == "webhook-tls")
        for flag, key in (("webhook-tls-cert-file", "tls.crt"), ("webhook-tls-key-file", "tls.key"),
                          ("webhook-client-ca-file", "ca.crt")):
            self.assertEqual(args[flag], mount["mountPath"] + "/" + key)
        volume = next(v for v in release.deployment["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "webhook-tls")
        self.assertEqual(volume["secret"]["secretName"], "remedy-tls")
        self.assertEqual({p["name"]: p["appProtocol"] for p in release.one("Service")["spec"]["ports"]}["webhook"],
                         "https")
        self.assertIn("url: https://remedy.remedy-system.svc:9443/api/v1/alerts", release.notes)
        self.assertIn("ca_file:", release.notes)
        plain = Release().args
        self.assertNotIn("webhook-tls-cert-file", plain)

    def test_tls_without_a_secret_fails_even_without_the_schema(self):
        with self.assertRaisesRegex(HelmFail, "webhook.tls.secretName is required"):
            renderer().render({"webhook": {"tls": {"enabled": True}}}, validate=False)

    def test_service_monitor_and_network_policy(self):
        release = Release({"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
                           "networkPolicy": {"enabled": True,
                                             "admissionFrom": [{"ipBlock": {"cidr": "172.18.0.0/24"}}]}})
        monitor = release.one("ServiceMonitor")
        self.assertEqual(monitor["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(monitor["metadata"]["labels"]["release"], "prometheus")
        self.assertEqual(monitor["spec"]["endpoints"][0]["port"], "metrics")
        self.assertEqual(monitor["spec"]["endpoints"][0]["interval"], "30s")
        service = release.one("Service")
        self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(), service["metadata"]["labels"].items())
        policy = release.one("NetworkPolicy")
        self.assertEqual(policy["spec"]["policyTypes"], ["Ingress"])
        self.assertEqual(policy["spec"]["podSelector"]["matchLabels"],
                         release.deployment["spec"]["selector"]["matchLabels"])
        by_port = {rule["ports"][0]["port"]: rule for rule in policy["spec"]["ingress"]}
        self.assertEqual(set(by_port), {9443, 8443, 8080})
        self.assertEqual(by_port[8443]["from"], [{"ipBlock": {"cidr": "172.18.0.0/24"}}])
        webhook_from = by_port[9443]["from"][0]
        self.assertEqual(webhook_from["namespaceSelector"]["matchLabels"],
                         {"kubernetes.io/metadata.name": "monitoring"})
        self.assertEqual(webhook_from["podSelector"]["matchLabels"], {"app.kubernetes.io/name": "alertmanager"})
        self.assertNotIn("podSelector", by_port[8080]["from"][0])

    def test_one_replica_has_no_budget_and_may_skip_leader_election(self):
        release = Release({"replicaCount": 1, "leaderElection": {"enabled": False}})
        self.assertEqual(release.of_kind("PodDisruptionBudget"), [])
        self.assertEqual(release.args["leader-elect"], "false")
        self.assertNotIn("leader-election-name", release.args)
        # The Leases rule stays: the engine holds a Lease per target.
        self.assertEqual(permissions(release.one("Role", name="remedy-release-namespace")["rules"]),
                         {("coordination.k8s.io", "leases"): {"get", "create", "update"},
                          ("", "configmaps"): {"list", "watch"}})

    def test_two_replicas_without_leader_election_are_refused(self):
        with self.assertRaisesRegex(HelmFail, "leaderElection.enabled is false with replicaCount > 1"):
            Release({"leaderElection": {"enabled": False}})

    def test_large_numbers_reach_the_operator_as_integers(self):
        args = Release({"incidents": {"maxFinished": 2000000, "maxActive": 1500000}}).args
        self.assertEqual(args["max-finished-incidents"], "2000000")
        self.assertEqual(args["max-active-incidents"], "1500000")

    def test_without_rbac_and_service_account(self):
        release = Release({"rbac": {"create": False}, "serviceAccount": {"create": False, "name": "ops"}})
        kinds = {o["kind"] for o in release.objects}
        self.assertFalse(kinds & {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount"})
        self.assertEqual(release.deployment["spec"]["template"]["spec"]["serviceAccountName"], "ops")

    def test_names_follow_the_release(self):
        release = Release(release="prod")
        self.assertEqual(release.deployment["metadata"]["name"], "prod-remedy")
        self.assertEqual(release.args["leader-election-name"], "prod-remedy")
        self.assertEqual(release.deployment["metadata"]["labels"]["app.kubernetes.io/instance"], "prod")
        # Names are labels too: at most 63 characters. Helm caps release
        # names at 53; a longer nameOverride is cut.
        long = Release({"nameOverride": "n" * 20}, release="a" * 53)
        self.assertEqual(long.deployment["metadata"]["name"], "a" * 53 + "-" + "n" * 9)
        with self.assertRaisesRegex(HelmFail, "invalid release name"):
            Release(release="a" * 54)
        self.assertEqual(Release(release="remedy-prod").deployment["metadata"]["name"], "remedy-prod")

    def test_platform_assigned_user(self):
        release = Release({"securityContext": {"runAsUser": None, "runAsGroup": None}})
        sc = release.container["securityContext"]
        self.assertNotIn("runAsUser", sc)
        self.assertTrue(sc["runAsNonRoot"])

    def test_extra_args_and_image(self):
        release = Release({"extraArgs": ["--kubeconfig=/etc/kube/config"], "prometheusUrl": "http://prom:9090",
                           "image": {"repository": "registry.example/remedy-operator", "tag": "1.2.3"}})
        self.assertEqual(release.args["kubeconfig"], "/etc/kube/config")
        self.assertEqual(release.args["prometheus-url"], "http://prom:9090")
        self.assertEqual(release.container["image"], "registry.example/remedy-operator:1.2.3")
        self.assertEqual(Release().container["image"], "remedy-operator:0.1.0")
        digest = "sha256:" + "a" * 64
        self.assertEqual(Release({"image": {"digest": digest}}).container["image"], "remedy-operator@" + digest)


class TenancyTest(unittest.TestCase):
    def test_the_runner_of_each_tenant_namespace(self):
        release = Release({"tenancy": {"namespaces": ["team-a", "team-b"]}})
        for ns in ("team-a", "team-b"):
            with self.subTest(namespace=ns):
                sa = release.one("ServiceAccount", name="remedy-runner", namespace=ns)
                self.assertIs(sa["automountServiceAccountToken"], False)
                role = release.one("Role", name="remedy-runner", namespace=ns)
                self.assertEqual(permissions(role["rules"]), EXPECTED_TENANT_PERMISSIONS)
                binding = release.one("RoleBinding", name="remedy-runner", namespace=ns)
                self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io",
                                                      "kind": "Role", "name": "remedy-runner"})
                self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": "remedy-runner",
                                                        "namespace": ns}])
        # The operator itself gains nothing from it.
        self.assertEqual(permissions(release.one("ClusterRole", name="remedy")["rules"]), EXPECTED_PERMISSIONS)

    def test_more_runner_names_widen_only_the_impersonation(self):
        release = Release({"tenancy": {"serviceAccounts": ["remedy-runner", "db-runner"],
                                       "runJobServiceAccounts": ["jobs"]}})
        rules = release.one("ClusterRole", name="remedy")["rules"]
        self.assertEqual(rules, operator_rules(["remedy-runner", "db-runner"]))
        args = release.args
        self.assertEqual(args["service-accounts"], "remedy-runner,db-runner")
        self.assertEqual(args["default-service-account"], "remedy-runner")
        self.assertEqual(args["runjob-service-accounts"], "jobs")
        with self.assertRaisesRegex(HelmFail, "tenancy.defaultServiceAccount \"remedy-runner\" is not one of "
                                                  "tenancy.serviceAccounts"):
            renderer().render({"tenancy": {"serviceAccounts": ["db-runner"]}}, validate=False)

    def test_the_egress_allow_list_reaches_the_operator(self):
        args = Release({"egress": {"allow": ["hooks.slack.com", "*.example.com", "10.0.0.0/8"],
                                   "deny": ["10.96.0.0/12"]}}).args
        self.assertEqual(args["egress-allow"], "hooks.slack.com,*.example.com,10.0.0.0/8")
        self.assertEqual(args["egress-deny"], "10.96.0.0/12")

    def test_the_egress_network_policy_never_cuts_the_api_server(self):
        values = {"networkPolicy": {"egress": {"enabled": True, "cidrs": ["10.20.0.0/16"],
                                               "apiServer": {"cidrs": ["172.18.0.2/32"], "ports": [6443]}}}}
        policy = Release(values).one("NetworkPolicy", name="remedy-egress")
        self.assertEqual(policy["spec"]["policyTypes"], ["Egress"])
        dns, api, steps = policy["spec"]["egress"]
        self.assertEqual({p["port"] for p in dns["ports"]}, {53})
        self.assertEqual(api, {"to": [{"ipBlock": {"cidr": "172.18.0.2/32"}}],
                               "ports": [{"port": 6443, "protocol": "TCP"}]})
        self.assertEqual(steps, {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]})
        # Without addresses given, those of the kubernetes Service's
        # endpoints, which only an install against a cluster can look up
        # (e2e/helm_install_test.sh); a client-side rendering has none, and
        # is refused rather than rendered without the API server.
        with self.assertRaisesRegex(HelmFail, "networkPolicy.egress.enabled needs the API server's addresses"):
            Release({"networkPolicy": {"egress": {"enabled": True}}})
        self.assertEqual([p["metadata"]["name"] for p in Release().of_kind("NetworkPolicy")], [])


# ---------------------------------------------------------------------------
# Approvals that prove who approved (issue #16): the admission webhooks, their
# certificate, the seal key and the RBAC they need.
# ---------------------------------------------------------------------------

# The webhooks the API server calls, as (configuration kind, webhook name,
# path, operations, failurePolicy): tests/operator/approval_e2e_test.cpp
# registers the same.
WEBHOOKS = [
    ("MutatingWebhookConfiguration", "approvals.remedy.dev", "/admission/v1/mutate", ["CREATE"], "Fail"),
    ("MutatingWebhookConfiguration", "incidents.remedy.dev", "/admission/v1/mutate", ["CREATE"], "Fail"),
    ("ValidatingWebhookConfiguration", "approvals.remedy.dev", "/admission/v1/validate", ["CREATE", "UPDATE"],
     "Fail"),
    ("ValidatingWebhookConfiguration", "incidents.remedy.dev", "/admission/v1/validate", ["UPDATE"], "Fail"),
]
SAR_RULE = {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]}


def webhooks(release):
    """{(configuration kind, webhook name): webhook}."""
    out = {}
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for hook in release.one(kind, name="remedy")["webhooks"]:
            out[(kind, hook["name"])] = hook
    return out


class AdmissionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.release = Release()

    def test_the_webhooks_by_default_call_the_service_and_fail_closed(self):
        hooks = webhooks(self.release)
        self.assertEqual(sorted(hooks), sorted((k, n) for k, n, _, _, _ in WEBHOOKS))
        for kind, name, path, operations, policy in WEBHOOKS:
            with self.subTest(kind=kind, webhook=name):
                hook = hooks[(kind, name)]
                self.assertEqual(hook["clientConfig"], {"service": {
                    "name": "remedy", "namespace": "remedy-system", "path": path, "port": 8443}})
                self.assertEqual(hook["rules"], [{"apiGroups": ["remedy.dev"], "apiVersions": ["v1alpha1"],
                                                  "resources": [name.split(".")[0]], "operations": operations,
                                                  "scope": "Namespaced"}])
                self.assertEqual(hook["failurePolicy"], policy)
                self.assertEqual(hook["sideEffects"], "None")
                self.assertEqual(hook["admissionReviewVersions"], ["v1"])
                self.assertEqual(hook["timeoutSeconds"], 10)
                self.assertEqual(hook["namespaceSelector"], {})
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            config = self.release.one(kind)
            self.assertNotIn("annotations", config["metadata"])
            # The leader writes the caBundle: a chart that templated one
            # would own the field and fight it on every upgrade.
            self.assertNotIn("caBundle", json.dumps(config))
        self.assertEqual(self.release.of_kind("Certificate") + self.release.of_kind("Issuer"), [])

    def test_every_replica_serves_the_webhooks_with_the_certificate_secret(self):
        args = self.release.args
        self.assertEqual(args["admission-bind-address"], "0.0.0.0")
        self.assertEqual(args["admission-port"], "8443")
        self.assertEqual(args["admission-cert-secret"], "remedy-admission-tls")
        self.assertEqual(args["admission-cert-dns-names"],
                         "remedy.remedy-system.svc,remedy.remedy-system.svc.cluster.local")
        self.assertEqual(args["admission-webhook-configurations"], "remedy")
        for absent in ("admission-cert-ip-addresses", "admission-tls-cert-file", "admission-tls-key-file",
                       "approval-seal-previous-key-files"):
            self.assertNotIn(absent, args)
        ports = {p["name"]: p for p in self.release.one("Service")["spec"]["ports"]}
        self.assertEqual((ports["admission"]["port"], ports["admission"]["targetPort"],
                          ports["admission"]["appProtocol"]), (8443, "admission", "https"))
        container_ports = {p["name"]: p["containerPort"] for p in self.release.container["ports"]}
        self.assertEqual(container_ports["admission"], 8443)
        # Readiness stays the health port's: a standby replica serves too.
        self.assertEqual(self.release.container["readinessProbe"]["httpGet"]["port"], "health")
        self.assertEqual(self.release.deployment["spec"]["replicas"], 2)

    def test_the_seal_key_is_generated_mounted_and_never_in_the_pod_spec(self):
        secret = self.release.one("Secret", name="remedy-approval-seal")
        key = base64.b64decode(secret["data"]["key"]).decode()
        self.assertRegex(key, r"^[A-Za-z0-9]{64}$")  # 64 characters: 381 bits
        spec = self.release.deployment["spec"]["template"]["spec"]
        volume = next(v for v in spec["volumes"] if v["name"] == "approval-seal")
        self.assertEqual(volume["secret"], {"secretName": "remedy-approval-seal",
                                            "items": [{"key": "key", "path": "key"}]})
        mount = next(m for m in self.release.container["volumeMounts"] if m["name"] == "approval-seal")
        self.assertTrue(mount["readOnly"])
        self.assertEqual(self.release.args["approval-seal-key-file"], mount["mountPath"] + "/key")
        self.assertNotIn(key, json.dumps(self.release.deployment))
        annotations = self.release.deployment["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["checksum/approval-seal-key"], hashlib.sha256(key.encode()).hexdigest())
        self.assertNotIn(key, self.release.notes)
        keys = {Release().one("Secret", name="remedy-approval-seal")["data"]["key"] for _ in range(2)}
        self.assertEqual(len(keys | {secret["data"]["key"]}), 3, "each install generates its own key")

    def test_rbac_rules_are_exactly_the_admission_ones(self):
        approvals = self.release.one("ClusterRole", name="remedy-approvals")
        self.assertEqual(approvals["rules"], [
            SAR_RULE,
            {"apiGroups": ["admissionregistration.k8s.io"],
             "resources": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
             "verbs": ["get", "update"], "resourceNames": ["remedy"]},
        ])
        binding = self.release.one("ClusterRoleBinding", name="remedy-approvals")
        self.assertEqual(binding["roleRef"]["name"], "remedy-approvals")
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": "remedy",
                                                "namespace": "remedy-system"}])
        role = self.release.one("Role", name="remedy-admission", namespace="remedy-system")
        self.assertEqual(role["rules"], [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "update"],
             "resourceNames": ["remedy-admission-tls"]},
        ])
        binding = self.release.one("RoleBinding", name="remedy-admission", namespace="remedy-system")
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                              "name": "remedy-admission"})
        self.assertEqual(binding["subjects"][0]["name"], "remedy")
        # The seal key's Secret is readable by no rule of the operator's.
        for r in self.release.of_kind("Role") + self.release.of_kind("ClusterRole"):
            for rule in r["rules"]:
                if "secrets" in rule["resources"] and "create" not in rule["verbs"]:
                    self.assertEqual(rule.get("resourceNames"), ["remedy-admission-tls"], r["metadata"]["name"])
        # The operator's own rules do not move.
        self.assertEqual(self.release.one("ClusterRole", name="remedy")["rules"], operator_rules(["remedy-runner"]))

    def test_the_approver_role_is_shipped_unbound(self):
        role = self.release.one("ClusterRole", name="remedy-approver")
        self.assertEqual(role["rules"], [
            {"apiGroups": ["remedy.dev"], "resources": ["runbooks"], "verbs": ["approve"]},
            {"apiGroups": ["remedy.dev"], "resources": ["approvals"], "verbs": ["create", "get", "list"]},
            {"apiGroups": ["remedy.dev"], "resources": ["incidents"], "verbs": ["get", "list"]},
        ])
        for b in self.release.of_kind("ClusterRoleBinding") + self.release.of_kind("RoleBinding"):
            self.assertNotEqual(b["roleRef"]["name"], "remedy-approver")
        without = Release({"admission": {"approverRole": {"create": False}}})
        self.assertEqual([r for r in without.of_kind("ClusterRole") if r["metadata"]["name"] == "remedy-approver"],
                         [])

    def test_cert_manager_mode(self):
        release = Release({"admission": {"certificate": {"mode": "certManager"}}})
        cert = release.one("Certificate", name="remedy-admission", namespace="remedy-system")
        self.assertEqual(cert["apiVersion"], "cert-manager.io/v1")
        self.assertEqual(cert["spec"]["secretName"], "remedy-admission-tls")
        self.assertEqual(cert["spec"]["dnsNames"],
                         ["remedy.remedy-system.svc", "remedy.remedy-system.svc.cluster.local"])
        self.assertNotIn("ipAddresses", cert["spec"])
        self.assertEqual(cert["spec"]["issuerRef"], {"name": "remedy-selfsigned", "kind": "Issuer",
                                                     "group": "cert-manager.io"})
        self.assertEqual((cert["spec"]["duration"], cert["spec"]["renewBefore"]), ("2160h", "360h"))
        issuer = release.one("Issuer", name="remedy-selfsigned", namespace="remedy-system")
        self.assertEqual(issuer["spec"], {"selfSigned": {}})
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            config = release.one(kind)
            self.assertEqual(config["metadata"]["annotations"],
                             {"cert-manager.io/inject-ca-from": "remedy-system/remedy-admission"})
            self.assertNotIn("caBundle", json.dumps(config))
        args = release.args
        mount = next(m for m in release.container["volumeMounts"] if m["name"] == "admission-tls")
        self.assertTrue(mount["readOnly"])
        self.assertEqual(args["admission-tls-cert-file"], mount["mountPath"] + "/tls.crt")
        self.assertEqual(args["admission-tls-key-file"], mount["mountPath"] + "/tls.key")
        for absent in ("admission-cert-secret", "admission-cert-dns-names", "admission-webhook-configurations"):
            self.assertNotIn(absent, args)
        volume = next(v for v in release.deployment["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "admission-tls")
        self.assertEqual(volume["secret"], {"secretName": "remedy-admission-tls"})
        # cainjector writes the caBundle and cert-manager the Secret: the
        # operator needs neither right, only SubjectAccessReviews.
        self.assertEqual(release.one("ClusterRole", name="remedy-approvals")["rules"], [SAR_RULE])
        self.assertEqual([r["metadata"]["name"] for r in release.of_kind("Role")], ["remedy-release-namespace"])
        # An issuer of yours: no Issuer of the chart's.
        mine = Release({"admission": {"certificate": {"mode": "certManager", "certManager": {
            "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}}}}})
        self.assertEqual(mine.of_kind("Issuer"), [])
        self.assertEqual(mine.one("Certificate")["spec"]["issuerRef"],
                         {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"})

    def test_url_mode_calls_the_url_and_certifies_its_host(self):
        release = Release({"admission": {"url": "https://127.0.0.1:9555/", "port": 9555,
                                         "certificate": {"ipAddresses": ["10.0.0.7"]}}})
        for (kind, name), hook in webhooks(release).items():
            path = "mutate" if kind.startswith("Mutating") else "validate"
            self.assertEqual(hook["clientConfig"], {"url": "https://127.0.0.1:9555/admission/v1/" + path})
        args = release.args
        self.assertEqual(args["admission-cert-ip-addresses"], "127.0.0.1,10.0.0.7")
        self.assertEqual(args["admission-port"], "9555")
        named = Release({"admission": {"url": "https://remedy.example.com:8443"}}).args
        self.assertEqual(named["admission-cert-dns-names"],
                         "remedy.remedy-system.svc,remedy.remedy-system.svc.cluster.local,remedy.example.com")
        self.assertNotIn("admission-cert-ip-addresses", named)
        six = Release({"admission": {"url": "https://[::1]:8443"}}).args
        self.assertEqual(six["admission-cert-ip-addresses"], "::1")
        with self.assertRaisesRegex(HelmFail, "admission.url \"http://127.0.0.1:8443\": the API server calls "
                                              "webhooks over HTTPS only"):
            renderer().render({"admission": {"url": "http://127.0.0.1:8443"}}, validate=False)

    def test_seal_key_from_an_existing_secret_with_rotated_keys(self):
        release = Release({"admission": {"sealKey": {"existingSecret": "my-seal", "key": "current",
                                                     "previousKeys": ["2025", "2024"]}}})
        self.assertEqual([s["metadata"]["name"] for s in release.of_kind("Secret")], ["remedy-webhook-token"])
        volume = next(v for v in release.deployment["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "approval-seal")
        self.assertEqual(volume["secret"], {"secretName": "my-seal", "items": [
            {"key": "current", "path": "key"}, {"key": "2025", "path": "previous-0"},
            {"key": "2024", "path": "previous-1"}]})
        mount = next(m for m in release.container["volumeMounts"] if m["name"] == "approval-seal")["mountPath"]
        self.assertEqual(release.args["approval-seal-key-file"], mount + "/key")
        self.assertEqual(release.args["approval-seal-previous-key-files"],
                         "%s/previous-0,%s/previous-1" % (mount, mount))
        # No lookup without a cluster: the checksum covers the name only.
        annotations = release.deployment["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["checksum/approval-seal-key"], hashlib.sha256(b"my-seal/").hexdigest())

    def test_watch_namespaces_limit_the_webhooks_to_them(self):
        release = Release({"watchNamespaces": ["team-a", "team-b"], "incidentNamespace": "team-a"})
        for hook in webhooks(release).values():
            self.assertEqual(hook["namespaceSelector"], {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a", "team-b"]}]})
        # Cluster-scoped by nature, so a ClusterRole even here.
        self.assertEqual(release.one("ClusterRole", name="remedy-approvals")["rules"][0], SAR_RULE)

    def test_incident_webhooks_may_ignore_failures_approvals_never(self):
        release = Release({"admission": {"incidentFailurePolicy": "Ignore", "timeoutSeconds": 5}})
        policies = {key: hook["failurePolicy"] for key, hook in webhooks(release).items()}
        self.assertEqual(policies, {
            ("MutatingWebhookConfiguration", "approvals.remedy.dev"): "Fail",
            ("MutatingWebhookConfiguration", "incidents.remedy.dev"): "Ignore",
            ("ValidatingWebhookConfiguration", "approvals.remedy.dev"): "Fail",
            ("ValidatingWebhookConfiguration", "incidents.remedy.dev"): "Ignore"})
        self.assertEqual({hook["timeoutSeconds"] for hook in webhooks(release).values()}, {5})

    def test_without_admission(self):
        release = Release({"admission": {"enabled": False}})
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Certificate"):
            self.assertEqual(release.of_kind(kind), [])
        self.assertEqual([s["metadata"]["name"] for s in release.of_kind("Secret")], ["remedy-webhook-token"])
        self.assertEqual([a for a in release.args if a.startswith(("admission-", "approval-"))], [])
        self.assertNotIn("admission", {p["name"] for p in release.one("Service")["spec"]["ports"]})
        self.assertNotIn("admission", {p["name"] for p in release.container["ports"]})
        self.assertEqual([r["metadata"]["name"] for r in release.of_kind("Role")], ["remedy-release-namespace"])
        # The engine still asks who may approve (no Approval counts without a seal, though).
        self.assertEqual(release.one("ClusterRole", name="remedy-approvals")["rules"], [SAR_RULE])
        self.assertEqual(len(Release({"admission": {"enabled": False},
                                      "networkPolicy": {"enabled": True}}).one("NetworkPolicy")["spec"]["ingress"]), 2)

    def test_the_network_policy_admits_only_the_api_server_to_the_webhooks(self):
        # Without addresses, only an install against a cluster can look them
        # up (e2e/helm_install_test.sh): a client-side rendering is refused
        # rather than left open to anyone who could have Approvals sealed.
        with self.assertRaisesRegex(HelmFail, "needs the API server's source addresses: set "
                                              "networkPolicy.admissionFrom"):
            Release({"networkPolicy": {"enabled": True}})
        release = Release({"networkPolicy": {"enabled": True, "egress": {"apiServer": {"cidrs": ["172.18.0.2/32"]}}}})
        by_port = {rule["ports"][0]["port"]: rule for rule in release.one("NetworkPolicy")["spec"]["ingress"]}
        self.assertEqual(by_port[8443], {"ports": [{"port": 8443, "protocol": "TCP"}],
                                         "from": [{"ipBlock": {"cidr": "172.18.0.2/32"}}]})

    def test_notes_say_how_to_let_people_approve(self):
        notes = self.release.notes
        self.assertIn("kubectl -n <namespace> create rolebinding remedy-approvers --clusterrole=remedy-approver "
                      "--group=sre", notes)
        self.assertIn("kubectl remedy approve <incident> -n <namespace>", notes)
        self.assertIn("Secret remedy-system/remedy-admission-tls", notes)
        self.assertIn("no Approval is sealed, so none counts", Release({"admission": {"enabled": False}}).notes)

    def test_wrong_admission_values_are_rejected(self):
        validator, _ = ValuesTest.validator(self)
        wrong = {
            "an unknown certificate mode": {"admission": {"certificate": {"mode": "vault"}}},
            "a plain-HTTP webhook URL": {"admission": {"url": "http://127.0.0.1:8443"}},
            "a timeout above kube-apiserver's 30 s": {"admission": {"timeoutSeconds": 31}},
            "an unknown failure policy": {"admission": {"incidentFailurePolicy": "Never"}},
            "a seal key name with a space": {"admission": {"sealKey": {"key": "a b"}}},
            "an issuer kind cert-manager lacks": {"admission": {"certificate": {"certManager": {
                "issuerRef": {"name": "x", "kind": "Vault"}}}}},
            "an IP address that is a host name": {"admission": {"certificate": {"ipAddresses": ["remedy.example"]}}},
        }
        for what, override in wrong.items():
            with self.subTest(what=what):
                self.assertTrue(list(validator.iter_errors(renderer().values(override))), "%s was accepted" % what)
                with self.assertRaises(HelmFail):
                    renderer().render(override)


def install_deps_packages(array):
    with open(os.path.join(ROOT, "scripts", "install-deps.sh")) as f:
        text = f.read()
    m = re.search(r"^%s=\((.*?)^\)" % array, text, re.M | re.S)
    assert m, "scripts/install-deps.sh has no %s=( ... )" % array
    body = re.sub(r"#.*", "", m.group(1))
    return body.split()


class Dockerfile:
    def __init__(self, path):
        with open(path) as f:
            text = f.read()
        # Join continuation lines, drop comments.
        lines = []
        for line in re.sub(r"\\\n", " ", text).splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
        self.stages = []
        for line in lines:
            instruction, _, rest = line.partition(" ")
            instruction = instruction.upper()
            if instruction == "FROM":
                m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.I)
                self.stages.append({"image": m.group(1), "name": m.group(2), "instructions": []})
            else:
                self.stages[-1]["instructions"].append((instruction, rest.strip()))

    @staticmethod
    def apt_packages(stage):
        packages = []
        for instruction, rest in stage["instructions"]:
            if instruction != "RUN":
                continue
            for command in re.split(r"&&|;", rest):
                words = command.split()
                if "apt-get" in words and "install" in words:
                    after = words[words.index("install") + 1:]
                    packages += [w for w in after if not w.startswith("-")]
        return packages


def cmake_executables():
    """{target: directory of the CMakeLists.txt declaring it}, relative to the repository."""
    found = {}
    for directory, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
        if "CMakeLists.txt" in names:
            with open(os.path.join(directory, "CMakeLists.txt")) as f:
                for m in re.finditer(r"add_executable\(\s*([A-Za-z0-9_.+-]+)", f.read()):
                    found[m.group(1)] = os.path.relpath(directory, ROOT)
    return found


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docker = Dockerfile(os.path.join(ROOT, "Dockerfile"))
        cls.build, cls.runtime = cls.docker.stages[0], cls.docker.stages[-1]

    def test_two_debian_bookworm_stages(self):
        self.assertEqual(len(self.docker.stages), 2)
        self.assertEqual((self.build["image"], self.build["name"]), ("debian:bookworm", "build"))
        self.assertEqual(self.runtime["image"], "debian:bookworm-slim")

    def test_build_stage_installs_exactly_the_build_packages(self):
        self.assertEqual(sorted(Dockerfile.apt_packages(self.build)), sorted(install_deps_packages("BUILD_PACKAGES")))
        self.assertIn("--no-install-recommends", " ".join(r for i, r in self.build["instructions"] if i == "RUN"))

    def test_build_command_builds_the_operator_and_remedyctl(self):
        runs = " ".join(r for i, r in self.build["instructions"] if i == "RUN")
        configure = re.search(r"cmake -S \. -B build ([^&]*)", runs)
        self.assertTrue(configure, "no `cmake -S . -B build` in the build stage")
        for option in ("-G Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF"):
            self.assertIn(option, configure.group(1))
        targets = re.search(r"cmake --build build --target ((?:[A-Za-z0-9_-]+\s*)+)", runs).group(1).split()
        self.assertEqual(sorted(targets), ["remedy-operator", "remedyctl"])
        workdir = [r for i, r in self.build["instructions"] if i == "WORKDIR"][-1]
        executables = cmake_executables()
        copies = [r for i, r in self.runtime["instructions"] if i == "COPY"]
        for target in targets:
            with self.subTest(target=target):
                if target not in executables:
                    # The operator's CMakeLists.txt is being written (issue #8); once
                    # operator/CMakeLists.txt exists, it must declare the target.
                    self.assertEqual(target, "remedy-operator", "%s is not a CMake executable" % target)
                    self.assertFalse(os.path.exists(os.path.join(ROOT, "operator", "CMakeLists.txt")),
                                     "operator/CMakeLists.txt declares no remedy-operator executable")
                    print("note: remedy-operator is not declared yet; checked against operator/",
                          file=sys.stderr)
                    directory = "operator"
                else:
                    directory = executables[target]
                binary = os.path.normpath(os.path.join(workdir, "build", directory, target))
                self.assertTrue(any(re.match(r"--from=build\s+%s\s" % re.escape(binary), c) for c in copies),
                                "the runtime stage does not copy %s" % binary)

    def test_runtime_stage_has_runtime_libraries_only(self):
        packages = Dockerfile.apt_packages(self.runtime)
        self.assertIn("ca-certificates", packages)
        for p in packages:
            self.assertFalse(p.endswith("-dev") or p in ("build-essential", "cmake", "ninja-build", "pkg-config"), p)
        if not shutil.which("apt-cache") or subprocess.run(
                ["apt-cache", "show", "--no-all-versions", "ca-certificates"], capture_output=True).returncode:
            self.skipTest("no apt-cache with package lists to check the Debian package names")
        shown = subprocess.run(["apt-cache", "show", "--no-all-versions"] + packages,
                               capture_output=True, text=True).stdout
        self.assertEqual(set(re.findall(r"^Package: (\S+)", shown, re.M)), set(packages),
                         "some runtime packages are not Debian packages here")
        # Each linked library's -dev package depends on a runtime package installed.
        linked = ["libcpprest-dev", "libyaml-cpp-dev", "libssl-dev", "prometheus-cpp-dev",
                  "libspdlog-dev", "libpq-dev", "libhiredis-dev"]
        self.assertLessEqual(set(linked), set(install_deps_packages("BUILD_PACKAGES")))
        out = subprocess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests"] + linked,
                             capture_output=True, text=True).stdout
        depends = {}
        for line in out.splitlines():
            if not line.startswith(" "):
                current = depends.setdefault(line.strip(), set())
            else:
                m = re.match(r"^\s*\|?Depends: (\S+)", line)
                if m:
                    current.add(m.group(1))
        for dev in linked:
            with self.subTest(dev=dev):
                self.assertTrue(depends.get(dev, set()) & set(packages),
                                "the runtime image has none of %s's libraries %s"
                                % (dev, sorted(depends.get(dev, set()))))

    def test_runtime_runs_as_non_root_with_the_operator_as_entrypoint(self):
        users = [r for i, r in self.runtime["instructions"] if i == "USER"]
        self.assertTrue(users, "no USER in the runtime stage")
        self.assertRegex(users[-1], r"^[0-9]+:[0-9]+$")
        uid, gid = (int(x) for x in users[-1].split(":"))
        self.assertNotEqual(uid, 0)
        self.assertNotEqual(gid, 0)
        self.assertEqual(uid, renderer().values()["securityContext"]["runAsUser"])
        kinds = [i for i, _ in self.runtime["instructions"]]
        self.assertNotIn("RUN", kinds[kinds.index("USER"):], "a RUN after USER would run as the user")
        entrypoint = json.loads([r for i, r in self.runtime["instructions"] if i == "ENTRYPOINT"][-1])
        self.assertEqual(os.path.basename(entrypoint[0]), "remedy-operator")

    def test_dockerignore_keeps_the_sources(self):
        with open(os.path.join(ROOT, ".dockerignore")) as f:
            patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        self.assertIn(".git", patterns)
        self.assertIn("build", patterns)
        for needed in ("src", "crds", "CMakeLists.txt", "operator"):
            self.assertNotIn(needed, patterns)


def main():
    global HELM, WORKDIR
    argv = sys.argv[1:]
    if "--helm" not in argv or argv.index("--helm") + 1 >= len(argv):
        print("usage: chart_test.py --helm PATH/TO/helm [unittest args...]", file=sys.stderr)
        return 2
    i = argv.index("--helm")
    HELM = argv[i + 1]
    del argv[i:i + 2]
    WORKDIR = tempfile.mkdtemp(prefix="remedy-chart.")
    try:
        print("# " + helm("version", "--short").strip(), file=sys.stderr)
        result = unittest.main(argv=[sys.argv[0]] + argv, verbosity=2, exit=False).result
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
