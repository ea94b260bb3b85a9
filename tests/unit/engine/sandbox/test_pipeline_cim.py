"""CIM rules whose SPL (constraints, conditions, validity) runs on the sandbox's evaluators."""

from __future__ import annotations

import pytest

from engine.cim.compliance import CimChecker
from engine.sandbox.pipeline import SandboxSpl

AUTH = {
    "eventtype": ["auth"],
    "tag": ["authentication"],
    "action": ["success"],
    "app": ["sshd"],
    "dest": ["srv"],
    "src": ["10.0.0.2"],
    "user": ["bob"],
}
CHANGE = {
    "eventtype": ["chg"],
    "tag": ["change"],
    "action": ["created"],
    "change_type": ["resources"],
    "command": ["create"],
    "dest": ["d"],
    "dvc": ["v"],
    "object": ["o"],
    "object_attrs": ["a"],
    "object_category": ["file_share"],
    "object_id": ["1"],
    "src": ["s"],
    "status": ["success"],
    "user": ["u"],
    "vendor_product": ["Acme"],
}


def _checker(stanza: str, tags: set[str]) -> CimChecker:
    return CimChecker(stanza_tags={stanza: tags}, spl=SandboxSpl())


def _issues(fields: dict[str, list[str]], stanza: str, tags: set[str]) -> dict[str, str]:
    checks = _checker(stanza, tags).check(fields)
    return {issue.field: issue.problem for check in checks for issue in check.issues}


def test_search_constraints_pick_the_child_datasets_an_event_belongs_to() -> None:
    paths = [check.path for check in _checker("eventtype=auth", {"authentication"}).check(AUTH)]
    assert paths == ["Authentication", "Authentication.Successful_Authentication"]
    failed = {**AUTH, "action": ["failure"]}
    paths = [check.path for check in _checker("eventtype=auth", {"authentication"}).check(failed)]
    assert paths == ["Authentication", "Authentication.Failed_Authentication"]


def test_a_root_constraint_excludes_events_outside_the_dataset() -> None:
    # Authentication: tag=authentication NOT (action=success user=*$) leaves out machine accounts.
    machine = {**AUTH, "user": ["HOST01$"]}
    assert _checker("eventtype=auth", {"authentication"}).check(machine) == []


def test_validity_expressions_reject_values_the_model_forbids() -> None:
    # All_Changes.object_category: "user" only for account changes.
    assert _issues(CHANGE, "eventtype=chg", {"change"}) == {}
    bad = {**CHANGE, "object_category": ["user"]}
    assert _issues(bad, "eventtype=chg", {"change"}) == {"object_category": "invalid"}
    account = {**bad, "tag": ["change", "account"], "src_user": ["admin"]}
    assert _issues(account, "eventtype=chg", {"change", "account"}) == {}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, {}),
        ({"status": ["failure"]}, {"result": "missing"}),
        ({"status": ["failure"], "result": ["lockout"]}, {}),
    ],
)
def test_conditional_fields_are_required_only_when_their_condition_holds(
    extra: dict[str, list[str]], expected: dict[str, str]
) -> None:
    assert _issues({**CHANGE, **extra}, "eventtype=chg", {"change"}) == expected


def test_numeric_validity_and_clusters_in_network_traffic() -> None:
    traffic = {
        "eventtype": ["fw"],
        "tag": ["network", "communicate"],
        "action": ["allowed"],
        "app": ["dns"],
        "dest": ["db-b"],
        "dvc": ["fw1"],
        "src": ["web-a"],
        "vendor_product": ["Acme FW"],
        "transport": ["tcp"],
        "protocol": ["ip"],
        "protocol_version": ["ipv4"],
        "src_port": ["40000"],
        "dest_port": ["5432"],
    }
    stanza, tags = "eventtype=fw", {"network", "communicate"}
    assert _issues(traffic, stanza, tags) == {}
    # transport=tcp makes the ports required; an IP in src makes src_ip required.
    assert _issues({**traffic, "dest_port": []}, stanza, tags) == {"dest_port": "missing"}
    assert _issues({**traffic, "src": ["10.0.0.2"]}, stanza, tags) == {"src_ip": "missing"}
    sized = {**traffic, "bytes": ["15"], "bytes_in": ["10"], "bytes_out": ["5"]}
    assert _issues(sized, stanza, tags) == {}
    wrong_sum = {**sized, "bytes": ["16"]}
    assert _issues(wrong_sum, stanza, tags) == {"bytes": "invalid"}
    not_number = {**sized, "bytes_in": ["ten"]}
    assert _issues(not_number, stanza, tags)["bytes_in"] == "invalid"


def test_unparseable_validity_is_left_unchecked() -> None:
    spl = SandboxSpl()
    with pytest.raises(ValueError, match="does not parse"):
        spl.eval_values("if(match(x, ", {"x": ["1"]})
    assert spl.eval_values("if(isnum(x), x, null())", {"x": ["12"]}) == ["12"]
    assert spl.eval_values("if(isnum(x), x, null())", {"x": ["a"]}) is None
