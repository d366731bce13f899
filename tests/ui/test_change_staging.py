"""Unit tests of the dashboard's change plumbing that needs no terminal: the staged set and how it shows,
the live checks, progress lines, path completion, file reading, vault candidates and the purge phrase."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from tests import certgen
from tests.ui import sitedata
from tui.core.changes.changeset import AddFile, RemoveEntry
from tui.core.changes.file_rules import read_content
from tui.core.changes.operations import SpcEdit, Step, VaultWrite
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import ClusterState
from tui.ops.apply import StepEvent
from tui.ui.change_session import describe_candidate, mapped_secret_names
from tui.ui.modals.delete import purge_phrase
from tui.ui.modals.progress import StepProgress
from tui.ui.modals.upload import MAX_FILE_BYTES, complete_path, read_file
from tui.ui.modals.vault_add import holds_text
from tui.ui.view.levels import DEFAULT_PALETTE
from tui.ui.view.staging import StagedItem, StageKind, Staging, check_new

NOW = sitedata.NOW


@pytest.fixture(scope="module")
def leaf() -> certgen.Issued:
    return certgen.make_leaf(None, "New PLC", not_before=NOW - timedelta(days=1), days=365)


def _add(leaf: certgen.Issued, name: str = "new-plc.der", **kwargs: object) -> StagedItem:
    return StagedItem(AddFile("trust", name, leaf.der, **kwargs), read_content(leaf.der, name))  # type: ignore[arg-type]


def test_staging_marks_each_row_and_keeps_one_copy_of_a_change(
    steady: ClusterState, leaf: certgen.Issued
) -> None:
    remove = StagedItem(RemoveEntry("trust", "plc-line2.der"))
    purge = StagedItem(RemoveEntry("trust", "historian.der", purge=True))
    replace = _add(leaf, "gateway-north.der", overwrite=True)
    staging = Staging().add([_add(leaf), remove, purge, replace]).add([remove])
    assert len(staging) == 4
    assert staging.markers() == {
        "trust/new-plc.der": StageKind.ADD,
        "trust/plc-line2.der": StageKind.REMOVE,
        "trust/historian.der": StageKind.PURGE,
        "trust/gateway-north.der": StageKind.REPLACE,
    }
    # Only the add of an entry not in the list yet becomes a row of its own.
    ghosts = staging.ghost_entries(steady, NOW)
    assert [g.key for g in ghosts] == ["trust/new-plc.der"]
    ghost = ghosts[0]
    assert ghost.certificate is not None and ghost.certificate.common_name == "New PLC"
    assert (ghost.source_path, ghost.synced, ghost.days_left, ghost.flags) == ("new-plc-der", False, 364, ())
    assert staging.unstage({"trust/new-plc.der"}).staged_keys() == {
        "trust/plc-line2.der",
        "trust/historian.der",
        "trust/gateway-north.der",
    }
    assert not staging.cleared() and staging.cleared().applied == ()


def _with_entries(state: ClusterState, *entries: object) -> ClusterState:
    return dataclasses.replace(state, opcua=state.opcua + tuple(entries))  # type: ignore[arg-type]


def test_applied_changes_wait_for_the_live_state_to_show_them(
    steady: ClusterState, leaf: certgen.Issued
) -> None:
    add = _add(leaf)
    remove = StagedItem(RemoveEntry("trust", "plc-line2.der"))
    applied = Staging().add([add, remove]).mark_applied()
    assert not applied and applied.markers() == {
        "trust/new-plc.der": StageKind.APPLIED,
        "trust/plc-line2.der": StageKind.APPLIED,
    }
    assert applied.settle(steady) is applied  # nothing arrived yet: the very same object
    ghost = applied.ghost_entries(steady, NOW)[0]
    synced_no_vault = _with_entries(steady, dataclasses.replace(ghost, synced=True, vault_present=False))
    assert applied.settle(synced_no_vault).applied == applied.applied  # the vault has not been re-read
    arrived = dataclasses.replace(ghost, synced=True, vault_present=True)
    without_removed = dataclasses.replace(
        steady, opcua=(*(e for e in steady.opcua if e.key != "trust/plc-line2.der"), arrived)
    )
    assert applied.settle(_with_entries(steady, arrived)).applied == (remove,)
    assert applied.settle(without_removed).applied == ()
    other = certgen.make_leaf(None, "Someone Else", not_before=NOW - timedelta(days=1), days=30)
    impostor = dataclasses.replace(arrived, certificate=read_content(other.der, "x.der").certificate)
    assert applied.settle(_with_entries(steady, impostor)).applied == applied.applied


def test_live_checks_report_only_the_new_changes_with_their_own_index(
    steady: ClusterState, leaf: certgen.Issued
) -> None:
    staging = Staging().add([StagedItem(RemoveEntry("trust", "plc-line2.der")), _add(leaf)])
    again = AddFile("trust", "new-plc.der", leaf.der)
    check = check_new(
        staging, [AddFile("trust", "ok.crt", leaf.pem), again], steady, now=NOW, vault_secrets=None
    )
    sha1 = check.resolved[0].content.sha1  # type: ignore[union-attr]
    # Cross-change rules see the staged add even without a vault listing (entries' secrets stand in).
    assert [(p.change_index, p.message) for p in check.problems] == [
        (0, f"trust/ok.crt: the same certificate (SHA-1 {sha1}) is already in the trust list as new-plc.der"),
        (1, "trust/new-plc.der: added twice in this change set"),
        (
            1,
            f"trust/new-plc.der: the same certificate (SHA-1 {sha1}) is already in the trust list as "
            "new-plc.der",
        ),
        (1, "trust/new-plc.der: vault secret new-plc-der is also used by trust/new-plc.der in this set"),
    ]
    assert [p.code for p in check.problems_of(0)] == ["duplicate"]
    assert [r.target_key for r in check.resolved] == ["ok.crt", "new-plc.der"]
    assert not check.vault_checked
    # With a vault listing the vault rules run: a secret of that name already exists.
    vault = {"other-der": VaultSecret("other-der", None)}
    named = check_new(
        Staging(), [AddFile("trust", "other.der", leaf.der)], steady, now=NOW, vault_secrets=vault
    )
    assert [p.message for p in named.problems] == [
        "trust/other.der: vault secret other-der already exists; --overwrite replaces it"
    ]
    assert named.vault_checked
    assert check_new(
        Staging(), [AddFile("trust", "other.der", leaf.der)], steady, now=NOW, vault_secrets={}
    ).ok


def _steps() -> list[Step]:
    write = VaultWrite("plc-der", "00", "application/pkix-cert", list_name="trust", target_key="plc.der")
    spc = SpcEdit("ns", "spc", "7", "", "", ("plc-der",), ())
    return [Step(0, write), Step(1, spc)]


def test_step_progress_follows_the_runner_events() -> None:
    progress = StepProgress(_steps())
    assert progress.text(DEFAULT_PALETTE).plain.splitlines() == [
        "· [1/2] vault/plc-der: set secret for trust/plc.der",
        "· [2/2] SecretProviderClass/ns/spc: objects +1",
    ]
    for event in (
        StepEvent("start", 0, 2, "vault/plc-der", "set secret for trust/plc.der"),
        StepEvent("done", 0, 2, "vault/plc-der"),
        StepEvent("conflict", 1, 2, "SecretProviderClass/ns/spc", "409 conflict"),
        StepEvent("rebased", None, 2, "", "re-planned against the current objects (revision 1)"),
        StepEvent("start", 1, 2, "SecretProviderClass/ns/spc", "objects +1"),
        StepEvent("done", 1, 2, "SecretProviderClass/ns/spc"),
        StepEvent("wait", None, 2, "SecretSync/ns/trust", "mapping not in status yet"),
        StepEvent("wait", None, 2, "SecretSync/ns/trust", "in sync"),
        StepEvent("synced", None, 2, "", "0.4s"),
    ):
        progress.handle(event)
    assert progress.done == 2
    assert progress.text(DEFAULT_PALETTE).plain.splitlines() == [
        "✓ [1/2] vault/plc-der: set secret for trust/plc.der",
        "✓ [2/2] SecretProviderClass/ns/spc: objects +1",
        "re-planned against the current objects (revision 1)",
        "waiting: SecretSync/ns/trust: in sync",
        "synced: the synced Secrets show the change (0.4s)",
    ]
    failing = StepProgress(_steps())
    failing.handle(StepEvent("failed", 1, 2, "SecretProviderClass/ns/spc", "forbidden (403)"))
    assert failing.text(DEFAULT_PALETTE).plain.splitlines()[1] == (
        "✗ [2/2] SecretProviderClass/ns/spc: forbidden (403)"
    )


def test_path_completion(tmp_path: Path) -> None:
    for name in ("plc-1.der", "plc-2.der", ".hidden.der"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "certs").mkdir()
    base = str(tmp_path)
    assert complete_path(f"{base}/p") == f"{base}/plc-"
    assert complete_path(f"{base}/plc-1") == f"{base}/plc-1.der"
    assert complete_path(f"{base}/c") == f"{base}/certs/"
    assert complete_path(f"{base}/plc-") is None  # nothing longer is common to both
    assert complete_path(f"{base}/.h") == f"{base}/.hidden.der"
    assert complete_path(f"{base}/x") is None
    assert complete_path(f"{base}/nowhere/p") is None
    assert complete_path("~") == "~/"
    assert complete_path("") is None


def test_reading_the_chosen_file_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    good = tmp_path / "a.der"
    good.write_bytes(b"\x30\x03")
    assert read_file(f" {good} ") == read_file(str(good))
    assert read_file(str(good)).data == b"\x30\x03" and read_file(str(good)).error is None
    assert read_file(str(tmp_path)).error == f"{tmp_path}: is a directory"
    assert read_file(str(tmp_path / "no.der")).error == f"{tmp_path / 'no.der'}: no such file"
    big = tmp_path / "big.der"
    big.write_bytes(b"\0" * (MAX_FILE_BYTES + 1))
    assert read_file(str(big)).error == (
        f"{big}: {MAX_FILE_BYTES + 1} bytes, far too large for a certificate or CRL"
    )
    assert read_file("   ").data is None and read_file("   ").error is None


def _secret(
    name: str,
    value: str | None,
    *,
    content_type: str | None = None,
    enabled: bool = True,
    tags: dict[str, str] | None = None,
) -> VaultSecret:
    return VaultSecret(name, value, content_type, MappingProxyType(tags or {}), enabled)


def test_vault_candidates_say_what_they_hold_or_why_not(leaf: certgen.Issued) -> None:
    hexed = describe_candidate(_secret("plc-der", leaf.der.hex(), tags={"file-encoding": "hex"}))
    assert hexed.problem is None and hexed.content is not None and hexed.content.kind == "der-certificate"
    assert holds_text(hexed) == "certificate New PLC · until 2026-05-31"
    pem = describe_candidate(_secret("plc-pem", leaf.pem.decode()))
    assert pem.content is not None and pem.content.kind == "pem-certificate"
    assert describe_candidate(_secret("pw", "hunter2")).problem == (
        "the value is neither hex (file-encoding=hex) nor PEM text"
    )
    assert holds_text(describe_candidate(_secret("pw", "hunter2"))) == (
        "✗ the value is neither hex (file-encoding=hex) nor PEM text"
    )
    assert describe_candidate(_secret("kv-cert", "MIIx", content_type="application/x-pkcs12")).problem == (
        "the PKCS#12 secret of a Key Vault certificate object"
    )
    assert describe_candidate(_secret("off", None, enabled=False)).problem == (
        "disabled in Key Vault; the provider cannot read it"
    )
    keyed = describe_candidate(_secret("keyed", (leaf.pem + leaf.key_pem).decode()))
    assert keyed.content is None and keyed.problem == "holds a private key; list files must never hold one"


def test_secrets_already_used_are_not_offered(steady: ClusterState) -> None:
    used = mapped_secret_names(steady)
    assert "plc-line2-der" in used and all(name == name.lower() for name in used)


def test_purge_phrase_is_the_secret_name_or_the_count(steady: ClusterState) -> None:
    one = steady.entry("trust/plc-line2.der")
    two = steady.entry("trust/historian.der")
    assert one is not None and two is not None
    assert purge_phrase([one]) == "plc-line2-der"
    assert purge_phrase([one, two]) == "purge 2"
