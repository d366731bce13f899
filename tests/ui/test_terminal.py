"""The terminal: the frame-rate cap chosen before Textual is imported, and leaving when it hangs up."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
from pathlib import Path

from tui.ui.view.terminal import EXIT_HANGUP, LOCAL_FPS, SSH_FPS, HangupWatch, choose_frame_rate, over_ssh


def test_a_local_terminal_gets_the_faster_cap() -> None:
    env: dict[str, str] = {"TERM": "xterm-256color"}
    assert choose_frame_rate(env) == LOCAL_FPS == 120
    assert env["TEXTUAL_FPS"] == "120"


def test_over_ssh_the_cap_stays_at_textuals_default() -> None:
    for variable in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        env = {variable: "10.0.0.1 50000 10.0.0.2 22"}
        assert over_ssh(env)
        assert choose_frame_rate(env) == SSH_FPS == 60
        assert env["TEXTUAL_FPS"] == "60"


def test_the_users_own_setting_is_kept() -> None:
    env = {"TEXTUAL_FPS": "30"}
    assert choose_frame_rate(env) == 30
    assert env == {"TEXTUAL_FPS": "30"}
    assert choose_frame_rate({"TEXTUAL_FPS": "fast"}) == SSH_FPS  # Textual ignores what it cannot read


def test_textual_reads_the_cap_when_imported_after_the_choice() -> None:
    # Guards a Textual upgrade renaming the variable or reading it elsewhere.
    code = (
        "import os; os.environ.pop('TEXTUAL_FPS', None); [os.environ.pop(k, None) for k in "
        "('SSH_CONNECTION', 'SSH_CLIENT', 'SSH_TTY')]; "
        "from tui.ui.view.terminal import choose_frame_rate; "
        "choose_frame_rate(); import textual.screen as s; print(round(1 / s.UPDATE_PERIOD))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(LOCAL_FPS)


def test_the_hangup_watch_fires_once_when_the_terminal_goes_away() -> None:
    master, slave = pty.openpty()
    hung_up = threading.Event()
    calls: list[int] = []

    def on_hangup() -> None:
        calls.append(1)
        hung_up.set()

    watch = HangupWatch(slave, on_hangup, interval=0.01).start()
    try:
        assert not hung_up.wait(0.05)  # a live terminal is left alone
        os.close(master)  # what sshd does when the connection drops
        assert hung_up.wait(10)
        watch._thread.join(10)
        assert calls == [1] and not watch._thread.is_alive()
    finally:
        watch.stop()
        os.close(slave)


def test_the_hangup_watch_stays_out_of_the_way() -> None:
    # Not a terminal at start (output piped, a test harness): nothing is watched.
    read_end, write_end = os.pipe()
    try:
        watch = HangupWatch(read_end, lambda: None, interval=0.01).start()
        assert not watch._thread.is_alive()
    finally:
        os.close(read_end)
        os.close(write_end)
    # Stopped before the terminal goes: the callback is never made.
    master, slave = pty.openpty()
    called = threading.Event()
    watch = HangupWatch(slave, called.set, interval=0.01).start()
    watch.stop()
    watch._thread.join(10)
    os.close(master)
    os.close(slave)
    assert not called.is_set()


def test_a_dashboard_whose_terminal_vanishes_exits_instead_of_spinning(tmp_path: Path) -> None:
    # The dashboard on a pseudo-terminal that is not its controlling terminal, so closing it sends no
    # SIGHUP: before the watch, Textual's input thread spun at 100% CPU and the UI blocked forever.
    # The cleanup (the embedded demo's stop, in `aio-certs demo`) runs before the process ends.
    marker = tmp_path / "cleaned-up"
    code = (
        "import sys, pathlib; from tui.commands.shared.app_runner import run_app; "
        "from tui.core.clock import SystemClock; "
        "from tui.ui.view.settings import UiSettings; from tui.ui.source import StaticSource; "
        "sys.exit(run_app(StaticSource(), UiSettings(), clock=SystemClock(), "
        f"on_hangup=lambda: pathlib.Path({str(marker)!r}).write_text('stopped')))"
    )
    master, slave = pty.openpty()
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "xterm-256color"}
    env.pop("TEXTUAL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    try:
        seen = b""
        while b"waiting for the cluster" not in seen:  # the first frame is on the terminal
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, f"no first frame; got {seen[-300:]!r}"
            seen += os.read(master, 65536)
        assert not marker.exists()
        os.close(master)
        assert proc.wait(30) == EXIT_HANGUP
        assert marker.read_text() == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
