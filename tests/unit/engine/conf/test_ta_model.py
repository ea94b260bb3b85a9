from __future__ import annotations

import os
import stat
import tracemalloc
from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import (
    MAX_MEMBER_BYTES,
    TA,
    AppConf,
    InvalidTAError,
    TaLimits,
    load_ta,
    validate_version,
    write_ta,
)

FIXTURES = Path(__file__).resolve().parents[5] / "shared" / "fixtures" / "splunk-addons"


def make_ta() -> TA:
    ta = TA(
        app_id="TA-acme-web",
        version="1.2.3",
        label="Acme Web Add-on",
        description="Field extractions for\nAcme web logs",
        author="Platform team",
    )
    ta.props.set("acme:web", "SHOULD_LINEMERGE", "false")
    ta.props.set("acme:web", "REPORT-kv", "acme_kv")
    ta.transforms.set("acme_kv", "REGEX", "(\\w+)=(\\S+)")
    ta.transforms.set("acme_kv", "FORMAT", "$1::$2")
    ta.eventtypes.set("acme_web", "search", "sourcetype=acme:web")
    ta.tags.set("eventtype=acme_web", "web", "enabled")
    ta.lookups["acme_status.csv"] = b"status,description\n200,OK\n"
    ta.extra_files["samples/acme.log"] = b"user=bob action=login\n"
    return ta


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    folder = write_ta(make_ta(), tmp_path)
    assert folder == tmp_path / "TA-acme-web"
    loaded = load_ta(folder)
    assert (loaded.app_id, loaded.version, loaded.label) == (
        "TA-acme-web",
        "1.2.3",
        "Acme Web Add-on",
    )
    assert loaded.description == "Field extractions for Acme web logs"
    assert loaded.props.get("acme:web") == {"SHOULD_LINEMERGE": "false", "REPORT-kv": "acme_kv"}
    assert loaded.transforms.get("acme_kv")["FORMAT"] == "$1::$2"
    assert loaded.tags.get("eventtype=acme_web") == {"web": "enabled"}
    assert loaded.lookups == {"acme_status.csv": b"status,description\n200,OK\n"}
    assert loaded.extra_files == {"samples/acme.log": b"user=bob action=login\n"}
    assert loaded.readme.startswith("# Acme Web Add-on")


def test_written_layout_app_conf_meta_and_modes(tmp_path: Path) -> None:
    folder = write_ta(make_ta(), tmp_path)
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    assert names == [
        "README.md",
        "app.manifest",
        "default",
        "default/app.conf",
        "default/eventtypes.conf",
        "default/props.conf",
        "default/tags.conf",
        "default/transforms.conf",
        "lookups",
        "lookups/acme_status.csv",
        "metadata",
        "metadata/default.meta",
        "samples",
        "samples/acme.log",
    ]
    app = parse_conf((folder / "default/app.conf").read_text())
    assert app.get("id") == {"name": "TA-acme-web", "version": "1.2.3"}
    assert app.get("package") == {"id": "TA-acme-web", "check_for_updates": "false"}
    assert app.get("ui") == {"is_visible": "false", "label": "Acme Web Add-on"}
    assert app.get("launcher")["version"] == "1.2.3"
    assert app.get("install") == {"is_configured": "false", "state": "enabled", "build": "1"}
    meta = parse_conf((folder / "metadata/default.meta").read_text())
    assert meta.get("")["access"] == "read : [ * ], write : [ admin, sc_admin ]"
    for path in folder.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), path


def test_load_layers_local_over_default(tmp_path: Path) -> None:
    (tmp_path / "TA-x" / "default").mkdir(parents=True)
    (tmp_path / "TA-x" / "local").mkdir()
    (tmp_path / "TA-x/default/props.conf").write_text("[st]\nA = 1\nB = 2\n")
    (tmp_path / "TA-x/local/props.conf").write_text("[st]\nB = 3\n[other]\nC = 4\n")
    (tmp_path / "TA-x/local/transforms.conf").write_text("[t]\nREGEX = x\n")
    (tmp_path / "TA-x/.DS_Store").write_bytes(b"\0")
    ta = load_ta(tmp_path / "TA-x")
    assert ta.app_id == "TA-x"
    assert ta.props.get("st") == {"A": "1", "B": "3"}
    assert ta.props.get("other") == {"C": "4"}
    assert ta.transforms.get("t") == {"REGEX": "x"}
    assert ta.extra_files == {}
    assert ta.props.location("st", "A") == ("default/props.conf", 2)
    assert ta.props.location("st", "B") == ("local/props.conf", 2)
    assert ta.props.location("other") == ("local/props.conf", 3)
    assert ta.props.location("st") == ("default/props.conf", 1)


def test_load_reads_the_shared_fixture_add_ons() -> None:
    if not FIXTURES.is_dir():
        pytest.skip("shared fixtures not present")
    ta = load_ta(FIXTURES / "TA_fiction")
    assert (ta.app_id, ta.version) == ("TA_fiction", "0.0.0-dev")
    assert "ta_fiction_splund_component.csv" in ta.lookups
    assert ta.props.names()


def test_load_rejects_non_utf8_conf(tmp_path: Path) -> None:
    (tmp_path / "default").mkdir()
    (tmp_path / "default/props.conf").write_bytes(b"[st]\nA = \xff\xfe\x00\n")
    with pytest.raises(InvalidTAError, match=r"default/props.conf: not UTF-8"):
        load_ta(tmp_path)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0.0", "", "1.0.0-01"])
def test_versions_must_be_semver(version: str) -> None:
    with pytest.raises(InvalidTAError, match="semantic versioning"):
        validate_version(version)


@pytest.mark.parametrize("version", ["0.0.1", "1.2.3-rc.1", "10.20.30+build.5"])
def test_semver_versions_accepted(version: str) -> None:
    assert validate_version(version) == version


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": "1.0"}, "semantic versioning"),
        ({"app_id": "1-bad"}, "must start with a letter"),
        ({"app_id": "TA acme"}, "must start with a letter"),
        ({"app_id": "TA-acme."}, "not end with"),
        ({"app_id": "search"}, "reserved"),
        ({"app_id": "COM1"}, "reserved"),
        ({"label": " "}, "label is empty"),
        ({"build": 0}, "positive integer"),
    ],
)
def test_invalid_app_conf_is_refused(change: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"app_id": "TA-ok", "version": "1.0.0", "label": "OK"}
    values.update(change)
    with pytest.raises(InvalidTAError, match=message):
        AppConf(**values).validate()  # type: ignore[arg-type]


def test_write_refuses_bad_models_and_leaves_nothing(tmp_path: Path) -> None:
    ta = make_ta()
    ta.props.set("default", "TZ", "UTC")
    with pytest.raises(InvalidTAError, match=r"\[default\]"):
        write_ta(ta, tmp_path)
    ta = make_ta()
    ta.extra_files["local/props.conf"] = b""
    with pytest.raises(InvalidTAError, match="not allowed"):
        write_ta(ta, tmp_path)
    ta = make_ta()
    ta.extra_files["../escape"] = b""
    with pytest.raises(InvalidTAError, match="relative path"):
        write_ta(ta, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_an_existing_folder(tmp_path: Path) -> None:
    write_ta(make_ta(), tmp_path)
    with pytest.raises(InvalidTAError, match="already exists"):
        write_ta(make_ta(), tmp_path)


def test_app_conf_keeps_other_loaded_settings(tmp_path: Path) -> None:
    ta = make_ta()
    ta.conf("app").set("triggers", "reload.addon_builder", "simple")
    ta.conf("app").set("id", "version", "0.0.1")
    folder = write_ta(ta, tmp_path)
    app = parse_conf((folder / "default/app.conf").read_text())
    assert app.get("triggers") == {"reload.addon_builder": "simple"}
    assert app.get("id")["version"] == "1.2.3"


def test_custom_confs_get_a_reload_trigger_and_splunk_confs_do_not(tmp_path: Path) -> None:
    ta = make_ta()
    ta.conf("acme_settings").set("general", "poll", "60")
    folder = write_ta(ta, tmp_path)
    app = parse_conf((folder / "default/app.conf").read_text())
    assert app.get("triggers") == {"reload.acme_settings": "simple"}
    assert (folder / "default/acme_settings.conf").is_file()
    server = parse_conf((folder / "default/server.conf").read_text())
    assert server.get("shclustering") == {"conf_replication_include.acme_settings": "true"}


def test_a_fifo_in_a_ta_folder_is_refused_without_waiting(tmp_path: Path, without_hanging) -> None:
    folder = write_ta(make_ta(), tmp_path)
    fifo = folder / "static" / "feed"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    raised = without_hanging(lambda: load_ta(folder), fifo)
    assert isinstance(raised, InvalidTAError)
    assert "static/feed: only regular files and folders are allowed" in str(raised)


def test_a_ta_folder_gets_the_size_limits_of_archives_before_anything_is_read(
    tmp_path: Path,
) -> None:
    folder = write_ta(make_ta(), tmp_path)
    big = folder / "static" / "big.bin"
    big.parent.mkdir()
    with big.open("wb") as handle:  # sparse: 60 MB on paper, nothing on disk
        handle.truncate(MAX_MEMBER_BYTES + 10 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidTAError, match=f"static/big.bin: {big.stat().st_size} bytes"):
            load_ta(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # refused from its size, never read into memory
    big.unlink()
    (folder / "static" / "a.bin").write_bytes(b"a" * 600)
    (folder / "static" / "b.bin").write_bytes(b"b" * 600)
    with pytest.raises(InvalidTAError, match="more than 1000 bytes of files"):
        load_ta(folder, limits=TaLimits(max_total_bytes=1000))
    with pytest.raises(InvalidTAError, match="more than 3 files and folders"):
        load_ta(folder, limits=TaLimits(max_files=3))
