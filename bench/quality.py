"""Quality benchmark: generate a TA from half of each corpus dataset, score it on all of it.

    python -m bench.quality [--corpus ../shared/corpus] [--out out] [--collection C ...]

For every dataset (:func:`bench.harness.run_dataset`): the TA is generated from the first half of
``raw.log`` (by expected events: the file is cut where the first event of the second half
starts), then the sandbox applies it to the whole ``raw.log`` and writes
``out/<collection>/<dataset>/events.jsonl``; the scorer
(``../shared/tools/score.py``) prints its table, AppInspect (cloud precert) checks every package,
and the generation time of each dataset is printed. Nothing here knows any dataset by name.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.appinspect import BLOCKING, AppInspectError, checks_with, run_appinspect
from bench.harness import REPO, SHARED, read_expected, run_dataset, sample_of
from engine.generator.generate import generate_ta
from engine.generator.model import GenerationRequest

FULL_SIZE = 2000
"""Datasets this large are also generated from whole, for the generation-time goal."""


def _appinspect(package: Path) -> tuple[int, list[str]]:
    """(failure count, failing check names) of AppInspect's cloud precert on ``package``."""
    try:
        report = run_appinspect(
            package, report=package.with_suffix(".appinspect.json"), timeout_s=600
        )
    except AppInspectError as exc:
        return -1, [str(exc)]
    failures = [check.name for check in checks_with(report, BLOCKING)]
    return len(failures), failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "out")
    parser.add_argument("--collection", action="append", default=[])
    parser.add_argument("--no-appinspect", action="store_true")
    args = parser.parse_args(argv)
    roots = sorted(
        path.parent
        for path in args.corpus.glob("*/*/raw.log")
        if not args.collection or path.parent.parent.name in args.collection
    )
    runs = [run_dataset(root, args.out) for root in roots]
    score = [
        sys.executable,
        str(SHARED / "tools" / "score.py"),
        "--corpus",
        str(args.corpus),
        "--got-root",
        str(args.out),
    ]
    for collection in args.collection:
        score += ["--collection", collection]
    print(subprocess.run(score, capture_output=True, text=True, check=False).stdout)
    packages = [run.result.package for run in runs if run.result is not None]
    inspections: list[tuple[int, list[str]]] = []
    if not args.no_appinspect:
        with ThreadPoolExecutor(max_workers=2) as pool:
            inspections = list(pool.map(_appinspect, packages))
    print(f"{'dataset':<52} {'events':>6} {'train':>5} {'gen s':>6} {'check':>6} {'AI fail':>7}")
    failures_total = 0
    index = 0
    for run in runs:
        name = f"{run.collection}/{run.dataset}"
        if run.result is None:
            print(f"{name:<52} {run.events:>6} {run.train_events:>5} ERROR {run.error}")
            continue
        failed = inspections[index][0] if inspections else 0
        detail = ", ".join(inspections[index][1]) if inspections else ""
        index += 1
        failures_total += max(failed, 0)
        check = "PASS" if run.result.check.passed else "FAIL"
        print(
            f"{name:<52} {run.events:>6} {run.train_events:>5} {run.seconds:>6.2f} {check:>6} "
            f"{failed:>7} {detail}"
        )
    print(f"AppInspect failures: {failures_total} over {len(packages)} packages")
    slowest = max(runs, key=lambda run: run.seconds)
    print(f"slowest generation: {slowest.collection}/{slowest.dataset} {slowest.seconds:.2f} s")
    full = [root for root in roots if len(read_expected(root)) >= FULL_SIZE]
    if full:
        timings = [(*_full_generation_seconds(root, args.out), root) for root in full]
        wall, cpu, root = max(timings, key=lambda timing: timing[1])
        print(
            f"generation from a whole {FULL_SIZE:,}-event raw.log: max {cpu:.2f} s CPU "
            f"({wall:.2f} s wall, {root.parent.name}/{root.name}), "
            f"mean {sum(t[1] for t in timings) / len(timings):.2f} s CPU"
        )
    return 0


def _full_generation_seconds(root: Path, out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds to generate and self-check a TA from the whole ``raw.log``.

    CPU time is the one-core figure: wall time also counts whatever else the machine runs.
    """
    scratch = out / "_full" / root.parent.name / root.name
    shutil.rmtree(scratch, ignore_errors=True)
    request = GenerationRequest(samples=(sample_of(root)[0],), source_system=root.name)
    wall, cpu = time.perf_counter(), time.process_time()
    generate_ta(request, out_dir=scratch)
    return time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    raise SystemExit(main())
