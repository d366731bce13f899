"""The simulated secret sync controller: failures and recovery, spec changes, forceSynchronization, polling,
server-side apply, and the API server's size limit (SSC v0.0.4, docs/domain.md §5.3 to §5.5).

Changes are made the way a user or the product makes them: through the ``kubernetes`` client against the
emulated API server and through the vault emulator; the controller reads the vault with SecretClient.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.spc import add_objects, cli_object
from tui.demo.controllers.secretsync import FIELD_MANAGER, MESSAGES, POLL_INTERVAL, retry_delay
from tui.demo.environment import DemoEnvironment

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NS = "azure-iot-operations"
TRUST = "aio-opc-ua-broker-trust-list"
ISSUER = "aio-opc-ua-broker-issuer-list"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def demo(clock: FrozenClock) -> Iterator[DemoEnvironment]:
    with DemoEnvironment(clock=clock, run_controllers=False) as env:
        yield env


def _sync(env: DemoEnvironment, name: str = TRUST) -> dict[str, Any]:
    obj = env.kube.get(rk.SECRET_SYNCS, NS, name)
    assert obj is not None
    return obj


def _conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"].get("conditions") or []}


def _secret_data(env: DemoEnvironment, name: str = TRUST) -> dict[str, bytes]:
    secret = env.kube.get(rk.SECRETS, NS, name)
    assert secret is not None
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def _add_mapping(env: DemoEnvironment, secret_name: str, target_key: str) -> None:
    spc = env.kube.get(rk.SECRET_PROVIDER_CLASSES, NS, "opc-ua-connector")
    assert spc is not None
    params = spc["spec"]["parameters"]
    params["objects"] = add_objects(params["objects"], [cli_object(secret_name)])
    env.kube.replace(rk.SECRET_PROVIDER_CLASSES, spc)
    sync = _sync(env)
    sync["spec"]["secretObject"]["data"].append({"sourcePath": secret_name, "targetKey": target_key})
    env.kube.replace(rk.SECRET_SYNCS, sync)


def test_missing_vault_secret_fails_the_edited_list_then_recovers(
    demo: DemoEnvironment, clock: FrozenClock
) -> None:
    before = _secret_data(demo)
    _add_mapping(demo, "plc-new-line3-der", "plc-new-line3.der")
    demo.secret_sync.reconcile_once()
    # The SPC change alone would wait for the poll; the SecretSync edit syncs at once. The issuer list's
    # SecretSync did not change: it sees the new SPC object only at the poll.
    sync = _sync(demo)
    assert _conditions(sync)["Update"] == ("False", "ProviderError")
    message = next(c["message"] for c in sync["status"]["conditions"] if c["type"] == "Update")
    assert message == MESSAGES["ProviderError"]  # fixed per reason: the error is in the log, as upstream
    assert _conditions(_sync(demo, ISSUER)) == {"Create": ("True", "CreateSucceeded")}  # not run
    assert _secret_data(demo) == before  # the last good data stays
    first_sync_time = _sync(demo)["status"]["lastSuccessfulSyncTime"]

    clock.advance(retry_delay(1))  # controller-runtime's backoff: 5 ms, then 10 ms, ...
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo))["Update"] == ("False", "ProviderError")
    device = b"\x30\x82" + bytes(range(40))  # any bytes: the controller syncs files, it does not parse them
    demo.vault.put_secret(
        "plc-new-line3-der", device.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    clock.advance(retry_delay(2) - timedelta(milliseconds=1))
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo))["Update"] == ("False", "ProviderError")  # not due yet
    clock.advance(timedelta(seconds=1))  # past the retry, and a whole second on (the time's resolution)
    demo.secret_sync.reconcile_once()
    recovered = _sync(demo)
    # Upstream sets the success reason on Update and then removes the failed condition's type, Update:
    # after a recovery only Create is left until the next poll.
    assert _conditions(recovered) == {"Create": ("True", "CreateSucceeded")}
    assert recovered["status"]["lastSuccessfulSyncTime"] != first_sync_time
    assert _secret_data(demo) == {**before, "plc-new-line3.der": device}
    clock.advance(POLL_INTERVAL)
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo))["Update"] == ("True", "UpdateNoValueChangeSucceeded")


def test_missing_spc_gives_controller_spc_error(demo: DemoEnvironment) -> None:
    sync = _sync(demo, ISSUER)
    sync["spec"]["secretProviderClassName"] = "spc-that-is-not-there"
    demo.kube.replace(rk.SECRET_SYNCS, sync)
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo, ISSUER))["Update"] == ("False", "ControllerSPCError")
    assert _conditions(_sync(demo, TRUST))["Create"] == ("True", "CreateSucceeded")  # untouched


def test_foreign_secret_of_the_same_name_is_not_overwritten(demo: DemoEnvironment) -> None:
    demo.kube.create(
        rk.SECRETS,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "hand-made", "namespace": NS},
            "data": {},
        },
    )
    sync = _sync(demo, ISSUER)
    clone = {
        "apiVersion": sync["apiVersion"],
        "kind": "SecretSync",
        "metadata": {"name": "hand-made", "namespace": NS},
        "spec": sync["spec"],
    }
    demo.kube.create(rk.SECRET_SYNCS, clone)
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo, "hand-made"))["Create"] == ("False", "InvalidClusterSecretLabelError")
    assert _secret_data(demo, "hand-made") == {}


def test_vault_change_arrives_at_the_poll_interval(demo: DemoEnvironment, clock: FrozenClock) -> None:
    changed = b"new PLC certificate bytes"
    demo.vault.put_secret(
        "plc-paint-shop-der", changed.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    clock.advance(POLL_INTERVAL - timedelta(seconds=1))
    demo.secret_sync.reconcile_once()
    assert _secret_data(demo)["plc-paint-shop.der"] != changed
    clock.advance(timedelta(seconds=1))
    demo.secret_sync.reconcile_once()
    assert _secret_data(demo)["plc-paint-shop.der"] == changed
    sync = _sync(demo)
    assert _conditions(sync)["Update"] == ("True", "UpdateValueChangeOrForceUpdateSucceeded")
    assert sync["status"]["lastSuccessfulSyncTime"] == "2026-03-01T12:02:00Z"
    # Another poll with nothing new: the no-change reason, the sync time stays.
    clock.advance(POLL_INTERVAL)
    demo.secret_sync.reconcile_once()
    again = _sync(demo)
    assert _conditions(again)["Update"] == ("True", "UpdateNoValueChangeSucceeded")
    assert again["status"]["lastSuccessfulSyncTime"] == "2026-03-01T12:02:00Z"


def test_force_synchronization_resyncs_within_seconds_in_the_running_loop(clock: FrozenClock) -> None:
    with DemoEnvironment(clock=clock, run_controllers=True) as env:
        before = _sync(env)["status"]["syncHash"]
        changed = b"rotated historian certificate"
        env.vault.put_secret(
            "historian-main-der", changed.hex(), "application/pkix-cert", {"file-encoding": "hex"}
        )
        sync = _sync(env)
        sync["spec"]["forceSynchronization"] = "2026-03-01T12-00-05"
        began = time.monotonic()
        env.kube.replace(rk.SECRET_SYNCS, sync)
        deadline = began + 5.0
        while time.monotonic() < deadline:  # nothing to await across processes: poll the API
            if _sync(env)["status"]["syncHash"] != before:
                break
            time.sleep(0.05)
        latency = time.monotonic() - began
        assert _sync(env)["status"]["syncHash"] != before, "forceSynchronization was not acted on within 5 s"
        assert latency < 5.0
        assert _secret_data(env)["historian-main.der"] == changed
        assert _conditions(_sync(env))["Update"] == ("True", "UpdateValueChangeOrForceUpdateSucceeded")


def test_refused_secret_write_is_unknown_error_then_retried(
    demo: DemoEnvironment, clock: FrozenClock
) -> None:
    changed = b"new gateway certificate"
    demo.vault.put_secret(
        "gateway-north-der", changed.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    demo.api.forbid("v1/secrets", verbs=("create", "update", "patch"))
    clock.advance(POLL_INTERVAL)
    before = _sync(demo)["status"]
    demo.secret_sync.reconcile_once()
    failed = _sync(demo)
    # A failed patch removes Create and Update and sets UnknownError, status Unknown, on Update; the hash
    # and lastSuccessfulSyncTime roll back.
    assert _conditions(failed) == {"Update": ("Unknown", "UnknownError")}
    assert failed["status"]["syncHash"] == before["syncHash"]
    assert failed["status"]["lastSuccessfulSyncTime"] == before["lastSuccessfulSyncTime"]
    assert _secret_data(demo)["gateway-north.der"] != changed
    demo.api.reset_faults()
    clock.advance(retry_delay(1))
    demo.secret_sync.reconcile_once()
    recovered = _sync(demo)
    assert _conditions(recovered) == {}  # Update removed as the failed condition; Create went at the failure
    assert recovered["status"]["syncHash"] != before["syncHash"]
    assert _secret_data(demo)["gateway-north.der"] == changed


def _force(env: DemoEnvironment, value: str, name: str = TRUST) -> None:
    sync = _sync(env, name)
    sync["spec"]["forceSynchronization"] = value
    env.kube.replace(rk.SECRET_SYNCS, sync)


def test_an_spc_only_change_waits_for_the_poll(demo: DemoEnvironment, clock: FrozenClock) -> None:
    assert demo.secret_sync.watched == (rk.SECRET_SYNCS,)  # no watch on SecretProviderClasses
    before = _sync(demo)["status"]
    clock.advance(timedelta(seconds=30))
    demo.vault.put_secret("spare-der", b"spare".hex(), "application/pkix-cert", {"file-encoding": "hex"})
    spc = demo.kube.get(rk.SECRET_PROVIDER_CLASSES, NS, "opc-ua-connector")
    assert spc is not None
    spc["spec"]["parameters"]["objects"] = add_objects(
        spc["spec"]["parameters"]["objects"], [cli_object("spare-der")]
    )
    demo.kube.replace(rk.SECRET_PROVIDER_CLASSES, spc)
    demo.secret_sync.reconcile_once()
    assert _sync(demo)["status"]["syncHash"] == before["syncHash"]  # nothing yet
    poll = demo.secret_sync.next_poll
    assert poll is not None and poll - clock.now() <= POLL_INTERVAL  # at most 120 s away
    clock.set(poll - timedelta(milliseconds=1))
    demo.secret_sync.reconcile_once()
    assert _sync(demo)["status"]["syncHash"] == before["syncHash"]
    clock.set(poll)
    demo.secret_sync.reconcile_once()
    after = _sync(demo)["status"]
    # The SPC's generation is part of the hash: the poll finds it changed and records a change.
    assert after["syncHash"] != before["syncHash"]
    assert after["lastSuccessfulSyncTime"] == poll.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _conditions(_sync(demo))["Update"] == ("True", "UpdateValueChangeOrForceUpdateSucceeded")


def test_force_synchronization_syncs_at_once(demo: DemoEnvironment, clock: FrozenClock) -> None:
    changed = b"rotated historian certificate"
    demo.vault.put_secret(
        "historian-main-der", changed.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    clock.advance(timedelta(seconds=5))  # far from the poll
    _force(demo, "2026-03-01T12-00-05")
    demo.secret_sync.reconcile_once()
    assert _secret_data(demo)["historian-main.der"] == changed
    assert _sync(demo)["status"]["lastSuccessfulSyncTime"] == "2026-03-01T12:00:05Z"


def test_nothing_is_written_while_the_hash_is_unchanged(demo: DemoEnvironment, clock: FrozenClock) -> None:
    secret = demo.kube.get(rk.SECRETS, NS, TRUST)
    assert secret is not None
    writes = demo.secret_sync.secret_writes
    # Someone edits a key the controller owns: with nothing new to sync, the poll does not repair it.
    demo.kube.core.patch_namespaced_secret(
        TRUST,
        NS,
        {"data": {"plc-paint-shop.der": base64.b64encode(b"edited").decode()}},
        field_manager="kubectl-edit",
    )
    clock.advance(POLL_INTERVAL)
    demo.secret_sync.reconcile_once()
    assert demo.secret_sync.secret_writes == writes
    assert _secret_data(demo)["plc-paint-shop.der"] == b"edited"
    assert _sync(demo)["status"]["lastSuccessfulSyncTime"] == "2026-03-01T12:00:00Z"  # the first sync's


def test_a_hand_added_crl_survives_a_forced_sync(demo: DemoEnvironment, clock: FrozenClock) -> None:
    """The AIO docs add a CRL to the trust list with ``kubectl patch secret aio-opc-ua-broker-trust-list``."""
    crl = b"0\x82 a CRL's DER bytes"
    demo.kube.core.patch_namespaced_secret(
        TRUST, NS, {"data": {"plant-ca.crl": base64.b64encode(crl).decode()}}, field_manager="kubectl-patch"
    )
    mapped = set(_secret_data(demo)) - {"plant-ca.crl"}
    changed = b"new gateway certificate"
    demo.vault.put_secret(
        "gateway-north-der", changed.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    _force(demo, "crl-survives")
    demo.secret_sync.reconcile_once()
    data = _secret_data(demo)
    assert data["plant-ca.crl"] == crl
    assert data["gateway-north.der"] == changed
    assert set(data) == mapped | {"plant-ca.crl"}
    assert _conditions(_sync(demo))["Update"] == ("True", "UpdateValueChangeOrForceUpdateSucceeded")
    secret = demo.kube.get(rk.SECRETS, NS, TRUST)
    assert secret is not None
    owners = {m["manager"]: m["fieldsV1"].get("f:data", {}) for m in secret["metadata"]["managedFields"]}
    assert set(owners["kubectl-patch"]) == {"f:plant-ca.crl"}
    assert "f:plant-ca.crl" not in owners[FIELD_MANAGER]


def test_editing_an_owned_key_makes_the_next_sync_an_unknown_error(
    demo: DemoEnvironment, clock: FrozenClock
) -> None:
    before = _sync(demo)["status"]
    demo.kube.core.patch_namespaced_secret(
        TRUST,
        NS,
        {"data": {"plc-paint-shop.der": base64.b64encode(b"edited").decode()}},
        field_manager="kubectl-edit",
    )
    clock.advance(timedelta(seconds=3))
    _force(demo, "after-the-edit")
    demo.secret_sync.reconcile_once()
    failed = _sync(demo)
    # The apply without force conflicts with kubectl-edit's field: upstream's failed-patch report.
    assert _conditions(failed) == {"Update": ("Unknown", "UnknownError")}
    message = next(c["message"] for c in failed["status"]["conditions"])
    assert message == MESSAGES["UnknownError"]
    assert failed["status"]["syncHash"] == before["syncHash"]
    assert failed["status"]["lastSuccessfulSyncTime"] == before["lastSuccessfulSyncTime"]
    assert _secret_data(demo)["plc-paint-shop.der"] == b"edited"
    # Retried with backoff, and refused again while the edit stands.
    clock.advance(retry_delay(1))
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo)) == {"Update": ("Unknown", "UnknownError")}
    assert _secret_data(demo)["plc-paint-shop.der"] == b"edited"


def test_retry_delay_is_controller_runtime_s_backoff() -> None:
    assert retry_delay(1) == timedelta(milliseconds=5)
    assert retry_delay(2) == timedelta(milliseconds=10)
    assert retry_delay(11) == timedelta(milliseconds=5 * 1024)
    assert retry_delay(40) == timedelta(seconds=1000)


def test_a_trust_list_over_one_mib_cannot_be_synced(clock: FrozenClock) -> None:
    """About 1,400 entries of the demo's size pass the API server's 1 MiB limit on a Secret's data: the
    first sync's apply is refused and reported as upstream reports a failed patch."""
    with DemoEnvironment(clock=clock, run_controllers=False, scale=1500) as env:
        status = _sync(env)["status"]
        assert _conditions(_sync(env)) == {"Create": ("Unknown", "UnknownError")}
        assert not status.get("syncHash") and not status.get("lastSuccessfulSyncTime")
        assert env.kube.get(rk.SECRETS, NS, TRUST) is None
        assert _conditions(_sync(env, ISSUER)) == {"Create": ("True", "CreateSucceeded")}  # small: fine


def test_the_demo_options_reach_the_api_server(clock: FrozenClock) -> None:
    with DemoEnvironment(
        clock=clock,
        run_controllers=False,
        allow_oversized_secrets=True,
        api_latency=timedelta(milliseconds=250),
    ) as env:
        assert env.api.emulator.max_secret_bytes is None
        assert env.api.emulator.store.max_secret_bytes is None
        assert env.api.emulator.latency == 0.25
        # The controllers sit beside the API server: the latency stands for a far operator only.
        assert env.kube.api_client.user_agent.startswith(env.api.emulator.latency_exempt)
    with DemoEnvironment(clock=clock, run_controllers=False) as env:
        assert env.api.emulator.store.max_secret_bytes == 1024 * 1024
        assert env.api.emulator.latency == 0.0
        assert env.api.emulator.not_installed == {rk.CLUSTER_BUNDLES.key}  # trust-manager without it


def test_a_retry_that_finds_the_hash_unchanged_leaves_upstream_s_unknown_placeholder(
    demo: DemoEnvironment, clock: FrozenClock
) -> None:
    """A vault outage at a poll, then the same values again: v0.0.4 removes the failed Update without
    setting a success reason, keeps its in-memory Unknown condition, and moves lastSuccessfulSyncTime
    although the hash did not change (SSC v0.0.4 ``Reconcile``; docs/domain.md §5.3)."""
    before = _sync(demo)["status"]
    demo.vault.deny("get")
    clock.advance(POLL_INTERVAL)
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo)) == {
        "Create": ("True", "CreateSucceeded"),
        "Update": ("False", "ProviderError"),
    }
    demo.vault.deny()
    clock.advance(timedelta(seconds=1))  # past the first retry (5 ms)
    demo.secret_sync.reconcile_once()
    after = _sync(demo)["status"]
    assert _conditions(_sync(demo)) == {
        "Create": ("True", "CreateSucceeded"),
        "Unknown": ("Unknown", "Unknown"),
    }
    assert after["syncHash"] == before["syncHash"]
    assert after["lastSuccessfulSyncTime"] == "2026-03-01T12:02:01Z" != before["lastSuccessfulSyncTime"]
