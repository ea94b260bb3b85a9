"""Peak memory of checking a big knowledge document: streamed now, read whole before.

    python -m bench.knowledge_memory [--mib 1024]

`knowledge add` checks and hashes a document (``engine.knowledge.documents``) before the object
store copies it in chunks (storage's ``put_stream``, streamed already); the hashing is what read
the whole file before. Each way runs in a fresh process on the same file (a PDF header, then
zeros); the table gives the peak resident memory after the imports and at the end, so the
difference is what the document cost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(way: str, document: Path) -> None:
    from engine.knowledge.documents import check_document

    size = document.stat().st_size
    before = _peak_mib()
    start = time.perf_counter()
    if way == "streamed":
        check_document(document, kind="pdf", max_bytes=size)
    else:  # what register_document did before: the whole file in memory to hash it
        hashlib.sha256(document.read_bytes()).hexdigest()
    seconds = time.perf_counter() - start
    print(json.dumps({"before": before, "peak": _peak_mib(), "seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="document size in MiB")
    parser.add_argument("--child", nargs=2, metavar=("WAY", "DOCUMENT"))
    args = parser.parse_args()
    if args.child:
        way, document = args.child
        _child(way, Path(document))
        return
    with tempfile.TemporaryDirectory(prefix="tagen-bench-") as tmp:
        document = Path(tmp) / "big.pdf"
        with document.open("wb") as handle:
            handle.write(b"%PDF-1.4\n")
            handle.truncate(args.mib << 20)  # sparse: read as zeros, no disk used
        print(f"document {args.mib} MiB")
        print(
            f"{'way':<12} {'after imports':>14} {'peak':>10} {'document cost':>14} {'seconds':>8}"
        )
        for way in ("streamed", "read whole"):
            command = [sys.executable, "-m", "bench.knowledge_memory", "--child"]
            done = subprocess.run(
                [*command, way, str(document)],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            cost = figures["peak"] - figures["before"]
            print(
                f"{way:<12} {figures['before']:>10.0f} MiB {figures['peak']:>6.0f} MiB "
                f"{cost:>10.0f} MiB {figures['seconds']:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
