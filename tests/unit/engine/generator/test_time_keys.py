"""Which moment a timestamp key names: words of the key, the word before it, JSON nesting."""

from __future__ import annotations

import pytest

from engine.generator.time_keys import (
    COLLECTOR,
    GENERIC,
    OCCURRENCE,
    OTHER_MOMENT,
    UNNAMED,
    json_key_parents,
    key_rank,
    key_words,
)


def test_key_words_split_separators_and_camel_case() -> None:
    assert key_words("createdDateTime") == ["created", "date", "time"]
    assert key_words("winlog.time_created") == ["winlog", "time", "created"]
    assert key_words("@timestamp") == ["timestamp"]
    assert key_words("TimeGenerated") == ["time", "generated"]


@pytest.mark.parametrize(
    ("key", "qualifier", "parents", "rank"),
    [
        ("eventTime", "", (), OCCURRENCE),
        ("TimeGenerated", "", (), OCCURRENCE),
        ("created", "", ("event",), OCCURRENCE),
        ("start", "", ("event",), OCCURRENCE),
        ("createdDateTime", "", ("properties",), OCCURRENCE),
        ("time", "", (), GENERIC),
        ("ts", "", (), GENERIC),
        ("log_timestamp", "", (), GENERIC),
        ("StartUTC", "", (), GENERIC),
        ("msg", "", (), UNNAMED),
        ("Time", "End", (), OTHER_MOMENT),
        ("expires_at", "", (), OTHER_MOMENT),
        ("creationDate", "", ("userIdentity", "sessionContext", "attributes"), OTHER_MOMENT),
        ("created_at", "", ("user",), OTHER_MOMENT),
        ("@timestamp", "", (), COLLECTOR),
        ("ingested", "", ("event",), COLLECTOR),
        ("receivedAt", "", (), COLLECTOR),
        ("_write_ts", "", (), COLLECTOR),
    ],
)
def test_key_rank(key: str, qualifier: str, parents: tuple[str, ...], rank: int) -> None:
    assert key_rank(key, qualifier=qualifier, parents=parents) == rank


def test_json_key_parents_follow_the_text_order_of_each_key() -> None:
    text = 'x {"a": {"t": 1, "b": [{"t": 3}]}, "t": 2}'
    assert json_key_parents(text) == {"a": [()], "t": [("a",), ("a", "b"), ()], "b": [("a",)]}
    assert json_key_parents("no json {here") == {}
