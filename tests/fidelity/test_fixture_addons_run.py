"""Every plain sample of the Splunk-written fixture add-ons runs through the sandbox cleanly.

The add-ons' props/transforms use the settings real TAs use (index-time transforms, line
breakers, INDEXED_EXTRACTIONS, lookups...). Each sample named in an add-on's
``pytest-splunk-addon-data.conf`` is applied with that stanza's sourcetype: the run must finish
(no exception, no setting the sandbox cannot apply), produce events and a verdict.
Requirement XML samples are covered by test_splunk_addons.py through the corpus.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import load_ta
from engine.sandbox.pipeline import run_sandbox
from engine.settings import SandboxSettings

ADDONS = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "splunk-addons"

pytestmark = pytest.mark.skipif(not ADDONS.is_dir(), reason=f"{ADDONS} is not beside the clone")


def _plain_samples() -> list[tuple[Path, Path, str]]:
    """(add-on, sample file, sourcetype) for every non-XML sample a data conf names."""
    found: list[tuple[Path, Path, str]] = []
    if not ADDONS.is_dir():
        return found
    for data_conf in sorted(ADDONS.glob("*/**/pytest-splunk-addon-data.conf")):
        addon = ADDONS / data_conf.relative_to(ADDONS).parts[0]
        conf = parse_conf(data_conf.read_text(encoding="utf-8"), path=str(data_conf))
        for name in conf.names():
            sample = data_conf.parent.parent / "samples" / name
            sourcetype = conf.get(name).get("sourcetype", "").strip()
            if sample.is_file() and sample.suffix != ".xml" and sourcetype:
                found.append((addon, sample, sourcetype))
    return found


@pytest.mark.parametrize(
    ("addon", "sample", "sourcetype"),
    _plain_samples(),
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_fixture_sample_runs_to_a_verdict(addon: Path, sample: Path, sourcetype: str) -> None:
    result = run_sandbox(
        ta=load_ta(addon),
        samples=[sample],
        sourcetype=sourcetype,
        source=None,
        host=None,
        settings=SandboxSettings(now=datetime(2025, 3, 1, tzinfo=UTC)),
    )
    report = result.report
    assert report.config_errors == []  # Splunk applies these add-ons, so must the sandbox
    assert report.events > 0, report.warnings
    assert report.verdict in ("PASSED", "FAILED")
    assert report.samples[0].sourcetype == sourcetype


def test_there_are_fixture_samples_to_run() -> None:
    assert len(_plain_samples()) >= 10
