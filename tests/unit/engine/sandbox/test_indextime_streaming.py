"""Streaming: bounded buffers for huge lines, samples read in chunks, strptime details."""

from __future__ import annotations

import codecs
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.regex import compile_regex
from engine.samples import read_sample_chunks
from engine.sandbox.indextime import IndexTimeStats, index_events
from engine.sandbox.linebreak import LineBreaker
from engine.sandbox.strptime import compile_time_format, zone_from_name

NOW = datetime(2020, 3, 1, tzinfo=UTC)


def test_overlong_line_is_truncated_in_bounded_memory() -> None:
    breaker = LineBreaker(compile_regex(r"([\r\n]+)"), truncate=10_000, lookbehind=100)
    lines = []
    peak = 0
    for _ in range(80):  # 5 MB without a line break
        lines.extend(breaker.feed(b"x" * 65536))
        peak = max(peak, breaker.buffered)
    lines.extend(breaker.feed(b"\nnext line\n"))
    lines.extend(breaker.finish())
    assert [(len(line.text), line.truncated) for line in lines] == [(10_000, True), (9, False)]
    assert peak < 10_000 + 65536 * 2 + 1000


def _break(pattern: str, text: bytes, chunk: int, truncate: int) -> list[tuple[str, bool]]:
    breaker = LineBreaker(compile_regex(pattern), truncate=truncate, lookbehind=100)
    lines = []
    for i in range(0, len(text), chunk):
        lines.extend(breaker.feed(text[i : i + chunk]))
    lines.extend(breaker.finish())
    return [(line.text, line.truncated) for line in lines]


@pytest.mark.parametrize("seed", range(40))
def test_the_default_breakers_split_matches_pcre2(seed: int) -> None:
    """The default breaker is split with bytes.splitlines; ([\\n\\r]+), the same breaker
    written otherwise, runs on PCRE2: both cut every text and chunking alike."""
    rng = random.Random(seed)
    alphabet = [b"a", b"b", b" ", b"\t", b"\r", b"\n", b"\r\n", "\u00e9".encode(), b"\xff"]
    text = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
    chunk, truncate = rng.choice([1, 3, 7, 64, 1000]), rng.choice([0, 5, 17, 10_000])
    assert _break(r"([\r\n]+)", text, chunk, truncate) == _break(
        r"([\n\r]+)", text, chunk, truncate
    )


def test_breaks_across_feed_boundaries_with_lookahead_breaker() -> None:
    breaker = LineBreaker(
        compile_regex(r"([\r\n]+)(?=\d{4}-\d\d-\d\d)"), truncate=0, lookbehind=100
    )
    text = b"2020-01-01 a\r\n  b\r\n2020-01-02 c\r\n2020-01-03 d"
    lines = []
    for i in range(len(text)):
        lines.extend(breaker.feed(text[i : i + 1]))
    lines.extend(breaker.finish())
    assert [line.text for line in lines] == [
        "2020-01-01 a\r\n  b",
        "2020-01-02 c",
        "2020-01-03 d",
    ]


def test_utf16_sample_streams_into_events(tmp_path: Path) -> None:
    text = "".join(f"2020-01-01 00:00:{i:02d} caf\u00e9 #{i}\r\n" for i in range(50))
    path = tmp_path / "win.log"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    stats = IndexTimeStats()
    events = list(
        index_events(
            read_sample_chunks(path, chunk_chars=64),
            props={},
            transforms={},
            sourcetype="st",
            now=NOW,
            stats=stats,
        )
    )
    assert [e.raw for e in events] == [line for line in text.split("\r\n") if line]
    assert events[-1].time == datetime(2020, 1, 1, 0, 0, 49, tzinfo=UTC)
    assert stats.events == 50 and stats.timestamp_failures == 0


def test_default_tz_applies_without_tz_setting() -> None:
    zone = timezone(timedelta(hours=3))
    events = list(
        index_events(
            ["2020-01-01 12:00:00 x"],
            props={},
            transforms={},
            sourcetype="st",
            now=NOW,
            default_tz=zone,
        )
    )
    assert events[0].time == datetime(2020, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fmt", "text", "end"),
    [
        ("%Y-%m-%d", "2020-01-02 rest", 10),
        ("%H:%M:%S.%N", "10:00:00.123456789Z", 18),
        ("%b %e %T", "Mar  7 01:02:03 x", 15),
        ("%Y-%m-%d%n%H:%M", "2020-01-02\t10:11", 16),
        ("100%% %Y", "100% 2020", 9),
    ],
)
def test_strptime_reports_end_offset(fmt: str, text: str, end: int) -> None:
    parsed = compile_time_format(fmt).parse(text)
    assert parsed is not None and parsed.end == end


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("%Y-%m-%d", "2020-13-01"),
        ("%H:%M", "25:00"),
        ("%I:%M %p", "13:00 PM"),
        ("%Y-%m-%d", "x2020-01-01"),
    ],
)
def test_strptime_rejects_out_of_range_or_misplaced(fmt: str, text: str) -> None:
    assert compile_time_format(fmt).parse(text) is None


def test_zone_names_and_offsets() -> None:
    assert zone_from_name("PDT") == timezone(timedelta(hours=-7), "PDT")
    assert zone_from_name("Z") == UTC
    assert zone_from_name("+05:30") == timezone(timedelta(hours=5, minutes=30))
    assert zone_from_name("XYZ") is None


def test_unbalanced_csv_quote_spans_a_bounded_number_of_lines(monkeypatch) -> None:
    monkeypatch.setattr("engine.sandbox.indexed_extractions.MAX_RECORD_LINES", 3)
    events = list(
        index_events(
            ['k,v\n1,"open\n2,b\n3,c\n4,d\n'],
            props={"st": {"INDEXED_EXTRACTIONS": "csv"}},
            transforms={},
            sourcetype="st",
            now=NOW,
        )
    )
    assert [e.raw for e in events] == ['1,"open\n2,b\n3,c', "4,d"]
    assert events[1].fields == {"k": ["4"], "v": ["d"]}


def test_field_names_with_header_line_number_skip_the_file_header() -> None:
    events = list(
        index_events(
            ["a,b\n1,2\n"],
            props={
                "st": {
                    "INDEXED_EXTRACTIONS": "csv",
                    "FIELD_NAMES": "x,y",
                    "HEADER_FIELD_LINE_NUMBER": "1",
                }
            },
            transforms={},
            sourcetype="st",
            now=NOW,
        )
    )
    assert [(e.raw, e.fields) for e in events] == [("1,2", {"x": ["1"], "y": ["2"]})]


def test_breaker_with_long_lookahead_does_not_depend_on_chunk_size() -> None:
    header = "2020-01-01 00:00:00 " + "h" * 300
    text = "\n".join(f"{header} event {i}\n  detail {i}" for i in range(20))
    pattern = r"([\r\n]+)(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d h{300})"
    whole = LineBreaker(compile_regex(pattern), truncate=0, lookbehind=100)
    expected = [line.text for line in [*whole.feed(text.encode()), *whole.finish()]]
    assert len(expected) == 20
    for size in (1, 50, 333):
        breaker = LineBreaker(compile_regex(pattern), truncate=0, lookbehind=100)
        data = text.encode()
        lines = []
        for i in range(0, len(data), size):
            lines.extend(breaker.feed(data[i : i + size]))
        lines.extend(breaker.finish())
        assert [line.text for line in lines] == expected
