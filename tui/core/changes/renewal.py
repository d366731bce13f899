"""What to tell someone before they ask cert-manager to re-issue a Certificate now.

Shared by ``aio-certs renew`` and the dashboard's renew dialog, so both say the same thing.
"""

from __future__ import annotations

from tui.core.model.state import CertificateView


def renew_warnings(cert: CertificateView) -> tuple[str, ...]:
    """One line per consequence of renewing ``cert`` that the user should weigh first."""
    out = []
    if cert.is_issuing:
        reason = cert.issuing.reason if cert.issuing is not None else ""
        out.append(f"{cert.key} is already being issued (reason {reason or 'unknown'})")
    # cert-manager's default private key rotationPolicy is Always (a new key on every issuance).
    if cert.is_ca and (cert.rotation_policy or "Always") == "Always":
        out.append(f"{cert.key} is a CA with private key rotationPolicy Always: the new CA has a new key, "
                   "so every certificate it signed must be re-issued and every client must get the new trust "
                   "bundle before the old CA expires")
    elif cert.is_ca:
        out.append(f"{cert.key} is a CA with rotationPolicy Never: it is re-signed with the same key, so "
                   "existing leaves stay valid")
    return tuple(out)
