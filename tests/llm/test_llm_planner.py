"""The LLM planner end to end through generate_ta, with the real `openai` client against the
scripted loopback server: proof before shipping, fallback identical to --no-llm, privacy,
budget and prompt size."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.conf.ta import load_ta
from engine.generator.generate import generate_ta
from engine.generator.model import GenerationRequest, GenerationResult
from engine.generator.planner import Planner
from engine.sandbox.timestamps import MAX_DAYS_AGO_LIMIT
from storage.breaker import LLM, BreakerPolicy, CircuitBreaker
from tagen.llm import llm_planner
from tests.fakes.loopback import Answer
from tests.fakes.openai_server import CHAT, OpenAIServer, error, slow
from tests.llm.conftest import MODEL, llm_settings

USERS = ("alice", "bob", "carol", "dave")


def _auth_log(path: Path) -> Path:
    """Logins (who, from where, an e-mail) and quota lines: the rules name the quota's user
    and its trailing figures `value`, `value_2`, `value_3` (no word says what they are)."""
    lines = []
    for i in range(40):
        user = USERS[i % 4]
        head = (
            f"2024-03-0{1 + i % 9} 10:{i % 60:02d}:{(i * 7) % 60:02d} gw{i % 2} authd[{100 + i}]:"
        )
        if i % 3 == 2:
            lines.append(
                f"{head} quota {i * 13} of {user} at {i % 5}% used {i % 4} {'abcde'[i % 5]}x"
            )
        else:
            outcome = "accepted" if i % 3 == 0 else "rejected"
            lines.append(
                f"{head} login {outcome} for {user} via 10.1.{i % 7}.{i + 3} "
                f"mail {user}@corp.example.com"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _generate(
    tmp_path: Path, sample: Path, planner: Planner | None = None, name: str = "out", **request: Any
) -> GenerationResult:
    return generate_ta(
        GenerationRequest(samples=(sample,), source_system="acme auth", **request),
        out_dir=tmp_path / name,
        planner=planner,
    )


def _planner(server: OpenAIServer, **changes: Any) -> Planner:
    settings = llm_settings(server, **changes)
    policy = BreakerPolicy(failures=settings.breaker_failures, open_seconds=60)
    return llm_planner(settings, model=MODEL, breaker=CircuitBreaker(LLM, policy))


def _group_of(body: dict[str, Any], words: str) -> str:
    """The id the extraction prompt gave the event group whose events hold ``words``."""
    prompt = body["messages"][1]["content"]
    for block in prompt.split("\n\n"):
        found = re.match(r"(g\d+) \(\d+ events\):", block)
        if found and words in block:
            return found.group(1)
    raise AssertionError(f"no group with {words!r} in:\n{prompt}")


def _sent(server: OpenAIServer) -> str:
    return json.dumps(server.chat_bodies())


def test_a_right_proposal_is_applied_and_wrong_ones_are_rejected_with_reasons(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    rules = _generate(tmp_path, sample, name="rules")
    server.answer(
        "FieldNamesAnswer",
        {
            "renames": [
                {"id": "f1", "new_name": "user", "reason": "who logs in"},
                {"id": "f2", "new_name": "src_port", "reason": "a wrong name"},
                {"id": "f3", "new_name": "2bad name", "reason": "not a field name"},
            ]
        },
    )
    server.answer(
        "ExtractionsAnswer",
        lambda body: {
            "extractions": [
                {
                    "group": _group_of(body, "quota"),
                    "regex": r"quota (?<quota_used>\d+) of \S+ at (?<quota_percent>\d+)% used",
                    "reason": "the quota figures",
                },
                {"group": "g1", "regex": r"login (?<broken>[a-z+", "reason": "does not compile"},
                {"group": "g1", "regex": r"NEVER (?<never>\d+)", "reason": "matches nothing"},
                {"group": "g9", "regex": r"(?<x>\w+)", "reason": "no such group"},
            ]
        },
    )
    server.answer(
        "DescriptionAnswer",
        {"description": "Authentication gateway logs: logins accepted or rejected, and quotas."},
    )
    result = _generate(tmp_path, sample, _planner(server), name="llm")
    transcript = result.transcript
    assert transcript is not None and result.planner == "llm"
    verdicts = {(v.kind, v.target): v for v in transcript.verdicts}
    kept = verdicts[("field_name", "EXTRACT-t002_quota_of_at_used:value")]
    assert kept.accepted, kept.reason
    wrong_name = verdicts[("field_name", "EXTRACT-t002_quota_of_at_used:value_2")]
    assert not wrong_name.accepted and "CIM field 'src_port'" in wrong_name.reason
    assert (
        "not a field name"
        in verdicts[("field_name", "EXTRACT-t002_quota_of_at_used:value_3")].reason
    )
    extractions = [v for v in transcript.verdicts if v.kind == "extraction"]
    assert [v.accepted for v in extractions] == [True, False, False, False]
    assert "does not compile under PCRE2" in extractions[1].reason
    assert "matches none of the events" in extractions[2].reason
    assert "not a listed event group" in extractions[3].reason
    description = verdicts[("description", "README")]
    assert description.accepted

    assert result.sha256 != rules.sha256
    props = load_ta(result.ta_dir).props.get(result.sourcetype)
    assert "(?<user>" in props["EXTRACT-t002_quota_of_at_used"]
    assert "(?<value_2>" in props["EXTRACT-t002_quota_of_at_used"]  # the wrong rename is not in
    added = [key for key in props if key.startswith("EXTRACT-ai_")]
    assert len(added) == 1 and "quota_used" in props[added[0]]
    names = {item.name for item in result.fields.fields}
    assert {"quota_used", "quota_percent", "user"} <= names
    readme = (result.ta_dir / "README.md").read_text(encoding="utf-8")
    assert "## About the source" in readme and "logins accepted or rejected" in readme
    assert "## AI assistance" in readme and "`quota_used`" in readme
    assert result.check.passed


def test_when_every_proposal_is_bad_the_package_is_the_rules_package_byte_for_byte(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    rules = _generate(tmp_path, sample, name="rules")
    server.answer(
        "FieldNamesAnswer",
        {
            "renames": [
                {"id": "f1", "new_name": "action", "reason": "values are not actions"},
                {"id": "f2", "new_name": "value_3", "reason": "as generic"},
                {"id": "f7", "new_name": "user", "reason": "not listed"},
            ]
        },
    )
    server.answer(
        "ExtractionsAnswer",
        {
            "extractions": [
                {"group": "g1", "regex": r"(?<a>(x+x+)+y)", "reason": "matches nothing"},
                {"group": "g1", "regex": r"(?<pid>\d+)", "reason": "extracts nothing new"},
            ]
        },
    )
    server.answer(
        "CimAnswer",
        {
            "mappings": [
                {
                    "data_model": "Authentication",
                    "tags": ["network", "communicate"],
                    "search_terms": "",
                    "aliases": [],
                    "evals": [],
                    "reason": "tags of another model",
                },
                {
                    "data_model": "Made_Up",
                    "tags": ["x"],
                    "search_terms": "",
                    "aliases": [],
                    "evals": [],
                    "reason": "no such model",
                },
            ]
        },
    )
    server.answer("DescriptionAnswer", {"description": "# Logs\nSee [docs](https://x.example)"})
    result = _generate(tmp_path, sample, _planner(server), name="llm")
    assert result.transcript is not None
    verdicts = result.transcript.verdicts
    assert len(verdicts) == 8 and not any(v.accepted for v in verdicts)
    reasons = " | ".join(v.reason for v in verdicts)
    assert "do not select Authentication" in reasons and "not a CIM data model" in reasons
    assert "markup" in reasons and "as generic" in reasons
    assert "'action' does not keep the values" in reasons  # EVAL-action overwrites it
    assert result.sha256 == rules.sha256
    assert result.package.read_bytes() == rules.package.read_bytes()
    assert result.assisted == ()


@pytest.mark.parametrize(
    "failure",
    [lambda: error(500), lambda: slow(2.0), lambda: Answer.raw(b"<html>proxy error</html>")],
    ids=["500", "timeout", "not-json"],
)
def test_a_failing_endpoint_yields_the_rules_ta_and_the_circuit_stops_asking(
    server: OpenAIServer, tmp_path: Path, failure: Callable[[], Answer]
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    rules = _generate(tmp_path, sample, name="rules")
    server.script(CHAT, *[failure() for _ in range(20)])
    planner = _planner(server, timeout_seconds=0.5, max_retries=1, breaker_failures=2)
    result = _generate(tmp_path, sample, planner, name="llm")
    assert result.package.read_bytes() == rules.package.read_bytes()
    transcript = result.transcript
    assert transcript is not None
    assert transcript.failed == 2 and not transcript.verdicts
    assert transcript.stopped is not None and "circuit" in transcript.stopped
    assert len(transcript.skipped) >= 1  # the rest was never asked
    assert len(server.chat_bodies()) == 4  # 2 questions x (1 + 1 retry), then the open circuit


def test_the_server_never_receives_a_sample_s_e_mail_addresses_or_names(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    result = _generate(tmp_path, sample, _planner(server), name="llm")
    sent = _sent(server)
    assert len(server.chat_bodies()) >= 3
    assert "@corp.example.com" not in sent and "corp.example" not in sent
    assert not any(re.search(rf"\b{user}\b", sent) for user in USERS), "a user name was sent"
    assert "10.1." not in sent and "gw0" not in sent and "gw1" not in sent
    assert "user1@example.com" in sent  # masked, in the same shape
    assert result.transcript is not None and result.transcript.redacted
    recorded = json.dumps([[m.content for m in e.messages] for e in result.transcript.exchanges])
    assert "alice" not in recorded  # the transcript holds what was sent


def test_raw_sending_is_an_explicit_opt_in(server: OpenAIServer, tmp_path: Path) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    result = _generate(tmp_path, sample, _planner(server, send_raw=True), name="llm")
    assert "alice@corp.example.com" in _sent(server)
    assert result.transcript is not None and not result.transcript.redacted


def test_a_timestamp_rule_is_asked_where_the_rules_found_none_and_proven(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = tmp_path / "jobs.log"
    sample.write_text(
        "".join(
            f"job={i} at {10 + i % 10}h{i % 60:02d}m{i % 50:02d}s on 2024/{1 + i % 12:02d}/"
            f"{1 + i % 27:02d} ok\n"
            for i in range(30)
        ),
        encoding="utf-8",
    )
    rules = _generate(tmp_path, sample, name="rules", cim_required=False)
    assert rules.timestamps.time_format is None
    wrong = {
        "found": True,
        "time_prefix": "",
        "time_format": "%d.%m.%Y %H:%M",
        "max_timestamp_lookahead": 40,
        "time_zone": "",
    }
    server.answer("TimestampAnswer", wrong)
    result = _generate(tmp_path, sample, _planner(server), name="wrong", cim_required=False)
    assert result.transcript is not None
    [verdict] = [v for v in result.transcript.verdicts if v.kind == "timestamp"]
    assert not verdict.accepted and "parses no more timestamps" in verdict.reason, verdict
    assert result.sha256 == rules.sha256

    right = {
        **wrong,
        "time_prefix": r"\bat\s",
        "time_format": "%Hh%Mm%Ss on %Y/%m/%d",
        "time_zone": "UTC",
    }
    server.answer("TimestampAnswer", {**right, "time_prefix": r"\bat "})
    result = _generate(tmp_path, sample, _planner(server), name="space", cim_required=False)
    assert result.transcript is not None
    [verdict] = [v for v in result.transcript.verdicts if v.kind == "timestamp"]
    assert "cannot hold it" in verdict.reason and "whitespace" in verdict.reason

    server.answer("TimestampAnswer", right)
    result = _generate(tmp_path, sample, _planner(server), name="right", cim_required=False)
    settings = load_ta(result.ta_dir).props.get(result.sourcetype)
    assert settings["TIME_FORMAT"] == "%Hh%Mm%Ss on %Y/%m/%d"
    assert "DATETIME_CONFIG" not in settings and result.check.passed


def _jobs_log(path: Path, years: Callable[[int], int]) -> Path:
    """Job lines whose timestamp (year ``years(i)``) the rules find no rule for."""
    path.write_text(
        "".join(
            f"job={i} at {10 + i % 10}h{i % 60:02d}m{i % 50:02d}s on {years(i)}/"
            f"{1 + i % 12:02d}/{1 + i % 27:02d} ok\n"
            for i in range(30)
        ),
        encoding="utf-8",
    )
    return path


JOBS_RULE = {
    "found": True,
    "time_prefix": r"\bat\s",
    "time_format": "%Hh%Mm%Ss on %Y/%m/%d",
    "max_timestamp_lookahead": 40,
    "time_zone": "UTC",
}


@pytest.mark.parametrize(
    ("offsets", "refused"),
    [((3,), "MAX_DAYS_HENCE"), ((-1, 3), "MAX_DAYS_HENCE"), ((-40,), "MAX_DAYS_AGO")],
    ids=["future", "some-future", "older-than-splunk-accepts"],
)
def test_a_timestamp_rule_reading_dates_the_sandbox_refuses_is_rejected_naming_them(
    server: OpenAIServer, tmp_path: Path, offsets: tuple[int, ...], refused: str
) -> None:
    this_year = datetime.now(UTC).year
    sample = _jobs_log(tmp_path / "jobs.log", lambda i: this_year + offsets[i % len(offsets)])
    rules = _generate(tmp_path, sample, name="rules", cim_required=False)
    assert rules.timestamps.time_format is None
    server.answer("TimestampAnswer", JOBS_RULE)
    result = _generate(tmp_path, sample, _planner(server), name="llm", cim_required=False)
    assert result.transcript is not None
    [verdict] = [v for v in result.transcript.verdicts if v.kind == "timestamp"]
    assert not verdict.accepted, verdict
    assert "dates the sandbox refuses" in verdict.reason and refused in verdict.reason
    assert result.package.read_bytes() == rules.package.read_bytes()


def test_a_timestamp_rule_for_old_samples_raises_max_days_ago_as_the_rules_do(
    server: OpenAIServer, tmp_path: Path
) -> None:
    old = datetime.now(UTC).year - 10  # older than Splunk's default 2,000 days
    sample = _jobs_log(tmp_path / "jobs.log", lambda i: old)
    server.answer("TimestampAnswer", JOBS_RULE)
    result = _generate(tmp_path, sample, _planner(server), name="llm", cim_required=False)
    assert result.transcript is not None
    [verdict] = [v for v in result.transcript.verdicts if v.kind == "timestamp"]
    assert verdict.accepted, verdict
    settings = load_ta(result.ta_dir).props.get(result.sourcetype)
    assert settings["TIME_FORMAT"] == JOBS_RULE["time_format"]
    assert settings["MAX_DAYS_AGO"] == str(MAX_DAYS_AGO_LIMIT) and result.check.passed


def test_the_token_budget_and_the_prompt_cap_bound_what_is_sent(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    result = _generate(
        tmp_path, sample, _planner(server, token_budget=1_000, max_prompt_chars=3_000)
    )
    transcript = result.transcript
    assert transcript is not None and server.chat_bodies()
    assert transcript.usage.total_tokens <= 1_000
    skipped = " | ".join(transcript.skipped)
    assert "token budget" in skipped and "(cap 3000)" in skipped
    for body in server.chat_bodies():
        assert sum(len(m["content"]) for m in body["messages"]) <= 3_000
        assert body["max_completion_tokens"] <= 1_000


def test_nothing_is_asked_once_the_deadline_has_passed(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    rules = _generate(tmp_path, sample, name="rules")
    result = _generate(tmp_path, sample, _planner(server, deadline_seconds=0.5), name="late")
    assert result.transcript is not None and server.chat_bodies() == []
    assert result.transcript.skipped and all("deadline" in s for s in result.transcript.skipped)
    assert result.sha256 == rules.sha256


def test_knowledge_snippets_go_into_the_prompt(server: OpenAIServer, tmp_path: Path) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    snippet = "Acme authd guide\nA quota line reports the storage used by an account."
    _generate(tmp_path, sample, _planner(server), knowledge=(snippet,))
    prompts = [body["messages"][1]["content"] for body in server.chat_bodies()]
    assert any("reports the storage used by an account" in prompt for prompt in prompts)


def _mapping(**changes: Any) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "data_model": "Authentication",
        "tags": ["authentication"],
        "search_terms": "login",
        "aliases": [{"cim_field": "src", "source_field": "via"}],
        "evals": [],
        "reason": "logins",
    }
    mapping.update(changes)
    return mapping


def test_a_cim_mapping_ships_only_when_every_event_it_tags_is_compliant(
    server: OpenAIServer, tmp_path: Path
) -> None:
    sample = _auth_log(tmp_path / "auth.log")
    rules = _generate(tmp_path, sample, name="rules")
    assert rules.cim is not None and not rules.cim.tags  # the rules' tags were withheld
    action = 'case(outcome=="accepted", "success", outcome=="rejected", "failure")'
    rename = {"renames": [{"id": "f1", "new_name": "user", "reason": "who logs in"}]}
    server.answer("FieldNamesAnswer", rename, rename)  # one for each generation below
    server.answer("CimAnswer", {"mappings": [_mapping()]})  # no action for rejected logins
    partial = _generate(tmp_path, sample, _planner(server), name="partial")
    assert partial.transcript is not None
    [verdict] = [v for v in partial.transcript.verdicts if v.kind == "cim"]
    assert not verdict.accepted and "14 of the 27 events it tags" in verdict.reason

    server.answer(
        "CimAnswer", {"mappings": [_mapping(evals=[{"cim_field": "action", "expression": action}])]}
    )
    whole = _generate(tmp_path, sample, _planner(server), name="whole")
    assert whole.transcript is not None
    [verdict] = [v for v in whole.transcript.verdicts if v.kind == "cim"]
    assert verdict.accepted, verdict.reason
    ta = load_ta(whole.ta_dir)
    assert ta.confs["tags"].get("eventtype=acme_auth_log_ai_authentication") == {
        "authentication": "enabled"
    }
    props = ta.props.get(whole.sourcetype)
    assert props["EVAL-action"] == action and props["FIELDALIAS-ai_src"] == "via ASNEW src"
    assert whole.check.passed and not whole.check.repairs  # the self-check keeps the tags
