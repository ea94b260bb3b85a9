"""Generate synthetic formats and measure the generator on them.

    python -m bench.synthetic [--formats 500] [--seed 1] [--out DIR] [--keep] [--jobs 2]
                              [--family F ...] [--max-events N] [--examples 2]
                              [--write-only]

Each format is written as a corpus dataset (``DIR/corpus/<family>/<name>/``), then run through
the quality harness (:mod:`bench.harness`: TA from the first half, sandbox on the whole sample)
and scored with ``../shared/tools/score.py``. Printed: the scorer's macro figures over all
formats and per value of every dimension (family, timestamp layout and placement, encoding,
size...), the CHARSET check of non-UTF-8 samples, the slowest generation, and for the weakest
families the first miss of each metric. The figures are deterministic for a seed; the output
directory is a temporary one unless ``--out`` or ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from bench.harness import scorer
from bench.synthetic.formats import MAX_EVENTS, build, family_of, write
from bench.synthetic.layouts import FAMILIES
from bench.synthetic.run import Outcome, run_format

METRICS = (
    ("events_exact", "ev_exact"),
    ("time_acc", "time"),
    ("value_recall", "value"),
    ("named_recall", "named"),
    ("time_acc_e2e", "time_e2e"),
    ("value_recall_e2e", "val_e2e"),
)
BY_DIMENSION = ("family", "time_layout", "placement", "encoding", "newline", "size")
"""Dimensions every format has, printed first; the family-specific ones follow."""


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(title: str, groups: dict[str, list[dict[str, Any]]]) -> None:
    score = scorer()
    print(f"{title:<28} {'n':>4} " + " ".join(f"{label:>8}" for _, label in METRICS))
    for name in sorted(groups):
        macro = score.macro(groups[name])
        cells = " ".join(f"{_fmt(macro[key]):>8}" for key, _ in METRICS)
        print(f"  {name:<26} {macro['datasets']:>4} {cells}")


def _quality(row: dict[str, Any]) -> float:
    values = [row[key] for key, _ in METRICS[:4] if row.get(key) is not None]
    return sum(values) / len(values) if values else 0.0


def report(outcomes: list[Outcome], examples: int) -> None:
    rows = [outcome.row for outcome in outcomes]
    _table("ALL", {"all": rows})
    dimensions = [*BY_DIMENSION]
    dimensions += sorted({key for o in outcomes for key in o.dims} - set(BY_DIMENSION))
    for dimension in dimensions:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for outcome in outcomes:
            if dimension in outcome.dims:
                groups[outcome.dims[dimension]].append(outcome.row)
        print()
        _table(f"by {dimension}", groups)
    checked = [o for o in outcomes if o.charset_ok is not None]
    if checked:
        ok = sum(1 for o in checked if o.charset_ok)
        print(f"\nCHARSET that decodes the sample (UTF-16, non-ASCII Latin-1): {ok}/{len(checked)}")
    errors = [o for o in outcomes if o.error]
    for outcome in errors:
        print(f"generation ERROR {outcome.name}: {outcome.error}")
    slowest = max(outcomes, key=lambda o: o.cpu_seconds)
    print(
        f"slowest generation: {slowest.name} {slowest.cpu_seconds:.2f} s CPU "
        f"({slowest.seconds:.2f} s wall) from {slowest.train_events} training events"
    )
    if examples:
        _examples(outcomes, examples)


def _examples(outcomes: list[Outcome], count: int) -> None:
    families: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        families[outcome.dims["family"]].append(outcome)
    ranked = sorted(
        families, key=lambda f: sum(_quality(o.row) for o in families[f]) / len(families[f])
    )
    print("\nFirst misses, weakest families first:")
    for family in ranked:
        shown = 0
        for outcome in sorted(families[family], key=lambda o: _quality(o.row)):
            if not outcome.misses or shown >= count:
                continue
            shown += 1
            dims = ", ".join(f"{k}={v}" for k, v in outcome.dims.items() if k != "family")
            print(f"- {outcome.name} ({dims})\n    TA: {outcome.plan or outcome.error}")
            for metric, text in outcome.misses.items():
                print(f"    {metric}: {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synthetic", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--formats", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="output directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the output directory")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--family", action="append", default=[], help="only these families")
    parser.add_argument(
        "--max-events", type=int, default=MAX_EVENTS, help="cut formats to this many events"
    )
    parser.add_argument("--examples", type=int, default=2, help="misses shown per family")
    parser.add_argument(
        "--write-only",
        action="store_true",
        help="write the datasets and stop (feed them to bench.quality, tagen...)",
    )
    args = parser.parse_args(argv)
    if args.formats < 1 or args.jobs < 1 or args.max_events < 1:
        parser.error("--formats, --jobs and --max-events must be at least 1")
    unknown = sorted(set(args.family) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown family {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
    indices = [
        index
        for index in range(args.formats)
        if not args.family or family_of(args.seed, index) in args.family
    ]
    if not indices:
        parser.error(f"no format of the first {args.formats} is in {', '.join(args.family)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="tagen-synthetic-"))
    corpus, got = out / "corpus", out / "got"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(got, ignore_errors=True)
    if args.write_only:
        for index in indices:
            write(build(args.seed, index, max_events=args.max_events), corpus, seed=args.seed)
        print(f"{len(indices)} datasets written under {corpus}")
        return 0
    keep = args.keep or args.out is not None
    try:
        _run(args, indices, corpus, got)
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    if keep:
        print(f"datasets and TAs kept under {out}")
    return 0


def _run(args: argparse.Namespace, indices: list[int], corpus: Path, got: Path) -> None:
    started = time.perf_counter()
    work = partial(run_format, args.seed, corpus=corpus, got=got, max_events=args.max_events)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(work, indices))
    print(f"{len(outcomes)} synthetic formats, seed {args.seed}, scored with {scorer().__file__}\n")
    report(outcomes, args.examples)
    print(f"run time: {time.perf_counter() - started:.0f} s with {args.jobs} worker(s)")


if __name__ == "__main__":
    raise SystemExit(main())
