"""The emulated API server, driven through the real ``kubernetes`` client over HTTP.

Every behaviour the product relies on is checked the way a client sees it: discovery, create/list/get,
Status bodies, optimistic concurrency, generation, the status subresource, the three patch types,
Secrets' base64, deletion (finalizers, owners, namespaces), selectors, pagination, watches (resume,
410 Gone, timeouts, bookmarks, selector transitions), fault injection, and speed.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from kmock import KubernetesError
from kubernetes import client as k8s
from kubernetes import dynamic, watch
from kubernetes.client.rest import ApiException

from tests.conftest import API_EPOCH, API_NAMESPACE
from tui.core.clock import FrozenClock
from tui.core.model.resources import ALL_KINDS, BUNDLES, CERTIFICATES, SECRET_SYNCS, ResourceKind
from tui.demo.apiserver.patch import PatchError, json_patch, merge_patch
from tui.demo.apiserver.selectors import parse_label_selector
from tui.demo.apiserver.server import ApiServer, ApiServerError, start_api_server
from tui.demo.apiserver.store import ObjectStore
from tui.demo.apiserver.tables import human_duration

NS = API_NAMESPACE
TIMEOUT = 5.0
EPOCH_TEXT = API_EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")
CUSTOM_KINDS = [k for k in ALL_KINDS if k.group]


# ---- helpers ---------------------------------------------------------------------------------------


def secret(
    name: str,
    ns: str = NS,
    labels: dict[str, str] | None = None,
    data: dict[str, bytes] | None = None,
    secret_type: str = "Opaque",
) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v).decode() for k, v in (data or {"k": b"v"}).items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": secret_type,
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "data": encoded,
    }


def custom(kind: ResourceKind, name: str, spec: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra.pop("metadata", {})}
    if kind.namespaced:
        meta["namespace"] = NS
    return {
        "apiVersion": kind.group_version,
        "kind": kind.kind,
        "metadata": meta,
        "spec": spec or {},
        **extra,
    }


def status_of(exc: ApiException) -> dict[str, Any]:
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == exc.status
    return body


def raw_get(api: ApiServer, path: str, accept: str = "application/json") -> tuple[int, str, Any]:
    request = urllib.request.Request(api.url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], json.loads(exc.read())


def names(items: list[Any]) -> list[str]:
    return [i["metadata"]["name"] if isinstance(i, dict) else i.metadata.name for i in items]


class WatchThread:
    """A ``watch.Watch`` stream consumed in a thread; events arrive in a queue with their arrival time."""

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.watch = watch.Watch()
        self.events: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.error: BaseException | None = None
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(func, args, kwargs), daemon=True)

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            for event in self.watch.stream(func, *args, **kwargs):
                self.events.put((time.perf_counter(), event))
        except BaseException as exc:
            self.error = exc
        finally:
            self.ended.set()

    def start(self) -> WatchThread:
        self._thread.start()
        return self

    def next(self) -> dict[str, Any]:
        return self.events.get(timeout=TIMEOUT)[1]

    def take(self, count: int) -> list[tuple[str, str]]:
        return [(e["type"], e["raw_object"]["metadata"]["name"]) for e in (self.next() for _ in range(count))]

    def stop(self) -> None:
        self.watch.stop()
        self._thread.join(TIMEOUT)


@pytest.fixture
def watches() -> Iterator[list[WatchThread]]:
    made: list[WatchThread] = []
    yield made
    for w in made:
        w.stop()
    assert not any(w._thread.is_alive() for w in made), "a watch thread outlived the test"


@pytest.fixture
def core(k8s_client: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s_client)


@pytest.fixture
def crd(k8s_client: k8s.ApiClient) -> k8s.CustomObjectsApi:
    return k8s.CustomObjectsApi(k8s_client)


def open_watch(
    api: ApiServer,
    made: list[WatchThread],
    resource_key: str,
    func: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> WatchThread:
    before = api.watch_counts().get(resource_key, 0)
    w = WatchThread(func, *args, **kwargs).start()
    made.append(w)
    api.wait_for_watches(before + 1, resource_key, timeout=TIMEOUT)
    return w


# ---- discovery -------------------------------------------------------------------------------------


def test_core_discovery_reports_group_version_v1_and_core_kinds(core: k8s.CoreV1Api) -> None:
    doc = core.get_api_resources()
    assert doc.group_version == "v1"
    by_name = {r.name: r for r in doc.resources}
    for kind in (k for k in ALL_KINDS if not k.group):
        entry = by_name[kind.plural]
        assert (entry.kind, entry.namespaced) == (kind.kind, kind.namespaced)
        assert entry.singular_name == kind.singular
        assert sorted(entry.short_names or []) == sorted(kind.short_names)
        assert {"get", "list", "watch", "create", "update", "patch", "delete"} <= set(entry.verbs)
    assert "namespaces/status" in by_name and "secrets/status" not in by_name


@pytest.mark.parametrize("kind", CUSTOM_KINDS, ids=lambda k: k.key)
def test_group_discovery_describes_each_custom_kind(
    api_server: ApiServer, k8s_client: k8s.ApiClient, kind: ResourceKind
) -> None:
    groups = k8s.ApisApi(k8s_client).get_api_versions()
    group = next(g for g in groups.groups if g.name == kind.group)
    assert group.preferred_version.group_version == kind.group_version
    status, _, doc = raw_get(api_server, f"/apis/{kind.group_version}")
    assert status == 200 and (doc["kind"], doc["groupVersion"]) == ("APIResourceList", kind.group_version)
    by_name = {r["name"]: r for r in doc["resources"]}
    entry = by_name[kind.plural]
    assert (entry["kind"], entry["namespaced"]) == (kind.kind, kind.namespaced)
    assert entry["singularName"] == kind.singular
    assert sorted(entry.get("shortNames", [])) == sorted(kind.short_names)
    assert "watch" in entry["verbs"] and "patch" in entry["verbs"]
    assert (f"{kind.plural}/status" in by_name) == kind.has_status


def test_dynamic_client_resolves_every_kind_through_discovery(k8s_client: k8s.ApiClient) -> None:
    client = dynamic.DynamicClient(k8s_client)
    for kind in ALL_KINDS:
        res = client.resources.get(api_version=kind.group_version, kind=kind.kind)
        assert (res.name, res.namespaced) == (kind.plural, kind.namespaced)


def test_aggregated_discovery_is_served_when_asked_for(api_server: ApiServer) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, content_type, doc = raw_get(api_server, "/apis", accept)
    assert status == 200 and "as=APIGroupDiscoveryList" in content_type
    served = {
        (g["metadata"]["name"], v["version"], r["resource"], r["scope"])
        for g in doc["items"]
        for v in g["versions"]
        for r in v["resources"]
    }
    for kind in CUSTOM_KINDS:
        scope = "Namespaced" if kind.namespaced else "Cluster"
        assert (kind.group, kind.version, kind.plural, scope) in served
    _, content_type, core_doc = raw_get(api_server, "/api", accept)
    assert core_doc["items"][0]["metadata"]["name"] == ""
    # A client that does not ask gets the legacy documents.
    _, content_type, legacy = raw_get(api_server, "/apis")
    assert legacy["kind"] == "APIGroupList" and "as=" not in content_type


def test_version_and_openapi_v3_index(api_server: ApiServer, k8s_client: k8s.ApiClient) -> None:
    info = k8s.VersionApi(k8s_client).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.")
    _, _, index = raw_get(api_server, "/openapi/v3")
    assert "api/v1" in index["paths"] and f"apis/{CERTIFICATES.group_version}" in index["paths"]
    _, _, doc = raw_get(api_server, index["paths"]["api/v1"]["serverRelativeURL"])
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Secret"}


# ---- create, read, list ---------------------------------------------------------------------------


def test_create_answers_201_with_server_metadata_from_the_clock(
    api_server: ApiServer, core: k8s.CoreV1Api, api_clock: FrozenClock
) -> None:
    body = secret("s1")
    del body["metadata"]["namespace"]  # filled from the URL, as the real server does
    api_clock.advance(timedelta(minutes=5))
    created, code, _ = core.create_namespaced_secret_with_http_info(NS, body)
    assert code == 201
    meta = created.metadata
    assert meta.namespace == NS and meta.uid and int(meta.resource_version) == api_server.resource_version
    assert meta.creation_timestamp == API_EPOCH + timedelta(minutes=5)
    assert meta.generation is None  # core Secrets carry no generation upstream


def test_create_custom_resource_sets_generation_and_generate_name(crd: k8s.CustomObjectsApi) -> None:
    body = custom(CERTIFICATES, "", {"secretName": "x"}, metadata={"generateName": "leaf-"})
    del body["metadata"]["name"]
    made = crd.create_namespaced_custom_object("cert-manager.io", "v1", NS, "certificates", body)
    meta = made["metadata"]
    assert meta["name"].startswith("leaf-") and len(meta["name"]) == len("leaf-") + 5
    assert meta["generation"] == 1 and meta["creationTimestamp"] == EPOCH_TEXT
    assert made["kind"] == "Certificate" and made["apiVersion"] == "cert-manager.io/v1"


def test_resource_versions_increase_across_kinds(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    cert = crd.create_namespaced_custom_object(
        "cert-manager.io", "v1", NS, "certificates", custom(CERTIFICATES, "c")
    )
    cm = core.create_namespaced_config_map(NS, {"metadata": {"name": "m"}})
    made = core.create_namespaced_secret(NS, secret("a"))
    seen = [
        int(cert["metadata"]["resourceVersion"]),
        int(cm.metadata.resource_version),
        int(made.metadata.resource_version),
    ]
    assert seen == sorted(seen) and len(set(seen)) == 3
    assert seen[-1] == api_server.resource_version


def test_lists_carry_kind_api_version_and_resource_version(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    api_server.put(secret("s1"))
    api_server.put(custom(CERTIFICATES, "c1"))
    raw = json.loads(core.list_namespaced_secret(NS, _preload_content=False).data)
    assert (raw["kind"], raw["apiVersion"]) == ("SecretList", "v1")
    assert raw["metadata"]["resourceVersion"] == str(api_server.resource_version)
    assert names(raw["items"]) == ["s1"]
    certs = crd.list_namespaced_custom_object("cert-manager.io", "v1", NS, "certificates")
    assert (certs["kind"], certs["apiVersion"]) == ("CertificateList", "cert-manager.io/v1")
    typed = core.list_namespaced_secret(NS)
    assert typed.kind == "SecretList" and names(typed.items) == ["s1"]


def test_create_over_existing_name_is_409_already_exists(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    api_server.put(secret("s1"))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(NS, secret("s1"))
    body = status_of(caught.value)
    assert (body["reason"], body["message"]) == ("AlreadyExists", 'secrets "s1" already exists')
    assert body["details"] == {"name": "s1", "kind": "secrets"}
    api_server.put(custom(CERTIFICATES, "c1"))
    with pytest.raises(ApiException) as caught:
        crd.create_namespaced_custom_object(
            "cert-manager.io", "v1", NS, "certificates", custom(CERTIFICATES, "c1")
        )
    assert status_of(caught.value)["message"] == 'certificates.cert-manager.io "c1" already exists'


def test_missing_objects_and_namespaces_are_404_not_found(
    core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_secret("nope", NS)
    body = status_of(caught.value)
    assert (body["reason"], body["message"], body["details"]) == (
        "NotFound",
        'secrets "nope" not found',
        {"name": "nope", "kind": "secrets"},
    )
    with pytest.raises(ApiException) as caught:
        crd.get_cluster_custom_object("cert-manager.io", "v1", "clusterissuers", "nope")
    body = status_of(caught.value)
    assert body["details"] == {"name": "nope", "kind": "clusterissuers", "group": "cert-manager.io"}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret("no-such-ns", secret("s", ns="no-such-ns"))
    assert status_of(caught.value)["message"] == 'namespaces "no-such-ns" not found'


def test_bad_bodies_are_one_line_client_errors(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(NS, {"metadata": {}})
    assert caught.value.status == 422
    assert "name or generateName is required" in status_of(caught.value)["message"]
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(NS, secret("s", ns="other"))
    assert caught.value.status == 400 and "does not match the namespace" in status_of(caught.value)["message"]
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(NS, {"metadata": {"name": "Bad_Name"}})
    assert caught.value.status == 422 and "\n" not in status_of(caught.value)["message"]


# ---- updates: concurrency, generation, status subresource, patches -------------------------------


def test_stale_resource_version_is_409_conflict_for_put_and_patch(
    api_server: ApiServer, core: k8s.CoreV1Api
) -> None:
    current = core.create_namespaced_secret(NS, secret("s1"))
    stale_rv = current.metadata.resource_version
    current.data = {"k": base64.b64encode(b"fresh").decode()}
    updated = core.replace_namespaced_secret("s1", NS, current)
    assert int(updated.metadata.resource_version) > int(stale_rv)
    current.metadata.resource_version = stale_rv
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_secret("s1", NS, current)
    body = status_of(caught.value)
    assert body["reason"] == "Conflict" and body["code"] == 409
    assert body["message"].startswith('Operation cannot be fulfilled on secrets "s1": the object has been')
    stale_patch = {"metadata": {"resourceVersion": stale_rv}, "data": {"x": "eA=="}}
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_secret("s1", NS, stale_patch)
    assert caught.value.status == 409
    assert api_server.get("v1/secrets", NS, "s1")["data"] == {"k": base64.b64encode(b"fresh").decode()}


def test_custom_resource_put_needs_a_resource_version(
    crd: k8s.CustomObjectsApi, api_server: ApiServer
) -> None:
    api_server.put(custom(CERTIFICATES, "c1", {"secretName": "a"}))
    with pytest.raises(ApiException) as caught:
        crd.replace_namespaced_custom_object(
            "cert-manager.io", "v1", NS, "certificates", "c1", custom(CERTIFICATES, "c1", {"secretName": "b"})
        )
    assert caught.value.status == 422 and "resourceVersion" in status_of(caught.value)["message"]


def test_generation_moves_on_spec_changes_only(crd: k8s.CustomObjectsApi, api_server: ApiServer) -> None:
    args = ("cert-manager.io", "v1", NS, "certificates", "c1")
    api_server.put(custom(CERTIFICATES, "c1", {"secretName": "a"}))
    after_spec = crd.patch_namespaced_custom_object(*args, {"spec": {"secretName": "b"}})
    assert after_spec["metadata"]["generation"] == 2
    after_status = crd.patch_namespaced_custom_object_status(*args, {"status": {"revision": 3}})
    after_labels = crd.patch_namespaced_custom_object(*args, {"metadata": {"labels": {"x": "y"}}})
    assert after_status["metadata"]["generation"] == 2 and after_labels["metadata"]["generation"] == 2
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (after_spec, after_status, after_labels)]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


def test_status_subresource_and_main_endpoint_each_change_their_part(
    crd: k8s.CustomObjectsApi, api_server: ApiServer
) -> None:
    args = ("cert-manager.io", "v1", NS, "certificates", "c1")
    api_server.put(custom(CERTIFICATES, "c1", {"secretName": "a"}, status={"revision": 1}))
    via_status = crd.patch_namespaced_custom_object_status(
        *args, {"spec": {"secretName": "zzz"}, "status": {"revision": 2}}
    )
    assert via_status["spec"] == {"secretName": "a"} and via_status["status"] == {"revision": 2}
    via_main = crd.patch_namespaced_custom_object(
        *args, {"spec": {"secretName": "b"}, "status": {"revision": 9}}
    )
    assert via_main["spec"] == {"secretName": "b"} and via_main["status"] == {"revision": 2}
    whole = crd.get_namespaced_custom_object_status(*args)
    whole["status"] = {"revision": 5}
    whole["spec"] = {"secretName": "ignored"}
    replaced = crd.replace_namespaced_custom_object_status(*args, whole)
    assert replaced["status"] == {"revision": 5} and replaced["spec"] == {"secretName": "b"}


def test_secrets_have_no_status_subresource(api_server: ApiServer) -> None:
    api_server.put(secret("s1"))
    status, _, body = raw_get(api_server, f"/api/v1/namespaces/{NS}/secrets/s1/status")
    assert status == 404 and body["reason"] == "NotFound"


def test_patch_flavours_on_a_secret(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1", labels={"a": "1", "b": "2"}, data={"k": b"v", "gone": b"x"}))
    # A dict body goes out as a strategic merge patch: maps merge, null deletes.
    merged = core.patch_namespaced_secret(
        "s1", NS, {"metadata": {"labels": {"b": None, "c": "3"}}, "data": {"gone": None, "new": "bmV3"}}
    )
    assert merged.metadata.labels == {"a": "1", "c": "3"} and merged.data == {"k": "dg==", "new": "bmV3"}
    operations = [
        {"op": "replace", "path": "/data/k", "value": "dzI="},
        {"op": "add", "path": "/metadata/labels/d~1e", "value": "4"},
        {"op": "remove", "path": "/metadata/labels/a"},
    ]
    patched = core.patch_namespaced_secret("s1", NS, operations)
    assert patched.data["k"] == "dzI=" and patched.metadata.labels == {"c": "3", "d/e": "4"}
    merge = core.patch_namespaced_secret(
        "s1", NS, {"type": "Opaque", "data": {"new": None}}, _content_type="application/merge-patch+json"
    )
    assert set(merge.data) == {"k"}
    content_types = [r.headers.get("Content-Type") for r in api_server.emulator if r.method == "PATCH"]
    assert content_types == [
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
        "application/merge-patch+json",
    ]


def test_failed_json_patch_and_strategic_patch_on_custom_resource(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    api_server.put(secret("s1"))
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_secret("s1", NS, [{"op": "test", "path": "/data/k", "value": "other"}])
    assert caught.value.status == 422
    api_server.put(custom(CERTIFICATES, "c1"))
    with pytest.raises(ApiException) as caught:
        crd.patch_namespaced_custom_object(
            "cert-manager.io",
            "v1",
            NS,
            "certificates",
            "c1",
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert caught.value.status == 415 and status_of(caught.value)["reason"] == "UnsupportedMediaType"


def test_no_op_update_keeps_the_resource_version(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1"))
    before = api_server.resource_version
    same = core.patch_namespaced_secret("s1", NS, {"data": {"k": "dg=="}})
    assert same.metadata.resource_version == str(before) and api_server.resource_version == before


def test_dry_run_checks_everything_and_stores_nothing(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1"))
    before = api_server.resource_version
    created = core.create_namespaced_secret(NS, secret("s2"), dry_run="All")
    assert created.metadata.name == "s2" and created.metadata.uid
    patched = core.patch_namespaced_secret("s1", NS, {"data": {"k": "eA=="}}, dry_run="All")
    assert patched.data == {"k": "eA=="}
    core.delete_namespaced_secret("s1", NS, dry_run="All")
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(NS, secret("s1"), dry_run="All")
    assert caught.value.status == 409  # a dry run still reports what a real write would hit
    assert api_server.resource_version == before
    stored = api_server.objects("v1/secrets")
    assert [(s["metadata"]["name"], s["data"]) for s in stored] == [("s1", {"k": "dg=="})]


def test_secret_data_round_trips_base64(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    binary = bytes(range(256))
    body = secret("s1", data={"bin": binary, "pem": b"-----BEGIN CERTIFICATE-----\n"})
    body["stringData"] = {"plain": "héllo"}
    created = core.create_namespaced_secret(NS, body)
    assert base64.b64decode(created.data["bin"]) == binary
    assert base64.b64decode(created.data["plain"]).decode() == "héllo"
    raw = json.loads(core.read_namespaced_secret("s1", NS, _preload_content=False).data)
    assert "stringData" not in raw and raw["data"]["bin"] == base64.b64encode(binary).decode()
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(NS, {"metadata": {"name": "bad"}, "data": {"k": "not base64!"}})
    assert caught.value.status == 400 and "illegal base64" in status_of(caught.value)["message"]


# ---- delete --------------------------------------------------------------------------------------


def test_delete_answers_status_for_secrets_and_the_object_for_custom_resources(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    api_server.put(secret("s1"))
    api_server.put(custom(CERTIFICATES, "c1"))
    raw = json.loads(core.delete_namespaced_secret("s1", NS, _preload_content=False).data)
    assert (raw["kind"], raw["status"], raw["details"]["name"]) == ("Status", "Success", "s1")
    gone = crd.delete_namespaced_custom_object("cert-manager.io", "v1", NS, "certificates", "c1")
    assert gone["metadata"]["name"] == "c1" and gone["kind"] == "Certificate"
    assert api_server.objects("v1/secrets") == [] and api_server.objects(CERTIFICATES.key) == []


def test_finalizers_hold_deletion_until_removed(
    api_server: ApiServer, crd: k8s.CustomObjectsApi, api_clock: FrozenClock
) -> None:
    args = ("cert-manager.io", "v1", NS, "certificates", "c1")
    api_server.put(custom(CERTIFICATES, "c1", metadata={"finalizers": ["example.com/hold"]}))
    api_clock.advance(60)
    marked = crd.delete_namespaced_custom_object(*args)
    stamp = (API_EPOCH + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert marked["metadata"]["deletionTimestamp"] == stamp
    assert crd.get_namespaced_custom_object(*args)["metadata"]["deletionTimestamp"] == stamp
    crd.patch_namespaced_custom_object(*args, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as caught:
        crd.get_namespaced_custom_object(*args)
    assert caught.value.status == 404


def test_dependents_and_namespace_content_are_deleted_in_the_background(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi
) -> None:
    for owner_name, secret_name in (("sync", "owned"), ("sync2", "kept")):
        owner = api_server.put(custom(SECRET_SYNCS, owner_name))
        ref = {
            "apiVersion": SECRET_SYNCS.group_version,
            "kind": "SecretSync",
            "name": owner_name,
            "uid": owner["metadata"]["uid"],
        }
        body = secret(secret_name)
        body["metadata"]["ownerReferences"] = [ref]
        api_server.put(body)
    group, version = SECRET_SYNCS.group, SECRET_SYNCS.version
    crd.delete_namespaced_custom_object(
        group, version, NS, "secretsyncs", "sync2", body={"propagationPolicy": "Orphan"}
    )
    crd.delete_namespaced_custom_object(group, version, NS, "secretsyncs", "sync")
    assert names(api_server.objects("v1/secrets")) == ["kept"]
    api_server.put(secret("x", ns="scratch"))  # put creates the namespace, as a cluster would need
    assert api_server.get("v1/namespaces", None, "scratch") is not None
    core.delete_namespace("scratch")
    assert api_server.objects("v1/secrets", "scratch") == []
    assert api_server.get("v1/namespaces", None, "scratch") is None


def test_delete_preconditions_are_checked(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1"))
    options = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid="not-the-uid"))
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_secret("s1", NS, body=options)
    assert caught.value.status == 409 and "Precondition failed" in status_of(caught.value)["message"]
    assert api_server.get("v1/secrets", NS, "s1") is not None


# ---- selectors and pagination -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("a=x", ["s1"]),
        ("a==x", ["s1"]),
        ("a!=x", ["s2", "s3"]),
        ("a in (x,y)", ["s1", "s2"]),
        ("a notin (x)", ["s2", "s3"]),
        ("a", ["s1", "s2"]),
        ("!a", ["s3"]),
        ("a=x,tier=web", ["s1"]),
        ("a in (x, y),!tier", ["s2"]),
        ("", ["s1", "s2", "s3"]),
    ],
)
def test_label_selectors(
    api_server: ApiServer, core: k8s.CoreV1Api, selector: str, expected: list[str]
) -> None:
    api_server.put(secret("s1", labels={"a": "x", "tier": "web"}))
    api_server.put(secret("s2", labels={"a": "y"}))
    api_server.put(secret("s3"))
    assert names(core.list_namespaced_secret(NS, label_selector=selector).items) == expected


def test_field_selectors_across_namespaces(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1"))
    api_server.put(secret("s2", secret_type="kubernetes.io/tls"))
    api_server.put(secret("s1", ns="other"))
    everywhere = core.list_secret_for_all_namespaces
    by_name = everywhere(field_selector="metadata.name=s1").items
    assert [(s.metadata.namespace, s.metadata.name) for s in by_name] == [(NS, "s1"), ("other", "s1")]
    assert names(everywhere(field_selector="metadata.namespace=other").items) == ["s1"]
    assert names(everywhere(field_selector="metadata.name!=s1").items) == ["s2"]
    assert names(everywhere(field_selector="type=kubernetes.io/tls", label_selector="!a").items) == ["s2"]


@pytest.mark.parametrize(
    ("labels", "fields"), [("a in (x", None), ("=x", None), (None, "spec.foo=1"), ("a>b", None)]
)
def test_bad_selectors_are_400(
    api_server: ApiServer, core: k8s.CoreV1Api, labels: str | None, fields: str | None
) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(NS, label_selector=labels, field_selector=fields)
    assert caught.value.status == 400 and status_of(caught.value)["reason"] == "BadRequest"


def test_pagination_with_limit_and_continue(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    for i in range(5):
        api_server.put(secret(f"s{i}"))
    first = core.list_namespaced_secret(NS, limit=2)
    assert names(first.items) == ["s0", "s1"] and first.metadata.remaining_item_count == 3
    rest: list[str] = []
    token = first.metadata._continue
    while token:
        page = core.list_namespaced_secret(NS, limit=2, _continue=token)
        rest += names(page.items)
        token = page.metadata._continue
    assert rest == ["s2", "s3", "s4"]
    api_server.put(secret("late"))
    api_server.compact()
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(NS, limit=2, _continue=first.metadata._continue)
    assert caught.value.status == 410


# ---- watches -------------------------------------------------------------------------------------


def test_watch_streams_added_modified_deleted(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    api_server.put(secret("old"))
    w = open_watch(api_server, watches, "v1/secrets", core.list_namespaced_secret, NS)
    assert w.take(1) == [("ADDED", "old")]  # no resourceVersion: the current state comes first
    core.create_namespaced_secret(NS, secret("new"))
    core.patch_namespaced_secret("new", NS, {"metadata": {"labels": {"x": "1"}}})
    core.delete_namespaced_secret("new", NS)
    api_server.put(secret("other-ns", ns="elsewhere"))  # another namespace: not in this watch
    api_server.put(secret("last"))
    assert w.take(4) == [("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new"), ("ADDED", "last")]


def test_watch_on_all_namespaces_and_custom_resources(
    api_server: ApiServer, core: k8s.CoreV1Api, crd: k8s.CustomObjectsApi, watches: list[WatchThread]
) -> None:
    rv = str(api_server.resource_version)
    secrets = open_watch(
        api_server, watches, "v1/secrets", core.list_secret_for_all_namespaces, resource_version=rv
    )
    certs = open_watch(
        api_server,
        watches,
        CERTIFICATES.key,
        crd.list_cluster_custom_object,
        "cert-manager.io",
        "v1",
        "certificates",
        resource_version=rv,
    )
    api_server.put(secret("a", ns="one"))
    api_server.put(secret("b", ns="two"))
    api_server.put(custom(CERTIFICATES, "c1"))
    assert secrets.take(2) == [("ADDED", "a"), ("ADDED", "b")]
    assert certs.take(1) == [("ADDED", "c1")]


def test_watch_resumes_after_a_resource_version(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    api_server.put(secret("before"))
    listed = core.list_namespaced_secret(NS)
    api_server.put(secret("after-1"))
    api_server.put(secret("before", data={"k": b"changed"}))
    w = open_watch(
        api_server,
        watches,
        "v1/secrets",
        core.list_namespaced_secret,
        NS,
        resource_version=listed.metadata.resource_version,
    )
    assert w.take(2) == [("ADDED", "after-1"), ("MODIFIED", "before")]
    api_server.put(secret("after-2"))
    event = w.next()
    assert (event["type"], event["object"].metadata.name) == ("ADDED", "after-2")
    assert event["object"].metadata.resource_version == str(api_server.resource_version)


def test_resume_from_a_compacted_resource_version_is_410_gone(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    api_server.put(secret("a"))
    old_rv = str(api_server.resource_version)
    api_server.put(secret("b"))
    api_server.compact()
    # timeout_seconds makes the client raise instead of retrying once from scratch.
    w = WatchThread(core.list_namespaced_secret, NS, resource_version=old_rv, timeout_seconds=30).start()
    watches.append(w)
    assert w.ended.wait(TIMEOUT)
    assert isinstance(w.error, ApiException) and w.error.status == 410
    path = f"/api/v1/namespaces/{NS}/secrets?watch=true&resourceVersion={old_rv}"
    status, _, body = raw_get(api_server, path)
    assert status == 200 and body["type"] == "ERROR" and body["object"]["code"] == 410
    assert body["object"]["reason"] == "Expired"
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(NS, resource_version=old_rv)
    assert caught.value.status == 410
    current = str(api_server.resource_version)
    assert names(core.list_namespaced_secret(NS, resource_version=current).items) == ["a", "b"]


def test_watch_ends_after_timeout_seconds(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    started = time.monotonic()
    w = open_watch(api_server, watches, "v1/secrets", core.list_namespaced_secret, NS, timeout_seconds=1)
    assert w.ended.wait(TIMEOUT) and w.error is None
    assert 0.9 <= time.monotonic() - started < 3.0
    assert api_server.watch_counts().get("v1/secrets", 0) == 0


def test_bookmarks_are_sent_only_when_allowed(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    rv = str(api_server.resource_version)
    with_bookmarks = open_watch(
        api_server,
        watches,
        "v1/secrets",
        core.list_namespaced_secret,
        NS,
        resource_version=rv,
        allow_watch_bookmarks=True,
    )
    without = open_watch(
        api_server, watches, "v1/secrets", core.list_namespaced_secret, NS, resource_version=rv
    )
    api_server.put(secret("s1"))
    api_server.send_bookmarks()
    assert with_bookmarks.take(1) == [("ADDED", "s1")]
    bookmark = with_bookmarks.next()
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["raw_object"]["metadata"]["resourceVersion"] == str(api_server.resource_version)
    assert with_bookmarks.watch.resource_version == str(api_server.resource_version)
    api_server.put(secret("s2"))
    assert without.take(2) == [("ADDED", "s1"), ("ADDED", "s2")]


def test_watch_selectors_turn_label_changes_into_added_and_deleted(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    rv = str(api_server.resource_version)
    w = open_watch(
        api_server,
        watches,
        "v1/secrets",
        core.list_namespaced_secret,
        NS,
        resource_version=rv,
        label_selector="app=aio",
        field_selector="metadata.name!=ignored",
    )
    api_server.put(secret("s1", labels={"app": "aio"}))
    api_server.put(secret("ignored", labels={"app": "aio"}))
    api_server.put(secret("s1", labels={"app": "other"}))
    api_server.put(secret("s1", labels={"app": "other", "x": "y"}))  # still out: nothing to send
    api_server.put(secret("s1", labels={"app": "aio"}))
    api_server.put(secret("s1", labels={"app": "aio"}, data={"k": b"2"}))
    assert w.take(4) == [("ADDED", "s1"), ("DELETED", "s1"), ("ADDED", "s1"), ("MODIFIED", "s1")]


def test_put_from_the_test_thread_fills_metadata_and_emits_events(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    w = open_watch(
        api_server,
        watches,
        "v1/secrets",
        core.list_namespaced_secret,
        NS,
        resource_version=str(api_server.resource_version),
    )
    stored = api_server.put(secret("s1"))
    meta = stored["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] == EPOCH_TEXT
    assert meta["resourceVersion"] == str(api_server.resource_version)
    event = w.next()
    assert event["raw_object"] == stored
    assert api_server.delete("v1/secrets", NS, "s1") and w.take(1) == [("DELETED", "s1")]
    assert not api_server.delete("v1/secrets", NS, "s1")


def test_drop_watches_cuts_connections_abruptly(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    w = open_watch(
        api_server,
        watches,
        "v1/secrets",
        core.list_namespaced_secret,
        NS,
        resource_version=str(api_server.resource_version),
        timeout_seconds=60,
    )
    assert api_server.drop_watches() == 1
    assert w.ended.wait(TIMEOUT)
    assert isinstance(w.error, urllib3.exceptions.ProtocolError)


# ---- faults --------------------------------------------------------------------------------------


def test_forbid_answers_403_for_one_resource_and_verb_set(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1"))
    api_server.forbid("v1/secrets", verbs=("list", "watch"))
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(NS)
    body = status_of(caught.value)
    assert (body["code"], body["reason"]) == (403, "Forbidden")
    user = api_server.emulator.user
    assert body["message"] == (
        f'secrets is forbidden: User "{user}" cannot list resource "secrets" in API '
        f'group "" in the namespace "{NS}"'
    )
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(NS, watch=True, _preload_content=False)
    assert caught.value.status == 403
    assert core.read_namespaced_secret("s1", NS).metadata.name == "s1"  # other verbs still allowed
    assert core.list_namespaced_config_map(NS).items == []  # other resources unaffected
    api_server.reset_faults()
    assert names(core.list_namespaced_secret(NS).items) == ["s1"]


def test_uninstall_serves_the_resource_as_a_missing_crd(
    api_server: ApiServer, k8s_client: k8s.ApiClient, crd: k8s.CustomObjectsApi, watches: list[WatchThread]
) -> None:
    api_server.put(custom(BUNDLES, "bundle"))
    w = open_watch(
        api_server,
        watches,
        BUNDLES.key,
        crd.list_cluster_custom_object,
        BUNDLES.group,
        BUNDLES.version,
        "bundles",
        resource_version=str(api_server.resource_version),
        timeout_seconds=60,
    )
    api_server.uninstall(BUNDLES.key)
    assert w.ended.wait(TIMEOUT)  # its watch was closed
    with pytest.raises(ApiException) as caught:
        crd.list_cluster_custom_object(BUNDLES.group, BUNDLES.version, "bundles")
    assert caught.value.status == 404
    groups = {g.name for g in k8s.ApisApi(k8s_client).get_api_versions().groups}
    assert BUNDLES.group not in groups and CERTIFICATES.group in groups
    assert raw_get(api_server, f"/apis/{BUNDLES.group_version}")[0] == 404
    api_server.reset_faults()
    listed = crd.list_cluster_custom_object(BUNDLES.group, BUNDLES.version, "bundles")
    assert names(listed["items"]) == ["bundle"]


def test_kmock_reactions_still_take_precedence(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    api_server.put(secret("s1"))
    api_server.emulator[f"get /api/v1/namespaces/{NS}/secrets/s1"] << 503 << {"kind": "Status", "code": 503}
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_secret("s1", NS)
    assert caught.value.status == 503
    assert names(core.list_namespaced_secret(NS).items) == ["s1"]


# ---- speed ---------------------------------------------------------------------------------------


def test_seeding_and_listing_2000_secrets_is_fast(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    payload = {"tls.crt": b"x" * 1200, "tls.key": b"y" * 300}
    started = time.perf_counter()
    api_server.put_many(secret(f"s{i:04d}", data=payload) for i in range(2000))
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    raw = core.list_namespaced_secret(NS, _preload_content=False)
    items = json.loads(raw.data)["items"]
    listed = time.perf_counter() - started
    print(f"\nseed 2000 secrets: {seeded * 1000:.0f} ms; HTTP list of 2000: {listed * 1000:.0f} ms")
    assert len(items) == 2000 and seeded < 1.0 and listed < 1.0


def test_watch_events_arrive_within_milliseconds(
    api_server: ApiServer, core: k8s.CoreV1Api, watches: list[WatchThread]
) -> None:
    w = open_watch(
        api_server,
        watches,
        "v1/secrets",
        core.list_namespaced_secret,
        NS,
        resource_version=str(api_server.resource_version),
    )
    latencies = []
    for i in range(40):
        started = time.perf_counter()
        if i % 2:
            api_server.put(secret(f"s{i}"))
        else:
            core.create_namespaced_secret(NS, secret(f"s{i}"))
        arrived, event = w.events.get(timeout=TIMEOUT)
        assert event["raw_object"]["metadata"]["name"] == f"s{i}"
        latencies.append(arrived - started)
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    print(f"\nwrite-to-watch-event latency: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    assert p95 < 0.1


# ---- pure helpers --------------------------------------------------------------------------------


def test_merge_and_json_patch_follow_the_rfcs() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"b": None, "d": 3}, "l": [2]}) == {
        "a": {"c": 2, "d": 3},
        "l": [2],
    }
    doc = {"a": [1, 2], "b": {"c": 1}}
    operations = [
        {"op": "add", "path": "/a/1", "value": 9},
        {"op": "move", "from": "/b/c", "path": "/d"},
        {"op": "copy", "from": "/d", "path": "/e"},
    ]
    assert json_patch(doc, operations) == {"a": [1, 9, 2], "b": {}, "d": 1, "e": 1}
    assert doc == {"a": [1, 2], "b": {"c": 1}}  # the input is untouched
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/missing"}])


def test_label_selector_parser_and_human_durations() -> None:
    reqs = parse_label_selector("env in (prod, dev),!beta,tier")
    assert [(r.key, r.op, r.values) for r in reqs] == [
        ("env", "in", ("prod", "dev")),
        ("beta", "!exists", ()),
        ("tier", "exists", ()),
    ]
    assert [human_duration(s) for s in (0, 119, 300, 3 * 3600 + 60, 30 * 3600, 3 * 86400, 400 * 86400)] == [
        "0s",
        "119s",
        "5m",
        "3h1m",
        "30h",
        "3d",
        "400d",
    ]


def test_a_watcher_behind_the_retained_history_is_told_410() -> None:
    store = ObjectStore(ALL_KINDS, FrozenClock(API_EPOCH), history_limit=3)
    for i in range(5):
        store.put(secret(f"s{i}"))
    assert [c.obj["metadata"]["name"] for c in store.changes_after(store.resource_version - 3)] == [
        "s2",
        "s3",
        "s4",
    ]
    with pytest.raises(KubernetesError) as caught:
        store.changes_after(1)
    assert caught.value.status == 410


# ---- handle --------------------------------------------------------------------------------------


def test_kubeconfig_is_private_and_names_context_and_namespace(api_server: ApiServer, tmp_path: Path) -> None:
    path = api_server.write_kubeconfig(tmp_path / "nested" / "kubeconfig", context="site", namespace="ops")
    assert path.stat().st_mode & 0o777 == 0o600
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "site"
    assert doc["contexts"][0]["context"]["namespace"] == "ops"
    assert doc["clusters"][0]["cluster"]["server"] == api_server.url


def test_a_busy_port_is_a_one_line_error(api_server: ApiServer) -> None:
    port = int(api_server.url.rsplit(":", 1)[1])
    with pytest.raises(ApiServerError) as caught:
        start_api_server(port=port)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "\n" not in message
    with pytest.raises(KeyError, match="not a served kind"):
        api_server.put({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
