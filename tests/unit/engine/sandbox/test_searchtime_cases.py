"""Table-driven search-time cases drawn from props.conf.spec / transforms.conf.spec rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor

LOOKUP_CSV = b"code,description,severity\n200,OK,low\n404,Not Found,medium\n500,Server Error,high\n"
HOSTS_CSV = b"host_pattern,owner,site\nweb*,web team,paris\ndb-*,dba team,paris\n*,ops,oslo\n"
NETS_CSV = b"subnet,zone\n10.0.0.0/8,internal\n192.168.1.0/24,lab\n2001:db8::/32,v6lab\n"
USERS_CSV = b"\xef\xbb\xbfuser,dept\nAlice,finance\nbob,it\nbob,security\n"


@dataclass(frozen=True)
class Case:
    id: str
    props: Mapping[str, str]
    raw: str
    expected: Mapping[str, list[str]]
    absent: tuple[str, ...] = ()
    transforms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    indexed: Mapping[str, list[str]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


LOOKUP_TRANSFORMS = {
    "http_codes": {"filename": "http_codes.csv"},
    "http_codes_ci": {"filename": "http_codes.csv", "case_sensitive_match": "false"},
    "owners": {"filename": "owners.csv", "match_type": "WILDCARD(host_pattern)"},
    "owners_first": {
        "filename": "owners.csv",
        "match_type": "WILDCARD(host_pattern)",
        "max_matches": "1",
    },
    "zones": {"filename": "zones.csv", "match_type": "CIDR(subnet)"},
    "bad_max": {"filename": "http_codes.csv", "max_matches": "many"},
    "site_owners": {"filename": "owners.csv", "match_type": "WILDCARD(host_pattern)"},
    "users": {"filename": "users.csv", "case_sensitive_match": "false"},
    "users_min": {
        "filename": "users.csv",
        "min_matches": "1",
        "default_match": "unknown-dept",
    },
}

CASES = [
    # ---------------------------------------------------------------- EXTRACT
    Case(
        "extract-named-group",
        {"EXTRACT-u": r"user=(?<user>\w+)"},
        "a user=alice b",
        {"user": ["alice"]},
    ),
    Case(
        "extract-group-syntaxes",
        {"EXTRACT-a": r"a=(?P<first>\d+) b=(?'second'\d+)"},
        "a=1 b=2",
        {"first": ["1"], "second": ["2"]},
    ),
    Case(
        "extract-ascii-class-order-first-wins",
        {"EXTRACT-b": r"(?<port>\d+)$", "EXTRACT-A": r"port (?<port>\d+)"},
        "port 22 to 8080",
        {"port": ["22"]},
    ),
    Case(
        "extract-in-src-field",
        {"EXTRACT-1path": r"path=(?<path>\S+)", "EXTRACT-2file": r"(?<file>[^/]+)$ in path"},
        "GET path=/var/log/app.log",
        {"path": ["/var/log/app.log"], "file": ["app.log"]},
    ),
    Case(
        "extract-in-keyword-case-insensitive",
        {"EXTRACT-1path": r"path=(?<path>\S+)", "EXTRACT-2dir": r"^/(?<top>[^/]+) IN path"},
        "path=/var/log",
        {"top": ["var"]},
    ),
    Case(
        "extract-bracket-i-is-not-src-field",
        {"EXTRACT-x": r"(?<who>\w+) [i]n house"},
        "bob in house",
        {"who": ["bob"]},
    ),
    Case(
        "extract-ms-multiline-anchor",
        {"EXTRACT-x": r"^second=(?<second>\w+)$"},
        "first=1\nsecond=2\nthird=3",
        {"second": ["2"]},
    ),
    Case(
        "extract-ms-dotall",
        {"EXTRACT-x": r"BEGIN (?<body>.+) END"},
        "BEGIN line1\nline2 END",
        {"body": ["line1\nline2"]},
    ),
    Case(
        "extract-key-val-groups-all-pairs",
        {"EXTRACT-kv": r"(?<_KEY_1>[a-z]+):(?<_VAL_1>\d+)"},
        "cpu:5 mem:70 disk:12",
        {"cpu": ["5"], "mem": ["70"], "disk": ["12"]},
    ),
    Case(
        "extract-first-match-only",
        {"EXTRACT-u": r"user=(?<user>\w+)"},
        "user=a user=b",
        {"user": ["a"]},
    ),
    Case(
        "extract-empty-value-dropped",
        {"EXTRACT-x": r"code=(?<code>\d*);"},
        "code=;",
        {},
        absent=("code",),
    ),
    Case(
        "extract-on-indexed-field-double-extraction",
        {"EXTRACT-x": r"status=(?<status>\d+)"},
        "status=200",
        {"status": ["200", "200"]},
        indexed={"status": ["200"]},
    ),
    Case(
        "extract-invalid-regex-is-reported",
        {"EXTRACT-bad": r"(?<x>[a-", "EXTRACT-good": r"(?<y>\d+)"},
        "42",
        {"y": ["42"]},
        errors=("EXTRACT-bad",),
    ),
    Case(
        "extract-bad-match-limit-reported-defaults-used",
        {"MATCH_LIMIT": "lots", "EXTRACT-a": r"(?<n>\d+)"},
        "7",
        {"n": ["7"]},
        errors=("MATCH_LIMIT",),
    ),
    # ---------------------------------------------------------------- REPORT
    Case(
        "report-named-groups-default-format",
        {"REPORT-r": "t"},
        "src=10.1.1.1 dst=10.2.2.2",
        {"src_ip": ["10.1.1.1"]},
        transforms={"t": {"REGEX": r"src=(?<src_ip>\S+)"}},
    ),
    Case(
        "report-format-numbered-groups",
        {"REPORT-r": "t"},
        "alice logged in from 10.0.0.1",
        {"user": ["alice"], "src": ["10.0.0.1"]},
        transforms={"t": {"REGEX": r"^(\w+) logged in from (\S+)", "FORMAT": "user::$1 src::$2"}},
    ),
    Case(
        "report-format-dynamic-names-repeat",
        {"REPORT-r": "t"},
        "[method=GET] [IP=10.1.1.1] [byteCount=255]",
        {"method": ["GET"], "IP": ["10.1.1.1"], "byteCount": ["255"]},
        transforms={"t": {"REGEX": r"\[(\w+)=([^\]]+)\]", "FORMAT": "$1::$2"}},
    ),
    Case(
        "report-format-literal-value",
        {"REPORT-r": "t"},
        "ERROR disk full",
        {"level": ["ERROR"], "third": ["other-value"]},
        transforms={"t": {"REGEX": r"^(ERROR)", "FORMAT": "level::$1 third::other-value"}},
    ),
    Case(
        "report-key-val-without-format",
        {"REPORT-r": "t"},
        "abc=def ghi=jkl",
        {"abc": ["def"], "ghi": ["jkl"]},
        transforms={"t": {"REGEX": r"(?<_KEY_1>[a-z]+)=(?<_VAL_1>[a-z]+)"}},
    ),
    Case(
        "report-mv-add-false-first-wins",
        {"REPORT-r": "t"},
        "ip=1.1.1.1 ip=2.2.2.2",
        {"ip": ["1.1.1.1"]},
        transforms={"t": {"REGEX": r"ip=(?<ip>\S+)"}},
    ),
    Case(
        "report-mv-add-true-multivalue",
        {"REPORT-r": "t"},
        "ip=1.1.1.1 ip=2.2.2.2",
        {"ip": ["1.1.1.1", "2.2.2.2"]},
        transforms={"t": {"REGEX": r"ip=(?<ip>\S+)", "MV_ADD": "true"}},
    ),
    Case(
        "report-clean-keys-default",
        {"REPORT-r": "t"},
        "Host Name:web1|1st-key:x|_hidden:y",
        {"Host_Name": ["web1"], "st_key": ["x"], "hidden": ["y"]},
        transforms={"t": {"DELIMS": '"|", ":"'}},
    ),
    Case(
        "report-clean-keys-false",
        {"REPORT-r": "t"},
        "Host Name:web1|1st-key:x",
        {"Host Name": ["web1"], "1st-key": ["x"]},
        transforms={"t": {"DELIMS": '"|", ":"', "CLEAN_KEYS": "false"}},
    ),
    Case(
        "report-keep-empty-vals-default-false",
        {"REPORT-r": "t", "KV_MODE": "none"},
        "a=|b=2",
        {"b": ["2"]},
        absent=("a",),
        transforms={"t": {"DELIMS": '"|", "="'}},
    ),
    Case(
        "report-keep-empty-vals-true",
        {"REPORT-r": "t", "KV_MODE": "none"},
        "a=|b=2",
        {"a": [""], "b": ["2"]},
        transforms={"t": {"DELIMS": '"|", "="', "KEEP_EMPTY_VALS": "true"}},
    ),
    Case(
        "report-source-key-field",
        {"EXTRACT-u": r"url=(?<url>\S+)", "REPORT-q": "query"},
        "url=/search?q=splunk&lang=en",
        {"q": ["splunk"], "lang": ["en"]},
        transforms={
            "query": {"SOURCE_KEY": "url", "REGEX": r"[?&](\w+)=([^&]*)", "FORMAT": "$1::$2"}
        },
    ),
    Case(
        "report-delims-pipe-eq-spec-example",
        {"REPORT-r": "pipe_eq"},
        "a=1|b=2||c=3",
        {"a": ["1"], "b": ["2"], "c": ["3"]},
        transforms={"pipe_eq": {"DELIMS": '"|", "="'}},
    ),
    Case(
        "report-delims-fields-commalist-spec-example",
        {"REPORT-r": "commalist"},
        "one, two, three",
        {"field1": ["one"], "field2": ["two"], "field3": ["three"]},
        transforms={"commalist": {"DELIMS": '", "', "FIELDS": "field1, field2, field3"}},
    ),
    Case(
        "report-delims-quoted-values",
        {"REPORT-r": "csv"},
        '2024-01-01,"Smith, John",login',
        {"day": ["2024-01-01"], "name": ["Smith, John"], "action": ["login"]},
        transforms={"csv": {"DELIMS": '","', "FIELDS": 'day, "name", action'}},
    ),
    Case(
        "report-delims-fields-keep-positions",
        {"REPORT-r": "t"},
        "a,,c",
        {"f1": ["a"], "f3": ["c"]},
        absent=("f2",),
        transforms={"t": {"DELIMS": '","', "FIELDS": "f1, f2, f3"}},
    ),
    Case(
        "report-delims-single-set-alternating",
        {"REPORT-r": "t"},
        "user  bob  action  login",
        {"user": ["bob"], "action": ["login"]},
        transforms={"t": {"DELIMS": '" "'}},
    ),
    Case(
        "report-list-order-first-transform-wins",
        {"REPORT-r": "second, first"},
        "id=7",
        {"id": ["from-second"]},
        transforms={
            "first": {"REGEX": r"id=(\d+)", "FORMAT": "id::$1"},
            "second": {"REGEX": r"(id)=", "FORMAT": "id::from-second"},
        },
    ),
    Case(
        "report-does-not-override-extract",
        {"EXTRACT-a": r"id=(?<id>\d+)", "REPORT-r": "t"},
        "id=7 id=8",
        {"id": ["7"]},
        transforms={"t": {"REGEX": r"id=(?<id>\d+)"}},
    ),
    Case(
        "report-mv-add-appends-to-extract",
        {"EXTRACT-a": r"id=(?<id>\d+)", "REPORT-r": "t"},
        "id=7 id=8",
        {"id": ["7", "7", "8"]},
        transforms={"t": {"REGEX": r"id=(?<id>\d+)", "MV_ADD": "true"}},
    ),
    Case(
        "report-missing-transform-reported",
        {"REPORT-r": "nope"},
        "x",
        {},
        errors=("REPORT-r",),
    ),
    # ---------------------------------------------------------------- KV_MODE
    Case(
        "kv-auto-pairs-and-quotes",
        {},
        'action=allowed msg="hello world" port=443',
        {"action": ["allowed"], "msg": ["hello world"], "port": ["443"]},
    ),
    Case("kv-auto-empty-values-ignored", {}, 'a= b="" c=3', {"c": ["3"]}, absent=("a", "b")),
    Case(
        "kv-auto-key-cleaning", {}, "src-ip=1.2.3.4 _tmp=x", {"src_ip": ["1.2.3.4"], "tmp": ["x"]}
    ),
    Case("kv-auto-repeated-key-multivalue", {}, "tag=a tag=b", {"tag": ["a", "b"]}),
    Case(
        "kv-auto-comma-separated",
        {},
        "user=bob, action=login; result=ok",
        {"user": ["bob"], "action": ["login"], "result": ["ok"]},
    ),
    Case(
        "kv-auto-does-not-override-extract",
        {"EXTRACT-a": r"user=(?<user>\w)"},
        "user=bob",
        {"user": ["b"]},
    ),
    Case(
        "kv-auto-escaped-quotes",
        {"KV_MODE": "auto_escaped"},
        r'msg="say \"hi\" now" n=1',
        {"msg": ['say "hi" now'], "n": ["1"]},
    ),
    Case(
        "kv-auto-plain-quotes-stop-at-backslash-quote",
        {"KV_MODE": "auto"},
        r'msg="say \"hi" n=1',
        {"msg": ["say \\"], "n": ["1"]},
    ),
    Case(
        "kv-auto-json-nested",
        {},
        '{"user": {"name": "bob", "roles": ["admin", "dev"]}, "ok": true, "n": 1.50}',
        {"user.name": ["bob"], "user.roles{}": ["admin", "dev"], "ok": ["true"], "n": ["1.50"]},
    ),
    Case(
        "kv-auto-json-disabled",
        {"AUTO_KV_JSON": "false"},
        '{"user": "bob"}',
        {},
        absent=("user",),
    ),
    Case(
        "kv-json-array-of-objects",
        {"KV_MODE": "json"},
        '{"items": [{"id": 1}, {"id": 2}], "empty": {}, "nothing": null}',
        {"items{}.id": ["1", "2"], "nothing": ["null"]},
        absent=("empty",),
    ),
    Case("kv-json-not-json", {"KV_MODE": "json"}, "user=bob", {}, absent=("user",)),
    Case(
        "kv-json-numbers-keep-their-literal-text",
        {"KV_MODE": "json"},
        '{"z": -0, "e": 1E+5, "f": 1.0, "big": ' + "9" * 5000 + ', "n": NaN, "i": -Infinity}',
        {"z": ["-0"], "e": ["1E+5"], "f": ["1.0"], "big": ["9" * 5000], "n": ["NaN"]}
        | {"i": ["-Infinity"]},
    ),
    Case(
        "kv-json-two-documents-are-not-one",
        {"KV_MODE": "json"},
        '{"a": "1"} {"b": "2"}',
        {},
        absent=("a", "b"),
    ),
    Case("kv-json-duplicate-keys-last-wins", {"KV_MODE": "json"}, '{"a": 1, "a": 2}', {"a": ["2"]}),
    Case(
        "kv-json-maxcols-512",
        {"KV_MODE": "json"},
        "{" + ", ".join(f'"k{i}": {i}' for i in range(600)) + ', "k0": 0}',
        {"k0": ["0"], "k511": ["511"]},
        absent=("k512", "k599"),
    ),
    Case(
        "kv-xml-elements-and-attributes",
        {"KV_MODE": "xml"},
        '<event id="7"><user>bob</user><ip>1.1.1.1</ip><ip>2.2.2.2</ip></event>',
        {"event{@id}": ["7"], "event.user": ["bob"], "event.ip": ["1.1.1.1", "2.2.2.2"]},
    ),
    Case("kv-none", {"KV_MODE": "none"}, "user=bob", {}, absent=("user",)),
    Case(
        "kv-auto-limit-100-fields",
        {},
        " ".join(f"k{i}=v{i}" for i in range(150)),
        {"k0": ["v0"], "k99": ["v99"]},
        absent=("k100", "k149"),
    ),
    Case(
        "kv-auto-maxchars-10240",
        {},
        "first=1 " + "x" * 10300 + " late=2",
        {"first": ["1"]},
        absent=("late",),
    ),
    Case("kv-trim-spaces-default", {}, 'a=" x "', {"a": ["x"]}),
    Case("kv-trim-spaces-false", {"KV_TRIM_SPACES": "false"}, 'a=" x "', {"a": [" x "]}),
    Case(
        "kv-json-over-indexed-json-double-extraction",
        {"KV_MODE": "json"},
        '{"user": "bob"}',
        {"user": ["bob", "bob"]},
        indexed={"user": ["bob"]},
    ),
    # ---------------------------------------------------------------- FIELDALIAS
    Case(
        "alias-as-overwrites",
        {
            "KV_MODE": "none",
            "EXTRACT-a": r"src=(?<src>\S+) dest=(?<dest>\S+)",
            "FIELDALIAS-d": "src AS dest",
        },
        "src=1.1.1.1 dest=2.2.2.2",
        {"dest": ["1.1.1.1"], "src": ["1.1.1.1"]},
    ),
    Case(
        "alias-asnew-keeps-existing",
        {"FIELDALIAS-d": "src ASNEW dest"},
        "src=1.1.1.1 dest=2.2.2.2",
        {"dest": ["2.2.2.2"]},
    ),
    Case(
        "alias-as-missing-source-removes-alias",
        {"FIELDALIAS-d": "nosuch AS dest"},
        "dest=2.2.2.2",
        {},
        absent=("dest",),
    ),
    Case(
        "alias-asnew-missing-source-keeps-alias",
        {"FIELDALIAS-d": "nosuch ASNEW dest"},
        "dest=2.2.2.2",
        {"dest": ["2.2.2.2"]},
    ),
    Case(
        "alias-reads-pre-alias-values",
        {"FIELDALIAS-a": "a AS b", "FIELDALIAS-b": "b AS c"},
        "a=1 b=2",
        {"b": ["1"], "c": ["2"]},
    ),
    Case(
        "alias-several-lowercase-and-commas",
        {"FIELDALIAS-x": "user as account, user AS actor host AS dest"},
        "user=bob",
        {"account": ["bob"], "actor": ["bob"], "dest": ["web1"]},
    ),
    # ---------------------------------------------------------------- EVAL
    Case(
        "eval-parallel-spec-example",
        {"EVAL-x": "y*2", "EVAL-y": "100"},
        "y=5",
        {"x": ["10"], "y": ["100"]},
    ),
    Case("eval-null-removes-field", {"EVAL-user": "null()"}, "user=bob", {}, absent=("user",)),
    Case(
        "eval-overwrites-extracted", {"EVAL-id": '"sample_id"'}, '{"id": 6}', {"id": ["sample_id"]}
    ),
    Case(
        "eval-sees-aliases",
        {
            "FIELDALIAS-a": "result AS action",
            "EVAL-status": 'if(action=="success", "PASS", "FAIL")',
        },
        "result=success",
        {"action": ["success"], "status": ["PASS"]},
    ),
    Case(
        "eval-case-from-fixture",
        {
            "EVAL-status": (
                'case(action=="success", "PASS", action=="failure", "FAIL", 0==0, "OTHER")'
            )
        },
        "action=error",
        {"status": ["OTHER"]},
    ),
    Case(
        "eval-default-fields",
        {"EVAL-where": 'sourcetype . "@" . host', "EVAL-size": "len(_raw)"},
        "abc",
        {"where": ["st:test@web1"], "size": ["3"]},
    ),
    Case(
        "eval-boolean-result-is-an-error",
        {"EVAL-flag": "1==1", "EVAL-ok": '"yes"'},
        "x",
        {"ok": ["yes"]},
        absent=("flag",),
        errors=("EVAL-flag",),
    ),
    Case(
        "eval-syntax-error-reported",
        {"EVAL-bad": "if(a,", "EVAL-ok": '"yes"'},
        "x",
        {"ok": ["yes"]},
        errors=("EVAL-bad",),
    ),
    # ---------------------------------------------------------------- LOOKUP
    Case(
        "lookup-output",
        {"LOOKUP-codes": "http_codes code AS status OUTPUT description"},
        "status=404",
        {"description": ["Not Found"]},
        absent=("severity",),
    ),
    Case(
        "lookup-output-overwrites",
        {"LOOKUP-codes": "http_codes code AS status OUTPUT description"},
        "status=404 description=old",
        {"description": ["Not Found"]},
    ),
    Case(
        "lookup-outputnew-keeps-existing",
        {"LOOKUP-codes": "http_codes code AS status OUTPUTNEW description severity"},
        "status=404 description=old",
        {"description": ["old"], "severity": ["medium"]},
    ),
    Case(
        "lookup-no-output-clause-all-other-columns",
        {"LOOKUP-codes": "http_codes code AS status"},
        "status=500",
        {"description": ["Server Error"], "severity": ["high"]},
        absent=("code",),
    ),
    Case(
        "lookup-output-as-rename",
        {"LOOKUP-codes": "http_codes code AS status OUTPUT description AS status_text"},
        "status=200",
        {"status_text": ["OK"]},
        absent=("description",),
    ),
    Case(
        "lookup-output-no-match-clears",
        {"LOOKUP-codes": "http_codes code AS status OUTPUT description"},
        "status=999 description=stale",
        {},
        absent=("description",),
    ),
    Case(
        "lookup-case-sensitive-default",
        {"LOOKUP-u": "users_min user OUTPUT dept"},
        "user=alice",
        {"dept": ["unknown-dept"]},
    ),
    Case(
        "lookup-case-insensitive",
        {"LOOKUP-u": "users user OUTPUT dept"},
        "user=ALICE",
        {"dept": ["finance"]},
    ),
    Case(
        "lookup-multiple-matches-multivalue",
        {"LOOKUP-u": "users user OUTPUT dept"},
        "user=bob",
        {"dept": ["it", "security"]},
    ),
    Case(
        "lookup-wildcard-all-matches",
        {"LOOKUP-o": "owners host_pattern AS host OUTPUT owner"},
        "x",
        {"owner": ["web team", "ops"]},
    ),
    Case(
        "lookup-wildcard-max-matches-1",
        {"LOOKUP-o": "owners_first host_pattern AS host OUTPUT owner"},
        "x",
        {"owner": ["web team"]},
    ),
    Case(
        "lookup-exact-and-wildcard-columns",
        {"LOOKUP-o": "site_owners site AS dc host_pattern AS host OUTPUT owner"},
        "dc=oslo",
        {"owner": ["ops"]},
    ),
    Case(
        "lookup-multivalue-input-file-order",
        {"REPORT-u": "users_mv", "LOOKUP-u": "users user OUTPUT dept"},
        "user=bob user=alice",
        {"user": ["bob", "alice"], "dept": ["finance", "it", "security"]},
        transforms={"users_mv": {"REGEX": r"user=(?<user>\w+)", "MV_ADD": "true"}},
    ),
    Case(
        "lookup-cidr",
        {"LOOKUP-z": "zones subnet AS src OUTPUT zone"},
        "src=192.168.1.77",
        {"zone": ["lab"]},
    ),
    Case(
        "lookup-cidr-ipv6",
        {"LOOKUP-z": "zones subnet AS src OUTPUT zone"},
        "src=2001:db8::5",
        {"zone": ["v6lab"]},
    ),
    Case(
        "lookup-prefix-variants",
        {
            "lookup_codes": "http_codes code AS status OUTPUT description",
            "LOOKUPsev": "http_codes code AS status OUTPUT severity",
        },
        "status=200",
        {"description": ["OK"], "severity": ["low"]},
    ),
    Case(
        "lookup-after-eval",
        {"EVAL-status": '"500"', "LOOKUP-codes": "http_codes code AS status OUTPUT severity"},
        "nothing here",
        {"severity": ["high"]},
    ),
    Case(
        "lookup-bad-max-matches-reported",
        {"LOOKUP-x": "bad_max code AS status OUTPUT severity"},
        "status=200",
        {},
        absent=("severity",),
        errors=("LOOKUP-x",),
    ),
    Case(
        "lookup-missing-file-reported",
        {"LOOKUP-x": "missing_table a OUTPUT b"},
        "a=1",
        {},
        errors=("LOOKUP-x",),
    ),
]


def _run(case: Case) -> tuple[Event, list[str]]:
    transforms = {**LOOKUP_TRANSFORMS, **case.transforms}
    processor = SearchTimeProcessor(
        transforms=transforms,
        eventtypes={},
        tags={},
        lookup_files={
            "http_codes.csv": LOOKUP_CSV,
            "owners.csv": HOSTS_CSV,
            "zones.csv": NETS_CSV,
            "users.csv": USERS_CSV,
        },
    )
    event = Event(raw=case.raw, sourcetype="st:test", source="/var/log/t.log", host="web1")
    for name, values in case.indexed.items():
        event.fields[name] = list(values)
        event.indexed.add(name)
    errors = processor.apply(event, case.props)
    return event, errors


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_search_time_case(case: Case) -> None:
    event, errors = _run(case)
    for name, values in case.expected.items():
        assert event.fields.get(name) == values, f"{name}: {event.fields}"
    for name in case.absent:
        assert name not in event.fields, f"{name} should be absent: {event.fields}"
    assert len(errors) == len(case.errors), errors
    for prefix, error in zip(case.errors, errors, strict=True):
        assert error.startswith(prefix), error


def test_there_are_enough_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 45
