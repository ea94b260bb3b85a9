"""JSON nested deeper than the interpreter's stack is read as text, never a RecursionError.

Where the limit falls depends on how deep the stack already is, so the depths sweep the
region around it: below it a document is decoded and walked, above it decoding fails, and
in between it decodes but walking it overflows.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from engine.conf.ta import TA
from engine.generator.generate import generate_ta
from engine.generator.model import GenerationRequest
from engine.sandbox.pipeline import run_sandbox
from engine.settings import SandboxSettings

LIMIT = sys.getrecursionlimit()
NOW = datetime(2024, 6, 1, tzinfo=UTC)
DEPTHS = [*range(LIMIT - 150, LIMIT + 10), 5 * LIMIT]


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
        report = run_sandbox(
            ta=ta,
            samples=[sample],
            sourcetype=sourcetype,
            source=None,
            host=None,
            settings=SandboxSettings(now=NOW),
        ).report
        assert report.events >= len(DEPTHS)
    shallow = tmp_path / "shallow.json"
    shallow.write_text(_event(3), encoding="utf-8")
    fields = run_sandbox(
        ta=ta, samples=[shallow], sourcetype="j:kv", source=None, host=None,
        settings=SandboxSettings(now=NOW),
    ).report.fields  # fmt: skip
    assert {"x.a.a.a", "x"} <= {item.name for item in fields}


def test_generate_reads_deep_json_as_text(tmp_path: Path) -> None:
    for depth in (*range(LIMIT - 150, LIMIT + 10, 8), 5 * LIMIT):
        sample = tmp_path / f"deep{depth}.json"
        sample.write_text(_event(depth) * 3, encoding="utf-8")
        result = generate_ta(
            GenerationRequest(samples=(sample,), name=f"TA-d{depth}"), out_dir=tmp_path / "out"
        )
        assert result.package.is_file()
