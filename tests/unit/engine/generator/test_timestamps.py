"""Timestamp inference per timestamp family, verified with the sandbox's Splunk strptime."""

from __future__ import annotations

import pytest

from engine.generator.timestamp_shapes import find_timestamps
from engine.generator.timestamps import infer_timestamps
from engine.regex import compile_regex


@pytest.mark.parametrize(
    ("events", "prefix", "time_format", "tz", "has_year"),
    [
        (
            [
                "2024-03-01T10:00:00.123+02:00 host app[1]: started",
                "2024-03-01T10:00:01.456+02:00 host app[1]: stopped",
            ],
            None,
            "%Y-%m-%dT%H:%M:%S.%3N%:z",
            None,
            True,
        ),
        (
            ["Jun  3 05:01:01 web01 CRON[12]: run", "Jun 14 15:16:01 web01 sshd[9]: ok"],
            None,
            "%b %d %H:%M:%S",
            "UTC",
            False,
        ),
        (
            [
                '10.1.2.3 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5',
                'a.example 10.1.2.4 - bob [10/Oct/2000:13:55:37 -0700] "GET / HTTP/1.0" 200 5',
            ],
            r"^[^\[]*\[",
            "%d/%b/%Y:%H:%M:%S %z",
            None,
            True,
        ),
        (
            ['{"id": 1, "ts": 1700000000.250, "msg": "a"}', '{"id": 2, "ts": 1700000001.5}'],
            r""""ts"\s*[:=]\s*["']?""",
            "%s.%3N",
            None,
            True,
        ),
        (
            ["user=bob when=2024-01-02 03:04:05 ok", "user=alice when=2024-01-02 03:04:06 ok"],
            r"""(?<![\w.@-])when\s*[:=]\s*["']?""",
            "%Y-%m-%d %H:%M:%S",
            "UTC",
            True,
        ),
        (
            ["1700000000123 GET /a", "1700000000456 GET /b"],
            None,
            "%s%3N",
            None,
            True,
        ),
        (
            ["081109 203615 148 INFO block served", "081109 203807 222 INFO block served"],
            None,
            "%y%m%d %H%M%S",
            "UTC",
            True,
        ),
        (
            ["<13>Mar  1 10:00:00 fw01 kernel: drop", "<13>Mar  1 10:00:02 fw01 kernel: drop"],
            r"^[^>]*>",
            "%b %d %H:%M:%S",
            "UTC",
            False,
        ),
    ],
)
def test_plans_per_family(
    events: list[str], prefix: str | None, time_format: str, tz: str | None, has_year: bool
) -> None:
    plan = infer_timestamps(events * 3)  # enough timestamps to pin one layout
    assert not plan.automatic
    assert (plan.time_prefix, plan.time_format, plan.tz, plan.has_year) == (
        prefix,
        time_format,
        tz,
        has_year,
    )
    assert plan.success == 1.0
    if prefix is not None:
        compile_regex(prefix)  # Splunk (PCRE) must accept the prefix


def test_lookahead_covers_the_timestamp_from_the_prefix_end() -> None:
    plan = infer_timestamps(["[2024-01-01 00:00:00.123456] x", "[2024-01-01 00:00:01.5] y"] * 3)
    assert plan.time_prefix == r"^[^\[]*\["
    assert plan.lookahead >= len("2024-01-01 00:00:00.123456")
    # Mixed widths: the widest subsecond directive reads both events.
    assert plan.time_format == "%Y-%m-%d %H:%M:%S.%6N" and plan.success == 1.0


def test_default_timezone_is_configurable_and_absent_with_offsets() -> None:
    plan = infer_timestamps(["2024-01-01 00:00:00 a", "2024-01-01 00:00:05 b"], default_tz="EST")
    assert plan.tz == "EST"


def test_no_timestamp_means_current_time() -> None:
    plan = infer_timestamps(["hello world", "nothing here 12"])
    assert plan.time_format is None
    assert plan.settings() == {"DATETIME_CONFIG": "CURRENT"}


def test_the_most_common_shape_wins_over_a_stray_one() -> None:
    events = [f"2024-01-0{i} 00:00:00 job done" for i in range(1, 9)]
    events[0] = "Jan  1 00:00:00 " + events[0]
    plan = infer_timestamps(events)
    assert plan.time_format == "%Y-%m-%d %H:%M:%S"


def test_the_source_time_beats_an_earlier_collector_stamp_which_stays_the_last_resort() -> None:
    events = [
        '{"written":"2024-01-01T00:00:09Z","ts":"2024-01-01T00:00:01Z"}',
        '{"written":"2024-01-01T00:00:19Z","ts":"2024-01-01T00:00:11Z"}',
    ] * 3
    plan = infer_timestamps(events)
    assert plan.success == 1.0 and plan.time_prefix is not None
    prefix = compile_regex(plan.time_prefix)
    match = prefix.search(events[0])
    assert match is not None and events[0][match.end() :].startswith("2024-01-01T00:00:01Z")
    # An event without the source's time falls back to the collector's.
    alone = '{"written":"2024-01-01T00:00:29Z","msg":"x"}'
    match = prefix.search(alone)
    assert match is not None and alone[match.end() :].startswith("2024-01-01T00:00:29Z")


def test_find_timestamps_decodes_values() -> None:
    (hit,) = [h for h in find_timestamps("at 26/Dec/2016:16:22:14 +0200 ok") if h.shape == "clf"]
    assert hit.value.isoformat() == "2016-12-26T16:22:14+02:00"
    assert hit.time_format == "%d/%b/%Y:%H:%M:%S %z"


def test_impossible_dates_are_not_timestamps() -> None:
    assert not [h for h in find_timestamps("id 991399 253575 x") if h.shape == "compact"]


def test_settings_render_the_plan() -> None:
    plan = infer_timestamps(["<1>2024-01-01T00:00:00Z a", "<1>2024-01-01T00:00:01Z b"] * 3)
    settings = plan.settings()
    assert settings["TIME_FORMAT"] == "%Y-%m-%dT%H:%M:%SZ"  # literal Zulu, read as UTC
    assert settings["TIME_PREFIX"] == "^[^>]*>"
    assert settings["TZ"] == "UTC" and int(settings["MAX_TIMESTAMP_LOOKAHEAD"]) >= 20


def test_mixed_layouts_fall_back_to_automatic_recognition() -> None:
    events = [
        "[Mon Dec 26 16:22:08 2016] [error] a",
        "[Mon Dec 26 16:15:55.103786 2016] [notice] b",
        "[Tue Dec 27 10:00:00 2016] [error] c",
        "[Tue Dec 27 10:00:01.5 2016] [error] d",
    ] * 2
    plan = infer_timestamps(events)
    assert plan.automatic and plan.success == 1.0
    settings = plan.settings()
    assert "TIME_FORMAT" not in settings and "DATETIME_CONFIG" not in settings
    assert settings["TIME_PREFIX"] == r"^[^\[]*\[" and settings["TZ"] == "UTC"


def test_too_few_timestamps_leave_the_layout_to_splunk() -> None:
    plan = infer_timestamps(["2019-06-14 10:40:20,912 localhost INFO opened"])
    assert plan.automatic and plan.time_format == "%Y-%m-%d %H:%M:%S,%3N"
    assert "TIME_FORMAT" not in plan.settings()
    # Room for an offset the single sample did not show.
    assert plan.lookahead >= len("2019-06-14 13:01:15,412 +01:30")


def test_a_small_sample_keeps_its_format_when_automatic_recognition_cannot_read_it() -> None:
    plan = infer_timestamps(["20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579"])
    assert not plan.automatic and plan.time_format == "%Y%m%d-%H:%M:%S:%3N"


@pytest.mark.parametrize(
    ("line", "time_format", "tz"),
    [
        ("[10.30 16:49:06] chrome.exe - proxy.example:5070 close", "%m.%d %H:%M:%S", "UTC"),
        ("Jun 14 2019 10:40:20: %ASA-6-302013: Built", "%b %d %Y %H:%M:%S", "UTC"),
        ("2019-06-14 10:40:20.912 CEST [123] LOG:  x", "%Y-%m-%d %H:%M:%S.%3N %Z", None),
        ("06/14/2019 10:40:20 PM Server started", "%m/%d/%Y %I:%M:%S %p", "UTC"),
        ("03-17 16:13:38.811  1702  2395 D WindowManager: x", "%m-%d %H:%M:%S.%3N", "UTC"),
        ("2019-06-14 10:40:20 +0200 host x", "%Y-%m-%d %H:%M:%S %z", None),
        ("1560508820.123    123 10.0.0.1 TCP_MISS/200 512", "%s.%3N", None),
        ("190614  9:40:20 [Note] InnoDB: started", "%y%m%d %H:%M:%S", "UTC"),
        ("1:M 4 Jun 2019 10:40:20.912 * Ready to accept", "%d %b %Y %H:%M:%S.%3N", "UTC"),
        ("date=2019-06-14 time=10:40:20 devname=fw logid=13", "%Y-%m-%d time=%H:%M:%S", "UTC"),
        ("I0614 10:40:20.912134   12345 main.go:12] started", "%m%d %H:%M:%S.%6N", "UTC"),
        ("type=SYSCALL msg=audit(1560508820.123:456): arch=c000003e", "%s.%3N", None),
    ],
)
def test_more_layouts(line: str, time_format: str, tz: str | None) -> None:
    plan = infer_timestamps([line] * 6)
    assert (plan.time_format, plan.tz, plan.success) == (time_format, tz, 1.0)


def test_single_quoted_xml_attribute_is_a_key() -> None:
    events = [
        f"<Event><System><EventID>1</EventID><TimeCreated SystemTime='2024-03-01T10:{i:02d}:00"
        f".1234567Z'/><Computer>h</Computer></System></Event>"
        for i in range(6)
    ]
    plan = infer_timestamps(events)
    assert plan.time_prefix == r"""(?<![\w.@-])SystemTime\s*[:=]\s*["']?"""
    assert plan.time_format == "%Y-%m-%dT%H:%M:%S.%9NZ" and plan.success == 1.0


def _read(plan_prefix: str | None, event: str) -> str:
    """The text right after where ``plan_prefix`` (PCRE, as Splunk runs it) leaves off."""
    if plan_prefix is None:
        return event
    match = compile_regex(plan_prefix).search(event)
    assert match is not None, event
    return event[match.end() :]


def test_a_time_key_that_varies_between_events_becomes_one_ordered_prefix() -> None:
    keys = ["log_timestamp"] * 8 + ["time", "StartUTC"]
    events = [
        f'{{"level": "info", "{key}": "2024-07-21T17:20:{i:02d}.065Z", "msg": "m{i}"}}'
        for i, key in enumerate(keys)
    ]
    plan = infer_timestamps(events)
    assert plan.success == 1.0 and plan.time_format == "%Y-%m-%dT%H:%M:%S.%3NZ"
    for i, event in enumerate(events):
        assert _read(plan.time_prefix, event).startswith(f"2024-07-21T17:20:{i:02d}")
    # The preferred key wins where an event carries both.
    both = '{"time": "2024-01-01T00:00:00.000Z", "log_timestamp": "2024-07-21T17:21:00.000Z"}'
    assert _read(plan.time_prefix, both).startswith("2024-07-21T17:21:00")


@pytest.mark.parametrize(
    ("template", "wanted"),
    [
        # A Windows event re-shipped by a collector: the event's own time, not the collector's.
        (
            '{{"@timestamp": "2024-03-0{i}T10:00:59Z", "winlog": {{"event_id": 4624, '
            '"time_created": "2024-03-0{i}T09:58:0{i}Z"}}}}',
            "09:58:0",
        ),
        # ECS: event.created, not event.ingested.
        (
            '{{"event": {{"ingested": "2024-03-0{i}T10:00:59Z", "created": '
            '"2024-03-0{i}T09:58:0{i}Z"}}, "message": "x"}}',
            "09:58:0",
        ),
        # CloudTrail-like: eventTime, not the session's creation date nested under the user.
        (
            '{{"userIdentity": {{"sessionContext": {{"attributes": {{"creationDate": '
            '"2024-03-0{i}T08:00:00Z"}}}}}}, "eventTime": "2024-03-0{i}T09:58:0{i}Z"}}',
            "09:58:0",
        ),
        # A qualified key (End Time) is another moment: the header's time wins.
        (
            "<165>1 2024-03-0{i}T09:58:0{i}Z host proc 1 - - Begin: 2020-11-11 19:25:21,"
            "End Time: 2020-11-11 19:25:28,Action: Blocked",
            "2024-03-0",
        ),
        # Key-value text: TimeGenerated beats an agent's receive time.
        (
            'ReceivedTime="2024-03-0{i} 10:00:59" TimeGenerated="2024-03-0{i} 09:58:0{i}" id=4',
            "2024-03-0{i} 09:58:0",
        ),
    ],
)
def test_the_source_event_time_beats_other_times_of_the_event(template: str, wanted: str) -> None:
    events = [template.format(i=i) for i in range(1, 7)]
    plan = infer_timestamps(events)
    assert plan.success == 1.0
    for i, event in enumerate(events, 1):
        window = _read(plan.time_prefix, event)[: plan.lookahead]
        assert wanted.format(i=i) in window, (plan, event)


def test_a_deeply_nested_time_key_is_found_beyond_the_event_head() -> None:
    padding = ", ".join(f'"k{n}": "{"v" * 20}"' for n in range(40))
    events = [
        f'{{{padding}, "properties": {{"createdDateTime": "2024-07-10T20:01:5{i}.9248761+00:00"}}}}'
        for i in range(6)
    ]
    assert len(events[0]) > 1000
    plan = infer_timestamps(events)
    assert plan.success == 1.0 and plan.time_prefix is not None
    assert _read(plan.time_prefix, events[3]).startswith("2024-07-10T20:01:53")


def test_a_bare_number_contradicting_the_calendar_time_is_an_id() -> None:
    events = [
        f'"12345678{i:02d}","2021-07-22 10:46:{i:02d}","user@example.com","update"'
        for i in range(6)
    ]
    plan = infer_timestamps(events)
    assert plan.time_format == "%Y-%m-%d %H:%M:%S" and plan.success == 1.0


def test_an_epoch_agreeing_with_a_local_wall_clock_is_the_instant() -> None:
    # The epoch and the wall clock 7 hours behind it are one moment: the epoch carries the zone.
    events = [
        f"- 11178385{i:02d} 2005.06.03 R02-M1 2005-06-03-15.42.{i:02d}.675872 RAS KERNEL INFO x"
        for i in range(10, 16)
    ]
    plan = infer_timestamps(events)
    assert plan.time_format == "%s" and plan.success == 1.0


def test_an_epoch_beats_a_yearless_wall_clock_of_the_same_moment() -> None:
    # An old epoch and a syslog time 8 hours behind it: the yearless reading would get its year
    # (and zone) from Splunk's clock, the epoch is the instant, old as it is.
    events = [
        f"- {1131566461 + 37 * i} 2005.11.09 dn228 Nov  9 12:{1 + i:02d}:{(1 + 37 * i) % 60:02d} "
        f"dn228/dn228 crond(pam_unix)[{2915 + i}]: session closed for user root"
        for i in range(6)
    ]
    plan = infer_timestamps(events)
    assert plan.time_format == "%s" and plan.success == 1.0


def test_a_keyed_epoch_of_the_header_moment_wins_and_the_header_stays_its_alternative() -> None:
    # A yearless syslog header and a dated rt= epoch of the same instant (here 1 hour apart:
    # another zone): the dated key reads the event, and events without it fall back on the
    # header through the TIME_PREFIX alternation.
    events = [
        f"<134>Feb 18 10:26:{40 + i} fw01 CEF:0|Acme|FW|1.0|Log|Drop|5|act=Drop "
        f"src=192.0.2.{i} rt={1613640400000 + 1000 * i} dpt=443"
        for i in range(6)
    ]
    plan = infer_timestamps(events, default_tz="Europe/Berlin")
    assert plan.time_prefix is not None and "rt" in plan.time_prefix
    assert plan.time_prefix.endswith("|[^>]*>)") and plan.has_year


def _balancer_lines() -> list[str]:
    """A yearless syslog header, then a bracketed accept date of the same moment."""
    return [
        f"Dec  9 10:00:{10 + i} lb1 haproxy[4{i}1]: 10.0.0.{i}:5{i}000 "
        f"[09/Dec/2023:10:00:{10 + i}.{123 + i}] fe be/srv1 0/0/1/2/3 200 {512 + i} - - ----"
        for i in range(6)
    ]


def test_a_bracketed_dated_time_of_the_header_moment_wins_with_its_year_and_fraction() -> None:
    # A proxy's bracketed accept date behind a yearless syslog header: the same moment, but
    # with its year and milliseconds, so it is the event's time; the header stays the
    # TIME_PREFIX alternative.
    plan = infer_timestamps(_balancer_lines())
    assert plan.has_year and plan.time_format == "%d/%b/%Y:%H:%M:%S.%3N"
    assert plan.time_prefix == r"^(?:(?:[^\[]*\[){2}|)"


def test_a_dated_time_further_in_does_not_displace_a_yearless_header() -> None:
    # An application's own dated stamp after the header is at a place, not a key: a TA reading
    # it would have no fallback for the lines without it, so the header stays.
    events = [
        f"Dec 13 11:35:{20 + i} mac app[21]: 2016-12-13 11:35:{20 + i}.420 app[21] checking"
        for i in range(6)
    ]
    plan = infer_timestamps(events)
    assert plan.time_format == "%b %d %H:%M:%S" and not plan.has_year


def test_a_prefix_after_padded_header_counts_tokens_not_spaces() -> None:
    # a padded column (``Dec  9``) of the training lines is single-spaced in others
    events = [
        f"node-{d}  worker queue-runner-primary shard-alpha {2024 - d}-12-0{d}T10:00:0{d}Z z"
        for d in range(1, 7)
    ]
    plan = infer_timestamps(events)
    assert plan.time_prefix == r"^(?:\S+\s+){4}"


def test_a_dated_time_further_in_that_reads_fewer_events_leaves_the_header() -> None:
    events = _balancer_lines()
    events.insert(3, "Dec  9 10:01:00 lb1 haproxy[1]: Proxy fe started.")
    plan = infer_timestamps(events)
    assert plan.time_format == "%b %d %H:%M:%S" and not plan.has_year


@pytest.mark.parametrize(
    ("line", "time_format"),
    [
        ("<134> 27/06/2026:22:38:17  host-1 0-PPE-0 : default APPFW", "%d/%m/%Y:%H:%M:%S"),
        ("14.06.2019 10:40:20 Server started", "%d.%m.%Y %H:%M:%S"),
        ("2023:04:28-00:00:04 vm1 dhcpd: DHCPDISCOVER from 04:7b:cb:a1:d2:93", None),
        ("2005.06.03 15:42:50 node-1 ok", "%Y.%m.%d %H:%M:%S"),
        ('{"ts_us": 1700000000123456, "n": 1}', "%s%6N"),
        ("eventtime=1773733509096718719 logid=1", "%s%9N"),
    ],
)
def test_day_first_separated_and_sub_second_epoch_layouts(
    line: str, time_format: str | None
) -> None:
    plan = infer_timestamps([line] * 6)
    assert plan.success == 1.0
    if time_format is not None:
        assert plan.time_format == time_format
    else:
        assert plan.time_format == "%Y:%m:%d-%H:%M:%S"


def test_an_ambiguous_slashed_date_reads_month_first_unless_a_day_tells() -> None:
    us = infer_timestamps([f"0{i}/0{i}/2024 10:00:00 x" for i in range(1, 7)])
    assert us.time_format == "%m/%d/%Y %H:%M:%S"
    day_first = [f"{d}/06/2024 10:00:00 x" for d in ("02", "13", "25", "04", "05", "06")]
    assert infer_timestamps(day_first).time_format == "%d/%m/%Y %H:%M:%S"


def test_a_named_column_ranks_like_a_key() -> None:
    header = ("received", "id", "generated", "user")
    events = [f"2024-01-01 10:00:0{i},{i},2024-01-01 09:59:0{i},bob" for i in range(6)]
    plan = infer_timestamps(events, columns=header, delimiter=",")
    assert plan.success == 1.0
    assert _read(plan.time_prefix, events[2]).startswith("2024-01-01 09:59:02")


def test_a_small_sample_verified_on_every_event_keeps_a_rule() -> None:
    for events in (
        ["27/06/2026:22:38:17 host a", "27/06/2026:22:38:18 host b", "27/06/2026:22:38:19 c"],
        [f'{{"@timestamp": "2026-11-0{i}T10:00:0{i}.123Z", "msg": "x"}}' for i in (1, 2, 3)],
    ):
        plan = infer_timestamps(events)
        assert "DATETIME_CONFIG" not in plan.settings() and plan.success == 1.0
        assert plan.events == 3 and plan.timeless == 0


def test_events_without_any_timestamp_are_counted_not_guessed() -> None:
    events = ["2024-01-01 00:00:01 a", "no time here", "2024-01-01 00:00:02 b", "nor here"]
    plan = infer_timestamps(events)
    assert plan.success == 0.5 and plan.timeless == 2 and plan.time_format is not None


def test_a_delimiter_after_the_seconds_starts_the_next_cell_unless_quoted() -> None:
    header = ("ts", "load", "host")
    bare = [f"04/15/2024 12:13:1{i},989.80,web-{i}" for i in range(6)]
    plan = infer_timestamps(bare, columns=header, delimiter=",")
    assert plan.time_format == "%m/%d/%Y %H:%M:%S" and plan.success == 1.0
    short = [f"2024-04-15 12:13:1{i},5,web-{i}" for i in range(6)]
    plan = infer_timestamps(short, columns=header, delimiter=",")
    assert plan.time_format == "%Y-%m-%d %H:%M:%S" and plan.success == 1.0
    quoted = [f'"2024-04-15 12:13:1{i},498",7,web-{i}' for i in range(6)]
    plan = infer_timestamps(quoted, columns=header, delimiter=",")
    assert plan.time_format == "%Y-%m-%d %H:%M:%S,%3N" and plan.success == 1.0


def test_a_tab_delimited_column_is_counted_in_tabs_not_spaces() -> None:
    events = [f"host {i}\tconnection reset\tJul 29 11:54:4{i}.011\tPTR" for i in range(6)]
    plan = infer_timestamps(events, columns=("name", "detail", "logged_at", "q"), delimiter="\t")
    assert plan.success == 1.0 and plan.time_prefix == r"^(?:[^\t]*\t){2}"


def test_a_header_some_events_lack_is_an_optional_prefix() -> None:
    events = [
        f"<136>Dec 27 19:21:0{i} dns-35 CRON: x"
        if i % 2
        else f"Dec 27 19:21:0{i} edge-13 kernel: y"
        for i in range(8)
    ]
    plan = infer_timestamps(events)
    assert plan.time_prefix == r"^(?:<\d+>)?" and plan.time_format == "%b %d %H:%M:%S"
    assert plan.success == 1.0


def test_a_varying_word_before_a_leading_time_is_no_key() -> None:
    threads = ["main", "http-nio-8080-exec-4", "worker-2", "pool-3-thread-7"]
    events = [f"{threads[i % 4]}: 16/01/2025:04:59:5{i} dstip=>10.0.0.{i}" for i in range(8)]
    plan = infer_timestamps(events)
    assert plan.time_format == "%d/%m/%Y:%H:%M:%S" and plan.success == 1.0


@pytest.mark.parametrize(
    ("line", "time_format"),
    [
        ("03/13/24 02:10:45 PM BEGIN EVENT", "%m/%d/%y %I:%M:%S %p"),
        ("[20240829T010058Z] WARN: Accepted login", "%Y%m%dT%H%M%SZ"),
    ],
)
def test_twelve_hour_short_year_and_basic_iso_layouts(line: str, time_format: str) -> None:
    plan = infer_timestamps([line] * 6)
    assert plan.time_format == time_format and plan.success == 1.0


def test_of_two_readings_of_an_ambiguous_date_the_recent_one_wins() -> None:
    # 03/11/24 is 2003-11-24 as yy/mm/dd and 2024-03-11 as mm/dd/yy: Splunk keeps recent dates.
    plan = infer_timestamps([f"03/11/24 10:00:0{i} job done" for i in range(6)])
    assert plan.time_format == "%m/%d/%y %H:%M:%S"


def test_a_fraction_before_a_comma_delimited_number_is_kept() -> None:
    events = [f"queue-{i},03-01 01:02:4{i}.214,56,bob" for i in range(6)]
    plan = infer_timestamps(events, columns=("queue", "created_at", "shard", "to"), delimiter=",")
    assert plan.time_format == "%m-%d %H:%M:%S.%3N" and plan.success == 1.0


@pytest.mark.parametrize(("headed", "trusted"), [(4, True), (1, False)])
def test_header_times_between_bare_lines_are_trusted_unless_rare(
    headed: int, trusted: bool
) -> None:
    events = [
        f"<130>Dec 11 17:50:{i:02d} cache-06 firewalld: Closed connection {i}"
        if i % 10 < headed
        else f"Retrying TCP login from 10.0.0.{i} port 7008"
        for i in range(20)
    ]
    plan = infer_timestamps(events)
    assert ("DATETIME_CONFIG" not in plan.settings()) is trusted
    assert plan.timeless == 20 - 2 * headed
