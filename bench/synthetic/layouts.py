"""Event layouts: how one format writes its events, and the truth of each event.

Every family (key=value, delimited, JSON, syslog RFC 3164 and 5424, free text, multi-line,
files mixing single-line variants, header-less access lines) draws its variants from the
format's random generator and records them in ``dims`` so the benchmark can say which classes
are weak.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from bench.synthetic.clock import ACCEPT_DATE, BY_NAME, LAYOUTS, QUOTABLE, Clock, Layout
from bench.synthetic.messages import MessageBook, Truth
from bench.synthetic.schema import Column, make_columns
from bench.synthetic.tokens import SPACED, Vocabulary

LEVELS = ("INFO", "WARN", "ERROR", "DEBUG", "NOTICE")
THREADS = ("main", "worker-1", "worker-2", "pool-3-thread-7", "http-nio-8080-exec-4", "scheduler")
LOGGERS = (
    "com.acme.api.Gateway",
    "org.example.db.Pool",
    "net.corp.auth.Login",
    "app.jobs.Sync",
    "io.svc.cache.Store",
)
APPS = (
    "sshd",
    "kernel",
    "named",
    "postfix/smtpd",
    "proftpd",
    "dhcpd",
    "CRON",
    "nginx",
    "sudo",
    "systemd",
    "firewalld",
    "vpnd",
    "app-3",
)
TIME_KEYS = (
    "time",
    "ts",
    "timestamp",
    "date",
    "eventTime",
    "created_at",
    "log_timestamp",
    "@timestamp",
    "datetime",
    "EventTime",
    "StartUTC",
    "logged_at",
)
NESTED_TIME_KEYS = (
    ("event", "created"),
    ("meta", "time"),
    ("log", "timestamp"),
    ("data", "attributes", "time"),
    ("header", "eventTime"),
)
COLLECTOR_SOURCE_KEYS = (
    ("event", "created"),
    ("EventTime",),
    ("TimeGenerated",),
    ("winlog", "time_created"),
    ("timestamp",),
)
JAVA_EXCEPTIONS = (
    "java.lang.IllegalStateException",
    "java.io.IOException",
    "java.util.concurrent.TimeoutException",
    "java.lang.NullPointerException",
    "org.example.db.PoolExhaustedException",
)
PY_EXCEPTIONS = ("ValueError", "KeyError", "TimeoutError", "ConnectionResetError", "RuntimeError")

SEPARATOR_NAMES = {
    " ": "space",
    "\t": "tab",
    ",": "comma",
    ", ": "comma_space",
    "; ": "semicolon_space",
    ";": "semicolon",
    " | ": "pipe_spaced",
    "|": "pipe",
    ": ": "colon_space",
    " = ": "equals_spaced",
    "=": "equals",
    ":": "colon",
    "=>": "arrow",
    ":\t": "colon_tab",
}
"""Readable names of separators in the dimensions a report prints."""
QUOTE_NAMES = {'"': "double", "'": "single"}

ISO_LIKE = tuple(layout for layout in LAYOUTS if layout.name.startswith("iso"))
SYSLOG_3164 = tuple(
    BY_NAME[name]
    for name in (
        "syslog",
        "syslog",
        "syslog",
        "syslog_ms",
        "syslog_year",
        "iso_t_ms_offset",
        "iso_t_us",
    )
)
SYSLOG_5424 = tuple(
    BY_NAME[name]
    for name in ("iso_t_ms_z", "iso_t_us_z", "iso_t_ms_offset", "iso_t_offset", "iso_t")
)
JSON_LAYOUTS = (
    *ISO_LIKE,
    *ISO_LIKE,
    BY_NAME["epoch_s"],
    BY_NAME["epoch_ms"],
    BY_NAME["epoch_s_ms"],
    *LAYOUTS,
)


@dataclass
class Event:
    raw: str
    time: str | None
    has_year: bool
    truth: Truth
    json_text: bool = False
    """The raw text is (or ends with) JSON: its values are JSON-decoded, not literal."""


@dataclass
class Rendered:
    events: list[Event]
    format: str
    """The corpus ``format`` (FORMAT.md): syslog, json, ndjson, kv, csv, tsv, multiline, other."""
    head: list[str] = field(default_factory=list)
    """Lines before the first event that are not events (a CSV header)."""


@dataclass(frozen=True)
class Stamp:
    """The next event's instant, its text and its expected reading."""

    instant: datetime
    text: str
    time: str
    has_year: bool


class Context:
    """One format's random generator, vocabulary, clock, size and the dimensions chosen."""

    def __init__(self, rng: Random, vocabulary: Vocabulary, size: int) -> None:
        self.rng = rng
        self.vocabulary = vocabulary
        self.size = size
        self.dims: dict[str, str] = {}
        self._clock: Clock | None = None

    def choose(self, dimension: str, options: tuple[str, ...]) -> str:
        value = self.rng.choice(options)
        self.dims[dimension] = SEPARATOR_NAMES.get(value, value)
        return value

    def use_clock(self, layouts: tuple[Layout, ...]) -> Clock:
        layout = self.rng.choice(layouts)
        self.dims["time_layout"] = layout.name
        self._clock = Clock(self.rng, layout)
        return self._clock

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            raise RuntimeError("use_clock first")
        return self._clock

    def tick(self) -> Stamp:
        instant = self.clock.tick()
        layout = self.clock.layout
        return Stamp(instant, self.clock.stamp(instant), self.clock.truth(instant), layout.has_year)

    def token(self, kind: str) -> str:
        return self.vocabulary.token(kind)

    def row(self, columns: list[Column], truth: Truth, *, named: bool = True) -> list[str]:
        """One event's value of each column ("" where an optional column is left out),
        recorded in ``truth`` (under the columns' CIM names when ``named``)."""
        values = []
        for column in columns:
            left_out = column.optional and self.rng.random() < 0.3
            value = "" if left_out else self.token(column.kind)
            truth.add(column.name if named else None, value)
            values.append(value)
        return values

    def messages(self) -> MessageBook:
        return MessageBook(self.rng, self.rng.choice((1, 3, 8, 20, 40)))


def _level(rng: Random) -> str:
    return rng.choices(LEVELS, weights=(60, 15, 10, 10, 5))[0]


def _quote(value: str, quote: str, always: bool, separator: str) -> str:
    needs = not value or " " in value or separator.strip() in value or "\t" in value
    return f"{quote}{value}{quote}" if always or needs else value


def key_value(ctx: Context) -> Rendered:
    """``key=value`` pairs with assorted separators and quoting, timestamp first, after a
    header or as a pair of its own."""
    rng = ctx.rng
    columns = make_columns(rng)
    placement = ctx.choose("placement", ("start", "after_header", "kv_key"))
    pair_sep = ctx.choose("separator", (" ", " ", ", ", "; ", " | ", "\t"))
    kv_sep = ctx.choose("kv_separator", ("=", "=", "=", "=", "=", ":", ":", "=>"))
    quote, always = rng.choice(('"', '"', "'")), rng.random() < 0.3
    ctx.dims["quoting"] = f"{'always' if always else 'when_needed'}_{QUOTE_NAMES[quote]}"
    ctx.use_clock(LAYOUTS if placement != "kv_key" else (*QUOTABLE, *LAYOUTS))
    time_key = rng.choice(TIME_KEYS)
    time_at = rng.randint(0, len(columns)) if rng.random() < 0.4 else 0
    header = rng.choice(("{level}", "[{level}]", "{word}:", "<{int}>"))
    events = []
    for _ in range(ctx.size):
        stamp = ctx.tick()
        truth = Truth()
        pairs = [
            f"{column.key}{kv_sep}{_quote(value, quote, always, pair_sep)}"
            for column, value in zip(columns, ctx.row(columns, truth), strict=True)
            if value
        ]
        if placement == "kv_key":
            pairs.insert(
                min(time_at, len(pairs)),
                f"{time_key}{kv_sep}"
                f"{_quote(stamp.text, quote, always and rng.random() < 0.5, pair_sep)}",
            )
            raw = pair_sep.join(pairs)
        elif placement == "start":
            raw = f"{stamp.text} {pair_sep.join(pairs)}"
        else:
            lead = header.format(
                level=_level(rng), word=rng.choice(THREADS), int=rng.randint(1, 191)
            )
            raw = f"{lead} {stamp.text} {pair_sep.join(pairs)}"
        events.append(Event(raw, stamp.time, stamp.has_year, truth))
    return Rendered(events, "kv")


def delimited(ctx: Context) -> Rendered:
    """Delimited rows (comma, tab, pipe, semicolon), with a header line, a ``#fields`` comment
    or none; the timestamp in the first column or another one."""
    rng = ctx.rng
    columns = make_columns(rng)
    separator = ctx.choose("separator", (",", ",", "\t", "|", ";"))
    header = ctx.choose("header", ("plain", "plain", "comment", "none"))
    ctx.dims["placement"] = "column"
    ctx.use_clock(LAYOUTS)
    time_at = 0 if rng.random() < 0.7 else rng.randint(1, len(columns))
    keys = [column.key for column in columns]
    keys.insert(time_at, rng.choice(TIME_KEYS))
    head = []
    if header == "plain":
        head.append(_row(keys, separator))
    elif header == "comment":
        # Zeek's "#fields<TAB>..." for tab-separated files, a commented header line otherwise
        head.append(
            "#fields\t" + "\t".join(keys) if separator == "\t" else "#" + separator.join(keys)
        )
    named = header != "none"
    events = []
    for _ in range(ctx.size):
        stamp = ctx.tick()
        truth = Truth()
        cells = ctx.row(columns, truth, named=named)
        cells.insert(time_at, stamp.text)
        events.append(Event(_row(cells, separator), stamp.time, stamp.has_year, truth))
    kind = {",": "csv", "\t": "tsv"}.get(separator, "other")
    return Rendered(events, kind, head)


def _row(cells: list[str], separator: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\n").writerow(cells)
    return buffer.getvalue().rstrip("\n")


def _put(document: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        child = document.setdefault(key, {})
        if not isinstance(child, dict):
            return
        document = child
    document[path[-1]] = value


def _json_time(stamp: str, layout: Layout, as_number: bool) -> object:
    """Whole epoch seconds or milliseconds may be JSON numbers; everything else is a string."""
    return int(stamp) if as_number and layout.epoch in ("s", "ms") else stamp


NUMERIC = frozenset({"int", "port", "status"})


def _document(ctx: Context, columns: list[Column], numbers: bool, truth: Truth) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for column, value in zip(columns, ctx.row(columns, truth), strict=True):
        if not value:
            continue
        literal: object = int(value) if numbers and column.kind in NUMERIC else value
        _put(document, column.path or (column.key,), literal)
    return document


def json_lines(ctx: Context) -> Rendered:
    """One JSON document per line, flat or nested; the time under a flat key, a nested key,
    keys that vary between events, beside a collector's ``@timestamp``, or before the JSON."""
    rng = ctx.rng
    nested = ctx.choose("shape", ("flat", "nested")) == "nested"
    columns = make_columns(rng, nested=nested)
    placement = ctx.choose(
        "placement",
        ("json_key", "json_key", "json_nested", "json_varying", "json_collector", "start"),
    )
    layout = ctx.use_clock(JSON_LAYOUTS).layout
    numbers, compact = rng.random() < 0.6, rng.random() < 0.4
    separators = (",", ":") if compact else (", ", ": ")
    main: tuple[str, ...] = (
        rng.choice(NESTED_TIME_KEYS)
        if placement == "json_nested"
        else rng.choice(COLLECTOR_SOURCE_KEYS)
        if placement == "json_collector"
        else (rng.choice(TIME_KEYS),)
    )
    others = [(key,) for key in rng.sample(TIME_KEYS, 2) if (key,) != main]
    first = rng.random() < 0.6
    events = []
    for _ in range(ctx.size):
        stamp = ctx.tick()
        truth = Truth()
        document = _document(ctx, columns, numbers, truth)
        if placement == "json_collector":
            shipped = stamp.instant + timedelta(seconds=rng.uniform(0.5, 40))
            document["@timestamp"] = (
                shipped.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            )
        if placement != "start":
            path = others[0] if placement == "json_varying" and rng.random() < 0.15 else main
            document = _place(document, path, _json_time(stamp.text, layout, numbers), first)
        text = json.dumps(document, ensure_ascii=False, separators=separators)
        raw = f"{stamp.text} {_level(rng)} {text}" if placement == "start" else text
        events.append(Event(raw, stamp.time, stamp.has_year, truth, json_text=True))
    return Rendered(events, "ndjson")


def _place(
    document: dict[str, Any], path: tuple[str, ...], value: object, first: bool
) -> dict[str, Any]:
    if not first:
        _put(document, path, value)
        return document
    placed: dict[str, Any] = {}
    _put(placed, path, value)
    for key, item in document.items():
        if key in placed and isinstance(placed[key], dict) and isinstance(item, dict):
            placed[key].update(item)
        else:
            placed.setdefault(key, item)
    return placed


def _syslog_header(ctx: Context, stamp: Stamp, truth: Truth, *, pri: bool) -> str:
    """``<PRI>TIMESTAMP HOST TAG[PID]:`` of RFC 3164; host, program and pid are values."""
    rng = ctx.rng
    host, app = ctx.token("host"), rng.choice(APPS)
    truth.add(None, host)
    truth.add(None, app)
    tag = app
    if rng.random() < 0.7:
        pid = str(rng.randint(2, 65000))
        truth.add(None, pid)
        tag = f"{app}[{pid}]"
    prefix = f"<{rng.randint(0, 191)}>" if pri else ""
    return f"{prefix}{stamp.text} {host} {tag}:"


def _kv_body(ctx: Context, columns: list[Column], truth: Truth) -> str:
    return " ".join(
        f'{column.key}="{value}"' if column.kind in SPACED else f"{column.key}={value}"
        for column, value in zip(columns, ctx.row(columns, truth), strict=True)
        if value
    )


def _message(ctx: Context, book: MessageBook, truth: Truth) -> str:
    text, found = book.pick().render(ctx.vocabulary)
    truth.merge(found)
    return text


def syslog_3164(ctx: Context) -> Rendered:
    """RFC 3164 lines: optional priority, year-less (or ISO) time, host, tag, then free text
    from message templates or key=value pairs."""
    rng = ctx.rng
    ctx.dims["placement"] = "syslog_header"
    ctx.use_clock(SYSLOG_3164)
    pri = ctx.choose("priority", ("yes", "yes", "no")) == "yes"
    body = ctx.choose("body", ("text", "text", "text", "kv"))
    book, columns = ctx.messages(), make_columns(rng)
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        header = _syslog_header(ctx, stamp, truth, pri=pri)
        text = _message(ctx, book, truth) if body == "text" else _kv_body(ctx, columns, truth)
        events.append(Event(f"{header} {text}", stamp.time, stamp.has_year, truth))
    return Rendered(events, "syslog")


def syslog_5424(ctx: Context) -> Rendered:
    """RFC 5424: ``<PRI>1 ISO-TIME HOST APP PROCID MSGID [SD-ELEMENT] MSG``."""
    rng = ctx.rng
    ctx.dims["placement"] = "syslog_header"
    ctx.use_clock(SYSLOG_5424)
    structured = ctx.choose("structured_data", ("yes", "no")) == "yes"
    book, columns = ctx.messages(), make_columns(rng)
    sd_id = f"{rng.choice(('origin', 'meta', 'event', 'acme'))}@{rng.randint(1000, 60000)}"
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        host, app = ctx.token("host"), rng.choice(APPS).replace("/", "-")
        procid = str(rng.randint(2, 65000)) if rng.random() < 0.7 else "-"
        msgid = f"ID{rng.randint(1, 99)}" if rng.random() < 0.5 else "-"
        for value in (host, app, procid, msgid):
            if value != "-":
                truth.add(None, value)
        data = "-"
        if structured:
            params = [
                f'{column.key.replace(".", "_")}="{value}"'
                for column, value in zip(columns, ctx.row(columns, truth), strict=True)
                if value
            ]
            data = f"[{sd_id} {' '.join(params)}]"
        text = _message(ctx, book, truth)
        raw = f"<{rng.randint(0, 191)}>1 {stamp.text} {host} {app} {procid} {msgid} {data} {text}"
        events.append(Event(raw, stamp.time, stamp.has_year, truth))
    return Rendered(events, "syslog")


PREFIXES = {
    # name: (placement, pattern)
    "level_thread_logger": ("start", "{ts} {level} [{thread}] {logger} - {msg}"),
    "bracketed": ("start", "[{ts}] {level}: {msg}"),
    "plain": ("start", "{ts} {level} {msg}"),
    "host": ("start", "{ts} {host} {msg}"),
    "level_first": ("after_header", "{level} {ts} {msg}"),
    "pipes": ("after_header", "{level} | {ts} | {thread} | {msg}"),
    "sequence": ("after_header", "{seq} {ts} {msg}"),
    "program": ("after_header", "{app}[{pid}]: {ts} - {msg}"),
}


def _prefixed(ctx: Context, pattern: str, stamp: Stamp, message: str, truth: Truth) -> str:
    rng = ctx.rng
    host = ctx.token("host") if "{host}" in pattern else ""
    if host:
        truth.add(None, host)
    return pattern.format(
        ts=stamp.text,
        level=_level(rng),
        thread=rng.choice(THREADS),
        logger=rng.choice(LOGGERS),
        host=host,
        seq=rng.randint(1, 999999),
        app=rng.choice(APPS),
        pid=rng.randint(2, 65000),
        msg=message,
    )


def free_text(ctx: Context) -> Rendered:
    """A timestamp at the start or after a header, then a message from typed templates."""
    name = ctx.choose("prefix", tuple(PREFIXES))
    placement, pattern = PREFIXES[name]
    ctx.dims["placement"] = placement
    ctx.use_clock(LAYOUTS)
    book = ctx.messages()
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        raw = _prefixed(ctx, pattern, stamp, _message(ctx, book, truth), truth)
        events.append(Event(raw, stamp.time, stamp.has_year, truth))
    return Rendered(events, "other")


def _java_trace(rng: Random) -> list[str]:
    lines = [f"{rng.choice(JAVA_EXCEPTIONS)}: {rng.choice(PHRASES_TRACE)}"]
    for _ in range(rng.randint(2, 8)):
        cls = rng.choice(LOGGERS)
        lines.append(
            f"\tat {cls}.{rng.choice(('run', 'call', 'handle', 'get'))}"
            f"({cls.rsplit('.', 1)[1]}.java:{rng.randint(10, 900)})"
        )
    if rng.random() < 0.4:
        lines.append(f"Caused by: {rng.choice(JAVA_EXCEPTIONS)}: {rng.choice(PHRASES_TRACE)}")
        lines.append(f"\t... {rng.randint(2, 40)} more")
    return lines


def _python_trace(rng: Random) -> list[str]:
    lines = ["Traceback (most recent call last):"]
    for _ in range(rng.randint(1, 4)):
        module = rng.choice(("app/main.py", "app/jobs/sync.py", "lib/db/pool.py"))
        function = rng.choice(("run", "handle", "fetch", "<module>"))
        lines.append(f'  File "/srv/{module}", line {rng.randint(3, 400)}, in {function}')
        lines.append(f"    {rng.choice(('result = fetch(key)', 'conn.send(data)', 'run()'))}")
    lines.append(f"{rng.choice(PY_EXCEPTIONS)}: {rng.choice(PHRASES_TRACE)}")
    return lines


PHRASES_TRACE = (
    "connection refused",
    "pool exhausted",
    "unexpected end of stream",
    "key not found",
    "deadline exceeded",
)


def stack_traces(ctx: Context) -> Rendered:
    """Single-line log records, some followed by a Java or Python stack trace."""
    rng = ctx.rng
    language = ctx.choose("trace", ("java", "java", "python"))
    name = ctx.choose("prefix", ("level_thread_logger", "bracketed", "plain", "level_first"))
    ctx.dims["placement"] = PREFIXES[name][0]
    ctx.use_clock(LAYOUTS)
    book, share = ctx.messages(), rng.choice((0.1, 0.3, 0.6))
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        first = _prefixed(ctx, PREFIXES[name][1], stamp, _message(ctx, book, truth), truth)
        lines = [first]
        if rng.random() < share:
            lines += _java_trace(rng) if language == "java" else _python_trace(rng)
        events.append(Event("\n".join(lines), stamp.time, stamp.has_year, truth))
    return Rendered(events, "multiline")


def records(ctx: Context) -> Rendered:
    """A timestamped title line followed by indented ``key: value`` lines."""
    rng = ctx.rng
    columns = make_columns(rng)
    indent = rng.choice(("  ", "    ", "\t"))
    separator = ctx.choose("separator", (": ", " = ", ":\t"))
    ctx.dims["placement"] = "start"
    ctx.use_clock(LAYOUTS)
    title = rng.choice(
        ("Audit record", "BEGIN EVENT", "Transaction summary", "Alert:", "--- report ---")
    )
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        lines = [f"{stamp.text} {title}"]
        lines += [
            f"{indent}{column.key}{separator}{value}"
            for column, value in zip(columns, ctx.row(columns, truth), strict=True)
            if value
        ]
        events.append(Event("\n".join(lines), stamp.time, stamp.has_year, truth))
    return Rendered(events, "multiline")


def pretty_json(ctx: Context) -> Rendered:
    """Pretty-printed JSON documents, one after the other, each spanning lines."""
    rng = ctx.rng
    nested = ctx.choose("shape", ("flat", "nested")) == "nested"
    columns = make_columns(rng, nested=nested)
    ctx.dims["placement"] = "json_key"
    layout = ctx.use_clock(JSON_LAYOUTS).layout
    key, indent, numbers = (rng.choice(TIME_KEYS),), rng.choice((2, 4)), rng.random() < 0.6
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        document = _place(
            _document(ctx, columns, numbers, truth),
            key,
            _json_time(stamp.text, layout, numbers),
            True,
        )
        text = json.dumps(document, ensure_ascii=False, indent=indent)
        events.append(Event(text, stamp.time, stamp.has_year, truth, json_text=True))
    return Rendered(events, "multiline")


def mixed(ctx: Context) -> Rendered:
    """Single-line events in a few variants: syslog lines with and without priority, lines
    with and without any header (no timestamp), two prefixes, text and key=value."""
    rng = ctx.rng
    variant = ctx.choose("variant", ("priority_mix", "bare_lines", "two_prefixes", "kv_and_text"))
    book, columns = ctx.messages(), make_columns(rng)
    if variant in ("priority_mix", "bare_lines"):
        ctx.dims["placement"] = "syslog_header"
        ctx.use_clock(SYSLOG_3164)
    else:
        ctx.dims["placement"] = "start"
        ctx.use_clock(LAYOUTS)
    prefixes = rng.sample(["level_thread_logger", "bracketed", "plain", "host"], 2)
    share = rng.choice((0.1, 0.3, 0.5))
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        other = rng.random() < share
        if variant == "bare_lines" and other:
            events.append(Event(_message(ctx, book, truth), None, False, truth))
            continue
        if variant in ("priority_mix", "bare_lines"):
            header = _syslog_header(ctx, stamp, truth, pri=variant != "priority_mix" or other)
            raw = f"{header} {_message(ctx, book, truth)}"
        elif variant == "two_prefixes":
            pattern = PREFIXES[prefixes[other]][1]
            raw = _prefixed(ctx, pattern, stamp, _message(ctx, book, truth), truth)
        else:
            body = _kv_body(ctx, columns, truth) if other else _message(ctx, book, truth)
            raw = f"{stamp.text} {_level(rng)} {body}"
        events.append(Event(raw, stamp.time, stamp.has_year, truth))
    return Rendered(events, "other")


CACHE_RESULTS = ("TCP_MISS", "TCP_HIT", "TCP_DENIED", "TCP_REFRESH_MODIFIED", "NONE")


def _request(ctx: Context, truth: Truth) -> tuple[str, str]:
    """An HTTP method and a URL path (with a query sometimes), recorded by their CIM names."""
    method = ctx.token("method")
    path = "/" + ctx.token("url").split("://", 1)[1].split("/", 1)[1]
    truth.add("http_method", method)
    truth.add("url", path)
    return method, path


def access(ctx: Context) -> Rendered:
    """Header-less space-delimited access lines: no word names a column (a caching proxy's
    ``epoch duration client RESULT/status bytes method url user peer type``, a load balancer's
    ``client:port [accept date] frontend backend/server timers status bytes "request"`` behind
    a year-less syslog header, an access log without quotes)."""
    rng = ctx.rng
    variant = ctx.choose("access", ("proxy_cache", "balancer", "unquoted"))
    ctx.dims["placement"] = "start" if variant != "balancer" else "bracketed_after_header"
    ctx.use_clock(
        (BY_NAME["epoch_s_ms"],)
        if variant == "proxy_cache"
        else (ACCEPT_DATE,)
        if variant == "balancer"
        else (BY_NAME["apache"],)
    )
    events = []
    for _ in range(ctx.size):
        stamp, truth = ctx.tick(), Truth()
        client, status, size = ctx.token("ipv4"), ctx.token("status"), str(rng.randint(0, 99999))
        truth.add("src", client)
        truth.add("status", status)
        truth.add("bytes", size)
        if variant == "proxy_cache":
            method = ctx.token("method")
            url = ctx.token("url")
            truth.add("http_method", method)
            truth.add("url", url)
            result, took = rng.choice(CACHE_RESULTS), str(rng.randint(0, 9999))
            for value in (result, took):
                truth.add(None, value)
            raw = (
                f"{stamp.text} {took:>6} {client} {result}/{status} {size} {method} {url} - "
                f"DIRECT/{ctx.token('ipv4')} text/html"
            )
        elif variant == "balancer":
            port = ctx.token("port")
            truth.add("src_port", port)
            method, path = _request(ctx, truth)
            backend, server = f"be_{ctx.token('word')}", f"srv{rng.randint(1, 9)}"
            for value in (backend, server):
                truth.add(None, value)
            header = BY_NAME["syslog"].render(stamp.instant, 0)
            raw = (
                f"{header} lb1 haproxy[{rng.randint(100, 9999)}]: {client}:{port} "
                f"[{stamp.text}] fe_http {backend}/{server} 0/0/1/2/{rng.randint(3, 900)} "
                f'{status} {size} - - ---- 1/1/0/0/0 0/0 "{method} {path} HTTP/1.1"'
            )
        else:
            method, path = _request(ctx, truth)
            raw = f"{client} - - [{stamp.text}] {method} {path} {status} {size}"
        events.append(Event(raw, stamp.time, stamp.has_year, truth))
    return Rendered(events, "other")


Family = Callable[[Context], Rendered]

FAMILIES: dict[str, tuple[Family, int]] = {
    # name: (layout, weight in a batch)
    "kv": (key_value, 13),
    "delimited": (delimited, 11),
    "json": (json_lines, 15),
    "syslog3164": (syslog_3164, 12),
    "syslog5424": (syslog_5424, 7),
    "freetext": (free_text, 14),
    "stacktrace": (stack_traces, 8),
    "records": (records, 5),
    "pretty_json": (pretty_json, 4),
    "mixed": (mixed, 11),
    "access": (access, 6),
}
