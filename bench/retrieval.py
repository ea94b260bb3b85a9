"""Retrieval benchmark: does a sample find the stanzas of the add-on written for it?

    python -m bench.retrieval [--addons ../shared/fixtures/splunk-addons]
        [--corpus ../shared/corpus] [--collection splunk] [--k 5] [--dimensions 1024 ...]
        [--no-minilm] [--embedder-factory module:callable ...] [--database-url URL] [--misses]

The knowledge base is what a knowledge manager would load: every add-on folder of `--addons`,
packaged as a TA archive (without `pytest-splunk-addon-data.conf`, the test framework's answer
key, and with a minimal `app.conf` where the add-on has none), plus tagen's built-in pack, all
indexed by the real indexing task (full-text chunks and vectors, pgvector). The queries are the
samples of the corpus collections whose `meta.json` names a pytest-splunk-addon sample: each
event alone, and each sample's head as the lifecycle sends it (first 2,000 characters). The
right answer for a sample is a chunk of its add-on that names the sample's sourcetype (the
`sourcetype` or `sourcetype_to_search` its add-on's data conf gives that sample file). Printed:
recall@k (a right chunk in the top k) and MRR, for full-text, vector and hybrid retrieval, per
embedder: the hashing embedder (at each `--dimensions`) and, when the `[onnx]` extra is
installed, MiniLM. A throw-away embedded PostgreSQL (under a scratch TAGEN_HOME) is used unless
`--database-url` names a scratch database (it is migrated and filled).
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import dataclasses
import importlib
import importlib.util
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import SHARED
from storage.vectors import Embedder, HashingEmbedder
from tasks.backends import Backends

ANSWER_KEY = "pytest-splunk-addon-data.conf"
SAMPLE_HEAD_CHARS = 2000
_SAMPLE_SOURCE = re.compile(r"^(?P<repo>[^@]+)@[0-9a-f]+:(?P<path>.+)$")


@dataclass(frozen=True)
class Query:
    dataset: str
    kind: str  # "event" or "sample"
    text: str
    addon: str
    sourcetypes: frozenset[str]


def _sourcetypes(addon_dir: Path, sample_file: str) -> frozenset[str]:
    """The sourcetypes the add-on's data conf gives `sample_file` (empty when it names none)."""
    found: set[str] = set()
    for conf in addon_dir.rglob(ANSWER_KEY):
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.read_string(conf.read_text(encoding="utf-8", errors="replace"))
        if parser.has_section(sample_file):
            for key in ("sourcetype", "sourcetype_to_search"):
                value = parser.get(sample_file, key, fallback="").strip()
                if value:
                    found.add(value)
    return frozenset(found)


def load_queries(corpus: Path, collections: Sequence[str], addons: Path) -> list[Query]:
    """Queries of every dataset whose source is a sample file of one of the add-ons."""
    queries: list[Query] = []
    for meta_path in sorted(corpus.glob("*/*/meta.json")):
        root = meta_path.parent
        if collections and root.parent.name not in collections:
            continue
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        parsed = _SAMPLE_SOURCE.match(str(meta.get("source", "")))
        if parsed is None:
            continue
        parts = Path(parsed["path"]).parts
        # .../addons/<addon>/samples/<file> inside a repository of add-ons, else the repository.
        addon = parts[parts.index("addons") + 1] if "addons" in parts else parsed["repo"]
        addon = Path(addon).name
        sourcetypes = _sourcetypes(addons / addon, Path(parsed["path"]).name)
        if not (addons / addon).is_dir() or not sourcetypes:
            continue
        raw = (root / "raw.log").read_text(encoding="utf-8")
        for line in raw.splitlines():
            if line.strip():
                queries.append(Query(root.name, "event", line, addon, sourcetypes))
        queries.append(Query(root.name, "sample", raw[:SAMPLE_HEAD_CHARS], addon, sourcetypes))
    return queries


def package_addon(addon_dir: Path, out_dir: Path) -> Path:
    """`addon_dir` as a TA archive, without the answer key; an `app.conf` added if missing."""
    archive = out_dir / f"{addon_dir.name}.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(addon_dir.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.name != ANSWER_KEY:
                tar.add(path, arcname=f"{addon_dir.name}/{path.relative_to(addon_dir)}")
        if not (addon_dir / "default" / "app.conf").is_file():
            stub = out_dir / f"{addon_dir.name}.app.conf"
            stub.write_text(f"[package]\nid = {addon_dir.name}\n\n[ui]\nlabel = {addon_dir.name}\n")
            tar.add(stub, arcname=f"{addon_dir.name}/default/app.conf")
    return archive


def is_right(query: Query, title: str, text: str) -> bool:
    if not title.startswith(f"{query.addon} > "):
        return False
    return any(st in title or st in text for st in query.sourcetypes)


@contextmanager
def scratch_database(url: str | None) -> Iterator[None]:
    """DATABASE_URL = `url`, or tagen's own embedded PostgreSQL under a scratch TAGEN_HOME
    (started and provisioned as in production, stopped and removed afterwards); migrated."""
    from storage.db import embedded, migrate
    from storage.db.session import get_migration_url
    from storage.settings import clear_settings_cache, get_storage_settings

    if url:
        os.environ["DATABASE_URL"] = url
        clear_settings_cache()
        migrate.upgrade("head", url=url)
        yield
        return
    home = Path(tempfile.mkdtemp(prefix="tagen-bench-home-"))
    home.chmod(0o711)  # the embedded server's own OS user must reach its data directory
    os.environ["TAGEN_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    clear_settings_cache()
    try:
        migrate.upgrade("head", url=get_migration_url())
        yield
    finally:
        embedded.stop(get_storage_settings().pgdata)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Score:
    hits: int = 0
    reciprocal: float = 0.0
    total: int = 0

    def add(self, rank: int | None) -> None:
        self.total += 1
        if rank is not None:
            self.hits += 1
            self.reciprocal += 1.0 / rank

    def __str__(self) -> str:
        if not self.total:
            return "-"
        recall, mrr = self.hits / self.total, self.reciprocal / self.total
        return f"{recall:.2f} ({self.hits}/{self.total}) {mrr:.2f}"


async def _knowledge_base(addons: Path, workdir: Path) -> tuple[list[str], int]:
    from tasks.knowledge_document import builtin_pack, register_document

    ids: list[str] = []
    for addon_dir in sorted(p for p in addons.iterdir() if (p / "default").is_dir()):
        archive = package_addon(addon_dir, workdir)
        document_id, _ = await register_document(archive, kind="ta_archive", title=addon_dir.name)
        ids.append(document_id)
    for path in builtin_pack():
        document_id, _ = await register_document(
            Path(path), kind="markdown", title=Path(path).stem.replace("_", " ")
        )
        ids.append(document_id)
    return ids, len(ids)


def _install(wired: Backends, embedder: Embedder) -> None:
    """tagen's wiring, with `embedder` and its pgvector namespace, for the tasks."""
    from storage.vectors import VectorStoreSettings
    from tagen.wiring import build_vector_store
    from tasks import backends as task_backends

    store = build_vector_store(VectorStoreSettings(kind="pgvector"), embedder)
    task_backends.install(dataclasses.replace(wired, embedder=embedder, vectors=store))


async def _evaluate(
    embedder: Embedder, document_ids: Sequence[str], queries: Sequence[Query], k: int, misses: bool
) -> dict[tuple[str, str], Score]:
    from tasks.knowledge_document import index_document
    from tasks.retrieval import RETRIEVAL_MODES, search_knowledge

    for document_id in document_ids:
        await index_document.fn(document_id)
    scores: dict[tuple[str, str], Score] = {}
    for mode in RETRIEVAL_MODES:
        for query in queries:
            found = await search_knowledge(query.text, limit=k, mode=mode)  # type: ignore[arg-type]
            rank = next(
                (n for n, s in enumerate(found, 1) if is_right(query, s.title, s.text)), None
            )
            scores.setdefault((mode, query.kind), Score()).add(rank)
            if misses and rank is None:
                top = found[0].title if found else "nothing"
                print(f"  miss {embedder.name} {mode} {query.dataset} {query.kind}: top = {top}")
    return scores


def _factory(spec: str) -> Callable[[], Embedder]:
    module, _, attribute = spec.partition(":")
    factory: Callable[[], Embedder] = getattr(importlib.import_module(module), attribute)
    return factory


async def _run(args: argparse.Namespace, queries: list[Query]) -> None:
    from storage.objects import ObjectStoreSettings
    from tagen.wiring import build_backends

    embedders: list[Embedder] = [HashingEmbedder(d) for d in args.dimensions]
    if args.minilm and importlib.util.find_spec("onnxruntime") is not None:
        from storage.vectors.minilm import MiniLMEmbedder

        embedders.append(MiniLMEmbedder())
    elif args.minilm:
        print("MiniLM left out: the [onnx] extra is not installed")
    embedders += [_factory(spec)() for spec in args.embedder_factory]
    with tempfile.TemporaryDirectory(prefix="tagen-bench-retrieval-") as tmp:
        workdir = Path(tmp)
        wired = build_backends(ObjectStoreSettings(url=str(workdir / "objects")))
        _install(wired, embedders[0])
        document_ids, count = await _knowledge_base(args.addons, workdir)
        events = sum(q.kind == "event" for q in queries)
        samples = sum(q.kind == "sample" for q in queries)
        print(
            f"knowledge base: {count} documents; queries: {events} events and {samples} sample "
            f"heads of {len({q.dataset for q in queries})} datasets; "
            f"recall@{args.k} (hits/queries) MRR@{args.k}"
        )
        print(f"{'embedder':<28} {'mode':<9} {'events':<22} {'sample heads':<22}")
        for embedder in embedders:
            _install(wired, embedder)
            scores = await _evaluate(embedder, document_ids, queries, args.k, args.misses)
            for mode in ("fulltext", "vector", "hybrid"):
                print(
                    f"{embedder.name:<28} {mode:<9} {scores[(mode, 'event')]!s:<22} "
                    f"{scores[(mode, 'sample')]!s:<22}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addons", type=Path, default=SHARED / "fixtures" / "splunk-addons")
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--collection", action="append", default=[])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--dimensions", type=int, action="append", default=[])
    parser.add_argument("--no-minilm", dest="minilm", action="store_false")
    parser.add_argument(
        "--embedder-factory",
        action="append",
        default=[],
        help="module:callable returning an Embedder, benchmarked beside the hashing embedder",
    )
    parser.add_argument("--database-url", default=None, help="a scratch database (migrated)")
    parser.add_argument("--misses", action="store_true", help="print each query that missed")
    args = parser.parse_args(argv)
    args.dimensions = args.dimensions or [1024]
    queries = load_queries(args.corpus, args.collection, args.addons)
    if not queries:
        parser.error(f"no corpus sample of {args.corpus} comes from an add-on of {args.addons}")
    from storage.db.session import dispose_engine

    with scratch_database(args.database_url):

        async def run() -> None:
            try:
                await _run(args, queries)
            finally:
                await dispose_engine()

        asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
