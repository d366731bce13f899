"""The Root CA pane: the CA that signs AIO's certificates, its rotation and the trust bundle check.

Split into a few :class:`~tui.ui.widgets.text_line.TextLine` blocks so the once-a-second countdown
(days left, next renewal) repaints only its own line. The rotation history is what this process saw;
the model carries it from state to state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll

from tui.core.durations import days_left, expiry_phrase
from tui.core.health.report import loading_text, unread_reason
from tui.core.model.snapshot import AreaState
from tui.core.model.state import Area, CertificateView, ClusterState, Condition, RotationPhase, Severity
from tui.ui.messages import ChangeRequested, PreviewRequested
from tui.ui.view import format as fmt
from tui.ui.view.labelled import LABEL_WIDTH, join_lines, labelled
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette, days_level
from tui.ui.view.rows import SEVERITY_WORD
from tui.ui.view.urgency import finding_pane
from tui.ui.widgets.text_line import TextLine
from tui.ui.widgets.titled import Titled
from tui.ui.widgets.typeahead import note_target

GAUGE_WIDTH = 20
HISTORY_SHOWN = 4

_LINE_OF_FINDING: tuple[tuple[str, str], ...] = (
    ("root-ca-expir", "root-gauge"),
    ("root-ca-renewal", "root-rotation"),
    ("root-ca-not-ready", "root-resource"),
    ("root-ca-old-key", "root-bundle"),
    ("root-ca", "root-identity"),
    ("bundle", "root-bundle"),
    ("quickstart", "subtitle"),
)
"""Finding code prefix -> the line of this pane that shows what it is about (first match wins)."""

_WORD_LEVEL = {Severity.CRITICAL: Level.ERROR, Severity.WARNING: Level.WARNING}


def finding_marks(state: ClusterState) -> dict[str, Severity]:
    """The worst critical or warning finding of this pane per line id (``subtitle`` for the border's),
    so each line the tab strip counts says so in a word (trial 12: ``1 warn`` on the tab, nothing on
    the pane labelled WARN)."""
    marks: dict[str, Severity] = {}
    for finding in state.findings:
        if finding.severity not in _WORD_LEVEL or finding_pane(finding) != "root-ca":
            continue
        line = next(
            (ln for prefix, ln in _LINE_OF_FINDING if finding.code.startswith(prefix)), "root-identity"
        )
        if line not in marks or finding.severity.rank < marks[line].rank:
            marks[line] = finding.severity
    return marks


def with_word(text: Text, severity: Severity | None, palette: Palette) -> Text:
    """``text`` (a labelled line) with ``CRIT`` or ``WARN`` between its label and its value."""
    if severity is None:
        return text
    word = Text(f"{SEVERITY_WORD[severity]} ", style=palette.style(_WORD_LEVEL[severity]) + " bold")
    return Text.assemble(text[:LABEL_WIDTH], word, text[LABEL_WIDTH:])


_PHASE_LEVEL = {
    RotationPhase.STEADY: Level.OK,
    RotationPhase.ROTATED: Level.INFO,
    RotationPhase.ISSUING: Level.INFO,
    RotationPhase.RENEWAL_DUE: Level.WARNING,
    RotationPhase.FAILED: Level.ERROR,
    RotationPhase.UNMANAGED: Level.WARNING,
    RotationPhase.UNKNOWN: Level.ERROR,
    RotationPhase.LOADING: Level.MUTED,
}


def _root_loading(state: ClusterState) -> str:
    """``loading secrets, ...`` when the CA secret is not there yet because its collections are not listed
    (or its location is not confirmed yet); empty otherwise."""
    root = state.root_ca
    if root.loading and (not root.secret_present or root.location_unconfirmed):
        return loading_text(root.loading)
    return ""


def gauge_text(state: ClusterState, now: datetime, palette: Palette) -> Text:
    """``Left      ████████░░░░ 59d (66%)``, coloured by the expiry thresholds."""
    root = state.root_ca
    cert = root.certificate
    if cert is None:
        return labelled(palette, "Left", ("loading" if _root_loading(state) else "unknown", Level.MUTED))
    lifetime = (cert.not_after - cert.not_before).total_seconds()
    remaining = (cert.not_after - now).total_seconds()
    fraction = min(max(remaining / lifetime, 0.0), 1.0) if lifetime > 0 else 0.0
    filled = round(fraction * GAUGE_WIDTH)
    level = days_level(
        remaining / 86400, state.settings.expiring_warn_days, state.settings.expiring_critical_days
    )
    # The days-left figure every view shows (tui.core.durations.days_left).
    days = days_left(cert.not_after, now)
    left = expiry_phrase(days) if days < 0 else f"{fmt.days_text(days)} ({fraction:.0%})"
    return labelled(
        palette,
        "Left",
        ("█" * filled, level),
        ("░" * (GAUGE_WIDTH - filled), Level.MUTED),
        (" " + left, level),
    )


def rotation_text(state: ClusterState, now: datetime, palette: Palette) -> Text:
    """Phase with its one-line status, and the next renewal time with a countdown."""
    rotation = state.root_ca.rotation
    level = _PHASE_LEVEL.get(rotation.phase, Level.PLAIN)
    phase = labelled(palette, "Rotation", (rotation.phase.value, level))
    if rotation.phase is RotationPhase.FAILED and rotation.retry_now:
        # cert-manager skips its backoff once the spec no longer matches the failed request (§3.3).
        phase.append(" · retry at once: spec changed since the failure", palette.style(Level.ERROR))
    elif rotation.phase is RotationPhase.FAILED and rotation.next_attempt is not None:
        phase.append(
            f" · retry {fmt.when(rotation.next_attempt)} ({fmt.until(rotation.next_attempt, now)})",
            palette.style(Level.ERROR),
        )
    elif rotation.phase is RotationPhase.ROTATED and rotation.rotated_at is not None:
        phase.append(f" · at {fmt.when(rotation.rotated_at)}", palette.style(Level.INFO))
    elif rotation.reason:
        phase.append(f" · {rotation.reason}", palette.style(level))
    renewal = rotation.renewal_time
    if renewal is None:
        unknown = "loading" if rotation.phase is RotationPhase.LOADING else "-"
        next_line = labelled(palette, "Renews", (unknown, Level.MUTED))
    else:
        due = renewal <= now
        next_line = labelled(
            palette,
            "Renews",
            (fmt.when(renewal), Level.PLAIN),
            (f" ({fmt.until(renewal, now)})", Level.WARNING if due else Level.MUTED),
        )
    return join_lines(phase, next_line)


def identity_text(state: ClusterState, palette: Palette) -> Text:
    """Subject, SHA-1, serial and validity, or why the CA cannot be shown."""
    root = state.root_ca
    cert = root.certificate
    if cert is None:
        # Never read (cluster unreachable, not listed yet) is unknown, never "not found" (issue 13).
        unread = _root_loading(state) or (
            unread_reason(state, Area.ROOT_CA) if not root.secret_present else None
        )
        reason = (
            unread
            or root.note
            or root.decode_error
            or ("secret not found" if not root.secret_present else "no certificate in the secret")
        )
        muted = unread is not None or not root.locatable
        return join_lines(
            labelled(palette, "Secret", (root.key, Level.PLAIN)),
            labelled(palette, "Status", (reason, Level.MUTED if muted else Level.ERROR)),
        )
    lines = [
        labelled(palette, "Subject", (cert.subject, Level.PLAIN)),
        labelled(palette, "SHA-1", (cert.sha1, Level.PLAIN)),
        labelled(palette, "Serial", (cert.serial, Level.PLAIN)),
        labelled(
            palette,
            "Valid",
            (
                f"{fmt.when(cert.not_before, seconds=False)} → {fmt.when(cert.not_after, seconds=False)}",
                Level.PLAIN,
            ),
        ),
    ]
    return join_lines(*lines)


def resource_text(state: ClusterState, palette: Palette) -> Text:
    """The cert-manager Certificate writing the CA secret: name, revision, Ready and Issuing conditions."""
    resource = state.root_ca.resource
    if resource is None:
        # Certificates never read are unknown, not absent (trial 6: a stopped site read as unmanaged).
        root = state.root_ca
        waits = (
            [p for p in root.loading if p == "certificates"]
            if not root.location_unconfirmed
            else root.loading
        )
        unread = loading_text(waits) or unread_reason(state, Area.ROOT_CA)
        return labelled(
            palette, "Resource", (unread or "no cert-manager Certificate writes this secret", Level.MUTED)
        )
    revision = f"rev {resource.revision}" if resource.revision is not None else "rev -"
    ready_level = Level.OK if resource.is_ready else Level.WARNING
    issuing_level = Level.INFO if resource.is_issuing else Level.MUTED
    return join_lines(
        labelled(palette, "Resource", (resource.name, Level.PLAIN)),
        labelled(
            palette,
            "Status",
            (revision, Level.PLAIN),
            (" · Ready ", Level.MUTED),
            (_condition(resource.ready, "Ready"), ready_level),
            (" · Issuing ", Level.MUTED),
            (_condition(resource.issuing, ""), issuing_level),
        ),
    )


def _condition(condition: Condition | None, usual_reason: str) -> str:
    # "True (Ready)" says nothing more than "True": show the reason only when it is news.
    if condition is None:
        return "-"
    if condition.reason and condition.reason != usual_reason:
        return f"{condition.status} ({condition.reason})"
    return condition.status


def bundle_text(state: ClusterState, palette: Palette) -> Text:
    """Whether the trust bundle holds the current CA, and the leaves that stopped verifying with it.

    trust-manager rebuilds the bundle from its current sources and keeps no previous CA
    (docs/domain.md §4.3): after a key rotation, a leaf still signed by the old key fails for every
    client with the new bundle until it is issued again. Those are what this line counts.
    """
    bundle = state.trust_bundle
    if not bundle.present or bundle.discovery_pending:
        unread = loading_text(bundle.loading) or unread_reason(state, Area.TRUST_BUNDLE)
        if unread is not None:
            return labelled(palette, "Bundle", (f"{bundle.configmap}: {unread}", Level.MUTED))
        return labelled(palette, "Bundle", (f"{bundle.configmap} not found", Level.ERROR))
    if bundle.holds_current_ca is None:
        current = ("current CA loading" if _root_loading(state) else "current CA unknown", Level.MUTED)
    elif bundle.holds_current_ca:
        current = ("✓ current CA", Level.OK)
    else:
        current = ("✗ current CA MISSING", Level.ERROR)
    count = len(bundle.certificates)
    parts = [current, (f" · {count} cert{'s' if count != 1 else ''}", Level.MUTED)]
    stale = state.root_ca.old_key_certificates
    if stale:
        parts.append((f" · ✗ {len(stale)} signed by the old key", Level.ERROR))
    return labelled(palette, "Bundle", *parts)


SIGNED_SHOWN = 4
"""Certificates listed by name on the "Signed" lines; the rest are counted."""


def signed_certificates(state: ClusterState) -> tuple[CertificateView, ...]:
    """The cert-manager Certificates this CA signs: those whose issuer keeps its CA in the root CA's secret
    (the broker's server certificate, the connector's...), the CA's own Certificate left out."""
    root = state.root_ca
    issuers = {i.key for i in state.issuers if i.ca_secret_name == root.secret_name}
    own = root.resource.key if root.resource is not None else None
    return tuple(
        c
        for c in state.certificates
        if c.key != own
        and c.issuer_ref.group == "cert-manager.io"
        and c.issuer_ref.issuer_key(c.namespace) in issuers
    )


def signed_text(state: ClusterState, palette: Palette) -> Text:
    """Whether the certificates this CA signs were issued again since the CA itself was (issue 13 item 30).

    A certificate whose ``notBefore`` is older than the CA's was signed by the previous CA: after a renewal
    it still has to be re-issued (with a new key it no longer verifies against the bundle at all,
    :attr:`~tui.core.model.state.RootCAView.old_key_certificates`).
    """
    cert = state.root_ca.certificate
    signed = signed_certificates(state)
    if cert is None or not signed:
        waits = [p for p in state.loading if p in ("certificates", "issuers", "clusterissuers")]
        unread = (
            _root_loading(state)
            or loading_text(waits)
            or unread_reason(state, Area.ROOT_CA)
            or unread_reason(state, Area.ISSUERS)
        )
        return labelled(
            palette, "Signed", (unread or "no cert-manager Certificate signed by this CA", Level.MUTED)
        )
    old_key = set(state.root_ca.old_key_certificates)
    behind = [c for c in signed if c.not_before is None or c.not_before < cert.not_before]
    if not behind:
        names = ", ".join(c.name for c in signed[:SIGNED_SHOWN])
        more = f" +{len(signed) - SIGNED_SHOWN} more" if len(signed) > SIGNED_SHOWN else ""
        return labelled(palette, "Signed", (f"✓ all issued since this CA: {names}{more}", Level.OK))
    worst = Level.ERROR if old_key & {c.key for c in behind} else Level.WARNING
    since = fmt.when(cert.not_before, seconds=False)
    lines = [
        labelled(
            palette,
            "Signed",
            (f"✗ {len(behind)} of {len(signed)} not re-issued since this CA ({since})", worst),
        )
    ]
    # Only what still needs doing gets a line of its own: the pane has no room to spare (issue 13, 14).
    for c in behind[:SIGNED_SHOWN]:
        if c.not_before is None:
            what, level = "not issued yet", Level.WARNING
        elif c.key in old_key:
            what, level = f"issued {fmt.when(c.not_before, seconds=False)}, by the old key", Level.ERROR
        else:
            what, level = f"issued {fmt.when(c.not_before, seconds=False)}, before", Level.WARNING
        lines.append(labelled(palette, "", (f"{c.name} ", Level.PLAIN), (what, level)))
    if len(behind) > SIGNED_SHOWN:
        lines.append(labelled(palette, "", (f"+{len(behind) - SIGNED_SHOWN} more", Level.MUTED)))
    return join_lines(*lines)


def key_text(state: ClusterState, palette: Palette) -> Text:
    """The root CA's ``rotationPolicy``: whether a renewal makes a new key, which invalidates every
    leaf signed by the old one as soon as the bundle updates (docs/domain.md §3.1, §4.3)."""
    resource = state.root_ca.resource
    if resource is None:
        loading = state.root_ca.rotation.phase is RotationPhase.LOADING
        return labelled(palette, "Key", ("loading" if loading else "-", Level.MUTED))
    policy = resource.rotation_policy
    if policy == "Never":
        return labelled(palette, "Key", ("rotationPolicy Never: renewals keep the key", Level.PLAIN))
    if policy == "Always":
        return labelled(
            palette,
            "Key",
            ("rotationPolicy Always: ", Level.PLAIN),
            (
                "each renewal makes a new key; leaves signed by the old one fail once the bundle updates",
                Level.WARNING,
            ),
        )
    if policy:
        return labelled(palette, "Key", (f"rotationPolicy {policy} (unknown)", Level.WARNING))
    return labelled(
        palette,
        "Key",
        ("rotationPolicy unset: ", Level.PLAIN),
        ("cert-manager's default, Always from v1.18 (a new key each renewal), Never before", Level.WARNING),
    )


def history_text(state: ClusterState, palette: Palette) -> Text:
    """The latest rotations seen this run, newest first."""
    events = list(reversed(state.rotation_history))[:HISTORY_SHOWN]
    if not events:
        return labelled(palette, "Rotations", ("none seen this run", Level.MUTED))
    lines = []
    for index, event in enumerate(events):
        label = "Rotations" if index == 0 else ""
        # Eight digits tell rotations apart and keep each on one line of the 120x34 pane (the preview
        # has the whole serial).
        serial = fmt.thumb(event.serial, 8) if event.serial else "-"
        rev = f" rev {event.revision}" if event.revision is not None else ""
        lines.append(labelled(palette, label, (f"{fmt.when(event.at)} serial {serial}{rev}", Level.PLAIN)))
    return join_lines(*lines)


class RootCAPane(Titled, VerticalScroll):
    """Everything about the root CA on one scrollable pane; ``enter`` opens its preview."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "preview", "Preview", id="root.preview", tooltip="Preview the root CA certificate"),
        Binding(
            "j", "scroll_down", "Down", show=False, id="root.down", tooltip="Scroll the Root CA pane down"
        ),
        Binding("k", "scroll_up", "Up", show=False, id="root.up", tooltip="Scroll the Root CA pane up"),
        Binding(
            "r",
            "renew",
            "Renew",
            id="root.renew",
            tooltip="Renew the root CA now (cert-manager re-issues it, as cmctl renew; asks first)",
        ),
    ]

    def __init__(self, *, id: str = "root-ca") -> None:
        super().__init__(id=id, classes="pane")
        self.set_title("Root CA")
        self._state: ClusterState | None = None
        self.palette = DEFAULT_PALETTE
        self._marks: dict[str, Severity] = {}
        self._subtitle = ""

    async def handle_key(self, event: events.Key) -> bool:
        """Note this pane as the key's target (keys typed ahead, :mod:`tui.ui.widgets.typeahead`)."""
        note_target(event, self)
        return await super().handle_key(event)

    def compose(self) -> ComposeResult:
        """The blocks of the pane, each repainted on its own.

        What changes in a rotation comes first (time left, phase, bundle, re-issued leaves, history), so
        it stays in view at 120x34 when a rotation adds lines; the CA's identity and its resource, which
        the preview also shows, come after. Values wrap under their column, never under their label.
        """
        yield TextLine("waiting for the cluster…", id="root-gauge", hang=LABEL_WIDTH)
        yield TextLine("", id="root-rotation", hang=LABEL_WIDTH)
        yield TextLine("", id="root-bundle", hang=LABEL_WIDTH)
        yield TextLine("", id="root-signed", hang=LABEL_WIDTH)
        yield TextLine("", id="root-history", hang=LABEL_WIDTH)
        yield TextLine("", id="root-identity", hang=LABEL_WIDTH)
        yield TextLine("", id="root-resource", hang=LABEL_WIDTH)
        yield TextLine("", id="root-key", hang=LABEL_WIDTH)
        yield TextLine("", id="root-area")

    def _line(self, widget_id: str) -> TextLine:
        return self.query_one(f"#{widget_id}", TextLine)

    def show(self, state: ClusterState, now: datetime) -> None:
        """Show a new state."""
        self._state = state
        palette = self.palette
        root = state.root_ca
        phase = root.rotation.phase.value
        area = state.area("root-ca")
        # The connection state in the title, as on the other panes: the lines below may be out of view.
        # "pending" reads as a phase of the CA; the collections not listed yet are "loading".
        area_word = "loading" if area.state is AreaState.PENDING else area.state.value
        suffix = "" if area.ok or area_word == phase else f" · {area_word}"
        self.set_title(f"Root CA · {phase}{suffix}")
        marks = self._marks = finding_marks(state)
        subtitle = "quickstart CA · not for production" if root.quickstart else ""
        if subtitle and "subtitle" in marks:
            subtitle = f"{SEVERITY_WORD[marks['subtitle']]} {subtitle}"
        self._subtitle = subtitle
        self._show_subtitle()

        def show(line_id: str, text: Text) -> None:
            self._line(line_id).show(with_word(text, marks.get(line_id), palette))

        show("root-identity", identity_text(state, palette))
        show("root-resource", resource_text(state, palette))
        show("root-key", key_text(state, palette))
        show("root-bundle", bundle_text(state, palette))
        show("root-signed", signed_text(state, palette))
        show("root-history", history_text(state, palette))
        if area.state is AreaState.PENDING:
            pending = [key.rsplit("/", 1)[-1] for key, part in area.parts if part.state is AreaState.PENDING]
            self._line("root-area").show(loading_text(pending), Level.MUTED)
        else:
            self._line("root-area").show(
                "" if area.ok else f"{area.state.value}: {area.message}", None if area.ok else Level.WARNING
            )
        self._offer_renew(root.resource is not None)
        self.tick(now)

    def _offer_renew(self, shown: bool) -> None:
        # ``r Renew`` in the footer only once the CA's Certificate was read (trial 6: offered against a
        # site never read); the key still answers, saying why not (action_renew).
        bindings = self._bindings.key_to_bindings
        current = bindings.get("r", [])
        wanted = [replace(b, show=shown) if b.id == "root.renew" else b for b in current]
        if wanted != current:
            bindings["r"] = wanted  # a new list: the map's lists are shared with the class's
            self.refresh_bindings()

    def tick(self, now: datetime) -> None:
        """Update the countdowns (called every second; repaints only when their text changes)."""
        if self._state is None:
            return
        marks = self._marks
        self._line("root-gauge").show(
            with_word(gauge_text(self._state, now, self.palette), marks.get("root-gauge"), self.palette)
        )
        self._line("root-rotation").show(
            with_word(rotation_text(self._state, now, self.palette), marks.get("root-rotation"), self.palette)
        )
        self.call_after_refresh(self._show_subtitle)

    # -- what does not fit ------------------------------------------------------------------------

    def _show_subtitle(self) -> None:
        """The border's subtitle, led by how many lines are out of view below (trial 20: after a rotation
        the identity lines were hidden at 120x34 with nothing saying so)."""
        below = max(int(self.max_scroll_y - self.scroll_y), 0)
        more = f"▼ {below} more (j)" if below else ""
        self.set_subtitle(" · ".join(part for part in (more, self._subtitle) if part))

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Keep the "more" mark in step with scrolling."""
        super().watch_scroll_y(old, new)
        self._show_subtitle()

    def on_resize(self) -> None:
        """The "more" mark depends on the pane's height."""
        self.call_after_refresh(self._show_subtitle)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Renewing writes to the cluster: hidden when the app cannot write or the view is read-only."""
        return action != "renew" or bool(getattr(self.app, "changes_enabled", False))

    def action_renew(self) -> None:
        """Ask the app to confirm and request a renewal of the root CA's Certificate, or say in one line
        why there is nothing to renew yet."""
        state = self._state
        if state is None or state.root_ca.resource is None:
            unread = unread_reason(state, Area.ROOT_CA) if state is not None else "not read yet"
            why = (
                f"the root CA's Certificate was not read ({unread})"
                if unread
                else "no cert-manager Certificate writes the root CA secret"
            )
            self.notify(f"cannot renew: {why}", severity="warning", timeout=4)
            return
        self.post_message(ChangeRequested("renew"))

    def action_preview(self) -> None:
        """Ask the dashboard to open the root CA preview."""
        if self._state is not None:
            self.post_message(PreviewRequested("root-ca", self._state.root_ca.key))
