"""Reading the validation pod's log: events per sample between markers, a capped copy, gaps."""

from __future__ import annotations

import json

from engine.conf.ta import TA
from engine.sandbox.report import SampleRun
from engine.sandbox.splunk_results import SplunkResults
from engine.settings import SandboxSettings
from tasks.validators.kubernetes.pod_log import CappedLog, PodLogReader

RUNS = [
    SampleRun(
        path=f"/tagen/input/samples/{n}.log",
        sourcetype="x",
        source=f"/tagen/input/samples/{n}.log",
        host="h",
    )
    for n in ("a", "b")
]


def _line(user: str, **extra: object) -> str:
    result = {"_raw": f"2024-01-01 00:00:00 user={user}", "_time": "2024-01-01T00:00:00.000+00:00",
              "timestartpos": "0", "user": user, "sourcetype": "x"}  # fmt: skip
    return json.dumps({"preview": False, "offset": 0, "result": result, **extra})


def _reader(max_events: int = 100, max_log_bytes: int = 4096) -> tuple[PodLogReader, SplunkResults]:
    results = SplunkResults(ta=TA(app_id="TA-x", version="1.0.0"), settings=SandboxSettings())
    return PodLogReader(
        results=results, runs=RUNS, max_events=max_events, max_log_bytes=max_log_bytes
    ), results


def _feed(reader: PodLogReader, text: str) -> None:
    for line in text.splitlines():
        reader.feed(line)


def test_events_between_markers_go_to_their_sample_and_stay_out_of_the_kept_log():
    reader, results = _reader()
    _feed(reader, "\n".join([
        "PLAY RECAP ok=42", "@@tagen-events-begin 0@@", _line("ann"), _line("bob"), "",
        "@@tagen-events-end 0@@", "@@tagen-events-begin 1@@", _line("cy"),
        "@@tagen-events-end 1@@", "@@tagen-done@@",
    ]))  # fmt: skip
    assert reader.problem() is None
    report = results.result().report
    assert [s.events for s in report.samples] == [2, 1]
    log = reader.log.text()
    assert "PLAY RECAP ok=42" in log and "@@tagen-done@@" in log
    assert "[2 line(s) of events of sample 0]" in log and "user=ann" not in log


def test_missing_markers_say_what_is_missing():
    reader, _ = _reader()
    _feed(reader, "PLAY RECAP failed=1\n")
    assert "no event markers" in (reader.problem() or "")
    reader, _ = _reader()
    _feed(reader, "@@tagen-events-begin 0@@\n" + _line("a") + "\n")
    assert reader.problem() == "the pod log ends inside the events of sample 0"
    reader, _ = _reader()
    _feed(reader, "@@tagen-events-begin 0@@\n@@tagen-events-end 0@@\n@@tagen-done@@\n")
    assert reader.problem() == "the pod log has no events block for /tagen/input/samples/b.log"
    reader, _ = _reader()
    _feed(
        reader,
        "@@tagen-events-begin 0@@\n@@tagen-events-end 0@@\n"
        "@@tagen-events-begin 1@@\n@@tagen-events-end 1@@\n",
    )
    assert "no @@tagen-done@@ marker" in (reader.problem() or "")


def test_the_event_cap_keeps_the_first_events_and_warns():
    reader, results = _reader(max_events=2)
    _feed(
        reader,
        "@@tagen-events-begin 0@@\n"
        + "\n".join(_line(u) for u in "abc")
        + "\n@@tagen-events-end 0@@\n",
    )
    report = results.result().report
    assert report.events == 2
    assert any("more than 2 events" in w for w in report.warnings)


def test_search_messages_and_unreadable_lines_reach_the_report():
    reader, results = _reader()
    error = json.dumps({"messages": [{"type": "FATAL", "text": "Unknown search command 'bogus'"}]})
    _feed(reader, f"@@tagen-events-begin 0@@\n{error}\nnot json\n@@tagen-events-end 0@@\n")
    report = results.result().report
    assert report.config_errors == ["Splunk: Unknown search command 'bogus'"]
    assert any("not JSON" in w for w in report.warnings)


def test_the_capped_log_keeps_head_and_tail_and_says_how_much_went():
    log = CappedLog(100)
    for n in range(100):
        log.add(f"line {n:03d}")
    text = log.text()
    assert text.startswith("line 000\nline 001")
    assert text.endswith("line 099")
    assert "bytes of log not kept" in text
    assert len(text.encode()) < 140
