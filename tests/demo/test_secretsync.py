"""The simulated secret sync controller: failures and recovery, spec changes, forceSynchronization, polling.

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
from tui.demo.controllers.secretsync import POLL_INTERVAL, RETRY_INTERVAL
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


def test_missing_vault_secret_fails_both_lists_then_recovers(
    demo: DemoEnvironment, clock: FrozenClock
) -> None:
    before = _secret_data(demo)
    _add_mapping(demo, "plc-new-line3-der", "plc-new-line3.der")
    demo.secret_sync.reconcile_once()
    for name in (TRUST, ISSUER):  # the provider mounts every SPC object, so both syncs fail
        sync = _sync(demo, name)
        assert _conditions(sync)["Update"] == ("False", "ProviderError")
        message = next(c["message"] for c in sync["status"]["conditions"] if c["type"] == "Update")
        assert "plc-new-line3-der" in message
    assert _secret_data(demo) == before  # the last good data stays
    first_sync_time = _sync(demo)["status"]["lastSuccessfulSyncTime"]

    device = b"\x30\x82" + bytes(range(40))  # any bytes: the controller syncs files, it does not parse them
    demo.vault.put_secret(
        "plc-new-line3-der", device.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    clock.advance(RETRY_INTERVAL - timedelta(seconds=1))
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo))["Update"] == ("False", "ProviderError")
    clock.advance(timedelta(seconds=1))
    demo.secret_sync.reconcile_once()
    recovered = _sync(demo)
    assert _conditions(recovered) == {
        "Create": ("True", "CreateSucceeded"),
        "Update": ("True", "UpdateValueChangeOrForceUpdateSucceeded"),
    }
    assert recovered["status"]["lastSuccessfulSyncTime"] != first_sync_time
    assert _secret_data(demo) == {**before, "plc-new-line3.der": device}
    assert _conditions(_sync(demo, ISSUER))["Update"][0] == "True"


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
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo))["Update"] == ("Unknown", "UnknownError")
    assert _secret_data(demo)["gateway-north.der"] != changed
    demo.api.reset_faults()
    clock.advance(RETRY_INTERVAL)
    demo.secret_sync.reconcile_once()
    assert _conditions(_sync(demo))["Update"] == ("True", "UpdateValueChangeOrForceUpdateSucceeded")
    assert _secret_data(demo)["gateway-north.der"] == changed
