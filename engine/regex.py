"""PCRE2 regexes with Splunk's semantics: byte patterns (no UTF/UCP) and bounded matching.

Splunk runs PCRE2 over the UTF-8 bytes of an event, so patterns are compiled as bytes and
``\\d``/``\\w`` stay ASCII. Every pattern carries ``(*LIMIT_MATCH)``/``(*LIMIT_DEPTH)`` so a
catastrophic regex raises :class:`RegexLimitError` instead of hanging.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pcre2
from pcre2 import _cy

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


@dataclass(frozen=True, slots=True)
class RegexMatch:
    """One match of a :class:`Regex`; offsets are character offsets into the str subject."""

    _match: pcre2.Match
    _subject: str
    _encoded: bytes

    def group(self, group: int | str = 0) -> str | None:
        value = self._match.group(group)
        return None if value is None else value.decode("utf-8", "replace")

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def span(self, group: int | str = 0) -> tuple[int, int]:
        pattern = self._match.re
        number = pattern.groupindex.get(group, -1) if isinstance(group, str) else group
        if not 0 <= number <= pattern.groups:
            raise IndexError(f"no such group: {group!r}")
        start, end = match_span(self._match, number)
        if start < 0 or self._subject.isascii():
            return start, end
        return (
            _char_offset(self._subject, self._encoded, start),
            _char_offset(self._subject, self._encoded, end),
        )

    def groups(self) -> tuple[str | None, ...]:
        return tuple(self.group(i) for i in range(1, self._match.re.groups + 1))

    def groupdict(self) -> dict[str, str]:
        """Named groups that took part in the match (last group wins for duplicate names)."""
        out: dict[str, str] = {}
        for name in self._match.re.groupindex:
            value = self._match.group(name)
            if value is not None:
                out[name] = value.decode("utf-8", "replace")
        return out

    @property
    def raw(self) -> pcre2.Match:
        """The underlying byte-level match, for callers that work on bytes."""
        return self._match


def match_groups(match: pcre2.Match, count: int) -> list[bytes | None]:
    """Groups 0..``count`` of a byte-subject match (None for a group that did not take part).

    pcre2's ``Match.__getitem__`` re-validates the group number through Python properties on
    every call, which costs more than the match itself when an event reads many groups; the
    numbers asked for here are the pattern's own, so the binding's accessor is called directly.
    """
    data, subject = match._pcre2_match_data, match.string
    return [_cy.match_substring_bynumber(data, subject, number) for number in range(count + 1)]


def match_span(match: pcre2.Match, group: int = 0) -> tuple[int, int]:
    """Byte offsets of a group of a byte-subject match, (-1, -1) when it did not take part
    (the binding's accessor, as in :func:`match_groups`)."""
    span: tuple[int, int] = _cy.match_substring_span_bynumber(
        match._pcre2_match_data, match.string, group
    )
    return span


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled, bounded PCRE2 pattern."""

    pattern: str
    compiled: pcre2.Pattern

    @property
    def groups(self) -> int:
        return int(self.compiled.groups)

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self.compiled.groupindex)

    def search_bytes(self, subject: bytes, pos: int = 0) -> pcre2.Match | None:
        try:
            return self.compiled.search(subject, pos)
        except pcre2.LibraryError as exc:
            raise RegexLimitError(f"regex {self.pattern!r}: {exc}") from exc

    def finditer_bytes(self, subject: bytes, pos: int = 0) -> Iterator[pcre2.Match]:
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
        return None if match is None else RegexMatch(match, subject, encoded)

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
        for match in self.finditer_bytes(encoded):
            yield RegexMatch(match, subject, encoded)


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
        raise RegexError(f"invalid regex {pattern!r}: {reason} at byte {offset}") from exc
    except (pcre2.LibraryError, ValueError) as exc:
        raise RegexError(f"invalid regex {pattern!r}: {exc}") from exc
    return Regex(pattern, compiled)
