"""engine.regex: offsets and groups read through the binding's accessors."""

from __future__ import annotations

import pytest

from engine.regex import RegexError, compile_regex, match_groups, match_span


def test_spans_are_character_offsets_in_str_subjects() -> None:
    regex = compile_regex(r"(?<user>\w+)@(x)?(h)")
    match = regex.search("zoë bob@h")
    assert match is not None
    assert (match.span(), match.span("user"), match.span(2), match.end(3)) == (
        (4, 9),
        (4, 7),
        (-1, -1),
        9,
    )
    for group in (4, "nope"):
        with pytest.raises(IndexError):
            match.span(group)


def test_byte_accessors_read_groups_and_spans_of_byte_matches() -> None:
    regex = compile_regex(r"(a)(b)?(c)")
    match = regex.search_bytes(b"xxac")
    assert match is not None
    assert match_groups(match, range(4)) == [b"ac", b"a", None, b"c"]
    assert match_groups(match, (3, 2)) == [b"c", None]
    assert (match_span(match), match_span(match, 2), match_span(match, 3)) == (
        (2, 4),
        (-1, -1),
        (3, 4),
    )
    assert [m.span() for m in regex.finditer_bytes(b"ac-abc-ac")] == [(0, 2), (3, 6), (7, 9)]


def test_search_end_is_the_character_offset_after_the_first_match() -> None:
    prefix = compile_regex(r"time=")
    assert prefix.search_end("zoë time=1 time=2") == 9
    assert prefix.search_end("ascii time=1") == 11
    assert prefix.search_end("no prefix") is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(ab", "missing closing parenthesis at byte 3"),
        ("a)b", "unmatched closing parenthesis at byte 2"),
    ],
)
def test_compile_errors_name_the_offset_in_the_pattern_as_written(
    pattern: str, message: str
) -> None:
    with pytest.raises(RegexError) as caught:
        compile_regex(pattern)
    assert str(caught.value) == f"invalid regex {pattern!r}: {message}"


def test_a_long_pattern_is_quoted_by_its_head_and_length() -> None:
    pattern = "(" + "a" * 1_000_000
    with pytest.raises(RegexError) as caught:
        compile_regex(pattern)
    message = str(caught.value)
    assert message.startswith("invalid regex '(aaa")
    assert message.endswith(
        f"... ({len(pattern)} characters): missing closing parenthesis at byte {len(pattern)}"
    )
    assert len(message) < 400
