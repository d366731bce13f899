"""The frame-rate cap chosen before Textual is imported: faster locally, Textual's default over SSH."""

from __future__ import annotations

import subprocess
import sys

from tui.ui.terminal import LOCAL_FPS, SSH_FPS, choose_frame_rate, over_ssh


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
    code = ("import os; os.environ.pop('TEXTUAL_FPS', None); [os.environ.pop(k, None) for k in "
            "('SSH_CONNECTION', 'SSH_CLIENT', 'SSH_TTY')]; from tui.ui.terminal import choose_frame_rate; "
            "choose_frame_rate(); import textual.screen as s; print(round(1 / s.UPDATE_PERIOD))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(LOCAL_FPS)
