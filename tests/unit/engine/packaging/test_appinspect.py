"""Every package we build must pass Splunk AppInspect's cloud precert checks (an external tool)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.appinspect import (
    BLOCKING,
    appinspect_executable,
    checks_with,
    run_appinspect,
)
from engine.conf.ta import TA, write_ta
from engine.packaging.archive import build_package

pytestmark = pytest.mark.appinspect


def _non_passing(report: Mapping[str, Any]) -> list[str]:
    results = ("failure", "error", "warning", "manual_check_required")
    return [
        f"{check.result} {check.name}: {'; '.join(m[:200] for m in check.messages)}"
        for check in checks_with(report, results)
    ]


def _with_custom_conf(ta: TA) -> TA:
    ta.conf("example_settings").set("general", "poll_interval", "60")
    ta.readme = "# Example Firewall\n\nSearch-time extractions for example:fw.\n"
    return ta


@pytest.mark.parametrize("variant", [lambda ta: ta, _with_custom_conf], ids=["plain", "custom"])
def test_built_package_passes_appinspect_cloud_precert(
    tmp_path: Path, example_ta: TA, variant: Callable[[TA], TA]
) -> None:
    if appinspect_executable() is None:
        pytest.skip("splunk-appinspect is not installed (dev extra)")
    ta_dir = write_ta(variant(example_ta), tmp_path / "src")
    package = build_package(ta_dir, tmp_path / "out")
    report = run_appinspect(package.path, report=tmp_path / "appinspect.json", timeout_s=300)
    summary = report["summary"]
    findings = _non_passing(report)
    assert summary["failure"] == 0, findings
    assert summary["error"] == 0, findings
    assert summary["success"] > 0
    # Warnings are not blocking for AppInspect, but ours should be clean too.
    assert summary["warning"] == 0, findings


def test_checks_with_picks_results_in_report_order() -> None:
    report = {
        "reports": [
            {
                "groups": [
                    {
                        "checks": [
                            {"name": "a", "result": "success", "messages": []},
                            {"name": "b", "result": "failure", "messages": [{"message": "m1"}]},
                        ]
                    },
                    {"checks": [{"name": "c", "result": "error", "messages": []}]},
                    {"checks": [{"name": "d", "result": "warning", "messages": []}]},
                ]
            }
        ]
    }
    assert [(c.name, c.result, c.messages) for c in checks_with(report, BLOCKING)] == [
        ("b", "failure", ("m1",)),
        ("c", "error", ()),
    ]
