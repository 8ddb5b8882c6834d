#!/usr/bin/python3
"""The chart's PrometheusRule and Grafana dashboard, rendered by the real Helm
and checked by the real Prometheus tools: `promtool check rules` on the
rendered rules, `promtool test rules` (e2e/testdata/remedy_rules_test.yml)
covering every alert firing and staying quiet, a real Prometheus loading the
rules, and every dashboard query parsed by that Prometheus's query API and
naming only metrics the operator defines. Also: each alert's runbook_url
points at a section of charts/remedy/ALERTS.md, and the dashboard's
ConfigMap carries the sidecar label, folder and data source given.

A live test runs remedyctl's sandbox, remedy-operator and Prometheus
scraping it with the rules (awaitingApprovalFor 2s): an Incident that waits
for approval makes RemedyApprovalWaitingTooLong fire.

usage: /usr/bin/python3 observability_test.py --helm PATH/TO/helm
       [--remedyctl PATH --operator PATH] [unittest args...]
(without --remedyctl and --operator the live test is skipped)
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "charts", "remedy")
RULES_TEST = os.path.join(ROOT, "e2e", "testdata", "remedy_rules_test.yml")
HELM = None  # set from --helm
REMEDYCTL = None  # set from --remedyctl
OPERATOR = None  # set from --operator
WORKDIR = None


def helm_template(values, release="remedy", namespace="monitoring", chart=CHART):
    path = os.path.join(WORKDIR, "values-%d.json" % time.monotonic_ns())
    with open(path, "w") as f:
        json.dump(values, f)
    return subprocess.run([HELM, "template", release, chart, "--namespace", namespace, "--values", path],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HELM_CACHE_HOME=WORKDIR, HELM_CONFIG_HOME=WORKDIR,
                                   HELM_DATA_HOME=WORKDIR))


def render(values, release="remedy", namespace="monitoring"):
    """{kind: [objects]} of `helm template` with `values`."""
    p = helm_template(values, release, namespace)
    if p.returncode != 0:
        raise AssertionError("helm template failed: " + p.stderr)
    objects = {}
    for doc in yaml.safe_load_all(p.stdout):
        if doc:
            objects.setdefault(doc["kind"], []).append(doc)
    return objects


def metrics_the_operator_defines():
    """The names registered with prometheus-cpp (.Name("remedy_...")) in the
    operator and the libraries it links."""
    names = set()
    for top in ("operator", "src"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".cpp", ".h")):
                    with open(os.path.join(dirpath, name)) as f:
                        names.update(re.findall(r'\.Name\("(remedy_[a-z_]+)"\)', f.read()))
    return names


def metrics_named(expr):
    """The remedy_ metric families an expression reads (histogram series
    map to their family)."""
    return {re.sub(r"_(bucket|sum|count)$", "", m) for m in re.findall(r"\bremedy_[a-z_]+\b", expr)}


def free_port():
    """A free loopback port below the kernel's ephemeral range (scripts/free_port.py)."""
    return int(subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "free_port.py")],
                              capture_output=True, text=True, check=True, timeout=30).stdout)


def promtool(*args, cwd):
    return subprocess.run(["promtool"] + list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


class Rendered:
    """The default render with both objects on, and its rules as a file."""

    def __init__(self):
        objects = render({"prometheusRule": {"enabled": True}, "grafanaDashboard": {"enabled": True}})
        (self.rule,) = objects["PrometheusRule"]
        (self.dashboard_map,) = [o for o in objects["ConfigMap"] if o["metadata"]["name"].endswith("-dashboard")]
        self.dashboard = json.loads(self.dashboard_map["data"]["remedy.json"])
        self.dir = tempfile.mkdtemp(prefix="rules.", dir=WORKDIR)
        with open(os.path.join(self.dir, "remedy-rules.yml"), "w") as f:
            yaml.safe_dump({"groups": self.rule["spec"]["groups"]}, f, sort_keys=False)
        shutil.copy(RULES_TEST, self.dir)

    def alerts(self):
        return [r for g in self.rule["spec"]["groups"] for r in g["rules"] if "alert" in r]

    def queries(self):
        """Every query of the dashboard: panel targets and variables."""
        out = []
        for panel in self.dashboard["panels"]:
            for target in panel.get("targets", []):
                out.append((panel["title"], target["expr"]))
        return out


RENDERED = None


def rendered():
    global RENDERED
    if RENDERED is None:
        RENDERED = Rendered()
    return RENDERED


class PrometheusRuleTest(unittest.TestCase):
    def test_promtool_check_rules_passes(self):
        p = promtool("check", "rules", "remedy-rules.yml", cwd=rendered().dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS: 8 rules found", p.stdout)

    def test_promtool_unit_tests_pass(self):
        p = promtool("test", "rules", os.path.basename(RULES_TEST), cwd=rendered().dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_the_unit_tests_cover_every_alert_firing_and_quiet(self):
        with open(RULES_TEST) as f:
            tests = yaml.safe_load(f)["tests"]
        fired, quiet = set(), set()
        for t in tests:
            for case in t.get("alert_rule_test", []):
                (fired if case["exp_alerts"] else quiet).add(case["alertname"])
        names = {r["alert"] for r in rendered().alerts()}
        self.assertEqual(len(names), 8)
        self.assertEqual(names - fired, set(), "alerts no unit test makes fire")
        self.assertEqual(names - quiet, set(), "alerts no unit test keeps quiet")

    def test_every_alert_has_a_severity_and_a_runbook_url_into_alerts_md(self):
        with open(os.path.join(CHART, "ALERTS.md")) as f:
            anchors = {line[3:].strip().lower() for line in f if line.startswith("## ")}
        with open(os.path.join(CHART, "Chart.yaml")) as f:
            home = yaml.safe_load(f)["home"]
        # By default: ALERTS.md as the repository ships it, under Chart.yaml's home.
        in_repository = "charts/remedy/ALERTS.md"
        self.assertTrue(os.path.isfile(os.path.join(ROOT, in_repository)))
        for rule in rendered().alerts():
            with self.subTest(alert=rule["alert"]):
                self.assertIn(rule["labels"]["severity"], ("warning", "critical"))
                url = rule["annotations"]["runbook_url"]
                base, _, anchor = url.partition("#")
                self.assertEqual(base, home.rstrip("/") + "/blob/main/" + in_repository, url)
                self.assertEqual(anchor, rule["alert"].lower())
                self.assertIn(anchor, anchors, "ALERTS.md has no section for " + rule["alert"])
                self.assertTrue(rule["annotations"]["summary"])

    def test_every_alert_reads_only_metrics_the_operator_defines(self):
        defined = metrics_the_operator_defines()
        self.assertGreater(len(defined), 15)
        for rule in rendered().alerts():
            with self.subTest(alert=rule["alert"]):
                named = metrics_named(rule["expr"])
                self.assertTrue(named)
                self.assertEqual(named - defined, set())
                self.assertIn('job="remedy"', rule["expr"])

    def test_labels_base_url_thresholds_and_job_are_configurable(self):
        objects = render({"prometheusRule": {
            "enabled": True, "labels": {"release": "kube-prometheus-stack"},
            "runbookBaseUrl": "https://docs.example/remedy/alerts", "jobSelector": 'namespace="ops"',
            "runningFor": "2h", "awaitingApprovalFor": "5m", "workQueueDepth": 7}}, release="prod")
        (rule,) = objects["PrometheusRule"]
        self.assertEqual(rule["metadata"]["labels"]["release"], "kube-prometheus-stack")
        self.assertEqual(rule["metadata"]["name"], "prod-remedy")
        by_name = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
        self.assertEqual(by_name["RemedyNoLeader"]["annotations"]["runbook_url"],
                         "https://docs.example/remedy/alerts#remedynoleader")
        self.assertEqual(by_name["RemedyIncidentsStuckRunning"]["for"], "2h")
        self.assertEqual(by_name["RemedyApprovalWaitingTooLong"]["for"], "5m")
        self.assertIn("> 7", by_name["RemedyWorkQueueGrowing"]["expr"])
        for r in by_name.values():
            self.assertIn('namespace="ops"', r["expr"])
            self.assertNotIn("job=", r["expr"])

    def test_without_a_base_or_a_home_the_render_names_the_value(self):
        chart = os.path.join(tempfile.mkdtemp(prefix="chart.", dir=WORKDIR), "remedy")
        shutil.copytree(CHART, chart)
        with open(os.path.join(chart, "Chart.yaml")) as f:
            meta = yaml.safe_load(f)
        del meta["home"]
        with open(os.path.join(chart, "Chart.yaml"), "w") as f:
            yaml.safe_dump(meta, f)
        p = helm_template({"prometheusRule": {"enabled": True}}, chart=chart)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("prometheusRule.runbookBaseUrl: empty, and Chart.yaml has no home", p.stderr)
        p = helm_template({"prometheusRule": {"enabled": True,
                                              "runbookBaseUrl": "https://wiki.example/remedy"}},
                          chart=chart)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("runbook_url: https://wiki.example/remedy#remedynoleader", p.stdout)

    def test_nothing_by_default(self):
        objects = render({})
        self.assertNotIn("PrometheusRule", objects)
        self.assertEqual([o for o in objects.get("ConfigMap", []) if o["metadata"]["name"].endswith("-dashboard")], [])


def wait_for(what, condition, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


class Processes:
    """Child processes, each logging to a file, stopped in reverse order."""

    def __init__(self, directory):
        self.dir = directory
        self.children = []

    def start(self, name, argv):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.children.append((name, p, log))
        return p

    def logs(self):
        out = ""
        for name, _, log in self.children:
            log.flush()
            with open(log.name) as f:
                out += "--- %s\n%s\n" % (name, f.read()[-3000:])
        return out

    def stop(self):
        for _, p, log in reversed(self.children):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()


RUNBOOK = """
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: gated, namespace: shop}
spec:
  triggers:
    - alertName: PoolExhausted
  steps:
    - name: raise-pool
      approval: Required
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+1"
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, labels: {app: api}}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: nginx:1.27}]}
"""


class LiveAlertTest(unittest.TestCase):
    """The rules against a real operator: an Incident waiting for approval."""

    def setUp(self):
        if not (REMEDYCTL and OPERATOR):
            self.skipTest("needs --remedyctl and --operator")
        self.dir = tempfile.mkdtemp(prefix="live.", dir=WORKDIR)
        self.processes = Processes(self.dir)
        self.addCleanup(self.processes.stop)

    def kubectl(self, *args, stdin=None):
        p = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, "--cache-dir",
                            os.path.join(self.dir, "cache")] + list(args),
                           input=stdin, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout

    def test_an_incident_waiting_for_approval_fires_remedy_approval_waiting_too_long(self):
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.processes.start("sandbox", [REMEDYCTL, "sandbox", "--tls", "--port", "0",
                                         "--kubeconfig-out", self.kubeconfig])
        wait_for("the sandbox's kubeconfig", lambda: os.path.exists(self.kubeconfig)
                 and os.path.getsize(self.kubeconfig) > 0)
        self.kubectl("apply", "-f", os.path.join(ROOT, "crds"))
        self.kubectl("create", "namespace", "shop")
        self.kubectl("create", "namespace", "remedy-system")
        self.kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
        wait_for("the Runbook CRD", lambda: subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, "get", "runbooks", "-n", "shop"],
            capture_output=True).returncode == 0)
        self.kubectl("apply", "-f", "-", stdin=RUNBOOK)

        token = os.path.join(self.dir, "token")
        with open(token, "w") as f:
            f.write("live-test-token\n")
        webhook, health, metrics = free_port(), free_port(), free_port()
        self.processes.start("operator", [
            OPERATOR, "--kubeconfig", self.kubeconfig, "--webhook-bind-address", "127.0.0.1",
            "--webhook-port", str(webhook), "--webhook-token-file", token,
            "--metrics-bind-address", "127.0.0.1", "--metrics-port", str(metrics),
            "--health-port", str(health), "--leader-election-namespace", "remedy-system",
            "--log-format", "text"])
        wait_for("the operator's readiness", lambda: http_ok("http://127.0.0.1:%d/readyz" % health))

        # The rules as the chart renders them for the release "remedy", with a short wait.
        (rule,) = render({"prometheusRule": {"enabled": True, "awaitingApprovalFor": "2s"}})["PrometheusRule"]
        with open(os.path.join(self.dir, "remedy-rules.yml"), "w") as f:
            yaml.safe_dump({"groups": rule["spec"]["groups"]}, f, sort_keys=False)
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            yaml.safe_dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                            "rule_files": ["remedy-rules.yml"],
                            "scrape_configs": [{"job_name": "remedy", "static_configs": [
                                {"targets": ["127.0.0.1:%d" % metrics]}]}]}, f)
        port = free_port()
        self.processes.start("prometheus", [
            "prometheus", "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
            "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
            "--web.listen-address=127.0.0.1:%d" % port])
        wait_for("Prometheus", lambda: http_ok("http://127.0.0.1:%d/-/ready" % port))

        def alerts():
            with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/alerts" % port, timeout=5) as r:
                return {a["labels"]["alertname"]: a for a in json.load(r)["data"]["alerts"]}

        def leader_scraped():
            url = "http://127.0.0.1:%d/api/v1/query?query=remedy_leader" % port
            with urllib.request.urlopen(url, timeout=5) as r:
                result = json.load(r)["data"]["result"]
            return result and result[0]["value"][1] == "1"
        try:
            wait_for("Prometheus to scrape the leading operator", leader_scraped)
            self.assertNotIn("RemedyApprovalWaitingTooLong", alerts())

            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            payload = {"version": "4", "status": "firing", "receiver": "remedy", "groupLabels": {},
                       "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
                       "groupKey": "{}", "truncatedAlerts": 0,
                       "alerts": [{"status": "firing", "labels": {"alertname": "PoolExhausted",
                                                                  "namespace": "shop"},
                                   "annotations": {}, "startsAt": now, "endsAt": "0001-01-01T00:00:00Z",
                                   "generatorURL": "http://prometheus", "fingerprint": "1f2e3d4c5b6a7988"}]}
            request = urllib.request.Request(
                "http://127.0.0.1:%d/api/v1/alerts" % webhook, data=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json", "Authorization": "Bearer live-test-token"})
            with urllib.request.urlopen(request, timeout=10) as r:
                self.assertEqual(r.status, 200)
            fired = wait_for("RemedyApprovalWaitingTooLong to fire", lambda: (
                alerts().get("RemedyApprovalWaitingTooLong", {}).get("state") == "firing"
                and alerts()["RemedyApprovalWaitingTooLong"]))
            self.assertEqual(fired["labels"]["job"], "remedy")
            self.assertEqual(fired["labels"]["severity"], "warning")
            self.assertTrue(fired["annotations"]["runbook_url"].endswith("#remedyapprovalwaitingtoolong"))
        except AssertionError:
            raise AssertionError(self.processes.logs())


class RealPrometheusTest(unittest.TestCase):
    """A real Prometheus (Debian's prometheus package) with the rendered rules."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="prometheus.", dir=WORKDIR)
        shutil.copy(os.path.join(rendered().dir, "remedy-rules.yml"), cls.dir)
        with open(os.path.join(cls.dir, "prometheus.yml"), "w") as f:
            yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": ["remedy-rules.yml"]}, f)
        cls.port = free_port()
        cls.log = open(os.path.join(cls.dir, "prometheus.log"), "w")
        cls.process = subprocess.Popen(
            ["prometheus", "--config.file=" + os.path.join(cls.dir, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(cls.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % cls.port],
            stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % cls.port, timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline or cls.process.poll() is not None:
                cls.tearDownClass()
                raise AssertionError("prometheus did not get ready")
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.process.terminate()
        try:
            cls.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.process.kill()
            cls.process.wait()
        cls.log.close()

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path, urllib.parse.urlencode(params))
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def test_prometheus_loads_and_evaluates_every_rule(self):
        deadline = time.monotonic() + 60
        while True:
            rules = [r for g in self.api("rules")["data"]["groups"] for r in g["rules"]]
            if len(rules) == 8 and all(r.get("health") == "ok" for r in rules):
                break
            self.assertLess(time.monotonic(), deadline, json.dumps(rules, indent=1))
            time.sleep(0.2)
        self.assertEqual({r["name"] for r in rules}, {r["alert"] for r in rendered().alerts()})

    def test_every_dashboard_query_parses_and_names_only_operator_metrics(self):
        defined = metrics_the_operator_defines()
        queries = rendered().queries()
        self.assertGreaterEqual(len(queries), 22)
        for title, expr in queries:
            with self.subTest(panel=title, expr=expr):
                # Grafana's variables as Grafana substitutes them.
                query = expr.replace("$__rate_interval", "5m").replace("$job", ".+")
                self.assertNotIn("$", query)
                answer = self.api("query", query=query)
                self.assertEqual(answer["status"], "success", answer)
                named = metrics_named(expr)
                self.assertTrue(named)
                self.assertEqual(named - defined, set())
        variable = rendered().dashboard["templating"]["list"][1]["query"]["query"]
        self.assertEqual(metrics_named(variable) - defined, set())

    def test_a_broken_query_is_refused(self):
        # The check above can fail: Prometheus refuses what does not parse.
        answer = self.api("query", query="sum by (phase (remedy_incidents)")
        self.assertEqual(answer["status"], "error")
        self.assertEqual(answer["errorType"], "bad_data")


class DashboardTest(unittest.TestCase):
    def test_default_configmap_for_the_kube_prometheus_stack_sidecar(self):
        cm = rendered().dashboard_map
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        self.assertEqual(cm["metadata"]["annotations"], {"grafana_folder": "Remedy"})
        self.assertEqual(cm["metadata"]["namespace"], "monitoring")
        d = rendered().dashboard
        self.assertEqual(d["uid"], "remedy-operator")
        datasource = d["templating"]["list"][0]
        self.assertEqual((datasource["name"], datasource["type"]), ("datasource", "datasource"))
        self.assertEqual(datasource["current"]["value"], "Prometheus")

    def test_every_panel_reads_the_chosen_data_source(self):
        for panel in rendered().dashboard["panels"]:
            if panel["type"] == "row":
                continue
            with self.subTest(panel=panel["title"]):
                self.assertEqual(panel["datasource"]["uid"], "${datasource}")
                self.assertTrue(panel["targets"])
                for t in panel["targets"]:
                    self.assertIn('job=~"$job"', t["expr"])

    def test_the_dashboard_shows_what_issue_19_lists(self):
        text = " ".join(e for _, e in rendered().queries())
        for metric in ("remedy_alerts_received_total", "remedy_alerts_refused_total", "remedy_incidents",
                       "remedy_step_attempts_total", "remedy_guardrail_refusals_total", "remedy_reverts_total",
                       "remedy_escalations_total", "remedy_kube_client_request_duration_seconds_bucket",
                       "remedy_kube_client_requests_total", "remedy_workqueue_depth", "remedy_leader"):
            self.assertIn(metric, text)
        for metric in ("remedy_approvals_waiting", "remedy_approval_oldest_wait_seconds",
                       "remedy_incidents_past_timeout", "remedy_kube_client_rate_limiter_duration_seconds_bucket"):
            self.assertIn(metric, text)

    def test_label_datasource_folder_and_namespace_are_configurable(self):
        objects = render({"grafanaDashboard": {
            "enabled": True, "label": "example.com/dashboard", "labelValue": "yes", "datasource": "Mimir \"eu\"",
            "folder": "Platform", "folderAnnotation": "k8s-sidecar-target-directory", "namespace": "grafana"}})
        (cm,) = [o for o in objects["ConfigMap"] if o["metadata"]["name"].endswith("-dashboard")]
        self.assertEqual(cm["metadata"]["labels"]["example.com/dashboard"], "yes")
        self.assertNotIn("grafana_dashboard", cm["metadata"]["labels"])
        self.assertEqual(cm["metadata"]["annotations"], {"k8s-sidecar-target-directory": "Platform"})
        self.assertEqual(cm["metadata"]["namespace"], "grafana")
        d = json.loads(cm["data"]["remedy.json"])
        self.assertEqual(d["templating"]["list"][0]["current"]["value"], "Mimir \"eu\"")
        objects = render({"grafanaDashboard": {"enabled": True, "folder": ""}})
        (cm,) = [o for o in objects["ConfigMap"] if o["metadata"]["name"].endswith("-dashboard")]
        self.assertNotIn("annotations", cm["metadata"])


def main():
    global HELM, WORKDIR
    argv = sys.argv[1:]
    if "--helm" not in argv or argv.index("--helm") + 1 >= len(argv):
        print("usage: observability_test.py --helm PATH/TO/helm [unittest args...]", file=sys.stderr)
        return 2
    i = argv.index("--helm")
    HELM = argv[i + 1]
    del argv[i:i + 2]
    global REMEDYCTL, OPERATOR
    for flag in ("--remedyctl", "--operator"):
        if flag in argv and argv.index(flag) + 1 < len(argv):
            i = argv.index(flag)
            if flag == "--remedyctl":
                REMEDYCTL = argv[i + 1]
            else:
                OPERATOR = argv[i + 1]
            del argv[i:i + 2]
    WORKDIR = tempfile.mkdtemp(prefix="remedy-observability.")
    try:
        result = unittest.main(argv=[sys.argv[0]] + argv, verbosity=2, exit=False).result
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
