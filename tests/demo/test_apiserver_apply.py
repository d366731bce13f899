"""The emulated API server's field ownership, server-side apply, Secret size limit and latency injection,
through the real ``kubernetes`` client (docs/domain.md §1.2).

What the secret sync controller's writes rely on: keys someone else added survive its apply, a key it
owns that someone else changed makes its next apply a 409 Conflict, and a Secret over 1 MiB of data is
refused with the real message unless the limit is lifted for benchmarks.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.conftest import API_NAMESPACE
from tui.core.clock import FrozenClock
from tui.demo.apiserver.objects import MAX_SECRET_BYTES
from tui.demo.apiserver.server import ApiServer, start_api_server

NS = API_NAMESPACE
APPLY = "application/apply-patch+yaml"
SYNC_MANAGER = "v1-secrets-store-sync-controller"
TOO_LONG = "data: Too long: must have at most 1048576 bytes"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _config(name: str, data: dict[str, bytes], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """What the sync controller applies: the Secret's identity, its label and the mapped keys."""
    meta: dict[str, Any] = {"name": name, "namespace": NS}
    if labels is not None:
        meta["labels"] = labels
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "data": {k: _b64(v) for k, v in data.items()},
    }


def _apply(core: k8s.CoreV1Api, body: dict[str, Any], manager: str = SYNC_MANAGER, **extra: Any) -> Any:
    return core.patch_namespaced_secret(
        body["metadata"]["name"], NS, body, field_manager=manager, _content_type=APPLY, **extra
    )


def _status(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def _managers(api_server: ApiServer, name: str) -> dict[str, dict[str, Any]]:
    stored = api_server.get("v1/secrets", NS, name)
    assert stored is not None
    return {m["manager"]: m for m in stored["metadata"].get("managedFields") or []}


@pytest.fixture
def core(k8s_client: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s_client)


# ---- server-side apply ---------------------------------------------------------------------------


def test_apply_creates_the_secret_and_records_its_manager(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    response = core.patch_namespaced_secret(
        "trust",
        NS,
        _config("trust", {"plc.der": b"\x30\x01"}),
        field_manager=SYNC_MANAGER,
        _content_type=APPLY,
        _preload_content=False,
    )
    assert response.status == 201  # created by the apply, as a real server answers
    entry = _managers(api_server, "trust")[SYNC_MANAGER]
    assert entry["operation"] == "Apply" and entry["apiVersion"] == "v1"
    assert entry["fieldsV1"]["f:data"] == {"f:plc.der": {}}
    again = _apply(core, _config("trust", {"plc.der": b"\x30\x01"}))
    # The same apply again changes nothing: no new resourceVersion.
    assert (
        again.metadata.resource_version
        == api_server.get("v1/secrets", NS, "trust")["metadata"]["resourceVersion"]
    )


def test_a_key_added_by_someone_else_survives_the_owner_s_apply(
    api_server: ApiServer, core: k8s.CoreV1Api
) -> None:
    _apply(core, _config("trust", {"plc.der": b"A"}))
    # What the AIO docs do to add a CRL to the trust list: kubectl patch (its own field manager).
    core.patch_namespaced_secret(
        "trust", NS, {"data": {"ca.crl": _b64(b"CRL")}}, field_manager="kubectl-patch"
    )
    result = _apply(core, _config("trust", {"plc.der": b"A", "gw.der": b"G"}))
    assert set(result.data) == {"plc.der", "gw.der", "ca.crl"}
    managers = _managers(api_server, "trust")
    assert managers["kubectl-patch"]["fieldsV1"]["f:data"] == {"f:ca.crl": {}}
    assert set(managers[SYNC_MANAGER]["fieldsV1"]["f:data"]) == {"f:plc.der", "f:gw.der"}
    # A key the owner applied before and leaves out now is removed; the hand-added one stays.
    result = _apply(core, _config("trust", {"gw.der": b"G"}))
    assert set(result.data) == {"gw.der", "ca.crl"}


def test_changing_an_owned_key_makes_the_owner_s_next_apply_conflict(
    api_server: ApiServer, core: k8s.CoreV1Api
) -> None:
    _apply(core, _config("trust", {"plc.der": b"A"}))
    core.patch_namespaced_secret(
        "trust", NS, {"data": {"plc.der": _b64(b"EDITED")}}, field_manager="kubectl-edit"
    )
    with pytest.raises(ApiException) as caught:
        _apply(core, _config("trust", {"plc.der": b"A"}))
    assert caught.value.status == 409
    status = _status(caught.value)
    assert status["reason"] == "Conflict"
    assert (
        status["message"]
        == 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.plc.der'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-edit" using v1',
            "field": ".data.plc.der",
        }
    ]
    stored = api_server.get("v1/secrets", NS, "trust")
    assert stored is not None and stored["data"]["plc.der"] == _b64(b"EDITED")  # nothing written
    # Applying the value that is already there is no conflict (both then own it); force takes it back.
    _apply(core, _config("trust", {"plc.der": b"EDITED"}))
    forced = _apply(core, _config("trust", {"plc.der": b"A"}), force=True)
    assert forced.data["plc.der"] == _b64(b"A")
    assert "kubectl-edit" not in _managers(api_server, "trust")


def test_apply_options_are_checked_as_upstream(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        core.patch_namespaced_secret("trust", NS, _config("trust", {"a": b"1"}), _content_type=APPLY)
    assert missing.value.status == 422
    assert _status(missing.value)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )
    _apply(core, _config("trust", {"a": b"1"}))
    with pytest.raises(ApiException) as forced:
        core.patch_namespaced_secret("trust", NS, {"data": {"b": _b64(b"2")}}, force=True)
    assert forced.value.status == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in _status(forced.value)["message"]


# ---- the 1 MiB limit -----------------------------------------------------------------------------


def _big(name: str, size: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS},
        "data": {"a.der": _b64(b"x" * (size // 2)), "b.der": _b64(b"y" * (size - size // 2))},
    }


def _assert_too_long(exc: ApiException, name: str) -> None:
    assert exc.status == 422
    status = _status(exc)
    assert status["reason"] == "Invalid"
    assert status["message"] == f'Secret "{name}" is invalid: {TOO_LONG}'
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueTooLong",
            "message": "Too long: must have at most 1048576 bytes",
            "field": "data",
        }
    ]


def test_a_secret_of_exactly_one_mib_is_stored(api_server: ApiServer, core: k8s.CoreV1Api) -> None:
    core.create_namespaced_secret(NS, _big("edge", MAX_SECRET_BYTES))
    stored = api_server.get("v1/secrets", NS, "edge")
    assert stored is not None
    assert sum(len(base64.b64decode(v)) for v in stored["data"].values()) == 1024 * 1024


def test_a_secret_over_one_mib_is_refused_with_the_real_message(
    api_server: ApiServer, core: k8s.CoreV1Api
) -> None:
    over = MAX_SECRET_BYTES + 1  # the limit counts decoded bytes summed over every key
    with pytest.raises(ApiException) as created:
        core.create_namespaced_secret(NS, _big("big", over))
    _assert_too_long(created.value, "big")
    assert api_server.get("v1/secrets", NS, "big") is None
    core.create_namespaced_secret(NS, _big("big", 10))
    with pytest.raises(ApiException) as replaced:
        core.replace_namespaced_secret("big", NS, _big("big", over))
    _assert_too_long(replaced.value, "big")
    with pytest.raises(ApiException) as patched:
        core.patch_namespaced_secret("big", NS, {"data": {"c.der": _b64(b"z" * MAX_SECRET_BYTES)}})
    _assert_too_long(patched.value, "big")
    with pytest.raises(ApiException) as applied:
        _apply(core, _big("big", over), force=True)  # without force the creator's keys would conflict first
    _assert_too_long(applied.value, "big")
    stored = api_server.get("v1/secrets", NS, "big")
    assert stored is not None and set(stored["data"]) == {"a.der", "b.der"}
    assert len(base64.b64decode(stored["data"]["a.der"])) == 5  # unchanged by every refused write


@pytest.fixture
def unlimited(api_clock: FrozenClock) -> Iterator[ApiServer]:
    server = start_api_server(clock=api_clock, max_secret_bytes=None)
    server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    try:
        yield server
    finally:
        server.stop()


def test_lifting_the_limit_stores_a_two_mib_secret(unlimited: ApiServer) -> None:
    """What ``--allow-oversized-secrets`` does for the ``--scale 2000`` benchmarks (no real cluster)."""
    api = k8s.ApiClient(k8s.Configuration(host=unlimited.url))
    try:
        created = k8s.CoreV1Api(api).create_namespaced_secret(NS, _big("big", 2 * 1024 * 1024))
    finally:
        api.close()
    assert created.metadata.name == "big"
    stored = unlimited.get("v1/secrets", NS, "big")
    assert stored is not None and len(base64.b64decode(stored["data"]["a.der"])) == 1024 * 1024


# ---- latency -------------------------------------------------------------------------------------


def test_latency_is_added_to_every_answer_but_the_exempt_agents(api_clock: FrozenClock) -> None:
    waits: list[tuple[float, str]] = []
    server = start_api_server(clock=api_clock, latency=0.2, latency_exempt=("in-cluster",))
    server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})

    async def record(seconds: float) -> None:
        waits.append((seconds, "waited"))  # no real wait: the test asserts what was asked, not time

    server.emulator.sleep = record
    far = k8s.ApiClient(k8s.Configuration(host=server.url))
    near = k8s.ApiClient(k8s.Configuration(host=server.url))
    near.user_agent = "in-cluster/1.0"
    try:
        core = k8s.CoreV1Api(far)
        k8s.CoreApi(far).get_api_versions()  # discovery
        core.create_namespaced_secret(NS, _big("s", 10))
        core.list_namespaced_secret(NS)
        core.read_namespaced_secret("s", NS)
        stream = core.list_namespaced_secret(NS, watch=True, timeout_seconds=1, _preload_content=False)
        first = json.loads(stream.readline())  # the watch's first event comes after the delay too
        stream.release_conn()
        assert first["type"] == "ADDED"
        assert waits == [(0.2, "waited")] * 5
        k8s.CoreV1Api(near).list_namespaced_secret(NS)
        assert len(waits) == 5  # the demo's own controllers sit next to the API server
    finally:
        far.close()
        near.close()
        server.stop()


def test_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="latency"):
        start_api_server(latency=-1.0)


# ---- a CRD the cluster does not have -------------------------------------------------------------


def test_a_kind_not_installed_from_the_start_stays_so_after_a_reset(api_clock: FrozenClock) -> None:
    """The demo's trust-manager predates ClusterBundle: its cluster has no such CRD, faults reset or not."""
    key = "trust-manager.io/v1alpha2/clusterbundles"
    server = start_api_server(clock=api_clock, not_installed=frozenset({key}))
    api = k8s.ApiClient(k8s.Configuration(host=server.url))
    try:
        custom = k8s.CustomObjectsApi(api)
        for _ in range(2):
            with pytest.raises(ApiException) as missing:
                custom.list_cluster_custom_object("trust-manager.io", "v1alpha2", "clusterbundles")
            assert missing.value.status == 404
            groups = {g.name for g in k8s.ApisApi(api).get_api_versions().groups}
            assert "trust-manager.io" not in groups and "trust.cert-manager.io" in groups
            server.reset_faults()
        assert server.objects(key) == []  # the store still knows the kind (tests snapshot every kind)
    finally:
        api.close()
        server.stop()
