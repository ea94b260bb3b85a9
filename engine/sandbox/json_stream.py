"""JSON documents one after another in a text stream (INDEXED_EXTRACTIONS = json/hec, HEC's
event endpoint), split without holding more than the current document.

Documents are separated by whitespace (one per line, or several on a line). Text that does not
parse as JSON becomes a plain line, as Splunk indexes it; numbers keep their literal text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

JSON_PENDING_LIMIT = 8 << 20
"""Characters of an unterminated JSON value kept before it is given up as a plain line."""

DECODER = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)
"""Numbers (and NaN/Infinity) keep their literal text, as Splunk shows them (``1.0`` stays
``1.0``); ``str`` is called from C, so no Python frame runs per number."""


@dataclass(slots=True)
class JsonDocument:
    """One document: its text and value, or a plain line (``parsed`` False) that is not JSON.
    Never mutated (not frozen: built once per event, and a frozen dataclass takes twice as long
    to build)."""

    text: str
    value: Any = None
    parsed: bool = True


def json_documents(
    chunks: Iterable[str], decoder: json.JSONDecoder = DECODER
) -> Iterator[JsonDocument]:
    """The documents of a stream, in order."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        documents, buffer = _take(buffer, decoder, final=False)
        yield from documents
    documents, _ = _take(buffer, decoder, final=True)
    yield from documents


def _take(buffer: str, decoder: json.JSONDecoder, *, final: bool) -> tuple[list[JsonDocument], str]:
    documents: list[JsonDocument] = []
    index = 0
    size = len(buffer)
    while True:
        while index < size and buffer[index] in " \t\r\n":
            index += 1
        if index >= size:
            return documents, ""
        try:
            value, end = decoder.raw_decode(buffer, index)
        except (json.JSONDecodeError, RecursionError) as exc:  # or nested beyond the stack
            cut = isinstance(exc, json.JSONDecodeError) and size - index < JSON_PENDING_LIMIT
            if not final and cut:
                return documents, buffer[index:]
            # Not JSON: the rest of the line is a plain line, as Splunk indexes it.
            newline = buffer.find("\n", index)
            end = size if newline < 0 else newline
            line = buffer[index:end].rstrip("\r")
            if line.strip():
                documents.append(JsonDocument(line, parsed=False))
            index = end
            continue
        documents.append(JsonDocument(buffer[index:end], value))
        index = end
