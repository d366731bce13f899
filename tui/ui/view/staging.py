"""The change set staged in the dashboard, and how it shows in the OPC UA table until it is confirmed.

The modals stage changes (upload, add from Key Vault, delete); ``a`` applies them. Until then every
staged change stays visible in the table: an entry being removed or replaced is marked, and an entry
being added appears as a row of its own (built from the decoded file, so it sorts and filters like the
others). After a successful apply the changes wait, still marked, until the live state shows them: an
added entry synced with the same content, a removed entry gone. That arrival is the confirmation.

Pure: no Textual, no I/O. Validation is the core's (:func:`tui.core.changes.validation.validate`), run
over the staged set plus the new changes so that cross-change rules (added twice, secret reused) apply as the
user types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tui.core.certs.checks import crl_days_left, days_left
from tui.core.changes.changeset import AddFile, AddVaultSecret, Change, ChangeSet, RemoveEntry
from tui.core.changes.file_rules import FileContent
from tui.core.changes.validation import Issue, Resolved, validate
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import ClusterState, OpcUaEntry


class StageKind(StrEnum):
    """How a staged change shows on its row."""

    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"
    PURGE = "remove+purge"
    APPLIED = "applied"


MARKER_SYMBOL: dict[StageKind, str] = {
    StageKind.ADD: "+",
    StageKind.REPLACE: "~",
    StageKind.REMOVE: "-",
    StageKind.PURGE: "-",
    StageKind.APPLIED: "✓",
}
"""Prefix of the file name cell for each kind."""

MARKER_LABEL: dict[StageKind, str] = {
    StageKind.ADD: "staged add",
    StageKind.REPLACE: "staged replace",
    StageKind.REMOVE: "staged remove",
    StageKind.PURGE: "staged remove+purge",
    StageKind.APPLIED: "applied, syncing",
}
"""Text of the health cell for each kind."""


@dataclass(frozen=True)
class StagedItem:
    """One staged change and what the dialog decoded for it (shown in its row until applied)."""

    change: Change
    content: FileContent | None = None
    """The certificate or CRL an add brings (None for a removal)."""
    note: str = ""
    """Why it was staged, when the dashboard suggested it (a stale entry's reason)."""

    @property
    def entry_key(self) -> str | None:
        """Row key ``list/targetKey`` of the entry it changes."""
        return self.change.entry_key

    @property
    def kind(self) -> StageKind:
        """How it shows in the table."""
        change = self.change
        if isinstance(change, RemoveEntry):
            return StageKind.PURGE if change.purge else StageKind.REMOVE
        if isinstance(change, AddFile) and change.overwrite:
            return StageKind.REPLACE
        return StageKind.ADD


@dataclass(frozen=True)
class Staging:
    """Staged changes (in staging order) and applied ones awaiting the live view; immutable."""

    items: tuple[StagedItem, ...] = ()
    applied: tuple[StagedItem, ...] = field(default=())
    """Applied and not yet seen in the live state."""

    @property
    def changes(self) -> ChangeSet:
        """The staged change set, for planning."""
        return ChangeSet.of(item.change for item in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, items: Iterable[StagedItem]) -> Staging:
        """These changes staged as well (an identical change is not staged twice)."""
        out = list(self.items)
        for item in items:
            if all(item.change != held.change for held in out):
                out.append(item)
        return Staging(tuple(out), self.applied)

    def unstage(self, entry_keys: Iterable[str]) -> Staging:
        """Without every staged or awaited change of these entries."""
        keys = set(entry_keys)
        return Staging(
            tuple(i for i in self.items if i.entry_key not in keys),
            tuple(i for i in self.applied if i.entry_key not in keys),
        )

    def cleared(self) -> Staging:
        """Nothing staged (changes awaiting the live view stay)."""
        return Staging((), self.applied)

    def mark_applied(self) -> Staging:
        """Every staged change applied: they now await the live view."""
        return Staging((), self.applied + self.items)

    def settle(self, state: ClusterState) -> Staging:
        """Without the applied changes the live ``state`` now shows (the confirmation arrived)."""
        waiting = tuple(item for item in self.applied if not shows(state, item))
        return self if len(waiting) == len(self.applied) else Staging(self.items, waiting)

    def staged_keys(self) -> set[str]:
        """Keys of the entries some staged change targets."""
        return {item.entry_key for item in self.items if item.entry_key is not None}

    def markers(self) -> dict[str, StageKind]:
        """Entry key -> how its row is marked (a staged change wins over an awaited one)."""
        out: dict[str, StageKind] = {}
        for item in self.applied:
            if item.entry_key is not None:
                out[item.entry_key] = StageKind.APPLIED
        for item in self.items:
            if item.entry_key is not None:
                out[item.entry_key] = item.kind
        return out

    def ghost_entries(self, state: ClusterState, now: datetime) -> tuple[OpcUaEntry, ...]:
        """Rows for staged (and awaited) adds of entries the live state does not hold yet."""
        out: dict[str, OpcUaEntry] = {}
        for item in self.applied + self.items:
            key = item.entry_key
            if key is None or key in out or state.entry(key) is not None:
                continue
            entry = ghost_entry(item, state, now)
            if entry is not None:
                out[key] = entry
        return tuple(out.values())


def shows(state: ClusterState, item: StagedItem) -> bool:
    """Whether the live state shows an applied change: added, synced with its content and its vault secret
    seen (a state built before the vault was read again would call a new entry's secret gone), or gone."""
    key = item.entry_key
    if key is None:
        return True
    entry = state.entry(key)
    if isinstance(item.change, RemoveEntry):
        return entry is None
    if entry is None or not entry.synced or entry.vault_present is False:
        return False
    content = item.content
    wanted = content.sha256 if content is not None else None
    held = (
        entry.certificate.sha256
        if entry.certificate is not None
        else entry.crl.sha256
        if entry.crl is not None
        else None
    )
    return wanted is None or held == wanted


def ghost_entry(item: StagedItem, state: ClusterState, now: datetime) -> OpcUaEntry | None:
    """An OPC UA entry for a staged add that is not in the list yet (None for removals)."""
    change, content = item.change, item.content
    if isinstance(change, RemoveEntry) or content is None or change.entry_key is None:
        return None
    list_name = change.list_name
    sync = state.sync(list_name)
    if isinstance(change, AddFile):
        target, secret = change.file_name, change.effective_secret_name
    else:
        assert isinstance(change, AddVaultSecret) and change.target_key is not None
        target, secret = change.target_key, change.secret_name
    cert, crl = content.certificate, content.crl
    if cert is not None:
        left: int | None = days_left(cert, now)
    elif crl is not None and crl.next_update is not None:
        left = crl_days_left(crl, now)
    else:
        left = None
    form = "pem" if content.kind == "pem-certificate" else "der"
    return OpcUaEntry(
        list_name=list_name,
        target_key=target,
        source_path=secret,
        sync_name=sync.name if sync is not None else OPCUA_LISTS.get(list_name, ""),
        spc_name=state.opcua_spc,
        mapped=False,
        spc_object=False,
        synced=False,
        vault_present=None,
        vault_content_type=None,
        vault_tags=(),
        vault_enabled=None,
        vault_expires_on=None,
        vault_in_sync=None,
        size=len(change.data) if isinstance(change, AddFile) else None,
        sha256=None,
        content="certificate" if cert is not None else "crl",
        certificate=cert,
        extra_certificates=(),
        crl=crl,
        decode_error=None,
        form=form,
        format_problem=None,
        private_key_present=False,
        days_left=left,
    )


@dataclass(frozen=True)
class Check:
    """The core's verdict on changes about to be staged, as the dialogs show it."""

    problems: tuple[Issue, ...]
    """Refusals of these changes (one line each); they cannot be staged while there is any."""
    warnings: tuple[Issue, ...]
    resolved: tuple[Resolved, ...]
    """The new changes made concrete (target key, secret, content), in order."""
    vault_checked: bool
    """False when no vault listing was at hand: the vault rules run again when the plan is made."""

    @property
    def ok(self) -> bool:
        """Nothing refuses the new changes."""
        return not self.problems

    def problems_of(self, index: int) -> tuple[Issue, ...]:
        """Problems of the ``index``-th new change (plan-wide ones included)."""
        return tuple(p for p in self.problems if p.change_index in (None, index))


def secrets_in_lists(state: ClusterState) -> dict[str, VaultSecret]:
    """The vault secrets the state knows exist (those behind list entries), values unknown."""
    return {
        e.source_path: VaultSecret(e.source_path, None)
        for e in state.opcua
        if e.source_path and e.vault_present is not False
    }


def check_new(
    staging: Staging,
    new: Sequence[Change],
    state: ClusterState,
    *,
    now: datetime,
    vault_secrets: Mapping[str, VaultSecret] | None,
) -> Check:
    """Validate ``new`` after everything already staged; only the issues of ``new`` are returned.

    Without ``vault_secrets`` (the vault not listed yet) the secrets behind list entries stand in for
    it: every rule still runs, including those across changes (which a "vault unreadable" refusal
    would hide), and a clash with a secret no list uses is found when the plan reads the vault.
    """
    base = staging.changes
    offset = len(base)
    changes = ChangeSet((*base.changes, *new))
    known = vault_secrets if vault_secrets is not None else secrets_in_lists(state)
    result = validate(changes, state, vault_secrets=known, now=now)
    ours = set(range(offset, len(changes)))

    def mine(issue: Issue) -> bool:
        return issue.change_index is None or issue.change_index in ours

    def shift(issue: Issue) -> Issue:
        if issue.change_index is None:
            return issue
        return Issue(issue.code, issue.subject, issue.message, issue.change_index - offset)

    resolved = tuple(r for r in result.resolved if r.index in ours)
    return Check(
        tuple(shift(p) for p in result.problems if mine(p)),
        tuple(shift(w) for w in result.warnings if mine(w)),
        resolved,
        vault_secrets is not None,
    )
