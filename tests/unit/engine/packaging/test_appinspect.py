"""Every package we build must pass Splunk AppInspect's cloud precert checks (an external tool)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.conf.ta import TA, write_ta
from engine.packaging.archive import build_package

pytestmark = pytest.mark.appinspect


def _appinspect() -> str:
    beside = Path(sys.executable).parent / "splunk-appinspect"
    found = str(beside) if beside.exists() else shutil.which("splunk-appinspect")
    if found is None:
        pytest.skip("splunk-appinspect is not installed (dev extra)")
    return found


def _non_passing(report: dict[str, object]) -> list[str]:
    out: list[str] = []
    for app in report["reports"]:  # type: ignore[attr-defined]
        for group in app["groups"]:
            for check in group["checks"]:
                if check["result"] in ("failure", "error", "warning", "manual_check_required"):
                    messages = "; ".join(m["message"][:200] for m in check["messages"])
                    out.append(f"{check['result']} {check['name']}: {messages}")
    return out


def _with_custom_conf(ta: TA) -> TA:
    ta.conf("example_settings").set("general", "poll_interval", "60")
    ta.readme = "# Example Firewall\n\nSearch-time extractions for example:fw.\n"
    return ta


@pytest.mark.parametrize("variant", [lambda ta: ta, _with_custom_conf], ids=["plain", "custom"])
def test_built_package_passes_appinspect_cloud_precert(
    tmp_path: Path, example_ta: TA, variant: Callable[[TA], TA]
) -> None:
    ta_dir = write_ta(variant(example_ta), tmp_path / "src")
    package = build_package(ta_dir, tmp_path / "out")
    result_file = tmp_path / "appinspect.json"
    completed = subprocess.run(
        [
            _appinspect(),
            "inspect",
            str(package.path),
            "--mode",
            "precert",
            "--included-tags",
            "cloud",
            "--data-format",
            "json",
            "--output-file",
            str(result_file),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result_file.exists(), completed.stdout[-2000:] + completed.stderr[-2000:]
    report = json.loads(result_file.read_text())
    summary = report["summary"]
    findings = _non_passing(report)
    assert summary["failure"] == 0, findings
    assert summary["error"] == 0, findings
    assert summary["success"] > 0
    # Warnings are not blocking for AppInspect, but ours should be clean too.
    assert summary["warning"] == 0, findings
