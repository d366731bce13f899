"""SPC ``objects`` items read without the YAML parser (tui/core/model/spc.py ``_load_item``).

An item made only of plain ``key: value`` lines is read by a pattern; anything else goes to YAML. Either
way the result must be what PyYAML's BaseLoader gives, including its errors: compared here over the
forms the CLI and the documentation write, and over generated text built from the characters and tokens
that change how YAML reads a line.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import tui.core.model.spc as spc_module
from tui.core.model.spc import _load_item, cli_object, parse_objects, serialize_objects

LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _yaml(text: str) -> tuple[str, Any]:
    try:
        return "value", yaml.load(text, Loader=LOADER)
    except yaml.YAMLError:
        return "error", None


def _fast(text: str) -> tuple[str, Any]:
    try:
        return "value", _load_item(text)
    except yaml.YAMLError:
        return "error", None


KEYS = ["objectName", "objectType", "a", "y", "Key1", "1a", "a b", "-a", "?a", "<<", ""]
SEPARATORS = [": ", ":  ", ":", " : ", ":\t", ": \t"]
VALUES = [
    "plc-1-der",
    "hex",
    "0123",
    "1e5",
    "true",
    "null",
    "~",
    "-x",
    "x-",
    "_a",
    ".a",
    "a.b",
    "a#b",
    "a #b",
    "'q'",
    '"q"',
    "a: b",
    "",
    " a",
    "a ",
    "[a]",
    "{a: b}",
    "&a",
    "*a",
    "!t",
    "|",
    ">",
    "%a",
    "@a",
    "`a",
    "a,b",
    "é",
    "a\tb",
]
ENDINGS = ["\n", "\r\n", "", "\n\n", " \n"]

line = st.builds(
    lambda k, s, v, e: f"{k}{s}{v}{e}",
    st.sampled_from(KEYS),
    st.sampled_from(SEPARATORS),
    st.sampled_from(VALUES),
    st.sampled_from(ENDINGS),
)


def test_every_single_line_of_the_tokens_reads_as_yaml_reads_it() -> None:
    for key in KEYS:
        for separator in SEPARATORS:
            for value in VALUES:
                for ending in ENDINGS:
                    text = f"{key}{separator}{value}{ending}"
                    assert _fast(text) == _yaml(text), text
                    two = f"objectType: secret\n{text}"
                    assert _fast(two) == _yaml(two), two


@settings(max_examples=600, deadline=None)
@given(st.lists(line, min_size=0, max_size=5).map("".join))
def test_generated_items_read_as_yaml_reads_them(text: str) -> None:
    assert _fast(text) == _yaml(text)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="ab0:- \n\t#'\"._\r", max_size=24))
def test_any_text_of_the_tricky_characters_reads_as_yaml_reads_it(text: str) -> None:
    assert _fast(text) == _yaml(text)


@pytest.mark.parametrize(
    "text",
    [
        "objectEncoding: hex\nobjectName: plc-1-der\nobjectType: secret\n",
        "objectName: plc-1-der\nobjectType: secret",
        "objectName: a\nobjectName: b\n",  # the last of a repeated key, as YAML
        "objectName: 0123\nobjectVersionHistory: 3\n",  # words stay words (BaseLoader)
    ],
)
def test_the_written_forms_take_the_pattern_and_equal_yaml(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _yaml(text)
    monkeypatch.setattr(spc_module, "_load", lambda _: pytest.fail("went to the YAML parser"))
    assert _fast(text) == expected


def test_a_cli_written_spc_parses_with_one_yaml_call(monkeypatch: pytest.MonkeyPatch) -> None:
    objects = [cli_object(f"bench-device-{i:05}-der") for i in range(200)]
    calls = []
    real = spc_module._load

    def counted(text: str) -> Any:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(spc_module, "_load", counted)
    for style in ("cli", "block"):
        calls.clear()
        spc_module._parse_objects_cached.cache_clear()  # parsed afresh, not remembered by text
        text = serialize_objects(objects, style=style)
        assert parse_objects(text) == tuple(objects)
        assert len(calls) == 1  # the outer mapping only
