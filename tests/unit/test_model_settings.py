"""Model settings, the flag parsers behind them, and the names derived from the namespace."""

from __future__ import annotations

import pytest

from tui.core.model.names import AioNames, is_default_spc_name, is_quickstart_subject
from tui.core.model.settings import ModelSettings, parse_issuer_flag, parse_namespace, parse_trust_bundle_flag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ClusterIssuer/my-issuer", ("ClusterIssuer", "my-issuer")),
        ("issuer/site.issuer", ("Issuer", "site.issuer")),
        (" clusterissuer/x ", ("ClusterIssuer", "x")),
    ],
)
def test_issuer_flag_accepts_kind_slash_name(text: str, expected: tuple[str, str]) -> None:
    assert parse_issuer_flag(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("my-issuer", "expected KIND/NAME"),
        ("ClusterIssuer/", "expected KIND/NAME"),
        ("Certificate/x", "must be Issuer or ClusterIssuer"),
        ("Issuer/Not_Valid", "not a valid Kubernetes name"),
    ],
)
def test_issuer_flag_errors_name_the_flag_and_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_issuer_flag(text)
    assert str(err.value).startswith("--issuer: ")
    assert reason in str(err.value)


def test_trust_bundle_flag() -> None:
    assert parse_trust_bundle_flag("site-bundle/trust-bundle.pem") == ("site-bundle", "trust-bundle.pem")
    cases = (
        ("site-bundle", "expected CONFIGMAP/KEY"),
        ("Bad/ca.crt", "not a valid Kubernetes name"),
        ("cm/ca crt", "not a valid ConfigMap key"),
    )
    for bad, reason in cases:
        with pytest.raises(ValueError, match=reason) as err:
            parse_trust_bundle_flag(bad)
        assert str(err.value).startswith("--trust-bundle: ")


def test_namespace_flag() -> None:
    assert parse_namespace("aio-site-2") == "aio-site-2"
    with pytest.raises(ValueError, match="--namespace: 'AIO' is not a valid namespace"):
        parse_namespace("AIO")


def test_thresholds_are_checked() -> None:
    assert ModelSettings(expiring_warn_days=14, expiring_critical_days=14).expiring_warn_days == 14
    with pytest.raises(ValueError, match=r"critical \(10d\) must not exceed warning \(5d\)"):
        ModelSettings(expiring_warn_days=5, expiring_critical_days=10)
    with pytest.raises(ValueError, match="must not be negative"):
        ModelSettings(expiring_critical_days=-1)


def test_names_follow_the_namespace() -> None:
    default = ModelSettings().names
    assert default.issuer_name == "azure-iot-operations-aio-certificate-issuer"
    assert default.trust_bundle_configmap == "azure-iot-operations-aio-ca-trust-bundle"
    assert default.trust_bundle_key == "ca.crt"
    assert default.root_ca_secret == "azure-iot-operations-aio-ca-certificate"
    other = AioNames("plant-7")
    assert other.issuer_name == "plant-7-aio-certificate-issuer"
    assert other.trust_bundle_configmap == "plant-7-aio-ca-trust-bundle"
    assert other.sync_name("trust") == "aio-opc-ua-broker-trust-list"
    assert other.list_of_sync("aio-opc-ua-broker-issuer-list") == "issuer"
    assert other.list_of_sync("something-else") is None
    with pytest.raises(ValueError, match="unknown OPC UA list 'client'"):
        other.sync_name("client")


def test_name_predicates() -> None:
    assert is_quickstart_subject("CN=Azure IoT Operations Quickstart Root CA - Not for Production")
    assert not is_quickstart_subject("CN=Contoso Site Root CA")
    assert is_default_spc_name("spc-ops-abc1234")
    assert not is_default_spc_name("opc-ua-connector")
