"""Staged changes: names derived like the official CLI, ChangeSet immutability, order and helpers."""

from __future__ import annotations

import dataclasses

import pytest

from tui.core.changes.arm_write import official_commands
from tui.core.changes.changeset import (
    AddFile,
    AddVaultSecret,
    ChangeSet,
    RemoveEntry,
    default_secret_name,
    derived_target_key,
)
from tui.core.changes.file_rules import secret_name_problem


def test_default_secret_name_replaces_every_dot_like_the_official_cli() -> None:
    assert default_secret_name("plc-1.der") == "plc-1-der"
    assert default_secret_name("site.ca.v2.crt") == "site-ca-v2-crt"
    assert AddFile("trust", "plc-1.der", b"x").effective_secret_name == "plc-1-der"
    assert AddFile("trust", "plc-1.der", b"x", secret_name="mine").effective_secret_name == "mine"


@pytest.mark.parametrize(
    ("file_name", "proposed"),
    [
        ("my ca with space.der", "my-ca-with-space-der"),  # issue 13 item 12: was "my ca with space-der"
        ("my_ca (2).crt", "my-ca-2-crt"),
        ("-lead.der", "lead-der"),
        ("ünïcode.crl", "n-code-crl"),
        ("x" * 200 + ".der", "x" * 127),
    ],
)
def test_a_proposed_secret_name_passes_its_own_check(file_name: str, proposed: str) -> None:
    assert default_secret_name(file_name) == proposed
    assert secret_name_problem(proposed) is None
    assert AddFile("trust", file_name, b"x").effective_secret_name == proposed


def test_the_official_cli_command_names_a_proposed_secret_it_would_not_derive() -> None:
    # The CLI would derive "my ca-der" (refused); the command line must carry the name we write.
    [line] = official_commands([AddFile("trust", "my ca.der", b"x")], resource_group="rg", instance="inst")
    assert line.endswith("--certificate-file 'my ca.der' --secret-name my-ca-der")
    [line] = official_commands([AddFile("trust", "plc-1.der", b"x")], resource_group="rg", instance="inst")
    assert "--secret-name" not in line


@pytest.mark.parametrize(
    ("secret", "content", "expected"),
    [
        ("plc-1-der", "der-certificate", "plc-1.der"),  # the CLI's own name turns back into the file
        ("site-ca-crt", "pem-certificate", "site-ca.crt"),
        ("site-ca-crl", "crl", "site-ca.crl"),
        ("PLC-1-DER", "der-certificate", "PLC-1.der"),
        ("plc-1", "der-certificate", "plc-1.der"),  # any other name gets the extension
        ("plc-1-der", "pem-certificate", "plc-1-der.crt"),  # suffix disagrees with the content
        ("der", "der-certificate", "der.der"),
        ("-der", "der-certificate", "-der.der"),  # nothing would be left of the stem
    ],
)
def test_derived_target_key(secret: str, content: str, expected: str) -> None:
    assert derived_target_key(secret, content) == expected


def test_changes_are_frozen_and_describe_themselves_on_one_line() -> None:
    add = AddFile("trust", "plc-1.der", b"\x30\x03abc")
    with pytest.raises(dataclasses.FrozenInstanceError):
        add.overwrite = True  # type: ignore[misc]
    assert add.describe() == "add trust/plc-1.der from a 5-byte file as vault secret plc-1-der"
    assert (
        AddFile("issuer", "a.crt", b"", overwrite=True).describe().startswith("add or replace issuer/a.crt")
    )
    assert (
        AddVaultSecret("trust", "s").describe()
        == "add trust/<name from its content> from existing vault secret s"
    )
    assert RemoveEntry("trust", "a.der", purge=True).describe() == (
        "remove trust/a.der and delete + purge its vault secret"
    )
    assert RemoveEntry("issuer", "a.crt").describe() == "remove issuer/a.crt (its vault secret is kept)"
    assert "abc" not in repr(add)  # file bytes stay out of reprs and logs


def test_entry_keys() -> None:
    assert AddFile("trust", "a.der", b"").entry_key == "trust/a.der"
    assert RemoveEntry("issuer", "b.crl").entry_key == "issuer/b.crl"
    assert AddVaultSecret("trust", "s").entry_key is None
    assert AddVaultSecret("trust", "s", target_key="s.der").entry_key == "trust/s.der"


def test_change_set_keeps_order_and_never_mutates() -> None:
    a, b, c = AddFile("trust", "a.der", b"1"), RemoveEntry("trust", "b.der"), AddVaultSecret("issuer", "c")
    empty = ChangeSet()
    one = empty.add(a)
    three = one.add(b).add(c)
    assert not empty and len(empty) == 0
    assert one.changes == (a,)
    assert list(three) == [a, b, c]
    assert three.describe() == (a.describe(), b.describe(), c.describe())
    assert three.add(b) is three  # identical change: not held twice
    assert three.discard(b).changes == (a, c)
    assert three.changes == (a, b, c)
    with pytest.raises(dataclasses.FrozenInstanceError):
        three.changes = ()  # type: ignore[misc]


def test_remove_requires_a_staged_change_and_discard_does_not() -> None:
    a = AddFile("trust", "a.der", b"1")
    staged = ChangeSet.of([a])
    assert staged.remove(a) == ChangeSet()
    with pytest.raises(KeyError, match=r"trust/b\.der"):
        staged.remove(RemoveEntry("trust", "b.der"))
    assert staged.discard(RemoveEntry("trust", "b.der")) == staged


def test_changes_by_entry_for_staged_marks() -> None:
    add = AddFile("trust", "a.der", b"1")
    remove = RemoveEntry("trust", "a.der")
    other = RemoveEntry("issuer", "a.der")
    staged = ChangeSet.of([add, remove, other, add])
    assert len(staged) == 3
    assert staged.for_entry("trust/a.der") == (add, remove)
    assert staged.discard_entry("trust/a.der").changes == (other,)
