"""The eventtype search matcher."""

from __future__ import annotations

import pytest

from engine.sandbox.eventtypes import (
    EventtypeMatcher,
    EventtypeSearchError,
    MatchContext,
    compile_search,
)

FIELDS = {
    "sourcetype": ["req:test:broken"],
    "status": ["success"],
    "action": ["Allowed"],
    "dest_port": ["443"],
    "user": ["alice", "bob"],
    "src": ["10.0.0.5"],
    "source": ["/opt/splunk/var/log/splunk/splunkd.log"],
}
RAW = "2024-01-01 ERROR Connection refused for user=alice from 10.0.0.5 (login_failed)"

CASES = [
    ("sourcetype=req:test:broken", True),
    ("sourcetype=REQ:TEST:BROKEN", True),
    ("sourcetype=req:*", True),
    ("sourcetype=other", False),
    ('status IN ("success","failure","error")', True),
    ("status IN (failure, error)", False),
    ('sourcetype=req:test:broken AND status IN ("success")', True),
    ("action=allowed", True),
    ('action="Allowed"', True),
    ("action!=blocked", True),
    ("action!=allowed", False),
    ("nosuch!=x", False),
    ("NOT nosuch=x", True),
    ("NOT action=allowed", False),
    ("action=*", True),
    ("nosuch=*", False),
    ("dest_port>400", True),
    ("dest_port<=100", False),
    ("user=bob", True),
    ("error", True),
    ("ERROR refused", True),
    ('"connection refused"', True),
    ("refus*", True),
    ("refuse", False),
    ("login", True),
    ("warning", False),
    ("status=success OR status=failure", True),
    ("status=failure OR action=blocked", False),
    ("sourcetype=other status=success OR action=allowed", False),
    ("(sourcetype=other status=success) OR action=allowed", True),
    ("status = success", True),
    ("source=*splunkd.log", True),
    ("index=_internal sourcetype=req:test:broken", True),
    ("earliest=-24h status=success", True),
    ("*", True),
]


def _context(field_tags: set[str] | None = None) -> MatchContext:
    return MatchContext(
        get=FIELDS.get,
        raw=RAW,
        field_tags=field_tags or set(),
        resolve_eventtype=lambda name: False,
    )


@pytest.mark.parametrize(("search", "expected"), CASES, ids=[c[0] for c in CASES])
def test_search(search: str, expected: bool) -> None:
    assert compile_search(search)(_context()) is expected


def test_tag_terms_use_field_value_tags() -> None:
    assert compile_search("tag=network")(_context({"network"})) is True
    assert compile_search("tag=network")(_context()) is False


@pytest.mark.parametrize("search", ["status=x | stats count", "(a=1", "a= ", 'a="open', "OR"])
def test_bad_searches(search: str) -> None:
    with pytest.raises(EventtypeSearchError):
        compile_search(search)


def test_matcher_nested_disabled_templates_and_errors() -> None:
    matcher = EventtypeMatcher.build(
        {
            "auth": {"search": "status IN (success, failure)"},
            "auth_ok": {"search": "eventtype=auth status=success"},
            "loop_a": {"search": "eventtype=loop_b"},
            "loop_b": {"search": "eventtype=loop_a"},
            "off": {"search": "status=success", "disabled": "1"},
            "per_user-%user%": {"search": "user=*"},
            "per_missing-%nosuch%": {"search": "status=*"},
            "broken": {"search": "status=x | head 1"},
            "any_auth": {"search": "eventtype=auth*"},
        }
    )
    names = matcher.match(get=FIELDS.get, raw=RAW, field_tags=set())
    assert names == ["any_auth", "auth", "auth_ok", "per_user-alice"]
    assert len(matcher.errors) == 1
    assert matcher.errors[0].startswith("eventtype broken:")
