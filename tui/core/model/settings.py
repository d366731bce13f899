"""Settings of the cluster model, and the parsers for the flags that set them.

Kept apart from the flags themselves so the CLI, the dashboard and tests build the same object. Parse
errors are ``ValueError`` with a one-line message that names the flag and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.core.model.names import CERT_MANAGER_NAMESPACE, DEFAULT_NAMESPACE, ISSUER_KINDS, AioNames

# DNS-1123 subdomain: what Kubernetes accepts as an object name.
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# DNS-1123 label: what Kubernetes accepts as a namespace name.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# ConfigMap data keys (k8s IsConfigMapKey).
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _check_name(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"{what}: empty name")
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(f"{what}: {value!r} is not a valid Kubernetes name (a-z, 0-9, '-', '.')")
    return value


def parse_issuer_flag(text: str) -> tuple[str, str]:
    """Parse ``--issuer KIND/NAME`` into ``(kind, name)``; KIND is Issuer or ClusterIssuer.

    The kind is matched case-insensitively and returned in its canonical spelling.
    """
    kind, sep, name = text.strip().partition("/")
    if not sep or not kind or not name:
        raise ValueError(f"--issuer: expected KIND/NAME such as ClusterIssuer/my-issuer, got {text!r}")
    canonical = {k.lower(): k for k in ISSUER_KINDS}.get(kind.lower())
    if canonical is None:
        raise ValueError(f"--issuer: kind {kind!r} must be Issuer or ClusterIssuer")
    return canonical, _check_name(name, "--issuer")


def parse_trust_bundle_flag(text: str) -> tuple[str, str]:
    """Parse ``--trust-bundle CONFIGMAP/KEY`` into ``(configmap, key)``."""
    configmap, sep, key = text.strip().partition("/")
    if not sep or not configmap or not key:
        raise ValueError(f"--trust-bundle: expected CONFIGMAP/KEY such as my-bundle/ca.crt, got {text!r}")
    _check_name(configmap, "--trust-bundle")
    if len(key) > 253 or not _CONFIGMAP_KEY.match(key):
        raise ValueError(f"--trust-bundle: key {key!r} is not a valid ConfigMap key (letters, digits, '-._')")
    return configmap, key


def parse_namespace(text: str) -> str:
    """Validate a namespace given with ``-n/--namespace``."""
    value = text.strip()
    if not value or len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(f"--namespace: {text!r} is not a valid namespace name")
    return value


@dataclass(frozen=True)
class ModelSettings:
    """What the model needs to know beyond the cluster objects themselves.

    ``issuer_override`` is ``(kind, name)`` from ``--issuer`` and ``trust_bundle_override`` is
    ``(configmap, key)`` from ``--trust-bundle``; both are used only when the broker listener and the
    default dataflow endpoint do not name them (bring-your-own issuer sites without those objects).
    """

    namespace: str = DEFAULT_NAMESPACE
    cert_manager_namespace: str = CERT_MANAGER_NAMESPACE
    expiring_warn_days: int = 30
    expiring_critical_days: int = 7
    issuer_override: tuple[str, str] | None = None
    trust_bundle_override: tuple[str, str] | None = None
    rotation_recent_seconds: int = 15 * 60
    """How long after a rotation the phase reads "rotated at T" instead of "steady"."""

    def __post_init__(self) -> None:
        if self.expiring_critical_days < 0 or self.expiring_warn_days < 0:
            raise ValueError("expiry thresholds: days must not be negative")
        if self.expiring_critical_days > self.expiring_warn_days:
            raise ValueError(
                f"expiry thresholds: critical ({self.expiring_critical_days}d) must not exceed "
                f"warning ({self.expiring_warn_days}d)"
            )

    @property
    def names(self) -> AioNames:
        """The AIO object names derived from the namespaces."""
        return AioNames(self.namespace, self.cert_manager_namespace)
