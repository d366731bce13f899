"""Failures of an apply that are neither a transport problem nor a refused write: someone else got in.

Key Vault has no preconditions on a write, so a concurrent writer is noticed by reading before and
after; the cluster's 409s that cannot be re-planned end the same way. Either way the apply stops before
its next write and reports a conflict (its own outcome and exit status), keeping the journal when
anything of its own was written.
"""

from __future__ import annotations


class WriteConflict(Exception):
    """Another writer changed what this apply writes; ``str()`` is one line.

    ``written``: this apply's own write of the step happened (it may still be the current value, or may
    have been replaced already), so the step stays in the journal as possibly done.
    """

    def __init__(self, message: str, *, written: bool) -> None:
        super().__init__(" ".join(message.split()))
        self.written = written


class WriteRefused(Exception):
    """The target is in a state the step may not be written over until the user acts (a secret deleted
    but recoverable: recover or purge it first); ``str()`` is one line. Nothing was written: the run is
    refused, not failed, and the journal stays pending for a resume once the user has acted."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ArmUnavailable(Exception):
    """A step must be written through Azure Resource Manager and this run has no ARM access (no
    credential, no subscription known); ``str()`` is one line. Nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ArmNotSettled(Exception):
    """ARM ended a write's long-running operation in a state other than ``Succeeded`` (``Failed``,
    ``Canceled``); ``str()`` is one line. The resource may or may not hold the edit: the step stays
    pending, for a resume or rollback to judge by looking at it."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
