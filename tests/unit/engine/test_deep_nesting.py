"""Input nested deeper than the interpreter's stack (JSON events, eval expressions, eventtype
searches from a hostile TA) is refused or read as text, never a RecursionError traceback.

Where the limit falls depends on how deep the stack already is, so JSON depths sweep the
region around it: below it a document is decoded and walked, above it decoding fails, and
in between it decodes but walking it overflows.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.conf.ta import TA
from engine.generator.generate import generate_ta
from engine.generator.model import GenerationRequest
from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.report import ValidationReport
from engine.settings import SandboxSettings

LIMIT = sys.getrecursionlimit()
NOW = datetime(2024, 6, 1, tzinfo=UTC)
DEPTHS = [*range(LIMIT - 150, LIMIT + 10), 5 * LIMIT]


def _report(ta: TA, sample: Path, sourcetype: str) -> ValidationReport:
    return run_sandbox(
        ta=ta,
        samples=[sample],
        sourcetype=sourcetype,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW),
    ).report


def _one_event(tmp_path: Path) -> Path:
    sample = tmp_path / "s.log"
    sample.write_text("2024-01-01 10:00:00 a=1\n", encoding="utf-8")
    return sample


def _event(depth: int) -> str:
    nested = '{"a":' * depth + "1" + "}" * depth
    return '{"time": "2024-01-01T10:00:00Z", "x": ' + nested + "}\n"


def test_the_sandbox_reads_deep_json_without_overflowing(tmp_path: Path) -> None:
    ta = TA(app_id="TA-deep", version="1.0.0")
    ta.props.set("j:kv", "KV_MODE", "json")
    ta.props.set("j:kv", "EVAL-x", 'spath(_raw, "time")')
    ta.props.set("j:indexed", "INDEXED_EXTRACTIONS", "json")
    ta.props.set("j:indexed", "KV_MODE", "none")
    sample = tmp_path / "deep.json"
    sample.write_text("".join(_event(depth) for depth in DEPTHS), encoding="utf-8")
    for sourcetype in ("j:kv", "j:indexed"):
        assert _report(ta, sample, sourcetype).events >= len(DEPTHS)
    shallow = tmp_path / "shallow.json"
    shallow.write_text(_event(3), encoding="utf-8")
    fields = _report(ta, shallow, "j:kv").fields
    assert {"x.a.a.a", "x"} <= {item.name for item in fields}


def test_generate_reads_deep_json_as_text(tmp_path: Path) -> None:
    for depth in (*range(LIMIT - 150, LIMIT + 10, 8), 5 * LIMIT):
        sample = tmp_path / f"deep{depth}.json"
        sample.write_text(_event(depth) * 3, encoding="utf-8")
        result = generate_ta(
            GenerationRequest(samples=(sample,), name=f"TA-d{depth}"), out_dir=tmp_path / "out"
        )
        assert result.package.is_file()


@pytest.mark.parametrize(
    ("conf", "key", "value"),
    [
        ("props", "EVAL-x", "(" * 2000 + "1" + ")" * 2000),
        ("props", "EVAL-x", "if(" * 300 + "1" + ",1,2)" * 300),
        ("props", "EVAL-x", "+".join(["1"] * 3000)),  # parsed in a loop, evaluated nested
        ("eventtypes", "search", "(" * 2000 + "a=1" + ")" * 2000),
        ("eventtypes", "search", "NOT " * 3000 + "a=1"),
    ],
    ids=["eval-parentheses", "eval-if", "eval-sum", "search-parentheses", "search-not"],
)
def test_deeply_nested_expressions_are_configuration_errors(
    conf: str, key: str, value: str, tmp_path: Path
) -> None:
    ta = TA(app_id="TA-deep", version="1.0.0")
    ta.conf(conf).set("st" if conf == "props" else "deep", key, value)
    ta.tags.set("eventtype=deep", "network", "enabled")
    report = _report(ta, _one_event(tmp_path), "st")
    assert report.events == 1
    assert any("nested too deeply" in warning for warning in report.warnings), report.warnings


def test_eventtypes_naming_each_other_thousands_deep_do_not_match(tmp_path: Path) -> None:
    ta = TA(app_id="TA-deep", version="1.0.0")
    for number in range(3000):
        ta.eventtypes.set(f"e{number}", "search", f"eventtype=e{number + 1}")
    ta.eventtypes.set("e3000", "search", "a=1")
    report = _report(ta, _one_event(tmp_path), "st")
    assert report.events == 1 and report.fields
