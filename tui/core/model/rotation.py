"""Root CA rotation: days left, the rotation phase, cert-manager's retry backoff, rotation history.

All pure functions of a :class:`~tui.core.model.state.CertificateView`, the decoded CA certificate and
``now``. A live view passes the previous state's history so a rotation it watched reads "rotated at
10:42:07"; a one-shot ``status`` infers a recent rotation from the Certificate's revision and notBefore.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tui.core import durations
from tui.core.certs.model import CertificateInfo
from tui.core.model.state import CertificateView, RotationEvent, RotationPhase, RotationView

# cert-manager's issuance retry backoff (docs/domain.md §3.3): 1h * 2^(n-1), 1h..32h.
BACKOFF_MIN = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=32)
HISTORY_LIMIT = 20
"""Rotation events kept per process; enough for a long demo session, small enough to diff."""


def backoff_delay(failed_attempts: int) -> timedelta:
    """cert-manager's wait after ``failed_attempts`` consecutive failures: 1h * 2^(n-1), 1h..32h."""
    if failed_attempts <= 1:
        return BACKOFF_MIN
    # Cap the exponent before shifting: attempts can grow without bound on a broken issuer.
    delay = BACKOFF_MIN * (2 ** min(failed_attempts - 1, 6))
    return min(delay, BACKOFF_MAX)


def backoff_skipped(cert: CertificateView) -> bool:
    """Whether cert-manager skips its failure backoff for ``cert``: the spec no longer matches the
    request of the next revision, so it issues again as soon as it sees the Certificate (its trigger
    controller, docs/domain.md §3.3)."""
    return cert.last_failure_time is not None and bool(cert.request_mismatch)


def next_attempt(cert: CertificateView) -> datetime | None:
    """When cert-manager retries issuance of a failed Certificate after its backoff; None when it has
    not failed, or when it skips the backoff because the spec changed (see :func:`backoff_skipped`)."""
    if cert.last_failure_time is None or backoff_skipped(cert):
        return None
    return cert.last_failure_time + backoff_delay(max(cert.failed_issuance_attempts, 1))


KEY_POLICY_DEFAULT = "cert-manager's default: Always from v1.18, Never before"
"""What an unset ``rotationPolicy`` means: it depends on the cert-manager installed (docs/domain.md §3.1)."""


def key_policy_text(policy: str | None) -> str:
    """``spec.privateKey.rotationPolicy`` for people: what a renewal does to the key."""
    if policy == "Always":
        return "Always: each renewal makes a new key"
    if policy == "Never":
        return "Never: renewals keep the key"
    if policy:
        return f"{policy} (unknown policy)"
    return f"unset ({KEY_POLICY_DEFAULT})"


def days_left(not_after: datetime | None, now: datetime) -> int | None:
    """Whole days until ``not_after``, by the one rule of :func:`tui.core.durations.days_left`."""
    if not_after is None:
        return None
    return durations.days_left(not_after, now)


def _iso(when: datetime | None) -> str:
    # The one screen form of a moment: these messages show in the panes and in status.
    return durations.screen_time(when, empty="?")


def detect_rotation(
    previous: CertificateInfo | None,
    previous_revision: int | None,
    current: CertificateInfo | None,
    current_revision: int | None,
    now: datetime,
) -> RotationEvent | None:
    """An event when the CA certificate (or the Certificate's revision) changed since the last build."""
    if current is None:
        return None
    changed_cert = previous is not None and previous.sha256 != current.sha256
    # The revision only counts when the old CA could not be decoded: otherwise a revision bump seen before
    # the secret changes would record the old certificate as the new one.
    changed_revision = (
        previous is None
        and previous_revision is not None
        and current_revision is not None
        and current_revision > previous_revision
    )
    if not (changed_cert or changed_revision):
        return None
    # notBefore is when cert-manager signed the new CA; prefer it unless it is implausible (in the future
    # or long before this process could have seen the old one).
    at = current.not_before if now - timedelta(hours=1) <= current.not_before <= now else now
    return RotationEvent(
        at=at,
        revision=current_revision,
        serial=current.serial,
        sha1=current.sha1,
        previous_sha1=previous.sha1 if previous is not None and changed_cert else None,
        previous_serial=previous.serial if previous is not None and changed_cert else None,
    )


def infer_rotation(
    resource: CertificateView | None,
    current: CertificateInfo | None,
    now: datetime,
    recent: timedelta,
    *,
    revision: int | None = None,
) -> RotationEvent | None:
    """A rotation inferred without history: revision above 1 and a notBefore within ``recent``.

    ``revision`` is the one that issued ``current`` (from its CertificateRequest) when known, else the
    Certificate's ``status.revision`` counts."""
    if resource is None:
        return None
    revision = revision if revision is not None else resource.revision
    if revision is None or revision <= 1:
        return None
    started = current.not_before if current is not None else resource.not_before
    if started is None or not (now - recent <= started <= now):
        return None
    return RotationEvent(
        at=started,
        revision=revision,
        serial=current.serial if current else None,
        sha1=current.sha1 if current else None,
        previous_sha1=None,
    )


def extend_history(
    history: Sequence[RotationEvent], event: RotationEvent | None
) -> tuple[RotationEvent, ...]:
    """History with ``event`` appended (unless already recorded), bounded to :data:`HISTORY_LIMIT`."""
    events = tuple(history)
    if event is None or any(e.key == event.key for e in events):
        return events[-HISTORY_LIMIT:]
    return (*events, event)[-HISTORY_LIMIT:]


def assess_rotation(
    resource: CertificateView | None,
    certificate: CertificateInfo | None,
    now: datetime,
    *,
    history: Sequence[RotationEvent] = (),
    recent: timedelta = timedelta(minutes=15),
    secret_present: bool = True,
) -> RotationView:
    """The rotation phase of the root CA.

    Precedence: issuing (Issuing=True) > failed (lastFailureTime set) > renewal due (renewalTime passed)
    > rotated (latest rotation within ``recent``) > steady. Without a Certificate resource the phase is
    unmanaged (secret present) or unknown.
    """
    not_after = certificate.not_after if certificate else (resource.not_after if resource else None)
    not_before = certificate.not_before if certificate else (resource.not_before if resource else None)
    latest = history[-1] if history else None
    rotated_at = latest.at if latest else None
    left = days_left(not_after, now)
    if resource is None:
        phase = (
            RotationPhase.UNMANAGED if secret_present and certificate is not None else RotationPhase.UNKNOWN
        )
        message = (
            "not managed by a cert-manager Certificate"
            if phase is RotationPhase.UNMANAGED
            else "root CA not found"
        )
        return RotationView(
            phase, left, not_before, not_after, None, None, 0, None, None, rotated_at, "", message
        )

    retry_at = next_attempt(resource)
    attempts = max(resource.failed_issuance_attempts, 1) if resource.last_failure_time else 0
    reason = ""
    if resource.is_issuing:
        phase = RotationPhase.ISSUING
        reason = resource.issuing.reason if resource.issuing else ""
        message = f"issuing ({reason})" if reason else "issuing"
    elif resource.last_failure_time is not None:
        phase = RotationPhase.FAILED
        reason = (resource.issuing.reason if resource.issuing else "") or (
            resource.ready.reason if resource.ready else ""
        )
        if backoff_skipped(resource):
            changed = ", ".join(resource.request_mismatch or ())
            message = (
                f"failed {attempts}x; spec changed since ({changed}): next attempt as soon as cert-manager "
                "sees the change, no backoff"
            )
        else:
            message = f"failed {attempts}x, next attempt {_iso(retry_at)}"
    elif resource.renewal_time is not None and resource.renewal_time <= now:
        phase = RotationPhase.RENEWAL_DUE
        message = f"renewal due since {_iso(resource.renewal_time)}"
    elif rotated_at is not None and now - recent <= rotated_at <= now:
        phase = RotationPhase.ROTATED
        message = f"rotated at {_iso(rotated_at)}"
    else:
        phase = RotationPhase.STEADY
        message = f"next renewal {_iso(resource.renewal_time)}" if resource.renewal_time else "steady"
    return RotationView(
        phase=phase,
        days_left=left,
        not_before=not_before,
        not_after=not_after,
        renewal_time=resource.renewal_time,
        revision=resource.revision,
        failed_attempts=attempts,
        last_failure_time=resource.last_failure_time,
        next_attempt=retry_at if phase is RotationPhase.FAILED else None,
        rotated_at=rotated_at,
        reason=reason,
        message=message,
        retry_now=phase is RotationPhase.FAILED and backoff_skipped(resource),
    )
