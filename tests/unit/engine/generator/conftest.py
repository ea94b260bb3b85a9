"""Helpers shared by the field-inference tests."""

from __future__ import annotations

from engine.generator.fields import infer_fields
from engine.generator.model import FieldPlan, FormatGuess, FormatKind
from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor


def run_plan(plan: FieldPlan, raw: str) -> dict[str, list[str]]:
    """The fields the sandbox extracts from ``raw`` with ``plan`` (no configuration error)."""
    processor = SearchTimeProcessor(
        transforms=plan.transforms, eventtypes={}, tags={}, lookup_files={}
    )
    event = Event(raw=raw, sourcetype="test")
    assert processor.apply(event, plan.props) == []
    return event.fields


def learned_fields(training: list[str], kind: FormatKind, raw: str) -> dict[str, list[str]]:
    """The fields the plan inferred from ``training`` (as format ``kind``) extracts from ``raw``."""
    return run_plan(infer_fields(training, FormatGuess(kind=kind, confidence=0.5)), raw)
