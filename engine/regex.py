"""PCRE2 regexes with Splunk's semantics: byte patterns (no UTF/UCP) and bounded matching.

Splunk runs PCRE2 over the UTF-8 bytes of an event, so patterns are compiled as bytes and
``\\d``/``\\w`` stay ASCII. Every pattern carries ``(*LIMIT_MATCH)``/``(*LIMIT_DEPTH)`` so a
catastrophic regex raises :class:`RegexLimitError` instead of hanging.

Byte matching calls the binding's matcher (``pcre2._cy.match``) directly and wraps its match
data in :class:`ByteMatch`: the binding's ``Pattern.search`` spends six times the match itself
re-checking arguments and building a ``Match`` with Python properties, once per line, event and
extraction. The binding is pinned ``<0.8`` for these private entry points.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pcre2
from pcre2 import _cy

from engine.messages import quoted

MATCH_LIMIT = 100_000
DEPTH_LIMIT = 1_000


class RegexError(ValueError):
    """A pattern that PCRE2 refuses to compile."""


class RegexLimitError(RuntimeError):
    """A match that exceeded the match or depth limit (catastrophic backtracking)."""


def _char_offset(subject: str, encoded: bytes, offset: int) -> int:
    if subject.isascii():
        return offset
    return len(encoded[:offset].decode("utf-8", "replace"))


class ByteMatch:
    """One match over a bytes subject: the binding's match data and the subject it read."""

    __slots__ = ("data", "group_count", "subject")

    def __init__(self, data: _cy.PCRE2MatchData, subject: bytes, group_count: int) -> None:
        self.data = data
        self.subject = subject
        self.group_count = group_count

    def group(self, group: int = 0) -> bytes | None:
        """A group's bytes (None when it did not take part)."""
        if not 0 <= group <= self.group_count:
            raise IndexError(f"no such group: {group!r}")
        value: bytes | None = _cy.match_substring_bynumber(self.data, self.subject, group)
        return value

    def span(self, group: int = 0) -> tuple[int, int]:
        """Byte offsets of a group, (-1, -1) when it did not take part."""
        if not 0 <= group <= self.group_count:
            raise IndexError(f"no such group: {group!r}")
        return match_span(self, group)

    def start(self, group: int = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int = 0) -> int:
        return self.span(group)[1]


@dataclass(frozen=True, slots=True)
class RegexMatch:
    """One match of a :class:`Regex`; offsets are character offsets into the str subject."""

    _match: ByteMatch
    _groupindex: dict[str, int]
    _subject: str
    _encoded: bytes

    def _number(self, group: int | str) -> int:
        number = self._groupindex.get(group, -1) if isinstance(group, str) else group
        if not 0 <= number <= self._match.group_count:
            raise IndexError(f"no such group: {group!r}")
        return number

    def group(self, group: int | str = 0) -> str | None:
        value = self._match.group(self._number(group))
        return None if value is None else value.decode("utf-8", "replace")

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def span(self, group: int | str = 0) -> tuple[int, int]:
        start, end = match_span(self._match, self._number(group))
        if start < 0 or self._subject.isascii():
            return start, end
        return (
            _char_offset(self._subject, self._encoded, start),
            _char_offset(self._subject, self._encoded, end),
        )

    def groups(self) -> tuple[str | None, ...]:
        return tuple(self.group(i) for i in range(1, self._match.group_count + 1))

    def groupdict(self) -> dict[str, str]:
        """Named groups that took part in the match (last group wins for duplicate names)."""
        out: dict[str, str] = {}
        for name, number in self._groupindex.items():
            value = self._match.group(number)
            if value is not None:
                out[name] = value.decode("utf-8", "replace")
        return out


def match_groups(match: ByteMatch, numbers: Sequence[int]) -> list[bytes | None]:
    """The groups ``numbers`` of a byte match, in that order (None for a group that did not
    take part), read with the binding's accessor: one call per group, so callers ask only for
    the groups they use (the numbers asked for are the pattern's own)."""
    data, subject = match.data, match.subject
    return [_cy.match_substring_bynumber(data, subject, number) for number in numbers]


def match_span(match: ByteMatch, group: int = 0) -> tuple[int, int]:
    """Byte offsets of a group of a byte match, (-1, -1) when it did not take part."""
    span: tuple[int, int] = _cy.match_substring_span_bynumber(match.data, match.subject, group)
    return span


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled, bounded PCRE2 pattern."""

    pattern: str
    compiled: pcre2.Pattern
    groups: int = field(init=False)
    _code: _cy.PCRE2Code = field(init=False, repr=False, compare=False)
    _context: _cy.PCRE2MatchContext = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Read once: the binding computes these through Python properties on every access.
        object.__setattr__(self, "groups", int(self.compiled.groups))
        object.__setattr__(self, "_code", self.compiled._pcre2_code)
        object.__setattr__(self, "_context", self.compiled._get_match_context(b""))

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self.compiled.groupindex)

    def search_bytes(
        self, subject: bytes, pos: int = 0, stop: int | None = None
    ) -> ByteMatch | None:
        """The first match at or after byte ``pos``; ``stop`` ends the subject there (PCRE2
        sees no byte after it, as if the subject were cut)."""
        size = len(subject) if stop is None else min(stop, len(subject))
        try:
            data = _cy.match(self._code, subject, size, min(pos, size), self._context, 0)[0]
        except pcre2.LibraryError as exc:
            raise RegexLimitError(f"regex {quoted(self.pattern)}: {exc}") from exc
        return None if data is None else ByteMatch(data, subject, self.groups)

    def finditer_bytes(self, subject: bytes, pos: int = 0) -> Iterator[ByteMatch]:
        while pos <= len(subject):
            match = self.search_bytes(subject, pos)
            if match is None:
                return
            yield match
            start, end = match_span(match)
            pos = end + 1 if end == start else end

    def search(self, subject: str, pos: int = 0) -> RegexMatch | None:
        encoded = subject.encode("utf-8")
        byte_pos = pos if subject.isascii() else len(subject[:pos].encode("utf-8"))
        match = self.search_bytes(encoded, byte_pos)
        if match is None:
            return None
        return RegexMatch(match, self.groupindex, subject, encoded)

    def search_end(self, subject: str) -> int | None:
        """Character offset where the first match ends (None: no match), without building a
        :class:`RegexMatch` (TIME_PREFIX asks only this, once per event)."""
        encoded = subject.encode("utf-8")
        match = self.search_bytes(encoded)
        if match is None:
            return None
        end = match_span(match)[1]
        return end if len(encoded) == len(subject) else _char_offset(subject, encoded, end)

    def finditer(self, subject: str) -> Iterator[RegexMatch]:
        encoded = subject.encode("utf-8")
        groupindex = self.groupindex
        for match in self.finditer_bytes(encoded):
            yield RegexMatch(match, groupindex, subject, encoded)


@lru_cache(maxsize=4096)
def compile_regex(
    pattern: str, *, match_limit: int = MATCH_LIMIT, depth_limit: int = DEPTH_LIMIT
) -> Regex:
    """Compile ``pattern`` as Splunk would (bytes, no UTF), bounded by the given limits."""
    limits = f"(*LIMIT_MATCH={match_limit})(*LIMIT_DEPTH={depth_limit})".encode()
    try:
        compiled = pcre2.compile(limits + pattern.encode("utf-8"))
    except pcre2.PatternError as exc:
        # PCRE2 counts from the start of what it compiled; the user wrote no limit verbs.
        offset = max(exc.pos - len(limits), 0)
        reason = str(exc.msg).rpartition("; ")[2]
        raise RegexError(f"invalid regex {quoted(pattern)}: {reason} at byte {offset}") from exc
    except (pcre2.LibraryError, ValueError) as exc:
        raise RegexError(f"invalid regex {quoted(pattern)}: {exc}") from exc
    return Regex(pattern, compiled)
