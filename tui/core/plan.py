"""Change plans: a staged change set turned into the exact vault, SPC and SecretSync operations.

(First published API; make_plan is being filled in.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.core.changes import ChangeSet
from tui.core.model import ClusterState
from tui.core.plan_ops import SpcEdit, Step, SyncEdit, VaultDelete, VaultWrite
from tui.core.snapshot import RawSnapshot, VaultSecret
from tui.core.validation import Issue


@dataclass(frozen=True)
class Plan:
    """What applying a change set will do, exactly; immutable. Applicable only without problems."""

    plan_id: str
    changes: ChangeSet
    problems: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    vault_writes: tuple[VaultWrite, ...]
    vault_deletes: tuple[VaultDelete, ...]
    spc_edit: SpcEdit | None
    sync_edits: tuple[SyncEdit, ...]
    arm_managed: tuple[str, ...]
    steps: tuple[Step, ...]
    created_at: datetime
    namespace: str

    @property
    def applicable(self) -> bool:
        """No problems and at least one operation."""
        return not self.problems and bool(self.steps)

    def render_diff(self) -> str:
        """Readable, deterministic diff."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """JSON object for --json and the journal."""
        raise NotImplementedError


def make_plan(changes: ChangeSet, state: ClusterState, *, vault_secrets: Mapping[str, VaultSecret] | None,
              now: datetime, read_only: bool = False, raw: RawSnapshot | None = None) -> Plan:
    """Validate ``changes`` and compute the exact operations."""
    raise NotImplementedError


def rebase_plan(plan: Plan, new_state: ClusterState, *, raw: RawSnapshot | None = None) -> Plan:
    """Recompute the SPC/SecretSync edits of ``plan`` against fresh objects (after a 409)."""
    raise NotImplementedError
