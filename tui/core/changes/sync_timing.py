"""When the secret sync controller carries a plan's writes into the synced Secrets: at once, or at its poll.

The controller watches SecretSyncs only (generation changes) and otherwise re-reads everything on its poll
(docs/domain.md §5.5): a change of a SecretSync's spec, or a new ``forceSynchronization``, syncs at once
with the SecretProviderClass and the vault as they are at that moment. A change it cannot see (objects
added to the SPC, a vault value written) after the last spec change of a SecretSync that reads it is
picked up only at the next poll, which AIO sets to every :data:`POLL_INTERVAL` (120 s).

:func:`sync_timings` judges that from the steps in the order they run (a plan's steps, or the steps an
apply executed), so the plan diff, the apply's wait and its progress lines say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from tui.core.changes.operations import SpcEdit, Step, SyncEdit, VaultWrite

POLL_INTERVAL = timedelta(seconds=120)
"""``rotationPollIntervalInSeconds`` as AIO's enablement sets it (the controller's default is 3600 s);
docs/domain.md §5.5."""


class SyncTrigger(StrEnum):
    """What makes the controller carry the change into the synced Secret."""

    NOW = "now"
    """A spec change (or a new ``forceSynchronization``) it watches: it syncs at once."""
    POLL = "poll"
    """Only something it does not watch changed after the last spec change: it waits for the poll."""


@dataclass(frozen=True)
class SyncTiming:
    """When one SecretSync's synced Secret shows the plan, and why."""

    namespace: str
    name: str
    trigger: SyncTrigger
    reason: str
    """Why, in a few words: ``its spec changes``, ``objects it reads were added to SPC x after ...``."""
    through_arm: bool = False
    """The spec change is written through ARM: the cluster copy changes when ARM's projection brings it
    (when that happens is unconfirmed, docs/domain.md §9.2), and the controller syncs then."""

    @property
    def key(self) -> str:
        """``namespace/name`` of the SecretSync."""
        return f"{self.namespace}/{self.name}"

    @property
    def at_most(self) -> timedelta | None:
        """The longest the change can wait for the controller; None when it syncs at once."""
        return POLL_INTERVAL if self.trigger is SyncTrigger.POLL else None

    def describe(self) -> str:
        """One line: ``waits for the controller's next poll, at most 120 s (...)`` or ``syncs at once``."""
        if self.trigger is SyncTrigger.POLL:
            return f"waits for the controller's next poll, at most {poll_seconds()} s ({self.reason})"
        if self.through_arm:
            return f"syncs once ARM's projection brings the edit to the cluster ({self.reason})"
        return f"syncs at once ({self.reason})"

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        at_most = self.at_most
        return {
            "secret_sync": self.key,
            "trigger": str(self.trigger),
            "reason": self.reason,
            "through_arm": self.through_arm,
            "at_most_seconds": int(at_most.total_seconds()) if at_most is not None else None,
        }


def poll_seconds() -> int:
    """:data:`POLL_INTERVAL` in whole seconds (as the wording shows it)."""
    return int(POLL_INTERVAL.total_seconds())


def _spec_reason(edit: SyncEdit) -> str:
    if edit.action == "delete":
        return "it is deleted; its Secret goes with it"
    if edit.action == "create":
        return "it is created"
    if edit.before == edit.after and edit.force_synchronization:
        return "a new forceSynchronization"
    return "its spec changes"


def sync_timings(steps: Iterable[Step]) -> tuple[SyncTiming, ...]:
    """One timing per SecretSync the steps edit, in the order the steps first touch them.

    A SecretSync syncs at once when its last spec edit comes after every step that changes what it reads
    (an SPC edit adding or rewriting an object it maps, a vault write of a secret it maps); when such a
    step comes after it, the change waits for the controller's next poll.
    """
    ordered = list(steps)
    last_edit: dict[str, tuple[int, SyncEdit]] = {}
    for i, step in enumerate(ordered):
        if isinstance(step.op, SyncEdit):
            last_edit[step.op.key] = (i, step.op)
    out = []
    for at, edit in last_edit.values():
        if edit.action == "delete":
            out.append(SyncTiming(edit.namespace, edit.name, SyncTrigger.NOW, _spec_reason(edit)))
            continue
        sources = {s.lower() for s, _ in edit.after}
        later = _later_input(ordered[at + 1 :], edit, sources)
        if later is not None:
            out.append(SyncTiming(edit.namespace, edit.name, SyncTrigger.POLL, later))
        else:
            through_arm = edit.arm is not None
            out.append(
                SyncTiming(edit.namespace, edit.name, SyncTrigger.NOW, _spec_reason(edit), through_arm)
            )
    return tuple(out)


def _later_input(after: Iterable[Step], edit: SyncEdit, sources: set[str]) -> str | None:
    """Why a step after the SecretSync's last spec edit changes what it reads, or None."""
    for step in after:
        op = step.op
        if (
            isinstance(op, SpcEdit)
            and op.namespace == edit.namespace
            and op.name == edit.spc_name
            and any(name.lower() in sources for name in op.added)
        ):
            return f"objects it reads change in SecretProviderClass {op.name} after its spec"
        if isinstance(op, VaultWrite) and op.secret_name.lower() in sources:
            return f"vault secret {op.secret_name} is written after its spec"
    return None
