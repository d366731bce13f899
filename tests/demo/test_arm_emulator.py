"""The demo ARM emulator driven by the real ``SecretsStoreExtensionMgmtClient`` over verified HTTPS, and the
Arc projection that applies its changes to the emulated cluster.

Protocol tests run each SDK call with both api-versions in use (the official CLI's and the SDK's default)
against a standalone emulator, whose operations then complete at once unless held. Projection tests use a
whole ``DemoEnvironment``: there an operation ends only once the cluster has the change, so a finished
poller is the signal to look. Deadlines (``HANG``) only detect hangs; nothing asserts on elapsed time.
"""

from __future__ import annotations

import copy
import http.client
import json
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.mgmt.secretsstoreextension import SecretsStoreExtensionMgmtClient
from azure.mgmt.secretsstoreextension._configuration import SecretsStoreExtensionMgmtClientConfiguration

from tests import armcli
from tui.commands.demo.arguments import add_arguments
from tui.commands.demo.run import parse_options
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.arm import (
    ARC_CONFIG_MAP,
    ARC_CONFIG_NAMESPACE,
    CLI_API_VERSION,
    PROVIDER_NAME_LABEL,
    RESOURCE_ID_ANNOTATION,
    ArmKind,
    Owner,
    owner_of,
)
from tui.core.model.names import ISSUER_LIST_SYNC, OPCUA_SPC, TRUST_LIST_SYNC
from tui.core.model.spc import cli_object, serialize_objects
from tui.demo.arm.emulator import ArmEmulator, start_arm_emulator
from tui.demo.arm.shapes import (
    CUSTOM_LOCATION_ANNOTATION,
    DYNAMIC_ANNOTATIONS,
    LOCATION_ANNOTATION,
    OPERATION_ID_ANNOTATION,
    PROVIDER_NAME,
    secret_sync_properties,
    spc_properties,
)
from tui.demo.arm.store import SDK_API_VERSION
from tui.demo.environment import DemoEnvironment

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
HANG = 60.0
"""Hang detector for waits on the emulator: generous, never a measurement."""
NS = "azure-iot-operations"
TENANT = "0b7a3c57-5d3c-4a6e-9d7e-3f1c2b4a5d6e"
CLIENT_ID = "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
VERSIONS = [pytest.param(CLI_API_VERSION, id="cli-api"), pytest.param(None, id="sdk-default")]


class Token:
    """Any bearer: the emulator accepts a non-empty one, as the demo's vault does."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def arm() -> Iterator[ArmEmulator]:
    with start_arm_emulator(clock=FrozenClock(T0)) as emulator:
        yield emulator


def client_for(arm: ArmEmulator, api_version: str | None, **options: Any) -> SecretsStoreExtensionMgmtClient:
    if api_version is not None:
        options["api_version"] = api_version
    return SecretsStoreExtensionMgmtClient(
        options.pop("credential", Token()),
        options.pop("subscription", arm.site.subscription),
        base_url=arm.endpoint,
        connection_verify=str(arm.ca_pem_path),
        **options,
    )


@pytest.fixture(params=VERSIONS)
def client(request: pytest.FixtureRequest, arm: ArmEmulator) -> Iterator[SecretsStoreExtensionMgmtClient]:
    with client_for(arm, request.param) as sdk:
        yield sdk


def _placed(arm: ArmEmulator, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "location": arm.site.location,
        "extendedLocation": {"name": arm.site.custom_location_id, "type": "CustomLocation"},
        "properties": properties,
        **extra,
    }


def spc_body(arm: ArmEmulator, objects: str | None = None) -> dict[str, Any]:
    props = spc_properties(keyvault_name="kv-one", tenant_id=TENANT, client_id=CLIENT_ID, objects=objects)
    return _placed(arm, props)


def sync_body(arm: ArmEmulator, *mappings: tuple[str, str]) -> dict[str, Any]:
    return _placed(arm, secret_sync_properties(OPCUA_SPC, list(mappings or [("alpha-der", "alpha.der")])))


def _with_etag(pipeline_response: Any, deserialized: Any, headers: Any) -> tuple[dict[str, Any], str]:
    return dict(deserialized.as_dict()), pipeline_response.http_response.headers["ETag"]


def _http_error(call: Any) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


def _rg(arm: ArmEmulator) -> str:
    return arm.site.resource_group


# -- the api-versions ---------------------------------------------------------------------------------


def test_the_emulator_knows_the_installed_sdks_default_api_version() -> None:
    # Read from the installed package, so an SDK upgrade that moves the default fails here first.
    config = SecretsStoreExtensionMgmtClientConfiguration(credential=Token(), subscription_id="s")
    assert config.api_version == SDK_API_VERSION
    assert CLI_API_VERSION != SDK_API_VERSION


@pytest.mark.parametrize(
    ("version", "code"),
    [("2023-01-01-preview", "NoRegisteredProviderFound"), ("not-a-version", "InvalidApiVersionParameter")],
)
def test_other_api_versions_are_refused_with_arms_envelope(arm: ArmEmulator, version: str, code: str) -> None:
    with client_for(arm, version) as sdk:
        error = _http_error(lambda: sdk.secret_syncs.get(_rg(arm), "anything"))
    assert error.status_code == 400
    assert error.error is not None and error.error.code == code
    assert CLI_API_VERSION in str(error.message) and SDK_API_VERSION in str(error.message)


# -- resource operations ------------------------------------------------------------------------------


def test_put_get_patch_list_delete_round_trip(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    created = client.secret_syncs.begin_create_or_update(
        rg, "sync-one", sync_body(arm, ("alpha-der", "alpha.der"))
    )
    result = created.result(timeout=HANG)
    assert result.properties is not None and result.properties.provisioning_state == "Succeeded"
    assert result.id == arm.site.resource_id(ArmKind.SECRET_SYNC, "sync-one")
    assert result.extended_location is not None
    assert result.extended_location.name == arm.site.custom_location_id
    first_etag = result["etag"]

    fetched, etag = client.secret_syncs.get(rg, "sync-one", cls=_with_etag)
    assert etag == first_etag == fetched["etag"]
    assert fetched["properties"]["objectSecretMapping"] == [
        {"sourcePath": "alpha-der", "targetKey": "alpha.der"}
    ]
    assert fetched["systemData"]["createdBy"] and fetched["systemData"]["lastModifiedAt"]

    patch = {"properties": {"objectSecretMapping": [{"sourcePath": "beta-der", "targetKey": "beta.der"}]}}
    patched = client.secret_syncs.begin_update(rg, "sync-one", patch).result(timeout=HANG)
    assert patched.properties is not None
    assert [m.target_key for m in patched.properties.object_secret_mapping] == ["beta.der"]
    assert patched.properties.secret_provider_class_name == OPCUA_SPC  # untouched by the PATCH
    assert patched["etag"] != first_etag

    client.secret_syncs.begin_create_or_update(rg, "sync-two", sync_body(arm)).result(timeout=HANG)
    assert [s.name for s in client.secret_syncs.list_by_resource_group(rg)] == ["sync-one", "sync-two"]
    assert [s.name for s in client.secret_syncs.list_by_subscription()] == ["sync-one", "sync-two"]
    assert list(client.azure_key_vault_secret_provider_classes.list_by_resource_group(rg)) == []

    client.secret_syncs.begin_delete(rg, "sync-one").result(timeout=HANG)
    with pytest.raises(ResourceNotFoundError):
        client.secret_syncs.get(rg, "sync-one")
    # Deleting what is not there is no error (ARM's 204).
    client.secret_syncs.begin_delete(rg, "sync-one").result(timeout=HANG)

    log = [(r.method, r.status) for r in arm.requests()]
    assert ("PUT", 201) in log and ("PATCH", 202) in log and ("DELETE", 202) in log and ("DELETE", 204) in log
    polled = [r for r in arm.requests() if "/operationStatuses/" in r.path]
    assert polled and all(r.authorized and r.status == 200 for r in polled)


def test_a_replacing_put_answers_200_and_every_write_gets_a_new_etag(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    etags = set()
    for objects in (None, "array: []", "array: []"):
        result = client.azure_key_vault_secret_provider_classes.begin_create_or_update(
            rg, OPCUA_SPC, spc_body(arm, objects)
        ).result(timeout=HANG)
        etags.add(result["etag"])
    assert len(etags) == 3  # a rewrite of the same content is still a write
    assert all(e.startswith('"') and e.endswith('"') and not e.startswith("W/") for e in etags)
    puts = [r.status for r in arm.requests() if r.method == "PUT"]
    assert puts == [201, 200, 200]


def test_the_spc_cloud_name_exists_only_from_the_sdk_api_version(arm: ArmEmulator) -> None:
    rg = _rg(arm)
    body = spc_body(arm)
    body["properties"]["cloudName"] = "AzurePublicCloud"
    with client_for(arm, CLI_API_VERSION) as old, client_for(arm, None) as new:
        refused = _http_error(
            lambda: old.azure_key_vault_secret_provider_classes.begin_create_or_update(rg, "spc-x", body)
        )
        assert refused.status_code == 400 and "cloudName" in str(refused.message)
        new.azure_key_vault_secret_provider_classes.begin_create_or_update(rg, "spc-x", body).result(
            timeout=HANG
        )
        seen_old = old.azure_key_vault_secret_provider_classes.get(rg, "spc-x").as_dict()
        assert "cloudName" not in seen_old["properties"]
        # The older client PUTs back what it saw: ARM keeps the field that client does not know.
        old.azure_key_vault_secret_provider_classes.begin_create_or_update(rg, "spc-x", seen_old).result(
            timeout=HANG
        )
        again = new.azure_key_vault_secret_provider_classes.get(rg, "spc-x").as_dict()
    assert again["properties"]["cloudName"] == "AzurePublicCloud"


def test_list_pages_are_followed_by_the_sdk() -> None:
    with start_arm_emulator(clock=FrozenClock(T0), page_size=2) as arm, client_for(arm, None) as sdk:
        for index in range(5):
            arm.put_resource(
                ArmKind.SECRET_SYNC, f"sync-{index}", secret_sync_properties(OPCUA_SPC, [("alpha", "alpha")])
            )
        names = [s.name for s in sdk.secret_syncs.list_by_resource_group(arm.site.resource_group)]
        pages = [r for r in arm.requests() if r.path.endswith("/secretSyncs")]
    assert names == [f"sync-{i}" for i in range(5)]
    assert len(pages) == 3 and all(p.query["api-version"] == SDK_API_VERSION for p in pages)


# -- long-running operations --------------------------------------------------------------------------


def test_an_operation_goes_in_progress_then_succeeded_and_the_poller_follows(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    arm.hold_operations()
    poller = client.secret_syncs.begin_create_or_update(rg, "held", sync_body(arm))
    (operation,) = arm.operations()
    assert operation.status == "InProgress" and not poller.done()
    during = arm.resource(ArmKind.SECRET_SYNC, "held")
    assert during is not None and during["properties"]["provisioningState"] == "Accepted"
    # A second writer is refused while the operation runs.
    busy = _http_error(lambda: client.secret_syncs.begin_update(rg, "held", {"tags": {"k": "v"}}))
    assert busy.status_code == 409 and busy.error is not None
    assert busy.error.code == "AnotherOperationInProgress"
    arm.release_operations()
    result = poller.result(timeout=HANG)
    assert result.properties is not None and result.properties.provisioning_state == "Succeeded"
    ended = arm.wait_operation(operation.id, HANG)
    assert ended is not None and ended.status == "Succeeded" and ended.end_time is not None


def test_the_sdk_polls_at_the_emulators_retry_after_not_its_own_interval() -> None:
    # No waiting in the status request: every poll sees InProgress and the SDK must sleep between polls.
    # Its own interval is set to an hour, so seeing two more polls means it slept the emulator's 1 s.
    with start_arm_emulator(clock=FrozenClock(T0), retry_after=1, status_hold=0.0) as arm:
        arm.hold_operations()
        with client_for(arm, None) as sdk:
            poller = sdk.secret_syncs.begin_create_or_update(
                arm.site.resource_group, "slow", sync_body(arm), polling_interval=3600
            )
            seen = threading.Event()

            def count_polls() -> None:
                while not seen.is_set():
                    polls = [r for r in arm.requests() if "/operationStatuses/" in r.path]
                    if len(polls) >= 3:
                        seen.set()
                    time.sleep(0.02)

            watcher = threading.Thread(target=count_polls, daemon=True)
            watcher.start()
            assert seen.wait(HANG), "the SDK did not poll again within the hang deadline"
            arm.release_operations()
            poller.result(timeout=HANG)
            seen.set()
    statuses = [r for r in arm.requests() if "/operationStatuses/" in r.path]
    assert all(r.query["api-version"] == SDK_API_VERSION for r in statuses)


def test_a_failed_operation_fails_the_poller_and_puts_the_resource_back(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm, ("alpha-der", "alpha.der"))).result(
        timeout=HANG
    )
    arm.fail_operations(1, code="ProvisioningFailed", message="the cluster refused it")
    poller = client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm, ("beta-der", "beta.der")))
    with pytest.raises(HttpResponseError):
        poller.result(timeout=HANG)
    after = client.secret_syncs.get(rg, "s").as_dict()
    assert after["properties"]["provisioningState"] == "Failed"
    assert after["properties"]["objectSecretMapping"] == [
        {"sourcePath": "alpha-der", "targetKey": "alpha.der"}
    ]
    # A failed resource can be written again.
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm, ("gamma-der", "gamma.der"))).result(
        timeout=HANG
    )


def test_patch_and_delete_also_give_a_location_that_answers_202_then_the_result(arm: ArmEmulator) -> None:
    rg = _rg(arm)
    arm.put_resource(ArmKind.SPC, OPCUA_SPC, spc_body(arm)["properties"])
    arm.hold_operations()
    with client_for(arm, None) as sdk:
        poller = sdk.azure_key_vault_secret_provider_classes.begin_delete(rg, OPCUA_SPC)
        delete = next(r for r in arm.requests() if r.method == "DELETE")
        assert delete.status == 202
        (_, deleting) = arm.operations()
        results = f"{_provider(arm)}/locations/{arm.site.location}/operationResults/{deleting.id}"
        status, _ = _raw(arm, "GET", results)
        assert status == 202
        arm.release_operations()
        poller.result(timeout=HANG)
        status, _ = _raw(arm, "GET", results)
    assert status == 204
    assert arm.resource(ArmKind.SPC, OPCUA_SPC) is None


# -- ETags and preconditions --------------------------------------------------------------------------


def test_if_match_on_a_stale_etag_is_412_and_on_the_current_one_succeeds(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm)).result(timeout=HANG)
    mine, etag = client.secret_syncs.get(rg, "s", cls=_with_etag)
    # Someone else writes in between (the official CLI sends no If-Match).
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm, ("xray-der", "xray.der"))).result(
        timeout=HANG
    )
    stale = _http_error(
        lambda: client.secret_syncs.begin_create_or_update(rg, "s", mine, headers={"If-Match": etag})
    )
    assert stale.status_code == 412 and stale.error is not None and stale.error.code == "PreconditionFailed"
    assert (
        client.secret_syncs.get(rg, "s").as_dict()["properties"]["objectSecretMapping"][0]["targetKey"]
        == "xray.der"
    )
    _, current = client.secret_syncs.get(rg, "s", cls=_with_etag)
    client.secret_syncs.begin_create_or_update(rg, "s", mine, headers={"If-Match": current}).result(
        timeout=HANG
    )
    deleted = _http_error(lambda: client.secret_syncs.begin_delete(rg, "s", headers={"If-Match": current}))
    assert deleted.status_code == 412  # the PUT just made gave it a new ETag
    sent = [r.if_match for r in arm.requests() if r.method in ("PUT", "DELETE") and r.if_match]
    assert sent == [etag, current, current]


def test_if_none_match_star_creates_only(arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient) -> None:
    rg = _rg(arm)
    only_new = {"If-None-Match": "*"}
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm), headers=only_new).result(timeout=HANG)
    exists = _http_error(
        lambda: client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm), headers=only_new)
    )
    assert exists.status_code == 412
    missing = _http_error(
        lambda: client.secret_syncs.begin_create_or_update(
            rg, "other", sync_body(arm), headers={"If-Match": "*"}
        )
    )
    assert missing.status_code == 412


# -- what a client may send back ----------------------------------------------------------------------


def test_a_put_of_what_a_get_returned_is_accepted_read_only_fields_and_all(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm)).result(timeout=HANG)
    row = armcli.graph_row(client.secret_syncs.get(rg, "s").as_dict(), arm.site.subscription, rg)
    row["properties"]["objectSecretMapping"].append({"sourcePath": "beta-der", "targetKey": "beta.der"})
    sent: list[dict[str, Any]] = []
    result = client.secret_syncs.begin_create_or_update(
        rg, "s", row, raw_request_hook=lambda request: sent.append(json.loads(request.http_request.body))
    ).result(timeout=HANG)
    assert {"id", "name", "type", "etag", "systemData", "resourceGroup", "subscriptionId"} <= set(sent[0])
    assert sent[0]["properties"]["provisioningState"] == "Succeeded"
    assert result.properties is not None and len(result.properties.object_secret_mapping) == 2

    row["properties"]["provisioningState"] = "Failed"  # not what the server has: refused, as the RPC says
    refused = _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "s", row))
    assert refused.status_code == 400 and refused.error is not None
    assert refused.error.code == "InvalidRequestContent"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda b: b["properties"].update(clientId="not-a-guid"), 400, "InvalidRequestContent"),
        (lambda b: b["properties"].pop("keyvaultName"), 400, "InvalidRequestContent"),
        (lambda b: b["properties"].update(color="blue"), 400, "InvalidRequestContent"),
        (lambda b: b.pop("location"), 400, "LocationRequired"),
        (
            lambda b: b["extendedLocation"].update(name="/subscriptions/x/nowhere"),
            400,
            "InvalidExtendedLocation",
        ),
    ],
    ids=["bad-guid", "missing-required", "unknown-member", "no-location", "foreign-custom-location"],
)
def test_invalid_bodies_are_refused_with_arms_codes(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient, change: Any, status: int, code: str
) -> None:
    body = spc_body(arm)
    change(body)
    error = _http_error(
        lambda: client.azure_key_vault_secret_provider_classes.begin_create_or_update(_rg(arm), "spc", body)
    )
    assert error.status_code == status and error.error is not None and error.error.code == code
    assert arm.resource(ArmKind.SPC, "spc") is None


def test_secret_sync_rules_of_the_specification(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    empty = sync_body(arm)
    empty["properties"]["objectSecretMapping"] = []
    assert _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "s", empty)).status_code == 400
    twice = sync_body(arm, ("alpha-der", "alpha.der"), ("beta-der", "alpha.der"))
    assert _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "s", twice)).status_code == 400
    upper = _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "Not_Valid", sync_body(arm)))
    assert upper.status_code == 400 and upper.error is not None and upper.error.code == "InvalidResourceName"
    client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm)).result(timeout=HANG)
    tls = sync_body(arm)
    tls["properties"]["kubernetesSecretType"] = "kubernetes.io/tls"
    changed = _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "s", tls))
    assert changed.error is not None and changed.error.code == "PropertyChangeNotAllowed"
    moved = sync_body(arm)
    moved["location"] = "eastus"
    conflict = _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "s", moved))
    assert conflict.status_code == 409 and conflict.error is not None
    assert conflict.error.code == "InvalidResourceLocation"


def test_scope_errors_name_what_is_missing(arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient) -> None:
    missing = _http_error(lambda: client.secret_syncs.get(_rg(arm), "nothing-here"))
    assert isinstance(missing, ResourceNotFoundError) and missing.status_code == 404
    assert missing.error is not None and missing.error.code == "ResourceNotFound"
    group = _http_error(lambda: client.secret_syncs.get("other-rg", "s"))
    assert (
        group.status_code == 404 and group.error is not None and group.error.code == "ResourceGroupNotFound"
    )
    with client_for(arm, None, subscription="11111111-2222-3333-4444-555555555555") as elsewhere:
        sub = _http_error(lambda: elsewhere.secret_syncs.get(_rg(arm), "s"))
    assert sub.status_code == 404 and sub.error is not None and sub.error.code == "SubscriptionNotFound"


# -- faults and authentication ------------------------------------------------------------------------


def test_a_denied_action_is_403_for_that_kind_only(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    rg = _rg(arm)
    arm.deny("write", kind=ArmKind.SECRET_SYNC)
    denied = _http_error(lambda: client.secret_syncs.begin_create_or_update(rg, "s", sync_body(arm)))
    assert (
        denied.status_code == 403 and denied.error is not None and denied.error.code == "AuthorizationFailed"
    )
    assert "Microsoft.SecretSyncController/secretSyncs/write" in str(denied.message)
    assert arm.resource(ArmKind.SECRET_SYNC, "s") is None
    client.azure_key_vault_secret_provider_classes.begin_create_or_update(rg, "spc", spc_body(arm)).result(
        timeout=HANG
    )
    arm.deny("read")
    assert (
        _http_error(lambda: client.azure_key_vault_secret_provider_classes.get(rg, "spc")).status_code == 403
    )
    assert _http_error(lambda: list(client.secret_syncs.list_by_resource_group(rg))).status_code == 403
    arm.deny()
    assert client.azure_key_vault_secret_provider_classes.get(rg, "spc").name == "spc"


def test_throttling_is_retried_by_the_sdk_after_retry_after(
    arm: ArmEmulator, client: SecretsStoreExtensionMgmtClient
) -> None:
    arm.put_resource(ArmKind.SECRET_SYNC, "s", secret_sync_properties(OPCUA_SPC, [("alpha", "alpha")]))
    arm.throttle(2, retry_after=0.05)
    assert client.secret_syncs.get(_rg(arm), "s").name == "s"
    assert [r.status for r in arm.requests()] == [429, 429, 200]


def test_throttling_that_outlasts_the_retries_surfaces_as_429(arm: ArmEmulator) -> None:
    arm.throttle(100, retry_after=0.01)
    with client_for(arm, None, retry_total=1) as sdk:
        error = _http_error(lambda: sdk.secret_syncs.get(_rg(arm), "s"))
    assert error.status_code == 429 and error.error is not None
    assert error.error.code == "SubscriptionRequestsThrottled"


def test_an_unreachable_arm_fails_the_request_and_comes_back(arm: ArmEmulator) -> None:
    with client_for(arm, None, retry_total=0) as sdk:
        arm.set_unreachable(True)
        with pytest.raises(ServiceRequestError):
            list(sdk.secret_syncs.list_by_resource_group(_rg(arm)))
        arm.set_unreachable(False)
        assert list(sdk.secret_syncs.list_by_resource_group(_rg(arm))) == []


def test_without_a_bearer_token_arm_answers_401(arm: ArmEmulator) -> None:
    status, document = _raw(
        arm,
        "GET",
        f"/subscriptions/{arm.site.subscription}/resourceGroups/{_rg(arm)}"
        f"/providers/Microsoft.SecretSyncController/secretSyncs",
        token=None,
    )
    assert status == 401 and document["error"]["code"] == "AuthenticationFailed"
    with (
        client_for(arm, None, credential=Token("")) as sdk,
        pytest.raises(ClientAuthenticationError) as caught,
    ):
        sdk.secret_syncs.get(_rg(arm), "s")
    assert caught.value.status_code == 401
    assert not any(r.authorized for r in arm.requests())


def test_a_missing_api_version_is_refused(arm: ArmEmulator) -> None:
    status, document = _raw(arm, "GET", f"{_provider(arm)}/secretSyncs", api_version=None)
    assert status == 400 and document["error"]["code"] == "MissingApiVersionParameter"


def _provider(arm: ArmEmulator) -> str:
    return f"/subscriptions/{arm.site.subscription}/providers/Microsoft.SecretSyncController"


def _raw(
    arm: ArmEmulator,
    method: str,
    path: str,
    *,
    token: str | None = "raw",
    api_version: str | None = SDK_API_VERSION,
) -> tuple[int, dict[str, Any]]:
    """One request without the SDK (to see what it never sends), over the same verified TLS."""
    context = ssl.create_default_context(cafile=str(arm.ca_pem_path))
    connection = http.client.HTTPSConnection(arm.host, arm.port, context=context, timeout=HANG)
    query = f"?api-version={api_version}" if api_version else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request(method, path + query, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, json.loads(body) if body else {}


# -- the Arc projection in the demo -------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoEnvironment]:
    env = DemoEnvironment(state_dir=tmp_path / "demo", clock=FrozenClock(T0), run_controllers=False)
    with env:
        yield env


def _cluster(env: DemoEnvironment, kind: ArmKind, name: str) -> dict[str, Any] | None:
    return env.kube.get(
        rk.SECRET_SYNCS if kind is ArmKind.SECRET_SYNC else rk.SECRET_PROVIDER_CLASSES, NS, name
    )


def test_the_seeded_site_has_arm_owned_lists_projected_onto_the_cluster(demo: DemoEnvironment) -> None:
    site = demo.site
    assert site is not None
    held = {(r["type"], r["name"]) for kind in ArmKind for r in demo.arm.resources(kind)}
    assert {
        (ArmKind.SPC.resource_type, OPCUA_SPC),
        (ArmKind.SECRET_SYNC.resource_type, TRUST_LIST_SYNC),
    } <= held
    assert len(held) == 4  # the default spc-ops-* SPC, opc-ua-connector and both list SecretSyncs
    for kind, name in (
        (ArmKind.SPC, OPCUA_SPC),
        (ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
        (ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC),
    ):
        copy_ = _cluster(demo, kind, name)
        assert copy_ is not None
        annotations = copy_["metadata"]["annotations"]
        assert annotations[RESOURCE_ID_ANNOTATION] == demo.arm.site.resource_id(kind, name)
        assert annotations[CUSTOM_LOCATION_ANNOTATION] == demo.arm.site.custom_location_id
        assert annotations[LOCATION_ANNOTATION] == demo.arm.site.location
        assert copy_["metadata"]["labels"][PROVIDER_NAME_LABEL] == PROVIDER_NAME
        assert owner_of(kind, copy_, name, None) is Owner.ARM
        # What the seed says the site looks like is what the projection made, less per-write details.
        seeded = site.get(
            rk.SECRET_SYNCS if kind is ArmKind.SECRET_SYNC else rk.SECRET_PROVIDER_CLASSES, NS, name
        )
        assert seeded is not None
        assert copy_["spec"] == seeded["spec"]
        assert {k: v for k, v in annotations.items() if k not in DYNAMIC_ANNOTATIONS} == seeded["metadata"][
            "annotations"
        ]
    # The SecretSync's ARM mapping is the cluster's, entry for entry.
    arm_sync = demo.arm.resource(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    cluster_sync = _cluster(demo, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert arm_sync is not None and cluster_sync is not None
    assert arm_sync["properties"]["objectSecretMapping"] == cluster_sync["spec"]["secretObject"]["data"]
    assert arm_sync["properties"]["provisioningState"] == "Succeeded"
    # The sync controller settled on the projected objects: the synced Secret exists.
    assert demo.kube.get(rk.SECRETS, NS, TRUST_LIST_SYNC) is not None
    config = demo.kube.get(rk.CONFIGMAPS, ARC_CONFIG_NAMESPACE, ARC_CONFIG_MAP)
    assert config is not None
    assert config["data"]["AZURE_SUBSCRIPTION_ID"] == demo.arm.site.subscription
    assert config["data"]["AZURE_RESOURCE_GROUP"] == demo.arm.site.resource_group


def test_cluster_only_lists_put_nothing_in_arm_and_no_markers_on_the_cluster(tmp_path: Path) -> None:
    with DemoEnvironment(
        state_dir=tmp_path / "d", clock=FrozenClock(T0), run_controllers=False, cluster_only_lists=True
    ) as env:
        assert env.arm.resources(ArmKind.SPC) == [] and env.arm.resources(ArmKind.SECRET_SYNC) == []
        for kind, name in ((ArmKind.SPC, OPCUA_SPC), (ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)):
            obj = _cluster(env, kind, name)
            assert obj is not None
            meta = obj["metadata"]
            assert not any(k.startswith("management.azure.com/") for k in (meta.get("annotations") or {}))
            assert not any(k.startswith("management.azure.com/") for k in (meta.get("labels") or {}))
            assert owner_of(kind, obj, name, None) is Owner.CLUSTER
        # An Arc-connected cluster still says where it lives in Azure.
        assert env.kube.get(rk.CONFIGMAPS, ARC_CONFIG_NAMESPACE, ARC_CONFIG_MAP) is not None
        assert env.kube.get(rk.SECRETS, NS, TRUST_LIST_SYNC) is not None


def test_the_env_file_exports_where_arm_is(demo: DemoEnvironment) -> None:
    text = demo.env_path.read_text(encoding="utf-8")
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export ")
    )
    assert exported["AIO_CERTS_ARM_ENDPOINT"] == demo.arm.endpoint
    assert exported["AIO_CERTS_ARM_CA"] == str(demo.arm_ca_path)
    assert exported["AZURE_SUBSCRIPTION_ID"] == demo.arm.site.subscription
    assert exported["AZURE_RESOURCE_GROUP"] == demo.arm.site.resource_group
    assert demo.arm_ca_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert demo.arm.endpoint.startswith("https://127.0.0.1:")
    # The CA file is what clients verify against: the SDK works with it and nothing else.
    with armcli.for_demo(demo) as sdk:
        assert {
            s.name for s in sdk.secret_syncs.list_by_resource_group(exported["AZURE_RESOURCE_GROUP"])
        } == {
            TRUST_LIST_SYNC,
            ISSUER_LIST_SYNC,
        }


@pytest.mark.parametrize("api_version", VERSIONS)
def test_a_put_through_the_sdk_is_on_the_cluster_when_the_poller_ends(
    demo: DemoEnvironment, api_version: str | None
) -> None:
    rg = demo.arm.site.resource_group
    with armcli.for_demo(demo, api_version=api_version) as sdk:
        body = sync_body(demo.arm, ("gw-der", "gw.der"))
        sdk.secret_syncs.begin_create_or_update(rg, "extra-list", body).result(timeout=HANG)
        projected = _cluster(demo, ArmKind.SECRET_SYNC, "extra-list")
        assert projected is not None
        assert projected["spec"]["secretObject"]["data"] == [{"sourcePath": "gw-der", "targetKey": "gw.der"}]
        annotations = projected["metadata"]["annotations"]
        assert annotations[RESOURCE_ID_ANNOTATION] == demo.arm.site.resource_id(
            ArmKind.SECRET_SYNC, "extra-list"
        )
        (operation,) = [o for o in demo.arm.operations() if o.name == "extra-list"]
        assert annotations[OPERATION_ID_ANNOTATION] == operation.id
        assert projected["metadata"]["labels"][PROVIDER_NAME_LABEL] == PROVIDER_NAME

        sdk.secret_syncs.begin_delete(rg, "extra-list").result(timeout=HANG)
        assert _cluster(demo, ArmKind.SECRET_SYNC, "extra-list") is None


def test_held_operations_leave_the_cluster_alone_until_released(demo: DemoEnvironment) -> None:
    rg = demo.arm.site.resource_group
    before = _cluster(demo, ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC)
    demo.arm.hold_operations()
    with armcli.for_demo(demo) as sdk:
        current = sdk.secret_syncs.get(rg, ISSUER_LIST_SYNC).as_dict()
        current["properties"]["objectSecretMapping"] = current["properties"]["objectSecretMapping"][:1]
        poller = sdk.secret_syncs.begin_create_or_update(rg, ISSUER_LIST_SYNC, current)
        assert not demo.arm.wait_idle(0)
        assert _cluster(demo, ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC) == before
        demo.arm.release_operations()
        poller.result(timeout=HANG)
    after = _cluster(demo, ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC)
    assert after is not None and len(after["spec"]["secretObject"]["data"]) == 1


def test_an_arm_change_replaces_a_cluster_only_edit_as_the_official_cli_would(demo: DemoEnvironment) -> None:
    # The bug aio-certs must avoid: an entry added to the cluster copy alone is lost at the next ARM write.
    rg = demo.arm.site.resource_group
    local = copy.deepcopy(_cluster(demo, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC))
    assert local is not None
    local["spec"]["secretObject"]["data"].append({"sourcePath": "local-der", "targetKey": "local.der"})
    local["metadata"]["annotations"]["example.com/kept"] = "yes"
    demo.kube.replace(rk.SECRET_SYNCS, local)
    with armcli.for_demo(demo) as sdk:
        armcli.update_spc_objects(sdk, rg, add="cli-plc-der")
        result = armcli.add_mapping(sdk, rg, TRUST_LIST_SYNC, "cli-plc-der", "cli-plc.der")
    assert result["properties"]["provisioningState"] == "Succeeded"
    projected = _cluster(demo, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert projected is not None
    keys = [m["targetKey"] for m in projected["spec"]["secretObject"]["data"]]
    assert "cli-plc.der" in keys and "local.der" not in keys
    assert projected["metadata"]["annotations"]["example.com/kept"] == "yes"  # others' metadata is kept
    spc = _cluster(demo, ArmKind.SPC, OPCUA_SPC)
    assert spc is not None and "objectName: cli-plc-der" in spc["spec"]["parameters"]["objects"]


def test_armcli_removing_the_last_mapping_deletes_the_secret_sync(demo: DemoEnvironment) -> None:
    rg = demo.arm.site.resource_group
    with armcli.for_demo(demo) as sdk:
        keys = [
            m["targetKey"]
            for m in demo.arm.resource(ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC)["properties"][
                "objectSecretMapping"
            ]
        ]
        for key in keys[:-1]:
            assert armcli.remove_mapping(sdk, rg, ISSUER_LIST_SYNC, key) is not None
        assert armcli.remove_mapping(sdk, rg, ISSUER_LIST_SYNC, keys[-1]) is None
    assert demo.arm.resource(ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC) is None
    assert _cluster(demo, ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC) is None


def test_armcli_edits_objects_text_as_the_cli_does() -> None:
    text = armcli.add_spc_object(None, "plc-one-der")
    both = armcli.add_spc_object(text, "plc-two-der")
    # The product's own writer claims byte identity with the CLI: the two independent versions agree.
    assert both == serialize_objects([cli_object("plc-one-der"), cli_object("plc-two-der")], style="cli")
    assert armcli.add_spc_object(both, "plc-two-der") == both  # no duplicates
    assert armcli.remove_spc_object(armcli.remove_spc_object(both, "plc-one-der"), "plc-two-der") == ""


def test_the_demo_command_has_a_cluster_only_lists_option() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parse_options(parser.parse_args(["--cluster-only-lists"]))["cluster_only_lists"] is True
    assert parse_options(parser.parse_args([]))["cluster_only_lists"] is False
