"""The ARM adapter's pure parts: endpoints per cloud, TLS and demo rules, api-versions, one-line errors,
the ids a reader uses, and the api-version fallback over an SDK-shaped fake client.

The wire behaviour (ETags from headers, long-running operations, 403, unreachable) is tested through the
real SDK against the demo's ARM emulator in tests/integration/test_arm_adapter.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ServiceRequestError,
    ServiceResponseTimeoutError,
)

from tests import armobjects as ao
from tui.arm.client import (
    ARM_CA_ENV,
    ARM_ENDPOINT_ENV,
    ApiVersionMemory,
    api_versions,
    arm_ca_bundle,
    arm_endpoint,
    credential_scopes,
    refuse_demo_for,
    sdk_api_version,
)
from tui.arm.errors import ArmConflict, ArmError, classify, is_api_version_refusal, to_arm_error
from tui.arm.resources import ArmResources
from tui.commands.shared.arm_reader import arm_target
from tui.commands.shared.options import resource_group_name, subscription_id
from tui.commands.shared.settings import ArmSettings
from tui.core.model.arm import CLI_API_VERSION, ArmIds, ArmKind
from tui.core.model.snapshot import AreaState

SECRET_HEADER = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi-secret-token"


def _http_error(status: int, code: str | None = None, message: str = "") -> HttpResponseError:
    error = HttpResponseError(message=f"({code}) {message}\nCode: {code}\nAuthorization: {SECRET_HEADER}")
    error.status_code = status
    error.reason = "Reason"
    error.error = SimpleNamespace(code=code, message=message) if code else None  # type: ignore[assignment]
    return error


# --- endpoint, CA, demo -----


@pytest.mark.parametrize(
    ("cloud", "endpoint", "scope"),
    [
        (None, "https://management.azure.com", "https://management.azure.com/.default"),
        ("AzureCloud", "https://management.azure.com", "https://management.azure.com/.default"),
        (
            "azurechinacloud",
            "https://management.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/.default",
        ),
        # US Government's ARM token audience is not its host (azure-mgmt-core's get_arm_endpoints).
        (
            "AzureUSGovernment",
            "https://management.usgovcloudapi.net",
            "https://management.core.usgovcloudapi.net/.default",
        ),
    ],
)
def test_the_cloud_picks_the_arm_endpoint_and_token_scope(
    cloud: str | None, endpoint: str, scope: str
) -> None:
    assert arm_endpoint(cloud, env={}) == endpoint
    assert credential_scopes(endpoint) == [scope]
    assert credential_scopes("https://127.0.0.1:8443/") == ["https://127.0.0.1:8443/.default"]


def test_the_endpoint_variable_wins_and_must_be_https() -> None:
    assert arm_endpoint("AzureChinaCloud", env={ARM_ENDPOINT_ENV: "https://127.0.0.1:8443/"}) == (
        "https://127.0.0.1:8443"
    )
    with pytest.raises(ArmError, match="must be an https:// URL"):
        arm_endpoint(None, env={ARM_ENDPOINT_ENV: "http://127.0.0.1:8080"})
    with pytest.raises(ArmError, match="cloud 'Mars': unknown"):
        arm_endpoint("Mars", env={})


def test_the_ca_bundle_must_exist(tmp_path: Path) -> None:
    bundle = tmp_path / "arm-ca.pem"
    assert arm_ca_bundle(env={}) is None
    with pytest.raises(ArmError, match="file not found"):
        arm_ca_bundle(env={ARM_CA_ENV: str(bundle)})
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert arm_ca_bundle(env={ARM_CA_ENV: str(bundle)}) == str(bundle)


def test_the_demo_credential_goes_to_a_loopback_endpoint_only() -> None:
    refuse_demo_for("https://127.0.0.1:9443", demo=True)
    refuse_demo_for("https://localhost:9443", demo=True)
    refuse_demo_for("https://management.azure.com", demo=False)
    with pytest.raises(ArmError, match=r"refused for ARM host management\.azure\.com") as caught:
        refuse_demo_for("https://management.azure.com", demo=True)
    assert caught.value.state is AreaState.FORBIDDEN


# --- api-versions -----


def test_the_cli_api_version_first_then_the_sdk_default() -> None:
    assert sdk_api_version() != CLI_API_VERSION  # two versions in use: both are tried
    assert api_versions() == (CLI_API_VERSION, sdk_api_version())
    memory = ApiVersionMemory()
    assert memory.order("https://a") == api_versions()
    memory.remember("https://A/", sdk_api_version())
    assert memory.order("https://a") == (sdk_api_version(), CLI_API_VERSION)  # per endpoint
    assert memory.order("https://b") == api_versions()


def test_an_api_version_refusal_is_recognised_by_its_code() -> None:
    assert is_api_version_refusal(_http_error(400, "InvalidApiVersionParameter"))
    assert is_api_version_refusal(_http_error(400, "NoRegisteredProviderFound"))
    assert not is_api_version_refusal(_http_error(400, "InvalidRequestContent"))
    assert not is_api_version_refusal(_http_error(403, "AuthorizationFailed"))


# --- errors -----


def test_errors_are_one_line_states_without_headers() -> None:
    state, message = classify(_http_error(403, "AuthorizationFailed", "no write\non secretSyncs"))
    assert state is AreaState.FORBIDDEN
    assert message == "ARM refused the request (403 AuthorizationFailed: no write)"
    assert classify(_http_error(401, "InvalidAuthenticationToken", "expired"))[0] is AreaState.FORBIDDEN
    refused = ServiceRequestError("<urllib3 object>: Failed to establish: [Errno 111] Connection refused')")
    assert classify(refused) == (AreaState.UNREACHABLE, "cannot reach ARM: [Errno 111] Connection refused")
    assert classify(ServiceResponseTimeoutError("x"))[0] is AreaState.UNREACHABLE
    assert classify(ClientAuthenticationError("AzureCliCredential: run az login"))[0] is AreaState.FORBIDDEN
    for exc in (_http_error(403, "AuthorizationFailed", "x"), _http_error(500, None)):
        wrapped = to_arm_error(exc, "reading secretSyncs x")
        assert "\n" not in str(wrapped) and SECRET_HEADER not in str(wrapped) and "Bearer" not in str(wrapped)
    control = to_arm_error(_http_error(400, "Bad", "name \x1b[31mred"), "writing")
    assert "\x1b" not in str(control) and "\\1B" in str(control)


def test_412_and_409_are_conflicts() -> None:
    assert isinstance(to_arm_error(_http_error(412, "PreconditionFailed"), "writing"), ArmConflict)
    exists = ResourceExistsError(message="exists")
    exists.status_code = 409
    assert isinstance(to_arm_error(exists, "writing"), ArmConflict)
    assert not isinstance(to_arm_error(_http_error(400, "Bad"), "writing"), ArmConflict)


# --- flags and ids -----


def test_subscription_and_resource_group_flags_are_checked_when_parsed() -> None:
    assert subscription_id(ao.SUBSCRIPTION.upper()) == ao.SUBSCRIPTION
    assert resource_group_name("rg-aio_(1).x") == "rg-aio_(1).x"
    for bad in ("sub", "00000000-1111-2222-3333-44444444444g"):
        with pytest.raises(argparse.ArgumentTypeError, match="subscription id"):
            subscription_id(bad)
    for bad in ("", "ends.", "a" * 91, "with space", "semi;colon"):
        with pytest.raises(argparse.ArgumentTypeError, match="resource group name"):
            resource_group_name(bad)


def test_flags_win_over_the_cluster_and_the_environment_comes_last() -> None:
    from tests.unit.test_arm_drift import _site, _state

    state = _state(_site(), None)  # annotated: the cluster names subscription, group and location
    assert arm_target(ArmSettings(), state) == ao.IDS
    flags = ArmSettings(subscription="sub-flag", resource_group="rg-flag", fallback_subscription="sub-env")
    assert arm_target(flags, state) == ArmIds("sub-flag", "rg-flag", ao.CUSTOM_LOCATION)
    env_only = ArmSettings(fallback_subscription="sub-env", fallback_resource_group="rg-env")
    assert arm_target(env_only, state) == ao.IDS  # the cluster wins over the environment
    cluster_only = _state(_site(arm_owned=False), None)
    assert arm_target(ArmSettings(), cluster_only) is None  # nothing to read on a cluster-only site
    assert arm_target(env_only, cluster_only) == ArmIds("sub-env", "rg-env", None)


# --- the api-version fallback over an SDK-shaped fake -----


class _FakeOperations:
    def __init__(self, version: str, refused: set[str], calls: list[str]) -> None:
        self.version, self.refused, self.calls = version, refused, calls

    def get(self, group: str, name: str, *, cls: Any, **kwargs: Any) -> Any:
        self.calls.append(self.version)
        if self.version in self.refused:
            raise _http_error(400, "InvalidApiVersionParameter", f"api-version {self.version} not supported")
        response = SimpleNamespace(
            http_response=SimpleNamespace(
                headers={"ETag": '"7"'},
                content=b"{}",
                json=lambda: dict(ao.arm_sync(name, "spc", [("a", "b")]).body),
            )
        )
        return cls(response, None, {})


def _resources(refused: set[str], calls: list[str], memory: ApiVersionMemory) -> ArmResources:
    def factory(endpoint: str, subscription: str, *, api_version: str, **kwargs: Any) -> Any:
        operations = _FakeOperations(api_version, refused, calls)
        return SimpleNamespace(secret_syncs=operations, azure_key_vault_secret_provider_classes=operations)

    return ArmResources(
        ao.IDS,
        endpoint="https://127.0.0.1:1",
        credential=object(),
        memory=memory,
        client_factory=factory,  # type: ignore[arg-type]
    )


def test_a_refused_api_version_falls_back_to_the_other_and_is_remembered() -> None:
    memory, calls = ApiVersionMemory(), []
    arm = _resources({CLI_API_VERSION}, calls, memory)
    found = arm.get(ArmKind.SECRET_SYNC, "trust")
    assert found is not None and found.etag == '"7"' and found.mappings == (("a", "b"),)
    assert calls == [CLI_API_VERSION, sdk_api_version()]
    assert arm.api_version == sdk_api_version()
    # The next client for that endpoint asks the version that worked first.
    calls.clear()
    _resources({CLI_API_VERSION}, calls, memory).get(ArmKind.SECRET_SYNC, "trust")
    assert calls == [sdk_api_version()]


def test_both_versions_refused_is_one_line_error() -> None:
    calls: list[str] = []
    arm = _resources({CLI_API_VERSION, sdk_api_version()}, calls, ApiVersionMemory())
    with pytest.raises(ArmError, match="InvalidApiVersionParameter") as caught:
        arm.get(ArmKind.SECRET_SYNC, "trust")
    assert "\n" not in str(caught.value)
    assert len(calls) == 2
