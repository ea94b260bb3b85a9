"""Sandbox throughput: events per second against a bare loop producing the same results.

Three workloads on generated samples: (a) syslog with five EXTRACTs, (b) JSON with KV_MODE=json,
(c) CSV through INDEXED_EXTRACTIONS. Each runs through the whole sandbox (index time, search
time, report) and beside a bare loop that runs the same PCRE2 matches on the same text, the
unavoidable parsing and nothing else, but ends with what any sandbox must hand on per event:
its time as a datetime and its fields by name as text. LINE_BREAKER over the sample, then per
event the TIME_PREFIX search, the TIME_FORMAT match and its groups made a datetime, and (a) the
five EXTRACT regexes' named groups (first one wins), (b) ``json.loads`` and its leaves named
``a.b``/``a{}``, (c) ``csv.reader`` rows named by the header. The ratio sandbox/bare says how
much of the practical limit the sandbox reaches (goal: >= 0.5). The sandbox is then timed at
2k, 20k and 200k events to show linear growth (events/s stays flat). Times are CPU seconds of
this process (``time.process_time``), so other work on the machine does not skew the ratio.

    .venv/bin/python -m bench.sandbox_throughput [--sizes 2000,20000,200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from engine.conf.parse import parse_conf
from engine.conf.ta import TA
from engine.regex import compile_regex, match_groups
from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.strptime import compile_time_format
from engine.settings import SandboxSettings

NOW = datetime(2024, 6, 10, tzinfo=UTC)
LINE_BREAKER = r"([\r\n]+)"
SYSLOG_EXTRACTS = {
    "EXTRACT-a_host": r"^\w+\s+\d+ [\d:]+ (?<dest>\S+)",
    "EXTRACT-b_proc": r"(?<process>\w+)\[(?<pid>\d+)\]",
    "EXTRACT-c_auth": r"(?<result>Accepted|Failed) (?<method>\w+) for (?<user>\S+)",
    "EXTRACT-d_src": r"from (?<src>\d+\.\d+\.\d+\.\d+) port (?<src_port>\d+)",
    "EXTRACT-e_proto": r"port \d+ (?<protocol>ssh\d)",
}
SYSLOG_TIME = "%b %d %H:%M:%S"
JSON_TIME_PREFIX = '"time": "'
JSON_TIME = "%Y-%m-%dT%H:%M:%SZ"
CSV_TIME = "%Y-%m-%d %H:%M:%S"
APP_CONF = "[package]\nid = TA-bench\n\n[id]\nname = TA-bench\nversion = 1.0.0\n"


@dataclass(frozen=True)
class Workload:
    name: str
    props: str
    header: str
    line: Callable[[int], str]
    bare: Callable[[bytes], int]


def _syslog_line(i: int) -> str:
    verdict = "Accepted" if i % 3 else "Failed"
    return (
        f"Jun  {1 + i % 9} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} web{i % 50:02d} "
        f"sshd[{1000 + i}]: {verdict} password for user{i % 97} "
        f"from 10.{i % 256}.{(i // 256) % 256}.{i % 200} port {20000 + i % 40000} ssh2"
    )


def _json_line(i: int) -> str:
    return json.dumps(
        {
            "time": f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "user": {"name": f"user{i % 97}", "id": i},
            "action": "allowed" if i % 2 else "blocked",
            "src": f"10.0.{i % 256}.{i % 200}",
            "bytes": i * 13 % 100000,
            "tags": ["a", "b"],
        }
    )


def _csv_line(i: int) -> str:
    return (
        f"2024-05-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00,user{i % 97},"
        f"10.0.{i % 256}.{i % 200},{i * 13 % 100000},{'GET' if i % 2 else 'POST'}"
    )


def _lines(data: bytes) -> list[bytes]:
    breaker = compile_regex(LINE_BREAKER)
    out: list[bytes] = []
    start = 0
    for match in breaker.finditer_bytes(data):
        out.append(data[start : match.start(1)])
        start = match.end(1)
    if start < len(data):
        out.append(data[start:])
    return out


_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            b"jan",
            b"feb",
            b"mar",
            b"apr",
            b"may",
            b"jun",
            b"jul",
            b"aug",
            b"sep",
            b"oct",
            b"nov",
            b"dec",
        ),
        start=1,
    )
}


def _clock(prefix: str | None, fmt: str) -> Callable[[bytes], datetime | None]:
    """The TIME_PREFIX search then the TIME_FORMAT match at its end, as PCRE2 calls, and the
    groups made a UTC datetime (a month name read by its first three letters; no year: NOW's).
    The formats here are year/month/day/hour/minute/second in that order, year optional."""
    time_format = compile_time_format(fmt)
    regex, count = time_format.regex, len(time_format.kinds)
    named_month = time_format.kinds[0] == "monthname"
    prefix_regex = None if prefix is None else compile_regex(prefix)

    def moment(event: bytes) -> datetime | None:
        start = 0
        if prefix_regex is not None:
            found = prefix_regex.search_bytes(event)
            if found is None:
                return None
            start = found.end()
        match = regex.search_bytes(event, start)
        if match is None:
            return None
        values = match_groups(match, range(1, count + 1))
        if named_month:
            month = _MONTHS[(values[0] or b"")[:3].lower()]
            day, hour, minute, second = (int(value or 0) for value in values[1:])
            return datetime(NOW.year, month, day, hour, minute, second, tzinfo=UTC)
        year, month, day, hour, minute, second = (int(value or 0) for value in values)
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)

    return moment


def _bare_syslog(data: bytes) -> int:
    compiled = [compile_regex("(?ms)" + pattern) for pattern in SYSLOG_EXTRACTS.values()]
    # Group numbers looked up once; groups read with the cheapest accessor the engine has.
    regexes = [
        (regex, tuple(regex.groupindex), tuple(regex.groupindex.values())) for regex in compiled
    ]
    clock = _clock(None, SYSLOG_TIME)
    count = 0
    for event in _lines(data):
        clock(event)
        fields: dict[str, list[str]] = {}
        for regex, names, numbers in regexes:
            match = regex.search_bytes(event)
            if match is not None:
                for name, value in zip(names, match_groups(match, numbers), strict=True):
                    if value and name not in fields:
                        fields[name] = [value.decode("utf-8")]
        count += bool(fields)
    return count


_DECODER = json.JSONDecoder(parse_int=str, parse_float=str)
"""Numbers as their text, as the sandbox shows them, converted in C."""


def _leaves(node: object, path: str, fields: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for key, child in node.items():
            _leaves(child, f"{path}.{key}" if path else key, fields)
    elif isinstance(node, list):
        for child in node:
            _leaves(child, path + "{}", fields)
    else:
        # Numbers arrive as text: what is left is true, false and null.
        text = node if isinstance(node, str) else "null" if node is None else str(node).lower()
        fields.setdefault(path, []).append(text)


def _bare_json(data: bytes) -> int:
    clock = _clock(JSON_TIME_PREFIX, JSON_TIME)
    count = 0
    for event in _lines(data):
        clock(event)
        fields: dict[str, list[str]] = {}
        _leaves(_DECODER.decode(event.decode("utf-8")), "", fields)
        count += bool(fields)
    return count


def _bare_csv(data: bytes) -> int:
    clock = _clock(None, CSV_TIME)
    lines = _lines(data)
    names = next(csv.reader([lines[0].decode("utf-8")]))
    count = 0
    for row in csv.reader(line.decode("utf-8") for line in lines[1:]):
        clock(row[0].encode("utf-8"))
        fields = {name: [value] for name, value in zip(names, row, strict=False) if value}
        count += bool(fields)
    return count


WORKLOADS = [
    Workload(
        name="syslog, 5 EXTRACTs",
        props=(
            f"[bench]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = {SYSLOG_TIME}\n"
            "MAX_TIMESTAMP_LOOKAHEAD = 16\nKV_MODE = none\n"
            + "".join(f"{key} = {value}\n" for key, value in SYSLOG_EXTRACTS.items())
        ),
        header="",
        line=_syslog_line,
        bare=_bare_syslog,
    ),
    Workload(
        name="JSON, KV_MODE=json",
        props=(
            "[bench]\nSHOULD_LINEMERGE = false\nKV_MODE = json\n"
            f"TIME_PREFIX = {JSON_TIME_PREFIX}\nTIME_FORMAT = {JSON_TIME}\n"
            "MAX_TIMESTAMP_LOOKAHEAD = 20\n"
        ),
        header="",
        line=_json_line,
        bare=_bare_json,
    ),
    Workload(
        name="CSV, INDEXED_EXTRACTIONS",
        props=(
            "[bench]\nINDEXED_EXTRACTIONS = csv\nTIMESTAMP_FIELDS = when\n"
            f"TIME_FORMAT = {CSV_TIME}\nKV_MODE = none\n"
        ),
        header="when,user,src,bytes,method\n",
        line=_csv_line,
        bare=_bare_csv,
    ),
]


def _write_sample(folder: Path, workload: Workload, events: int) -> Path:
    path = folder / f"{workload.name.split(',')[0].lower()}_{events}.log"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(workload.header)
        for i in range(events):
            handle.write(workload.line(i) + "\n")
    return path


def _ta(workload: Workload) -> TA:
    ta = TA(app_id="TA-bench", version="1.0.0")
    ta.confs["app"] = parse_conf(APP_CONF, path="default/app.conf")
    ta.confs["props"] = parse_conf(workload.props, path="default/props.conf")
    return ta


def _best(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    """Fastest of ``repeat`` runs (CPU seconds of this process, which other processes on a
    loaded machine do not inflate as they do wall time) and the event count it reported."""
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.process_time()
        count = run()
        best = min(best, time.process_time() - start)
    return best, count


def _sandbox(ta: TA, sample: Path) -> int:
    result = run_sandbox(
        ta=ta,
        samples=[sample],
        sourcetype="bench",
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW),
    )
    return result.report.events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,200000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="tagen-bench-") as tmp:
        folder = Path(tmp)
        print(f"{'workload':<26} {'events':>7} {'sandbox ev/s':>13} {'bare ev/s':>11} {'ratio':>6}")
        for workload in WORKLOADS:
            ta = _ta(workload)
            sample = _write_sample(folder, workload, 2000)
            data = sample.read_bytes()
            # Interleaved so both sides see the same machine load; the fastest run counts.
            sandbox_s = bare_s = float("inf")
            for _ in range(args.repeat):
                seconds, events = _best(1, partial(_sandbox, ta, sample))
                sandbox_s = min(sandbox_s, seconds)
                seconds, bare_events = _best(1, partial(workload.bare, data))
                bare_s = min(bare_s, seconds)
            assert events == bare_events == 2000, (workload.name, events, bare_events)
            print(
                f"{workload.name:<26} {events:>7} {events / sandbox_s:>13,.0f} "
                f"{bare_events / bare_s:>11,.0f} {bare_s / sandbox_s:>6.2f}"
            )
        print()
        print(f"{'workload':<26} " + " ".join(f"{size:>12,}" for size in sizes) + "  (events/s)")
        for workload in WORKLOADS:
            ta = _ta(workload)
            rates = []
            for size in sizes:
                sample = _write_sample(folder, workload, size)
                repeat = args.repeat if size <= 20000 else 2
                seconds, events = _best(repeat, partial(_sandbox, ta, sample))
                assert events == size, (workload.name, size, events)
                rates.append(events / seconds)
                sample.unlink()
            print(f"{workload.name:<26} " + " ".join(f"{rate:>12,.0f}" for rate in rates))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS {peak_mb:,.0f} MB (streaming: bounded by the largest run, not its size)")


if __name__ == "__main__":
    main()
