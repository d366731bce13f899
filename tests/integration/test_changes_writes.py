"""Guarded cluster writes through the real kubernetes client against the emulated API server.

Every write carries the resourceVersion it was planned against; a stale one must be refused with 409
and leave the object exactly as it was. Renew must look like ``cmctl renew`` on the wire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client as k8s

from tui.cluster.writes import ClusterWriter, ConflictError, ForbiddenError, WriteError
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.demo.apiserver.server import ApiServer

NS = "azure-iot-operations"


def _spc(objects: str | None = "array: []\n") -> dict[str, Any]:
    params: dict[str, Any] = {"keyvaultName": "kv", "tenantID": "t"}
    if objects is not None:
        params["objects"] = objects
    return {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "opc-ua-connector", "namespace": NS},
        "spec": {"provider": "azure", "parameters": params},
    }


def _sync(mappings: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "apiVersion": "secret-sync.x-k8s.io/v1alpha1",
        "kind": "SecretSync",
        "metadata": {"name": "aio-opc-ua-broker-trust-list", "namespace": NS},
        "spec": {
            "secretProviderClassName": "opc-ua-connector",
            "serviceAccountName": "aio-ssc-sa",
            "secretObject": {
                "type": "Opaque",
                "data": [{"sourcePath": s, "targetKey": t} for s, t in mappings],
            },
        },
    }


@pytest.fixture
def writer(k8s_client: k8s.ApiClient) -> ClusterWriter:
    return ClusterWriter(k8s_client, timeout=(2.0, 5.0))


def test_spc_objects_patch_needs_the_current_resource_version(
    api_server: ApiServer, writer: ClusterWriter
) -> None:
    stored = api_server.put(_spc("array: []\n"))
    rv = stored["metadata"]["resourceVersion"]
    patched = writer.patch_spc_objects(NS, "opc-ua-connector", "array:\n- a\n", resource_version=rv)
    assert patched["spec"]["parameters"]["objects"] == "array:\n- a\n"
    assert patched["spec"]["parameters"]["keyvaultName"] == "kv"  # a merge patch leaves the rest alone

    before = api_server.get(rk.SECRET_PROVIDER_CLASSES.key, NS, "opc-ua-connector")
    with pytest.raises(ConflictError) as info:
        writer.patch_spc_objects(NS, "opc-ua-connector", "array:\n- b\n", resource_version=rv)
    assert info.value.status == 409
    assert "SecretProviderClass azure-iot-operations/opc-ua-connector" in str(info.value)
    assert api_server.get(rk.SECRET_PROVIDER_CLASSES.key, NS, "opc-ua-connector") == before


def test_spc_objects_none_drops_the_property(api_server: ApiServer, writer: ClusterWriter) -> None:
    rv = api_server.put(_spc("array:\n- x\n"))["metadata"]["resourceVersion"]
    patched = writer.patch_spc_objects(NS, "opc-ua-connector", None, resource_version=rv)
    assert "objects" not in patched["spec"]["parameters"]
    assert patched["spec"]["parameters"]["keyvaultName"] == "kv"


def test_secret_sync_create_update_delete_with_preconditions(
    api_server: ApiServer, writer: ClusterWriter
) -> None:
    created = writer.create_secret_sync(
        NS,
        "aio-opc-ua-broker-trust-list",
        spc_name="opc-ua-connector",
        service_account="aio-ssc-sa",
        mappings=[("a-der", "a.der")],
    )
    assert created["spec"]["secretObject"] == {
        "type": "Opaque",
        "data": [{"sourcePath": "a-der", "targetKey": "a.der"}],
    }
    with pytest.raises(ConflictError):  # someone else created it meanwhile: 409 AlreadyExists
        writer.create_secret_sync(
            NS, "aio-opc-ua-broker-trust-list", spc_name="x", service_account="y", mappings=[("b", "b.der")]
        )

    rv = created["metadata"]["resourceVersion"]
    updated = writer.update_secret_sync_mappings(
        NS, "aio-opc-ua-broker-trust-list", [("a-der", "a.der"), ("b-crt", "b.crt")], resource_version=rv
    )
    assert [d["targetKey"] for d in updated["spec"]["secretObject"]["data"]] == ["a.der", "b.crt"]
    assert updated["spec"]["serviceAccountName"] == "aio-ssc-sa"
    with pytest.raises(ConflictError):
        writer.update_secret_sync_mappings(
            NS, "aio-opc-ua-broker-trust-list", [("c", "c.der")], resource_version=rv
        )
    with pytest.raises(WriteError, match="empty mapping is not allowed"):
        writer.update_secret_sync_mappings(
            NS, "aio-opc-ua-broker-trust-list", [], resource_version=updated["metadata"]["resourceVersion"]
        )

    with pytest.raises(ConflictError, match="409"):
        writer.delete_secret_sync(NS, "aio-opc-ua-broker-trust-list", resource_version=rv)
    assert api_server.get(rk.SECRET_SYNCS.key, NS, "aio-opc-ua-broker-trust-list") is not None
    assert (
        writer.delete_secret_sync(
            NS,
            "aio-opc-ua-broker-trust-list",
            resource_version=updated["metadata"]["resourceVersion"],
            uid=updated["metadata"]["uid"],
        )
        is True
    )
    assert api_server.get(rk.SECRET_SYNCS.key, NS, "aio-opc-ua-broker-trust-list") is None
    assert writer.delete_secret_sync(NS, "aio-opc-ua-broker-trust-list") is False


def test_force_synchronization_sets_the_token(api_server: ApiServer, writer: ClusterWriter) -> None:
    api_server.put(_sync([("a-der", "a.der")]))
    result = writer.force_synchronization(NS, "aio-opc-ua-broker-trust-list", "aio-certs-1")
    assert result["spec"]["forceSynchronization"] == "aio-certs-1"
    assert result["spec"]["secretObject"]["data"] == [{"sourcePath": "a-der", "targetKey": "a.der"}]


def test_get_reads_core_and_custom_kinds_and_none_when_absent(
    api_server: ApiServer, writer: ClusterWriter
) -> None:
    api_server.put(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": NS},
            "data": {"k": "dg=="},
        }
    )
    assert writer.get(rk.SECRETS, NS, "s")["data"] == {"k": "dg=="}
    assert writer.get(rk.SECRETS, NS, "missing") is None
    assert writer.get(rk.SECRET_SYNCS, NS, "missing") is None


def test_forbidden_and_unreachable_are_one_line_errors(api_server: ApiServer, writer: ClusterWriter) -> None:
    rv = api_server.put(_spc())["metadata"]["resourceVersion"]
    api_server.forbid(rk.SECRET_PROVIDER_CLASSES.key, verbs=("patch",))
    with pytest.raises(ForbiddenError) as info:
        writer.patch_spc_objects(NS, "opc-ua-connector", None, resource_version=rv)
    assert str(info.value).startswith(
        "updating SecretProviderClass azure-iot-operations/opc-ua-connector: forbidden (403)"
    )
    assert "\n" not in str(info.value)
    api_server.stop()
    with pytest.raises(WriteError) as gone:
        writer.force_synchronization(NS, "aio-opc-ua-broker-trust-list", "x")
    assert gone.value.unreachable
    assert "connection refused" in str(gone.value)


def _certificate() -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "root", "namespace": "cert-manager", "generation": 4},
        "spec": {
            "secretName": "root-secret",
            "isCA": True,
            "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer"},
        },
        "status": {
            "revision": 2,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Ready",
                    "message": "ok",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ],
        },
    }


def test_renew_sets_issuing_manually_triggered_through_status(
    api_server: ApiServer, writer: ClusterWriter, api_clock: FrozenClock
) -> None:
    stored = api_server.put(_certificate())
    renewed = writer.renew_certificate("cert-manager", "root", now=api_clock.now())
    issuing = next(c for c in renewed["status"]["conditions"] if c["type"] == "Issuing")
    assert issuing == {
        "type": "Issuing",
        "status": "True",
        "reason": "ManuallyTriggered",
        "message": "Certificate re-issuance manually triggered",
        "lastTransitionTime": api_clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observedGeneration": stored["metadata"]["generation"],
    }
    assert any(c["type"] == "Ready" for c in renewed["status"]["conditions"])  # the rest kept
    assert renewed["spec"] == stored["spec"]
    assert renewed["metadata"]["generation"] == stored["metadata"]["generation"]  # status only

    # Renewing again while Issuing is already True keeps its transition time, as cert-manager does.
    first_time = issuing["lastTransitionTime"]
    api_clock.advance(timedelta(minutes=5))
    again = writer.renew_certificate("cert-manager", "root", now=api_clock.now())
    issuing_again = next(c for c in again["status"]["conditions"] if c["type"] == "Issuing")
    assert issuing_again["lastTransitionTime"] == first_time


def test_renew_of_a_missing_certificate_says_so(
    api_server: ApiServer, writer: ClusterWriter, api_clock: FrozenClock
) -> None:
    with pytest.raises(WriteError, match=r"renewing Certificate cert-manager/nope: not found"):
        writer.renew_certificate("cert-manager", "nope", now=api_clock.now())
