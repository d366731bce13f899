"""The layering rules of design.md, checked mechanically.

The pure core must not import UI, network or cloud libraries, and light subcommands must not pay for
them at start-up. Both are checked in a fresh interpreter so that modules imported by other tests in
this process cannot hide a violation.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "tui" / "core"
HEAVY = ("textual", "kubernetes", "azure", "aiohttp", "kmock", "urllib3", "requests", "rich")
FORBIDDEN_IN_CORE = (*HEAVY, "socket", "http", "ssl", "tui.ui", "tui.cluster", "tui.vault", "tui.demo",
                     "tui.ops")


def _imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_sources_import_nothing_forbidden() -> None:
    offenders = []
    files = sorted(CORE.rglob("*.py"))
    assert files, "tui/core has no modules"
    for path in files:
        for name in _imported_names(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_CORE):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_all_of_core_loads_no_heavy_library() -> None:
    code = "import pkgutil, importlib, tui.core\n" \
           "for m in pkgutil.walk_packages(tui.core.__path__, 'tui.core.'): importlib.import_module(m.name)"
    loaded = _modules_after(code)
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


@pytest.mark.parametrize("argv", [["inspect", "--help"], ["--help"]])
def test_light_commands_do_not_import_heavy_libraries(argv: list[str]) -> None:
    code = (
        "import sys\nfrom tui.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    )
    loaded = _modules_after(code)
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


def test_the_import_contracts_hold() -> None:
    # pyproject.toml's [tool.importlinter] contracts: the layers cli > commands > ui | demo > ops >
    # cluster | vault > core, who may import the demo, the core's purity, the API server's narrow base.
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], capture_output=True, text=True, cwd=ROOT,
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "4 kept" in result.stdout, result.stdout[-2000:]
