"""One synthetic format through the quality harness: build, generate, sandbox, score, explain.

The outcome carries the scorer's row, the format's dimensions, the generation time, whether a
non-UTF-8 sample got a ``CHARSET`` that decodes it, and the first miss of each metric (what
was expected, what the TA produced) so a reader sees why a class of formats is weak.
"""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import read_expected, read_meta, run_dataset, sample_of, scorer
from bench.synthetic.formats import build, write
from engine.conf.ta import load_ta

EXCERPT = 180


@dataclass
class Outcome:
    name: str
    dims: dict[str, str]
    row: dict[str, Any]
    seconds: float
    cpu_seconds: float
    train_events: int
    plan: str = ""
    error: str = ""
    charset_ok: bool | None = None
    """None: the sample needs no CHARSET."""
    misses: dict[str, str] = field(default_factory=dict)


def run_format(seed: int, index: int, *, corpus: Path, got: Path, max_events: int) -> Outcome:
    dataset = build(seed, index, max_events=max_events)
    root = write(dataset, corpus, seed=seed)
    run = run_dataset(root, got)
    expected, meta = read_expected(root), read_meta(root)
    events = got / dataset.family / dataset.name / "events.jsonl"
    score = scorer()
    produced, bad = score.read_jsonl(str(events), "got") if events.is_file() else ([], 0)
    row = score.score_dataset(expected, meta, produced, bad)
    outcome = Outcome(
        dataset.name,
        dataset.dims,
        row,
        run.seconds,
        run.cpu_seconds,
        run.train_events,
        error=run.error,
    )
    if run.result is not None:
        stamps = run.result.timestamps
        outcome.plan = (
            f"format={run.result.format.kind} LINE_BREAKER={run.result.breaking.line_breaker} "
            f"TIME_PREFIX={stamps.time_prefix} TIME_FORMAT={stamps.time_format}"
        )
        if needs_charset(dataset.encoding, non_ascii=dataset.dims["non_ascii"] == "yes"):
            outcome.charset_ok = charset_reads(root, run.result.ta_dir, run.result.sourcetype)
    outcome.misses = first_misses(expected, produced)
    return outcome


def needs_charset(encoding: str, *, non_ascii: bool) -> bool:
    """Whether Splunk needs a CHARSET to read the sample: UTF-16 always, Latin-1 once the text
    leaves ASCII (a UTF-8 byte-order mark it handles by itself)."""
    return encoding == "utf-16" or (encoding == "latin-1" and non_ascii)


def charset_reads(root: Path, ta_dir: Path, sourcetype: str) -> bool:
    """Whether the TA's CHARSET decodes the sample to the text of raw.log."""
    props = load_ta(ta_dir).confs.get("props")
    stanza = props.stanzas.get(sourcetype) if props is not None else None
    charset = dict(stanza.settings).get("CHARSET", "").strip() if stanza is not None else ""
    if not charset or charset.upper() == "AUTO":
        return False
    sample, _, newline = sample_of(root)
    try:
        text = sample.read_bytes().decode(codecs.lookup(charset).name)
    except (LookupError, UnicodeDecodeError):
        return False
    return text.lstrip("\ufeff").replace(newline, "\n") == (root / "raw.log").read_text("utf-8")


def _cut(text: object) -> str:
    shown = repr(text)
    return shown if len(shown) <= EXCERPT else shown[:EXCERPT] + "..."


def first_misses(expected: list[dict[str, Any]], produced: list[dict[str, Any]]) -> dict[str, str]:
    """metric -> the first expected event it misses, with what was produced, aligned as the
    scorer aligns (same raw text at matching positions)."""
    score = scorer()
    matcher = difflib.SequenceMatcher(
        None,
        [score.norm_raw(event.get("raw")) for event in expected],
        [score.norm_raw(event.get("raw")) for event in produced],
        autojunk=False,
    )
    align = {
        block.a + k: block.b + k
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    }
    misses: dict[str, str] = {}
    for index, event in enumerate(expected):
        if index not in align:
            misses.setdefault("events", _event_miss(event, produced, align, index))
            continue
        got = produced[align[index]]
        fields: dict[str, Any] = got["fields"] if isinstance(got.get("fields"), dict) else {}
        if event.get("time") is not None and not score.time_matches(
            score.parse_time(got.get("time")), event["time"], bool(event.get("time_has_year"))
        ):
            misses.setdefault(
                "time", f"raw {_cut(event['raw'])}: expected {event['time']}, got {got.get('time')}"
            )
        missing = sorted(score.expected_value_set(event) - score.got_value_set(got))
        if missing:
            misses.setdefault(
                "value", f"raw {_cut(event['raw'])}: missing {missing[:6]}; got {_cut(fields)}"
            )
        for name, value in (event.get("fields") or {}).items():
            values = [item.strip() for item in score.flat_values(fields.get(name))]
            if value.strip() not in values:
                holders = sorted(
                    key for key, item in fields.items() if value in score.flat_values(item)
                )
                misses.setdefault(
                    "named",
                    f"raw {_cut(event['raw'])}: expected {name}={value!r}, got "
                    f"{name}={fields.get(name)!r} (value under {holders or 'no field'})",
                )
                break
    return misses


def _event_miss(
    event: dict[str, Any], produced: list[dict[str, Any]], align: dict[int, int], index: int
) -> str:
    before = [align[i] for i in range(index) if i in align]
    near = (
        produced[before[-1] + 1]
        if before and before[-1] + 1 < len(produced)
        else (produced[0] if produced and not before else None)
    )
    shown = _cut(near.get("raw")) if near is not None else "nothing"
    return f"expected event {_cut(event['raw'])}; produced {shown}"
