"""ARM listings read from the pages' JSON (``tui/arm/listing.py``) against the demo's ARM emulator.

Over HTTPS through the real ``SecretsStoreExtensionMgmtClient`` pipeline: the resources equal what the
SDK's own listing gives (both kinds, both api-versions, several pages), one request per page (the SDK is
not asked again behind the scenes), and an error answer (a refused api-version, a 403, a 429) raised and
worded as the SDK's listing raises it, from that one answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tui.arm.client import ApiVersionMemory, api_versions, make_mgmt_client
from tui.arm.errors import ArmError
from tui.arm.resources import ArmResources, to_resource
from tui.core.model.arm import CLI_API_VERSION, ArmKind
from tui.core.model.snapshot import AreaState
from tui.demo.arm.emulator import ArmEmulator, start_arm_emulator
from tui.demo.arm.site import DEMO_ARM_SITE
from tui.vault.credentials import DemoCredential

IDS = DEMO_ARM_SITE.ids
TIMEOUT = 10.0
PAGE = 2
SYNCS = 5  # three pages of two
SPCS = 3
CLIENT = "0d4e3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"


def _mapping(index: int) -> dict[str, str]:
    return {"sourcePath": f"cert-{index:03d}-der", "targetKey": f"cert-{index:03d}.der"}


@pytest.fixture
def arm(tmp_path: Path) -> Iterator[ArmEmulator]:
    """An emulator paging two at a time, holding SecretSyncs with many mappings and a few SPCs."""
    emulator = start_arm_emulator(ca_dir=tmp_path, page_size=PAGE)
    try:
        for n in range(SYNCS):
            emulator.put_resource(
                ArmKind.SECRET_SYNC,
                f"list-{n}",
                {
                    "secretProviderClassName": "spc-0",
                    "serviceAccountName": "aio-ssc-sa",
                    "kubernetesSecretType": "Opaque",
                    "objectSecretMapping": [_mapping(i) for i in range(n * 40, n * 40 + 40)],
                },
            )
        for n in range(SPCS):
            emulator.put_resource(
                ArmKind.SPC,
                f"spc-{n}",
                {
                    "keyvaultName": "kv-aio",
                    "clientId": CLIENT,
                    "tenantId": DEMO_ARM_SITE.tenant,
                    "objects": "",
                },
            )
        assert emulator.wait_idle(TIMEOUT)
        emulator.clear_requests()
        yield emulator
    finally:
        emulator.stop()


def _no_sdk_listing(*args: Any, **kwargs: Any) -> Any:
    """A real client whose operations' own listing fails: only the pages' JSON can be read."""
    client = make_mgmt_client(*args, **kwargs)

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("listed through the SDK's models")

    client.secret_syncs.list_by_resource_group = refused  # type: ignore[method-assign]
    client.azure_key_vault_secret_provider_classes.list_by_resource_group = refused  # type: ignore[method-assign]
    return client


def _resources(
    arm: ArmEmulator,
    memory: ApiVersionMemory | None = None,
    *,
    sdk_listing: bool = True,
    retry_total: int | None = 0,
) -> ArmResources:
    return ArmResources(
        IDS,
        endpoint=arm.endpoint,
        credential=DemoCredential(),
        ca_bundle=str(arm.ca_pem_path),
        timeout=TIMEOUT,
        retry_total=retry_total,
        memory=memory or ApiVersionMemory(),
        client_factory=make_mgmt_client if sdk_listing else _no_sdk_listing,
    )


def _through_sdk(arm: ArmEmulator, kind: ArmKind, version: str) -> list[Any]:
    client = make_mgmt_client(
        arm.endpoint,
        IDS.subscription,
        credential=DemoCredential(),
        api_version=version,
        ca_bundle=str(arm.ca_pem_path),
        retry_total=0,
    )
    operations = (
        client.secret_syncs if kind is ArmKind.SECRET_SYNC else client.azure_key_vault_secret_provider_classes
    )
    try:
        return [
            to_resource(kind, item.as_dict())
            for item in operations.list_by_resource_group(IDS.resource_group)
        ]
    finally:
        client.close()


@pytest.mark.parametrize("version", api_versions())
@pytest.mark.parametrize(("kind", "count"), [(ArmKind.SECRET_SYNC, SYNCS), (ArmKind.SPC, SPCS)])
def test_the_listing_equals_the_sdks_page_by_page(
    arm: ArmEmulator, kind: ArmKind, count: int, version: str
) -> None:
    memory = ApiVersionMemory()
    memory.remember(arm.endpoint, version)
    listed = _resources(arm, memory, sdk_listing=False).list(kind)
    requests = arm.requests()
    expected = _through_sdk(arm, kind, version)
    assert len(listed) == count
    assert [(r.name, r.resource_id, r.etag, dict(r.body)) for r in listed] == [
        (r.name, r.resource_id, r.etag, dict(r.body)) for r in expected
    ]
    if kind is ArmKind.SECRET_SYNC:
        assert [len(r.mappings) for r in listed] == [40] * SYNCS
    # One request per page, each with the api-version asked for.
    pages = -(-count // PAGE)
    assert [(r.status, r.query.get("api-version")) for r in requests] == [(200, version)] * pages


def test_a_refused_api_version_is_raised_as_the_sdk_does_and_the_other_one_used(arm: ArmEmulator) -> None:
    memory = ApiVersionMemory()
    memory.remember(arm.endpoint, "2019-01-01")  # a dated version the provider does not serve
    listed = _resources(arm, memory).list(ArmKind.SPC)
    assert sorted(r.name for r in listed) == [f"spc-{n}" for n in range(SPCS)]
    sent = [(r.status, r.query.get("api-version")) for r in arm.requests()]
    # The refusal raised as the SDK raises it, from the one answer; then the CLI's version, two pages.
    assert sent == [(400, "2019-01-01"), (200, CLI_API_VERSION), (200, CLI_API_VERSION)]
    assert memory.first(arm.endpoint) == CLI_API_VERSION


def test_a_403_is_raised_and_worded_as_the_sdks_listing_words_it(arm: ArmEmulator) -> None:
    arm.deny("read")
    with pytest.raises(ArmError) as caught:
        _resources(arm).list(ArmKind.SECRET_SYNC)
    assert caught.value.state is AreaState.FORBIDDEN
    assert "403 AuthorizationFailed" in str(caught.value) and "\n" not in str(caught.value)
    assert [r.status for r in arm.requests()] == [403]  # asked once: not again through the SDK


def test_throttling_is_worded_as_before_and_asked_once(arm: ArmEmulator) -> None:
    arm.throttle(1, retry_after=1)
    with pytest.raises(ArmError) as caught:
        _resources(arm).list(ArmKind.SECRET_SYNC)  # retry_total=0: the pipeline does not ask again
    assert str(caught.value).startswith("listing Microsoft.SecretSyncController/secretSyncs"), caught.value
    assert "ARM is throttling requests (429" in str(caught.value)
    assert [r.status for r in arm.requests()] == [429]


def _bounded_list(resources: ArmResources, kind: ArmKind) -> ArmError | list[Any]:
    """``resources.list(kind)`` on a worker thread: its listing or its ArmError; fails the test if it is
    still waiting after 20 s (past the 10 s deadline, short of a 30 s Retry-After honoured in full). The
    join only detects the wait; nothing asserts on speed."""
    outcome: list[ArmError | list[Any]] = []

    def call() -> None:
        try:
            outcome.append(list(resources.list(kind)))
        except ArmError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        pytest.fail("the listing waited for ARM's Retry-After")
    return outcome[0]


def test_a_retry_after_past_the_deadline_ends_the_listing_as_throttled(arm: ArmEmulator) -> None:
    # azure-core sleeps whatever Retry-After says; ARM may ask for far more than --request-timeout.
    # 30 s: within the minute a call without a deadline would wait, past this one's 10 s.
    arm.throttle(1, retry_after=30)
    outcome = _bounded_list(_resources(arm, retry_total=None), ArmKind.SECRET_SYNC)
    assert isinstance(outcome, ArmError), outcome
    assert "ARM is throttling requests (429" in str(outcome)
    assert [r.status for r in arm.requests()] == [429]  # not asked again before the hour


def test_a_retry_after_within_the_deadline_is_waited_for_and_the_listing_completes(arm: ArmEmulator) -> None:
    arm.throttle(1, retry_after=0.05)
    outcome = _bounded_list(_resources(arm, retry_total=None), ArmKind.SPC)
    assert not isinstance(outcome, ArmError), outcome
    assert sorted(r.name for r in outcome) == [f"spc-{n}" for n in range(SPCS)]
    assert [r.status for r in arm.requests()][:2] == [429, 200]
