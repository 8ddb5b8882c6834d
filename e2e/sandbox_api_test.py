#!/usr/bin/python3
"""Integration tests of `remedyctl sandbox` with a client independent of the
sandbox's code: Python's standard library over HTTPS, asserting what the real
kube-apiserver does (watch semantics, errors, generation and status rules,
pagination, eviction, CRD schemas, patches) and that fault injection works.

usage: /usr/bin/python3 sandbox_api_test.py PATH/TO/remedyctl [unittest args...]
"""

import base64
import http.client
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

import yaml

REMEDYCTL = None  # set from argv in main

# Every socket read is bounded by this, so a hung server fails a test rather
# than hanging it.
REQUEST_TIMEOUT = 15.0
WATCH_READ_TIMEOUT = 30.0

CRD_GROUP = "api-test.example.com"
CRD_NAME = "gadgets." + CRD_GROUP
GADGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": CRD_GROUP,
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
        "versions": [{
            "name": "v1",
            "served": True,
            "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["size"],
                        "properties": {
                            "size": {"type": "integer", "minimum": 1, "maximum": 10},
                            "color": {"type": "string", "enum": ["red", "green", "blue"], "default": "green"},
                            "tags": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "status": {
                        "type": "object",
                        "properties": {
                            "phase": {"type": "string"},
                            "observedGeneration": {"type": "integer"},
                        },
                    },
                },
            }},
        }],
    },
}

CONFLICT_MESSAGE = ('Operation cannot be fulfilled on configmaps "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again")
EVICTION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
JSON_PATCH_FAILED_MESSAGE = "the server rejected our request due to an error in our request"
UNSUPPORTED_PATCH_PREFIX = "the body of the request was in an unknown format - accepted media types include:"


def wait_for(what, fn, timeout=20.0, interval=0.05):
    """Polls fn until it returns a truthy value, which is returned; fails the
    test with the last value seen after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)  # polling interval of a wait-for-condition loop


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "Response(%d, %s)" % (self.status, self.raw[:2000])


class Client:
    """A minimal Kubernetes REST client: one connection per request."""

    def __init__(self, server, ca_pem, token):
        u = urllib.parse.urlsplit(server)
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port
        self.token = token
        self.ctx = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context(cadata=ca_pem)

    def connection(self, timeout=REQUEST_TIMEOUT):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def headers(self, content_type=None, extra=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if content_type:
            h["Content-Type"] = content_type
        if extra:
            h.update(extra)
        return h

    def request(self, method, path, body=None, content_type="application/json", params=None, headers=None):
        if params:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        conn = self.connection()
        try:
            conn.request(method, path, body=data,
                         headers=self.headers(content_type if data is not None else None, headers))
            resp = conn.getresponse()
            raw = resp.read().decode("utf-8", "replace")
            return Response(resp.status, resp.getheaders(), raw)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, content_type, **kw):
        return self.request("PATCH", path, body, content_type=content_type, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def watch(self, path, **params):
        return Watch(self, path, params)


class Watch:
    """A watch stream read by a background thread into a queue of events;
    None in the queue marks the end of the stream."""

    def __init__(self, client, path, params):
        params = dict(params)
        params.setdefault("watch", "true")
        self.path = path + ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        self.conn = client.connection(timeout=WATCH_READ_TIMEOUT)
        self.conn.request("GET", self.path, headers=client.headers())
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.events = queue.Queue()
        self.ended = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                line = line.strip()
                if line:
                    self.events.put(json.loads(line))
        except Exception as e:  # a closed socket or a read timeout ends the stream
            self.error = e
        finally:
            self.ended.set()
            self.events.put(None)

    def next(self, timeout=10.0, skip_bookmarks=True):
        """The next event; fails on timeout. None when the stream ended."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no watch event within %.1fs on %s" % (timeout, self.path))
            try:
                ev = self.events.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError("no watch event within %.1fs on %s" % (timeout, self.path))
            if ev is None:
                self.events.put(None)  # stay ended
                return None
            if skip_bookmarks and ev.get("type") == "BOOKMARK":
                continue
            return ev

    def expect(self, count, timeout=10.0, names=None, skip_bookmarks=True):
        """The next `count` events (for objects in `names` when given)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            ev = self.next(max(0.01, deadline - time.monotonic()), skip_bookmarks)
            if ev is None:
                raise AssertionError("the watch ended after %r, expected %d events" % (summary(out), count))
            if names is not None and name_of(ev) not in names:
                continue
            out.append(ev)
        return out

    def no_event_within(self, seconds, names=None):
        """Asserts that no (non-bookmark) event arrives in `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                ev = self.events.get(timeout=remaining)
            except queue.Empty:
                return
            if ev is None:
                self.events.put(None)
                return
            if ev.get("type") == "BOOKMARK":
                continue
            if names is not None and name_of(ev) not in names:
                continue
            raise AssertionError("unexpected watch event: %s" % summary([ev]))

    def wait_ended(self, timeout):
        return self.ended.wait(timeout)

    def close(self):
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        self.thread.join(5)


def name_of(ev):
    return ((ev.get("object") or {}).get("metadata") or {}).get("name")


def rv_of(obj):
    return int(obj["metadata"]["resourceVersion"])


def nonempty(d):
    """A dict without its empty values: Go's omitempty fields, absent or zero, read the same."""
    return {k: v for k, v in (d or {}).items() if v not in ("", 0, None, [], {})}


def summary(events):
    return [(e.get("type"), name_of(e), (e.get("object") or {}).get("metadata", {}).get("resourceVersion"))
            for e in events]


def configmap(name, data=None, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


class SandboxTestCase(unittest.TestCase):
    """Starts one `remedyctl sandbox --tls` per class; each test gets a fresh
    namespace and a clean set of faults."""

    extra_flags = []

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="remedy-api-test.")
        cls.kubeconfig_path = os.path.join(cls.workdir, "kubeconfig")
        cls.log_path = os.path.join(cls.workdir, "sandbox.log")
        cls.log = open(cls.log_path, "w")
        cls.proc = subprocess.Popen(
            [REMEDYCTL, "sandbox", "--tls", "--port", "0", "--kubeconfig-out", cls.kubeconfig_path,
             "--bookmark-interval", "1"] + cls.extra_flags,
            stdout=cls.log, stderr=subprocess.STDOUT)
        try:
            def kubeconfig():
                if cls.proc.poll() is not None:
                    raise AssertionError("the sandbox exited with %d:\n%s" % (cls.proc.returncode, cls.read_log()))
                if not os.path.exists(cls.kubeconfig_path) or os.path.getsize(cls.kubeconfig_path) == 0:
                    return None
                with open(cls.kubeconfig_path) as f:
                    return yaml.safe_load(f)
            kc = wait_for("the sandbox kubeconfig", kubeconfig, timeout=30)
            ctx_name = kc.get("current-context")
            ctx = next((c["context"] for c in kc["contexts"] if c["name"] == ctx_name), kc["contexts"][0]["context"])
            cluster = next(c["cluster"] for c in kc["clusters"] if c["name"] == ctx["cluster"])
            user = next(u["user"] for u in kc["users"] if u["name"] == ctx["user"])
            ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
            cls.server = cluster["server"]
            cls.client = Client(cls.server, ca, user["token"])
            wait_for("the sandbox to answer /version", lambda: cls._version_ok(), timeout=20)
        except BaseException:
            cls.stop_sandbox()
            raise

    @classmethod
    def _version_ok(cls):
        try:
            return cls.client.get("/version").status == 200
        except OSError:
            return False

    @classmethod
    def read_log(cls):
        try:
            with open(cls.log_path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    @classmethod
    def stop_sandbox(cls):
        proc = getattr(cls, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if getattr(cls, "log", None):
            cls.log.close()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.stop_sandbox()

    def setUp(self):
        self.c = self.client
        self.watches = []
        self.ns = "api-" + uuid.uuid4().hex[:10]
        r = self.c.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}})
        self.assertEqual(r.status, 201, r)

    def tearDown(self):
        for w in self.watches:
            w.close()
        r = self.c.post("/sandbox/v1/faults", {"clear": True})
        self.assertEqual(r.status, 200, r)

    # --- helpers ---

    def cm_path(self, name=None):
        p = "/api/v1/namespaces/%s/configmaps" % self.ns
        return p + "/" + name if name else p

    def create_cm(self, name, data=None, labels=None):
        r = self.c.post(self.cm_path(), configmap(name, data, labels))
        self.assertEqual(r.status, 201, r)
        return r.json

    def update(self, path, obj):
        r = self.c.put(path, obj)
        self.assertEqual(r.status, 200, r)
        return r.json

    def open_watch(self, path, **params):
        w = self.c.watch(path, **params)
        self.watches.append(w)
        self.assertEqual(w.status, 200, "watch %s answered %d" % (w.path, w.status))
        return w

    def list_rv(self, path, **params):
        r = self.c.get(path, params=params or None)
        self.assertEqual(r.status, 200, r)
        return r.json["metadata"]["resourceVersion"]

    def fault(self, body):
        r = self.c.post("/sandbox/v1/faults", body)
        self.assertEqual(r.status, 200, r)

    def assertStatus(self, r, code, reason, message=None):
        """The response is a metav1.Status failure with this code and reason."""
        self.assertEqual(r.status, code, r)
        self.assertIsNotNone(r.json, "the body is not JSON: %r" % r.raw)
        self.assertEqual(r.json.get("kind"), "Status", r)
        self.assertEqual(r.json.get("apiVersion"), "v1", r)
        self.assertEqual(r.json.get("status"), "Failure", r)
        self.assertEqual(r.json.get("code"), code, r)
        self.assertEqual(r.json.get("reason"), reason, r)
        if message is not None:
            self.assertEqual(r.json.get("message"), message, r)
        return r.json


class WatchTest(SandboxTestCase):

    def test_watch_from_a_resource_version_sends_every_later_change_in_order_and_none_before(self):
        a = self.create_cm("a")
        b = self.create_cm("b")
        since = rv_of(b)
        c = self.create_cm("c")
        a["data"] = {"k": "changed"}
        a2 = self.update(self.cm_path("a"), a)
        r = self.c.delete(self.cm_path("b"))
        self.assertEqual(r.status, 200, r)

        w = self.open_watch(self.cm_path(), resourceVersion=str(since))
        events = w.expect(3, names={"a", "b", "c"})
        self.assertEqual([(e["type"], name_of(e)) for e in events],
                         [("ADDED", "c"), ("MODIFIED", "a"), ("DELETED", "b")], summary(events))
        self.assertEqual(rv_of(events[0]["object"]), rv_of(c))
        self.assertEqual(rv_of(events[1]["object"]), rv_of(a2))
        self.assertEqual(events[1]["object"]["data"], {"k": "changed"})
        rvs = [rv_of(e["object"]) for e in events]
        self.assertTrue(all(rv > since for rv in rvs), summary(events))
        self.assertEqual(rvs, sorted(set(rvs)), "events out of resourceVersion order: %s" % summary(events))
        for e in events:
            self.assertEqual(e["object"].get("kind"), "ConfigMap", e)
            self.assertEqual(e["object"].get("apiVersion"), "v1", e)

        d = self.create_cm("d")
        live = w.expect(1, names={"a", "b", "c", "d"})
        self.assertEqual((live[0]["type"], name_of(live[0])), ("ADDED", "d"))
        self.assertEqual(rv_of(live[0]["object"]), rv_of(d))
        self.assertGreater(rv_of(d), rvs[-1])

    def test_watch_from_a_list_resource_version_sees_only_changes_after_the_list(self):
        self.create_cm("before-1")
        self.create_cm("before-2")
        rv = self.list_rv(self.cm_path())
        w = self.open_watch(self.cm_path(), resourceVersion=rv)
        self.create_cm("after")
        events = w.expect(1, names={"before-1", "before-2", "after"})
        self.assertEqual((events[0]["type"], name_of(events[0])), ("ADDED", "after"))
        self.assertGreater(rv_of(events[0]["object"]), int(rv))
        w.no_event_within(1.0, names={"before-1", "before-2"})

    def test_watch_without_resource_version_or_0_sends_synthetic_added_for_existing_objects_first(self):
        existing = {"x1", "x2", "x3"}
        for n in sorted(existing):
            self.create_cm(n)
        mine = existing | {"new-unset", "new-zero"}
        for label, params, new in (("unset", {}, "new-unset"), ("0", {"resourceVersion": "0"}, "new-zero")):
            with self.subTest(resourceVersion=label):
                w = self.open_watch(self.cm_path(), **params)
                initial = w.expect(len(existing), names=mine)
                self.assertEqual([e["type"] for e in initial], ["ADDED"] * len(existing), summary(initial))
                self.assertEqual({name_of(e) for e in initial}, existing, summary(initial))
                created = self.create_cm(new)
                after = w.expect(1, names=mine)
                self.assertEqual((after[0]["type"], name_of(after[0])), ("ADDED", new), summary(after))
                self.assertEqual(rv_of(after[0]["object"]), rv_of(created))
                w.close()
                existing = existing | {new}

    def test_watch_from_an_expired_resource_version_gets_an_error_event_with_410_expired(self):
        old = self.create_cm("old")
        self.create_cm("newer")
        self.fault({"expireResourceVersions": True})

        w = self.open_watch(self.cm_path(), resourceVersion=old["metadata"]["resourceVersion"])
        ev = w.next(timeout=10)
        self.assertIsNotNone(ev, "the watch ended without an ERROR event")
        self.assertEqual(ev["type"], "ERROR", ev)
        status = ev["object"]
        self.assertEqual(status.get("kind"), "Status", ev)
        self.assertEqual(status.get("apiVersion"), "v1", ev)
        self.assertEqual(status.get("status"), "Failure", ev)
        self.assertEqual(status.get("code"), 410, ev)
        self.assertEqual(status.get("reason"), "Expired", ev)
        self.assertTrue(w.wait_ended(10), "the watch stayed open after the 410 ERROR event")

        # The client's recovery: list again, then watch from the list's resourceVersion.
        r = self.c.get(self.cm_path())
        self.assertEqual(r.status, 200, r)
        self.assertEqual({i["metadata"]["name"] for i in r.json["items"]} & {"old", "newer"}, {"old", "newer"})
        w2 = self.open_watch(self.cm_path(), resourceVersion=r.json["metadata"]["resourceVersion"])
        created = self.create_cm("after-relist")
        events = w2.expect(1, names={"old", "newer", "after-relist"})
        self.assertEqual((events[0]["type"], name_of(events[0])), ("ADDED", "after-relist"), summary(events))
        self.assertEqual(rv_of(events[0]["object"]), rv_of(created))

    def test_bookmarks_carry_a_resource_version_at_least_that_of_the_last_event(self):
        rv = self.list_rv(self.cm_path())
        w = self.open_watch(self.cm_path(), resourceVersion=rv, allowWatchBookmarks="true")
        self.create_cm("b1")
        self.create_cm("b2")
        seen = []
        last_event_rv = int(rv)

        def bookmark_after_events():
            ev = w.next(timeout=10, skip_bookmarks=False)
            self.assertIsNotNone(ev, "the watch ended early")
            seen.append(ev)
            return ev["type"] == "BOOKMARK" and len([e for e in seen if e["type"] == "ADDED"]) >= 2
        wait_for("a BOOKMARK after both ADDED events", bookmark_after_events, timeout=15, interval=0)

        bookmark_rvs = []
        for ev in seen:
            if ev["type"] == "BOOKMARK":
                obj = ev["object"]
                self.assertEqual(obj.get("kind"), "ConfigMap", ev)
                self.assertEqual(obj.get("apiVersion"), "v1", ev)
                self.assertGreaterEqual(rv_of(obj), last_event_rv,
                                        "BOOKMARK behind an earlier event: %s" % summary(seen))
                bookmark_rvs.append(rv_of(obj))
            else:
                self.assertEqual(ev["type"], "ADDED", ev)
                self.assertGreater(rv_of(ev["object"]), max([last_event_rv] + bookmark_rvs),
                                   "an event at or behind a BOOKMARK: %s" % summary(seen))
                last_event_rv = rv_of(ev["object"])
        self.assertTrue(bookmark_rvs)

        # An event after a bookmark is newer than the bookmark.
        b3 = self.create_cm("b3")
        ev = w.expect(1, names={"b3"})[0]
        self.assertGreater(rv_of(ev["object"]), bookmark_rvs[-1])
        self.assertEqual(rv_of(ev["object"]), rv_of(b3))

    def test_no_bookmarks_without_allow_watch_bookmarks(self):
        w = self.open_watch(self.cm_path(), resourceVersion=self.list_rv(self.cm_path()), timeoutSeconds="3")
        events = []
        while True:
            ev = w.next(timeout=10, skip_bookmarks=False)
            if ev is None:
                break
            events.append(ev)
        self.assertEqual([e for e in events if e["type"] == "BOOKMARK"], [], summary(events))

    def test_timeout_seconds_ends_the_watch_stream_promptly(self):
        start = time.monotonic()
        w = self.open_watch(self.cm_path(), timeoutSeconds="1", allowWatchBookmarks="true")
        self.assertTrue(w.wait_ended(8), "the watch with timeoutSeconds=1 was still open after 8s")
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 4.0, "timeoutSeconds=1 ended the stream only after %.1fs" % elapsed)
        self.assertIsNone(w.error, "the stream did not end cleanly: %r" % w.error)

    def test_a_label_selector_watch_sees_deleted_when_an_object_stops_matching_and_added_when_it_starts(self):
        self.create_cm("leaves", labels={"sel": "yes"})
        self.create_cm("joins", labels={"sel": "no"})
        self.create_cm("other", labels={"sel": "no"})

        # The initial state through the selector: only the matching object.
        w0 = self.open_watch(self.cm_path(), labelSelector="sel=yes")
        initial = w0.expect(1)
        self.assertEqual((initial[0]["type"], name_of(initial[0])), ("ADDED", "leaves"))
        w0.no_event_within(0.5)
        w0.close()

        r = self.c.get(self.cm_path(), params={"labelSelector": "sel=yes"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], ["leaves"])
        w = self.open_watch(self.cm_path(), labelSelector="sel=yes", resourceVersion=r.json["metadata"]["resourceVersion"])

        leaves = self.c.get(self.cm_path("leaves")).json
        leaves["metadata"]["labels"]["sel"] = "no"
        self.update(self.cm_path("leaves"), leaves)
        other = self.c.get(self.cm_path("other")).json
        other["data"] = {"k": "not seen"}
        self.update(self.cm_path("other"), other)  # never matches: no event
        joins = self.c.get(self.cm_path("joins")).json
        joins["metadata"]["labels"]["sel"] = "yes"
        joined = self.update(self.cm_path("joins"), joins)
        joined["data"] = {"k": "still matching"}
        modified = self.update(self.cm_path("joins"), joined)

        events = w.expect(3)
        self.assertEqual([(e["type"], name_of(e)) for e in events],
                         [("DELETED", "leaves"), ("ADDED", "joins"), ("MODIFIED", "joins")], summary(events))
        self.assertEqual(events[1]["object"]["metadata"]["labels"], {"sel": "yes"})
        self.assertEqual(rv_of(events[2]["object"]), rv_of(modified))
        w.no_event_within(0.5)


class QueryParameterTest(SandboxTestCase):
    """Query parameters read as kube-apiserver reads them (checked against
    kube-apiserver v1.33): a boolean is false only when absent or when its
    first value is 0 or false in any case; /version answers with or without
    a trailing slash."""

    def get_raw(self, path_and_query):
        return self.c.request("GET", path_and_query)

    def is_watch(self, r):
        """A watch stream (JSON events, one per line) rather than a list."""
        self.assertEqual(r.status, 200, r)
        first = json.loads(r.raw.splitlines()[0])
        if first.get("kind") == "ConfigMapList":
            return False
        self.assertIn(first.get("type"), ("ADDED", "BOOKMARK"), r)
        return True

    def test_watch_is_true_unless_absent_0_or_false_in_any_case(self):
        self.create_cm("present")
        base = self.cm_path() + "?timeoutSeconds=1&"
        for query, watch in [("watch=true", True), ("watch=True", True), ("watch=TRUE", True),
                             ("watch=1", True), ("watch=yes", True), ("watch=no", True),
                             ("watch=", True), ("watch", True), ("watch=2", True),
                             ("watch=false", False), ("watch=False", False), ("watch=FALSE", False),
                             ("watch=0", False), ("watch=false&watch=true", False),
                             ("watch=true&watch=false", True), ("", False)]:
            with self.subTest(query=query):
                self.assertEqual(self.is_watch(self.get_raw(base + query)), watch)

    def test_allow_watch_bookmarks_reads_booleans_the_same_way(self):
        rv = self.list_rv(self.cm_path())
        w = self.open_watch(self.cm_path(), resourceVersion=rv, allowWatchBookmarks="True", watch="yes")
        self.create_cm("b1")

        def bookmark():
            ev = w.next(timeout=10, skip_bookmarks=False)
            self.assertIsNotNone(ev, "the watch ended early")
            return ev["type"] == "BOOKMARK"
        wait_for("a BOOKMARK with allowWatchBookmarks=True", bookmark, timeout=15, interval=0)

        w0 = self.open_watch(self.cm_path(), resourceVersion=rv, allowWatchBookmarks="FALSE",
                             timeoutSeconds="3")
        events = []
        while True:
            ev = w0.next(timeout=10, skip_bookmarks=False)
            if ev is None:
                break
            events.append(ev)
        self.assertEqual([e for e in events if e["type"] == "BOOKMARK"], [], summary(events))

    def test_send_initial_events_is_refused_as_without_the_watch_list_feature(self):
        for query, verb in [("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", "watch"),
                            ("watch=1&sendInitialEvents=false", "watch"),
                            ("sendInitialEvents=true", "list")]:
            with self.subTest(query=query):
                detail = ("sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
                          if verb == "watch" else "sendInitialEvents is forbidden for list")
                status = self.assertStatus(self.get_raw(self.cm_path() + "?" + query), 422, "Invalid",
                                           'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
                                           + detail)
                self.assertEqual(status["details"], {
                    "group": "meta.k8s.io", "kind": "ListOptions",
                    "causes": [{"reason": "FieldValueForbidden", "message": "Forbidden: " + detail,
                                "field": "sendInitialEvents"}]}, status)

    def test_version_answers_with_and_without_a_trailing_slash(self):
        plain = self.get_raw("/version")
        self.assertEqual(plain.status, 200, plain)
        for path in ("/version/", "/version//", "/version?pretty=true"):
            with self.subTest(path=path):
                r = self.get_raw(path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, plain.json)
        self.assertStatus(self.get_raw("/version/foo"), 404, "NotFound",
                          "the server could not find the requested resource")


class ErrorsTest(SandboxTestCase):

    def test_update_with_a_stale_resource_version_is_409_conflict(self):
        stale = self.create_cm("x")
        fresh = dict(stale, data={"k": "first"})
        updated = self.update(self.cm_path("x"), fresh)
        self.assertGreater(rv_of(updated), rv_of(stale))

        stale["data"] = {"k": "second"}
        r = self.c.put(self.cm_path("x"), stale)
        status = self.assertStatus(r, 409, "Conflict", CONFLICT_MESSAGE.format(name="x"))
        self.assertEqual(status.get("details", {}).get("name"), "x", r)
        self.assertEqual(status.get("details", {}).get("kind"), "configmaps", r)
        self.assertEqual(self.c.get(self.cm_path("x")).json["data"], {"k": "first"}, "the stale update was applied")

    def test_secret_data_is_decoded_as_kube_apiserver_decodes_it(self):
        # kube-apiserver v1.33's answers: base64 with line breaks skipped and
        # kept without them, null as empty, and 400 for what does not decode.
        path = "/api/v1/namespaces/%s/secrets" % self.ns

        def secret(name, data):
            return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data}
        r = self.c.post(path, secret("s1", {"a": "aGVsbG8=", "b": "aGVs\nbG8=", "c": None}))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["data"], {"a": "aGVsbG8=", "b": "aGVsbG8=", "c": ""})
        cannot = 'Secret in version "v1" cannot be handled as a Secret: '
        for data, message in [
                ("aGVsbG8", "illegal base64 data at input byte 4"),
                ("a!b=", "illegal base64 data at input byte 1"),
                ("aGVsbG8=x", "illegal base64 data at input byte 8"),
                ("aGk", "illegal base64 data at input byte 0"),
                (5, "json: cannot unmarshal number into Go struct field Secret.data of type []uint8"),
                ({"a": 1}, "json: cannot unmarshal object into Go struct field Secret.data of type []uint8")]:
            with self.subTest(data=data):
                self.assertStatus(self.c.post(path, secret("bad", {"k": data})), 400, "BadRequest", cannot + message)

    def test_a_duplicate_create_is_409_already_exists(self):
        self.create_cm("dup")
        r = self.c.post(self.cm_path(), configmap("dup"))
        status = self.assertStatus(r, 409, "AlreadyExists", 'configmaps "dup" already exists')
        self.assertEqual(status.get("details", {}).get("name"), "dup", r)
        self.assertEqual(status.get("details", {}).get("kind"), "configmaps", r)

    def test_a_missing_object_is_404_not_found_with_the_real_status_shape(self):
        r = self.c.get(self.cm_path("nope"))
        status = self.assertStatus(r, 404, "NotFound", 'configmaps "nope" not found')
        self.assertEqual(nonempty(status.get("details")), {"name": "nope", "kind": "configmaps"}, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r.headers)
        for method in ("PUT", "DELETE"):
            with self.subTest(method=method):
                r = self.c.request(method, self.cm_path("nope"), configmap("nope") if method == "PUT" else None)
                self.assertStatus(r, 404, "NotFound", 'configmaps "nope" not found')
        r = self.c.get("/apis/apps/v1/namespaces/%s/deployments/nope" % self.ns)
        status = self.assertStatus(r, 404, "NotFound", 'deployments.apps "nope" not found')
        self.assertEqual(nonempty(status.get("details")), {"name": "nope", "group": "apps", "kind": "deployments"}, r)


class PaginationTest(SandboxTestCase):

    def paginate(self, limit, between_pages=None):
        names, pages, rvs = [], 0, []
        params = {"limit": str(limit)}
        while True:
            r = self.c.get(self.cm_path(), params=params)
            self.assertEqual(r.status, 200, r)
            pages += 1
            self.assertLessEqual(len(r.json["items"]), limit, "a page holds more than limit")
            names += [i["metadata"]["name"] for i in r.json["items"]]
            rvs.append(r.json["metadata"].get("resourceVersion"))
            token = r.json["metadata"].get("continue")
            if not token:
                return names, pages, rvs
            self.assertLess(pages, 100, "pagination does not end")
            if between_pages and pages == 1:
                between_pages()
            params = {"limit": str(limit), "continue": token}

    def test_limit_and_continue_return_every_object_exactly_once(self):
        expected = {"p-%02d" % i for i in range(23)}
        for n in sorted(expected):
            self.create_cm(n)
        names, pages, _ = self.paginate(5)
        mine = [n for n in names if n.startswith("p-")]
        self.assertEqual(len(names), len(set(names)), "an object was returned twice: %s" % names)
        self.assertEqual(set(mine), expected)
        self.assertGreaterEqual(pages, 5)

    def test_continue_pages_come_from_the_first_page_snapshot(self):
        expected = {"s-%02d" % i for i in range(12)}
        for n in sorted(expected):
            self.create_cm(n)

        def change():
            self.create_cm("s-zz-created-after-first-page")
            self.assertEqual(self.c.delete(self.cm_path("s-11")).status, 200)
        names, _, rvs = self.paginate(4, between_pages=change)
        self.assertEqual(len(names), len(set(names)), "an object was returned twice: %s" % names)
        self.assertEqual({n for n in names if n.startswith("s-")}, expected,
                         "continued pages must list the snapshot of the first page")
        self.assertEqual(len(set(rvs)), 1, "every page reports the first page's resourceVersion: %s" % rvs)


    def test_list_with_resource_version_match_exact_serves_that_version_or_410(self):
        self.create_cm("e-1")
        rv = self.list_rv(self.cm_path())
        self.create_cm("e-2")
        r = self.c.get(self.cm_path(), params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], ["e-1"])
        self.assertEqual(r.json["metadata"]["resourceVersion"], rv)
        self.fault({"expireResourceVersions": True})
        r = self.c.get(self.cm_path(), params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
        self.assertStatus(r, 410, "Expired")

    def test_list_from_a_future_resource_version_is_504_too_large(self):
        future = str(int(self.list_rv(self.cm_path())) + 1000)
        r = self.c.get(self.cm_path(), params={"resourceVersion": future, "resourceVersionMatch": "NotOlderThan"})
        status = self.assertStatus(r, 504, "Timeout")
        self.assertEqual(status["details"]["causes"][0]["reason"], "ResourceVersionTooLarge", r)

    def test_resource_version_match_without_resource_version_is_invalid(self):
        r = self.c.get(self.cm_path(), params={"resourceVersionMatch": "NotOlderThan"})
        self.assertStatus(r, 422, "Invalid")


class CustomResourceTest(SandboxTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            r = cls.client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", GADGET_CRD)
            if r.status != 201:
                raise AssertionError("creating the CRD: %r" % r)

            def established():
                crd = cls.client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + CRD_NAME).json
                conds = {c["type"]: c["status"] for c in (crd or {}).get("status", {}).get("conditions", [])}
                return conds.get("Established") == "True" and conds.get("NamesAccepted") == "True"
            wait_for("the CRD to be Established", established, timeout=30)
            wait_for("the custom resource to be served",
                     lambda: cls.client.get("/apis/%s/v1/gadgets" % CRD_GROUP).status == 200, timeout=30)
        except BaseException:
            cls.stop_sandbox()
            raise

    def gadget_path(self, name=None, sub=None):
        p = "/apis/%s/v1/namespaces/%s/gadgets" % (CRD_GROUP, self.ns)
        if name:
            p += "/" + name
        if sub:
            p += "/" + sub
        return p

    def gadget(self, name, spec, status=None, labels=None):
        o = {"apiVersion": CRD_GROUP + "/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}
        if status is not None:
            o["status"] = status
        if labels:
            o["metadata"]["labels"] = labels
        return o

    def create_gadget(self, name, spec, **kw):
        r = self.c.post(self.gadget_path(), self.gadget(name, spec, **kw))
        self.assertEqual(r.status, 201, r)
        return r.json

    # --- generation and the status subresource ---

    def test_create_sets_generation_1_and_drops_status(self):
        g = self.create_gadget("g", {"size": 1}, status={"phase": "Forged"})
        self.assertEqual(g["metadata"].get("generation"), 1, g)
        self.assertNotIn("status", g, "create must not set status when the status subresource is enabled")
        self.assertNotIn("status", self.c.get(self.gadget_path("g")).json)

    def test_an_update_of_the_main_resource_ignores_status(self):
        self.create_gadget("g", {"size": 1})
        s = self.c.get(self.gadget_path("g", "status")).json
        s["status"] = {"phase": "Ready"}
        self.update(self.gadget_path("g", "status"), s)

        g = self.c.get(self.gadget_path("g")).json
        g["status"] = {"phase": "Hacked"}
        out = self.update(self.gadget_path("g"), g)
        self.assertEqual(out.get("status"), {"phase": "Ready"}, out)
        self.assertEqual(out["metadata"]["generation"], 1, "a status-only change through the main resource "
                         "changes nothing outside metadata: %r" % out)
        self.assertEqual(self.c.get(self.gadget_path("g")).json.get("status"), {"phase": "Ready"})

    def test_a_metadata_only_change_keeps_generation(self):
        g = self.create_gadget("g", {"size": 1})
        g["metadata"]["labels"] = {"team": "blue"}
        g["metadata"]["annotations"] = {"note": "metadata only"}
        out = self.update(self.gadget_path("g"), g)
        self.assertEqual(out["metadata"]["labels"], {"team": "blue"})
        self.assertEqual(out["metadata"]["generation"], 1, out)
        self.assertGreater(rv_of(out), rv_of(g))

    def test_a_spec_change_increments_generation(self):
        g = self.create_gadget("g", {"size": 1})
        g["spec"]["size"] = 2
        out = self.update(self.gadget_path("g"), g)
        self.assertEqual(out["metadata"]["generation"], 2, out)
        r = self.c.patch(self.gadget_path("g"), {"spec": {"size": 3}}, "application/merge-patch+json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["metadata"]["generation"], 3, r)
        r = self.c.patch(self.gadget_path("g"), {"spec": {"size": 3}}, "application/merge-patch+json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["metadata"]["generation"], 3, "a no-op patch must keep generation: %r" % r)

    def test_an_update_of_status_changes_only_status_and_not_generation(self):
        self.create_gadget("g", {"size": 1}, labels={"team": "blue"})
        g = self.c.get(self.gadget_path("g", "status")).json
        self.assertEqual(g.get("kind"), "Gadget", g)
        g["status"] = {"phase": "Ready", "observedGeneration": 1}
        g["spec"]["size"] = 9
        g["metadata"]["labels"] = {"team": "red"}
        out = self.update(self.gadget_path("g", "status"), g)
        self.assertEqual(out.get("status"), {"phase": "Ready", "observedGeneration": 1}, out)
        self.assertEqual(out["spec"]["size"], 1, "an update of /status changed spec: %r" % out)
        self.assertEqual(out["metadata"].get("labels"), {"team": "blue"}, "an update of /status changed metadata")
        self.assertEqual(out["metadata"]["generation"], 1, out)
        stored = self.c.get(self.gadget_path("g")).json
        self.assertEqual((stored["spec"]["size"], stored["status"]["phase"], stored["metadata"]["generation"]),
                         (1, "Ready", 1), stored)
        r = self.c.patch(self.gadget_path("g", "status"), {"status": {"phase": "Done"}, "spec": {"size": 7}},
                         "application/merge-patch+json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["spec"]["size"], r.json["status"]["phase"], r.json["metadata"]["generation"]),
                         (1, "Done", 1), r)

    # --- schema ---

    def test_an_object_violating_the_schema_is_422_invalid_naming_the_field_paths(self):
        r = self.c.post(self.gadget_path(), self.gadget("g-bad", {"size": 42, "color": "purple"}))
        status = self.assertStatus(r, 422, "Invalid")
        self.assertTrue(status.get("message", "").startswith('Gadget.%s "g-bad" is invalid: ' % CRD_GROUP), r)
        details = status.get("details", {})
        self.assertEqual((details.get("name"), details.get("group"), details.get("kind")),
                         ("g-bad", CRD_GROUP, "Gadget"), r)
        causes = {(c.get("field"), c.get("reason")) for c in details.get("causes", [])}
        self.assertIn(("spec.size", "FieldValueInvalid"), causes, r)
        self.assertIn(("spec.color", "FieldValueNotSupported"), causes, r)
        self.assertIn('spec.color: Unsupported value: "purple"', status["message"], r)

        cases = {
            "required": ({"color": "red"}, ("spec.size", "FieldValueRequired")),
            "type": ({"size": "big"}, ("spec.size", "FieldValueTypeInvalid")),
            "minimum": ({"size": 0}, ("spec.size", "FieldValueInvalid")),
            "array items": ({"size": 1, "tags": ["ok", 7]}, ("spec.tags[1]", "FieldValueTypeInvalid")),
        }
        for what, (spec, cause) in cases.items():
            with self.subTest(rule=what):
                r = self.c.post(self.gadget_path(), self.gadget("g-" + what.replace(" ", "-"), spec))
                status = self.assertStatus(r, 422, "Invalid")
                causes = {(c.get("field"), c.get("reason")) for c in status.get("details", {}).get("causes", [])}
                self.assertIn(cause, causes, r)

        with self.subTest(rule="patch"):
            self.create_gadget("g-ok", {"size": 1})
            r = self.c.patch(self.gadget_path("g-ok"), {"spec": {"size": 11}}, "application/merge-patch+json")
            status = self.assertStatus(r, 422, "Invalid")
            self.assertIn(("spec.size", "FieldValueInvalid"),
                          {(c.get("field"), c.get("reason")) for c in status["details"].get("causes", [])}, r)
            self.assertEqual(self.c.get(self.gadget_path("g-ok")).json["spec"]["size"], 1)

    def test_a_crd_schema_error_names_spec_validation_when_every_version_has_that_schema(self):
        # As kube-apiserver v1.33 answers: identical per-version schemas are
        # validated once, as spec.validation; differing ones per version.
        def crd(plural, descriptions):
            versions = [{"name": "v%d" % (i + 1), "served": True, "storage": i == 0,
                         "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                             "metadata": {"type": "object", "description": d}}}}}
                        for i, d in enumerate(descriptions)]
            return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": plural + "." + CRD_GROUP},
                    "spec": {"group": CRD_GROUP, "scope": "Namespaced",
                             "names": {"plural": plural, "kind": plural.capitalize()[:-1]},
                             "versions": versions}}
        forbidden = ("Forbidden: must not specify anything other than name and generateName, "
                     "but metadata is implicitly specified")
        for plural, descriptions, fields in [
                ("ones", ["x"], ["spec.validation.openAPIV3Schema.properties[metadata]"]),
                ("twos", ["x", "x"], ["spec.validation.openAPIV3Schema.properties[metadata]"]),
                ("threes", ["x", "y"], ["spec.versions[0].schema.openAPIV3Schema.properties[metadata]",
                                        "spec.versions[1].schema.openAPIV3Schema.properties[metadata]"])]:
            with self.subTest(versions=len(descriptions), same=len(set(descriptions)) == 1):
                r = self.c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd(plural, descriptions))
                status = self.assertStatus(r, 422, "Invalid")
                causes = [(c["field"], c["message"]) for c in status["details"]["causes"]]
                self.assertEqual(causes, [(f, forbidden) for f in fields], r)

    def test_crd_patterns_are_go_regexps_matched_unanchored(self):
        # prometheus-operator's PrometheusRule CRD has ^(?i)...; messages as
        # kube-apiserver v1.33 gives them for this CRD.
        group = "patterns." + CRD_GROUP
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "rules." + group},
               "spec": {"group": group, "scope": "Namespaced",
                        "names": {"plural": "rules", "singular": "rule", "kind": "Rule", "listKind": "RuleList"},
                        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                            "type": "object", "properties": {"spec": {"type": "object", "properties": {
                                "onFailure": {"type": "string", "pattern": "^(?i)(abort|warn)?$"},
                                "word": {"type": "string", "pattern": "[a-z]+"},
                                "named": {"type": "string", "pattern": "^(?<w>[a-z]+)-(?P<n>[0-9])$"}}}}}}}]}}
        r = self.c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        self.assertEqual(r.status, 201, r)
        path = "/apis/%s/v1/namespaces/%s/rules" % (group, self.ns)
        wait_for("the rules to be served", lambda: self.c.get(path).status == 200, timeout=30)

        def rule(name, spec):
            return {"apiVersion": group + "/v1", "kind": "Rule", "metadata": {"name": name}, "spec": spec}
        r = self.c.post(path, rule("ok", {"onFailure": "Warn", "word": "ABCx1", "named": "ab-1"}))
        self.assertEqual(r.status, 201, r)
        r = self.c.post(path, rule("bad", {"onFailure": "ignore", "word": "123", "named": "ab-12"}))
        self.assertStatus(r, 422, "Invalid",
                          'Rule.%s "bad" is invalid: ['
                          'spec.named: Invalid value: "ab-12": spec.named in body should match '
                          "'^(?<w>[a-z]+)-(?P<n>[0-9])$', "
                          'spec.onFailure: Invalid value: "ignore": spec.onFailure in body should match '
                          "'^(?i)(abort|warn)?$', "
                          'spec.word: Invalid value: "123": spec.word in body should match \'[a-z]+\']' % group)

    def test_unknown_fields_are_pruned_and_defaults_applied(self):
        body = self.gadget("g", {"size": 2, "unknownField": "pruned"})
        body["topLevelUnknown"] = {"a": 1}
        r = self.c.post(self.gadget_path(), body)
        self.assertEqual(r.status, 201, r)
        for obj in (r.json, self.c.get(self.gadget_path("g")).json):
            self.assertNotIn("unknownField", obj["spec"], obj)
            self.assertNotIn("topLevelUnknown", obj, obj)
            self.assertEqual(obj["spec"], {"size": 2, "color": "green"}, obj)

    def test_a_missing_custom_object_is_404_naming_the_group_resource(self):
        r = self.c.get(self.gadget_path("nope"))
        status = self.assertStatus(r, 404, "NotFound", '%s "nope" not found' % CRD_NAME)
        self.assertEqual(nonempty(status.get("details")), {"name": "nope", "group": CRD_GROUP, "kind": "gadgets"}, r)

    # --- patches ---

    def test_merge_patch_and_json_patch_on_a_custom_object_work(self):
        self.create_gadget("g", {"size": 1, "color": "red", "tags": ["a"]})
        r = self.c.patch(self.gadget_path("g"), {"spec": {"size": 3, "tags": None}}, "application/merge-patch+json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["spec"], {"size": 3, "color": "red"}, r)

        ops = [{"op": "test", "path": "/spec/size", "value": 3},
               {"op": "replace", "path": "/spec/size", "value": 4},
               {"op": "add", "path": "/spec/tags", "value": ["x"]},
               {"op": "add", "path": "/spec/tags/-", "value": "y"},
               {"op": "add", "path": "/metadata/labels", "value": {"patched": "json"}}]
        r = self.c.patch(self.gadget_path("g"), ops, "application/json-patch+json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["spec"], {"size": 4, "color": "red", "tags": ["x", "y"]}, r)
        self.assertEqual(r.json["metadata"]["labels"], {"patched": "json"}, r)
        self.assertEqual(self.c.get(self.gadget_path("g")).json["spec"]["size"], 4)

    def test_strategic_merge_patch_on_a_custom_object_is_415(self):
        self.create_gadget("g", {"size": 1})
        r = self.c.patch(self.gadget_path("g"), {"spec": {"size": 2}}, "application/strategic-merge-patch+json")
        status = self.assertStatus(r, 415, "UnsupportedMediaType")
        msg = status.get("message", "")
        self.assertTrue(msg.startswith(UNSUPPORTED_PATCH_PREFIX), r)
        for accepted in ("application/json-patch+json", "application/merge-patch+json",
                         "application/apply-patch+yaml"):
            self.assertIn(accepted, msg, r)
        self.assertNotIn("strategic", msg, r)
        self.assertEqual(self.c.get(self.gadget_path("g")).json["spec"]["size"], 1)

    def test_a_failing_json_patch_test_operation_is_refused_and_changes_nothing(self):
        before = self.create_gadget("g", {"size": 1})
        ops = [{"op": "test", "path": "/spec/size", "value": 99},
               {"op": "replace", "path": "/spec/size", "value": 5}]
        r = self.c.patch(self.gadget_path("g"), ops, "application/json-patch+json")
        self.assertStatus(r, 422, "Invalid", JSON_PATCH_FAILED_MESSAGE)
        after = self.c.get(self.gadget_path("g")).json
        self.assertEqual(after["spec"]["size"], 1)
        self.assertEqual(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"])


class EvictionTest(SandboxTestCase):

    def deploy(self, name, replicas, pdb_spec):
        labels = {"app": name}
        dep = {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels},
                             "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}},
            },
        }
        r = self.c.post("/apis/apps/v1/namespaces/%s/deployments" % self.ns, dep)
        self.assertEqual(r.status, 201, r)
        pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
               "spec": dict(pdb_spec, selector={"matchLabels": labels})}
        r = self.c.post("/apis/policy/v1/namespaces/%s/poddisruptionbudgets" % self.ns, pdb)
        self.assertEqual(r.status, 201, r)

    def active_pods(self, app):
        r = self.c.get("/api/v1/namespaces/%s/pods" % self.ns, params={"labelSelector": "app=" + app})
        self.assertEqual(r.status, 200, r)
        return [p for p in r.json["items"] if not p["metadata"].get("deletionTimestamp")]

    @staticmethod
    def ready(pod):
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in pod.get("status", {}).get("conditions", []))

    def ready_pods(self, app, count):
        pods = self.active_pods(app)
        return pods if len(pods) == count and all(self.ready(p) for p in pods) else None

    def pdb_settled(self, name, healthy, allowed):
        pdb = self.c.get("/apis/policy/v1/namespaces/%s/poddisruptionbudgets/%s" % (self.ns, name)).json
        st = pdb.get("status", {})
        if (st.get("observedGeneration", 0) >= pdb["metadata"].get("generation", 1)
                and st.get("currentHealthy") == healthy and st.get("disruptionsAllowed") == allowed):
            return pdb
        return None

    def evict(self, pod):
        body = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": pod, "namespace": self.ns}}
        return self.c.post("/api/v1/namespaces/%s/pods/%s/eviction" % (self.ns, pod), body)

    def test_eviction_that_would_violate_min_available_is_429_too_many_requests(self):
        self.deploy("guarded", 2, {"minAvailable": 2})
        pods = wait_for("2 ready pods", lambda: self.ready_pods("guarded", 2))
        wait_for("the PDB status (2 healthy, 0 disruptions allowed)", lambda: self.pdb_settled("guarded", 2, 0))
        victim = pods[0]["metadata"]["name"]
        r = self.evict(victim)
        status = self.assertStatus(r, 429, "TooManyRequests", EVICTION_MESSAGE)
        # metav1.StatusCause serializes its Type as "reason".
        causes = [(c.get("reason"), c.get("message")) for c in status.get("details", {}).get("causes", [])]
        self.assertIn(("DisruptionBudget", "The disruption budget guarded needs 2 healthy pods and has 2 currently"),
                      causes, r)
        pod = self.c.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, victim))
        self.assertEqual(pod.status, 200, pod)
        self.assertNotIn("deletionTimestamp", pod.json["metadata"], "a refused eviction deleted the pod")

    def test_eviction_within_max_unavailable_succeeds_and_the_pod_is_replaced(self):
        self.deploy("relaxed", 2, {"maxUnavailable": 1})
        pods = wait_for("2 ready pods", lambda: self.ready_pods("relaxed", 2))
        wait_for("the PDB status (2 healthy, 1 disruption allowed)", lambda: self.pdb_settled("relaxed", 2, 1))
        victim = pods[0]["metadata"]["name"]
        r = self.evict(victim)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json or {}).get("kind"), "Status", r)
        self.assertEqual(r.json.get("status"), "Success", r)

        def gone():
            p = self.c.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, victim))
            return p.status == 404 or (p.status == 200 and p.json["metadata"].get("deletionTimestamp"))
        wait_for("the evicted pod to be deleted", gone)

        def replaced():
            pods = self.ready_pods("relaxed", 2)
            return pods if pods and victim not in {p["metadata"]["name"] for p in pods} else None
        after = wait_for("a ready replacement pod", replaced)
        self.assertEqual(len({p["metadata"]["name"] for p in after} & {p["metadata"]["name"] for p in pods}), 1)


class FaultInjectionTest(SandboxTestCase):

    def test_fail_next_fails_exactly_the_next_n_matching_requests_then_they_succeed(self):
        self.create_cm("f")
        self.fault({"failNext": {"count": 2, "code": 503, "path": "/configmaps"}})
        r = self.c.get(self.cm_path("f"))
        self.assertStatus(r, 503, "ServiceUnavailable")
        retry_after = r.header("Retry-After")
        self.assertIsNotNone(retry_after, "a 503 must carry Retry-After: %r" % r.headers)
        self.assertTrue(retry_after.isdigit(), retry_after)

        other = self.c.get("/api/v1/namespaces/" + self.ns)
        self.assertEqual(other.status, 200, "a request outside the path failed: %r" % other)

        r = self.c.get(self.cm_path())
        self.assertStatus(r, 503, "ServiceUnavailable")
        self.assertIsNotNone(r.header("Retry-After"))
        for _ in range(3):
            r = self.c.get(self.cm_path("f"))
            self.assertEqual(r.status, 200, r)

    def test_fail_next_with_other_codes(self):
        for code, reason, retry in ((500, "InternalError", False), (429, "TooManyRequests", True)):
            with self.subTest(code=code):
                self.fault({"failNext": {"count": 1, "code": code}})
                r = self.c.get("/api/v1/namespaces/%s/configmaps" % self.ns)
                self.assertStatus(r, code, reason)
                if retry:
                    self.assertIsNotNone(r.header("Retry-After"), r.headers)
                self.assertEqual(self.c.get(self.cm_path()).status, 200)

    def test_close_watches_ends_an_open_watch_stream(self):
        self.create_cm("w")
        w = self.open_watch(self.cm_path())
        self.assertEqual(name_of(w.expect(1)[0]), "w")
        self.fault({"closeWatches": True})
        self.assertTrue(w.wait_ended(10), "the watch stayed open after closeWatches")
        # New watches still work.
        w2 = self.open_watch(self.cm_path(), resourceVersion=self.list_rv(self.cm_path()))
        self.create_cm("w2")
        self.assertEqual(name_of(w2.expect(1)[0]), "w2")

    def test_latency_slows_requests(self):
        self.fault({"latencyMs": 400})
        start = time.monotonic()
        r = self.c.get(self.cm_path())
        elapsed = time.monotonic() - start
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(elapsed, 0.39, "latencyMs=400 answered in %.3fs" % elapsed)


def main():
    global REMEDYCTL
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    REMEDYCTL = os.path.abspath(sys.argv[1])
    program = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2, exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
