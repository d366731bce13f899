"""What renewing a Certificate is said to cause, before anyone confirms it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests import certgen
from tests.rawobjects import certificate, quickstart_site
from tui.core.build.assemble import build_state
from tui.core.build.certmanager import parse_certificate
from tui.core.changes.renewal import RenewTargetError, find_certificate, renew_warnings
from tui.core.clock import FrozenClock
from tui.core.model.settings import ModelSettings
from tui.ops.audit import AuditLog
from tui.ops.renew import request_renewal


def _cert(**kwargs: object) -> object:
    return parse_certificate(
        certificate("root", "cert-manager", secret_name="root-secret", issuer_name="selfsigned", **kwargs)
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("Always", "rotationPolicy Always: the new CA has a new key"),
        # Unset: cert-manager's default, which depends on its version (docs/domain.md §3.1).
        (
            None,
            "no private key rotationPolicy: cert-manager's default, Always from v1.18 (a new key), "
            "Never before",
        ),
        ("Never", "rotationPolicy Never: it is re-signed with the same key"),
    ],
)
def test_a_ca_says_what_happens_to_its_key(policy: str | None, expected: str) -> None:
    (line,) = renew_warnings(_cert(is_ca=True, rotation_policy=policy))
    assert expected in line and "cert-manager/root" in line
    # The risk is now, not at the old CA's expiry: trust-manager keeps no previous CA.
    assert ("stops verifying as soon as the trust bundle holds the new CA" in line) is (policy != "Never")
    assert "before the old CA expires" not in line


def test_a_leaf_that_is_not_issuing_needs_no_warning() -> None:
    assert renew_warnings(_cert(is_ca=False)) == ()


def test_a_certificate_already_issuing_says_why() -> None:
    lines = renew_warnings(_cert(is_ca=False, issuing_reason="Renewing"))
    assert lines == ("cert-manager/root is already being issued (reason Renewing)",)


# -- one renew path for the CLI and the dashboard (issue 10, item 3) ----------------------------------


class _Cluster:
    """The part of the cluster port a renewal uses; ``fail`` makes the write fail as the adapter does."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.renewed: list[tuple[str, str]] = []

    def renew_certificate(self, namespace: str, name: str, *, now: datetime) -> dict[str, object]:
        if self.fail is not None:
            raise self.fail
        self.renewed.append((namespace, name))
        return {}


def test_a_renewal_is_written_and_audited_once(tmp_path: Path) -> None:
    clock = FrozenClock(certgen.EPOCH)
    audit = AuditLog(tmp_path, clock=clock)
    cert = _cert(is_ca=True)
    cluster = _Cluster()
    request_renewal(cluster, cert, audit=audit, context="site", clock=clock)  # type: ignore[arg-type]
    assert cluster.renewed == [("cert-manager", "root")]
    [line] = list(audit.events())
    assert (line["action"], line["outcome"], line["entries"]) == ("renew", "applied", ["cert-manager/root"])
    failing = _Cluster(RuntimeError("updating Certificate cert-manager/root: 403 forbidden"))
    with pytest.raises(RuntimeError):
        request_renewal(failing, cert, audit=audit, context="site", clock=clock)  # type: ignore[arg-type]
    assert [e["outcome"] for e in audit.events()] == ["applied", "failed"]


def test_the_lookup_names_what_is_missing() -> None:
    now = certgen.EPOCH
    state = build_state(
        quickstart_site(now, ca=certgen.make_ca("Root")).snapshot(), settings=ModelSettings(), now=now
    )
    assert state.root_ca.resource is not None
    assert find_certificate(state, None) == state.root_ca.resource
    with pytest.raises(RenewTargetError, match=r"Certificate 'no\\1Bsuch': not found"):
        find_certificate(state, "no\x1bsuch")
