"""Whether a Certificate's spec still matches the request of its next revision, as cert-manager asks.

cert-manager waits out its failure backoff only while the Certificate still matches the failed request;
a spec that no longer matches (a new DNS name, another issuer, another duration...) is issued again as
soon as cert-manager sees it (docs/domain.md §3.3). The comparison follows cert-manager's
``pki.RequestMatchesSpec``: the names in the CSR against the spec's, and the request's ``isCA``,
``usages``, ``duration`` and ``issuerRef`` against the spec's. A ``literalSubject`` is not compared
(cert-manager compares its encoded form), so such a spec only differs by the other fields here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import NameOID

from tui.core.build.readers import Obj, b64_bytes, field_of, spec_of, to_duration
from tui.core.model.state import RequestSpec

_DEFAULT_KIND = "Issuer"
_DEFAULT_GROUP = "cert-manager.io"

# Spec fields under spec.subject and the name attribute each is compared with.
_SUBJECT_FIELDS = (
    ("spec.subject.organizations", "organizations", NameOID.ORGANIZATION_NAME),
    ("spec.subject.countries", "countries", NameOID.COUNTRY_NAME),
    ("spec.subject.localities", "localities", NameOID.LOCALITY_NAME),
    ("spec.subject.organizationalUnits", "organizationalUnits", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("spec.subject.postalCodes", "postalCodes", NameOID.POSTAL_CODE),
    ("spec.subject.provinces", "provinces", NameOID.STATE_OR_PROVINCE_NAME),
    ("spec.subject.streetAddresses", "streetAddresses", NameOID.STREET_ADDRESS),
)


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text


def _values(items: Iterable[object]) -> tuple[str, ...]:
    return tuple(sorted(str(i) for i in items))


def _issuer(ref: Obj) -> tuple[str, str, str]:
    return (
        str(ref.get("name") or ""),
        str(ref.get("kind") or _DEFAULT_KIND),
        str(ref.get("group") or _DEFAULT_GROUP),
    )


def _csr_names(csr: x509.CertificateSigningRequest) -> tuple[tuple[str, tuple[str, ...]], ...]:
    subject = csr.subject

    def attrs(oid: x509.ObjectIdentifier) -> list[str]:
        return [str(a.value) for a in subject.get_attributes_for_oid(oid)]

    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        san = x509.SubjectAlternativeName([])
    common = attrs(NameOID.COMMON_NAME)
    names: list[tuple[str, tuple[str, ...]]] = [
        # Go keeps the last CN of a subject (pkix.Name.FillFromRDNSequence).
        ("spec.commonName", (common[-1],) if common else ()),
        ("spec.subject.serialNumber", _values(attrs(NameOID.SERIAL_NUMBER)[-1:])),
        ("spec.dnsNames", _values(san.get_values_for_type(x509.DNSName))),
        ("spec.uris", _values(san.get_values_for_type(x509.UniformResourceIdentifier))),
        ("spec.ipAddresses", _values(str(ip) for ip in san.get_values_for_type(x509.IPAddress))),
        ("spec.emailAddresses", _values(san.get_values_for_type(x509.RFC822Name))),
    ]
    names += [(field, _values(attrs(oid))) for field, _, oid in _SUBJECT_FIELDS]
    return tuple(names)


def request_spec(request: Obj) -> RequestSpec | None:
    """What a CertificateRequest object asked for; None when it has no CSR that can be read."""
    spec = spec_of(request)
    pem = b64_bytes(spec.get("request"))
    if not pem:
        return None
    try:
        csr = x509.load_pem_x509_csr(pem) if b"-----BEGIN" in pem else x509.load_der_x509_csr(pem)
        names = _csr_names(csr)
    except ValueError:
        return None
    usages = spec.get("usages")
    return RequestSpec(
        is_ca=bool(spec.get("isCA")),
        usages=_values(usages) if isinstance(usages, list) else (),
        duration=to_duration(spec.get("duration")),
        issuer=_issuer(field_of(spec, "issuerRef")),
        names=names,
    )


def _spec_names(spec: Obj) -> dict[str, tuple[str, ...]]:
    subject = field_of(spec, "subject")

    def listed(value: object) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else []

    common = spec.get("commonName")
    serial = subject.get("serialNumber")
    names = {
        "spec.commonName": (str(common),) if common else (),
        "spec.subject.serialNumber": (str(serial),) if serial else (),
        "spec.dnsNames": _values(listed(spec.get("dnsNames"))),
        "spec.uris": _values(listed(spec.get("uris"))),
        "spec.ipAddresses": _values(_ip(ip) for ip in listed(spec.get("ipAddresses"))),
        "spec.emailAddresses": _values(listed(spec.get("emailAddresses"))),
    }
    for field, key, _ in _SUBJECT_FIELDS:
        names[field] = _values(listed(subject.get(key)))
    return names


def spec_mismatches(certificate: Obj, request: RequestSpec) -> tuple[str, ...]:
    """The spec fields in which ``certificate`` no longer matches ``request`` (empty when it matches)."""
    spec = spec_of(certificate)
    out: list[str] = []
    if not spec.get("literalSubject"):
        wanted = _spec_names(spec)
        out += [field for field, values in request.names if wanted.get(field, ()) != values]
    else:
        # Only the SANs: the literal subject is compared encoded by cert-manager, not here.
        wanted = _spec_names(spec)
        sans = ("spec.dnsNames", "spec.uris", "spec.ipAddresses", "spec.emailAddresses")
        out += [field for field, values in request.names if field in sans and wanted[field] != values]
    if bool(spec.get("isCA")) != request.is_ca:
        out.append("spec.isCA")
    usages = spec.get("usages")
    if (_values(usages) if isinstance(usages, list) else ()) != request.usages:
        out.append("spec.usages")
    duration = to_duration(spec.get("duration"))
    # Compared only when both say: a default on either side is not a change (as cert-manager does).
    if duration is not None and request.duration is not None and duration != request.duration:
        out.append("spec.duration")
    if _issuer(field_of(spec, "issuerRef")) != request.issuer:
        out.append("spec.issuerRef")
    return tuple(out)
