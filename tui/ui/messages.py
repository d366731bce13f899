"""Messages the dashboard's workers and source post to the app (past tense: something happened).

:class:`StateArrived` replaces an older one still waiting in the queue, so a burst of states from the
feed costs one update of the screen, never a backlog.
"""

from __future__ import annotations

from textual.message import Message

from tui.core.model import ClusterState


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
