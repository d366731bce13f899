"""The README's key tables are the help's (``?``), row for row, and every binding is in the help.

``scripts/readme_keys.py`` writes the tables; this fails while someone changed a binding and did not
run it, or added a binding without an id or without a place in the help.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from textual.binding import Binding

import tui.ui
from tui.ui.app import help_groups
from tui.ui.modals.help import README_END, README_START, key_tables_markdown

ROOT = Path(__file__).resolve().parents[2]


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(README_START) + len(README_START)
    return text[start : text.index(README_END)].strip("\n") + "\n"


def test_the_readme_key_tables_are_the_help() -> None:
    assert _readme_block() == key_tables_markdown(help_groups()), "run scripts/readme_keys.py"


def test_the_tables_escape_pipes_and_keep_one_row_per_help_row() -> None:
    groups = help_groups()
    block = key_tables_markdown(groups)
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert len(rows) == sum(len(group.rows) for group in groups)
    assert all(line.count(" | ") - line.count("\\|") >= 1 for line in rows)
    for group in groups:
        assert f"**{group.title}**" in block


def _bindings_in_the_ui() -> list[tuple[str, Binding]]:
    """Every ``Binding`` a class of ``tui.ui`` declares, with the class's dotted name."""
    found = []
    for module_info in pkgutil.walk_packages(tui.ui.__path__, "tui.ui."):
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for binding in cls.__dict__.get("BINDINGS", ()) or ():
                assert isinstance(binding, Binding), f"{module.__name__}.{name}: {binding!r} is not a Binding"
                found.append((f"{module.__name__}.{name}", binding))
    return found


def test_every_binding_has_an_id_and_shows_in_the_footer_or_the_help() -> None:
    listed = {row.binding_id for group in help_groups() for row in group.rows if row.binding_id}
    found = _bindings_in_the_ui()
    assert any(owner == "tui.ui.app.DashboardApp" for owner, _ in found)
    for owner, binding in found:
        assert binding.id, f"{owner}: {binding.key} has no id"
        assert binding.id in listed or binding.show, f"{owner}: {binding.id} is neither in the help nor shown"
