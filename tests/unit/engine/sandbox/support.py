"""Helpers the sandbox suites share: an event sink that keeps events, HEC envelope lines."""

from __future__ import annotations

import json

from engine.sandbox.events import Event


class Collect:
    """An event sink that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def write(self, event: Event) -> None:
        self.events.append(event)


def hec_lines(*envelopes: object) -> str:
    """HEC envelopes, one JSON object per line."""
    return "".join(json.dumps(envelope) + "\n" for envelope in envelopes)
