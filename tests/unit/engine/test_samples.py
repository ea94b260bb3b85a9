"""Sample reading: encodings, BOMs, binary and empty files, chunk boundaries."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from engine.samples import (
    SampleError,
    observe_reads,
    read_sample_chunks,
    read_sample_set,
    read_sample_text,
    sniff_encoding,
    splunk_charset,
)

TEXT = "Jan  5 10:00:01 sshd[1]: Accepted password for jos\u00e9\r\nline 2 \u20ac\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        ("caf\u00e9 na\u00efve\n".encode("latin-1"), "latin-1"),
        # A multibyte character cut off by the end of the head is still UTF-8.
        ("ab\u20ac".encode()[:-1], "utf-8"),
    ],
)
def test_sniff_encoding(data: bytes, expected: str) -> None:
    assert sniff_encoding(data) == expected


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (TEXT.encode("utf-8"), TEXT),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), TEXT),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), TEXT),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), TEXT),
        (TEXT.encode("utf-16-le"), TEXT),
        ("caf\u00e9\r\n".encode("latin-1"), "caf\u00e9\r\n"),
    ],
)
def test_read_decodes_strips_bom_and_keeps_line_endings(
    tmp_path: Path, data: bytes, text: str
) -> None:
    path = tmp_path / "s.log"
    path.write_bytes(data)
    assert "".join(read_sample_chunks(path, chunk_chars=7)) == text


def test_multibyte_characters_split_across_chunks(tmp_path: Path) -> None:
    text = "\u20ac\U0001f600\u00e9x" * 50
    path = tmp_path / "m.log"
    path.write_bytes(text.encode("utf-8"))
    chunks = list(read_sample_chunks(path, chunk_chars=3))
    assert "".join(chunks) == text
    assert all(0 < len(chunk) <= 3 for chunk in chunks)
    assert "\ufffd" not in "".join(chunks)


def test_invalid_byte_after_head_falls_back_to_latin1(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("engine.samples.HEAD_BYTES", 16)
    path = tmp_path / "mixed.log"
    path.write_bytes(b"plain ascii line number one\n" + b"caf\xe9\n")
    assert "".join(read_sample_chunks(path, chunk_chars=5)).endswith("caf\u00e9\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00", "NUL"),
        (bytes(range(1, 32)) * 20, "control characters"),
        (codecs.BOM_UTF16_LE + "ab\x00\x00cd".encode("utf-16-le"), "NUL"),
    ],
)
def test_rejects_empty_and_binary(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(data)
    with pytest.raises(SampleError, match=message) as info:
        read_sample_chunks(path)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SampleError, match="not found"):
        read_sample_chunks(tmp_path / "nope.log")
    with pytest.raises(SampleError, match="directory"):
        read_sample_chunks(tmp_path)


def test_read_sample_text_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_text("0123456789\n" * 1000, encoding="utf-8")
    head = read_sample_text(path, max_chars=25)
    assert head == ("0123456789\n" * 3)[:25]


def test_named_charset_is_used_and_invalid_bytes_are_hex_escaped(tmp_path: Path) -> None:
    path = tmp_path / "c.log"
    path.write_bytes(b"caf\xe9 ok\n")
    assert "".join(read_sample_chunks(path, charset="latin-1")) == "caf\u00e9 ok\n"
    assert "".join(read_sample_chunks(path, charset="UTF-8")) == "caf\\xE9 ok\n"
    assert "".join(read_sample_chunks(path, charset="AUTO")) == "caf\u00e9 ok\n"


def test_named_utf16_charset_strips_its_bom(tmp_path: Path) -> None:
    path = tmp_path / "w.log"
    path.write_bytes(codecs.BOM_UTF16_LE + "a\r\nb".encode("utf-16-le"))
    assert "".join(read_sample_chunks(path, charset="UTF-16LE", chunk_chars=3)) == "a\r\nb"


def test_unknown_charset_is_a_sample_error(tmp_path: Path) -> None:
    path = tmp_path / "c.log"
    path.write_text("x\n", encoding="utf-8")
    with pytest.raises(SampleError, match="CHARSET 'KLINGON-8'"):
        read_sample_chunks(path, charset="KLINGON-8")


def test_splunk_charset_names_what_splunk_cannot_guess() -> None:
    assert splunk_charset(["utf-8", "utf-8"]) is None
    assert splunk_charset(["latin-1"]) == "ISO-8859-1"
    assert splunk_charset(["utf-16-le", "utf-16-le"]) == "UTF-16LE"
    assert splunk_charset(["utf-8", "latin-1"]) == "AUTO"  # samples disagree: Splunk detects


def test_read_sample_set_records_each_sample_encoding(tmp_path: Path) -> None:
    first = tmp_path / "a.log"
    first.write_bytes("caf\u00e9 1\n".encode("latin-1"))
    second = tmp_path / "b.log"
    second.write_bytes(codecs.BOM_UTF16_LE + "caf\u00e9 2\r\n".encode("utf-16-le"))
    sample = read_sample_set([first, second])
    assert sample.encodings == ("latin-1", "utf-16-le")
    assert sample.lines == ("caf\u00e9 1", "caf\u00e9 2")
    with pytest.raises(SampleError, match="no sample files"):
        read_sample_set([])


def test_a_fifo_sample_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, without_hanging
) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    raised = without_hanging(lambda: read_sample_chunks(fifo), fifo)
    assert isinstance(raised, SampleError)
    assert str(raised) == f"sample {fifo}: is a named pipe (FIFO), not a regular file"


def test_a_device_is_refused_before_it_is_read() -> None:
    with pytest.raises(SampleError, match="is a device, not a regular file"):
        read_sample_chunks(Path("/dev/zero"))


def test_observed_reads_add_up_to_the_bytes_streamed(tmp_path: Path) -> None:
    path = tmp_path / "bom.log"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8") * 50)
    seen: list[int] = []
    with observe_reads(seen.append):
        text = "".join(read_sample_chunks(path, chunk_chars=100))
    assert text == TEXT * 50
    assert sum(seen) == path.stat().st_size - len(codecs.BOM_UTF8)
    assert max(seen) <= 100
    seen.clear()
    list(read_sample_chunks(path))  # outside the block nothing is reported
    assert seen == []
