"""Table cases for eval searchmatch(), now(), time() and strftime() (Search Reference,
"Evaluation functions"), each quoting the line it follows."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.parser import compile_eval
from engine.sandbox.spl_eval.values import EvalSyntaxError, Value

CLOCK = EvalClock(datetime(2024, 6, 10, 12, 0, 0, 250000, tzinfo=UTC), ZoneInfo("Europe/Paris"))
FIELDS = {
    "_raw": ["2024-06-10 user=bob action=login status=failed src=10.1.2.3"],
    "_time": ["1717999200.5"],
    "user": ["bob"],
    "action": ["login"],
    "status": ["failed"],
    "count": ["12"],
    "src": ["10.1.2.3"],
}
SEARCHMATCH = 'searchmatch(X): "Use this function to return TRUE if the event matches the search"'
NOW = 'now(): "Returns the time that the search was started", in UNIX time'
TIME = 'time(): "Returns the wall-clock time, in the UNIX time format, with microseconds"'
STRFTIME = (
    'strftime(X,Y): "takes a UNIX time value as the first argument and renders the time as a '
    "string using the format specified\" (in the user's time zone)"
)
FORMAT_VARIABLES = 'Date and time format variables: "%N ... default %9N", "%Q ... default %3Q"'

CASES: list[tuple[str, str, Value]] = [
    (SEARCHMATCH, 'searchmatch("user=bob")', True),
    (SEARCHMATCH, 'searchmatch("user=alice")', False),
    (SEARCHMATCH, 'searchmatch("failed login")', True),  # bare terms against _raw
    (SEARCHMATCH, 'searchmatch("user=b* AND NOT status=ok")', True),
    (SEARCHMATCH, 'searchmatch("count>10 src=10.1.*")', True),
    (SEARCHMATCH, 'if(searchmatch("status=failed"), "failure", "success")', "failure"),
    (SEARCHMATCH, 'searchmatch("eventtype=anything")', False),  # eventtypes come after eval
    (SEARCHMATCH, 'searchmatch("nosuchfield=*")', False),
    (NOW, "now()", 1718020800),
    (NOW, "now() - 3600", 1718017200),
    (TIME, "time()", "1718020800.250000"),
    (STRFTIME, 'strftime(_time, "%Y-%m-%d %H:%M:%S")', "2024-06-10 08:00:00"),
    (STRFTIME, 'strftime(_time, "%Y-%m-%dT%H:%M:%S.%3N%z")', "2024-06-10T08:00:00.500+0200"),
    (STRFTIME, 'strftime(_time, "%:z %::z")', "+02:00 +02:00:00"),
    (STRFTIME, 'strftime(_time, "%s")', "1717999200"),
    (FORMAT_VARIABLES, 'strftime(_time, "%N|%6N|%Q")', "500000000|500000|500"),
    (STRFTIME, 'strftime(0, "%e %k %l %p %b %a %j")', " 1  1  1 AM Jan Thu 001"),
    (STRFTIME, 'strftime(now(), "%F %T")', "2024-06-10 14:00:00"),
    (STRFTIME, 'strftime(user, "%F")', None),  # not a number: null
    (STRFTIME, 'strftime(nosuch, "%F")', None),
]


@pytest.mark.parametrize(("spec", "expression", "expected"), CASES, ids=[case[1] for case in CASES])
def test_clock_and_search_functions(spec: str, expression: str, expected: Value) -> None:
    assert compile_eval(expression, clock=CLOCK)(FIELDS.get) == expected


@pytest.mark.parametrize(
    "expression", ['searchmatch("a | stats count")', "searchmatch()", "strftime(1)", "now(1)"]
)
def test_bad_calls_are_syntax_errors(expression: str) -> None:
    with pytest.raises(EvalSyntaxError):
        compile_eval(expression, clock=CLOCK)


def test_a_computed_search_string_is_compiled_when_evaluated() -> None:
    expression = compile_eval('searchmatch("user=" . who)', clock=CLOCK)
    assert expression({**FIELDS, "who": ["bob"]}.get) is True
    assert expression({**FIELDS, "who": ["eve"]}.get) is False
    assert expression(FIELDS.get) is None  # null search string


def test_without_a_clock_now_reads_the_machine_clock() -> None:
    before = int(datetime.now(UTC).timestamp())
    value = compile_eval("now()")({}.get)
    assert isinstance(value, int) and before <= value <= before + 5
