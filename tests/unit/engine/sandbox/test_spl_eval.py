"""The SPL eval subset behind EVAL- calculated fields."""

from __future__ import annotations

import pytest

from engine.sandbox.spl_eval.parser import compile_eval, evaluate
from engine.sandbox.spl_eval.values import (
    EvalLimitError,
    EvalSyntaxError,
    EvalTypeError,
    Value,
    compare_values,
    to_values,
)

FIELDS = {
    "action": ["success"],
    "status": ["404"],
    "bytes": ["1536"],
    "ratio": ["2.5"],
    "user": ["Alice"],
    "ip": ["10.1.2.3"],
    "ip6": ["2001:db8::1"],
    "url": ["http%3A%2F%2Fexample.com%2Fa%20b"],
    "mv": ["a", "b", "c"],
    "padded": ["  hi  "],
    "my-field": ["dash"],
    "object.name": ["obj"],
    "empty": [""],
    "hexstr": ["ff"],
}

CASES: list[tuple[str, Value]] = [
    ('"literal"', "literal"),
    ("42", 42),
    ("1.5", 1.5),
    ("status", "404"),
    ("'my-field'", "dash"),
    ("'object.name'", "obj"),
    ("nosuch", None),
    ('if(action=="success", "ok", "bad")', "ok"),
    ('if(action="failure", "ok", "bad")', "bad"),
    ('if(nosuch=="x", "ok", "bad")', "bad"),
    ('case(status==200, "fine", status==404, "missing", true(), "other")', "missing"),
    ('case(status==1, "one")', None),
    ('coalesce(nosuch, empty, "x")', ""),
    ("coalesce(nosuch, user)", "Alice"),
    ("lower(user)", "alice"),
    ("upper(user)", "ALICE"),
    ("len(user)", 5),
    ('match(ip, "^10\\.")', True),
    ('match(user, "^\\d+$")', False),
    ('replace(ip, "(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)", "\\4.\\3.\\2.\\1")', "3.2.1.10"),
    ('replace(user, "l", "L")', "ALice"),
    ('split("a,b,c", ",")', ["a", "b", "c"]),
    ("mvindex(mv, 0)", "a"),
    ("mvindex(mv, -1)", "c"),
    ("mvindex(mv, 1, 2)", ["b", "c"]),
    ("mvindex(mv, 5)", None),
    ("mvcount(mv)", 3),
    ("mvcount(nosuch)", None),
    ('mvjoin(mv, ";")', "a;b;c"),
    ('mvappend(user, "x", nosuch)', ["Alice", "x"]),
    ('mvfind(mv, "c")', 2),
    ('substr("splendid", 1, 3)', "spl"),
    ('substr("splendid", -3)', "did"),
    ('substr("splendid", 3)', "lendid"),
    ("tonumber(bytes) + 1", 1537),
    ("tonumber(hexstr, 16)", 255),
    ('tonumber("abc")', None),
    ('tostring(255, "hex")', "0xFF"),
    ('tostring(1234567, "commas")', "1,234,567"),
    ('tostring(3661, "duration")', "01:01:01"),
    ("tostring(1==1)", "True"),
    ("isnull(nosuch)", True),
    ("isnotnull(user)", True),
    ("isnum(bytes)", True),
    ("isnum(user)", False),
    ("isstr(user)", True),
    ("isint(ratio)", False),
    ('cidrmatch("10.0.0.0/8", ip)', True),
    ('cidrmatch("192.168.0.0/16", ip)', False),
    ('cidrmatch("2001:db8::/32", ip6)', True),
    ('cidrmatch("10.0.0.0/8", ip6)', False),
    ("urldecode(url)", "http://example.com/a b"),
    ("trim(padded)", "hi"),
    ("ltrim(padded)", "hi  "),
    ("rtrim(padded)", "  hi"),
    ('trim("xxhixx", "x")', "hi"),
    ('like(user, "Al%")', True),
    ('like(user, "A_ice")', True),
    ('user LIKE "al%"', False),
    ('in(status, "200", "404")', True),
    ('status IN ("200", "500")', False),
    ("round(2.567, 2)", 2.57),
    ("round(2.5)", 3),
    ("abs(-3)", 3),
    ("floor(ratio)", 2),
    ("ceil(ratio)", 3),
    ('user . "@" . status', "Alice@404"),
    ('"a" + "b"', "ab"),
    ("bytes / 1024", 1.5),
    ("bytes % 1000", 536),
    ("2 + 3 * 4", 14),
    ("(2 + 3) * 4", 20),
    ("-status", -404),
    ("bytes / 0", None),
    ("user + 1", None),
    ("status > 400 AND status < 500", True),
    ('status != 404 OR user == "Alice"', True),
    ("NOT status == 404", False),
    ("!(status == 404)", False),
    ("1 == 1 XOR 2 == 2", False),
    ('"10" < "9"', False),
    ('"abc" < "abd"', True),
    ('mv == "b"', True),
    ("lower(mv)", ["a", "b", "c"]),
    ("null()", None),
    ('nullif(status, "404")', None),
    ("max(3, bytes, 7)", 1536),
    ("min(3, bytes, 7)", 3),
    ('spath("{\\"a\\": {\\"b\\": [1, 2]}}", "a.b{}")', ["1", "2"]),
    ('validate(isnum(bytes), "not a number", bytes > 2000, "too small")', "too small"),
    ("typeof(user)", "String"),
    ('if(isnotnull(nosuch) or status=="404", "blocked", "added")', "blocked"),
    ('status==404 and not user=="Bob"', True),
    ('in(status, "404") AND like(user, "A%")', True),
    ('user like "A%"', True),
    ('100.0-tonumber(rtrim("42%", "%"), 10)', 58),
    ("2*pow(1024,-1)", 0.001953125),
    ('tostring(1e999, "hex")', None),
    ("tonumber(hexstr, 99)", None),
    ('mvfilter(mv != "b")', ["a", "c"]),
    ('mvfilter(match(mv, "^c"))', "c"),
    ('mvfilter(mv == "z")', None),
    ("sha256(user)", "3bc51062973c458d5a6f2d8d64a023246354ad7e064b1e4e009ec8a0699a3043"),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0] for c in CASES])
def test_eval(expression: str, expected: Value) -> None:
    assert evaluate(expression, FIELDS) == expected


@pytest.mark.parametrize(
    "expression",
    [
        'if(a, "b")',
        "mvfilter(a == b)",
        "1 +",
        '"open',
        "nosuchfunc(1)",
        "(1",
        "a b",
        "substr()",
        "",
    ],
)
def test_syntax_errors(expression: str) -> None:
    with pytest.raises(EvalSyntaxError):
        compile_eval(expression)


def test_to_values_formats_numbers_and_refuses_booleans() -> None:
    assert to_values(1.0) == ["1"]
    assert to_values(0.1 + 0.2) == ["0.3"]
    assert to_values(["a", "b"]) == ["a", "b"]
    assert to_values(None) is None
    with pytest.raises(EvalTypeError):
        to_values(True)


def test_catastrophic_regex_in_match_is_bounded() -> None:
    expression = compile_eval('match(s, "(a+)+b")')
    with pytest.raises(EvalLimitError):
        expression({"s": ["a" * 40 + "c b"]}.get)


def test_compiled_expression_is_reusable() -> None:
    expression = compile_eval('if(x > 10, "big", "small")')
    assert expression({"x": ["11"]}.get) == "big"
    assert expression({"x": ["9"]}.get) == "small"


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        (">", "10", "9", True),  # both numbers: numeric order
        (">", "10", "9a", False),  # one is text: string order
        ("<=", "2.0", "2", True),
        ("==", "2.0", "2", True),
        ("!=", "2.0", "2x", True),
    ],
)
def test_compare_values_is_numeric_only_when_both_sides_are_numbers(
    op: str, left: str, right: str, expected: bool
) -> None:
    numbers = {"10": 10, "9": 9, "2.0": 2.0, "2": 2}
    result = compare_values(
        op, left, right, left_number=numbers.get(left), right_number=numbers.get(right)
    )
    assert result is expected
