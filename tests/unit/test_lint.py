"""The project stays ruff-clean: the suite fails on a lint error, so CI does too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_reports_nothing() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency and must be installed"
    result = subprocess.run(
        [ruff, "check", "--quiet", "tui", "tests", "bench", "scripts"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted() -> None:
    # One formatter (ruff format, line length 110 from pyproject.toml), applied to everything once and
    # kept: a diff is a review of content, not of layout.
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency and must be installed"
    result = subprocess.run(
        [ruff, "format", "--check", "tui", "tests", "bench", "scripts"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
