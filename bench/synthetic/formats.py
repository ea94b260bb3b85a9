"""A synthetic format from a seed and an index, written as a corpus dataset.

Format ``i`` of seed ``S`` depends on ``(S, i)`` alone, so a batch is deterministic and any one
format can be rebuilt by itself. The dataset follows ``../shared/corpus/FORMAT.md``: ``raw.log``
(UTF-8, LF), ``expected.jsonl`` and ``meta.json`` with ``field_names: "cim"``. A format in
another encoding or with CRLF line ends also gets ``sample.log``, the bytes a monitored file
would hold; ``meta.json`` names it with its encoding (see :mod:`bench.harness`), and the
scorer's view stays the decoded, LF text: the sandbox decodes the sample before breaking it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from random import Random

from bench.synthetic.layouts import FAMILIES, Context, Event, Rendered
from bench.synthetic.tokens import Vocabulary

ENCODINGS = {"utf-8": 70, "utf-8-sig": 5, "latin-1": 12, "utf-16": 13}
"""Encodings of the sample and their weights; ``utf-16`` is written with its byte-order mark."""
MIN_EVENTS, MAX_EVENTS = 3, 2000
SIZE_BUCKETS = ((9, "3-9"), (99, "10-99"), (999, "100-999"), (MAX_EVENTS, "1000-2000"))


@dataclass(frozen=True)
class Dataset:
    name: str
    family: str
    rendered: Rendered
    dims: dict[str, str]
    encoding: str
    newline: str

    @property
    def text(self) -> str:
        """The UTF-8, LF view of the file (raw.log)."""
        return "".join(f"{line}\n" for line in self.rendered.head) + "".join(
            f"{event.raw}\n" for event in self.rendered.events
        )


def _weighted(rng: Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _start(seed: int, index: int) -> tuple[Random, str]:
    rng = Random(f"tagen-synthetic:{seed}:{index}")
    return rng, _weighted(rng, {name: weight for name, (_, weight) in FAMILIES.items()})


def family_of(seed: int, index: int) -> str:
    """The family of format ``index`` without building it."""
    return _start(seed, index)[1]


def build(seed: int, index: int, *, max_events: int = MAX_EVENTS) -> Dataset:
    """Format ``index`` of batch ``seed``, cut to ``max_events`` events (for quick runs: the
    format is otherwise the same)."""
    rng, family = _start(seed, index)
    encoding = _weighted(rng, ENCODINGS)
    newline = "\r\n" if rng.random() < (0.5 if encoding == "utf-16" else 0.1) else "\n"
    accents = {"latin-1": "latin-1", "utf-16": "unicode"}.get(
        encoding, "unicode" if rng.random() < 0.2 else ""
    )
    size = round(math.exp(rng.uniform(math.log(MIN_EVENTS), math.log(MAX_EVENTS))))
    size = min(size, max(max_events, MIN_EVENTS))
    context = Context(rng, Vocabulary(rng, accents=accents), size)
    rendered = FAMILIES[family][0](context)
    dims = {
        "family": family,
        **context.dims,
        "encoding": encoding,
        "newline": "crlf" if newline == "\r\n" else "lf",
        "size": next(label for top, label in SIZE_BUCKETS if size <= top),
    }
    dataset = Dataset(f"{index:04d}-{family}", family, rendered, dims, encoding, newline)
    dims["non_ascii"] = "yes" if not dataset.text.isascii() else "no"
    return dataset


def expected_record(event: Event) -> dict[str, object]:
    record: dict[str, object] = {
        "raw": event.raw,
        "time": event.time,
        "time_has_year": event.has_year if event.time is not None else False,
        "fields": dict(event.truth.fields),
        "values": list(event.truth.values),
    }
    not_literal = [name for name, value in event.truth.fields.items() if value not in event.raw]
    if not_literal:
        record["fields_not_in_raw"] = not_literal
    return record


def write(dataset: Dataset, corpus: Path, *, seed: int) -> Path:
    """Write ``dataset`` under ``corpus/<family>/<name>/``; returns that directory."""
    root = corpus / dataset.family / dataset.name
    root.mkdir(parents=True, exist_ok=True)
    text = dataset.text
    (root / "raw.log").write_text(text, encoding="utf-8", newline="\n")
    with (root / "expected.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for event in dataset.rendered.events:
            handle.write(json.dumps(expected_record(event), ensure_ascii=False) + "\n")
    meta: dict[str, object] = {
        "name": dataset.name,
        "collection": dataset.family,
        "source": f"bench.synthetic seed={seed} format={dataset.name}",
        "license": "CC0-1.0",
        "format": dataset.rendered.format,
        "field_names": "cim",
        "events": len(dataset.rendered.events),
        "notes": "Synthetic: "
        + ", ".join(f"{key}={value}" for key, value in dataset.dims.items())
        + ". Times without an offset are UTC; year-less ones use the year 2000.",
        "dimensions": dataset.dims,
    }
    if dataset.encoding != "utf-8" or dataset.newline != "\n":
        sample = text.replace("\n", dataset.newline).encode(dataset.encoding)
        (root / "sample.log").write_bytes(sample)
        meta |= {"sample": "sample.log", "encoding": dataset.encoding, "newline": dataset.newline}
    (root / "meta.json").write_text(
        json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return root
