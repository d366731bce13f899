"""The guard around a vault write (issue 9, item 2): Key Vault has no preconditions, so a concurrent
writer is noticed by reading before and after. Driven against a typed in-memory vault whose hooks let
another writer in at each point of the sequence (the emulator race test checks the same over the wire).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from tui.core.changes.operations import VaultWrite, value_digest
from tui.ops.errors import WriteConflict
from tui.ops.vault_ops import check_unchanged, write_secret_checked

OURS = "3082aa"
THEIRS = "3082bb"
OLD = "3082cc"


@dataclass
class _Props:
    name: str
    version: str
    content_type: str | None = "application/pkix-cert"
    tags: dict[str, str] = field(default_factory=lambda: {"file-encoding": "hex"})
    enabled: bool = True
    updated_on: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    expires_on: datetime | None = None


@dataclass
class _Secret:
    value: str
    properties: _Props


class FakeVault:
    """The SecretClient calls the guard makes; ``hooks[call]`` runs before that call (another writer)."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[str, str]]] = {}
        self._ids = (f"v{n}" for n in itertools.count(1))
        self.hooks: dict[str, Callable[[], None]] = {}
        self.calls: list[str] = []

    def _hook(self, call: str) -> None:
        self.calls.append(call)
        hook = self.hooks.pop(call, None)
        if hook is not None:
            hook()

    def put(self, name: str, value: str) -> str:
        version = next(self._ids)
        self.versions.setdefault(name, []).append((version, value))
        return version

    def set_secret(self, name: str, value: str, **_: Any) -> _Secret:
        self._hook("set")
        version = self.put(name, value)
        return _Secret(value, _Props(name, version))

    def get_secret(self, name: str, version: str | None = None) -> _Secret:
        self._hook("get" if version is None else "get-version")
        history = self.versions.get(name)
        if not history:
            raise ResourceNotFoundError("SecretNotFound")
        found = history[-1] if version is None else next(v for v in history if v[0] == version)
        return _Secret(found[1], _Props(name, found[0]))

    def list_properties_of_secret_versions(self, name: str) -> Iterator[_Props]:
        self._hook("list")
        history = self.versions.get(name)
        if not history:
            raise ResourceNotFoundError("SecretNotFound")
        return iter([_Props(name, v) for v, _ in history])


def _write(*, replaces: bool = False, previous: str | None = None) -> VaultWrite:
    return VaultWrite("plc-der", OURS, "application/pkix-cert", replaces=replaces,
                      previous_digest=value_digest(previous) if previous is not None else None,
                      list_name="trust", target_key="plc.der")


def test_an_undisturbed_new_secret_is_written_and_checked() -> None:
    vault = FakeVault()
    version = write_secret_checked(vault, _write())  # type: ignore[arg-type]
    assert vault.versions["plc-der"] == [(version, OURS)]
    # Versions listed before and after, the value judged before, read back after.
    assert vault.calls == ["list", "get", "set", "get", "list"]


def test_another_writer_right_after_ours_is_a_conflict_after_the_write() -> None:
    vault = FakeVault()

    def theirs_next() -> None:  # runs just before our set: their write lands before our read-back
        vault.hooks["get"] = lambda: vault.put("plc-der", THEIRS) and None

    vault.hooks["set"] = theirs_next
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write())  # type: ignore[arg-type]
    assert caught.value.written and "written by someone else" in str(caught.value)


def test_a_writer_that_got_in_before_ours_but_after_the_listing_is_a_conflict() -> None:
    vault = FakeVault()
    # Their version lands after our "before" listing and our value check: only the version diff shows it.
    vault.hooks["set"] = lambda: vault.put("plc-der", THEIRS) and None
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write())  # type: ignore[arg-type]
    assert caught.value.written and "also written by someone else" in str(caught.value)


def test_a_secret_created_since_the_plan_is_refused_before_writing() -> None:
    vault = FakeVault()
    vault.hooks["get"] = lambda: vault.put("plc-der", THEIRS) and None
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write())  # type: ignore[arg-type]
    assert not caught.value.written and "created by someone else" in str(caught.value)
    assert "set" not in vault.calls and vault.versions["plc-der"][-1][1] == THEIRS


def test_an_overwrite_whose_secret_changed_since_the_plan_is_refused_before_writing() -> None:
    vault = FakeVault()
    vault.put("plc-der", THEIRS)  # the plan judged OLD
    with pytest.raises(WriteConflict) as caught:
        write_secret_checked(vault, _write(replaces=True, previous=OLD))  # type: ignore[arg-type]
    assert not caught.value.written and "changed by someone else" in str(caught.value)
    assert "set" not in vault.calls


def test_an_overwrite_of_the_value_the_plan_judged_goes_ahead() -> None:
    vault = FakeVault()
    vault.put("plc-der", OLD)
    write_secret_checked(vault, _write(replaces=True, previous=OLD))  # type: ignore[arg-type]
    assert vault.versions["plc-der"][-1][1] == OURS


def test_a_racer_writing_the_same_bytes_is_no_conflict() -> None:
    vault = FakeVault()
    vault.hooks["set"] = lambda: vault.put("plc-der", OURS) and None
    write_secret_checked(vault, _write())  # type: ignore[arg-type]
    assert [v for _, v in vault.versions["plc-der"]] == [OURS, OURS]


def test_check_unchanged_accepts_our_own_value_and_rejects_a_deleted_overwrite_target() -> None:
    from tui.core.model.snapshot import VaultSecret

    ours = VaultSecret("plc-der", OURS)
    assert check_unchanged(_write(), ours) is True
    assert check_unchanged(_write(), None) is False
    with pytest.raises(WriteConflict, match="deleted by someone else"):
        check_unchanged(_write(replaces=True, previous=OLD), None)
