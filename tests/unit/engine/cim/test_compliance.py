"""CIM compliance rules as pytest-splunk-addon applies them (presence, values, clusters, ...)."""

from __future__ import annotations

import pytest

from engine.cim.compliance import CimChecker, ComplianceTally, tag_stanzas

AUTH_STANZAS = {"eventtype=auth": {"authentication"}}
GOOD_AUTH = {
    "eventtype": ["auth"],
    "tag": ["authentication"],
    "action": ["success"],
    "app": ["sshd"],
    "dest": ["host1"],
    "src": ["10.0.0.2"],
    "user": ["root"],
}


def _problems(fields: dict[str, list[str]], stanzas=None) -> dict[str, str]:
    checks = CimChecker(stanza_tags=stanzas or AUTH_STANZAS).check(fields)
    assert checks, "the event should map to a dataset"
    return {issue.field: issue.problem for check in checks for issue in check.issues}


def test_a_complete_authentication_event_is_compliant() -> None:
    checks = CimChecker(stanza_tags=AUTH_STANZAS).check(GOOD_AUTH)
    assert checks[0].path == "Authentication"
    assert {check.model for check in checks} == {"Authentication"}
    assert all(check.compliant for check in checks)


def test_events_outside_the_stanza_are_not_checked() -> None:
    other = dict(GOOD_AUTH, eventtype=["something_else"])
    assert CimChecker(stanza_tags=AUTH_STANZAS).check(other) == []


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"user": []}, "user", "missing"),
        ({"app": ["a", "b"]}, "app", "multivalue"),
        ({"action": ["succeeded"]}, "action", "unexpected"),
        ({"dest": ["-"]}, "dest", "negative"),
        ({"src": ["unknown"]}, "src", "negative"),
        ({"src": ["(null)"]}, "src", "negative"),
        ({"user": ["NULL"]}, "user", "negative"),
        ({"src_bunit": ["finance"]}, "src_bunit", "not_allowed"),
    ],
)
def test_each_rule_reports_its_problem(change: dict, field: str, problem: str) -> None:
    fields = {**GOOD_AUTH, **change}
    assert _problems(fields)[field] == problem


def test_expected_values_match_case_insensitively_like_splunk_search() -> None:
    assert _problems({**GOOD_AUTH, "action": ["Success"]}) == {}


def test_clustered_fields_come_all_together_or_not_at_all() -> None:
    stanzas = {"eventtype=fw": {"network", "communicate"}}
    base = {
        "eventtype": ["fw"],
        "action": ["allowed"],
        "app": ["dns"],
        "dest": ["10.0.0.1"],
        "dvc": ["fw1"],
        "src": ["10.0.0.2"],
        "vendor_product": ["Acme FW"],
        "transport": ["udp"],
    }
    assert "bytes" not in _problems(base, stanzas)
    partial = _problems({**base, "bytes": ["10"], "bytes_in": ["4"]}, stanzas)
    assert partial == {"bytes_out": "cluster"}


def test_tag_stanzas_keep_only_enabled_tags_and_decode_values() -> None:
    parsed = tag_stanzas(
        {
            "eventtype=a": {"authentication": "enabled", "default": "disabled"},
            "eventtype=b": {"network": "disabled"},
            "action=log%20in": {"authentication": "enabled"},
        }
    )
    assert parsed == {
        "eventtype=a": frozenset({"authentication"}),
        "action=log%20in": frozenset({"authentication"}),
    }
    checks = CimChecker(stanza_tags=parsed).check({**GOOD_AUTH, "action": ["log in"]})
    assert {check.stanza for check in checks} == {"action=log%20in"}


def test_a_stanza_mapping_to_two_models_is_visible() -> None:
    checker = CimChecker(stanza_tags={"eventtype=x": {"authentication", "change"}})
    assert checker.mapped_models() == {"eventtype=x": ["Authentication", "Change"]}
    assert checker.models_of_tags(["web"]) == ["Web"]


def test_tally_summarises_per_stanza_and_dataset() -> None:
    checker = CimChecker(stanza_tags=AUTH_STANZAS)
    tally = ComplianceTally(max_examples=2)
    for fields in (GOOD_AUTH, {**GOOD_AUTH, "dest": ["-"]}, {**GOOD_AUTH, "dest": ["unknown"]}):
        tally.add(checker.check(fields), models=["Authentication"])
    tally.add(checker.check({"eventtype": ["other"]}), models=[])
    assert tally.tagged_events == 3
    assert tally.compliant_events == 1
    summary = tally.summaries[("eventtype=auth", "Authentication")]
    assert summary.events == 3
    assert summary.compliant_events == 1
    dest = summary.fields["dest"]
    assert (dest.checked, dest.present, dest.valid) == (3, 3, 1)
    assert dest.problems == {"negative": 2}
    assert dest.bad_values == ["-", "unknown"]
    assert tally.ratio == pytest.approx(1 / 3)
