"""Validation of a staged change set against the cluster and the vault, before any write.

(First published API; the rules are being filled in.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem (refusal) or warning about a change, as one line naming the file or entry."""

    code: str
    """Machine-readable rule, e.g. ``extension``, ``expired``, ``name-collision``."""
    subject: str
    """What it is about: ``trust/plc-1.der``, ``vault secret plc-1-der``..."""
    message: str
    """The whole line, subject first: ``trust/plc-1.txt: extension .txt is not allowed ...``."""
    change_index: int | None = None
    """Index of the change in the change set it belongs to; None for plan-wide issues."""

    def __str__(self) -> str:
        return self.message
