"""The Azure SDK, imported lazily and one thread at a time.

The vault and ARM readers import the SDK on first use so that it never delays a first frame. They run
on their own threads (the dashboard's side reads, ``status``'s early vault listing beside the cluster
read), and two threads importing the same packages at once can fail with ``_DeadlockError: deadlock
detected by _ModuleLock('azure.core.exceptions')``: CPython gives up on a thread that waits for a module
another thread is importing while that thread waits for one of its own (azure.core's modules import each
other). Every lazy SDK import goes through :func:`import_sdk`, which takes one lock, so only one thread
imports at a time; once imported, a call is a few dictionary look-ups and takes no lock. ``status`` also
imports its heavy half (the kubernetes client, the model) through the gate, while its vault listing,
whose modules are all in by then, runs on another thread.

It lives in the vault adapter, whose credentials ARM shares; callers name the modules they are about to
import themselves (the ARM readers pass the ARM adapter's), so no layer gains an import it did not have.
This module imports no SDK itself.
"""

from __future__ import annotations

import importlib
import sys
import threading

# Re-entrant: a module imported under the gate may itself go through it.
_LOCK = threading.RLock()

VAULT = ("tui.vault.client", "tui.vault.errors", "tui.vault.reader", "tui.vault.listing")
"""The vault adapter's modules that bring the SDK."""

IDENTITY = ("azure.identity",)
"""azure-identity, which only the credentials that sign in for real need (not ``--auth demo``)."""


def import_sdk(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (and the SDK they bring) unless already imported, one thread at a time.

    Modules already imported whole are not waited for: ``status`` lists the vault on one thread while
    its main thread holds the gate to import the cluster client, and the listing must not wait for that.
    """
    if all(_imported(name) for name in modules):
        return
    with _LOCK:
        for name in modules:
            importlib.import_module(name)


def _imported(name: str) -> bool:
    # In sys.modules from the moment its import starts; ``_initializing`` until it has finished.
    module = sys.modules.get(name)
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)
