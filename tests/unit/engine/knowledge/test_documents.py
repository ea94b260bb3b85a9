"""Knowledge documents are checked before they are stored: size, file type, what their kind
can read; the digest is computed in chunks."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from engine.knowledge.documents import DocumentError, DocumentTooLargeError, check_document


def test_a_readable_document_gives_its_digest_and_reports_each_chunk(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text("# Notes\n\nLINE_BREAKER notes.\n" * 100_000, encoding="utf-8")
    seen: list[int] = []
    digest = check_document(document, kind="markdown", max_bytes=1 << 30, on_read=seen.append)
    assert digest == hashlib.sha256(document.read_bytes()).hexdigest()
    assert sum(seen) == document.stat().st_size and max(seen) <= 1 << 20


def test_a_document_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:  # sparse
        handle.write(b"%PDF-1.4\n")
        handle.truncate(64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(DocumentTooLargeError, match="67108864 bytes is more than the 1024"):
            check_document(big, kind="pdf", max_bytes=1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def _bomb(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, size in (("TA-b/default/app.conf", 0), ("TA-b/static/zeros", 60 << 20)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    return path


@pytest.mark.parametrize(
    ("kind", "make", "message"),
    [
        ("ta_archive", lambda tmp: _bomb(tmp / "bomb.tgz"), "exceeds the 52428800 byte limit"),
        ("pdf", lambda tmp: tmp / "x.pdf", "not a PDF"),
        ("markdown", lambda tmp: tmp / "empty.md", "file is empty"),
        ("text", lambda tmp: tmp / "pipe.txt", "is a named pipe (FIFO), not a regular file"),
        ("video", lambda tmp: tmp / "x.pdf", "unknown document type 'video'"),
    ],
    ids=["zip-bomb", "not-a-pdf", "empty-text", "fifo", "unknown-kind"],
)
def test_documents_their_kind_cannot_read_are_refused(kind, make, message, tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"<html>not a pdf</html>")
    (tmp_path / "empty.md").write_bytes(b"")
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_document(make(tmp_path), kind=kind, max_bytes=1 << 30)
