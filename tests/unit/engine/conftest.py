"""Helpers for engine tests that must not hang on special files."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HANG_SECONDS = 10


@pytest.fixture
def without_hanging() -> Callable[[Callable[[], Any], Path], BaseException | None]:
    """Run ``action`` in a thread and fail if it is still blocked after HANG_SECONDS; returns
    what it raised (None: it returned). A reader stuck on the FIFO ``fifo`` is released
    afterwards by opening its writing end, so the thread does not outlive the test."""

    def run(action: Callable[[], Any], fifo: Path) -> BaseException | None:
        outcome: list[BaseException | None] = []

        def target() -> None:
            try:
                action()
            except BaseException as exc:
                outcome.append(exc)
            else:
                outcome.append(None)

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(HANG_SECONDS)
        if thread.is_alive():
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # unblocks open() for reading
            thread.join(HANG_SECONDS)
            pytest.fail(f"blocked on the FIFO {fifo} for {HANG_SECONDS} s")
        return outcome[0]

    return run
