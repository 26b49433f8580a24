#!/usr/bin/env python3
"""A test Kubernetes API server: the real list/watch protocol over plain HTTP, in memory.

Not a kube-apiserver: no authentication, admission, validation, defaulting, protobuf, tables
or server-side apply. It exists so that bgpd's Kubernetes datastore (kube-rs's watcher) and
kubectl can be run against something that behaves like the API server where it matters.

Resources (every object is stored as the JSON it was given, plus server-set metadata):
  core v1: nodes, namespaces (cluster-scoped); services, secrets, endpoints, pods, configmaps,
    serviceaccounts (namespaced); discovery.k8s.io/v1 endpointslices; apps/v1 daemonsets,
    deployments; rbac.authorization.k8s.io/v1 (cluster)roles and (cluster)rolebindings;
    policy/v1 poddisruptionbudgets; apiextensions.k8s.io/v1 customresourcedefinitions;
  crd.projectcalico.org/v1 bgpconfigurations, bgppeers, bgpfilters, ippools, blockaffinities
    (cluster-scoped), only with --calico: without it that group is 404, as in a cluster
    without Calico's CRDs.
Paths: /api/v1/<plural>[/<name>], /api/v1/namespaces/<ns>/<plural>[/<name>], and the same under
  /apis/<group>/<version>/. A collection GET at cluster scope lists every namespace.
Metadata: one global resourceVersion counter (as etcd's revision) bumped by every write;
  objects get metadata.resourceVersion, uid, creationTimestamp (kept on replace).
List: kind <Kind>List, apiVersion, metadata.resourceVersion = the current counter. Items of
  built-in types carry no kind/apiVersion (as the real server's typed lists); CRD items do.
  `limit` + `continue`: pages in name order; the token (base64 JSON {"v","rv","start"}, as the
  real server's) serves later pages at the first page's resourceVersion, rebuilt from history;
  metadata.remainingItemCount when there is no selector; a token older than the compacted
  history gets 410 Expired. `resourceVersion` with resourceVersionMatch=Exact lists the state
  at that version (410 if compacted); any other value lists the current state.
  `limit` is honoured for every resourceVersion (the real server ignores it for "0").
Selectors (lists and watches): labelSelector with `k=v`, `k==v`, `k!=v`, `k`, `!k`,
  `k in (a,b)`, `k notin (a,b)`, comma-separated; fieldSelector on metadata.name and
  metadata.namespace (=, ==, !=). Anything else: 400 BadRequest naming it.
Watch (`watch=true|1`): newline-delimited JSON events with chunked transfer encoding: ADDED,
  MODIFIED, DELETED, BOOKMARK (kind, apiVersion, metadata.resourceVersion only; sent every
  --bookmark-interval seconds and at the end, when allowWatchBookmarks=true), ERROR (a Status).
  resourceVersion unset or "0": synthetic ADDED of the current state first. N: every change
  after N (replayed from history), then live; N older than the retained history: one ERROR
  event {Status, code 410, reason Expired} and the stream ends (as the real server does). With
  selectors, an object moving into (out of) the selection is ADDED (DELETED).
  sendInitialEvents=true: the current state as ADDED, then a BOOKMARK annotated
  k8s.io/initial-events-end. The stream ends cleanly after timeoutSeconds (default 1800).
Writes: POST on a collection (create; 409 AlreadyExists), PUT on an object (create or replace;
  409 Conflict if the body's resourceVersion is stale), PATCH with application/merge-patch+json,
  DELETE (returns the object; 404 if absent). Each write bumps the counter and reaches watchers.
Discovery: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version> (legacy
  discovery, enough for kubectl's REST mapper), /healthz, /readyz, /livez.
Admin (tests): POST /_admin/compact  advances the counter by one (an unrelated write) and
  forgets all history up to it: every watch resumed or page continued from a version seen
  before gets 410. POST /_admin/drop-watches  cuts every open watch stream (socket shut down
  mid-stream, no final chunk), as a lost connection; with ?compact=true it compacts first,
  under the same lock (no bookmark can carry the new version). GET /_admin/stats  JSON: resourceVersion,
  compacted, openWatches, and per resource (`nodes`, `endpointslices.discovery.k8s.io`, ...):
  list (first pages), continued (pages asked with a continue token), watch, from_version
  (watches at a given resourceVersion: after a list, or resumed), gone (410s sent), events,
  bookmarks, dropped (streams cut by drop-watches).
Flags: --listen ADDR:PORT (default 127.0.0.1:8080), --calico, --bookmark-interval S (2),
  --load FILE (JSON: a List, an array or one object; repeatable), --log FILE.
"""
import argparse
import base64
import bisect
import copy
import datetime
import json
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CALICO = "crd.projectcalico.org"
# (group, version, plural, kind, namespaced, short names)
RESOURCES = [
    ("", "v1", "nodes", "Node", False, ["no"]),
    ("", "v1", "namespaces", "Namespace", False, ["ns"]),
    ("", "v1", "services", "Service", True, ["svc"]),
    ("", "v1", "secrets", "Secret", True, []),
    ("", "v1", "endpoints", "Endpoints", True, ["ep"]),
    ("", "v1", "pods", "Pod", True, ["po"]),
    ("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    ("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, []),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"]),
    ("apps", "v1", "deployments", "Deployment", True, ["deploy"]),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, []),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, []),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, []),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, []),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"]),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False, ["crd"]),
    (CALICO, "v1", "bgpconfigurations", "BGPConfiguration", False, []),
    (CALICO, "v1", "bgppeers", "BGPPeer", False, []),
    (CALICO, "v1", "bgpfilters", "BGPFilter", False, []),
    (CALICO, "v1", "ippools", "IPPool", False, []),
    (CALICO, "v1", "blockaffinities", "BlockAffinity", False, []),
]
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


class ApiError(Exception):
    """An error answered as a v1 Status."""

    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}


def expired(message):
    return ApiError(410, "Expired", message)


class Resource:
    def __init__(self, group, version, plural, kind, namespaced, short):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced, self.short = namespaced, short
        self.api_version = f"{group}/{version}" if group else version
        self.key = f"{plural}.{group}" if group else plural  # as kubectl names it
        self.custom = group == CALICO  # CRD lists keep kind/apiVersion on their items


# ---- selectors -----------------------------------------------------------------------------
_LABEL_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9_.-]*)|"
                         r"\s(in|notin)\s*\(([^)]*)\))?\s*$")


def parse_label_selector(text):
    """-> a predicate on a labels dict; ApiError for syntax it does not implement."""
    terms = []
    for raw in re.split(r",(?![^()]*\))", text or ""):
        if not raw.strip():
            continue
        m = _LABEL_TERM.match(raw)
        if not m or (m.group(1) and (m.group(3) or m.group(5))):
            raise ApiError(400, "BadRequest", f"unable to parse requirement {raw!r} in "
                           "labelSelector (supported: k=v, k==v, k!=v, k, !k, k in (..), k notin (..))")
        neg, key, op, val, setop, vals = m.groups()
        values = {v.strip() for v in (vals or "").split(",") if v.strip()}
        terms.append((neg, key, op, val, setop, values))

    def matches(labels):
        for neg, key, op, val, setop, values in terms:
            have = labels.get(key)
            ok = (have == val if op in ("=", "==") else have != val if op == "!=" else
                  have in values if setop == "in" else have not in values if setop == "notin" else
                  (have is None) if neg else (have is not None))
            if not ok:
                return False
        return True
    return matches


def parse_field_selector(text):
    terms = []
    for raw in (text or "").split(","):
        if not raw.strip():
            continue
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", raw)
        if not m or m.group(1) not in ("metadata.name", "metadata.namespace"):
            raise ApiError(400, "BadRequest", f"fieldSelector {raw!r}: only metadata.name and "
                           "metadata.namespace with =, ==, != are supported here")
        terms.append((m.group(1).split(".")[1], m.group(2) != "!=", m.group(3)))
    return lambda meta: all((meta.get(f, "") == v) == eq for f, eq, v in terms)


class Selection:
    """Which objects of a resource a request is about: namespace and selectors."""

    def __init__(self, namespace, query):
        self.namespace = namespace
        self.label_text = query.get("labelSelector", "")
        self.field_text = query.get("fieldSelector", "")
        self._labels = parse_label_selector(self.label_text)
        self._fields = parse_field_selector(self.field_text)

    def has_selector(self):
        return bool(self.label_text or self.field_text)

    def __call__(self, obj):
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return self._labels(meta.get("labels") or {}) and self._fields(meta)


# ---- the store -----------------------------------------------------------------------------
class Store:
    """Objects, the global resourceVersion, and the history of changes watches replay."""

    def __init__(self):
        self.cond = threading.Condition()
        self.rv = 100
        self.objects = {}   # resource key -> {(namespace, name): object}
        self.history = []   # (rv, resource key, type, object, previous object), rv increasing
        self.history_rvs = []
        self.compacted = 0  # resuming from a version below this gets 410
        self.forgotten = 0  # the last change compaction dropped (live watches behind it: 410)
        self.drop_generation = 0
        self.stats = {}
        self.open_watches = 0

    def count(self, res, what, n=1):
        with self.cond:
            per = self.stats.setdefault(res.key, {})
            per[what] = per.get(what, 0) + n

    def _commit(self, res, kind, key, new, prev):
        self.rv += 1
        if new is not None:
            new["metadata"]["resourceVersion"] = str(self.rv)
            self.objects.setdefault(res.key, {})[key] = new
        else:
            self.objects.get(res.key, {}).pop(key, None)
        self.history.append((self.rv, res.key, kind, new if new is not None else self._deleted(prev), prev))
        self.history_rvs.append(self.rv)
        self.cond.notify_all()

    def _deleted(self, prev):
        gone = copy.deepcopy(prev)
        gone["metadata"]["resourceVersion"] = str(self.rv)
        return gone

    def write(self, res, obj, mode):
        """mode: create | replace (create or replace) | delete. -> the stored object."""
        meta = obj.setdefault("metadata", {})
        key = (meta.get("namespace") if res.namespaced else None, meta.get("name", ""))
        with self.cond:
            old = self.objects.get(res.key, {}).get(key)
            if mode == "delete":
                if old is None:
                    raise ApiError(404, "NotFound", f'{res.key} "{key[1]}" not found')
                self._commit(res, "DELETED", key, None, old)
                return self.history[-1][3]
            if mode == "create" and old is not None:
                raise ApiError(409, "AlreadyExists", f'{res.key} "{key[1]}" already exists')
            sent_rv = meta.get("resourceVersion")
            if old is not None and sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.key} "{key[1]}": '
                               "the object has been modified; please apply your changes to the latest "
                               "version and try again")
            obj.setdefault("apiVersion", res.api_version)
            obj.setdefault("kind", res.kind)
            if old is None:
                meta["uid"] = str(uuid.uuid4())
                now = datetime.datetime.now(datetime.timezone.utc)
                meta["creationTimestamp"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                meta["uid"] = old["metadata"]["uid"]
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            self._commit(res, "ADDED" if old is None else "MODIFIED", key, obj, old)
            return obj

    def get(self, res, namespace, name):
        with self.cond:
            obj = self.objects.get(res.key, {}).get((namespace if res.namespaced else None, name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{res.key} "{name}" not found')
        return obj

    def state_at(self, res, rv):
        """The objects of res as they were at rv (undoing later history). Caller holds cond."""
        if rv < self.compacted:
            raise expired(f"too old resource version: {rv} ({self.compacted})")
        state = dict(self.objects.get(res.key, {}))
        for i in range(len(self.history) - 1, bisect.bisect_right(self.history_rvs, rv) - 1, -1):
            _, key, kind, obj, prev = self.history[i]
            if key != res.key:
                continue
            okey = (obj["metadata"].get("namespace") if res.namespaced else None, obj["metadata"]["name"])
            if kind == "ADDED":
                state.pop(okey, None)
            else:
                state[okey] = prev
        return state

    def compact(self):
        with self.cond:
            self.rv += 1
            self.compacted = self.rv
            self.forgotten = self.history_rvs[-1] if self.history_rvs else self.forgotten
            self.history, self.history_rvs = [], []
            return self.rv


# ---- HTTP ----------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver/1"

    # -- plumbing
    def log_message(self, fmt, *args):
        log = self.server.log_file
        if log:
            now = time.time()
            stamp = time.strftime("%H:%M:%S", time.gmtime(now)) + ".%03d" % (now % 1 * 1000)
            log.write("%s %s\n" % (stamp, fmt % args))
            log.flush()

    def send_json(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        try:
            return json.loads(self.raw_body or b"null")
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"request body is not JSON: {e}")

    def dispatch(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        parts = [p for p in url.path.split("/") if p]
        # Read every body first (DELETE carries DeleteOptions): keep-alive needs it consumed.
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""
        res = None
        try:
            if parts and parts[0] == "_admin":
                return self.admin(parts[1:] if len(parts) > 1 else [""])
            if self.discovery(parts):
                return
            res, namespace, name = self.route(parts)
            if self.command == "GET" and name is None:
                if query.get("watch") in ("true", "1"):
                    return self.watch(res, Selection(namespace, query), query)
                return self.list(res, Selection(namespace, query), query)
            if self.command == "GET":
                return self.send_json(200, self.server.store.get(res, namespace, name))
            store = self.server.store
            if self.command == "DELETE" and name is not None:
                return self.send_json(200, store.write(res, self.named(res, namespace, name, {}), "delete"))
            body = self.read_body()
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body must be a JSON object")
            if self.command == "POST" and name is None:
                meta = body.setdefault("metadata", {})
                if not meta.get("name") and meta.get("generateName"):
                    meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
                obj = self.named(res, namespace, meta.get("name"), body)
                return self.send_json(201, store.write(res, obj, "create"))
            if self.command == "PUT" and name is not None:
                return self.send_json(200, store.write(res, self.named(res, namespace, name, body), "replace"))
            if self.command == "PATCH" and name is not None:
                ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
                if ctype != "application/merge-patch+json":
                    raise ApiError(415, "UnsupportedMediaType",
                                   f"PATCH {ctype!r}: only application/merge-patch+json here")
                obj = merge_patch(copy.deepcopy(store.get(res, namespace, name)), body)
                obj.get("metadata", {}).pop("resourceVersion", None)
                return self.send_json(200, store.write(res, self.named(res, namespace, name, obj), "replace"))
            raise ApiError(405, "MethodNotAllowed", f"{self.command} is not supported on {url.path}")
        except ApiError as e:
            if e.code == 410 and res is not None:
                self.server.store.count(res, "gone")
            self.send_json(e.code, e.status())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch

    def named(self, res, namespace, name, body):
        meta = body.setdefault("metadata", {})
        if not name:
            raise ApiError(400, "BadRequest", "metadata.name is required")
        if meta.get("name", name) != name:
            raise ApiError(400, "BadRequest", f"metadata.name {meta.get('name')!r} does not match the path's {name!r}")
        meta["name"] = name
        if res.namespaced:
            namespace = namespace or meta.get("namespace")
            if not namespace:
                raise ApiError(400, "BadRequest", f"{res.key} is namespaced: use /namespaces/<ns>/{res.plural}")
            if meta.get("namespace", namespace) != namespace:
                raise ApiError(400, "BadRequest", "metadata.namespace does not match the path")
            meta["namespace"] = namespace
        return body

    def route(self, parts):
        """-> (resource, namespace or None, name or None) for a REST path; 404 otherwise."""
        if parts[:2] == ["api", "v1"]:
            gv, rest = ("", "v1"), parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            gv, rest = (parts[1], parts[2]), parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        res = self.server.resources.get((gv[0], gv[1], rest[0] if rest else ""))
        if res is None or len(rest) > 2 or (namespace is not None and not res.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return res, namespace, rest[1] if len(rest) == 2 else None

    # -- discovery
    def discovery(self, parts):
        if self.command != "GET":
            return False
        srv = self.server
        groups = sorted({(r.group, r.version) for r in srv.resources.values() if r.group})
        if parts in (["healthz"], ["readyz"], ["livez"]):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif parts == ["version"]:
            self.send_json(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake",
                                 "platform": "linux/amd64"})
        elif parts == ["api"]:
            self.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs":
                                 [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.headers.get("Host", "")}]})
        elif parts == ["apis"]:
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                 "groups": [group_info(g, [v for gg, v in groups if gg == g])
                                            for g in sorted({g for g, _ in groups})]})
        elif len(parts) == 2 and parts[0] == "apis" and any(g == parts[1] for g, _ in groups):
            self.send_json(200, dict(group_info(parts[1], [v for g, v in groups if g == parts[1]]),
                                     kind="APIGroup", apiVersion="v1"))
        elif parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in groups):
            group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
            self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                 "groupVersion": f"{group}/{version}" if group else version,
                                 "resources": [{"name": r.plural, "singularName": r.kind.lower(),
                                                "namespaced": r.namespaced, "kind": r.kind, "verbs": VERBS,
                                                "shortNames": r.short}
                                               for r in srv.resources.values()
                                               if (r.group, r.version) == (group, version)]})
        else:
            return False
        return True

    # -- admin
    def admin(self, what):
        store = self.server.store
        if self.command == "POST" and what == ["compact"]:
            self.send_json(200, {"compacted": store.compact()})
        elif self.command == "POST" and what == ["drop-watches"]:
            with store.cond:  # ?compact=true: both at once, so no bookmark carries the new version
                if parse_qs(urlsplit(self.path).query).get("compact") == ["true"]:
                    store.compact()
                store.drop_generation += 1
                n = store.open_watches
                store.cond.notify_all()
            self.send_json(200, {"dropping": n})
        elif self.command == "GET" and what == ["stats"]:
            with store.cond:
                self.send_json(200, {"resourceVersion": store.rv, "compacted": store.compacted,
                                     "openWatches": store.open_watches,
                                     "resources": copy.deepcopy(store.stats)})
        else:
            raise ApiError(404, "NotFound", "admin: POST compact, POST drop-watches, GET stats")

    # -- list
    def list(self, res, sel, query):
        store = self.server.store
        limit = int(query.get("limit") or 0)
        token = query.get("continue")
        with store.cond:
            if token:
                try:
                    t = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                    rv, start = int(t["rv"]), t["start"]
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "continue key is not valid")
                if rv < store.compacted:
                    raise expired("The provided continue parameter is too old to display a consistent list "
                                  "result. You can start a new list without the continue parameter.")
                state = store.state_at(res, rv)
                store.count(res, "continued")
            else:
                rv = store.rv
                if query.get("resourceVersionMatch") == "Exact" and query.get("resourceVersion"):
                    rv = int(query["resourceVersion"])
                    state = store.state_at(res, rv)
                else:
                    state = dict(store.objects.get(res.key, {}))
                start = ""
                store.count(res, "list")
        items = sorted(((f"{k[0] or ''}/{k[1]}", o) for k, o in state.items() if sel(o)), key=lambda x: x[0])
        items = [(k, o) for k, o in items if k > start]
        meta = {"resourceVersion": str(rv)}
        if limit and len(items) > limit:
            last = items[limit - 1][0]
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": rv, "start": last}).encode()).decode().rstrip("=")
            if not sel.has_selector():
                meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        out = [o if res.custom else {k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
               for _, o in items]
        self.send_json(200, {"kind": res.kind + "List", "apiVersion": res.api_version,
                             "metadata": meta, "items": out})

    # -- watch
    def watch(self, res, sel, query):
        store, srv = self.server.store, self.server
        rv_text = query.get("resourceVersion", "")
        timeout = float(query.get("timeoutSeconds") or 1800)
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        initial_end = query.get("sendInitialEvents") in ("true", "1")
        if initial_end and query.get("resourceVersionMatch") != "NotOlderThan":
            raise ApiError(422, "Invalid", "sendInitialEvents requires resourceVersionMatch=NotOlderThan")
        try:
            start_rv = int(rv_text) if rv_text not in ("", "0") else None
        except ValueError:
            raise ApiError(400, "BadRequest", f"resourceVersion {rv_text!r} is not a number")
        queue = []
        with store.cond:
            store.count(res, "watch")
            generation = store.drop_generation
            if start_rv is None or initial_end:
                # The current state as synthetic ADDED events (ordered by name).
                state = store.objects.get(res.key, {})
                queue = [("ADDED", state[k]) for k in sorted(state, key=lambda k: (k[0] or "", k[1])) if sel(state[k])]
                cursor = store.rv
            else:
                store.count(res, "from_version")
                cursor = start_rv
            gone = start_rv is not None and not initial_end and start_rv < store.compacted
            if not gone:
                store.open_watches += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if gone:
            store.count(res, "gone")
            message = f"too old resource version: {start_rv} ({store.compacted})"
            self.chunk({"type": "ERROR", "object": expired(message).status()})
            self.wfile.write(b"0\r\n\r\n")
            return
        how = "timeout"
        try:
            for kind, obj in queue:
                self.event(res, kind, obj)
            if initial_end:
                self.bookmark(res, cursor, {"k8s.io/initial-events-end": "true"})
            end = time.monotonic() + timeout
            next_bookmark = time.monotonic() + srv.bookmark_interval if bookmarks else float("inf")
            while True:
                with store.cond:
                    while True:
                        now = time.monotonic()
                        if store.drop_generation != generation:
                            how = "dropped"
                            break
                        if store.rv > cursor or now >= end or (bookmarks and now >= next_bookmark):
                            break
                        store.cond.wait(min(end, next_bookmark) - now)
                    if how == "dropped":
                        break
                    if cursor < store.forgotten:
                        how = "expired"  # changes it had not sent yet were compacted away
                    first = bisect.bisect_right(store.history_rvs, cursor)
                    events = [e for e in store.history[first:] if e[1] == res.key]
                    cursor = store.rv
                if how == "expired":
                    store.count(res, "gone")
                    self.chunk({"type": "ERROR", "object": expired("too old resource version").status()})
                    break
                for _, _, kind, obj, prev in events:
                    now_in, was_in = sel(obj) if kind != "DELETED" else False, sel(prev)
                    if kind == "DELETED" and was_in:
                        self.event(res, "DELETED", obj)
                    elif now_in:
                        self.event(res, "ADDED" if kind == "ADDED" or not was_in else "MODIFIED", obj)
                    elif was_in:  # moved out of the selection
                        self.event(res, "DELETED", obj)
                now = time.monotonic()
                if now >= end:
                    if bookmarks:
                        self.bookmark(res, cursor)
                    break
                if bookmarks and now >= next_bookmark:
                    self.bookmark(res, cursor)
                    next_bookmark = now + srv.bookmark_interval
            if how == "dropped":
                store.count(res, "dropped")
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            how = "client gone"
            self.close_connection = True
        finally:
            with store.cond:
                store.open_watches -= 1
            self.log_message('watch %s ended (%s) at rv %s', res.key, how, cursor)

    def chunk(self, body):
        data = json.dumps(body).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, res, kind, obj):
        self.server.store.count(res, "events")
        self.chunk({"type": kind, "object": obj})

    def bookmark(self, res, rv, annotations=None):
        self.server.store.count(res, "bookmarks")
        meta = {"resourceVersion": str(rv), "creationTimestamp": None}
        if annotations:
            meta["annotations"] = annotations
        self.chunk({"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta}})


def group_info(group, versions):
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def load(server, path):
    """Create every object of a JSON file (a List, an array or one object)."""
    with open(path) as f:
        data = json.load(f)
    items = data.get("items", []) if isinstance(data, dict) and "items" in data else \
        data if isinstance(data, list) else [data]
    by_kind = {(r.api_version, r.kind): r for r in server.resources.values()}
    for obj in items:
        res = by_kind.get((obj.get("apiVersion"), obj.get("kind")))
        if res is None:
            sys.exit(f"{path}: no resource served for {obj.get('apiVersion')} {obj.get('kind')}")
        if res.namespaced:
            obj.setdefault("metadata", {}).setdefault("namespace", "default")
        server.store.write(res, obj, "replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8080", help="ADDR:PORT ([v6]:PORT for IPv6)")
    ap.add_argument("--calico", action="store_true", help="serve crd.projectcalico.org/v1")
    ap.add_argument("--bookmark-interval", type=float, default=2.0, help="seconds between BOOKMARKs")
    ap.add_argument("--load", action="append", default=[], help="JSON file of initial objects")
    ap.add_argument("--log", help="request log file")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")
    if ":" in host:
        Server.address_family = socket.AF_INET6
    server = Server((host, int(port)), Handler)
    server.store = Store()
    server.bookmark_interval = args.bookmark_interval
    server.log_file = open(args.log, "a") if args.log else None
    server.resources = {(g, v, p): Resource(g, v, p, k, ns, s) for g, v, p, k, ns, s in RESOURCES
                        if args.calico or g != CALICO}
    for path in args.load:
        load(server, path)
    print(f"fake-apiserver listening on {args.listen} (calico: {args.calico})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
