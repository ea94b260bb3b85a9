"""Property-based fuzz targets for what reads untrusted input: the conf parser, the sample
reader, the strptime emulator and safe_unpack.

Each target is a function of one generated input that raises only when the property fails;
the typed errors of bad input (ConfRenderError, SampleError, TimeFormatError,
UnsafeArchiveError, InvalidTAError) are the expected way to say no. Inputs are bounded in size,
and every regex runs under PCRE2's match limits, so an example cannot loop without end.
`tests/property/test_fuzz.py` runs a few hundred examples of each, `python -m bench.fuzz` ten
thousand. A crash found here is fixed in the engine and pinned with ``@example`` below.
"""

from __future__ import annotations

import codecs
import gzip
import io
import shutil
import stat
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from engine.conf.parse import ConfFile, ConfRenderError, Stanza, parse_conf, render_conf
from engine.conf.ta import InvalidTAError
from engine.packaging.unpack import UnsafeArchiveError, safe_unpack
from engine.samples import SampleError, read_sample_chunks, read_sample_text
from engine.sandbox.strptime import TimeFormatError, compile_time_format
from engine.sandbox.timestamps import Timestamper, TimestampSettings

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

# --------------------------------------------------------------------------- conf parser

_CONF_PIECES = st.sampled_from(
    ["[", "]", "=", " = ", "#", "\\", "\n", "\r\n", "\r", " ", "\t", "\ufeff", "default", "a", "é"]
)
_conf_text = st.lists(st.one_of(_CONF_PIECES, st.text(max_size=8)), max_size=60).map("".join)
_names = st.text(max_size=12)
_values = st.text(max_size=24)


@st.composite
def _conf_models(draw: st.DrawFn) -> ConfFile:
    conf = ConfFile(path="default/fuzz.conf")
    for stanza in draw(st.lists(_names, max_size=4)):
        conf.stanzas.setdefault(stanza, Stanza(stanza))  # a stanza may have no settings
        for key, value in draw(st.dictionaries(_names, _values, max_size=4)).items():
            conf.set(stanza, key, value)
    return conf


def _settings(conf: ConfFile) -> dict[str, dict[str, str]]:
    return {name: dict(stanza.settings) for name, stanza in conf.stanzas.items()}


@given(text=_conf_text)
def conf_text_round_trips(text: str) -> None:
    """Any text parses; what parses renders (or says why not) and reads back the same."""
    parsed = parse_conf(text)
    try:
        rendered = render_conf(parsed)
    except ConfRenderError:
        return
    assert _settings(parse_conf(rendered)) == _settings(parsed)


@given(conf=_conf_models())
def conf_model_round_trips(conf: ConfFile) -> None:
    """Any model either renders to text that parses back to it or is refused by name."""
    try:
        rendered = render_conf(conf)
    except ConfRenderError:
        return
    assert _settings(parse_conf(rendered)) == _settings(conf)


# --------------------------------------------------------------------------- sample reader

_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1"]
_CHARSETS = [None, "AUTO", "utf-8", "latin-1", "utf-16", "cp1252", "shift_jis", "no-such-charset"]


@st.composite
def _sample_bytes(draw: st.DrawFn) -> bytes:
    """Encoded text (maybe with a BOM, maybe damaged) or raw bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    text = draw(st.text(max_size=200))
    data = text.encode(draw(st.sampled_from(_ENCODINGS)), errors="replace")
    if draw(st.booleans()):
        data = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b""])) + data
    damage = draw(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4))
    buffer = bytearray(data)
    for position, value in damage:
        if buffer:
            buffer[position % len(buffer)] = value
    return bytes(buffer)


@dataclass(frozen=True)
class SampleCase:
    data: bytes
    charset: str | None
    chunk_chars: int


_sample_cases = st.builds(
    SampleCase,
    data=_sample_bytes(),
    charset=st.sampled_from(_CHARSETS),
    chunk_chars=st.integers(1, 64),
)


def _read_all(path: Path, case: SampleCase, chunk_chars: int) -> list[str]:
    return list(read_sample_chunks(path, chunk_chars=chunk_chars, charset=case.charset))


@given(case=_sample_cases)
@example(case=SampleCase(b"\xff" * 3 + b"x\n", "utf-8", 1))  # hex escapes: 4 characters a byte
@example(case=SampleCase(b"00", "utf-16", 1))  # CHARSET=UTF-16 without a BOM
def sample_reader_is_chunk_invariant(case: SampleCase) -> None:
    """A sample is refused at call time (SampleError) or streams the same text whatever the
    chunk size, each chunk bounded by the bytes read for it."""
    with tempfile.TemporaryDirectory(prefix="tagen-fuzz-") as tmp:
        path = Path(tmp) / "sample.log"
        path.write_bytes(case.data)
        try:
            small = _read_all(path, case, case.chunk_chars)
        except SampleError:
            return
        whole = _read_all(path, case, 1 << 20)
        assert "".join(small) == "".join(whole)
        # A block of N bytes decodes to at most N characters (4 when a byte is hex-escaped)
        # plus what a multi-byte sequence cut at the previous block left over.
        assert all(len(chunk) <= 4 * (case.chunk_chars + 3) for chunk in small)
        if case.charset in (None, "AUTO"):  # read_sample_text always sniffs
            head = read_sample_text(path, max_chars=case.chunk_chars)
            assert "".join(whole).startswith(head) and len(head) <= case.chunk_chars


# --------------------------------------------------------------------------- strptime

_DIRECTIVES = [f"%{c}" for c in "YymdejHkIlMSpbBhaANQqfszZTFDRrc+%"] + ["%3N", "%6Q", "%9f", "%"]
_LITERALS = ["-", ":", " ", "/", ".", "T", "Z", "(", ")", "[", "]", "\\", "?", "*", "$", "é"]
_formats = st.lists(st.sampled_from(_DIRECTIVES + _LITERALS), min_size=0, max_size=10).map("".join)
_time_texts = st.one_of(
    st.text(alphabet="0123456789 -:/.+TZAPMapmJanFebDecMonSunUTCESTGMT", max_size=40),
    st.text(max_size=30),
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S.%f %b %a %j")),
)


@dataclass(frozen=True)
class TimeCase:
    time_format: str
    text: str
    tz: str | None


_time_cases = st.builds(
    TimeCase,
    time_format=_formats,
    text=_time_texts,
    tz=st.sampled_from([None, "UTC", "America/New_York", "Asia/Kathmandu", "Etc/GMT+12"]),
)


@given(case=_time_cases)
@example(case=TimeCase("%Y%j", "9999366", None))  # day 366 of year 9999: past date.max
@example(case=TimeCase("%Y-%m-%d", "0001-01-01", "Asia/Kathmandu"))  # before date.min in UTC
@example(case=TimeCase("%Y-%m-%d %H", "9999-12-31 23", "Etc/GMT+12"))  # after date.max in UTC
def strptime_parses_or_declines(case: TimeCase) -> None:
    """A TIME_FORMAT compiles or raises TimeFormatError; parsing any text gives parts or None;
    assigning a time never raises and always gives an aware datetime."""
    try:
        time_format = compile_time_format(case.time_format)
    except TimeFormatError:
        return
    parsed = time_format.parse(case.text)
    if parsed is not None:
        assert 0 <= parsed.end <= len(case.text)
    props = {"TIME_FORMAT": case.time_format, "MAX_TIMESTAMP_LOOKAHEAD": "60"}
    if case.tz:
        props["TZ"] = case.tz
    stamper = Timestamper(TimestampSettings.from_props(props), now=NOW, default_tz=UTC)
    for _ in range(2):  # the second event may lean on the first one's date
        moment, _error = stamper.assign(case.text)
        assert moment.tzinfo is not None


@given(text=_time_texts)
def automatic_recognition_never_raises(text: str) -> None:
    """Without TIME_FORMAT, Splunk's automatic recognition reads any text without raising."""
    stamper = Timestamper(TimestampSettings.from_props({}), now=NOW, default_tz=UTC)
    moment, _error = stamper.assign(text)
    assert moment.tzinfo is not None


# --------------------------------------------------------------------------- safe_unpack

_member_names = st.one_of(
    st.sampled_from(
        [
            "TA-f/default/app.conf",
            "TA-f/default/props.conf",
            "TA-f/",
            "TA-f/default/",
            "./TA-f/x",
            "../escape",
            "/abs",
            "TA-f/../../up",
            "C:x",
            "a\\b",
            "TA-f/__MACOSX/x",
            "TA-f/.DS_Store",
            "TA-g/default/app.conf",
            "",
            ".",
        ]
    ),
    st.text(alphabet="TA-f/.\\é", max_size=16),
)
_TAR_TYPES = [
    tarfile.REGTYPE,
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.FIFOTYPE,
    tarfile.CHRTYPE,
]


@dataclass(frozen=True)
class Member:
    name: str
    kind: bytes
    data: bytes
    link: str


_members = st.lists(
    st.builds(
        Member,
        name=_member_names,
        kind=st.sampled_from(_TAR_TYPES),
        data=st.binary(max_size=64),
        link=_member_names,
    ),
    max_size=6,
)


def _tar_bytes(members: list[Member], *, compress: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.kind
            info.linkname = member.link
            data = member.data if member.kind == tarfile.REGTYPE else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def _zip_bytes(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            info = zipfile.ZipInfo(member.name or "empty")
            mode = {tarfile.DIRTYPE: stat.S_IFDIR, tarfile.SYMTYPE: stat.S_IFLNK}.get(
                member.kind, stat.S_IFREG
            )
            info.external_attr = (mode | 0o644) << 16
            with warnings.catch_warnings():  # duplicate names are part of the input space
                warnings.simplefilter("ignore", UserWarning)
                archive.writestr(info, member.data)
    return buffer.getvalue()


@st.composite
def _archives(draw: st.DrawFn) -> bytes:
    members = draw(_members)
    if draw(st.booleans()):  # a valid TA to damage or to keep whole
        members = [
            Member("TA-f/default/app.conf", tarfile.REGTYPE, b"[package]\nid = TA-f\n", ""),
            *members,
        ]
    kind = draw(st.sampled_from(["tgz", "tar", "zip", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    data = _zip_bytes(members) if kind == "zip" else _tar_bytes(members, compress=kind == "tgz")
    edits = draw(st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=3))
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    cut = draw(st.one_of(st.none(), st.integers(0, len(buffer))))
    return bytes(buffer if cut is None else buffer[:cut])


@given(data=_archives())
@example(
    data=_tar_bytes(
        [
            Member("TA-f/default/app.conf", tarfile.REGTYPE, b"", ""),
            Member("TA-f", tarfile.REGTYPE, b"", ""),
        ],
        compress=True,
    )
)
@example(data=_tar_bytes([Member("TA-f/" + "x" * 300, tarfile.REGTYPE, b"", "")], compress=False))
@example(  # a zip whose central directory points before the start of the file
    data=b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x07U\x96\x8c\x14\x00\x00\x00\x14"
    b"\x00\x00\x00\x15\x00\x00\x00TA-f/default/app.conf[package]\nid = TA-f\nPK\x01\x02\x14"
    b"\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x07U\x96\x8c\x14\x00\x00\x00\x14\x00\x00"
    b"\x00\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xa4\x81\x00\x00\x00\x00TA-f/"
    b"default/app.confPK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00C\x00\x00\x00G\x01\x00"
    b"\x00\x00\x00"
)
@example(  # a zip member flagged UTF-8 whose local header name is not UTF-8
    data=_zip_bytes([Member("TA-f/é", tarfile.REGTYPE, b"", "")]).replace(
        "TA-f/é".encode(), b"TA-f/\x00\xa9", 1
    )
)
def safe_unpack_extracts_inside_or_refuses(data: bytes) -> None:
    """Any bytes unpack to one TA folder inside a fresh directory (regular files and folders
    only) or are refused with UnsafeArchiveError/InvalidTAError, leaving nothing behind."""
    with tempfile.TemporaryDirectory(prefix="tagen-fuzz-") as tmp:
        archive = Path(tmp) / "upload.tgz"
        archive.write_bytes(data)
        work = Path(tmp) / "work"
        work.mkdir()
        try:
            ta_dir = safe_unpack(archive, workdir=work, max_total_bytes=1 << 16, max_files=50)
        except (UnsafeArchiveError, InvalidTAError):
            assert list(work.iterdir()) == []
            return
        root = ta_dir.parent
        assert root.parent == work and (ta_dir / "default" / "app.conf").is_file()
        for path in root.rglob("*"):
            mode = path.lstat().st_mode
            assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), path
        shutil.rmtree(root)


TARGETS: dict[str, Callable[[], None]] = {
    "conf parser (text)": conf_text_round_trips,
    "conf parser (model)": conf_model_round_trips,
    "sample reader": sample_reader_is_chunk_invariant,
    "strptime (TIME_FORMAT)": strptime_parses_or_declines,
    "strptime (automatic)": automatic_recognition_never_raises,
    "safe_unpack": safe_unpack_extracts_inside_or_refuses,
}
