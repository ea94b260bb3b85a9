"""Splunk AppInspect (the external ``splunk-appinspect`` tool) run on a built package.

Splunk Cloud accepts an add-on only if AppInspect's cloud precert checks pass; the package tests
and the quality benchmark both run it this way and read its JSON report the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXECUTABLE = "splunk-appinspect"
BLOCKING = frozenset({"failure", "error"})
"""Check results that keep a package out of Splunk Cloud."""


class AppInspectError(RuntimeError):
    """AppInspect is not installed or produced no report."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    result: str
    messages: tuple[str, ...]


def appinspect_executable() -> str | None:
    """The tool beside this interpreter (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / EXECUTABLE
    return str(beside) if beside.exists() else shutil.which(EXECUTABLE)


def run_appinspect(package: Path, *, report: Path, timeout_s: float) -> dict[str, Any]:
    """AppInspect's cloud precert report on ``package`` (written to ``report`` and loaded)."""
    executable = appinspect_executable()
    if executable is None:
        raise AppInspectError(f"{EXECUTABLE} is not installed (dev extra)")
    command = [
        executable,
        "inspect",
        str(package),
        "--mode",
        "precert",
        "--included-tags",
        "cloud",
        "--data-format",
        "json",
        "--output-file",
        str(report),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if not report.is_file():
        output = " ".join((completed.stdout[-2000:] + completed.stderr[-2000:]).split())
        raise AppInspectError(f"{EXECUTABLE} produced no report for {package}: {output}")
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def checks_with(report: Mapping[str, Any], results: Collection[str]) -> list[CheckResult]:
    """The checks of ``report`` whose result is one of ``results``, in report order."""
    found: list[CheckResult] = []
    for app in report.get("reports", []):
        for group in app.get("groups", []):
            for check in group.get("checks", []):
                if check.get("result") in results:
                    found.append(
                        CheckResult(
                            name=str(check.get("name")),
                            result=str(check.get("result")),
                            messages=tuple(
                                str(m.get("message", "")) for m in check.get("messages", [])
                            ),
                        )
                    )
    return found
