"""Staged changes to the OPC UA trust and issuer lists, before anything is validated or written.

A :class:`ChangeSet` is what the Upload / Add from Key Vault / Delete modals and the ``trust|issuer
add|remove`` and ``vault add`` commands build up; :func:`tui.core.changes.plan.make_plan` turns it into
the exact operations. Changes are plain frozen values: no I/O, no judgement (that is
:mod:`tui.core.changes.validation`).

Names follow the official ``az iot ops connector opcua`` tool (docs/domain.md §6.3 and §7): an entry is
known by its *target key* (the file name in the list, e.g. ``plc-1.der``), and a file's Key Vault secret
is by default the file name with every ``.`` replaced by ``-`` (``plc-1-der``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from tui.core.changes.file_rules import SECRET_NAME_MAX, secret_name_problem
from tui.core.model.names import LIST_ISSUER, LIST_TRUST

ListName = Literal["trust", "issuer"]
"""The two OPC UA lists aio-certs edits (the client certificate is not a list)."""

LIST_NAMES: tuple[str, ...] = (LIST_TRUST, LIST_ISSUER)

EXTENSION_OF_CONTENT = {"der-certificate": ".der", "pem-certificate": ".crt", "crl": ".crl"}
"""The file extension the connector reads each kind of content by (docs/domain.md §7.2)."""


def cli_secret_name(file_name: str) -> str:
    """The Key Vault secret name the official CLI derives from a file name: ``.`` -> ``-``, nothing else
    (so ``my ca.der`` gives ``my ca-der``, which Key Vault and the SecretSync refuse)."""
    return file_name.replace(".", "-")


def default_secret_name(file_name: str) -> str:
    """The secret name proposed for a file: the official CLI's (:func:`cli_secret_name`) when that is a
    usable name, else the file name with every run of other characters (dots too) made one ``-``, no
    leading ``-``, cut to Key Vault's length; so what is proposed passes
    :func:`~tui.core.changes.file_rules.secret_name_problem` (``my ca with space.der`` ->
    ``my-ca-with-space-der``)."""
    name = cli_secret_name(file_name)
    if secret_name_problem(name) is None:
        return name
    cleaned = _NOT_SECRET_CHARACTERS.sub("-", file_name).lstrip("-")[:SECRET_NAME_MAX]
    # An empty result (a name of symbols only) stays empty: the check then says the name is empty.
    return cleaned


_NOT_SECRET_CHARACTERS = re.compile(r"[^0-9a-zA-Z-]+")


def derived_target_key(secret_name: str, content: str) -> str:
    """The target key for a vault secret added to a list, from what its value holds.

    ``content`` is ``der-certificate``, ``pem-certificate`` or ``crl`` (see :data:`EXTENSION_OF_CONTENT`).
    A name the official CLI made from a file name is turned back into that file name (``plc-1-der``
    holding a DER certificate becomes ``plc-1.der``), so removing an entry and adding its secret back
    restores the same entry; any other name gets the extension appended (``site-ca`` -> ``site-ca.crt``).
    """
    ext = EXTENSION_OF_CONTENT[content]
    suffix = "-" + ext[1:]
    if secret_name.lower().endswith(suffix) and len(secret_name) > len(suffix):
        return secret_name[: -len(suffix)] + ext
    return secret_name + ext


@dataclass(frozen=True)
class AddFile:
    """Upload a local file into a list: a vault secret, an SPC object and a SecretSync mapping."""

    list_name: str
    """``trust`` or ``issuer``."""
    file_name: str
    """The target key: the file's base name, as the official CLI uses it (``plc-1.der``)."""
    data: bytes = field(repr=False)
    """The file's bytes, written to Key Vault as lower-case hex exactly as they are."""
    secret_name: str | None = None
    """Key Vault secret name; None means :func:`default_secret_name` of the file name."""
    overwrite: bool = False
    """Allow replacing an existing vault secret of that name and/or an entry of that target key."""

    @property
    def target_key(self) -> str:
        """The file name in the list (same as :attr:`file_name`)."""
        return self.file_name

    @property
    def effective_secret_name(self) -> str:
        """The secret name that will be written: the given one or the default."""
        return self.secret_name if self.secret_name is not None else default_secret_name(self.file_name)

    @property
    def entry_key(self) -> str | None:
        """Row key ``list/targetKey`` of the entry this change creates or replaces."""
        return f"{self.list_name}/{self.file_name}"

    def describe(self) -> str:
        """One line for a human: what this change does."""
        verb = "add or replace" if self.overwrite else "add"
        return (
            f"{verb} {self.list_name}/{self.file_name} from a {len(self.data)}-byte file "
            f"as vault secret {self.effective_secret_name}"
        )


@dataclass(frozen=True)
class AddVaultSecret:
    """Put a secret that already exists in Key Vault into a list: SPC object and SecretSync mapping only."""

    list_name: str
    """``trust`` or ``issuer``."""
    secret_name: str
    """The existing Key Vault secret (its value must decode to one certificate or CRL)."""
    target_key: str | None = None
    """File name in the list; None derives it from the content (:func:`derived_target_key`)."""

    @property
    def entry_key(self) -> str | None:
        """Row key of the new entry; None until planning has read the secret (target key not given)."""
        return f"{self.list_name}/{self.target_key}" if self.target_key is not None else None

    def describe(self) -> str:
        """One line for a human: what this change does."""
        where = self.target_key or "<name from its content>"
        return f"add {self.list_name}/{where} from existing vault secret {self.secret_name}"


@dataclass(frozen=True)
class RemoveEntry:
    """Take an entry out of a list (mapping and SPC object); ``purge`` also deletes and purges its secret."""

    list_name: str
    """``trust`` or ``issuer``."""
    target_key: str
    """The file name in the list, as the official tool's ``remove`` takes it (``plc-1.der``)."""
    purge: bool = False
    """Also delete and purge the Key Vault secret behind the entry (irreversible in Key Vault)."""

    @property
    def entry_key(self) -> str | None:
        """Row key ``list/targetKey`` of the entry removed."""
        return f"{self.list_name}/{self.target_key}"

    def describe(self) -> str:
        """One line for a human: what this change does."""
        tail = " and delete + purge its vault secret" if self.purge else " (its vault secret is kept)"
        return f"remove {self.list_name}/{self.target_key}{tail}"


Change = AddFile | AddVaultSecret | RemoveEntry
"""One staged change."""


@dataclass(frozen=True)
class ChangeSet:
    """An ordered, immutable list of staged changes; every helper returns a new set.

    Order is the user's staging order and is kept in plans, diffs and the journal. An identical change
    is never held twice; conflicting changes (two adds of one target key, add and remove of the same
    entry) are allowed here and refused by validation with a message, so the UI can show them.
    """

    changes: tuple[Change, ...] = ()

    @classmethod
    def of(cls, changes: Iterable[Change]) -> ChangeSet:
        """A set holding ``changes`` in order (exact duplicates dropped)."""
        out = cls()
        for change in changes:
            out = out.add(change)
        return out

    def add(self, change: Change) -> ChangeSet:
        """This set with ``change`` appended (unchanged when an identical change is already staged)."""
        if change in self.changes:
            return self
        return ChangeSet((*self.changes, change))

    def remove(self, change: Change) -> ChangeSet:
        """This set without ``change``; KeyError when it is not staged."""
        if change not in self.changes:
            raise KeyError(change.describe())
        return self.discard(change)

    def discard(self, change: Change) -> ChangeSet:
        """This set without ``change`` (unchanged when it is not staged)."""
        return ChangeSet(tuple(c for c in self.changes if c != change))

    def discard_entry(self, entry_key: str) -> ChangeSet:
        """This set without every change that targets the entry ``list/targetKey``."""
        return ChangeSet(tuple(c for c in self.changes if c.entry_key != entry_key))

    def for_entry(self, entry_key: str) -> tuple[Change, ...]:
        """The staged changes that target the entry ``list/targetKey`` (for the table's staged marks)."""
        return tuple(c for c in self.changes if c.entry_key == entry_key)

    def describe(self) -> tuple[str, ...]:
        """One line per change, in order."""
        return tuple(c.describe() for c in self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)
