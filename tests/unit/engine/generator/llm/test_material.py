"""What the planner shows a model: generic-name targets, poorly covered groups, redaction."""

from __future__ import annotations

from engine.generator.llm.material import (
    Material,
    SeenEvent,
    derived_fields,
    fit,
    poor_groups,
    rename_targets,
)
from engine.generator.model import FieldPlan


def _event(raw: str, **fields: str) -> SeenEvent:
    return SeenEvent(raw, {name: (value,) for name, value in fields.items()})


def test_rename_targets_are_generic_extract_groups_that_match_with_ids_not_keys() -> None:
    plan = FieldPlan(
        props={
            "EXTRACT-t1_for_fred": r"for (?<value>\S+) from (?<ip>\S+) port (?<port>\d+)",
            "EXTRACT-t2": r"NEVER (?<number>\d+)",
            "REPORT-context": "token_ip",
        }
    )
    events = [_event(f"for u{i} from 10.0.0.{i} port {i}") for i in range(5)]
    targets = rename_targets(plan, events)
    assert [(t.id, t.key, t.field) for t in targets] == [
        ("f1", "EXTRACT-t1_for_fred", "value"),
        ("f2", "EXTRACT-t1_for_fred", "ip"),
    ]
    assert targets[0].values == ("u0", "u1", "u2")  # at most three examples


def test_poor_groups_are_events_whose_own_fields_cover_little_of_them() -> None:
    header = {"host": "gw1", "process": "app"}
    covered = [
        _event(
            f"gw1 app: u{i}x opened /var/data/file{i}.txt",
            **header,
            user=f"u{i}x",
            path=f"/var/data/file{i}.txt",
        )
        for i in range(8)
    ]
    poor = [_event(f"gw1 app: cache warmed in {i} ms of {i * 3} slots", **header) for i in range(3)]
    groups = poor_groups([*covered, *poor])
    assert [(g.id, g.size) for g in groups] == [("g1", 3)]
    assert groups[0].events[0].raw.startswith("gw1 app: cache warmed")


def test_identity_values_are_learned_but_not_words_the_rules_mistook_for_names() -> None:
    events = [
        _event(f"session for bob{i % 2}: user authentication ok", user=f"bob{i % 2}")
        for i in range(6)
    ] + [_event("user authentication failed", user="authentication")]
    material = Material(raw=False, events=events)
    assert material.event(events[0]) == "session for user-1: user authentication ok"
    assert material.value("value", "bob1") == "user-2"  # a generic field holding a name


def test_alias_targets_are_not_learned_from() -> None:
    events = [_event("login accepted for x", login="accepted", user="accepted")] * 3
    props = {"FIELDALIAS-cim_user": "login ASNEW user", "EVAL-action": "x"}
    assert derived_fields(props) == {"user", "action"}
    material = Material(raw=False, events=events, derived=derived_fields(props))
    assert material.event(events[0]) == "login accepted for x"


def test_raw_material_is_sent_as_is() -> None:
    event = _event("mail ann@corp.example.com from 10.2.3.4", user="ann")
    assert Material(raw=True, events=[event]).event(event) == event.raw


def test_fit_keeps_whole_blocks_within_the_budget() -> None:
    assert fit(["aaaa", "bbbb", "cccc"], 10) == "aaaa\nbbbb"
    assert fit(["a" * 50], 10) == "a" * 9 + "…"
