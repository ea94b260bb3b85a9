"""Which moment a keyed timestamp names, from the words of its key and of the keys around it.

An event can carry several times: when it happened (``eventTime``, ``TimeGenerated``,
``event.created``), a generic stamp (``time``, ``timestamp``, ``ts``), other moments of the
things it talks about (``expires``, ``End Time``, ``user.created_at``), and the stamp a
collector added when it read or shipped the event (``@timestamp``, ``ingest_time``,
``receivedAt``). A TA takes the source's own event time, as the vendors' add-ons do; a
collector's stamp is the last resort. The rank comes from the words of the key (split at
separators and camelCase), the word written before it (``End Time``) and, in JSON, the objects
it is nested in (a creation date under ``userIdentity.sessionContext`` is the session's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

OCCURRENCE = 0
"""The key names the event's own moment: ``eventTime``, ``created``, ``TimeGenerated``."""
GENERIC = 1
"""A time key without qualification (``time``, ``ts``, ``timestamp``), or a start time; also an
unkeyed timestamp at the start of the event (a header's)."""
UNNAMED = 2
"""A key that says nothing about time, or an unkeyed timestamp further in."""
OTHER_MOMENT = 3
"""Another moment (an end, an expiry, an update) or another entity's time (a user's, a
certificate's); also a bare epoch number that no calendar time of the event corroborates."""
COLLECTOR = 4
"""When a collector read, received, indexed or shipped the event (``@timestamp``)."""

_EVENT = frozenset({"event", "evt"})
_TIME = frozenset(
    {"time", "timestamp", "ts", "date", "datetime", "dt", "when", "at", "utc", "stamp"}
)
_OCCURRENCE = frozenset(
    {
        "created",
        "creation",
        "create",
        "generated",
        "occurred",
        "occurrence",
        "logged",
        "observed",
        "detected",
        "happened",
        "raised",
        "triggered",
        "reported",
        "emitted",
        "recorded",
    }
)
_GENERIC = _TIME | frozenset({"start", "started", "begin", "began", "logtime"})
_OTHER = frozenset(
    {
        "end",
        "ended",
        "stop",
        "stopped",
        "finish",
        "finished",
        "expire",
        "expires",
        "expired",
        "expiry",
        "expiration",
        "update",
        "updated",
        "modified",
        "modify",
        "modification",
        "changed",
        "last",
        "next",
        "previous",
        "prev",
        "valid",
        "until",
        "due",
        "deadline",
        "birth",
        "dob",
        "renew",
        "renewal",
        "renewed",
        "seen",
        "issued",
        "before",
        "after",
        "boot",
        "installed",
        "deleted",
        "closed",
        "completed",
        "resolved",
        "scheduled",
        "since",
        "retention",
    }
)
_COLLECTOR = frozenset(
    {
        "ingest",
        "ingested",
        "ingestion",
        "received",
        "receive",
        "receipt",
        "collected",
        "collector",
        "collection",
        "indexed",
        "published",
        "exported",
        "export",
        "uploaded",
        "upload",
        "arrival",
        "arrived",
        "forwarded",
        "processed",
        "read",
        "written",
        "write",
        "shipped",
        "agent",
    }
)
_ENTITIES = frozenset(
    {
        "user",
        "identity",
        "useridentity",
        "session",
        "sessioncontext",
        "actor",
        "account",
        "certificate",
        "cert",
        "device",
        "owner",
        "author",
        "committer",
        "commit",
        "repository",
        "repo",
        "file",
        "process",
        "parent",
        "token",
        "credential",
        "credentials",
        "principal",
        "package",
        "image",
        "license",
        "subscription",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def key_words(key: str) -> list[str]:
    """The lower-case words of a key: ``createdDateTime`` -> created, date, time."""
    return [word.lower() for word in _WORD.findall(key)]


def key_rank(key: str, *, qualifier: str = "", parents: Sequence[str] = ()) -> int:
    """The rank (lower is preferred) of a timestamp that is the value of ``key``."""
    words = set(key_words(key))
    if key.startswith("@") or words & _COLLECTOR:
        return COLLECTOR
    context = {word for parent in parents for word in key_words(parent)}
    context |= {"".join(key_words(parent)) for parent in parents}
    if words & _OTHER or qualifier.lower() in _OTHER or context & _ENTITIES:
        return OTHER_MOMENT
    if words & _OCCURRENCE or (words & _EVENT and words & _TIME) or (context & _EVENT):
        return OCCURRENCE
    if words & _GENERIC:
        return GENERIC
    return UNNAMED


def json_key_parents(event: str) -> dict[str, list[tuple[str, ...]]]:
    """For each key of the JSON object in ``event``: the keys it is nested in, once per
    occurrence in document order (which is the order of the key's occurrences in the text)."""
    start = event.find("{")
    if start < 0:
        return {}
    try:
        document = json.loads(event[start:])
    except (ValueError, RecursionError):  # RecursionError: nested beyond the stack
        return {}
    found: dict[str, list[tuple[str, ...]]] = {}
    # Depth-first in document order (children pushed reversed), without recursion: a key is
    # recorded when visited, before the keys nested in its value.
    stack: list[tuple[str | None, object, tuple[str, ...]]] = [(None, document, ())]
    while stack:
        key, value, parents = stack.pop()
        if key is not None:
            found.setdefault(key, []).append(parents)
            parents = (*parents, key)
        if isinstance(value, dict):
            stack.extend((name, item, parents) for name, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((None, item, parents) for item in reversed(value))
    return found
