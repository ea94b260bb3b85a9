from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from engine.conf.ta import TA, write_ta
from engine.packaging.archive import build_package
from engine.sandbox.report import ValidationReport
from engine.sandbox.validate import validate_package
from engine.settings import SandboxSettings


def _ta() -> TA:
    ta = TA(app_id="TA-example-kv", version="1.0.0", label="Example KV", author="tests")
    ta.props.set("example:kv", "SHOULD_LINEMERGE", "false")
    ta.props.set("example:kv", "TIME_PREFIX", "^")
    ta.props.set("example:kv", "TIME_FORMAT", "%Y-%m-%dT%H:%M:%S%z")
    ta.props.set("example:kv", "EXTRACT-action", "action=(?<action>\\w+)")
    return ta


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "kv.log"
    path.write_text(
        "2024-01-01T00:00:00+0000 action=allowed\n2024-01-01T00:00:01+0000 action=blocked\n",
        encoding="utf-8",
    )
    return path


def _validate(ta_path: Path, sample: Path, bundle: Path | None = None) -> ValidationReport:
    return validate_package(
        ta_path,
        [sample],
        sourcetype="example:kv",
        source=None,
        host=None,
        settings=SandboxSettings(),
        bundle=bundle,
    )


def test_folder_and_archive_give_the_same_report(tmp_path: Path, sample: Path) -> None:
    folder = write_ta(_ta(), tmp_path / "src")
    archive = build_package(folder, tmp_path / "dist").path
    from_folder = _validate(folder, sample)
    from_archive = _validate(archive, sample)
    assert from_folder == from_archive
    assert from_folder.events == 2


def test_bundle_is_written_only_when_asked(tmp_path: Path, sample: Path) -> None:
    folder = write_ta(_ta(), tmp_path / "src")
    bundle = tmp_path / "out" / "bundle.zip"
    _validate(folder, sample)
    assert not bundle.exists()
    bundle.parent.mkdir()
    _validate(folder, sample, bundle)
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
    assert "report.json" in names
    assert any(name.startswith("samples/") for name in names)


def test_missing_ta_is_a_clear_error(tmp_path: Path, sample: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        _validate(tmp_path / "missing", sample)
