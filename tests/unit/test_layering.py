"""The layering rules of docs/design.md §2.2, checked mechanically.

The pure core must not import UI, network or cloud libraries, and light subcommands must not pay for
them at start-up. Both are checked in a fresh interpreter so that modules imported by other tests in
this process cannot hide a violation. The command packages import at module level (a function-level
import says why in a comment), and only their ``run`` modules see the parsed arguments.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "tui" / "core"
COMMANDS_DIR = ROOT / "tui" / "commands"
HEAVY = ("textual", "kubernetes", "azure", "aiohttp", "kmock", "urllib3", "requests", "rich")
FORBIDDEN_IN_CORE = (
    *HEAVY,
    "socket",
    "http",
    "ssl",
    "tui.ui",
    "tui.cluster",
    "tui.vault",
    "tui.demo",
    "tui.ops",
)


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
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_all_of_core_loads_no_heavy_library() -> None:
    code = (
        "import pkgutil, importlib, tui.core\n"
        "for m in pkgutil.walk_packages(tui.core.__path__, 'tui.core.'): importlib.import_module(m.name)"
    )
    loaded = _modules_after(code)
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", "--help"],
        ["--help"],
        *([name, "--help"] for name in COMMANDS if name != "inspect"),
        ["trust", "add", "--help"],
        ["journal", "resume", "--help"],
    ],
)
def test_light_commands_do_not_import_heavy_libraries(argv: list[str]) -> None:
    code = f"import sys\nfrom tui.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    loaded = _modules_after(code)
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []
    # Help is built from the commands' arguments modules; no command's run module is loaded for it.
    assert sorted(m for m in loaded if fnmatch.fnmatch(m, "tui.commands.*.run")) == []


def test_the_dashboard_loads_textual_and_the_azure_sdk_only_when_needed() -> None:
    # The dashboard lists the cluster while Textual is imported (shared/app_runner.py), and reads the
    # vault or opens a change session in workers: its first frame waits for neither import.
    # Nor the cluster client: a child connects and lists while this process imports the UI, and this
    # process imports the client after the first frame (commands/dashboard/prefetch.py).
    loaded = _modules_after("import tui.commands.dashboard.run")
    assert sorted({m.split(".")[0] for m in loaded} & {"textual", "rich", "azure", "kubernetes"}) == []


def _function_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: dict[int, ast.Import | ast.ImportFrom] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found[id(inner)] = inner
    return sorted(found.values(), key=lambda n: n.lineno)


def test_commands_import_at_module_level_unless_a_comment_says_why() -> None:
    # A command's run module is imported only when the command runs, so it imports what it needs at its
    # top. An import inside a function has a reason (keeping the dashboard's first frame or a listing
    # fast), given in a comment just above it (one comment for consecutive imports).
    offenders = []
    for path in [ROOT / "tui" / "cli.py", *sorted(COMMANDS_DIR.rglob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        previous_end = -1
        for node in _function_level_imports(ast.parse(text, filename=str(path))):
            first_of_group = node.lineno != previous_end + 1
            previous_end = node.end_lineno or node.lineno
            if first_of_group and not lines[node.lineno - 2].strip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


# Where an argparse Namespace may be read: the parser itself, each command's run module, the one place
# that turns flags into typed settings, and the body trust and issuer share.
NAMESPACE_READERS = (
    "tui/cli.py",
    "tui/commands/*/run.py",
    "tui/commands/shared/settings.py",
    "tui/commands/shared/list_changes.py",
)


def test_only_the_commands_see_the_parsed_arguments() -> None:
    offenders = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(fnmatch.fnmatch(relative, pattern) for pattern in NAMESPACE_READERS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            named = (isinstance(node, ast.Attribute) and node.attr == "Namespace") or (
                isinstance(node, ast.ImportFrom)
                and node.module == "argparse"
                and any(alias.name == "Namespace" for alias in node.names)
            )
            if named:
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


def test_the_import_contracts_hold() -> None:
    # pyproject.toml's [tool.importlinter] contracts: the layers cli > commands > ui | demo > ops >
    # cluster | vault > core, who may import the demo, the core's purity, the API server's narrow base.
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "4 kept" in result.stdout, result.stdout[-2000:]


def test_the_type_checker_passes() -> None:
    # mypy with the configuration in pyproject.toml ([tool.mypy]: the tui package, unused ignores
    # reported): annotations that no longer match the code fail here, not in a reader's head.
    # Incremental, with mypy's own cache (.mypy_cache, git-ignored): mypy re-checks what changed and
    # replays the errors it stored for the rest (unused ignores included), so the verdict is the same as
    # a full run's; a clean clone (CI) has no cache and checks everything, about 12 s of processor time.
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run([str(mypy)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
