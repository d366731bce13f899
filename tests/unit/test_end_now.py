"""The quick end of a one-shot report (``exits.end_now``) and which commands take it (``cli.entry``).

The quick end skips the interpreter's teardown; what must still happen is checked in a child process
(buffered output written, ``atexit`` functions run, the status kept), and where it must not be taken
(a thread still running, a stream that cannot be flushed) it raises ``SystemExit`` here instead.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import tui.cli as cli
from tui.commands.shared.exits import end_now

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT_HEAD = """\
import atexit, sys, threading
from tui.commands.shared.exits import end_now

class Heavy:
    def __del__(self):
        sys.stdout.write("torn down\\n")
        sys.stdout.flush()

kept = Heavy()  # freed by the interpreter's teardown, and only by it
atexit.register(lambda: print("atexit ran"))
print("report line")  # stdout is a pipe: block-buffered, still in the buffer here
"""


def _child(body: str) -> subprocess.CompletedProcess[str]:
    script = _SCRIPT_HEAD + textwrap.dedent(body)
    # Buffered as a user's shell would run it, so that the report is still in the buffer at the end.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env=env,
    )


def test_quick_end_writes_the_output_runs_atexit_and_skips_the_teardown() -> None:
    done = _child("end_now(3)\n")
    assert done.returncode == 3, done.stderr
    assert done.stdout.splitlines() == ["report line", "atexit ran"]
    assert done.stderr == ""


def test_the_report_is_still_buffered_when_the_quick_end_comes() -> None:
    # What the test above relies on: without end_now's flush the line would be lost.
    done = _child("import os\nos._exit(3)\n")
    assert done.returncode == 3
    assert done.stdout == ""


def test_a_signal_during_the_quick_end_ends_the_process_as_the_signal_does() -> None:
    # The command line's handler raises; from inside end_now that was a traceback and status 1.
    done = _child(
        """\
        import os, signal
        from tui.cli import _terminate

        signal.signal(signal.SIGTERM, _terminate)
        atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM))
        end_now(2)
        """
    )
    assert done.returncode == -signal.SIGTERM
    assert "Traceback" not in done.stderr and "Terminated" not in done.stderr


def test_a_running_thread_that_is_not_a_daemon_gets_the_usual_end() -> None:
    done = _child(
        """\
        release = threading.Event()

        def work():
            release.wait()
            print("thread finished")

        threading.Thread(target=work).start()
        try:
            end_now(4)
        except SystemExit as stop:
            print(f"usual end {stop.code}")
            release.set()
            raise
        """
    )
    assert done.returncode == 4, done.stderr
    # The usual end: the thread is waited for, and the teardown frees the object.
    assert done.stdout.splitlines() == [
        "report line",
        "usual end 4",
        "thread finished",
        "atexit ran",
        "torn down",
    ]


def test_a_thread_still_running_keeps_the_process() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as stop:
            end_now(2)
        assert stop.value.code == 2
    finally:
        release.set()
        worker.join()


class _ClosedPipe(io.StringIO):
    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_stream_that_cannot_be_flushed_gets_the_usual_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    with pytest.raises(SystemExit) as stop:
        end_now(1)
    assert stop.value.code == 1


@pytest.mark.parametrize(
    ("command", "quick"),
    [("status", True), ("inspect", True), ("dashboard", False), ("trust", False), (None, False)],
)
def test_entry_ends_quickly_after_one_shot_reports_only(
    monkeypatch: pytest.MonkeyPatch, command: str | None, quick: bool
) -> None:
    quick_ends: list[int] = []
    monkeypatch.setattr(cli, "_dispatch", lambda _argv: (5, command))
    monkeypatch.setattr(cli, "end_now", quick_ends.append)
    with pytest.raises(SystemExit) as stop:
        cli.entry()
    assert stop.value.code == 5
    assert quick_ends == ([5] if quick else [])
