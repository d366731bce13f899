"""``aio-certs demo`` in a real terminal: a detached tmux session of a fixed size on a private tmux server.

Waits (polling ``capture-pane`` with a timeout: a terminal offers nothing to await) for the Root CA pane,
checks the three panes, opens the help with ``?``, quits with ``q`` and checks that the process exited
and the terminal was restored: alternate screen left, cursor visible, mouse reporting off, the shell
prompt back. Without tmux the test is skipped, unless ``CI`` is set: then it fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen

pytestmark = pytest.mark.tmux

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 120, 34
PROMPT = "aio-test$ "
START_TIMEOUT = 60.0
STEP_TIMEOUT = 15.0


class Terminal:
    """One tmux session on a private server (its own socket), so a developer's tmux is never touched."""

    def __init__(self, tmux: str, socket: Path, name: str) -> None:
        self.tmux = tmux
        self.socket = socket
        self.name = name

    def run(self, *args: str) -> str:
        """Run a tmux command against this server and return its output."""
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    def screen(self) -> str:
        """The visible screen as text."""
        return self.run("capture-pane", "-p", "-t", self.name)

    def flag(self, name: str) -> str:
        """A tmux format variable of the pane, e.g. ``alternate_on``."""
        return self.run("display-message", "-p", "-t", self.name, f"#{{{name}}}").strip()

    def send(self, *keys: str) -> None:
        """Type keys (tmux key names such as ``Enter`` and ``Escape`` allowed)."""
        self.run("send-keys", "-t", self.name, *keys)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float, what: str) -> str:
        """Poll the screen until ``predicate`` holds; fail with the last screen after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        pytest.fail(f"timed out after {timeout:g}s waiting for {what}; the screen was:\n{screen}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
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
        [
            tmux,
            "-S",
            str(socket),
            "-f",
            os.devnull,
            "new-session",
            "-d",
            "-s",
            term.name,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "env",
            "-i",
            *[f"{k}={v}" for k, v in env.items()],
            "bash",
            "--norc",
            "--noprofile",
        ],
        check=True,
        timeout=10,
    )
    try:
        term.wait_for(lambda s: PROMPT.strip() in s, STEP_TIMEOUT, "the shell prompt")
        yield term
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], capture_output=True, timeout=10)


def test_demo_dashboard_in_a_real_terminal(terminal: Terminal, tmp_path: Path) -> None:
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo "
        f'--state-dir {shlex.quote(str(tmp_path / "demo"))}; echo "exit status: $?"'
    )
    terminal.send(command, "Enter")

    screen = terminal.wait_for(
        lambda s: "Root CA ·" in s and "OPC UA lists (owner" in s, START_TIMEOUT, "the dashboard with data"
    )
    assert terminal.flag("alternate_on") == "1"
    lines = screen.splitlines()
    assert len(lines) <= HEIGHT and all(len(line) <= WIDTH for line in lines)
    assert any("Root CA" in line and "Issuers" in line for line in lines)  # side by side at 120x34
    assert "OPC UA lists" in screen and "Azure IoT Operations Quickstart" in screen

    terminal.send("?")
    help_screen = terminal.wait_for(lambda s: "Quit and restore the terminal" in s, STEP_TIMEOUT, "the help")
    assert "Filter the OPC UA entries as you type" in help_screen
    terminal.send("Escape")
    terminal.wait_for(lambda s: "Quit and restore the terminal" not in s, STEP_TIMEOUT, "the help to close")

    terminal.send("q")
    # The typed command line holds 'status: $?'; only the echo prints a digit after the colon.
    final = terminal.wait_for(
        lambda s: re.search(r"exit status: \d", s) is not None, STEP_TIMEOUT, "the process to exit"
    )
    assert "exit status: 0" in final
    assert final.rstrip().splitlines()[-1].startswith(PROMPT.strip())
    assert terminal.flag("alternate_on") == "0"
    assert terminal.flag("cursor_flag") == "1"
    assert terminal.flag("mouse_any_flag") == "0" and terminal.flag("mouse_sgr_flag") == "0"
    assert terminal.flag("pane_current_command") == "bash"
    assert "Root CA ·" not in final  # the dashboard's screen is gone, the shell's is back


def test_demo_read_only_without_mouse_at_80x24(terminal: Terminal, tmp_path: Path) -> None:
    """The small-terminal technician's session: 80x24, read-only, the terminal keeps its mouse."""
    terminal.run("resize-window", "-t", terminal.name, "-x", "80", "-y", "24")
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo --read-only "
        f'--no-mouse --state-dir {shlex.quote(str(tmp_path / "demo"))}; echo "exit status: $?"'
    )
    terminal.send(command, "Enter")
    screen = terminal.wait_for(
        lambda s: "READ-ONLY" in s and "Root CA" in s, START_TIMEOUT, "the read-only dashboard"
    )
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert terminal.flag("mouse_any_flag") == "0" and terminal.flag("mouse_sgr_flag") == "0"
    terminal.send("3")
    terminal.wait_for(lambda s: "OPC UA lists (owner" in s, STEP_TIMEOUT, "the OPC UA pane")
    terminal.send("q")
    final = terminal.wait_for(
        lambda s: re.search(r"exit status: \d", s) is not None, STEP_TIMEOUT, "the process to exit"
    )
    assert "exit status: 0" in final
    assert terminal.flag("alternate_on") == "0"


def _preview_body(screen: str) -> list[str]:
    """The preview's body lines: between its title row and its hint row, border stripped."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if "trust list:" in line or "issuer list:" in line)
    hint = next(i for i, line in enumerate(lines) if "esc close" in line)
    return [line.strip().strip("█").rstrip("▂▁▃▄▅▆▇ ").strip() for line in lines[top + 1 : hint]]


def test_a_burst_of_keys_scrolls_the_preview_once_per_key(terminal: Terminal, tmp_path: Path) -> None:
    """Issue 13 item 7: ``jjjjjjjj`` in one write (a held key over SSH) scrolls eight lines, not one."""
    terminal.run("resize-window", "-t", terminal.name, "-x", "80", "-y", "24")
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo "
        f'--state-dir {shlex.quote(str(tmp_path / "demo"))}; echo "exit status: $?"'
    )
    terminal.send(command, "Enter")
    terminal.wait_for(lambda s: "Root CA" in s and "●" in s, START_TIMEOUT, "the dashboard")
    terminal.send("3")
    terminal.wait_for(lambda s: "OPC UA lists (owner" in s and "List" in s, STEP_TIMEOUT, "the OPC UA pane")
    terminal.send("Enter")
    before = _preview_body(terminal.wait_for(lambda s: "esc close" in s, STEP_TIMEOUT, "the preview"))
    assert len(before) > 10
    terminal.send("jjjjjjjj")  # one send-keys: one write to the terminal
    terminal.wait_for(lambda s: _preview_body(s)[:3] != before[:3], STEP_TIMEOUT, "the preview to scroll")
    time.sleep(0.5)  # let a late repaint land: the position must be final, not in passing
    after = _preview_body(terminal.screen())
    assert after[: len(before) - 8] == before[8:], f"before:\n{before}\nafter:\n{after}"
    terminal.send("Escape")
    terminal.wait_for(lambda s: "esc close" not in s, STEP_TIMEOUT, "the preview to close")
    terminal.send("q")
    final = terminal.wait_for(
        lambda s: re.search(r"exit status: \d", s) is not None, STEP_TIMEOUT, "the process to exit"
    )
    assert "exit status: 0" in final


def _apply_body(screen: str) -> list[str]:
    """The apply dialog's scrolling body: from the verdict's rule to the buttons' top margin, border
    stripped."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if "──────" in line)
    bottom = next(i for i, line in enumerate(lines) if "▔▔▔▔" in line)
    return [line.strip().strip("█").rstrip("▂▁▃▄▅▆▇ ").strip() for line in lines[top + 1 : bottom - 1]]


def test_a_file_name_with_escape_and_a_burst_in_the_apply_dialog(
    terminal: Terminal, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Trial findings 7 and 10 in a real terminal: a file named ``bad<ESC>[2Jname.der`` completed with
    tab shows escaped (the screen is not cleared, the title not set) and is staged under a typed entry
    name; ``jjjjjjjjjj`` in one write then scrolls the apply dialog's plan ten lines, not one."""
    # A short folder: the whole path stays in view in the 80-column path box.
    folder = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    leaf = certgen.make_leaf(None, "Trial PLC", not_before=datetime.now(UTC) - timedelta(days=1), days=365)
    (folder / "bad\x1b[2Jname.der").write_bytes(leaf.der)
    (folder / "bad\x1b]0;pwned\x07x.der").write_bytes(leaf.der)
    terminal.run("resize-window", "-t", terminal.name, "-x", "80", "-y", "24")
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo "
        f'--state-dir {shlex.quote(str(tmp_path / "demo"))}; echo "exit status: $?"'
    )
    terminal.send(command, "Enter")
    terminal.wait_for(lambda s: "Root CA" in s and "●" in s, START_TIMEOUT, "the dashboard")
    terminal.send("3")
    terminal.wait_for(lambda s: "OPC UA lists (owner" in s and "List" in s, STEP_TIMEOUT, "the OPC UA pane")
    title = terminal.flag("pane_title")
    terminal.send("u")
    terminal.wait_for(lambda s: "Upload a certificate" in s, STEP_TIMEOUT, "the upload dialog")
    terminal.send("-l", f"{folder}/ba")
    terminal.wait_for(lambda s: f"{folder}/ba" in s, STEP_TIMEOUT, "the typed path")
    terminal.send("Tab")
    terminal.wait_for(lambda s: f"{folder}/bad\\1B " in s, STEP_TIMEOUT, "the common part, escaped")
    terminal.send("Tab")
    listed = terminal.wait_for(lambda s: "2 fit:" in s, STEP_TIMEOUT, "the two names listed")
    assert "bad\\1B[2Jname.der" in listed and "bad\\1B]0;pwned\\07x.der" in listed
    terminal.send("-l", "[")
    terminal.send("Tab")
    screen = terminal.wait_for(
        lambda s: "not a valid SecretSync targetKey" in s, STEP_TIMEOUT, "the name refused in one line"
    )
    assert f"{folder}/bad\\1B[2Jname.der" in screen and "Upload a certificate" in screen  # not cleared
    assert terminal.flag("pane_title") == title  # the OSC name never reached the terminal
    # Tab leaves the path box only after two reads of the folder (off the UI thread): keys typed before
    # that would land in the path box (Textual routes keys to the focus of when they arrive).
    for _ in range(2):
        terminal.send("Tab")
        time.sleep(1.0)
    terminal.send("-l", "trial-plc.der")
    terminal.wait_for(
        lambda s: "✓ ready to stage" in s, STEP_TIMEOUT, "the file accepted under the typed name"
    )
    terminal.send("C-s")
    terminal.wait_for(lambda s: "+ trial-plc.der" in s, STEP_TIMEOUT, "the staged row")
    terminal.send("a")
    terminal.wait_for(lambda s: "step(s) to write" in s, START_TIMEOUT, "the plan")
    time.sleep(0.5)  # the scrollbar comes a frame later and rewraps the plan: start from the final frame
    before = _apply_body(terminal.screen())
    assert len(before) > 10
    terminal.send("jjjjjjjjjj")  # one send-keys: one write to the terminal
    terminal.wait_for(lambda s: _apply_body(s)[:3] != before[:3], STEP_TIMEOUT, "the plan to scroll")
    time.sleep(0.5)  # let a late repaint land: the position must be final, not in passing
    after = _apply_body(terminal.screen())
    assert after[: len(before) - 10] == before[10:], f"before:\n{before}\nafter:\n{after}"
    terminal.send("Escape")
    terminal.wait_for(lambda s: "step(s) to write" not in s, STEP_TIMEOUT, "the apply dialog to close")
    terminal.send("q")
    final = terminal.wait_for(
        lambda s: re.search(r"exit status: \d", s) is not None, STEP_TIMEOUT, "the process to exit"
    )
    assert "exit status: 0" in final


def test_the_stale_dialog_keeps_the_copy_chosen_by_keyboard_at_80x24(
    terminal: Terminal, tmp_path: Path
) -> None:
    """Trial finding 11: at 80x24 ``x``, then tab, ↓, space keeps the other copy of a duplicate; the hint
    is whole and the marks differ (``●``/``○``) besides the words."""
    terminal.run("resize-window", "-t", terminal.name, "-x", "80", "-y", "24")
    command = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m tui demo "
        f'--state-dir {shlex.quote(str(tmp_path / "demo"))}; echo "exit status: $?"'
    )
    terminal.send(command, "Enter")
    terminal.wait_for(lambda s: "Root CA" in s and "●" in s, START_TIMEOUT, "the dashboard")
    terminal.send("3")
    terminal.wait_for(lambda s: "OPC UA lists (owner" in s and "List" in s, STEP_TIMEOUT, "the OPC UA pane")
    terminal.send("x")
    screen = terminal.wait_for(lambda s: "stale entries marked" in s, STEP_TIMEOUT, "the stale dialog")
    assert "tab, ↑↓, space: pick the copy kept · d delete… · esc review" in screen
    assert "▐●▌ trust/plc-press-line1.der  ✓ kept (suggested)" in screen
    assert "▐○▌ trust/plc-press-line1-old.crt  ✗ removed" in screen
    terminal.send("Tab")
    # The choice shows its focus border ('▊' left of the marks): the next keys go to it.
    terminal.wait_for(lambda s: "▊▐●▌ trust/plc-press-line1.der" in s, STEP_TIMEOUT, "the choice focused")
    terminal.send("Down")
    terminal.send("Space")
    screen = terminal.wait_for(
        lambda s: "trust/plc-press-line1-old.crt  ✓ kept" in s, STEP_TIMEOUT, "the other copy kept"
    )
    assert "▐○▌ trust/plc-press-line1.der  ✗ removed (suggested)" in screen
    assert "trust/plc-press-line1.der  duplicate: same certificate as" in screen
    terminal.send("Escape")
    terminal.wait_for(lambda s: "stale entries marked" not in s, STEP_TIMEOUT, "the dialog to close")
    terminal.send("q")
    final = terminal.wait_for(
        lambda s: re.search(r"exit status: \d", s) is not None, STEP_TIMEOUT, "the process to exit"
    )
    assert "exit status: 0" in final
