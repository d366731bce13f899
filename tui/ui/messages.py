"""Messages the dashboard's workers and source post to the app (past tense: something happened).

:class:`StateArrived` replaces an older one still waiting in the queue, so a burst of states from the
feed costs one update of the screen, never a backlog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message
from textual.notifications import SeverityLevel

from tui.core.model.state import ClusterState

if TYPE_CHECKING:
    from tui.ops.apply import StepEvent


class StateArrived(Message):
    """A new cluster state was built; only the newest one waiting matters."""

    def __init__(self, state: ClusterState) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        """A newer state makes any older state still in the queue pointless."""
        return isinstance(message, StateArrived)


class SourceFailed(Message):
    """The state source could not start or stopped with an error (shown in the header, never fatal)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class PaneRequested(Message):
    """A widget asks the dashboard to show and focus a pane (by its id)."""

    def __init__(self, pane_id: str) -> None:
        super().__init__()
        self.pane_id = pane_id


class PreviewRequested(Message):
    """A pane asks for the preview of one item: ``kind`` is ``root-ca``, ``entry`` or ``issuer``."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__()
        self.kind = kind
        self.key = key


class ChangeRequested(Message):
    """A pane asks for a change: ``action`` names it (``upload``, ``vault-add``, ``delete``, ``apply``,
    ``mark-stale``, ``unstage``, ``discard``, ``renew``); ``keys`` are the entries it concerns."""

    def __init__(self, action: str, keys: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.action = action
        self.keys = keys


class StepProgressed(Message):
    """The runner reported progress of an apply, resume or rollback (posted from its worker thread)."""

    def __init__(self, event: StepEvent) -> None:
        super().__init__()
        self.event = event


class ChangeReported(Message):
    """A change worker has something to tell the user (a renewal requested, a failure): a notification."""

    def __init__(self, text: str, severity: SeverityLevel = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity
