"""Issue 13 in a real terminal (tmux, 80x24): the demo opens on what is wrong, and ``status`` on the same
site wraps its findings at 80 columns instead of cutting them (a pipe cuts nothing: see
tests/unit/test_status_layout.py).

The demo site is served by ``aio-certs demo --serve`` in a subprocess; the dashboard and ``status`` run in
a detached tmux session on a private server (see tests/ui/test_tmux.py for the terminal helper).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.test_tmux import PROMPT, START_TIMEOUT, STEP_TIMEOUT, Terminal

pytestmark = pytest.mark.tmux

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 80, 24


@pytest.fixture
def small_terminal(tmp_path: Path) -> Iterator[Terminal]:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed, and CI is set: the terminal test must run in CI")
        pytest.skip("tmux is not installed")
    socket = tmp_path / "tmux.sock"
    term = Terminal(tmux, socket, "aio-certs")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PS1": PROMPT,
    }
    subprocess.run(
        [tmux, "-S", str(socket), "-f", os.devnull, "new-session", "-d", "-s", term.name]
        + ["-x", str(WIDTH), "-y", str(HEIGHT), "env", "-i"]
        + [f"{k}={v}" for k, v in env.items()]
        + ["bash", "--norc", "--noprofile"],
        check=True,
        timeout=10,
    )
    try:
        term.wait_for(lambda s: PROMPT.strip() in s, STEP_TIMEOUT, "the shell prompt")
        yield term
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def served_site(tmp_path: Path) -> Iterator[Path]:
    """``aio-certs demo --serve``: the env file to source, once the site is up."""
    state = tmp_path / "site"
    server = subprocess.Popen(
        [sys.executable, "-m", "tui", "demo", "--serve", "--state-dir", str(state)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (state / "env").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the demo site did not start")
            time.sleep(0.1)
        yield state / "env"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_demo_opens_on_the_urgent_rows_at_80x24(small_terminal: Terminal, tmp_path: Path) -> None:
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo "
        f"--state-dir {shlex.quote(str(tmp_path / 'demo'))}"
    )
    small_terminal.send(command, "Enter")
    screen = small_terminal.wait_for(
        lambda s: "OPC UA lists (owner" in s and " crit" in s and "CRIT " in s,
        START_TIMEOUT,
        "the OPC UA pane with data",
    )
    lines = screen.splitlines()
    assert "3 OPC UA" in lines[1] and "crit" in lines[1] and "warn" in lines[1]  # the tab strip counts
    rows = [line for line in lines if line.startswith("│    ")][1:]  # under the column header
    assert rows[0].rstrip("│ ").split()[-2] == "CRIT"  # the most urgent row first, in a word
    small_terminal.send("q")
    small_terminal.wait_for(lambda s: s.rstrip().endswith(PROMPT.strip()), STEP_TIMEOUT, "the prompt")


def test_status_wraps_findings_at_80_columns(small_terminal: Terminal, served_site: Path) -> None:
    # On a terminal (tmux's 80 columns): status fits its width and wraps what is longer.
    small_terminal.send(
        f". {shlex.quote(str(served_site))} && cd {shlex.quote(str(ROOT))} && clear && "
        f"{shlex.quote(sys.executable)} -m tui status --all",
        "Enter",
    )
    screen = small_terminal.wait_for(
        lambda s: "  CRIT  " in s and s.rstrip().endswith(PROMPT.strip()), START_TIMEOUT, "status"
    )
    lines = screen.splitlines()
    assert all(len(line) <= WIDTH for line in lines)
    findings = [line for line in lines if line.startswith(("  CRIT  ", "  WARN  ", "  INFO  ", " " * 8))]
    assert findings and not any("…" in line for line in findings)
    # A finding longer than 80 columns goes on under its message.
    assert any(line.startswith(" " * 8) and line[8] != " " for line in findings)


def test_keys_typed_ahead_in_one_write_follow_the_pane_and_the_filter(
    small_terminal: Terminal, tmp_path: Path
) -> None:
    # Over SSH a technician types ahead: tmux writes each send's keys to the terminal at once.
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo "
        f"--state-dir {shlex.quote(str(tmp_path / 'demo'))}"
    )
    small_terminal.send(command, "Enter")
    screen = small_terminal.wait_for(
        lambda s: "OPC UA lists (owner" in s and "CRIT " in s, START_TIMEOUT, "the OPC UA pane with data"
    )
    assert screen.splitlines()[0].startswith(" ctx ")  # the 80-column header keeps the context name
    small_terminal.send("-l", "/plc")  # one write: "/" opens the filter, "plc" must land in it
    small_terminal.wait_for(lambda s: "filter: plc" in s, STEP_TIMEOUT, "the filter holding plc")
    small_terminal.send("Escape")
    # Wait: keys right after Escape would read as alt+key.
    small_terminal.wait_for(lambda s: "filter: plc" not in s, STEP_TIMEOUT, "the filter cleared")
    small_terminal.send("-l", "1r")  # one write: "1" shows the Root CA pane, "r" renews from there
    small_terminal.wait_for(lambda s: "Revision" in s, STEP_TIMEOUT, "the renewal dialog")
    small_terminal.send("Escape")
    small_terminal.wait_for(lambda s: "Revision" not in s, STEP_TIMEOUT, "the dialog closed")
    small_terminal.send("q")
    small_terminal.wait_for(lambda s: s.rstrip().endswith(PROMPT.strip()), STEP_TIMEOUT, "the prompt")
