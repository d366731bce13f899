"""The vault reader's child process (tui/commands/shared/vault_worker.py) over stand-in readers.

The children are real forks of the test process; the stand-ins answer without a network. The reads over
the wire, through the real SecretClient, are in tests/integration/test_vault_worker.py.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any, cast

import pytest

from tui.commands.shared.vault_reader import SiteVaultReader
from tui.commands.shared.vault_worker import ForkedVaultReader
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot

ROOT = Path(__file__).resolve().parents[2]
STATE = cast(Any, SimpleNamespace(spcs=[], opcua_spc=None))


class StandIn:
    """Answers every read with a snapshot naming the process that read it; ``how`` what else it does."""

    def __init__(self, how: str = "", state: AreaState = AreaState.OK) -> None:
        self.how = how
        self.state = state
        self.adopted: dict[str, Any] = {}

    def for_spc(self, spc: object, *, only: Collection[str] | None = None, **_: Any) -> VaultSnapshot:
        if self.how == "raise" and os.getpid() != PARENT:
            raise RuntimeError("a bug in the child")
        if self.how == "talk":
            print("a warning on stdout")
            os.write(2, b"a C library's message on fd 2\n")
        secrets = {"pid": VaultSecret("pid", str(os.getpid()), tags=MappingProxyType({}))}
        return VaultSnapshot("https://v.example/", ResourceStatus(self.state), MappingProxyType(secrets))

    def export_values(self) -> dict[str, Any]:
        return {"https://v.example/": {"pid": os.getpid()}}

    def adopt_values(self, values: dict[str, Any]) -> None:
        self.adopted.update(values)


PARENT = os.getpid()


def _forked(child: StandIn, here: StandIn | None = None) -> ForkedVaultReader:
    made = here or StandIn()
    return ForkedVaultReader(cast(SiteVaultReader, child), fallback=lambda: cast(SiteVaultReader, made))


def _reader_pid(snapshot: VaultSnapshot | None) -> int:
    assert snapshot is not None
    return int(snapshot.secrets["pid"].value or 0)


def test_reads_wait_in_the_child_until_one_is_complete_then_this_process_takes_over() -> None:
    here = StandIn()
    failing = _forked(StandIn(state=AreaState.UNREACHABLE), here)
    try:
        first = failing(STATE)
        assert first is not None and first.status.state is AreaState.UNREACHABLE
        assert _reader_pid(first) == failing.pid and failing.handed_over is False  # the child stays
    finally:
        failing.close()
    assert not failing._process.is_alive()

    proxy = _forked(StandIn(), here)
    child = proxy.pid
    assert _reader_pid(proxy(STATE)) == child
    assert proxy.handed_over is True and not proxy._process.is_alive()
    assert here.adopted == {"https://v.example/": {"pid": child}}  # what the child remembered
    assert _reader_pid(proxy(STATE)) == os.getpid()  # the next read is this process's


def test_a_read_that_fails_in_the_child_is_read_here_and_the_child_ended() -> None:
    proxy = _forked(StandIn("raise"))
    assert _reader_pid(proxy(STATE)) == os.getpid()
    assert not proxy._process.is_alive()
    proxy.close()


def test_after_close_a_read_returns_nothing() -> None:
    proxy = _forked(StandIn(state=AreaState.FORBIDDEN))
    proxy.close()
    assert proxy(STATE) is None
    assert not proxy._process.is_alive()


def test_the_child_never_writes_to_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    sys.stdout.flush()
    proxy = _forked(StandIn("talk"))
    assert _reader_pid(proxy(STATE)) == proxy.pid
    proxy.close()
    out, err = capfd.readouterr()
    assert "warning" not in out and "message" not in err


_KILLED_PARENT = """
import os, sys, time
from types import SimpleNamespace
from tui.commands.shared.vault_worker import ForkedVaultReader

class Slow:
    def for_spc(self, spc, **_):
        time.sleep(600)  # a read on a slow vault

proxy = ForkedVaultReader(Slow(), fallback=Slow)
print(proxy.pid, flush=True)
import threading
threading.Thread(target=proxy, args=(SimpleNamespace(spcs=[], opcua_spc=None),), daemon=True).start()
time.sleep(0.2)
os.kill(os.getpid(), 9)  # killed outright: no exit handler runs
"""


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait for ``pid`` (not our child) to end, on its pidfd; True once it has."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)


def test_the_child_ends_with_a_parent_killed_mid_read() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_PARENT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -9
    assert _wait_gone(int(proc.stdout.split()[0]), timeout=10)


_TERM_IGNORED = """
import os, signal, sys
from types import SimpleNamespace
from tui.commands.shared.vault_worker import ForkedVaultReader
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSnapshot

signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a supervisor that starts its children so

class Forbidden:  # no complete read: the child stays
    def for_spc(self, spc, **_):
        return VaultSnapshot("https://v.example/", ResourceStatus(AreaState.FORBIDDEN))

proxy = ForkedVaultReader(Forbidden(), fallback=Forbidden)
proxy(SimpleNamespace(spcs=[], opcua_spc=None))
print(proxy.pid, flush=True)
if sys.argv[1] == "close":
    proxy.close()
    print("alive" if proxy._process.is_alive() else "ended", flush=True)
"""


@pytest.mark.parametrize("how", ["close", "exit"])
def test_the_child_ends_on_close_or_exit_even_where_sigterm_is_ignored(how: str) -> None:
    # closed: its requests' end of file ends it (the fork's copies of the dashboard's ends are closed in
    # the child); at exit multiprocessing sends SIGTERM, which the child never ignores, and waits for it.
    proc = subprocess.run(
        [sys.executable, "-c", _TERM_IGNORED, how], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert _wait_gone(int(lines[0]), timeout=10)
    if how == "close":
        assert lines[1] == "ended"


class Numbered:
    """Answers read n with n; hands the listing ahead to the callback."""

    def __init__(self) -> None:
        self.reads = 0

    def for_spc(self, spc: object, *, on_listed: Any = None, **_: Any) -> VaultSnapshot:
        self.reads += 1
        snapshot = VaultSnapshot(
            "https://v.example/",
            ResourceStatus(AreaState.FORBIDDEN),
            MappingProxyType({"n": VaultSecret("n", str(self.reads))}),
        )
        if on_listed is not None:
            on_listed(snapshot)
        return snapshot


def test_a_callback_that_raises_leaves_no_answer_behind_for_the_next_read() -> None:
    here = Numbered()
    proxy = _forked(cast(StandIn, Numbered()), cast(StandIn, here))

    def boom(_: VaultSnapshot) -> None:
        raise RuntimeError("the feed's callback failed")

    with pytest.raises(RuntimeError):
        proxy(STATE, on_listed=boom)
    second = proxy(STATE)
    # Not the child's first answer (read 1) taken for this read: this process's own first read.
    assert second is not None and second.secrets["n"].value == "1" and here.reads == 1
    assert not proxy._process.is_alive()
    proxy.close()
