"""Fidelity: TAs written by Splunk engineers, run by `tagen validate`, give their CIM values.

For every dataset of the corpus's ``splunk`` collection, the add-on and requirement sample it
came from are read from ``meta.json``; the sample's sourcetype/source/host and input type come
from the add-on's own ``pytest-splunk-addon-data.conf``. pytest-splunk-addon sends
``modinput`` samples through HEC's event endpoint, one request per event (no line breaking), and
streams ``syslog_tcp``/file samples as text; the test feeds ``tagen validate`` the same way: one
sample file per event through ``--input modinput`` for modinput, the whole raw.log otherwise.
``tagen validate --events-out`` writes the events and ``shared/tools/score.py`` scores them:
named recall must reach 0.95 per dataset. The shared directory sits beside the clone
(``<repo>/../shared``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.conf.parse import parse_conf
from tagen.cli import _register, app

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS = SHARED / "corpus" / "splunk"
ADDONS = SHARED / "fixtures" / "splunk-addons"
SCORER = SHARED / "tools" / "score.py"
MIN_NAMED_RECALL = 0.95
# The requirement samples date from 2020-2025: a clock near them keeps MAX_DAYS_AGO from
# rejecting their timestamps, as a Splunk indexing them at the time would have.
NOW = "2025-03-01T00:00:00+00:00"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() or not ADDONS.is_dir(),
    reason=f"{SHARED} (corpus/splunk and fixtures/splunk-addons) is not beside the clone",
)


@dataclass(frozen=True)
class Dataset:
    path: Path
    addon: Path
    sourcetype: str
    source: str | None
    host: str | None
    per_event: bool


def _addon_and_sample(meta: dict[str, str]) -> tuple[str, str]:
    """``owner/repo@commit:path`` -> (add-on folder name, sample file name)."""
    repo, _, rest = meta["source"].partition("@")
    sample_path = rest.partition(":")[2]
    if "/addons/" in sample_path:
        addon = sample_path.split("/addons/", 1)[1].split("/", 1)[0]
    else:
        addon = repo.split("/", 1)[1]
    return addon, sample_path.rsplit("/", 1)[-1]


def _dataset(folder: Path) -> Dataset:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    addon_name, sample = _addon_and_sample(meta)
    addon = ADDONS / addon_name
    for data_conf in sorted(addon.rglob("pytest-splunk-addon-data.conf")):
        conf = parse_conf(data_conf.read_text(encoding="utf-8"), path=str(data_conf))
        if sample in conf:
            stanza = conf.get(sample)
            host = stanza.get("host")
            return Dataset(
                path=folder,
                addon=addon,
                # What the events carry once indexed (the data conf's search sourcetype).
                sourcetype=stanza.get("sourcetype_to_search") or stanza["sourcetype"],
                source=stanza.get("source"),
                host=None if host in (None, "", "dynamic") else host,
                per_event=stanza.get("input_type", "default") == "modinput",
            )
    raise AssertionError(f"{addon_name}: no pytest-splunk-addon-data.conf stanza [{sample}]")


def _datasets() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(meta.parent for meta in CORPUS.glob("*/meta.json"))


def _samples(raw_log: Path, dataset: Dataset, tmp_path: Path) -> list[str]:
    """The sample files to validate: raw.log, or one file per event for HEC-sent samples."""
    if not dataset.per_event:
        return [str(raw_log)]
    folder = tmp_path / "hec_events"
    folder.mkdir()
    paths: list[str] = []
    lines = raw_log.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(line for line in lines if line.strip()):
        path = folder / f"event_{index:05d}.log"
        path.write_text(line + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def cli() -> CliRunner:
    if not any(command.name == "validate" for command in app.registered_commands):
        _register()
    return CliRunner()


def test_the_splunk_collection_is_present() -> None:
    assert _datasets(), f"no datasets under {CORPUS}"


@pytest.mark.parametrize("folder", _datasets(), ids=lambda folder: folder.name)
def test_named_recall_of_splunk_written_addons(
    folder: Path, cli: CliRunner, tmp_path: Path
) -> None:
    dataset = _dataset(folder)
    events = tmp_path / "splunk" / folder.name / "events.jsonl"
    args = ["validate", str(dataset.addon), *_samples(folder / "raw.log", dataset, tmp_path)]
    args += [
        "--sourcetype",
        dataset.sourcetype,
        "--events-out",
        str(events),
        "--now",
        NOW,
    ]
    if dataset.source:
        args += ["--source", dataset.source]
    if dataset.host:
        args += ["--host", dataset.host]
    if dataset.per_event:
        args += ["--input", "modinput"]
    result = cli.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    scored = subprocess.run(
        [sys.executable, str(SCORER), "--dataset", str(folder), "--got", str(events), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    row = json.loads(scored.stdout)
    assert row["events_exact"] == 1.0, row
    assert row["named_recall"] >= MIN_NAMED_RECALL, row
