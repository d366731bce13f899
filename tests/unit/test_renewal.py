"""What renewing a Certificate is said to cause, before anyone confirms it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests import certgen
from tests.rawobjects import certificate, quickstart_site
from tui.core.build.assemble import build_state
from tui.core.build.certmanager import parse_certificate
from tui.core.changes.renewal import RenewTargetError, find_certificate, renew_warnings
from tui.core.clock import FrozenClock
from tui.core.model.settings import ModelSettings
from tui.core.model.state import CertificateView
from tui.ops.audit import AuditLog
from tui.ops.renew import RenewalMovedOn, request_renewal


def _cert(**kwargs: Any) -> CertificateView:
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
    """The part of the cluster port a renewal uses; ``fail`` makes the write fail as the adapter does,
    ``current`` is the Certificate the write would go over (checked by the precondition first)."""

    def __init__(self, fail: Exception | None = None, current: Mapping[str, Any] | None = None) -> None:
        self.fail = fail
        self.current = current
        self.renewed: list[tuple[str, str]] = []

    def renew_certificate(
        self,
        namespace: str,
        name: str,
        *,
        now: datetime,
        precondition: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> dict[str, object]:
        if self.fail is not None:
            raise self.fail
        if precondition is not None and self.current is not None:
            precondition(self.current)
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


def _raw(**kwargs: Any) -> dict[str, Any]:
    return certificate("root", "cert-manager", secret_name="root-secret", issuer_name="selfsigned", **kwargs)


def test_a_renewal_over_a_certificate_that_moved_on_writes_nothing(tmp_path: Path) -> None:
    # Trial finding 2: a dialog left open on revision 1 while someone else renewed to 2 issued a third.
    clock = FrozenClock(certgen.EPOCH)
    audit = AuditLog(tmp_path, clock=clock)
    shown = _cert(is_ca=True, revision=1)
    renewed_meanwhile = _Cluster(current=_raw(is_ca=True, revision=2))
    with pytest.raises(RenewalMovedOn, match=r"now revision 2 \(Ready\), shown revision 1; nothing written"):
        request_renewal(renewed_meanwhile, shown, audit=audit, context="site", clock=clock)  # type: ignore[arg-type]
    assert renewed_meanwhile.renewed == []
    issuing_meanwhile = _Cluster(current=_raw(is_ca=True, revision=1, issuing_reason="ManuallyTriggered"))
    with pytest.raises(RenewalMovedOn, match=r"is being issued now \(reason ManuallyTriggered\)"):
        request_renewal(issuing_meanwhile, shown, audit=audit, context="site", clock=clock)  # type: ignore[arg-type]
    assert issuing_meanwhile.renewed == []
    [first, second] = list(audit.events())
    assert (first["outcome"], second["outcome"]) == ("refused", "refused")
    assert "now revision 2" in first["detail"]


def test_a_status_write_that_leaves_the_revision_is_no_reason_to_refuse(tmp_path: Path) -> None:
    # A refreshed Ready condition moves the resourceVersion, not the revision: the renewal goes ahead.
    clock = FrozenClock(certgen.EPOCH)
    audit = AuditLog(tmp_path, clock=clock)
    shown = _cert(is_ca=True, revision=1)
    current = _raw(is_ca=True, revision=1, ready_message="refreshed")
    current["metadata"]["resourceVersion"] = "999"
    cluster = _Cluster(current=current)
    request_renewal(cluster, shown, audit=audit, context="site", clock=clock)  # type: ignore[arg-type]
    assert cluster.renewed == [("cert-manager", "root")]
