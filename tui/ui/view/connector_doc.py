"""What the dashboard shows of the OPC UA connector's own certificate: a line in the OPC UA pane and a
preview (issue 12 item 14, docs/domain.md §2.6).

Plain data built from the :class:`~tui.core.model.state.ClusterState`; no Textual. The preview carries the
model's view so that its ``w`` key can write the public certificate; the private key is never in it.
"""

from __future__ import annotations

from tui.core.model.connector import ConnectorCertSource, ConnectorCertView
from tui.core.model.state import ClusterState, Severity
from tui.ui.view import format as fmt
from tui.ui.view.levels import Level, severity_level
from tui.ui.view.preview_doc import Field, PreviewDoc, Section, certificate_fields

SUBJECT = "connector-cert"
"""The subject of the connector certificate's findings."""


def _worst(state: ClusterState) -> Severity | None:
    found = [f.severity for f in state.findings if f.subject == SUBJECT]
    return min(found, key=lambda s: s.rank) if found else None


def connector_line(state: ClusterState) -> tuple[str, Level]:
    """One line for the OPC UA pane, most urgent first so 80 columns keep it: the worst finding's word,
    days to the next renewal and to expiry, the key of the preview, then the name, whose certificate it
    is and the application URI (dates are in the preview); with its colour."""
    view = state.connector_certificate
    if view is None:
        if state.loading:  # the collections that say where it is are not all listed yet
            return "Connector cert: loading", Level.MUTED
        return "Connector cert: unknown (the Secrets could not be read)", Level.MUTED
    if view.certificate is None:
        if (
            not view.present
            and view.issuing_certificate is None
            and view.source is ConnectorCertSource.CERT_MANAGER
        ):
            return "Connector cert: none found (no OPC UA connector deployed?)", Level.MUTED
        why = view.decode_error or "its Secret does not exist"
        return f"Connector cert: {why} · o details", Level.WARNING
    cert = view.certificate
    worst = _worst(state)
    parts = [str(worst.value) if worst is not None else "ok"]
    if view.renewal_time is not None:
        parts.append(f"renews in {fmt.days_text(view.days_to_renewal)}")
    parts.append(f"expires in {fmt.days_text(view.days_left)}")
    parts.append("o details")
    whose = "cert-manager" if view.source is ConnectorCertSource.CERT_MANAGER else "your own"
    parts.append(f"{fmt.common_name(cert.subject) or cert.subject} ({whose})")
    if cert.application_uri:
        parts.append(cert.application_uri)
    return "Connector cert: " + " · ".join(parts), severity_level(worst)


def connector_preview(state: ClusterState) -> PreviewDoc | None:
    """The preview of the connector's certificate; None when it was not read."""
    view = state.connector_certificate
    if view is None:
        return None
    settings = state.settings
    notes = [
        Field(
            f.severity.value.capitalize(),
            f.message.removeprefix("connector certificate: "),
            severity_level(f.severity),
        )
        for f in state.findings
        if f.subject == SUBJECT
    ]
    sections = [Section("Where it lives", _where_fields(view))]
    if view.certificate is not None:
        sections.insert(
            0,
            Section(
                "Certificate",
                certificate_fields(
                    view.certificate,
                    state.built_at,
                    settings.expiring_warn_days,
                    settings.expiring_critical_days,
                ),
            ),
        )
    elif view.decode_error:
        notes.append(Field("Cannot read", view.decode_error, Level.ERROR))
    cert = view.certificate
    return PreviewDoc(
        title="OPC UA connector certificate",
        sections=tuple(sections),
        pem=cert.pem if cert is not None else "",
        copy_value=cert.sha1 if cert is not None else None,
        notes=tuple(notes),
        export=view if cert is not None else None,
    )


def _where_fields(view: ConnectorCertView) -> tuple[Field, ...]:
    renews = (
        "cert-manager, each time with a new certificate every OPC UA server must be given"
        if view.renews_automatically
        else "nothing: a certificate of your own is renewed by you (az iot ops connector opcua client add)"
    )
    fields = [
        Field(
            "Source",
            "cert-manager (self-signed)" if view.source is ConnectorCertSource.CERT_MANAGER else "your own",
        ),
        Field("Secret", f"{view.namespace}/{view.secret_name}" + ("" if view.present else " (missing)")),
        Field("Key", view.key or fmt.DASH),
        Field("Certificate", view.issuing_certificate or fmt.DASH),
        Field("Renewed by", renews),
    ]
    if view.renewal_time is not None:
        fields.append(
            Field("Next renewal", f"{fmt.when(view.renewal_time)} ({fmt.days_text(view.days_to_renewal)})")
        )
    if view.certificate_ready is not None:
        fields.append(
            Field(
                "Ready",
                "yes" if view.certificate_ready else "no",
                Level.OK if view.certificate_ready else Level.WARNING,
            )
        )
    fields.append(Field("Private key", "never read, shown or written by aio-certs", Level.MUTED))
    return tuple(fields)
