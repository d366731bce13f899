"""What the header says at 80 columns, and the data age of data never read (trial findings 6 and 16).

:mod:`tui.ui.view.connection` words each header item for a wide terminal. At 80 columns the items did not
fit: the context name, which says which site the screen is about, gave way first and was cut to nothing
(``   ns azure-iot-operations  ● reconnecting since 02:50Z  vault offline  arm offl``). The compact
header therefore drops the app's name and the usual namespace and words the rest shorter, so the
context, the connection state with its data age, and the READ-ONLY badge all stay.
"""

from __future__ import annotations

from datetime import datetime

from tui.core.health.report import unread_reason
from tui.core.model.names import DEFAULT_NAMESPACE
from tui.core.model.state import Area, ClusterState
from tui.ui.view import connection
from tui.ui.view.connection import Summary
from tui.ui.view.levels import Level

_SHORTER: tuple[tuple[str, str], ...] = (
    ("reconnecting since ", "reconnecting "),
    ("vault offline", "vault off"),
    ("re-reading…", "re-read…"),
    ("arm offline", "arm off"),
)
"""Wide wording -> 80-column wording of header items (the help explains the wide form)."""

AGE_WIDTH = 14
"""The data age item's fixed width (it changes every second and must not cause a layout pass)."""

WIDE, TRIMMED, SHORT = 0, 1, 2
"""How far the header gave way: wide wording; without the app name, the usual namespace and the server;
and in short words as well."""

_CLUSTER_AREAS = (Area.ROOT_CA, Area.ISSUERS, Area.TRUST_BUNDLE, Area.OPC_UA)


def compact(text: str) -> str:
    """``text`` worded for the 80-column header: ``reconnecting 02:50Z``, ``vault off``, ``arm off``."""
    for wide, short in _SHORTER:
        text = text.replace(wide, short)
    return text


def never_read(state: ClusterState) -> bool:
    """No part of the cluster was ever read (a dashboard started against a stopped site)."""
    return all(unread_reason(state, area) is not None for area in _CLUSTER_AREAS)


def age_summary(state: ClusterState | None, now: datetime) -> Summary:
    """The header's data age (:func:`tui.ui.view.connection.age_summary`), but ``not read yet`` when
    nothing on screen was ever read: an age of data that does not exist misleads (trial finding 6)."""
    age = connection.age_summary(state, now)
    if age.text and state is not None and never_read(state):
        return Summary("not read yet", Level.MUTED)
    return age


def context_text(context: str, server: str | None, *, narrow: bool) -> str:
    """``ctx aio-demo (https://…)``; narrow, ``ctx aio-demo`` (the name tells sites apart; the server
    shows on a wider terminal)."""
    if narrow or not server:
        return f"ctx {context}"
    return f"ctx {context} ({server})"


def namespace_shown(namespace: str, *, narrow: bool) -> bool:
    """In a narrow header the usual AIO namespace goes unsaid; another one is news and stays."""
    return not narrow or namespace != DEFAULT_NAMESPACE


def fit_level(
    *, fixed: list[str], optional: list[str], wordy: list[str], context: str, server: str, width: int
) -> int:
    """How far the header must give way to keep the context name whole in ``width`` cells: ``WIDE``,
    ``TRIMMED`` (``optional`` items and the server dropped) or ``SHORT`` (``wordy`` items in short
    words too). The context's name must fit whole beside them; its server shows as far as there is room.
    Each item is padded by a cell on both sides; the data age has its fixed width."""

    def cells(items: list[str]) -> int:
        return sum(len(text) + 2 for text in items if text)

    kept = cells(fixed) + AGE_WIDTH + len(context_text(context, server, narrow=True)) + 2
    if kept + cells(optional) + cells(wordy) <= width:
        return WIDE
    if kept + cells(wordy) <= width:
        return TRIMMED
    return SHORT
