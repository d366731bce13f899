"""The SPC ``objects`` string: the official CLI's exact bytes, the documented block form, tolerance."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.rawobjects import spc
from tui.core.model.spc import (
    SpcFormatError,
    SpcObject,
    add_objects,
    cli_object,
    parse_objects,
    parse_spc,
    remove_objects,
    serialize_objects,
)

# What `az iot ops connector opcua trust add` leaves in the SPC after adding two files: PyYAML
# safe_dump(indent=6) of each item and of {array: [...]}. Written out literally so a change in our
# serialiser (or in PyYAML) shows up here.
CLI_TEXT = (
    "array:\n"
    "- 'objectEncoding: hex\n"
    "\n"
    "      objectName: plc-1-der\n"
    "\n"
    "      objectType: secret\n"
    "\n"
    "      '\n"
    "- 'objectEncoding: hex\n"
    "\n"
    "      objectName: site-ca-crt\n"
    "\n"
    "      objectType: secret\n"
    "\n"
    "      '\n"
)

# The layout in Microsoft's documentation (docs/domain.md §5.1).
BLOCK_TEXT = """array:
    - |
      objectEncoding: hex
      objectName: plc-1-der
      objectType: secret
    - |
      objectEncoding: hex
      objectName: site-ca-crt
      objectType: secret
"""

TWO = (cli_object("plc-1-der"), cli_object("site-ca-crt"))


def _cli_reference(names: list[str]) -> str:
    # The CLI's algorithm as docs/domain.md §5.1 states it: sorted keys, indent 6, then the '- |' re-indent.
    items = [
        yaml.safe_dump({"objectName": n, "objectType": "secret", "objectEncoding": "hex"}, indent=6)
        for n in names
    ]
    return yaml.safe_dump({"array": items}, indent=6).replace("\n- |", "\n    - |")


def test_cli_style_is_byte_identical_to_the_official_tool() -> None:
    assert serialize_objects(TWO) == CLI_TEXT
    assert serialize_objects(TWO) == _cli_reference(["plc-1-der", "site-ca-crt"])


def test_block_style_matches_the_documented_layout() -> None:
    assert serialize_objects(TWO, style="block") == BLOCK_TEXT


@pytest.mark.parametrize("text", [CLI_TEXT, BLOCK_TEXT])
def test_both_layouts_parse_to_the_same_objects(text: str) -> None:
    parsed = parse_objects(text)
    assert parsed == TWO
    assert parsed[0].file_name == "plc-1-der"
    assert parsed[0].object_encoding == "hex"


def test_both_layouts_load_to_the_item_strings_the_cli_compares() -> None:
    # The CLI de-duplicates by comparing item strings, so ours must equal its own after loading.
    cli_items = yaml.safe_load(CLI_TEXT)["array"]
    assert yaml.safe_load(BLOCK_TEXT)["array"] == cli_items
    assert cli_items[0] == yaml.safe_dump(cli_object("plc-1-der").to_dict(), indent=6)


@pytest.mark.parametrize("text", [None, "", "   \n", "array: []\n", "array:\n"])
def test_absent_or_empty_objects_mean_no_items(text: str | None) -> None:
    assert parse_objects(text) == ()


def test_tolerates_mapping_items_bare_lists_and_scalars_yaml_retyped() -> None:
    text = "- objectName: 0123\n  objectType: secret\n  objectVersionHistory: '3'\n  objectAlias: a.der\n"
    (obj,) = parse_objects(text)
    assert obj.object_name == "0123"  # plain YAML 1.1 would read the octal number 83
    assert obj.object_version_history == 3
    assert obj.file_name == "a.der"


def test_unknown_keys_survive_a_round_trip() -> None:
    text = "array:\n  - |\n    objectName: x\n    objectType: secret\n    customKey: kept\n"
    (obj,) = parse_objects(text)
    assert obj.extra == (("customKey", "kept"),)
    assert parse_objects(serialize_objects([obj])) == (obj,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("array: [\n", "not valid YAML"),
        ("objects: []\n", "expected a mapping with an 'array' list"),
        ("array: 5\n", "'array' is not a list"),
        ("array:\n  - 'objectType: secret'\n", "item 1 has no objectName"),
        ("array:\n  - objectName: a\n  - 'just text'\n", "item 2 is not a mapping"),
        ('array:\n  - "objectName: ["\n', "item 1 is not valid YAML"),
        ("array:\n  - {objectName: a, objectVersionHistory: many}\n", "objectVersionHistory 'many'"),
    ],
)
def test_bad_objects_give_one_line_errors_naming_the_item(text: str, message: str) -> None:
    with pytest.raises(SpcFormatError) as err:
        parse_objects(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_add_appends_new_and_replaces_same_name_in_place() -> None:
    text = add_objects(CLI_TEXT, [cli_object("new-der"), SpcObject("plc-1-der", object_encoding="base64")])
    names = [(o.object_name, o.object_encoding) for o in parse_objects(text)]
    assert names == [("plc-1-der", "base64"), ("site-ca-crt", "hex"), ("new-der", "hex")]


def test_add_to_nothing_creates_the_cli_form() -> None:
    assert add_objects(None, [cli_object("plc-1-der"), cli_object("site-ca-crt")]) == CLI_TEXT


def test_remove_uses_exact_names_and_returns_none_when_empty() -> None:
    # The CLI's own remove matched substrings once; exact matching must not drop "plc-1-der" for "1-der".
    assert parse_objects(remove_objects(CLI_TEXT, ["1-der"])) == TWO
    assert parse_objects(remove_objects(CLI_TEXT, ["plc-1-der"])) == (TWO[1],)
    assert remove_objects(CLI_TEXT, ["plc-1-der", "site-ca-crt"]) is None


@given(
    st.lists(st.from_regex(r"[0-9a-zA-Z][0-9a-zA-Z-]{0,40}", fullmatch=True), unique=True, max_size=8),
    st.sampled_from(["cli", "block"]),
)
def test_any_valid_secret_names_round_trip(names: list[str], style: str) -> None:
    objects = [cli_object(n) for n in names]
    text = serialize_objects(objects, style=style)  # type: ignore[arg-type]
    assert parse_objects(text) == tuple(objects)
    if style == "cli" and names:
        assert text == _cli_reference(names)


def test_parse_spc_reads_vault_coordinates_and_never_raises_on_bad_objects() -> None:
    good = parse_spc(spc("opc-ua-connector", "azure-iot-operations", ["plc-1-der"]))
    assert (good.keyvault_name, good.tenant_id, good.objects_error) == (
        "kv-aio-test",
        "11111111-1111-1111-1111-111111111111",
        None,
    )
    assert good.object_for_file("plc-1-der") is not None
    assert good.object_for_file("plc-1.der") is None
    assert good.key == "azure-iot-operations/opc-ua-connector"

    legacy = spc("x", "ns", objects_text="array: [\n")
    legacy["spec"]["parameters"]["tenantId"] = legacy["spec"]["parameters"].pop("tenantID")
    bad = parse_spc(legacy)
    assert bad.objects == ()
    assert bad.objects_error is not None and "not valid YAML" in bad.objects_error
    assert bad.tenant_id == "11111111-1111-1111-1111-111111111111"  # deprecated spelling still read
