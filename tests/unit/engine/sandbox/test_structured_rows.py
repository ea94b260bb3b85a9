"""The per-sample CSV row reader parses every row as a fresh reader would, row after row."""

from __future__ import annotations

import csv
from collections.abc import Callable

import pytest

from engine.sandbox.indexed_extractions import NO_QUOTE, WHITESPACE, _parse_row, _RowReader

ROWS = [
    'a,b,"c, d",e',
    'x,"unbalanced, quote',  # the reader hits the end of this record, not the next row
    "p,q",
    '"multi\nline",z',  # a quoted line end: an error where '"' is no quote, in both readers
    "",
    ' spaced ,  "q" ,',
    "tab\tseparated\tx",
    'quote "inside" value,1',
]


@pytest.mark.parametrize(
    ("delimiter", "quote"),
    [(",", '"'), (",", NO_QUOTE), (WHITESPACE, '"'), ("\t", "\t"), (" ", "'")],
    ids=["csv", "no-quote", "whitespace", "tsv-quote-is-delimiter", "space-single-quote"],
)
def test_row_reader_matches_a_fresh_reader_per_row(delimiter: str, quote: str) -> None:
    rows = _RowReader(delimiter, quote)
    for text in ROWS * 2:
        expected = _outcome(lambda row: _parse_row(row, delimiter, quote), text)
        assert _outcome(rows.parse, text) == expected, text


def _outcome(parse: Callable[[str], list[str]], text: str) -> list[str] | str:
    try:
        return parse(text)
    except csv.Error as exc:
        return f"error: {exc}"
