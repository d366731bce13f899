"""Renewing a Certificate now, for the CLI and the dashboard alike: write, audit, wait.

:func:`request_renewal` is ``cmctl renew`` (the Certificate's ``Issuing`` condition set to True with
reason ``ManuallyTriggered``) followed by its audit line, ``applied`` or ``failed``; :func:`wait_for_revision`
then follows cert-manager until it has issued the new revision. Which Certificate, and what to warn about
first, is the core's (:mod:`tui.core.changes.renewal`); asking and printing are the caller's.
"""

from __future__ import annotations

import time

from tui.core.clock import Clock
from tui.core.model import resources as rk
from tui.core.model.state import CertificateView
from tui.ops.audit import AuditLog
from tui.ops.ports import ClusterPort

RENEW_ACTION = "renew"
"""The audit action of a renewal."""
POLL_SECONDS = 0.1


def request_renewal(
    cluster: ClusterPort, cert: CertificateView, *, audit: AuditLog, context: str, clock: Clock
) -> None:
    """Ask cert-manager to re-issue ``cert`` now and audit it; re-raises the write's one-line failure."""
    try:
        cluster.renew_certificate(cert.namespace, cert.name, now=clock.now())
    except Exception as exc:
        audit.record(
            action=RENEW_ACTION,
            outcome="failed",
            context=context,
            entries=[cert.key],
            detail=" ".join(str(exc).split()),
        )
        raise
    audit.record(action=RENEW_ACTION, outcome="applied", context=context, entries=[cert.key])


def wait_for_revision(cluster: ClusterPort, cert: CertificateView, timeout: float) -> int | None:
    """Poll the Certificate until its revision moves past the one seen and Ready is True again.

    Returns the new revision, or None when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    before = cert.revision or 0
    while True:
        current = cluster.get(rk.CERTIFICATES, cert.namespace, cert.name) or {}
        status = current.get("status") or {}
        revision = status.get("revision")
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
            if isinstance(c, dict)
        )
        if isinstance(revision, int) and revision > before and ready:
            return revision
        if time.monotonic() >= deadline:
            return None
        # Polling with a deadline: cert-manager's progress arrives on its own schedule, nothing to await.
        time.sleep(POLL_SECONDS)
