"""The root CA view: the CA Secret found through the discovered issuer, decoded, with its rotation.

Rotation history is carried from the previous state of a live view, so a rotation seen happening
reads "rotated at T"; the judgement itself lives in :mod:`tui.core.model.rotation`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from tui.core.build.cache import DecodeCache, decode_value
from tui.core.build.certmanager import issuer_type
from tui.core.build.readers import Obj, b64_bytes, field_of, meta_of, spec_of, status_of, to_int
from tui.core.certs import CertificateInfo, cert_signed_by
from tui.core.model import resources as rk
from tui.core.model.names import (
    ANNOTATION_CERTIFICATE_NAME,
    ANNOTATION_CERTIFICATE_REVISION,
    SECRET_CA_CRT,
    SECRET_TLS_CRT,
    SECRET_TLS_KEY,
    AioNames,
    is_quickstart_subject,
)
from tui.core.model.rotation import assess_rotation, detect_rotation, extend_history, infer_rotation
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import RawSnapshot
from tui.core.model.state import (
    CertificateView,
    ClusterState,
    DiscoveryView,
    RootCAView,
    RotationEvent,
    RotationPhase,
    RotationView,
)


def _certs_from_secret(
    secret: Obj | None, key: str, cache: DecodeCache, source: str
) -> tuple[tuple[CertificateInfo, ...], str | None]:
    data = b64_bytes(field_of(secret, "data").get(key))
    if data is None:
        return (), None
    value = decode_value(cache, data, source)
    return value.certificates, value.error


def issued_revision(
    raw: RawSnapshot,
    resource: CertificateView | None,
    certificate: CertificateInfo | None,
    cache: DecodeCache,
) -> int | None:
    """The revision that issued ``certificate``: the ``cert-manager.io/certificate-revision`` annotation
    of the CertificateRequest of ``resource`` whose ``status.certificate`` is it; else the Certificate's
    ``status.revision``.

    cert-manager writes the new certificate to the Secret before it moves ``status.revision`` on (CM
    ``issuing_controller.go``, ``issueCertificate``), so between the two the Secret holds revision N+1
    while the status still says N: the request is the record of which revision a certificate is.
    """
    fallback = resource.revision if resource is not None else None
    if resource is None or certificate is None:
        return fallback
    for obj in raw.items(rk.CERTIFICATE_REQUESTS.key):
        meta = meta_of(obj)
        annotations = field_of(meta, "annotations")
        if meta.get("namespace") != resource.namespace:
            continue
        if annotations.get(ANNOTATION_CERTIFICATE_NAME) != resource.name:
            continue
        issued = b64_bytes(status_of(obj).get("certificate"))
        if not issued:
            continue
        value = decode_value(cache, issued, f"{resource.key} request {meta.get('name')}")
        if value.certificates and value.certificates[0].sha256 == certificate.sha256:
            return to_int(annotations.get(ANNOTATION_CERTIFICATE_REVISION)) or fallback
    return fallback


def old_key_certificates(
    raw: RawSnapshot,
    certificates: Sequence[CertificateView],
    issuer_key: str,
    ca: CertificateInfo | None,
    cache: DecodeCache,
) -> tuple[str, ...]:
    """Keys of the Certificates ``issuer_key`` signs whose issued certificate names ``ca`` as its issuer
    but does not verify against ``ca``'s key: signed by the key the CA had before a rotation.

    trust-manager keeps no previous CA (docs/domain.md §4.3), so such a certificate fails for every
    client that has the new bundle until cert-manager issues it again; cert-manager does not do that
    because the CA changed, only at the certificate's own renewal. A Secret outside the namespaces read
    is not judged.
    """
    if ca is None:
        return ()
    signer = ca

    def signed(leaf: CertificateInfo) -> bool:
        return cache.verified(leaf.sha256, signer.sha256, lambda: cert_signed_by(leaf, signer))

    out = []
    for cert in certificates:
        if cert.issuer_ref.issuer_key(cert.namespace) != issuer_key or not cert.secret_name:
            continue
        secret = raw.get(rk.SECRETS.key, cert.namespace, cert.secret_name)
        issued, _ = _certs_from_secret(secret, SECRET_TLS_CRT, cache, f"{cert.key} tls.crt")
        leaf = issued[0] if issued else None
        if leaf is None or leaf.issuer != ca.subject or leaf.sha256 == ca.sha256:
            continue
        if not signed(leaf):
            out.append(cert.key)
    return tuple(sorted(out))


def build_root_ca(
    raw: RawSnapshot,
    settings: ModelSettings,
    discovery: DiscoveryView,
    certificates: Sequence[CertificateView],
    now: datetime,
    cache: DecodeCache,
    previous: ClusterState | None,
) -> tuple[RootCAView, tuple[RotationEvent, ...]]:
    """Locate the CA secret through the discovered issuer, decode it and judge its rotation."""
    names: AioNames = settings.names
    issuer_res = rk.CLUSTER_ISSUERS if discovery.issuer_kind == "ClusterIssuer" else rk.ISSUERS
    issuer_obj = raw.get(issuer_res.key, discovery.issuer_namespace, discovery.issuer_name)
    note = ""
    locatable = True
    secret_ns, secret_name = names.cert_manager_namespace, names.root_ca_secret
    if issuer_obj is not None:
        spec = spec_of(issuer_obj)
        ca_secret = field_of(spec, "ca").get("secretName")
        if ca_secret:
            secret_name = str(ca_secret)
            # A ClusterIssuer reads its secret from cert-manager's cluster resource namespace.
            secret_ns = (
                names.cert_manager_namespace
                if discovery.issuer_kind == "ClusterIssuer"
                else discovery.issuer_namespace
            )
        else:
            locatable = False
            note = (
                f"issuer {discovery.issuer_key} is of type {issuer_type(spec)}; "
                "its CA is not kept in the cluster"
            )
    secret = raw.get(rk.SECRETS.key, secret_ns, secret_name)
    resource = next(
        (c for c in certificates if c.namespace == secret_ns and c.secret_name == secret_name), None
    )
    tls, tls_error = _certs_from_secret(secret, SECRET_TLS_CRT, cache, f"{secret_ns}/{secret_name} tls.crt")
    ca, _ = _certs_from_secret(secret, SECRET_CA_CRT, cache, f"{secret_ns}/{secret_name} ca.crt")
    certificate = tls[0] if tls else None
    seen = {certificate.sha256} if certificate else set()
    chain = []
    for extra in (*tls[1:], *ca):
        if extra.sha256 not in seen:
            seen.add(extra.sha256)
            chain.append(extra)
    if secret is not None and certificate is None and tls_error is None:
        tls_error = "secret has no tls.crt"

    # What this view still waits for: an object missing from a collection not listed yet is unknown.
    loading = list(discovery.loading if "brokerlisteners" in discovery.loading else ())
    if issuer_obj is None and raw.pending(issuer_res.key, discovery.issuer_namespace or None):
        loading.append(issuer_res.plural)
    if secret is None and raw.pending(rk.SECRETS.key, secret_ns):
        loading.append(rk.SECRETS.plural)
    if resource is None and raw.pending(rk.CERTIFICATES.key, secret_ns):
        loading.append(rk.CERTIFICATES.plural)

    history: tuple[RotationEvent, ...] = previous.rotation_history if previous is not None else ()
    recent = timedelta(seconds=settings.rotation_recent_seconds)
    event: RotationEvent | None = None
    # Which revision issued the certificate in the Secret, by its request (the status may lag it).
    revision = issued_revision(raw, resource, certificate, cache)
    # A state built from part of the collections is no "before": infer as a first look would. Nor is it
    # a look at all while the secret or its Certificate is loading: no event is recorded from it.
    if loading:
        event = None
    elif previous is None or previous.loading:
        event = infer_rotation(resource, certificate, now, recent, revision=revision)
    elif previous.root_ca.key == f"{secret_ns}/{secret_name}":
        # A different secret means a different issuer was discovered, which is not a rotation.
        before = previous.root_ca
        event = detect_rotation(
            before.certificate,
            before.resource.revision if before.resource else None,
            certificate,
            revision,
            now,
        )
    history = extend_history(history, event)
    rotation = assess_rotation(
        resource, certificate, now, history=history, recent=recent, secret_present=secret is not None
    )
    # The Certificate's own status says the phase even while the secret is loading; without it, or with
    # the CA's location unconfirmed, the phase would be a guess ("unmanaged", "unknown").
    if loading and (resource is None or set(loading) - {rk.SECRETS.plural, rk.CERTIFICATES.plural}):
        rotation = _loading_rotation(rotation, loading)
    view = RootCAView(
        secret_namespace=secret_ns,
        secret_name=secret_name,
        secret_present=secret is not None,
        certificate=certificate,
        chain=tuple(chain),
        anchor=next((c for c in (*tls[:1], *chain) if c.self_signed), None),
        decode_error=tls_error if secret is not None else None,
        private_key_present=bool(field_of(secret, "data").get(SECRET_TLS_KEY)),
        resource=resource,
        days_left=rotation.days_left,
        rotation=rotation,
        quickstart=certificate is not None and is_quickstart_subject(certificate.subject),
        note=note,
        locatable=locatable,
        old_key_certificates=old_key_certificates(raw, certificates, discovery.issuer_key, certificate, cache)
        if issuer_obj is not None and locatable
        else (),
        loading=tuple(loading),
    )
    return view, history


def _loading_rotation(rotation: RotationView, loading: Sequence[str]) -> RotationView:
    """``rotation`` as far as it is known while ``loading`` is not listed yet: phase ``loading``, never
    ``unmanaged`` or ``unknown`` for want of a Certificate or a secret that has not arrived."""
    return dataclasses.replace(
        rotation,
        phase=RotationPhase.LOADING,
        message=f"loading {', '.join(loading)}",
        reason="",
        next_attempt=None,
        retry_now=False,
    )
