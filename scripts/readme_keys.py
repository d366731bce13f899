"""Rewrite the README's key tables from the dashboard's help (``?``), so the two never disagree.

Run after adding or changing a binding: ``.venv/bin/python scripts/readme_keys.py``. The tables sit
between two markers in README.md; ``tests/ui/test_readme_keys.py`` fails while they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui.ui.app import help_groups  # noqa: E402
from tui.ui.modals.help import README_END, README_START, key_tables_markdown  # noqa: E402


def rewrite(text: str) -> str:
    """``text`` (the README) with the block between the markers replaced by the current tables."""
    start = text.index(README_START) + len(README_START)
    end = text.index(README_END)
    return text[:start] + "\n\n" + key_tables_markdown(help_groups()) + "\n" + text[end:]


def main() -> int:
    """Rewrite README.md in place; exit 0."""
    readme = ROOT / "README.md"
    readme.write_text(rewrite(readme.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
