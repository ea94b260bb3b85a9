"""Reading the validation pod's log: the events between run.sh's markers, and a capped copy.

run.sh prints each sample's events (the export endpoint's JSON lines) between
`@@tagen-events-begin N@@` and `@@tagen-events-end N@@`, then `@@tagen-done@@`. The events go
to the engine's `SplunkResults` as they are read, so memory stays bounded; everything else
(provisioning, Splunk's messages, errors) is kept for `validation_logs` within a byte budget:
its head and its tail, the event lines replaced by their count.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence

from engine.sandbox.report import SampleRun
from engine.sandbox.splunk_results import SplunkResults

BEGIN = re.compile(r"@@tagen-events-begin (\d+)@@")
END = re.compile(r"@@tagen-events-end (\d+)@@")
DONE = "@@tagen-done@@"


class CappedLog:
    """The first and last ``max_bytes / 2`` bytes of a log, lines whole, with what was left out."""

    def __init__(self, max_bytes: int) -> None:
        self._half = max_bytes // 2
        self._head: list[str] = []
        self._head_bytes = 0
        self._tail: deque[str] = deque()
        self._tail_bytes = 0
        self._dropped = 0

    def add(self, line: str) -> None:
        size = len(line.encode("utf-8")) + 1
        if not self._tail and self._head_bytes + size <= self._half:
            self._head.append(line)
            self._head_bytes += size
            return
        self._tail.append(line)
        self._tail_bytes += size
        while self._tail_bytes > self._half and self._tail:
            dropped = self._tail.popleft()
            self._tail_bytes -= len(dropped.encode("utf-8")) + 1
            self._dropped += len(dropped.encode("utf-8")) + 1

    def text(self) -> str:
        middle = [f"[... {self._dropped} bytes of log not kept ...]"] if self._dropped else []
        return "\n".join([*self._head, *middle, *self._tail])


class PodLogReader:
    """Feeds the events of each sample's block to ``results``; says what was missing."""

    def __init__(
        self,
        *,
        results: SplunkResults,
        runs: Sequence[SampleRun],
        max_events: int,
        max_log_bytes: int,
    ) -> None:
        self._results = results
        self._runs = runs
        self._max_events = max_events
        self.log = CappedLog(max_log_bytes)
        self._block: int | None = None
        self._block_events = 0
        self._block_lines = 0
        self._seen: set[int] = set()
        self._done = False

    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        stripped = line.strip()
        if self._block is None:
            self.log.add(line)
            begin = BEGIN.fullmatch(stripped)
            if begin and int(begin.group(1)) < len(self._runs):
                self._start(int(begin.group(1)))
            elif stripped == DONE:
                self._done = True
            return
        end = END.fullmatch(stripped)
        if end and int(end.group(1)) == self._block:
            self.log.add(f"[{self._block_lines} line(s) of events of sample {self._block}]")
            self.log.add(line)
            self._seen.add(self._block)
            self._block = None
        elif stripped:
            self._block_lines += 1
            self._event_line(stripped)

    def _start(self, index: int) -> None:
        self._block, self._block_events, self._block_lines = index, 0, 0
        self._results.start_sample(self._runs[index])

    def _event_line(self, line: str) -> None:
        run = self._runs[self._block or 0]
        try:
            item = json.loads(line)
        except ValueError:
            self._results.warn(f"{run.path}: a line of the search output is not JSON")
            return
        if not isinstance(item, dict):
            return
        for message in item.get("messages") or []:
            self._results.message(str(message.get("type", "INFO")), str(message.get("text", "")))
        result = item.get("result")
        if not isinstance(result, dict):
            return
        self._block_events += 1
        if self._block_events > self._max_events:
            if self._block_events == self._max_events + 1:
                self._results.warn(
                    f"{run.path}: more than {self._max_events} events; the report covers the "
                    "first ones only (TAGEN_K8S_MAX_EVENTS_PER_SAMPLE)"
                )
            return
        self._results.add(result)

    def problem(self) -> str | None:
        """Why the log does not hold every sample's events, or None when it does."""
        if self._block is not None:
            return f"the pod log ends inside the events of sample {self._block}"
        missing = [run.path for index, run in enumerate(self._runs) if index not in self._seen]
        if not self._seen and not self._done:
            return (
                "no event markers in the pod log: the validation script did not reach its searches"
            )
        if missing:
            return f"the pod log has no events block for {', '.join(missing)}"
        if not self._done:
            return f"the pod log has no {DONE} marker: the validation script stopped early"
        return None
