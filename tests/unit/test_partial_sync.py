"""Reading the per-item summary of a ``PartialSync`` condition (docs/domain.md §5.3).

The summary's exact shape is unconfirmed, so the reader accepts the plausible ones; these tests pin
what it makes of each and that it says "unknown" (None) rather than guess when nothing is readable.
"""

from __future__ import annotations

import pytest

from tui.core.build.partial_sync import failed_items


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # A list of item objects with a status word and an error.
        (
            '[{"name": "a-der", "status": "Succeeded"}, {"name": "b-der", "status": "Failed", '
            '"error": "403 Forbidden"}]',
            (("b-der", "403 Forbidden"),),
        ),
        # Under a container key, with a boolean and a message.
        (
            '{"items": [{"targetKey": "a.der", "success": true}, '
            '{"targetKey": "b.der", "success": false, "message": "not found"}]}',
            (("b.der", "not found"),),
        ),
        # A mapping of item name to status word.
        (
            '{"a-der": "synced", "b-der": "failed: secret not found"}',
            (("b-der", "failed: secret not found"),),
        ),
        # A mapping of item name to boolean.
        ('{"a-der": true, "b-der": false}', (("b-der", "failed"),)),
        # Text around the JSON, as a condition message may carry.
        (
            'partial sync: {"secrets": [{"objectName": "c-der", "error": "throttled"}]} (retrying)',
            (("c-der", "throttled"),),
        ),
        # A summary of a single item.
        ('{"objectName": "b-der", "status": "Failed", "error": "throttled"}', (("b-der", "throttled"),)),
        # Every item synced: a readable summary with nothing failed.
        ('[{"name": "a-der", "status": "ok"}]', ()),
    ],
)
def test_failed_items_of_each_plausible_shape(message: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert failed_items(message) == expected


@pytest.mark.parametrize(
    "message",
    ["", "some items failed", "{not json", '{"count": 3}', '[{"name": "a-der"}]', "[1, 2, 3]"],
)
def test_a_summary_that_says_nothing_per_item_is_unknown(message: str) -> None:
    assert failed_items(message) is None


def test_an_item_named_twice_is_reported_once_in_order() -> None:
    message = (
        '[{"name": "b", "status": "failed"}, {"name": "a", "status": "failed"}, {"name": "b", "ok": false}]'
    )
    assert failed_items(message) == (("b", "failed"), ("a", "failed"))
