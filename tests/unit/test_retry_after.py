"""Whether a throttled call waits for its Retry-After (tui/core/durations.py): the rule both adapters'
retry policies apply, at its edges."""

from __future__ import annotations

import pytest

from tui.core.durations import RETRY_AFTER_LONGEST, worth_waiting


@pytest.mark.parametrize(
    ("retry_after", "left", "expected"),
    [
        (None, 5.0, True),  # no Retry-After: azure-core's own backoff decides
        (0.0, 5.0, True),
        (2.0, 5.0, True),
        (4.0, 5.0, True),  # a second left for the attempt after the wait
        (4.5, 5.0, False),  # the attempt after it would have half a second: it would only time out
        (5.0, 5.0, False),
        (5.5, 5.0, False),
        (3600.0, 30.0, False),
        (RETRY_AFTER_LONGEST, None, True),  # no deadline: up to a minute
        (RETRY_AFTER_LONGEST + 1, None, False),
        (3600.0, None, False),
    ],
)
def test_a_wait_is_taken_only_when_the_call_can_afford_it(
    retry_after: float | None, left: float | None, expected: bool
) -> None:
    assert worth_waiting(retry_after, left) is expected
