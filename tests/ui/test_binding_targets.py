"""Every key binding of the dashboard names an action its own class has (or, namespaced, the app's or the
screen's). A binding whose action is missing still shows in the footer, and Textual only logs "has no
target" when the key is pressed: the key then does something else, or nothing (the filter box's ``esc``
once lost its action this way and fell through to the pane's)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import tui.ui
from tui.ui.app import DashboardApp
from tui.ui.screens.dashboard import DashboardScreen


def _classes() -> list[type[DOMNode]]:
    found: dict[str, type[DOMNode]] = {}
    for info in pkgutil.walk_packages(tui.ui.__path__, "tui.ui."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, DOMNode) and value.__module__ == info.name and "BINDINGS" in vars(value):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


def _actions(owner: type[DOMNode]) -> list[str]:
    actions = []
    for binding in vars(owner)["BINDINGS"]:
        action = binding.action if isinstance(binding, Binding) else binding[1]
        actions.append(action)
    return actions


def _target(owner: type[DOMNode], action: str) -> tuple[type[DOMNode], str]:
    name = action.split("(", 1)[0]
    if name.startswith("app."):
        return DashboardApp, name.removeprefix("app.")
    if name.startswith("screen."):
        return DashboardScreen, name.removeprefix("screen.")
    return owner, name


CLASSES = _classes()


def test_the_dashboard_s_bindings_are_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"DashboardApp", "FilterInput", "OpcUaPane"} <= names  # the walk sees the widgets


@pytest.mark.parametrize("owner", CLASSES, ids=lambda cls: cls.__qualname__)
def test_every_binding_names_an_action_of_its_class(owner: type[DOMNode]) -> None:
    missing = []
    for action in _actions(owner):
        cls, name = _target(owner, action)
        if not callable(getattr(cls, f"action_{name}", None)):
            missing.append(f"{action} (no {cls.__name__}.action_{name})")
    assert not missing, missing
