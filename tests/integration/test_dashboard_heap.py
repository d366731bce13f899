"""The dashboard command hands the C heap's free pages back once its heap is frozen a second time.

The vault's first read runs in a child process now (``vault_worker``), so the trim that read made in this
process no longer happens here; the command passes ``release_free_heap`` to the app, which calls it after
the heap's second freeze (``tests/ui/test_live_updates.py`` checks when). ``run_app`` is replaced, so no
terminal is needed; the feed is the real one against the emulated API server, and is stopped by the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.cli import main
from tui.commands.dashboard import run as dashboard_run
from tui.commands.shared.vault_reader import release_free_heap
from tui.ui.source import StateSource
from tui.ui.view.settings import UiSettings


def test_the_dashboard_passes_the_heap_release_to_the_app(
    kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith(("AIO_CERTS_", "AZURE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AIO_CERTS_STATE_DIR", str(tmp_path / "state"))
    seen: list[UiSettings] = []

    def run_app(source: StateSource, settings: UiSettings, **_kwargs: object) -> int:
        seen.append(settings)
        source.stop()
        return 0

    monkeypatch.setattr(dashboard_run, "run_app", run_app)
    assert main(["dashboard", "--kubeconfig", str(kubeconfig), "--read-only"]) == 0
    assert len(seen) == 1
    assert seen[0].freeze_heap and seen[0].release_heap is release_free_heap
