"""What renewing a Certificate is said to cause, before anyone confirms it."""

from __future__ import annotations

import pytest

from tests.rawobjects import certificate
from tui.core.build.certmanager import parse_certificate
from tui.core.changes.renewal import renew_warnings


def _cert(**kwargs: object) -> object:
    return parse_certificate(certificate("root", "cert-manager", secret_name="root-secret",
                                         issuer_name="selfsigned", **kwargs))


@pytest.mark.parametrize(("policy", "expected"), [
    ("Always", "rotationPolicy Always: the new CA has a new key"),
    (None, "rotationPolicy Always: the new CA has a new key"),  # cert-manager's default
    ("Never", "rotationPolicy Never: it is re-signed with the same key"),
])
def test_a_ca_says_what_happens_to_its_key(policy: str | None, expected: str) -> None:
    (line,) = renew_warnings(_cert(is_ca=True, rotation_policy=policy))
    assert expected in line and "cert-manager/root" in line


def test_a_leaf_that_is_not_issuing_needs_no_warning() -> None:
    assert renew_warnings(_cert(is_ca=False)) == ()


def test_a_certificate_already_issuing_says_why() -> None:
    lines = renew_warnings(_cert(is_ca=False, issuing_reason="Renewing"))
    assert lines == ("cert-manager/root is already being issued (reason Renewing)",)
