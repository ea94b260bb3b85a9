"""The synthetic format generator: deterministic, truthful to its own raw text, every dimension
produced, and the encoded sample seen by the sandbox as the scorer's UTF-8 text."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.harness import read_expected, read_meta, sample_of, scorer, train_text
from bench.synthetic.clock import BY_NAME, LAYOUTS
from bench.synthetic.formats import ENCODINGS, build, family_of, write
from bench.synthetic.layouts import FAMILIES
from bench.synthetic.run import charset_reads, first_misses, needs_charset
from engine.conf.parse import parse_conf
from engine.conf.ta import TA, write_ta
from engine.sandbox.events import Event
from engine.sandbox.events_out import event_record
from engine.sandbox.pipeline import run_sandbox
from engine.settings import SandboxSettings

SEED = 11
BATCH = 120
SMALL = 12
"""Events per format in these tests: the formats are the full ones, cut short for speed."""


@pytest.fixture(scope="module")
def batch() -> list[Any]:
    return [build(SEED, index, max_events=SMALL) for index in range(BATCH)]


def test_a_seed_gives_the_same_formats_and_another_seed_others() -> None:
    first = [build(SEED, index, max_events=SMALL) for index in range(8)]
    again = [build(SEED, index, max_events=SMALL) for index in range(8)]
    other = [build(SEED + 1, index, max_events=SMALL) for index in range(8)]
    assert [d.text for d in first] == [d.text for d in again]
    assert [d.dims for d in first] == [d.dims for d in again]
    assert [[e.truth for e in d.rendered.events] for d in first] == [
        [e.truth for e in d.rendered.events] for d in again
    ]
    assert [d.text for d in first] != [d.text for d in other]
    assert [family_of(SEED, index) for index in range(8)] == [d.family for d in first]


def _json_leaves(raw: str) -> set[str]:
    """String forms of the leaves of the JSON document in (or at the end of) ``raw``."""
    document = json.loads(raw[raw.index("{") :])
    leaves: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        else:
            leaves.add(str(node))

    walk(document)
    return leaves


def _offset_minutes(moment: datetime) -> int:
    offset = moment.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def test_expected_events_occur_in_the_raw_text_in_order(batch: list[Any]) -> None:
    for dataset in batch:
        text, position = dataset.text, 0
        for event in dataset.rendered.events:
            found = text.find(event.raw + "\n", position)
            assert found >= position, (dataset.name, event.raw)
            assert found == 0 or text[found - 1] == "\n", (dataset.name, event.raw)
            position = found + len(event.raw)


def test_every_value_occurs_in_its_event(batch: list[Any]) -> None:
    for dataset in batch:
        for event in dataset.rendered.events:
            expected = [*event.truth.fields.values(), *event.truth.values]
            assert expected or event.time is None or dataset.family != "json", dataset.name
            leaves = _json_leaves(event.raw) if event.json_text else set()
            for value in expected:
                assert value.strip(), (dataset.name, event.raw)
                assert value in event.raw or value in leaves, (dataset.name, value, event.raw)


def test_times_parse_and_are_the_instant_the_raw_text_shows(batch: list[Any]) -> None:
    parse = scorer().parse_time
    for dataset in batch:
        layout = BY_NAME[dataset.dims["time_layout"]]
        for event in dataset.rendered.events:
            if event.time is None:
                assert not event.has_year
                continue
            moment = parse(event.time)
            assert moment is not None, event.time
            assert event.has_year == layout.has_year
            assert moment.year == 2000 or layout.has_year
            shown = layout.render(moment, _offset_minutes(moment))
            assert shown in event.raw, (dataset.name, shown, event.raw)


def test_a_time_without_an_offset_in_the_text_is_utc(batch: list[Any]) -> None:
    for dataset in batch:
        layout = BY_NAME[dataset.dims["time_layout"]]
        if layout.zone in ("colon", "compact"):
            continue
        for event in dataset.rendered.events:
            if event.time is not None:
                assert event.time.endswith("+00:00"), (dataset.name, event.time)


def test_every_dimension_is_produced() -> None:
    dims: dict[str, Counter[str]] = {}
    for index in range(400):
        dataset = build(SEED, index, max_events=3)
        for key, value in dataset.dims.items():
            dims.setdefault(key, Counter())[value] += 1
    assert set(dims["family"]) == set(FAMILIES)
    assert set(dims["encoding"]) == set(ENCODINGS)
    assert set(dims["newline"]) == {"lf", "crlf"}
    assert len(dims["time_layout"]) >= len(LAYOUTS) - 2
    assert {
        "start",
        "after_header",
        "kv_key",
        "column",
        "json_key",
        "json_nested",
        "json_varying",
        "json_collector",
        "syslog_header",
    } <= set(dims["placement"])
    assert set(dims["variant"]) == {"priority_mix", "bare_lines", "two_prefixes", "kv_and_text"}
    assert set(dims["access"]) == {"proxy_cache", "balancer", "unquoted"}
    assert set(dims["non_ascii"]) == {"yes", "no"}
    sizes = Counter(build(SEED, index).dims["size"] for index in range(0, 400, 8))
    assert set(sizes) == {"3-9", "10-99", "100-999", "1000-2000"}


def test_multi_line_families_have_events_spanning_lines(batch: list[Any]) -> None:
    spanning = {d.family for d in batch if any("\n" in e.raw for e in d.rendered.events)}
    assert {"stacktrace", "records", "pretty_json"} <= spanning
    single = {"kv", "delimited", "json", "syslog3164", "syslog5424", "freetext", "mixed"}
    assert not spanning & single


def test_the_written_dataset_is_in_the_corpus_format(tmp_path: Path) -> None:
    index = next(i for i in range(200) if build(SEED, i, max_events=3).encoding == "utf-16")
    root = write(build(SEED, index, max_events=SMALL), tmp_path, seed=SEED)
    meta, expected = read_meta(root), read_expected(root)
    assert meta["field_names"] == "cim" and meta["events"] == len(expected)
    assert meta["collection"] == root.parent.name and meta["name"] == root.name
    for record in expected:
        assert set(record) >= {"raw", "time", "time_has_year", "fields", "values"}
    raw = (root / "raw.log").read_text(encoding="utf-8")
    sample, encoding, newline = sample_of(root)
    assert sample.read_bytes().decode(encoding).replace(newline, "\n") == raw
    head, cut = train_text(raw, expected)
    assert raw.startswith(head) and cut == (len(expected) + 1) // 2


def test_the_sandbox_reads_an_encoded_sample_as_the_scorers_text(tmp_path: Path) -> None:
    """UTF-16 with CRLF: the events the sandbox writes align with expected.jsonl exactly."""
    root = _utf16_dataset(tmp_path)
    sample, _, _ = sample_of(root)
    props = "[synthetic]\nSHOULD_LINEMERGE = false\nLINE_BREAKER = ([\\r\\n]+)\nCHARSET = UTF-16\n"
    ta = TA(app_id="TA-synthetic", version="1.0.0", confs={"props": parse_conf(props)})
    records: list[dict[str, Any]] = []

    class Sink:
        def write(self, event: Event) -> None:
            records.append(event_record(event))

    run_sandbox(
        ta=ta,
        samples=[sample],
        sourcetype="synthetic",
        source=None,
        host=None,
        settings=SandboxSettings(),
        sinks=[Sink()],
    )
    expected = read_expected(root)
    row = scorer().score_dataset(expected, read_meta(root), records)
    assert [r["raw"] for r in records] == [e["raw"] for e in expected]
    assert row["events_exact"] == 1.0


def _utf16_dataset(tmp_path: Path) -> Path:
    index = next(
        i
        for i in range(300)
        if family_of(SEED, i) in ("kv", "syslog3164")
        and build(SEED, i, max_events=3).encoding == "utf-16"
    )
    return write(build(SEED, index, max_events=SMALL), tmp_path / "corpus", seed=SEED)


@pytest.mark.parametrize(
    ("charset", "reads"), [("UTF-16", True), ("UTF-16LE", True), ("UTF-8", False), ("", False)]
)
def test_the_charset_check_decodes_the_sample_with_the_tas_charset(
    tmp_path: Path, charset: str, reads: bool
) -> None:
    root = _utf16_dataset(tmp_path)
    props = "[synthetic]\nSHOULD_LINEMERGE = false\n" + (
        f"CHARSET = {charset}\n" if charset else ""
    )
    ta_dir = write_ta(
        TA(app_id="TA-synthetic", version="1.0.0", confs={"props": parse_conf(props)}),
        tmp_path / "ta",
    )
    assert charset_reads(root, ta_dir, "synthetic") is reads


def test_a_charset_is_needed_for_utf16_and_for_latin1_beyond_ascii() -> None:
    assert needs_charset("utf-16", non_ascii=False)
    assert needs_charset("latin-1", non_ascii=True)
    assert not needs_charset("latin-1", non_ascii=False)
    assert not needs_charset("utf-8-sig", non_ascii=True)


def test_first_misses_name_each_metric_with_what_was_produced() -> None:
    expected = [
        {
            "raw": "a from 10.0.0.1",
            "time": "2024-01-01T00:00:00+00:00",
            "time_has_year": True,
            "fields": {"src": "10.0.0.1"},
            "values": ["x1"],
        },
        {"raw": "b", "time": None, "time_has_year": False, "fields": {}, "values": []},
        {"raw": "c\n  more", "time": None, "time_has_year": False, "fields": {}, "values": []},
    ]
    produced = [
        {"raw": "a from 10.0.0.1", "time": "2024-01-01T00:00:05Z", "fields": {"ip": "10.0.0.1"}},
        {"raw": "b", "time": None, "fields": {}},
        {"raw": "c", "time": None, "fields": {}},
    ]
    misses = first_misses(expected, produced)
    assert set(misses) == {"events", "time", "value", "named"}
    assert "expected 2024-01-01T00:00:00+00:00, got 2024-01-01T00:00:05Z" in misses["time"]
    assert "missing ['x1']" in misses["value"]
    assert "expected src='10.0.0.1'" in misses["named"] and "['ip']" in misses["named"]
    assert "produced 'c'" in misses["events"]
    assert first_misses(expected[:2], produced[:2]).keys() == {"time", "value", "named"}
