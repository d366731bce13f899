"""Pilot tests of the capabilities issue 13 asked for: pick the copy a duplicate keeps (item 20), journal
and audit views (28), whether the root CA's certificates were re-issued (30), the upload dialog's entry
name and ``R`` replace (27), bundle splitting (26) and its pointers to ``issuer add`` and ``vault add`` (23).

The dashboard runs on the test site (StaticSource, frozen clock); a session factory that cannot connect
stands in for the cluster, as in ``test_change_dialogs.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, RadioButton

from tests import certgen, plansite, rawobjects
from tests.plansite import PLC1, PLC2, PLC3
from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE, screen_text
from tests.unit.test_audit_trail import JOURNAL_ID, T0, _plan
from tui.core.changes.changeset import AddFile, RemoveEntry
from tui.core.changes.journal import EndRecord, SiteIdentity
from tui.core.clock import FrozenClock
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import CertificateView, ClusterState, IssuerRef
from tui.ops.audit import AuditLog
from tui.ops.journal import JournalInfo, JournalStore
from tui.ops.runner import ChangeSession
from tui.ops.site import journals_of
from tui.ui.app import DashboardApp
from tui.ui.change_session import VaultCandidates, describe_candidate
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.audit_view import AuditViewModal
from tui.ui.modals.confirm import ConfirmModal
from tui.ui.modals.context_switch import ContextChoice, ContextSwitchModal
from tui.ui.modals.delete import DeleteModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.journal_view import JournalViewModal
from tui.ui.modals.list_choice import ListChoice
from tui.ui.modals.split_bundle import SplitBundleModal
from tui.ui.modals.stale import StaleModal
from tui.ui.modals.upload import UploadModal
from tui.ui.modals.vault_add import VaultAddModal
from tui.ui.palette import DashboardCommands
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.source import SourceInfo, StaticSource
from tui.ui.view.settings import UiSettings
from tui.ui.view.staging import StageKind
from tui.ui.widgets.text_line import TextLine


def _no_session() -> ChangeSession:
    raise RuntimeError("no cluster in the pilot tests")


HERE = SiteIdentity("https://site.example:6443", "uid-here", "https://here.vault.azure.net")
ELSEWHERE = SiteIdentity("https://lat.example:6443", "uid-elsewhere", "https://lat.vault.azure.net")


class StandIn:
    """What the views use of a ChangeSession: the real journal store and audit log, no cluster."""

    def __init__(self, state: Path, site: SiteIdentity = HERE) -> None:
        self.context = "aio-test"
        self.clock = FrozenClock(sitedata.NOW)
        self.journals = JournalStore(state)
        self.audit = AuditLog(state, clock=self.clock, user="tech", host="edge-1")
        self.site = site

    def site_journals(self, *, pending_only: bool = False) -> list[JournalInfo]:
        """As :meth:`ChangeSession.site_journals`, against the stand-in's site."""
        infos = [i for i in self.journals.infos() if i.pending or not pending_only]
        return journals_of(infos, self.site)


@asynccontextmanager
async def opened(
    state: ClusterState, *, size: tuple[int, int] = WIDE, sessions: object = _no_session
) -> AsyncIterator[tuple[DashboardApp, Pilot[None]]]:
    app = DashboardApp(
        StaticSource(state, INFO),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=sessions,  # type: ignore[arg-type]
    )
    async with app.run_test(size=size) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await _settle(app, pilot)
        yield app, pilot


async def _settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def _notices(app: DashboardApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --- item 20: which copy of a duplicate is kept -----


async def test_x_shows_both_copies_of_a_duplicate_and_keeps_the_one_picked(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        pane = app.dashboard.opcua_pane
        await pilot.press("3", "x")
        modal = app.screen
        assert isinstance(modal, StaleModal)
        text = screen_text(app)
        # Both copies offered; the one not named a copy is kept by default.
        assert "trust/plc-line1.der  ✓ kept (suggested)" in text
        assert "trust/plc-line1-copy.der  ✗ removed" in text
        assert "trust/plc-line1-copy.der" in pane.marked and "trust/plc-line1.der" not in pane.marked

        # Pick the other copy with the keyboard: tab to the choice, down, enter.
        modal.query_one("#dup-0").focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert modal.query_one("#dup-0-1", RadioButton).value
        text = screen_text(app)  # said in words, not only by the radio's colour
        assert "trust/plc-line1-copy.der  ✓ kept" in text
        assert "trust/plc-line1.der  ✗ removed (suggested)" in text
        assert modal.reasons["trust/plc-line1.der"] == (
            "duplicate: same certificate as trust/plc-line1-copy.der, which is kept"
        )
        assert "trust/plc-line1-copy.der" not in modal.reasons
        assert pane.marked == set(modal.reasons)  # the table behind follows the pick
        await pilot.press("d")
        delete = app.screen
        assert isinstance(delete, DeleteModal)
        assert "trust/plc-line1.der" in [e.key for e in delete.entries]
        assert "trust/plc-line1-copy.der" not in [e.key for e in delete.entries]


# --- item 28: journal and audit views -----

APPLIED_ID = "20260302T120000Z-ffffff"
OTHER_SITE_ID = "20260303T120000Z-eeeeee"


async def test_journal_view_lists_every_journal_newest_first_and_hands_a_pending_one_on(
    steady: ClusterState, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    store = JournalStore(state)
    store.create(JOURNAL_ID, dataclasses.replace(_plan(), site=HERE)).close()  # interrupted
    later = dataclasses.replace(
        _plan(), plan_id="p2", at=T0 + timedelta(days=1), changes=("remove trust/x.der",), site=HERE
    )
    with store.create(APPLIED_ID, later) as journal:
        journal.append(EndRecord("p2", "applied", T0 + timedelta(days=1, minutes=1)))
    # Trial finding 1: another site's interrupted apply (same context name) is not this site's to finish.
    elsewhere = dataclasses.replace(_plan(), plan_id="p3", at=T0 + timedelta(days=2), site=ELSEWHERE)
    store.create(OTHER_SITE_ID, elsewhere).close()
    session = StandIn(state)
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        if isinstance(app.screen, JournalModal):  # offered at start: decide later
            await pilot.press("escape")
        await pilot.press("J")
        view = app.screen
        assert isinstance(view, JournalViewModal)
        await _settle(app, pilot)
        assert [i.id for i in view.infos] == [APPLIED_ID, JOURNAL_ID]
        text = screen_text(app)
        assert "Journals of this site: 2, 1 pending · newest first" in text
        assert OTHER_SITE_ID not in text
        assert f"{APPLIED_ID}  APPLIED" in text and f"{JOURNAL_ID}  PENDING" in text
        await pilot.press("r")  # an applied journal has nothing to resume
        assert app.screen is view
        assert f"journal {APPLIED_ID} is applied: nothing to resume" in _notices(app)
        await pilot.press("down", "enter")
        text = str(view.query_one("#journal-view-detail").render())
        assert "add trust/plc-1.der" in text
        assert "site       https://site.example:6443, cluster uid uid-here, vault https://here" in text
        assert f"aio-certs journal resume {JOURNAL_ID} | aio-certs journal rollback {JOURNAL_ID}" in text
        await pilot.press("r")
        finish = app.screen
        assert isinstance(finish, JournalModal)
        assert [s.id for s in finish.summaries] == [JOURNAL_ID]


async def test_audit_view_lists_the_trail_newest_first_with_details(
    steady: ClusterState, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    session = StandIn(state)
    session.audit.record(action="trust add", outcome="applied", context="aio-test", entries=["trust/a.der"])
    session.audit.record(
        action="renew", outcome="refused", context="aio-test", entries=["root"], detail="no\x1bCertificate"
    )
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        await pilot.press("L")
        view = app.screen
        assert isinstance(view, AuditViewModal)
        await _settle(app, pilot)
        assert [e["action"] for e in view.events] == ["renew", "trust add"]
        assert "Audit trail: 2 events · newest first" in screen_text(app)
        await pilot.press("down", "up", "enter")
        text = str(view.query_one("#audit-view-detail").render())
        assert "detail        no\\1BCertificate" in text  # escaped, never sent to the terminal raw
        assert "user          tech" in text
        assert "time          2025-06-01 12:00Z" in text  # the screen's one time format
        assert "2025-06-01 12:00Z  renew" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_without_a_state_directory_the_views_name_the_command(steady: ClusterState) -> None:
    async with opened(steady, sessions=None) as (app, pilot):
        await pilot.press("J")
        assert isinstance(app.screen, DashboardScreen)
        assert "journals: no state directory in this view; aio-certs journal lists them" in _notices(app)


# --- item 30: after a root CA renewal, were the certificates it signs issued again? -----


def _renewed(steady: ClusterState) -> ClusterState:
    """The test site one day after its CA was renewed: the broker's server certificate re-issued since,
    the connector's not."""
    root = steady.root_ca
    assert root.certificate is not None and root.resource is not None
    ca_from = root.certificate.not_before
    issuer = next(i for i in steady.issuers if i.ca_secret_name == root.secret_name)
    ref = IssuerRef(issuer.name, issuer.kind)

    def leaf(name: str, issued: timedelta) -> CertificateView:
        assert root.resource is not None
        return dataclasses.replace(
            root.resource,
            namespace="azure-iot-operations",
            name=name,
            issuer_ref=ref,
            is_ca=False,
            not_before=ca_from + issued,
        )

    signed = (
        leaf("aio-broker-frontend-server", timedelta(hours=2)),
        leaf("aio-opc-ua-connector", -timedelta(days=30)),
    )
    return dataclasses.replace(steady, certificates=(*steady.certificates, *signed))


async def test_root_ca_pane_says_which_signed_certificates_were_re_issued(steady: ClusterState) -> None:
    renewed = _renewed(steady)
    async with opened(renewed) as (app, pilot):
        await pilot.press("1")
        text = app.dashboard.query_one("#root-signed", TextLine).plain
        lines = text.splitlines()
        assert (
            lines[0].startswith("Signed")
            and "✗ 1 of 2 not re-issued since this CA (2025-05-02 12:00Z)" in lines[0]
        )
        assert lines[1].split() == ["aio-opc-ua-connector", "issued", "2025-04-02", "12:00Z,", "before"]
        assert len(lines) == 2  # the re-issued one needs nothing: no line of its own
        # Once the connector's is issued again too, one line says so.
        done = dataclasses.replace(
            renewed,
            certificates=tuple(
                dataclasses.replace(c, not_before=sitedata.NOW) if c.name == "aio-opc-ua-connector" else c
                for c in renewed.certificates
            ),
        )
        app.source.push(done)  # type: ignore[attr-defined]
        await app.wait_for_state(lambda s: s is done)
        await pilot.pause()
        text = app.dashboard.query_one("#root-signed", TextLine).plain
        assert text.split("  ", 1)[-1].strip() == (
            "✓ all issued since this CA: aio-broker-frontend-server, aio-opc-ua-connector"
        )


# --- items 27, 26, 23: the upload dialog names the entry, replaces a row, splits a bundle, points on -----


async def _upload(app: DashboardApp, pilot: Pilot[None], path: Path, **fields: str) -> UploadModal:
    await pilot.press("3", "u")
    modal = app.screen
    assert isinstance(modal, UploadModal)
    modal.query_one("#upload-list", ListChoice).action_choose("trust")
    for name, value in fields.items():
        modal.query_one(f"#upload-{name}", Input).value = value
    modal.query_one("#upload-path", Input).value = str(path)
    await _settle(app, pilot)
    return modal


def _verdict(app: DashboardApp) -> str:
    return str(app.screen.query_one("#upload-verdict").render())


def _new_leaf(cn: str) -> certgen.Issued:
    return certgen.make_leaf(None, cn, not_before=sitedata.NOW - timedelta(days=1), days=365)


async def test_upload_names_the_entry_in_the_list(steady: ClusterState, tmp_path: Path) -> None:
    path = tmp_path / "download (3).der"
    path.write_bytes(_new_leaf("New PLC").der)
    async with opened(steady) as (app, pilot):
        modal = await _upload(app, pilot, path, entry="new-plc.der")
        assert modal.query_one("#upload-secret", Input).placeholder.startswith("new-plc-der (default")
        assert _verdict(app).splitlines()[0] == "✓ ready to stage"
        await pilot.press("ctrl+s")
        (change,) = app.staging.changes
        assert isinstance(change, AddFile)
        assert (change.list_name, change.file_name, change.effective_secret_name) == (
            "trust",
            "new-plc.der",
            "new-plc-der",
        )


async def test_R_replaces_the_entry_under_the_cursor(steady: ClusterState, tmp_path: Path) -> None:
    path = tmp_path / "historian-2026.der"
    path.write_bytes(_new_leaf("Historian").der)
    async with opened(steady) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("R")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        assert modal.query_one("#upload-entry", Input).value == "historian.der"
        historian = steady.entry("trust/historian.der")
        assert historian is not None
        assert modal.query_one("#upload-secret", Input).value == historian.source_path
        assert modal.query_one("#upload-overwrite", Checkbox).value
        modal.query_one("#upload-path", Input).value = str(path)
        await _settle(app, pilot)
        await pilot.press("ctrl+s")
        (item,) = app.staging.items
        assert isinstance(item.change, AddFile) and item.change.file_name == "historian.der"
        assert item.kind is StageKind.REPLACE


async def test_a_pem_bundle_is_split_into_checked_entries(steady: ClusterState, tmp_path: Path) -> None:
    existing = x509.load_der_x509_certificate(sitedata.opcua_files().trust["plc-line2.der"])
    bundle = tmp_path / "vendor-bundle.pem"
    bundle.write_bytes(
        _new_leaf("Press 4 PLC").pem + _new_leaf("Press 5 PLC").pem + existing.public_bytes(Encoding.PEM)
    )
    async with opened(steady) as (app, pilot):
        modal = await _upload(app, pilot, bundle)
        verdict = _verdict(app)
        assert "holds 3 certificate(s); a list file holds exactly one" in verdict
        assert "→ a bundle of 3 certificates: ctrl+b splits it into one entry each" in verdict
        await pilot.press("ctrl+b")
        split = app.screen
        assert isinstance(split, SplitBundleModal)
        assert [p.file_name for p in split.parts] == ["press-4-plc.crt", "press-5-plc.crt", "plc-line-2.crt"]
        assert split.ticked == [0, 1]  # the certificate already in the list starts unticked, with why
        text = screen_text(app)
        assert "already in the trust list" in text
        assert "stage  trust/press-4-plc.crt" in text and "skip   trust/plc-line-2.crt" in text  # in words
        await pilot.press("space")  # untick the first (focused): its line says so
        assert split.ticked == [1]
        assert "skip   trust/press-4-plc.crt" in screen_text(app)
        await pilot.press("space")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DashboardScreen)
        assert [c.describe().split(" from ")[0] for c in app.staging.changes] == [
            "add trust/press-4-plc.crt",
            "add trust/press-5-plc.crt",
        ]
        assert "staged: 2 changes" in " ".join(_notices(app))
        assert modal is not None


async def test_upload_points_a_crl_to_the_issuer_list_and_a_taken_secret_to_v(
    steady: ClusterState, tmp_path: Path
) -> None:
    crl = tmp_path / "site.crl"
    crl.write_bytes(sitedata.opcua_files().issuer["contoso-site-ca.crl"])
    leaf = tmp_path / "plc-new.der"
    leaf.write_bytes(_new_leaf("PLC New").der)
    taken = steady.entry("trust/plc-line2.der")
    assert taken is not None and taken.source_path
    async with opened(steady) as (app, pilot):
        await _upload(app, pilot, crl)
        assert "→ a CRL goes in the issuer list, next to its CA: choose issuer (aio-certs issuer add)" in (
            _verdict(app)
        )
        await pilot.press("escape")
        await _upload(app, pilot, leaf, secret=taken.source_path)
        verdict = _verdict(app)
        assert f"vault secret {taken.source_path} already exists" in verdict
        assert (
            "→ to put the secret already in Key Vault into a list as it is: v (aio-certs vault add)"
            in verdict
        )


# --- item 15: a concurrent change between review and apply is shown, and asked about again -----


class Replanning:
    """A session whose site changes between the plan shown and the one made just before applying."""

    def __init__(self, plans: list[Any]) -> None:
        self.plans = plans
        self.applied: list[Any] = []
        self.context = "aio-test"
        self.clock = FrozenClock(sitedata.NOW)

    def plan(self, _changes: Any, *, read_only: bool = False, local_only: bool = False) -> tuple[Any, Any]:
        return self.plans.pop(0), object()

    def apply(self, plan: Any, _site: Any, **_kwargs: Any) -> Any:
        self.applied.append(plan)
        raise RuntimeError("stand-in: nothing applied")

    def record_refusal(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def _removal_plans() -> tuple[Any, Any]:
    change = RemoveEntry("trust", "plc-1.der")
    reviewed = plansite.plan_for(
        plansite.plan_site(trust={"plc-1.der": PLC1.der, "plc-2.der": PLC2.der}), change
    )
    # Meanwhile someone else added plc-3.der to the same list: the same removal now edits other objects.
    now = plansite.plan_for(
        plansite.plan_site(trust={"plc-1.der": PLC1.der, "plc-2.der": PLC2.der, "plc-3.der": PLC3.der}),
        change,
    )
    assert reviewed.render_diff() != now.render_diff()
    return reviewed, now


async def _stage_and_review(app: DashboardApp, pilot: Pilot[None]) -> ApplyModal:
    await pilot.press("3")
    app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
    await pilot.press("d", "ctrl+s", "a")
    modal = app.screen
    assert isinstance(modal, ApplyModal)
    await _settle(app, pilot)
    return modal


async def test_apply_shows_the_new_plan_when_the_site_changed_since_the_review(steady: ClusterState) -> None:
    reviewed, now = _removal_plans()
    session = Replanning([reviewed, now, now])
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        modal = await _stage_and_review(app, pilot)
        assert modal.plan is reviewed
        modal.confirm()
        await _settle(app, pilot)
        assert session.applied == []  # nothing written: asked again instead
        assert modal.plan is now and modal.phase == "review"
        verdict = str(modal.query_one("#apply-verdict").render())
        assert verdict.startswith("⚠ the site changed while you reviewed the plan: nothing was written")
        assert str(modal.query_one("#apply-diff").render()) == now.render_diff().rstrip("\n")
        assert not modal.query_one("#apply-confirm", Button).disabled
        modal.confirm()  # confirmed again, on the plan shown
        await _settle(app, pilot)
        assert session.applied == [now]


async def test_apply_goes_on_when_the_plan_made_again_reads_the_same(steady: ClusterState) -> None:
    reviewed, _now = _removal_plans()
    session = Replanning([reviewed, reviewed])
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        modal = await _stage_and_review(app, pilot)
        modal.confirm()
        await _settle(app, pilot)
        assert session.applied == [reviewed]


# --- item 23: the v dialog shows what each secret holds, expired ones marked -----


async def test_vault_dialog_shows_subject_and_expiry_and_marks_the_expired(steady: ClusterState) -> None:
    fresh = certgen.make_leaf(None, "PLC Nine", not_before=sitedata.NOW - timedelta(days=1), days=365)
    old = certgen.make_leaf(None, "PLC Old", not_before=sitedata.NOW - timedelta(days=400), days=365)
    stale_crl = certgen.make_crl(
        certgen.make_ca("Gone CA"),
        this_update=sitedata.NOW - timedelta(days=20),
        next_update=sitedata.NOW - timedelta(days=2),
    )

    def secret(name: str, data: bytes) -> VaultSecret:
        return VaultSecret(
            name, data.hex(), "application/pkix-cert", MappingProxyType({"file-encoding": "hex"}), True
        )

    secrets = [
        secret("plc-9-der", fresh.der),
        secret("plc-old-der", old.der),
        secret("gone-crl", stale_crl.der),
    ]
    found = VaultCandidates(
        "https://vault.example", tuple(describe_candidate(s) for s in secrets), {s.name: s for s in secrets}
    )
    async with opened(steady) as (app, pilot):
        modal = VaultAddModal(steady, app.staging, lambda: found, now=sitedata.NOW)
        await app.push_screen(modal)
        await _settle(app, pilot)
        text = screen_text(app)
        assert "plc-9-der  certificate PLC Nine · until 2026-05-31" in text
        assert "plc-old-der  ✗ EXPIRED certificate PLC Old · expired 35d ago (2025-04-27)" in text
        assert "gone-crl  ✗ STALE CRL of Gone CA · next update was 2025-05-30" in text


# --- item 25: switch kubeconfig context, reload the kubeconfig -----


class Switch:
    """A kubeconfig with two sites; each open makes a new source for the context named."""

    def __init__(self, states: dict[str, ClusterState]) -> None:
        self.states = states
        self.current = "plant-a"
        self.reads = 0
        self.opened: list[str] = []
        self.released: list[str] = []

    def contexts(self) -> tuple[list[ContextChoice], str]:
        self.reads += 1
        names = ["plant-a", "plant-b"] + (
            ["plant-c"] if self.reads > 1 else []
        )  # added to the file meanwhile
        return [ContextChoice(n, f"https://{n}:6443", None, n == self.current) for n in names], "KUBECONFIG"

    def open(self, context: str) -> tuple[StaticSource, None]:
        if context not in self.states:
            raise RuntimeError(f"context '{context}': cluster 'c' has no server in kubeconfig")
        self.opened.append(context)
        return StaticSource(self.states[context], SourceInfo(context, f"https://{context}:6443")), None

    def release(self, source: StaticSource) -> None:
        self.released.append(source.info.context)


async def test_K_switches_to_another_context_after_a_reload(steady: ClusterState) -> None:
    other = dataclasses.replace(steady, namespace="plant-b-aio")
    switch = Switch({"plant-a": steady, "plant-b": other})
    app = DashboardApp(
        StaticSource(steady, SourceInfo("plant-a", "https://plant-a:6443")),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=_no_session,
    )
    app.context_switch = switch  # type: ignore[assignment]
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await _settle(app, pilot)
        await pilot.press("3", "d", "ctrl+s")  # something staged for plant-a
        assert app.staging
        await pilot.press("K")
        modal = app.screen
        assert isinstance(modal, ContextSwitchModal)
        await _settle(app, pilot)
        text = screen_text(app)
        assert "● plant-a  https://plant-a:6443  (on screen, current-context)" in text
        assert "plant-c" not in text
        await pilot.press("r")  # reload: the context added to the file since shows up
        await _settle(app, pilot)
        assert modal.reads == 2 and "plant-c" in screen_text(app)

        await pilot.press("down", "enter")  # plant-b
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)  # the staged change was for plant-a
        assert "1 staged change(s) were made for this site and are discarded" in screen_text(app)
        await pilot.press("y")
        await app.wait_for_state(lambda s: s.namespace == "plant-b-aio", timeout=10)
        await _settle(app, pilot)
        assert switch.opened == ["plant-b"] and switch.released == ["plant-a"]
        assert app.source.info.context == "plant-b"
        assert not app.staging  # nothing carried over to the other site
        assert "ctx plant-b (https://plant-b:6443)" in screen_text(app)

        # A context that cannot be opened keeps the site on screen and says why in one line.
        await pilot.press("K")
        await _settle(app, pilot)
        await pilot.press("down", "enter")  # from plant-b, on screen, to plant-c
        await _settle(app, pilot)
        assert app.source.info.context == "plant-b"
        assert (
            "context 'plant-c': cluster 'c' has no server in kubeconfig; still on the site shown"
            in _notices(app)
        )


# --- the palette offers what the keys J, L, K and R do -----


async def test_the_palette_offers_the_new_views_and_actions(steady: ClusterState, tmp_path: Path) -> None:
    session = StandIn(tmp_path / "state")
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        hits = {str(h.text): h for h in [h async for h in DashboardCommands(app.screen).discover()]}
        for name in (
            "Journals",
            "Audit trail",
            "Switch kubeconfig context",
            "Replace the entry under the cursor",
        ):
            assert name in hits
        hits["Audit trail"].command()
        await _settle(app, pilot)
        assert isinstance(app.screen, AuditViewModal)


class ConflictMidApply(Replanning):
    """The concurrent change lands during the apply: the engine re-plans and asks (its ``on_replan``)."""

    def __init__(self, reviewed: Any, now: Any) -> None:
        super().__init__([reviewed, reviewed])
        self.now = now
        self.answers: list[bool] = []
        self.asking = threading.Event()

    def apply(self, plan: Any, _site: Any, **kwargs: Any) -> Any:
        self.applied.append(plan)
        self.asking.set()
        self.answers.append(kwargs["on_replan"](plan, self.now))
        raise RuntimeError("stand-in: the engine would go on or stop here")


async def _asked(app: DashboardApp, pilot: Pilot[None], modal: ApplyModal, session: ConflictMidApply) -> None:
    assert await asyncio.to_thread(session.asking.wait, 10)
    for _ in range(1000):  # the worker's question arrives as a message: let the queue run
        if modal.phase == "asked":
            return
        await pilot.pause()
    raise AssertionError("the re-planned revision was never shown")


@pytest.mark.parametrize(("key", "go_on"), [("confirm", True), ("escape", False)])
async def test_a_re_plan_during_the_apply_is_shown_and_asked_about(
    steady: ClusterState, key: str, go_on: bool
) -> None:
    reviewed, now = _removal_plans()
    session = ConflictMidApply(reviewed, now)
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        modal = await _stage_and_review(app, pilot)
        modal.confirm()
        await _asked(app, pilot, modal, session)
        verdict = str(modal.query_one("#apply-verdict").render())
        assert verdict.startswith("⚠ someone changed the lists during the apply: the rest was planned again")
        assert str(modal.query_one("#apply-diff").render()) == now.render_diff().rstrip("\n")
        assert str(modal.query_one("#apply-confirm", Button).label).startswith("Go on: ")
        assert session.answers == []  # the engine waits: nothing of the new revision written
        if key == "confirm":
            modal.confirm()
        else:
            await pilot.press("escape")  # Stop here
        await _settle(app, pilot)
        assert session.answers == [go_on]
        assert isinstance(app.screen, ApplyModal)  # the dialog stays to show how it ended


async def test_K_J_L_and_R_wait_for_the_open_dialog_to_close(steady: ClusterState) -> None:
    reviewed, _now = _removal_plans()
    session = Replanning([reviewed])
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        app.context_switch = Switch({"plant-a": steady})  # type: ignore[assignment]
        modal = await _stage_and_review(app, pilot)
        actions = (
            ("K", app.action_switch_context, "switch context"),
            ("J", app.action_journal_view, "journals"),
            ("L", app.action_audit_view, "audit trail"),
            ("R", app.action_replace_entry, "replace"),
        )
        for key, action, what in actions:
            await pilot.press(key)  # the dialog has the keys
            assert app.screen is modal, key
            action()  # and when asked otherwise (a palette, a script), the action waits too
            await pilot.pause()
            assert app.screen is modal, key
            assert f"{what}: close this dialog first (esc)" in _notices(app)


# --- trial finding 2: a renew dialog left open does not rotate twice -----


class _MovedOnWriter:
    """The cluster as it is when Renew is pressed: someone renewed meanwhile (one revision more)."""

    def __init__(self, shown: CertificateView) -> None:
        self.shown = shown
        self.renewed: list[str] = []

    def renew_certificate(self, namespace: str, name: str, *, now: Any, precondition: Any = None) -> Any:
        current = rawobjects.certificate(
            name,
            namespace,
            secret_name=self.shown.secret_name or name,
            issuer_name="selfsigned",
            is_ca=True,
            revision=(self.shown.revision or 0) + 1,
        )
        if precondition is not None:
            precondition(current)
        self.renewed.append(f"{namespace}/{name}")
        return current


async def test_renew_refuses_when_the_certificate_moved_on_since_the_dialog_opened(
    steady: ClusterState, tmp_path: Path
) -> None:
    shown = steady.root_ca.resource
    assert shown is not None and shown.revision is not None
    session = StandIn(tmp_path / "state")
    writer = _MovedOnWriter(shown)
    session.writer = writer  # type: ignore[attr-defined]
    async with opened(steady, sessions=lambda: session) as (app, pilot):
        if isinstance(app.screen, JournalModal):
            await pilot.press("escape")
        await pilot.press("1", "r")
        await _settle(app, pilot)
        dialog = app.screen
        assert f"Revision    {shown.revision}" in screen_text(app)
        dialog.query_one("#renew-confirm", Button).press()
        await _settle(app, pilot)
        notices = _notices(app)
        assert writer.renewed == []  # nothing written: no second rotation
        [notice] = [n for n in notices if "moved on since it was shown" in n]
        assert f"now revision {shown.revision + 1} (Ready), shown revision {shown.revision}" in notice
        assert "requested" not in " ".join(notices)
    [event] = list(session.audit.events())
    assert (event["action"], event["outcome"]) == ("renew", "refused")
