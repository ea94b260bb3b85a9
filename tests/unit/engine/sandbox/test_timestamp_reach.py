"""Which events no TA can time: the validation's judge of timestamps that are not there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.sandbox.timestamps import TimestampReach, Unreadable

NOW = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("user note without any time at all", Unreadable.TIMELESS),
        ("myapp[7]: session 7 opened for u7", Unreadable.TIMELESS),
        ("2024-05-01 10:00:00 host app: started job 1", None),
        ("10:00:05.123 INFO worker done", None),  # a time of day is a timestamp Splunk reads
        ("1714557600 host app: epoch first", None),
        ("x" * 300 + " at 2024-05-01 10:00:00", None),  # past any lookahead: still there
        ("1986-04-26T01:23:45.101+04:00 host shutdown[1]: halt", Unreadable.TOO_OLD),
        ("2000-01-01 00:00:00 old but within MAX_DAYS_AGO's maximum", None),
    ],
)
def test_an_event_is_out_of_reach_only_without_a_timestamp_splunk_accepts(
    raw: str, why: Unreadable | None
) -> None:
    assert TimestampReach(now=NOW, default_tz=UTC).unreadable(raw) is why
