"""Chunking keeps titles, respects the size bound and never drops words."""

from __future__ import annotations

import pytest

from engine.knowledge.chunk import chunk_sections
from engine.knowledge.extract import Section


def test_paragraphs_are_packed_up_to_the_limit():
    text = "\n\n".join(f"paragraph {i} " + "word " * 20 for i in range(10))
    chunks = chunk_sections([Section("T", text)], max_chars=300)
    assert len(chunks) > 1
    assert all(len(c.text) <= 300 for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(c.title == "T" for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_long_paragraph_is_split_at_whitespace_and_long_words_are_cut():
    text = "alpha " * 50 + "x" * 250
    chunks = chunk_sections([Section("T", text)], max_chars=100)
    assert all(len(c.text) <= 100 for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == text.replace(" ", "")


def test_sections_never_share_a_chunk():
    chunks = chunk_sections([Section("A", "one"), Section("B", "two")], max_chars=1000)
    assert [(c.title, c.text) for c in chunks] == [("A", "one"), ("B", "two")]


def test_non_positive_limit_is_refused():
    with pytest.raises(ValueError, match="max_chars"):
        chunk_sections([Section("A", "x")], max_chars=0)
