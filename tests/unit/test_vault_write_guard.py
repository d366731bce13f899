"""The guard around a vault write (issue 9, item 2): Key Vault has no preconditions, so a concurrent
writer is noticed by reading before and after. Driven through the vault port against a typed in-memory
vault whose hooks let another writer in at each point of the sequence (tests/unit/test_vault_writer.py
checks the SecretClient requests the adapter makes for it; the emulator race test checks the same over
the wire).
"""

from __future__ import annotations

import pytest

from tests.unit.ops_fakes import FakeVault
from tui.core.changes.operations import VaultWrite, value_digest
from tui.core.model.snapshot import VaultSecret
from tui.ops.errors import WriteConflict
from tui.ops.vault_ops import check_unchanged, write_secret_checked

OURS = "3082aa"
THEIRS = "3082bb"
OLD = "3082cc"


def _values(vault: FakeVault, name: str) -> list[str | None]:
    return [secret.value for _, secret in vault.live[name]]


def _write(*, replaces: bool = False, previous: str | None = None) -> VaultWrite:
    return VaultWrite(
        "plc-der",
        OURS,
        "application/pkix-cert",
        replaces=replaces,
        previous_digest=value_digest(previous) if previous is not None else None,
        list_name="trust",
        target_key="plc.der",
    )


def test_an_undisturbed_new_secret_is_written_and_checked() -> None:
    vault = FakeVault()
    version = write_secret_checked(vault, _write())
    assert [(v, secret.value) for v, secret in vault.live["plc-der"]] == [(version, OURS)]
    # Versions listed before and after, the value judged before, read back after.
    assert vault.calls == ["list", "get", "set", "get", "list"]


def test_another_writer_right_after_ours_is_a_conflict_after_the_write() -> None:
    vault = FakeVault()

    def theirs_next() -> None:  # runs just before our set: their write lands before our read-back
        vault.hooks["get"] = lambda: vault.put("plc-der", THEIRS) and None

    vault.hooks["set"] = theirs_next
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write())
    assert caught.value.written and "written by someone else" in str(caught.value)


def test_a_writer_that_got_in_before_ours_but_after_the_listing_is_a_conflict() -> None:
    vault = FakeVault()
    # Their version lands after our "before" listing and our value check: only the version diff shows it.
    vault.hooks["set"] = lambda: vault.put("plc-der", THEIRS) and None
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write())
    assert caught.value.written and "also written by someone else" in str(caught.value)
    # Ours landed on top of theirs: theirs is put back (they may already have mapped and reported it).
    assert vault.calls == ["list", "get", "set", "get", "list", "get-version", "set"]
    assert _values(vault, "plc-der") == [THEIRS, OURS, THEIRS]
    assert "their value is current again" in str(caught.value)


def test_a_secret_created_since_the_plan_is_refused_before_writing() -> None:
    vault = FakeVault()
    vault.hooks["get"] = lambda: vault.put("plc-der", THEIRS) and None
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write())
    assert not caught.value.written and "created by someone else" in str(caught.value)
    assert "set" not in vault.calls and vault.value("plc-der") == THEIRS


def test_an_overwrite_whose_secret_changed_since_the_plan_is_refused_before_writing() -> None:
    vault = FakeVault()
    vault.put("plc-der", THEIRS)  # the plan judged OLD
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write(replaces=True, previous=OLD))
    assert not caught.value.written and "changed by someone else" in str(caught.value)
    assert "set" not in vault.calls


def test_an_overwrite_of_the_value_the_plan_judged_goes_ahead() -> None:
    vault = FakeVault()
    vault.put("plc-der", OLD)
    write_secret_checked(vault, _write(replaces=True, previous=OLD))
    assert vault.value("plc-der") == OURS


def test_a_racer_writing_the_same_bytes_is_no_conflict() -> None:
    vault = FakeVault()
    vault.hooks["set"] = lambda: vault.put("plc-der", OURS) and None
    write_secret_checked(vault, _write())
    assert _values(vault, "plc-der") == [OURS, OURS]


def test_check_unchanged_accepts_our_own_value_and_rejects_a_deleted_overwrite_target() -> None:
    ours = VaultSecret("plc-der", OURS)
    assert check_unchanged(_write(), ours) is True
    assert check_unchanged(_write(), None) is False
    with pytest.raises(WriteConflict, match="deleted by someone else"):
        check_unchanged(_write(replaces=True, previous=OLD), None)
