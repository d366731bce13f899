"""Which Certificate a renewal targets, and what to tell someone before cert-manager re-issues it now.

Shared by ``aio-certs renew`` and the dashboard's renew dialog, so both find and say the same thing.
"""

from __future__ import annotations

from tui.core.model.state import CertificateView, ClusterState
from tui.core.text import printable


class RenewTargetError(ValueError):
    """No Certificate (or more than one) answers to the name; ``str()`` is one line."""


def find_certificate(state: ClusterState, name: str | None) -> CertificateView:
    """The Certificate NAME (or NAMESPACE/NAME) names; the root CA's when None.

    Raises :class:`RenewTargetError` when there is none, or when a bare NAME is in several namespaces.
    """
    if name is None:
        resource = state.root_ca.resource
        if resource is None:
            note = f" ({state.root_ca.note})" if state.root_ca.note else ""
            raise RenewTargetError(
                f"no Certificate manages the root CA secret {state.root_ca.key}{note}; "
                "name the Certificate to renew"
            )
        return resource
    namespace, sep, short = name.partition("/")
    if sep:
        found = [c for c in state.certificates if c.namespace == namespace and c.name == short]
    else:
        found = [c for c in state.certificates if c.name == name]
    if not found:
        known = ", ".join(c.key for c in state.certificates[:8]) or "none"
        raise RenewTargetError(f"Certificate '{printable(name)}': not found (known: {known})")
    if len(found) > 1:
        raise RenewTargetError(
            f"Certificate '{printable(name)}': in several namespaces "
            f"({', '.join(c.key for c in found)}); give NAMESPACE/NAME"
        )
    return found[0]


def renew_warnings(cert: CertificateView) -> tuple[str, ...]:
    """One line per consequence of renewing ``cert`` that the user should weigh first."""
    out = []
    if cert.is_issuing:
        reason = cert.issuing.reason if cert.issuing is not None else ""
        out.append(f"{cert.key} is already being issued (reason {reason or 'unknown'})")
    # The new key, and with it the bundle dropping the old CA at once (trust-manager keeps none), is what
    # a CA renewal risks: leaves signed by the old key stop verifying (docs/domain.md §3.8, §4.3).
    policy = cert.rotation_policy
    if cert.is_ca and policy != "Never":
        if policy == "Always":
            head = f"{cert.key} is a CA with private key rotationPolicy Always: the new CA has a new key"
        else:
            # Unset: cert-manager's default, which changed in v1.18 (docs/domain.md §3.1).
            head = (
                f"{cert.key} is a CA with no private key rotationPolicy: cert-manager's default, Always "
                "from v1.18 (a new key), Never before"
            )
        out.append(
            f"{head}; with a new key, every certificate it signed stops verifying as soon as the trust "
            "bundle holds the new CA, until cert-manager issues it again"
        )
    elif cert.is_ca:
        out.append(
            f"{cert.key} is a CA with rotationPolicy Never: it is re-signed with the same key, so "
            "existing leaves stay valid"
        )
    return tuple(out)
