"""A sample says what it is (path, URI or pasted text); staging reads it accordingly."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from tasks.errors import LifecycleError
from tasks.log_sample import SampleSpec, _stage_all


def _no_s3(uri: str, destination: Path) -> None:
    raise AssertionError("no S3 here")


def _stage(specs: list[SampleSpec], tmp_path: Path, download_s3=_no_s3):
    work = tmp_path / "work"
    work.mkdir()
    return _stage_all(specs, work, max_bytes=1 << 20, download_s3=download_s3)


def test_plain_strings_are_paths_or_uris_never_text():
    adapter = TypeAdapter(list[SampleSpec])
    specs = adapter.validate_python(
        ["logs/a.log", "s3://bucket/a.log", "file:///tmp/a.log", "2024-01-01 one line\n"]
    )
    assert [(s.kind, s.value) for s in specs] == [
        ("path", "logs/a.log"),
        ("uri", "s3://bucket/a.log"),
        ("uri", "file:///tmp/a.log"),
        ("path", "2024-01-01 one line\n"),
    ]
    pasted = adapter.validate_python([{"kind": "text", "value": "one line"}])
    assert pasted == [SampleSpec.pasted("one line")]
    with pytest.raises(ValidationError):
        adapter.validate_python([{"kind": "blob", "value": "x"}])
    with pytest.raises(ValidationError):
        SampleSpec.pasted("")


def test_a_pasted_one_line_sample_is_stored_as_text(tmp_path: Path):
    """It used to be taken for a path and reported as a missing file."""
    [staged] = _stage([SampleSpec.pasted("2024-01-01T00:00:00Z host app: started")], tmp_path)
    assert staged.filename == "01-pasted-1.log"
    assert staged.path.read_text() == "2024-01-01T00:00:00Z host app: started"
    assert staged.preview.startswith("2024-01-01T00:00:00Z")


def test_paths_and_file_uris_are_copied_and_named_after_their_file(tmp_path: Path):
    source = tmp_path / "app server.log"
    source.write_text("a=1\nb=2\n")
    staged = _stage(
        [SampleSpec.location(str(source)), SampleSpec.location(source.as_uri())], tmp_path
    )
    assert [s.filename for s in staged] == ["01-app_server.log", "02-app_server.log"]
    assert all(s.path.read_text() == "a=1\nb=2\n" for s in staged)


def test_s3_uris_go_through_the_provided_download(tmp_path: Path):
    fetched: list[str] = []

    def download(uri: str, destination: Path) -> None:
        fetched.append(uri)
        destination.write_text("x=1\n")

    [staged] = _stage([SampleSpec.location("s3://uploads/team/app.log")], tmp_path, download)
    assert fetched == ["s3://uploads/team/app.log"] and staged.filename == "01-app.log"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SampleSpec.location("/nonexistent/a.log"), "file not found"),
        (SampleSpec.location("http://example.org/a.log"), "unsupported URI scheme"),
    ],
)
def test_bad_samples_are_named(tmp_path: Path, spec: SampleSpec, message: str):
    with pytest.raises(LifecycleError, match=message):
        _stage([spec], tmp_path)
