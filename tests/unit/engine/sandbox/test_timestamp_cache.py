"""Repeated timestamp texts are converted once, with bounded caches and unchanged results."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.sandbox.strptime import PARSE_CACHE_SIZE, compile_time_format
from engine.sandbox.timestamps import Timestamper, TimestampSettings

NOW = datetime(2024, 6, 10, tzinfo=UTC)


def test_a_cached_parse_keeps_the_offset_of_each_occurrence() -> None:
    fmt = compile_time_format("%Y-%m-%d %H:%M:%S")
    first = fmt.parse("2024-05-01 10:00:00 a")
    again = fmt.parse("xx 2024-05-01 10:00:00 b", 3)
    assert first is not None and again is not None
    assert (first.end, again.end) == (19, 22)
    assert first == again  # same parts: equality ignores where they were found
    assert fmt.parse("2024-13-01 10:00:00") is None  # invalid parts are never cached


def test_the_parse_cache_stays_bounded() -> None:
    fmt = compile_time_format("%H:%M:%S.%3N")
    for i in range(3 * PARSE_CACHE_SIZE):
        parsed = fmt.parse(f"10:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}")
        assert parsed is not None and parsed.microsecond == (i % 1000) * 1000
        assert len(fmt._parsed) <= PARSE_CACHE_SIZE


def test_times_without_a_date_still_take_the_previous_events_date() -> None:
    stamper = Timestamper(TimestampSettings.from_props({}), now=NOW, default_tz=UTC)
    stamper.assign("2024-05-01 10:00:00 a")
    first, _ = stamper.assign("11:00:00 b")
    stamper.assign("2024-05-03 10:00:00 c")
    second, _ = stamper.assign("11:00:00 d")  # same text, another previous date
    assert (first, second) == (
        datetime(2024, 5, 1, 11, tzinfo=UTC),
        datetime(2024, 5, 3, 11, tzinfo=UTC),
    )


def test_repeated_dated_times_give_equal_moments_and_range_errors() -> None:
    settings = TimestampSettings.from_props({"TIME_FORMAT": "%Y-%m-%d %H:%M:%S"})
    stamper = Timestamper(settings, now=NOW, default_tz=UTC)
    one = [stamper.assign("2024-05-01 10:00:00 x") for _ in range(3)]
    assert one == [(datetime(2024, 5, 1, 10, tzinfo=UTC), None)] * 3
    old = [stamper.assign("1990-05-01 10:00:00 x") for _ in range(2)]
    assert all(error and "MAX_DAYS_AGO" in error for _, error in old)
    assert all(moment == one[0][0] for moment, _ in old)  # fallback: the previous good time
