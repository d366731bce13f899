"""``status``'s read beside the main thread (tui/commands/status/background.py): a forked child process
on the other core where one can be forked, else a thread; either way the same result.

The children here are real forks of the test process; what each test reads back says in which process
the read ran (its pid), so a read that silently fell back to this process fails the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import MappingProxyType

import pytest

from tui.commands.status import background
from tui.commands.status.background import Background, Forked, read_beside
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot

ROOT = Path(__file__).resolve().parents[2]


def _snapshot() -> tuple[int, VaultSnapshot]:
    secrets = MappingProxyType(
        {"plc-1-der": VaultSecret("plc-1-der", None, "application/pkix-cert", MappingProxyType({"a": "b"}))}
    )
    return os.getpid(), VaultSnapshot("https://v.example/", ResourceStatus(AreaState.OK), secrets)


def test_the_read_runs_in_a_child_and_its_read_only_mappings_come_back() -> None:
    pid, snapshot = Forked(_snapshot).result() or (None, None)
    assert pid is not None and pid != os.getpid()
    assert snapshot == _snapshot()[1]
    assert snapshot is not None and isinstance(snapshot.secrets, MappingProxyType)
    assert isinstance(snapshot.secrets["plc-1-der"].tags, MappingProxyType)


@pytest.mark.parametrize("how", ["raises", "dies", "unpicklable"])
def test_a_child_that_gives_no_result_is_read_again_here(how: str) -> None:
    parent = os.getpid()

    def read() -> object:
        if os.getpid() == parent:
            return ("here", os.getpid())
        if how == "raises":
            raise RuntimeError("boom")
        if how == "dies":
            os._exit(1)
        return threading.Lock()  # pickle refuses it

    assert Forked(read).result() == ("here", parent)


def test_without_a_fork_the_read_runs_on_a_thread_after_its_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "can_fork", lambda: False)
    order: list[str] = []

    def read() -> tuple[int, str]:
        order.append("read")
        return os.getpid(), threading.current_thread().name

    pending = read_beside(read, prepare=lambda: order.append("prepare"), name="vault")
    assert isinstance(pending, Background)
    assert pending.result() == (os.getpid(), "status-vault")
    assert order == ["prepare", "read"]


def test_with_a_fork_the_imports_happen_in_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "can_fork", lambda: True)
    prepared: list[int] = []

    pending = read_beside(lambda: (os.getpid(), list(prepared)), prepare=lambda: prepared.append(os.getpid()))
    assert isinstance(pending, Forked)
    pid, seen = pending.result() or (None, None)
    assert pid != os.getpid() and seen == [pid]
    assert prepared == []  # this process imported nothing for it


def test_no_fork_while_another_thread_runs() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert background.can_fork() is False
    finally:
        release.set()
        thread.join()


# As ``aio-certs status`` runs it: the command line's SIGTERM/SIGHUP handlers (which raise) installed.
_LEFT_BEHIND = """
import os, signal, sys, time
from tui.cli import _terminate
from tui.commands.status.background import read_beside
for signum in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(signum, _terminate)
started = os.pipe()
def read():
    os.write(started[1], str(os.getpid()).encode())
    time.sleep(600)
pending = read_beside(read, prepare=lambda: None)
print(os.read(started[0], 20).decode(), flush=True)
{end}
"""


def _script(end: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _LEFT_BEHIND.format(end=end)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_child_still_reading_when_status_exits_is_ended_with_it() -> None:
    # The cluster unreachable: status fails at once and never asks for the vault's result.
    proc = _script("sys.exit(3)")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert _gone(int(out))
    assert err == ""  # the child's end (SIGTERM) prints nothing


def test_ctrl_c_ends_the_child_quietly() -> None:
    # Not signal.pause(): a ctrl+c landing after the interpreter's last look for signals and before
    # pause() blocks is never seen, and the script waits for a second one (a CI run timed out so). The
    # loop's sleeps are where the KeyboardInterrupt is raised; nothing here is timed.
    proc = _script("while True:\n    time.sleep(0.05)")
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends: the whole process group
    _, err = proc.communicate(timeout=60)
    assert _gone(child)
    # One traceback at most, the parent's own (this script has no handler); none from the child.
    assert err.count("Traceback") == 1 and "status-vault" not in err


_IGNORING = """
import os, signal, sys
from tui.commands.status.background import Forked
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as nohup or a background job starts it
fifo = sys.argv[1]
def read():
    print(os.getpid(), flush=True)  # under way
    with open(fifo) as go:  # until the test has sent its ctrl+c
        go.read()
    return os.getpid()
pending = Forked(read)
print(pending.result(), flush=True)
"""


def test_a_signal_the_parent_ignores_does_not_end_the_child(tmp_path: Path) -> None:
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-c", _IGNORING, str(fifo)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        child = int(proc.stdout.readline())
        os.killpg(proc.pid, signal.SIGINT)
        with open(fifo, "w") as go:
            go.write("go")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a hang (the child gone, the parent reading again): no leftover
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert int(out) == child  # the child's answer, not a read again in the parent


def test_asking_twice_gives_the_same_result_without_reading_again() -> None:
    reads: list[int] = []

    def read() -> int:
        reads.append(os.getpid())
        return os.getpid()

    pending = Forked(read)
    first = pending.result()
    assert pending.result() == first != os.getpid()
    assert reads == []  # nothing read here: the child's answer, kept
