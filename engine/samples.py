"""Reading log samples: encoding sniffing, binary/empty rejection, bounded-memory streaming.

Samples come from users in whatever encoding their system wrote (UTF-8 with or without BOM,
UTF-16 from Windows tools, Latin-1 from old appliances). The sandbox needs ``str`` text with the
original line endings, streamed in chunks so a multi-gigabyte sample never sits in memory; the
generator analyses a bounded :class:`SampleSet` of whole lines spread over the samples.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

HEAD_BYTES = 64 * 1024
"""How much of a file is sniffed for its encoding and for binary content."""

MAX_CONTROL_RATIO = 0.10
"""Share of control characters in the head above which a sample is treated as binary."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")
_SPLUNK_CHARSETS = {
    "latin-1": "ISO-8859-1",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "utf-32-le": "UTF-32LE",
    "utf-32-be": "UTF-32BE",
}
_LATIN1_FALLBACK = "tagen-latin1-fallback"
_HEX_ESCAPE = "tagen-hex-escape"


_READ_OBSERVER: ContextVar[Callable[[int], None] | None] = ContextVar("read_observer", default=None)


@contextmanager
def observe_reads(callback: Callable[[int], None]) -> Iterator[None]:
    """Report the size of every block the sample streams read while the block runs.

    What a progress bar needs, without threading a callback through every function that reads
    samples (the sandbox, the generator's analysis and self-check).
    """
    token = _READ_OBSERVER.set(callback)
    try:
        yield
    finally:
        _READ_OBSERVER.reset(token)


class SampleError(ValueError):
    """A sample file that cannot be used: missing, empty, binary or undecodable."""


def _latin1_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode stray invalid bytes in mostly-UTF-8 text as Latin-1 instead of failing."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


def _hex_escape(exc: UnicodeError) -> tuple[str, int]:
    """Bytes invalid in a configured CHARSET, written as ``\\xF3`` the way Splunk does."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(f"\\x{byte:02X}" for byte in bad), exc.end


def _error_handler(name: str, handler: Callable[[UnicodeError], tuple[str, int]]) -> str:
    """``name`` registered as a codecs error handler (once per process), for ``errors=``."""
    try:
        codecs.lookup_error(name)
    except LookupError:
        codecs.register_error(name, handler)
    return name


def _bom_of(head: bytes) -> tuple[bytes, str] | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return bom, name
    return None


def _utf16_by_nuls(head: bytes) -> str | None:
    """UTF-16 without BOM: ASCII-heavy text has NUL in every other byte."""
    sample = head[: 4096 - (min(len(head), 4096) % 2)]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    pairs = len(sample) // 2
    if odd_nuls >= 0.7 * pairs and even_nuls <= 0.05 * pairs:
        return "utf-16-le"
    if even_nuls >= 0.7 * pairs and odd_nuls <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _valid_utf8_prefix(head: bytes) -> bool:
    """True when ``head`` is UTF-8, allowing a multibyte character cut off at its end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff_encoding(head: bytes) -> str:
    """Name the codec of a sample from its first bytes.

    Order: a BOM, then the NUL pattern of BOM-less UTF-16, then UTF-8 if the head decodes,
    else Latin-1 (every byte sequence is valid Latin-1). The returned name never includes the
    BOM; :func:`read_sample_chunks` strips it.
    """
    found = _bom_of(head)
    if found is not None:
        return found[1]
    utf16 = _utf16_by_nuls(head)
    if utf16 is not None:
        return utf16
    return "utf-8" if _valid_utf8_prefix(head) else "latin-1"


def splunk_charset(encodings: Sequence[str]) -> str | None:
    """The props.conf CHARSET that makes Splunk read samples of these sniffed encodings.

    Splunk does not sniff: without CHARSET it reads UTF-8. None when every sample is UTF-8;
    AUTO (Splunk's own detection) when the samples disagree.
    """
    names = {_SPLUNK_CHARSETS.get(encoding, "UTF-8") for encoding in encodings}
    if names <= {"UTF-8"}:
        return None
    return names.pop() if len(names) == 1 else "AUTO"


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for the message that refuses it (None: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    kinds = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))
    kind = next((name for test, name in kinds if test(mode)), "a device")
    return f"is {kind}, not a regular file"


def open_regular(path: Path, *, what: str = "sample") -> BinaryIO:
    """Open a regular file for reading; anything else is refused without blocking.

    Opening a FIFO for reading waits for a writer and reading a device may never end, so the
    file is opened with O_NONBLOCK and checked with fstat on the descriptor (no race with a
    swap after a stat); the flag is cleared again for the regular file that remains. Errors
    name the file as ``what`` (a sample, a document).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise SampleError(f"{what} {path}: file not found") from exc
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket (or a device with no driver) cannot be opened
            raise SampleError(f"{what} {path}: is not a regular file") from exc
        raise SampleError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from exc
    kind = _kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise SampleError(f"{what} {path}: {kind}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _read_head(path: Path) -> bytes:
    with open_regular(path) as handle:
        try:
            return handle.read(HEAD_BYTES)
        except OSError as exc:
            raise SampleError(f"sample {path}: cannot be read ({exc.strerror or exc})") from exc


def _check_text(path: Path, head: bytes, encoding: str) -> int:
    """Reject empty and binary heads; return the BOM length to skip."""
    found = _bom_of(head)
    bom_len = len(found[0]) if found is not None and found[1] == encoding else 0
    if len(head) <= bom_len:
        raise SampleError(f"sample {path}: file is empty")
    body = head[bom_len:]
    if not encoding.startswith(("utf-16", "utf-32")) and b"\x00" in body:
        raise SampleError(f"sample {path}: binary file (contains NUL bytes), not a text log")
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(body, final=False)
    controls = sum(1 for char in text if char < " " and char not in _TEXT_CONTROLS)
    if encoding.startswith(("utf-16", "utf-32")) and "\x00" in text:
        raise SampleError(f"sample {path}: binary file (NUL characters in {encoding} text)")
    if text and controls / len(text) > MAX_CONTROL_RATIO:
        raise SampleError(
            f"sample {path}: binary file ({controls} of {len(text)} leading characters are "
            "control characters), not a text log"
        )
    return bom_len


def read_sample_chunks(
    path: Path, *, chunk_chars: int = 1 << 20, charset: str | None = None
) -> Generator[str, None, None]:
    """Stream a sample's decoded text in chunks of at most ``chunk_chars`` characters.

    The file is sniffed and validated before this returns, so a bad sample raises
    :class:`SampleError` at call time, not half-way through a pipeline. Line endings are kept.
    ``charset`` is props.conf CHARSET: None or AUTO sniffs the encoding (what the generator
    reads samples with; the sandbox passes Splunk's default, UTF-8, for an unset CHARSET); a
    named encoding is used as given, and bytes invalid in it become ``\\xHH`` text as Splunk
    writes them.
    """
    if chunk_chars <= 0:
        raise ValueError("chunk_chars must be positive")
    head = _read_head(path)
    if charset is None or charset.strip().upper() in ("", "AUTO"):
        encoding = sniff_encoding(head)
        errors = (
            _error_handler(_LATIN1_FALLBACK, _latin1_fallback) if encoding == "utf-8" else "replace"
        )
    else:
        encoding = _named_encoding(path, charset, head)
        errors = _error_handler(_HEX_ESCAPE, _hex_escape)
    bom_len = _check_text(path, head, encoding)
    return _stream(path, encoding=encoding, errors=errors, skip=bom_len, chunk_chars=chunk_chars)


def _named_encoding(path: Path, charset: str, head: bytes) -> str:
    """The codec of a CHARSET. UTF-16 and UTF-32 without an order take it from the BOM, else
    from the NUL pattern, else big-endian (RFC 2781): Python's own codecs refuse a stream
    without a BOM. UTF-8 (Splunk's default CHARSET) gives way to a UTF-16/32 BOM: the file
    names its own encoding, unmistakably."""
    try:
        name = codecs.lookup(charset.strip()).name
    except LookupError as exc:
        raise SampleError(f"sample {path}: CHARSET {charset!r} is not a known encoding") from exc
    if name == "utf-8":
        found = _bom_of(head)
        return name if found is None else found[1]
    if name not in ("utf-16", "utf-32"):
        return name
    found = _bom_of(head)
    if found is not None and found[1].startswith(name):
        return found[1]
    return (_utf16_by_nuls(head) if name == "utf-16" else None) or f"{name}-be"


def _stream(
    path: Path, *, encoding: str, errors: str, skip: int, chunk_chars: int
) -> Generator[str, None, None]:
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    with open_regular(path) as handle:
        handle.seek(skip)
        while True:
            block = handle.read(chunk_chars)
            observer = _READ_OBSERVER.get()
            if observer is not None:
                observer(len(block))
            text = decoder.decode(block, final=not block)
            # A block of N bytes decodes to at most N characters, so chunks stay bounded.
            if text:
                yield text
            if not block:
                return


def read_sample_text(path: Path, *, max_chars: int) -> str:
    """The first ``max_chars`` characters of a sample (for sniffing and reports)."""
    if max_chars <= 0:
        raise ValueError("max_chars must be positive")
    parts: list[str] = []
    remaining = max_chars
    with closing(read_sample_chunks(path, chunk_chars=min(max_chars, 1 << 20))) as chunks:
        for chunk in chunks:
            parts.append(chunk[:remaining])
            remaining -= len(parts[-1])
            if remaining <= 0:
                break
    return "".join(parts)


MAX_ANALYSIS_CHARS = 4 << 20
"""Characters of sample text analysed (split evenly between the sample files)."""

SPREAD_CHUNK = 64 * 1024
"""Characters per window when a big sample is read spread out."""

MAX_SCAN_CHARS = 512 << 20
"""How far into a big sample the spread windows reach."""


@dataclass(frozen=True)
class SampleSet:
    """A bounded, representative subset of the user's samples, decoded and LF-normalised.

    ``text`` is what the analysis looks at (whole lines, ends with a newline); ``lines`` are its
    lines without terminators. ``total_bytes`` and ``subset`` tell the README how much of the
    input that is; ``encodings`` are the codecs the samples were read with, one per source.
    """

    text: str
    lines: tuple[str, ...]
    sources: tuple[str, ...]
    total_bytes: int
    subset: bool = False
    encodings: tuple[str, ...] = ()


def _whole_lines(text: str, limit: int) -> str:
    """``text`` cut back to its last complete line within ``limit`` characters."""
    if len(text) <= limit or "\n" not in text[:limit]:
        return text
    return text[: text.rindex("\n", 0, limit) + 1]


def _read_spread(path: Path, budget: int) -> tuple[str, bool]:
    """At most ``budget`` characters of ``path``: all of it, or its head plus whole-line
    windows spread evenly over the rest (scanning at most ``MAX_SCAN_CHARS``), so a layout
    that only appears later in a big file is still seen. Returns (text, subset?)."""
    chunks = read_sample_chunks(path, chunk_chars=SPREAD_CHUNK)
    try:
        size = path.stat().st_size
    except OSError as exc:
        chunks.close()
        raise SampleError(f"sample {path}: cannot be read ({exc.strerror or exc})") from exc
    head_budget = budget if size <= budget else budget // 2
    parts: list[str] = []
    read = 0
    with closing(chunks):
        stream = iter(chunks)
        for chunk in stream:
            parts.append(chunk)
            read += len(chunk)
            if read > head_budget:
                break
        else:
            return "".join(parts), False
        pieces = [_whole_lines("".join(parts), head_budget)]
        wanted = max((budget - len(pieces[0])) // SPREAD_CHUNK, 1)
        stride = max((min(size, MAX_SCAN_CHARS) - read) // SPREAD_CHUNK // wanted, 1)
        for index, chunk in enumerate(stream, 1):
            read += len(chunk)
            if read > MAX_SCAN_CHARS or len(pieces) > wanted:
                break
            inner = chunk.split("\n")[1:-1]
            if index % stride == 0 and inner:
                pieces.append("\n".join(inner) + "\n")
    return "".join(pieces), True


def read_sample_set(paths: Sequence[Path], *, max_chars: int = MAX_ANALYSIS_CHARS) -> SampleSet:
    """The analysed subset of the samples, LF line endings, whole lines (see _read_spread).

    Raises :class:`SampleError` for no samples, an unusable one, or only whitespace.
    """
    if not paths:
        raise SampleError("no sample files given")
    budget = max(max_chars // len(paths), 1)
    parts: list[str] = []
    encodings: list[str] = []
    total_bytes = 0
    subset = False
    for path in paths:
        text, cut = _read_spread(path, budget)
        encodings.append(sniff_encoding(_read_head(path)))
        total_bytes += path.stat().st_size
        subset = subset or cut
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        parts.append(text if text.endswith("\n") else text + "\n")
    text = "".join(parts)
    if not text.strip():
        raise SampleError("the samples hold only whitespace: nothing to analyse")
    return SampleSet(
        text=text,
        lines=tuple(text.split("\n")[:-1]),
        sources=tuple(str(path) for path in paths),
        total_bytes=total_bytes,
        subset=subset,
        encodings=tuple(encodings),
    )
