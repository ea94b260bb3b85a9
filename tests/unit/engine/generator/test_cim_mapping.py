"""CIM mapping: model choice, aliases from synonyms and nested JSON, action evals, tags."""

from __future__ import annotations

from engine.generator.cim_mapping import map_cim
from engine.generator.fields import infer_fields
from engine.generator.model import FieldInfo, FieldPlan, FormatGuess
from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor


def _plan(**examples: str) -> FieldPlan:
    return FieldPlan(fields=tuple(FieldInfo(name=k, examples=(v,)) for k, v in examples.items()))


AUTH_EVENTS = [
    "Feb 21 21:54:44 web01 sshd[3402]: Accepted password for alice from 10.0.0.1 port 22 ssh2",
    "Feb 21 21:55:44 web01 sshd[3403]: Failed password for bob from 10.0.0.2 port 22 ssh2",
]


def test_sshd_events_map_to_authentication_with_action_eval() -> None:
    plan = _plan(syslog_host="web01", process="sshd", src="10.0.0.1", user="alice")
    cim = map_cim(plan, AUTH_EVENTS, wanted=True, sourcetype="acme:auth")
    assert cim.models == ("Authentication",)
    assert cim.props["FIELDALIAS-cim_dest"] == "syslog_host ASNEW dest"
    assert cim.props["FIELDALIAS-cim_app"] == "process ASNEW app"
    assert cim.props["EVAL-action"].startswith('case(match(_raw, "(?i)(?<![a-z])(?:accepted')
    assert cim.unmapped == {}
    assert cim.eventtypes == {"acme_auth_authentication": {"search": 'sourcetype="acme:auth"'}}
    assert cim.tags == {"eventtype=acme_auth_authentication": {"authentication": "enabled"}}


def test_nested_json_names_alias_to_cim_fields() -> None:
    plan = _plan(
        action="created",
        change_type="resources",
        command="run",
        dest="d1",
        dvc="dv1",
        src="1.1.1.1",
        status="failure",
        **{"object.name": "o1", "object.attrs": "a1", "user.email": "u@x.org", "user.name": "u"},
    )
    events = ['{"action":"created","object":{"name":"o1"}}']
    cim = map_cim(plan, events, wanted=True, sourcetype="acme:change", vendor_product="Acme")
    assert cim.models == ("Change",)
    assert cim.props["FIELDALIAS-cim_object"] == '"object.name" ASNEW object'
    assert cim.props["FIELDALIAS-cim_object_attrs"] == '"object.attrs" ASNEW object_attrs'
    assert cim.props["FIELDALIAS-cim_user"] == '"user.email" ASNEW user'
    assert cim.props["FIELDALIAS-cim_user_name"] == '"user.name" ASNEW user_name'
    assert cim.props["EVAL-vendor_product"] == '"Acme"'
    assert "EVAL-action" not in cim.props
    assert set(cim.unmapped["Change"]) == {"object_category", "object_id"}


def test_web_access_fields_and_unmapped_report() -> None:
    plan = _plan(clientip="10.0.0.1", method="GET", uri="/a", status="200", bytes="12")
    events = ['10.0.0.1 - - [26/Dec/2016:16:22:13 +0000] "GET /a HTTP/1.1" 200 12']
    cim = map_cim(plan, events, wanted=True, sourcetype="acme:web")
    assert cim.models == ("Web",)
    assert cim.mapped["src"] == "clientip"
    assert cim.mapped["http_method"] == "method"
    assert "vendor_product" in cim.unmapped["Web"]


def test_not_wanted_or_no_fit_gives_no_mapping() -> None:
    plan = _plan(level="INFO", component="x.Y")
    assert map_cim(plan, ["INFO x.Y started"], wanted=False, sourcetype="a:b").models == ()
    unfit = map_cim(plan, ["INFO x.Y started"], wanted=True, sourcetype="a:b")
    assert unfit.models == ()
    assert unfit.caveats


def test_common_aliases_even_without_a_fitting_model() -> None:
    plan = _plan(src_ip="10.0.0.1", dst_ip="10.0.0.2", **{"file.path": "/tmp/x"})
    cim = map_cim(plan, ["nothing to see"], wanted=True, sourcetype="a:b")
    assert cim.models == ()
    assert cim.props["FIELDALIAS-cim_src"] == "src_ip ASNEW src"
    assert cim.props["FIELDALIAS-cim_dest"] == "dst_ip ASNEW dest"
    assert cim.props["FIELDALIAS-cim_file_path"] == '"file.path" ASNEW file_path'


def test_existing_action_values_are_normalised_to_the_model() -> None:
    plan = _plan(action="accept", src="10.0.0.1", dest="10.0.0.2", transport="tcp", dvc="fw1")
    events = ["action=accept src=10.0.0.1 dest=10.0.0.2 transport=tcp", "action=deny firewall"]
    cim = map_cim(plan, events, wanted=True, sourcetype="acme:fw")
    assert cim.models == ("Network_Traffic",)
    expression = cim.props["EVAL-action"]
    assert expression.startswith("case(match('action', \"(?i)(?<![a-z])(?:allow|accept")
    assert expression.endswith("true(), 'action')")


def test_cim_plan_runs_in_the_sandbox_with_eventtypes_and_tags() -> None:
    plan = FieldPlan(
        props={"KV_MODE": "auto"},
        fields=tuple(
            FieldInfo(name=k, examples=(v,))
            for k, v in {"action": "accept", "src": "10.0.0.1", "dest": "10.0.0.2"}.items()
        ),
    )
    events = ["action=accept src=10.0.0.1 dest=10.0.0.2", "action=deny src=1.1.1.1 firewall"]
    cim = map_cim(plan, events, wanted=True, sourcetype="acme:fw")
    processor = SearchTimeProcessor(
        transforms={}, eventtypes=cim.eventtypes, tags=cim.tags, lookup_files={}
    )
    actions = []
    for raw in events:
        event = Event(raw=raw, sourcetype="acme:fw")
        assert processor.apply(event, {**plan.props, **cim.props}) == []
        assert set(event.tags) == {"network", "communicate"}
        actions.append(event.first("action"))
    assert actions == ["allowed", "blocked"]


def test_eventtype_is_narrowed_to_keywords_in_a_mixed_source() -> None:
    plan = _plan(syslog_host="web01", process="sshd", src="10.0.0.1", user="alice")
    events = [
        *AUTH_EVENTS,
        "Feb 21 21:56:44 web01 sshd[3404]: Received disconnect from 10.0.0.3: 11: Bye",
        "Feb 21 21:57:44 web01 sshd[3405]: Connection closed by 10.0.0.4",
        "Feb 21 21:58:44 web01 sshd[3406]: Server listening on 0.0.0.0 port 22.",
    ]
    cim = map_cim(plan, events, wanted=True, sourcetype="acme:auth")
    assert cim.models == ("Authentication",)
    search = cim.eventtypes["acme_auth_authentication"]["search"]
    assert search.startswith('sourcetype="acme:auth" (')
    assert '"password"' in search


def test_cef_ids_events_get_vendor_product_severity_and_action() -> None:
    events = [
        "CEF:0|Acme|IPS|1.0|100|SQL injection attempt|8|"
        "src=10.0.0.1 dst=10.0.0.2 dpt=80 act=blocked",
        "CEF:0|Acme|IPS|1.0|101|XSS attack|5|src=10.0.0.3 dst=10.0.0.2 dpt=443 act=alert",
    ]
    plan = infer_fields(events, FormatGuess(kind="cef", confidence=1.0))
    cim = map_cim(plan, events, wanted=True, sourcetype="acme:ips")
    assert cim.models == ("Intrusion_Detection",)
    processor = SearchTimeProcessor(
        transforms=plan.transforms, eventtypes=cim.eventtypes, tags=cim.tags, lookup_files={}
    )
    event = Event(raw=events[0], sourcetype="acme:ips")
    assert processor.apply(event, {**plan.props, **cim.props}) == []
    expected = {
        "src": "10.0.0.1",
        "dest": "10.0.0.2",
        "dest_port": "80",
        "action": "blocked",
        "severity": "high",
        "signature": "SQL injection attempt",
        "vendor_product": "Acme IPS",
    }
    assert {name: event.first(name) for name in expected} == expected
    assert set(event.tags) == {"attack", "ids"}


def test_vendor_names_are_aliased_by_role_and_levels_mapped_to_cim_severity() -> None:
    plan = FieldPlan(
        props={"KV_MODE": "auto"},
        fields=tuple(
            FieldInfo(name=k, examples=(v,))
            for k, v in {"srcip": "10.0.0.1", "dport": "443", "level": "WARN"}.items()
        ),
    )
    cim = map_cim(plan, ["nothing typical"], wanted=True, sourcetype="a:b")
    assert cim.props["FIELDALIAS-cim_src"] == "srcip ASNEW src"
    assert cim.props["FIELDALIAS-cim_dest_port"] == "dport ASNEW dest_port"
    assert cim.props["FIELDALIAS-cim_severity_id"] == "level ASNEW severity_id"
    processor = SearchTimeProcessor(transforms={}, eventtypes={}, tags={}, lookup_files={})
    found = []
    for level in ("WARN", "error", "Info", "FATAL", "odd"):
        event = Event(raw=f"srcip=10.0.0.9 dport=80 level={level}", sourcetype="a:b")
        assert processor.apply(event, {**plan.props, **cim.props}) == []
        found.append((event.first("severity"), event.first("severity_id")))
    assert found == [
        ("medium", "WARN"),
        ("high", "error"),
        ("informational", "Info"),
        ("critical", "FATAL"),
        (None, "odd"),
    ]
    assert event.first("src") == "10.0.0.9"


def test_a_url_is_cut_into_its_cim_parts() -> None:
    plan = FieldPlan(
        props={"KV_MODE": "auto"},
        fields=(FieldInfo(name="request_url", examples=("https://a.example:8443/x/y?q=1",)),),
    )
    cim = map_cim(plan, ["nothing typical"], wanted=True, sourcetype="a:b")
    processor = SearchTimeProcessor(transforms={}, eventtypes={}, tags={}, lookup_files={})
    parts = []
    for url in ("https://a.example:8443/x/y?q=1", "/only/a/path", "http://b.example"):
        event = Event(raw=f"request_url={url} dest_port=9", sourcetype="a:b")
        assert processor.apply(event, {**plan.props, **cim.props}) == []
        names = ("url", "url_domain", "uri_path", "uri_query", "dest_port")
        parts.append(tuple(event.first(n) for n in names))
    assert parts == [
        ("https://a.example:8443/x/y?q=1", "a.example", "/x/y", "q=1", "9"),
        ("/only/a/path", None, "/only/a/path", None, "9"),
        ("http://b.example", "b.example", None, None, "9"),
    ]


def test_a_keys_value_beats_a_words_guess_and_a_collector_comes_last() -> None:
    plan = FieldPlan(
        props={"KV_MODE": "auto"},
        fields=(
            FieldInfo(name="USER", examples=("root",)),
            FieldInfo(name="user", examples=("NOT",), source="REPORT-context"),
            FieldInfo(name="agent.hostname", examples=("collector-1",), source="KV_MODE=json"),
            FieldInfo(name="host.hostname", examples=("web-1",), source="KV_MODE=json"),
        ),
    )
    cim = map_cim(plan, ["nothing typical"], wanted=True, sourcetype="a:b")
    assert cim.props["EVAL-user"] == "coalesce(USER, user)"
    assert cim.props["FIELDALIAS-cim_dvc"] == '"host.hostname" ASNEW dvc'
    processor = SearchTimeProcessor(transforms={}, eventtypes={}, tags={}, lookup_files={})
    for raw, expected in (("USER=root user NOT", "root"), ("user=bob", "bob")):
        event = Event(raw=raw, sourcetype="a:b")
        assert processor.apply(event, {"KV_MODE": "auto", **cim.props}) == []
        assert event.first("user") == expected


def test_the_raw_action_eval_matches_whole_words_not_keys_or_word_parts() -> None:
    plan = _plan(syslog_host="web01", process="sshd", src="10.0.0.1", user="alice")
    cim = map_cim(plan, AUTH_EVENTS, wanted=True, sourcetype="acme:auth")
    processor = SearchTimeProcessor(transforms={}, eventtypes={}, tags={}, lookup_files={})
    actions = []
    for raw in (
        "sshd[1]: Accepted publickey for alice errors=0",
        "sshd[1]: session closed for bob failed_logins=2",
        "sshd[1]: Failed password for bob",
        "sshd[1]: login unsuccessful for bob",
        "sshd[1]: ERROR: bad token for eve",
    ):
        event = Event(raw=raw, sourcetype="acme:auth")
        assert processor.apply(event, cim.props) == []
        actions.append(event.first("action"))
    assert actions == ["success", None, "failure", "failure", "failure"]
