"""Split extracted sections into retrieval-sized chunks.

Retrieval returns chunks, not documents, so a chunk must stand on its own: it keeps the title of
its section, and it is cut at paragraph boundaries first, then at whitespace, never mid-word
unless a single word is longer than the limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from engine.knowledge.extract import Section

DEFAULT_MAX_CHARS = 1200


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, numbered in document order from 0."""

    ordinal: int
    title: str
    text: str


def _split_long(paragraph: str, max_chars: int) -> Iterator[str]:
    words = paragraph.split()
    current = ""
    for word in words:
        while len(word) > max_chars:
            if current:
                yield current
                current = ""
            yield word[:max_chars]
            word = word[max_chars:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > max_chars:
            yield current
            current = word
        else:
            current = candidate
    if current:
        yield current


def _pieces(text: str, max_chars: int) -> Iterator[str]:
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            yield paragraph
        else:
            yield from _split_long(paragraph, max_chars)


def chunk_sections(
    sections: Iterable[Section], *, max_chars: int = DEFAULT_MAX_CHARS
) -> list[Chunk]:
    """Pack each section's paragraphs into chunks of at most `max_chars` characters."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    chunks: list[Chunk] = []
    for section in sections:
        current: list[str] = []
        size = 0
        for piece in _pieces(section.text, max_chars):
            if current and size + 2 + len(piece) > max_chars:
                chunks.append(Chunk(len(chunks), section.title, "\n\n".join(current)))
                current, size = [], 0
            size += (2 if current else 0) + len(piece)
            current.append(piece)
        if current:
            chunks.append(Chunk(len(chunks), section.title, "\n\n".join(current)))
    return chunks
