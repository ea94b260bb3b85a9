"""The benchmark harness shared by ``bench.quality`` and ``bench.synthetic``.

One dataset in the corpus format of ``../shared/corpus/FORMAT.md`` is run the way a user meets
the generator: a TA is generated from the first half of the sample (cut where the first event of
the second half starts), then the sandbox applies it to the whole sample and writes the
``events.jsonl`` that ``../shared/tools/score.py`` scores. A dataset whose ``meta.json`` names a
``sample`` file (with its ``encoding`` and ``newline``) is fed that file instead of ``raw.log``:
``raw.log`` stays the UTF-8, LF view the scorer aligns against.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from engine.conf.ta import load_ta
from engine.generator.generate import generate_ta
from engine.generator.model import GenerationRequest, GenerationResult
from engine.sandbox.events_out import EventsWriter
from engine.sandbox.pipeline import run_sandbox
from engine.settings import SandboxSettings

REPO = Path(__file__).resolve().parents[1]
SHARED = next(
    (up / "shared" for up in REPO.parents if (up / "shared" / "tools" / "score.py").is_file()),
    REPO.parent / "shared",
)
"""``../shared`` of the main checkout, or of the directory holding a git worktree."""
SCORER = SHARED / "tools" / "score.py"


@dataclass
class Run:
    collection: str
    dataset: str
    events: int
    train_events: int
    seconds: float
    result: GenerationResult | None
    error: str = ""
    cpu_seconds: float = 0.0
    """Generation time on one core: wall time also counts whatever else the machine runs."""


def read_expected(root: Path) -> list[dict[str, object]]:
    with (root / "expected.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_meta(root: Path) -> dict[str, object]:
    path = root / "meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def train_text(raw: str, expected: list[dict[str, object]]) -> tuple[str, int]:
    """The head of ``raw`` holding the first half of the expected events (at least one)."""
    cut = (len(expected) + 1) // 2
    if cut >= len(expected):
        return raw, len(expected)
    position = 0
    for event in expected[:cut]:
        found = raw.find(str(event["raw"]), position)
        if found >= 0:
            position = found + len(str(event["raw"]))
    start = raw.find(str(expected[cut]["raw"]), position)
    if start < 0:
        return raw, len(expected)
    return raw[:start], cut


def sample_of(root: Path) -> tuple[Path, str, str]:
    """(file fed to the generator and the sandbox, its encoding, its line terminator)."""
    meta = read_meta(root)
    return (
        root / str(meta.get("sample", "raw.log")),
        str(meta.get("encoding", "utf-8")),
        str(meta.get("newline", "\n")),
    )


def run_dataset(root: Path, out: Path) -> Run:
    """Generate from the first half of ``root``'s sample, sandbox the whole of it into
    ``out/<collection>/<dataset>/events.jsonl``."""
    collection, dataset = root.parent.name, root.name
    raw = (root / "raw.log").read_text(encoding="utf-8")
    expected = read_expected(root)
    sample, encoding, newline = sample_of(root)
    work = out / collection / dataset
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    head, train_events = train_text(raw, expected)
    train = work / "train.log"
    train.write_bytes(head.replace("\n", newline).encode(encoding))
    request = GenerationRequest(samples=(train,), source_system=dataset)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = generate_ta(request, out_dir=work / "ta")
    except Exception as exc:  # the benchmark reports a failing dataset and goes on
        return Run(collection, dataset, len(expected), train_events, 0.0, None, repr(exc))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with EventsWriter(work / "events.jsonl") as writer:
        run_sandbox(
            ta=load_ta(result.ta_dir),
            samples=[sample],
            sourcetype=result.sourcetype,
            source=None,
            host=None,
            settings=SandboxSettings(),
            sinks=[writer],
        )
    return Run(collection, dataset, len(expected), train_events, seconds, result, "", cpu)


@cache
def scorer() -> ModuleType:
    """``../shared/tools/score.py`` as a module, unchanged (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("tagen_bench_score", SCORER)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"scorer not found: {SCORER}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
