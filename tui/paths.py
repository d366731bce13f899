"""Locate files shipped with aio-certs, from a checkout and from an installed wheel alike.

The wheel maps the top-level ``styles/`` folder to ``tui/styles`` (hatchling force-include in
pyproject.toml); in a checkout it sits next to the package. Look in the installed place first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """Return the folder holding the Textual ``.tcss`` files."""
    for candidate in (_PACKAGE_DIR / "styles", _PACKAGE_DIR.parent / "styles"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("aio-certs styles folder not found (broken installation?)")


def style_path(name: str) -> Path:
    """Return the path of one stylesheet, e.g. ``style_path("app.tcss")``."""
    path = styles_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"stylesheet {name} not found in {path.parent}")
    return path
