"""Progress of long work (big samples, big documents) on stderr, driven by bytes read.

Shown on a terminal, or anywhere with ``--progress``; ``--no-progress`` hides it. It goes to
stderr only and disappears when the work ends, so stdout (``--json``) is never touched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="show progress on stderr (default: when stderr is a terminal)",
        show_default=False,
    ),
]
LINE_EVERY_S = 5.0


class _Lines:
    """Progress as a plain line every few seconds, for logs (``--progress`` off a terminal)."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.shown = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown >= LINE_EVERY_S:
            self.shown = now
            self.show()

    def show(self) -> None:
        done = filesize.decimal(self.done)
        if self.total:
            share = min(self.done / self.total, 1.0)
            line = f"{self.label}: {share:.0%} ({done} of {filesize.decimal(self.total)})"
        else:
            line = f"{self.label}: {done} read"
        print(line, file=sys.stderr, flush=True)


@contextmanager
def byte_progress(
    label: str, total: int | None, *, show: bool | None
) -> Iterator[Callable[[int], None]]:
    """A callback that advances a progress display by the bytes it is given.

    On a terminal, a rich progress bar that disappears at the end; with ``show`` True off a
    terminal, a line every few seconds and one at the end. ``show`` None means: only on a
    terminal. ``total`` None shows bytes and speed with no end (work that re-reads its input).
    """
    terminal = sys.stderr.isatty()
    if not (terminal if show is None else show):
        yield lambda count: None
        return
    if not terminal:
        lines = _Lines(label, total)
        yield lines.advance
        lines.show()
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        *([TimeRemainingColumn()] if total else []),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda count: progress.advance(task, count)
