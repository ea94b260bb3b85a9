"""The debug bundle: one zip holding what is needed to see why a TA failed validation.

``report.json`` (the full report), ``ta/<conf>.conf`` (the confs as the sandbox read them),
``failing_events.jsonl`` (a few events that showed a problem, with their time error and
truncation flag) and ``samples/<n>_<name>`` (the head of each sample). Entries have a fixed
timestamp so the same run gives the same archive.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

from engine.conf.parse import render_conf
from engine.conf.ta import TA
from engine.outputs import atomic_output, cannot_write
from engine.samples import SampleError, read_sample_text
from engine.sandbox.events import Event
from engine.sandbox.events_out import event_record
from engine.sandbox.report import ValidationReport

EXCERPT_CHARS = 64 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _entry(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, text.encode("utf-8"))


def _failing_line(event: Event) -> str:
    record = event_record(event)
    record.update(offset=event.offset, time_error=event.time_error, truncated=event.truncated)
    return json.dumps(record, ensure_ascii=False)


def write_bundle(
    path: Path,
    *,
    report: ValidationReport,
    ta: TA,
    failing_events: Sequence[Event],
    samples: Sequence[Path],
) -> None:
    """Write the debug bundle to ``path`` (replaced atomically: complete or absent)."""
    with atomic_output(path) as partial:
        try:
            with zipfile.ZipFile(partial, "w") as archive:
                _entry(archive, "report.json", report.model_dump_json(indent=2))
                for name in sorted(ta.confs):
                    _entry(archive, f"ta/{name}.conf", render_conf(ta.confs[name]))
                lines = "".join(_failing_line(event) + "\n" for event in failing_events)
                _entry(archive, "failing_events.jsonl", lines)
                for index, sample in enumerate(samples, start=1):
                    try:
                        head = read_sample_text(sample, max_chars=EXCERPT_CHARS)
                    except SampleError as exc:
                        head = f"(sample not readable: {exc})\n"
                    _entry(archive, f"samples/{index}_{sample.name}", head)
        except OSError as exc:  # the archive could not be written (disk full, ...)
            raise cannot_write(path, exc) from exc
