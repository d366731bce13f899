"""The wheel ships the stylesheets and the console script; paths resolve from a checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tui.paths import style_path, styles_dir

ROOT = Path(__file__).resolve().parents[2]


def test_styles_found_from_checkout() -> None:
    assert styles_dir().is_dir()
    assert style_path("app.tcss").read_text(encoding="utf-8").strip()


def test_missing_stylesheet_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.tcss"):
        style_path("nope.tcss")


def test_wheel_contains_styles_and_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    wheels = list(tmp_path.glob("aio_certs-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "aio-certs = tui.cli:entry" in wheel.read(entry_points).decode()
    styles = {p.name for p in (ROOT / "styles").iterdir()}
    assert styles, "styles/ is empty"
    for name in styles:
        assert f"tui/styles/{name}" in names
    assert "tui/core/__init__.py" in names
