"""LINE_BREAKER and TRUNCATE: splitting a stream into lines the way Splunk's parser does.

props.conf.spec: LINE_BREAKER (default ``([\\r\\n]+)``) must contain a capturing group; the
group's start ends the previous line, its end starts the next, and its text is dropped. With
alternation, the first group that took part in the match is the break; when none did, the
break is zero-length at the start of the match. LINE_BREAKER_LOOKBEHIND (default 100) is how
far back into already-scanned data the breaker is re-run when more data arrives. TRUNCATE
(default 10000 bytes, 0 = off) cuts a line without splitting a UTF-8 character.

The scan runs ``finditer_bytes`` over a byte buffer that only holds the current partial line
(and at most TRUNCATE bytes of it once it grows past that), so memory stays bounded. The
default breaker, runs of CR/LF, cuts exactly where ``bytes.splitlines`` does (empty pieces
between the characters of a run are dropped like blank lines), so it is split in C.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from engine.messages import quoted
from engine.regex import ByteMatch, Regex, RegexError, compile_regex, match_span
from engine.sandbox.stanzas import SettingError

DEFAULT_LINE_BREAKER = r"([\r\n]+)"
DEFAULT_TRUNCATE = 10_000
DEFAULT_LOOKBEHIND = 100
MIN_RESCAN = 4096
_STRIP = b"\r\n"


@dataclass(slots=True)
class Line:
    """One piece between two breaks (an event when SHOULD_LINEMERGE is false). Never mutated;
    not frozen only because a frozen dataclass takes twice as long to build, once per line."""

    text: str
    truncated: bool


def compile_line_breaker(pattern: str) -> Regex:
    """Compile LINE_BREAKER, requiring the capturing group its semantics depend on."""
    try:
        regex = compile_regex(pattern)
    except RegexError as exc:
        raise SettingError(f"LINE_BREAKER: {exc}") from exc
    if regex.groups < 1:
        raise SettingError(
            f"LINE_BREAKER {quoted(pattern)} has no capturing group; Splunk needs one to know "
            "which text separates events, e.g. ([\\r\\n]+)"
        )
    return regex


def truncate_utf8(data: bytes, limit: int) -> bytes:
    """At most ``limit`` bytes, cut back to a character boundary (limit 0 = no limit)."""
    if not limit or len(data) <= limit:
        return data
    cut = limit
    while cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return data[:cut]


class LineBreaker:
    """Incremental LINE_BREAKER: ``feed`` bytes, get complete lines; ``finish`` flushes."""

    def __init__(self, regex: Regex, *, truncate: int, lookbehind: int) -> None:
        self._regex = regex
        self._groups = range(1, regex.groups + 1)
        self._truncate = truncate
        # Splunk re-runs the breaker LINE_BREAKER_LOOKBEHIND bytes back at its own 64 KB chunk
        # boundaries; ours are wherever the caller's chunks end, so a wider margin keeps the
        # result independent of chunk sizes.
        self._lookbehind = max(lookbehind, MIN_RESCAN)
        self._buffer = b""
        self._scan_from = 0
        self._kept_head: bytes | None = None  # first TRUNCATE bytes of an overlong line

    @property
    def buffered(self) -> int:
        """Bytes held for the line still waiting for its break (bounded by TRUNCATE)."""
        return len(self._buffer) + len(self._kept_head or b"")

    def feed(self, data: bytes) -> Iterator[Line]:
        if data:
            self._buffer += data
            yield from self._split(final=False)

    def finish(self) -> Iterator[Line]:
        yield from self._split(final=True)
        line = self._emit(len(self._buffer))
        if line is not None:
            yield line
        self._buffer = b""
        self._scan_from = 0

    def _split(self, *, final: bool) -> Iterator[Line]:
        if self._regex.pattern != DEFAULT_LINE_BREAKER:
            yield from self._scan(final=final)
            return
        buffer = self._buffer
        # Up to the last CR/LF; a run cut at the chunk's end only leaves an empty piece.
        cut = len(buffer) if final else max(buffer.rfind(b"\n"), buffer.rfind(b"\r")) + 1
        if cut > 0:
            for piece in buffer[:cut].splitlines():
                line = self._line(piece)
                if line is not None:
                    yield line
            self._buffer = buffer[cut:]
        self._bound_partial()

    def _break_span(self, match: ByteMatch) -> tuple[int, int]:
        for group in self._groups:
            span = match_span(match, group)
            if span[0] >= 0:
                return span
        start = match_span(match)[0]
        return start, start

    def _scan(self, *, final: bool) -> Iterator[Line]:
        buffer = self._buffer
        size = len(buffer)
        resume = None
        line_start = 0
        for match in self._regex.finditer_bytes(buffer, self._scan_from):
            if not final:
                start, end = match_span(match)
                if end + self._lookbehind > size:
                    resume = start
                    break
            break_start, break_end = self._break_span(match)
            if break_start < line_start:
                continue
            line = self._emit(break_start, line_start)
            if line is not None:
                yield line
            line_start = break_end
        self._buffer = buffer[line_start:]
        size = len(self._buffer)
        if resume is not None:
            self._scan_from = max(resume - line_start, 0)
        else:
            self._scan_from = max(size - self._lookbehind, 0)
        self._bound_partial()

    def _emit(self, end: int, start: int = 0) -> Line | None:
        return self._line(self._buffer[start:end])

    def _line(self, piece: bytes) -> Line | None:
        """The line a piece between two breaks makes (None when blank); the first after an
        overlong partial line is that line's kept head."""
        head = self._kept_head
        if head is not None:
            self._kept_head = None
            data, truncated = head, True
        elif self._truncate and len(piece) > self._truncate:
            data = truncate_utf8(piece, self._truncate)
            truncated = len(data) < len(piece)
        else:
            data, truncated = piece, False
        data = data.strip(_STRIP)
        if not data or data.isspace():
            return None
        return Line(data.decode("utf-8", "replace"), truncated)

    def _bound_partial(self) -> None:
        """Keep only TRUNCATE bytes of a line still waiting for its break, plus scan context."""
        limit = self._truncate
        keep = 2 * self._lookbehind
        if not limit or len(self._buffer) <= limit + keep + (1 << 16):
            return
        if self._kept_head is None:
            self._kept_head = truncate_utf8(self._buffer, limit)
        dropped = len(self._buffer) - keep
        self._buffer = self._buffer[dropped:]
        self._scan_from = max(self._scan_from - dropped, 0)
