"""The private DataTable members KeyedTable relies on, checked one by one against the installed Textual.

KeyedTable (tui/ui/widgets/keyed_table.py) refills DataTable's bookkeeping directly, keeps rendered cells
by look and skips the idle measuring pass; all of that goes through members Textual does not promise to
keep. A Textual upgrade that renames, retypes or re-signs one of them would otherwise show up as a table
that silently stops updating or renders stale rows. Each failure here names the member and what to
re-check in KeyedTable. A second test reads keyed_table.py itself, so a new reliance cannot be added
without being listed here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.widget import PseudoClasses
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tui.ui.widgets import keyed_table

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(keyed_table.__file__)
DATA_TABLE_SOURCE = "textual/widgets/_data_table.py"


@dataclass(frozen=True)
class Reliance:
    """One private member: what it must still be, and what in KeyedTable depends on it."""

    name: str
    kind: str
    """``attribute`` (an instance attribute of a new DataTable), ``property``, ``method``, ``import``."""
    expected: Any
    """The attribute's type, or the method's parameter names (self first), or the import's check."""
    recheck: str
    """What in KeyedTable to re-read against the new Textual when this fails."""


def _lru_cache(value: object) -> bool:
    return isinstance(value, LRUCache) and isinstance(value.maxsize, int)


def _two_way_dict(value: object) -> bool:
    return all(hasattr(value, name) for name in ("get", "get_key", "__setitem__", "__delitem__"))


def _row_class(value: object) -> bool:
    # KeyedTable builds rows as Row(row_key, 1, None, False): key, height, label, auto_height.
    names = [f.name for f in fields(value)] if is_dataclass(value) else []
    return names == ["key", "height", "label", "auto_height"]


def _public_row_key(value: object) -> bool:
    return value is RowKey


RELIANCES: tuple[Reliance, ...] = (
    # Private modules imported by keyed_table.py.
    Reliance(
        "textual._two_way_dict.TwoWayDict",
        "import",
        _two_way_dict,
        "_refill, which builds _row_locations as TwoWayDict({row_key: index})",
    ),
    Reliance(
        "textual.widgets._data_table.Row",
        "import",
        _row_class,
        "_refill, which builds each row record as Row(row_key, 1, None, False)",
    ),
    Reliance(
        "textual.widgets._data_table.RowKey",
        "import",
        _public_row_key,
        "_refill and __init__'s row-data cache, which make RowKey(key) themselves",
    ),
    # Instance state KeyedTable reads or writes.
    Reliance(
        "_cell_render_cache",
        "attribute",
        _lru_cache,
        "__init__, which shrinks the cache (maxsize) because _looks does the reuse across refills",
    ),
    Reliance("_row_render_cache", "attribute", _lru_cache, "__init__, which shrinks the cache (maxsize)"),
    Reliance("_line_cache", "attribute", _lru_cache, "__init__, which shrinks the cache (maxsize)"),
    Reliance("_row_renderable_cache", "attribute", _lru_cache, "__init__, which shrinks the cache (maxsize)"),
    Reliance(
        "_update_count",
        "attribute",
        int,
        "apply/_mark_shown/on_resize (the 'rows as shown' shortcut) and _refill, which advances it to "
        "retire every DataTable cache; every cache must still be keyed by it",
    ),
    Reliance(
        "_data",
        "attribute",
        dict,
        "_update_row, _refill and _render_cell, which read and write {RowKey: {ColumnKey: cell}}",
    ),
    Reliance(
        "_row_locations",
        "attribute",
        _two_way_dict,
        "_refill (replaced wholesale) and _render_cell (get_key(row_index))",
    ),
    Reliance("_column_locations", "attribute", _two_way_dict, "_render_cell (get_key(column_index))"),
    Reliance(
        "_require_update_dimensions",
        "attribute",
        bool,
        "_refill, which sets it as add_row would so the next idle pass updates the sizes",
    ),
    Reliance(
        "_ordered_row_cache",
        "attribute",
        _lru_cache,
        "_refill, which stores the row order under (row count, update count) as ordered_rows does",
    ),
    Reliance(
        "_offset_cache",
        "attribute",
        _lru_cache,
        "_refill, which stores the line offsets [(RowKey, line)] under the update count as _y_offsets does",
    ),
    Reliance("_show_hover_cursor", "attribute", bool, "_render_cell's cache key for rendered looks"),
    Reliance(
        "_pseudo_class_state", "attribute", PseudoClasses, "_render_cell's cache key for rendered looks"
    ),
    Reliance("_row_label_column_width", "property", int, "_sync_virtual_size (the scrollable width)"),
    Reliance("_total_row_height", "property", int, "_sync_virtual_size (the scrollable height)"),
    # Methods KeyedTable calls or overrides: the parameters must stay as named.
    Reliance("_highlight_cursor", "method", ["self"], "_refill, which highlights the cursor row itself"),
    Reliance("_scroll_cursor_into_view", "method", ["self", "animate"], "_restore"),
    Reliance(
        "_render_cell",
        "method",
        ["self", "row_index", "column_index", "base_style", "width", "cursor", "hover"],
        "the _render_cell override (reuse of rendered cells by look) and its super() calls",
    ),
    Reliance(
        "_update_dimensions",
        "method",
        ["self", "new_rows"],
        "the _update_dimensions override, which skips measuring fixed-width columns",
    ),
    Reliance(
        "_on_resize",
        "method",
        ["self", "_"],
        "on_resize, which counts on DataTable's handler running after it and advancing _update_count",
    ),
)


IMPLICIT = frozenset({"_on_resize"})
"""Relied on without being named in keyed_table.py (KeyedTable.on_resize counts on it running next)."""


def _named(name: str) -> Reliance:
    return next(r for r in RELIANCES if r.name == name)


def _failure(reliance: Reliance, found: str) -> str:
    return (
        f"Textual {version('textual')}: DataTable's {reliance.name} ({reliance.kind}) is now {found}. "
        f"KeyedTable relies on it in {reliance.recheck}. Re-read that code in {SOURCE} against "
        f"{DATA_TABLE_SOURCE} of this Textual before relying on the table again."
    )


def _check_import(reliance: Reliance) -> None:
    module_name, _, attribute = reliance.name.rpartition(".")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        pytest.fail(_failure(reliance, f"not importable ({error})"))
    check: Callable[[object], bool] = reliance.expected
    assert check(value), _failure(reliance, f"a different thing: {value!r}")


def _check_attribute(reliance: Reliance, table: DataTable[Any]) -> None:
    if not hasattr(table, reliance.name):
        pytest.fail(_failure(reliance, "gone"))
    value = getattr(table, reliance.name)
    expected = reliance.expected
    ok = isinstance(value, expected) if isinstance(expected, type) else expected(value)
    assert ok, _failure(reliance, f"a {type(value).__name__}")


def _check_property(reliance: Reliance, table: DataTable[Any]) -> None:
    static = inspect.getattr_static(DataTable, reliance.name, None)
    assert isinstance(static, property), _failure(reliance, f"{type(static).__name__}, not a property")
    value = getattr(table, reliance.name)
    found = f"a property giving {type(value).__name__}"
    assert isinstance(value, reliance.expected), _failure(reliance, found)


def _check_method(reliance: Reliance) -> None:
    static = inspect.getattr_static(DataTable, reliance.name, None)
    assert inspect.isfunction(static), _failure(reliance, f"{type(static).__name__}, not a plain method")
    names = list(inspect.signature(static).parameters)
    assert names == reliance.expected, _failure(reliance, f"a method taking ({', '.join(names)})")


def test_textual_is_in_the_pinned_range() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [Requirement(d) for d in pyproject["project"]["dependencies"]]
    pin = next(r for r in pins if r.name == "textual")
    installed = Version(version("textual"))
    assert installed in pin.specifier, (
        f"Textual {installed} is outside the pin {pin.specifier}: KeyedTable relies on private DataTable "
        f"members checked in this module; run it against the new Textual and re-read {SOURCE} before "
        "widening the pin."
    )


@pytest.mark.parametrize("reliance", RELIANCES, ids=lambda r: r.name)
def test_private_member_is_still_what_keyed_table_expects(reliance: Reliance) -> None:
    table: DataTable[Any] = DataTable()
    if reliance.kind == "import":
        _check_import(reliance)
    elif reliance.kind == "attribute":
        _check_attribute(reliance, table)
    elif reliance.kind == "property":
        _check_property(reliance, table)
    else:
        _check_method(reliance)


def _private_uses(tree: ast.Module) -> set[str]:
    """Private names keyed_table.py takes from Textual: private-module imports and ``self._x``/``super()._x``
    that KeyedTable does not define itself."""
    used: set[str] = set()
    own: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("textual.")
            and any(part.startswith("_") for part in (node.module or "").split("."))
        ):
            used.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ClassDef) and node.name == "KeyedTable":
            own.update(item.name for item in node.body if isinstance(item, ast.FunctionDef))
        elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
            for statement in ast.walk(node):
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                    if isinstance(statement, ast.AnnAssign)
                    else []
                )
                own.update(
                    t.attr
                    for t in targets
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                )
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            on_self = isinstance(base, ast.Name) and base.id == "self"
            on_super = (
                isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super"
            )
            if on_self or on_super:
                used.add(node.attr)
    # A private hook KeyedTable overrides is a reliance too: DataTable must still call it by that name.
    overridden = {
        name
        for name in own
        if name.startswith("_") and not name.startswith("__") and hasattr(DataTable, name)
    }
    return (used - own) | overridden


def test_every_private_member_keyed_table_uses_is_checked_here() -> None:
    used = _private_uses(ast.parse(SOURCE.read_text(encoding="utf-8")))
    listed = {r.name for r in RELIANCES}
    unlisted = sorted(used - listed)
    assert not unlisted, (
        f"{SOURCE} now uses private Textual members {unlisted}: add each to "
        "RELIANCES here with what KeyedTable does with it, so a Textual upgrade that "
        "changes it fails loudly instead of breaking the table quietly."
    )
    # A member listed here but no longer used only costs a check; say so, so the list stays honest.
    stale = sorted(listed - used - IMPLICIT)
    assert not stale, f"no longer used by KeyedTable, drop from RELIANCES: {stale}"


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def test_the_caches_keyed_table_fills_are_keyed_as_data_table_reads_them() -> None:
    # _refill writes the row order and the line offsets into DataTable's caches so that DataTable does not
    # recompute them; that only works while DataTable looks them up under the same keys.
    app = _Host()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(DataTable)
        table.add_column("a", key="a")
        for index in range(3):
            table.add_row(str(index), key=f"r{index}")
        await pilot.pause()
        rows = table.ordered_rows
        offsets = table._y_offsets
        order_key = (table.row_count, table._update_count)
        assert table._ordered_row_cache.get(order_key) is rows, _failure(
            _named("_ordered_row_cache"), "no longer keyed by (row count, update count)"
        )
        assert table._offset_cache.get(table._update_count) is offsets, _failure(
            _named("_offset_cache"), "no longer keyed by the update count"
        )
        assert offsets == [(RowKey(f"r{i}"), 0) for i in range(3)]
        before = table._update_count
        await pilot.resize_terminal(50, 12)
        await pilot.pause()
        assert table._update_count > before, _failure(_named("_on_resize"), "not advancing the update count")
