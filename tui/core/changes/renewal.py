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
    # cert-manager's default private key rotationPolicy is Always (a new key on every issuance).
    if cert.is_ca and (cert.rotation_policy or "Always") == "Always":
        out.append(
            f"{cert.key} is a CA with private key rotationPolicy Always: the new CA has a new key, "
            "so every certificate it signed must be re-issued and every client must get the new trust "
            "bundle before the old CA expires"
        )
    elif cert.is_ca:
        out.append(
            f"{cert.key} is a CA with rotationPolicy Never: it is re-signed with the same key, so "
            "existing leaves stay valid"
        )
    return tuple(out)
