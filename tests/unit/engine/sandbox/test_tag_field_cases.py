"""Table cases for ``tag::<field>`` (tags.conf.spec; Knowledge Manager Manual, "Tag field-value
pairs in Search"), each quoting the line it follows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor

TAG_FIELD_SEARCH = (
    "To search for a tag associated with a value on a specific field, use: "
    "tag::<field>=<tagname> (Tag field-value pairs in Search)"
)
TAGS = {
    "host=web01": {"web": "enabled", "prod": "enabled"},
    "src=10.0.0.1": {"internal": "enabled"},
    "user=bob": {"web": "enabled", "retired": "disabled"},
    "eventtype=logins": {"authentication": "enabled"},
}
EVENTTYPES = {
    "logins": {"search": "action=login"},
    "web_hosts": {"search": "tag::host=web"},
    "web_anywhere": {"search": "tag=web"},
    "internal_src": {"search": 'tag::src="internal"'},
}


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    fields: dict[str, list[str]]
    expected: dict[str, list[str]]
    absent: tuple[str, ...] = ()
    eventtypes: list[str] = field(default_factory=list)


CASES = [
    Case(
        "a tagged field value gives tag::<field> and tag",
        "[<fieldname>=<value>] * The field name and value to which the tags in the stanza apply.",
        {"host": ["web01"]},
        {"tag::host": ["prod", "web"], "tag": ["prod", "web"]},
        eventtypes=["web_anywhere", "web_hosts"],
    ),
    Case(
        "each field keeps its own tags; tag is their union",
        "Each stanza can refer to only one field/value pair.",
        {"host": ["web01"], "src": ["10.0.0.1"]},
        {
            "tag::host": ["prod", "web"],
            "tag::src": ["internal"],
            "tag": ["internal", "prod", "web"],
        },
        eventtypes=["internal_src", "web_anywhere", "web_hosts"],
    ),
    Case(
        "tag::<field>= matches the tag on that field only",
        TAG_FIELD_SEARCH,
        {"host": ["db01"], "user": ["bob"]},
        {"tag::user": ["web"], "tag": ["web"]},
        absent=("tag::host",),
        eventtypes=["web_anywhere"],
    ),
    Case(
        "an eventtype's tags are tag::eventtype",
        "[eventtype=<name>] tags the events of an eventtype (tags.conf.spec: <tag1> = "
        "<enabled|disabled>)",
        {"action": ["login"]},
        {"tag::eventtype": ["authentication"], "tag": ["authentication"]},
        eventtypes=["logins"],
    ),
    Case(
        "a disabled tag is not set",
        "Enable or disable each <tag> for this specific field/value pair.",
        {"user": ["bob"]},
        {"tag::user": ["web"]},
        eventtypes=["web_anywhere"],
    ),
    Case(
        "values are compared case-insensitively",
        "search compares field values case-insensitively",
        {"host": ["WEB01"]},
        {"tag::host": ["prod", "web"]},
        eventtypes=["web_anywhere", "web_hosts"],
    ),
    Case(
        "no tagged value: no tag fields",
        TAG_FIELD_SEARCH,
        {"host": ["db01"]},
        {},
        absent=("tag", "tag::host", "tag::eventtype"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_tag_field_case(case: Case) -> None:
    processor = SearchTimeProcessor(
        transforms={}, eventtypes=EVENTTYPES, tags=TAGS, lookup_files={}
    )
    event = Event(raw="x", sourcetype="st", source="s", host="h")
    event.fields.update({name: list(values) for name, values in case.fields.items()})
    results, errors = processor.run(event, {"KV_MODE": "none"})
    assert errors == [] and results == [event]
    for name, values in case.expected.items():
        assert event.fields.get(name) == values, (name, event.fields)
    for name in case.absent:
        assert name not in event.fields
    assert event.eventtypes == case.eventtypes
