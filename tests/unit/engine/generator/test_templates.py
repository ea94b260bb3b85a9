"""Template mining: clustering, variable positions, typed groups and context names."""

from __future__ import annotations

from engine.generator.fields.headers import learn_delimited_prefix, learn_header
from engine.generator.fields.templates import MAX_CLUSTERS_PER_BUCKET, mine, template_regex
from engine.regex import compile_regex

MESSAGES = [
    "Failed password for root from 1.2.3.4 port 22 ssh2",
    "Failed password for admin from 1.2.3.5 port 2222 ssh2",
    "Failed password for guest from 10.0.0.7 port 4000 ssh2",
    "PacketResponder 1 for block blk_-123 terminating",
    "PacketResponder 2 for block blk_456 terminating",
    "PacketResponder 0 for block blk_789 terminating",
]


def test_lines_cluster_into_templates_with_typed_named_groups() -> None:
    clusters = mine(MESSAGES)
    assert len(clusters) == 2
    body, groups = template_regex(clusters[0])
    regex = compile_regex("^" + body + r"\s*$")
    match = regex.search("Failed password for oracle from 192.168.0.1 port 51234 ssh2")
    assert match is not None
    assert match.group("src") == "192.168.0.1"
    assert match.group("src_port") == "51234"
    assert "oracle" in match.groupdict().values()
    assert regex.search("Failed password for x from notanip port 1 ssh2") is None
    assert groups == 3


def test_identifier_tokens_keep_whole_value_and_id_part() -> None:
    body, _ = template_regex(mine(MESSAGES)[1])
    match = compile_regex("^" + body).search("PacketResponder 3 for block blk_-42 terminating")
    assert match is not None
    assert match.group("block") == "blk_-42"
    assert match.group("block_id") == "-42"


def test_key_value_tokens_capture_the_value() -> None:
    clusters = mine(["uid=0 euid=0 rhost=1.2.3.4", "uid=0 euid=5 rhost=2.2.3.4"])
    body, _ = template_regex(clusters[0])
    match = compile_regex("^" + body).search("uid=0 euid=7 rhost=9.9.9.9")
    assert match is not None
    assert (match.group("euid"), match.group("rhost")) == ("7", "9.9.9.9")


def test_header_learned_from_level_anchor() -> None:
    lines = [
        "2015-10-18 18:01:47,978 INFO [main] org.app.Master: Created app 1",
        "2015-10-18 18:01:48,963 WARN [IPC Server listener on 62260] org.ipc.Server: Starting",
        "2015-10-18 18:01:49,228 INFO [main] org.app.Master: Using committer",
    ]
    header = learn_header(lines)
    assert header is not None
    match = compile_regex(header).search(lines[1])
    assert match is not None
    assert match.group("level") == "WARN"
    assert match.group("thread") == "IPC Server listener on 62260"
    assert match.group("component") == "org.ipc.Server"
    assert lines[1][match.end() :] == "Starting"


def test_no_header_without_a_level_word() -> None:
    assert learn_header(["just some text 1", "more text 2"]) is None


def test_log4j_thread_class_line_bracket_is_split() -> None:
    lines = [
        "2015-07-29 19:04:29,071 - WARN  [SendWorker:1889:QuorumCnxManager$SendWorker@688] - x",
        "2015-07-29 19:04:30,071 - INFO  [/10.10.34.11:3888:Listener@493] - Received request",
        "2015-07-29 19:04:31,071 - INFO  [main:Server@12] - Started",
    ]
    header = learn_header(lines)
    assert header is not None
    match = compile_regex(header).search(lines[1])
    assert match is not None
    assert match.group("thread_name") == "/10.10.34.11"
    assert match.group("source_class") == "3888:Listener"
    assert match.group("line") == "493"


def test_dates_units_and_values_after_keys() -> None:
    clusters = mine(
        [
            "connection from 1.2.3.4 (a.b.net) at Fri Jun 17 07:07:00 2005 size 5.2 KB, to: x",
            "connection from 1.2.3.5 () at Sat Jul  9 12:59:44 2005 size 7 KB, to: x",
            "connection from 1.2.3.6 (c.d) at Fri Jun 17 07:07:09 2005 size 1.0 KB, to: x",
        ]
    )
    assert len(clusters) == 1
    body, _ = template_regex(clusters[0])
    regex = compile_regex("^" + body)
    match = regex.search("connection from 9.9.9.9 () at Sun Jul 17 14:03:04 2005 size 3 KB, to: y")
    assert match is not None
    assert match.group("date") == "Sun Jul 17 14:03:04 2005"
    assert match.group("size_with_unit") == "3 KB"
    assert match.group("size") == "3"
    assert match.group("to") == "y"
    hosted = regex.search(
        "connection from 9.9.9.9 (h.net) at Sun Jul 17 14:03:04 2005 size 3 KB, to: y"
    )
    assert hosted is not None
    assert "h.net" in hosted.groupdict().values()


def test_nested_keys_and_names_taken_by_the_header() -> None:
    clusters = mine(
        [
            "schedule headroom=<memory:10240, vCores:-17> pid 12",
            "schedule headroom=<memory:8192, vCores:-19> pid 13",
            "schedule headroom=<memory:1024, vCores:-1> pid 14",
        ]
    )
    body, groups = template_regex(clusters[0], taken=frozenset({"pid"}))
    match = compile_regex("^" + body).search("schedule headroom=<memory:512, vCores:3> pid 99")
    assert match is not None
    assert (match.group("memory"), match.group("v_cores")) == ("512", "3")
    assert match.group("pid_2") == "99"
    assert groups == 3


def test_process_pid_tokens_are_split() -> None:
    clusters = mine(
        ["crond[2915]: session closed", "sshd[17]: session closed", "su[3]: session closed"]
    )
    body, _ = template_regex(clusters[0])
    match = compile_regex("^" + body).search("cron(pam_unix)[42]: session closed")
    assert match is not None
    assert (match.group("process"), match.group("pid")) == ("cron(pam_unix)", "42")


def test_logcat_one_letter_levels_and_pipe_delimited_prefixes() -> None:
    logcat = [
        "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezing app",
        "03-17 16:13:38.819  1702  8671 I PowerManagerService: acquire lock=23",
        "03-17 16:13:38.881  1702  2395 W WindowManager: Failed looking up window",
    ]
    header = learn_header(logcat)
    assert header is not None
    match = compile_regex(header).search(logcat[2])
    assert match is not None
    assert (match.group("level"), match.group("component"), match.group("pid")) == (
        "W",
        "WindowManager",
        "2395",
    )
    piped = [
        "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
        "20171223-22:15:29:615|Step_SPUtils|30002312|onExtend:1514038530000 14 0 4",
    ]
    prefix = learn_delimited_prefix(piped)
    assert prefix is not None
    match = compile_regex(prefix).search(piped[1])
    assert match is not None
    assert (match.group("component"), match.group("pid")) == ("Step_SPUtils", "30002312")
    assert piped[1][match.end() :] == "onExtend:1514038530000 14 0 4"


def test_upper_case_source_column_after_the_level() -> None:
    lines = [
        "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1",
        "2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/27 WcpInitialize",
        "2016-09-28 04:30:31, Error                 CBS    Failed to open package.",
    ]
    header = learn_header(lines)
    assert header is not None
    match = compile_regex(header).search(lines[2])
    assert match is not None
    assert (match.group("level"), match.group("component")) == ("Error", "CBS")


def test_clusters_per_bucket_are_bounded() -> None:
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}x" for i in range(600)]
    lines = [" ".join(["start", *words[i : i + 8]]) for i in range(0, 590)]
    assert len(mine(lines)) <= MAX_CLUSTERS_PER_BUCKET


def test_tokens_sharing_punctuation_get_part_groups_with_a_fallback() -> None:
    clusters = mine(
        [
            "node dn228/dn228 Switch<0>(0x0)::cb",
            "node dn73/dn73 Switch<7>(0x1)::cb",
            "node dn1/dn2 Switch<3>(0x2)::cb",
        ]
    )
    body, _ = template_regex(clusters[0])
    regex = compile_regex("^" + body + r"\s*$")
    match = regex.search("node dn5/dn6 Switch<1>(0x9)::cb")
    assert match is not None
    assert "dn5/dn6" in match.groupdict().values()
    assert {"dn5", "dn6", "1", "0x9"} <= set(match.groupdict().values())
    other = regex.search("node dn5-x Switch<1>(0x9)::cb")
    assert other is not None
    assert "dn5-x" in other.groupdict().values()


def test_database_style_levels() -> None:
    postgres = [
        "2017-07-31 13:36:42.585 CEST [4974] LOG:  database system was shut down",
        "2017-07-31 13:36:43.585 CEST [4975] FATAL:  password authentication failed",
        "2017-07-31 13:36:44.585 CEST [4976] LOG:  autovacuum launcher started",
    ]
    header = learn_header(postgres)
    assert header is not None
    match = compile_regex(header).search(postgres[1])
    assert match is not None
    assert (match.group("level"), match.group("pid")) == ("FATAL", "4975")
    assert postgres[1][match.end() :] == "password authentication failed"
    mysql = [
        "2016-10-27T10:59:35.385124Z 0 [Note] InnoDB: Completed initialization",
        "2016-10-27T10:59:36.385124Z 0 [Warning] InnoDB: Retrying",
    ]
    header = learn_header(mysql)
    assert header is not None
    match = compile_regex(header).search(mysql[1])
    assert match is not None
    assert (match.group("level"), match.group("component")) == ("Warning", "InnoDB")


def test_endpoints_are_split_and_named_by_side() -> None:
    clusters = mine(
        [
            "Built inbound TCP connection 17 for outside:203.0.113.5/443 (198.51.100.5/443) "
            "to inside:10.0.0.5/51234 (10.0.0.5/51234)",
        ]
    )
    body, _ = template_regex(clusters[0])
    match = compile_regex("^" + body).search(
        "Built inbound TCP connection 99 for outside:203.0.113.9/80 (198.51.100.9/8080) "
        "to dmz:10.0.0.7/5000 (10.0.0.7/5000)"
    )
    assert match is not None
    found = {k: v for k, v in match.groupdict().items() if v}
    assert (found["src_interface"], found["src"], found["src_port"]) == (
        "outside",
        "203.0.113.9",
        "80",
    )
    assert (found["src_translated_ip"], found["src_translated_port"]) == ("198.51.100.9", "8080")
    assert (found["dest_interface"], found["dest"], found["dest_port"]) == (
        "dmz",
        "10.0.0.7",
        "5000",
    )


def test_lone_templates_free_typed_tokens_and_values_after_role_words() -> None:
    clusters = mine(["client 198.51.100.7#53211 (a.example.com): query: a.example.com IN A +"])
    body, _ = template_regex(clusters[0])
    match = compile_regex("^" + body).search(
        "client 10.1.1.1#5353 (b.example.org): query: b.example.org IN A +"
    )
    assert match is not None
    assert (match.group("src"), match.group("src_port"), match.group("query")) == (
        "10.1.1.1",
        "5353",
        "b.example.org",
    )
    user = template_regex(mine(["session opened for user root by ann"])[0])[0]
    found = compile_regex("^" + user).search("session opened for user bob by ann")
    assert found is not None
    assert found.group("user") == "bob"


def test_quoted_strings_are_one_token_and_one_value() -> None:
    clusters = mine(
        [
            'Rejected stream agent "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" mac 1',
            'Rejected stream agent "curl/8.5.0" mac 2',
        ]
    )
    assert len(clusters) == 1
    body, _ = template_regex(clusters[0])
    match = compile_regex("^" + body).search(
        'Rejected stream agent "Go-http-client/1.1 (x y)" mac 3'
    )
    assert match is not None
    assert match.group("http_user_agent") == "Go-http-client/1.1 (x y)"


def test_spaced_assignments_name_the_value_after_them_not_the_prose_word() -> None:
    message = "AAA user authentication Successful : server = 10.1.1.1 : user = alice"
    body, _ = template_regex(mine([message])[0])
    match = compile_regex("^" + body).search(
        "AAA user authentication Successful : server = 10.2.2.2 : user = bob"
    )
    assert match is not None
    named = {name: value for name, value in match.groupdict().items() if value}
    assert named["user"] == "bob"
    assert "=" not in named.values()
    assert "authentication" not in named.values()
    assert "10.2.2.2" in named.values()


def test_a_verb_after_an_introducer_is_prose() -> None:
    body, _ = template_regex(mine(["Login permitted from 10.2.2.2 for user admin"])[0])
    match = compile_regex("^" + body).search("Login permitted from 10.3.3.3 for user eve")
    assert match is not None
    assert match.group("user") == "eve"
    assert "permitted" not in match.groupdict().values()


def test_header_less_columns_are_named_by_kind_and_neighbour() -> None:
    # squid-like access lines: no word names any column
    lines = [
        "1702116000.123 245 192.168.1.10 TCP_MISS/200 5120 GET http://a.example/x - DIRECT/-",
        "1702116001.456 12 192.168.1.11 TCP_HIT/304 1024 POST http://b.example/y bob DIRECT/-",
        "1702116002.789 90 10.0.0.7 TCP_DENIED/403 0 GET http://c.example/z - NONE/-",
    ]
    body, _ = template_regex(mine(lines)[0])
    match = compile_regex("^" + body).search(
        "1702116003.001 55 10.9.9.9 TCP_MISS/404 312 PUT http://d.example/w - DIRECT/-"
    )
    assert match is not None
    named = match.groupdict()
    assert (named["src"], named["status"], named["bytes"]) == ("10.9.9.9", "404", "312")
    assert (named["http_method"], named["url"]) == ("PUT", "http://d.example/w")
    assert "TCP_MISS" in named.values()


def test_numbers_are_status_and_bytes_only_beside_a_request() -> None:
    web = [
        f'10.0.0.{i}:5000{i} be_app/srv{i} {code} {size} "GET /p{i} HTTP/1.1"'
        for i, (code, size) in enumerate([(200, 512), (404, 90), (301, 7)])
    ]
    match = compile_regex("^" + template_regex(mine(web)[0])[0]).search(
        '10.1.1.1:41234 be_web/srv9 503 1024 "POST /q HTTP/1.1"'
    )
    assert match is not None
    named = match.groupdict()
    assert (named["src"], named["src_port"], named["status"], named["bytes"]) == (
        "10.1.1.1",
        "41234",
        "503",
        "1024",
    )
    assert {"be_web", "srv9"} <= set(named.values())
    plain = [f"job 10.0.0.{i} {code} {size} done" for i, (code, size) in enumerate([(200, 5)] * 3)]
    plain[1] = "job 10.0.0.5 404 9 done"
    names = compile_regex("^" + template_regex(mine(plain)[0])[0]).groupindex
    assert "status" not in names and "bytes" not in names


def test_a_comma_ending_some_values_of_a_variable_is_not_part_of_them() -> None:
    clusters = mine(["request by user=erin, then ok", "request by user=bob then ok"])
    assert len(clusters) == 1
    body, _ = template_regex(clusters[0])
    regex = compile_regex("^" + body)
    for line, user in (
        ("request by user=ann, then ok", "ann"),
        ("request by user=cy then ok", "cy"),
    ):
        match = regex.search(line)
        assert match is not None and match.group("user") == user
