"""Event breaking per layout, checked by breaking the sample with the plan's PCRE LINE_BREAKER."""

from __future__ import annotations

from engine.generator.breaking import SINGLE_LINE, UNLESS_CONTINUED, plan_breaking
from engine.generator.formats import detect_format
from engine.generator.generate import split_events
from engine.generator.model import BreakingPlan
from engine.regex import compile_regex


def _plan(text: str) -> BreakingPlan:
    lines = text.split("\n")
    return plan_breaking(lines, detect_format(text, lines))


def _break(text: str, plan: BreakingPlan) -> list[str]:
    """``text`` split by the sandbox's LINE_BREAKER (Splunk semantics: group 1 is dropped)."""
    return split_events(text, plan)


JAVA = (
    "2024-01-05 10:00:00,001 INFO  [main] App - started\n"
    "2024-01-05 10:00:01,002 ERROR [main] App - boom\n"
    "java.lang.IllegalStateException: bad\n"
    "\tat com.example.App.run(App.java:10)\n"
    "\tat com.example.App.main(App.java:5)\n"
    "Caused by: java.io.IOException: disk\n"
    "\t... 2 more\n"
    "2024-01-05 10:00:02,003 INFO  [main] App - stopped\n"
)


def test_java_stack_traces_stay_in_their_event() -> None:
    plan = _plan(JAVA)
    assert plan.multiline and plan.settings()["SHOULD_LINEMERGE"] == "false"
    events = _break(JAVA, plan)
    assert len(events) == 3
    assert events[1].startswith("2024-01-05 10:00:01,002 ERROR") and events[1].endswith("more")
    assert plan.event_breaker == plan.line_breaker


def test_indented_syslog_continuations_and_new_months() -> None:
    text = (
        "Dec 31 23:59:59 mac app[1]: first\n"
        "\tdetail=a\n"
        "\t\tdetail=b\n"
        "Jan  1 00:00:01 mac app[1]: second\n"
        "Jan  1 00:00:02 mac app[1]: third\n"
    )
    plan = _plan(text)
    assert plan.multiline
    assert [event.split()[0] for event in _break(text, plan)] == ["Dec", "Jan", "Jan"]


def test_lines_led_by_timestamps_are_single_events_unless_continued() -> None:
    text = "".join(f"2024-01-0{i} 00:00:00 host msg {i}\n" for i in range(1, 10))
    plan = _plan(text)
    assert not plan.multiline and plan.line_breaker == UNLESS_CONTINUED
    assert len(_break(text, plan)) == 9
    # A stack trace the sample never showed still stays with its event...
    later = "2024-12-31 23:59:59 host boom\njava.lang.Error: x\n\tat A.b(A.java:1)\n"
    later += "Caused by: java.io.IOException: y\n\t... 2 more\n2025-01-01 00:00:00 host ok\n"
    assert len(_break(later, plan)) == 2
    # ...while a line without the leading timestamp is an event of its own.
    variant = "2024-12-31 23:59:59 host a\nhost app[2]: b\nError: c\n2025-01-01 00:00:00 d\n"
    assert len(_break(variant, plan)) == 4


def test_variant_lines_without_the_start_pattern_are_not_glued() -> None:
    # One line in three lacks the syslog header: a message of its own, not a continuation.
    lines = [
        f"app[{i}]: session {i} opened for u{i}"
        if i % 3 == 0
        else f"Nov  {1 + i % 9} 10:{i:02d}:00 host{i % 3} app[{i}]: session {i} opened for u{i}"
        for i in range(30)
    ]
    text = "\n".join(lines) + "\n"
    plan = _plan(text)
    assert not plan.multiline
    assert _break(text, plan) == lines


def test_open_brackets_and_repeated_record_shapes_are_continuations() -> None:
    bracket = "".join(
        f"2024-01-0{i} 00:00:00 dump {{\nid: {i},\nstate: ok\n}}\n" for i in range(1, 5)
    )
    plan = _plan(bracket)
    assert plan.multiline and len(_break(bracket, plan)) == 4
    records = "".join(
        f"2024-01-0{i} 00:00:00 Audit event\nUser: u{i}\nAction: login\n" for i in range(1, 5)
    )
    plan = _plan(records)
    assert plan.multiline and len(_break(records, plan)) == 4


def test_delimited_and_structured_lines_keep_the_plain_breaker() -> None:
    text = "".join(f'{{"ts": "2024-01-0{i} 00:00:00", "n": {i}}}\n' for i in range(1, 6))
    assert _plan(text).line_breaker == SINGLE_LINE


def test_structured_lines_without_timestamps_are_single_line() -> None:
    text = '{"a": 1}\n{"a": 2}\n{"a": 3}\n'
    assert _plan(text).line_breaker == SINGLE_LINE
    zeek = "#separator \\x09\n#fields\tts\tuid\n1700000000.1\tC1\n1700000001.2\tC2\n"
    plan = _plan(zeek)
    assert not plan.multiline and plan.skip == "^\\#"
    assert plan_breaking(["a b c"], detect_format("a b c\n", ["a b c"])).skip is None


def test_xml_records_break_on_their_root_element() -> None:
    text = (
        "<Event>\n  <System><EventID>1</EventID></System>\n</Event>\n"
        "<Event>\n  <System><EventID>2</EventID></System>\n</Event>\n"
    )
    plan = _plan(text)
    assert plan.multiline and plan.event_start == "<Event[\\s>/]"
    assert len(_break(text, plan)) == 2


def test_json_array_breaks_between_objects() -> None:
    text = '[\n  {"a": 1,\n   "b": 2},\n  {"a": 3,\n   "b": 4}\n]\n'
    events = _break(text, _plan(text))
    assert len(events) == 2 and events[1].startswith("{") and '"a": 3' in events[1]


def test_truncate_fits_the_longest_event() -> None:
    long_line = "2024-01-01 00:00:00 " + "x" * 30_000
    plan = _plan(f"{long_line}\n2024-01-01 00:00:01 short\n")
    assert plan.truncate >= 30_020 and plan.truncate % 1000 == 0
    assert _plan("2024-01-01 00:00:00 a\n").truncate == 10_000


def test_varying_text_before_the_timestamp_is_not_an_event_start() -> None:
    text = (
        '10.0.0.2, 10.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 5\n'
        '172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /a HTTP/1.1" 404 6\n'
        '"10.5.102.222, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /" 200 1\n'
        'unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-"\n'
    )
    plan = _plan(text)
    assert not plan.multiline and len(_break(text, plan)) == 4


def test_pretty_printed_json_objects_break_between_top_level_objects() -> None:
    one = '{\n  "ts": "2024-01-01T00:00:0%d",\n  "inner": {\n    "a": [1, 2]\n  }\n}\n'
    text = "".join(one % i for i in range(4))
    plan = _plan(text)
    events = _break(text, plan)
    assert len(events) == 4 and all(e.startswith("{") and e.endswith("}") for e in events)


def test_a_csv_header_row_is_skipped_at_index_time() -> None:
    text = "time,user,path (full)\n2024-01-01 00:00:00,bob,/a\n2024-01-01 00:00:01,eve,/b\n"
    plan = _plan(text)
    assert plan.skip is not None
    regex = compile_regex(plan.skip)
    assert [bool(regex.search(line)) for line in text.splitlines()] == [True, False, False]


def test_json_truncate_fits_the_longest_object_not_the_whole_sample() -> None:
    one = '{\n  "n": %d,\n  "pad": "' + "x" * 6000 + '"\n}\n'
    plan = _plan("".join(one % i for i in range(20)))
    assert 12_000 <= plan.truncate <= 14_000


def test_xml_records_with_unindented_children_or_declarations() -> None:
    flat = "".join(
        f"<Event>\n<System>\n<EventID>{i}</EventID>\n</System>\n</Event>\n" for i in range(3)
    )
    assert len(_break(flat, _plan(flat))) == 3
    declared = "".join(
        f'<?xml version="1.0"?>\n<Event>\n  <ID>{i}</ID>\n</Event>\n' for i in range(3)
    )
    events = _break(declared, _plan(declared))
    assert len(events) == 3 and all(event.startswith("<?xml") for event in events)


def test_an_unseen_python_traceback_stays_with_its_event() -> None:
    text = "".join(f"INFO 2025-10-12T21:4{i}:20Z lease {i}\n" for i in range(6))
    plan = _plan(text)
    later = (
        "INFO 2025-10-12T21:50:00Z lease 7\nTraceback (most recent call last):\n"
        '  File "/srv/app/main.py", line 273, in run\n    run()\nValueError: key not found\n'
        "INFO 2025-10-12T21:51:00Z lease 8\n"
    )
    assert len(_break(later, plan)) == 2
    assert len(_break(later.replace("\n", "\r\n"), plan)) == 2  # CRLF is one line end
