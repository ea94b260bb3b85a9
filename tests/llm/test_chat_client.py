"""The OpenAI chat adapter (tagen.llm) with the real `openai` client against the loopback
server: structured outputs, the json_object fallback, retries, timeouts, bad answers, breaker."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from engine.generator.llm.answers import TimestampAnswer
from engine.generator.llm.chat import ChatError, ChatMessage
from storage.breaker import LLM, BreakerPolicy, CircuitBreaker
from tagen.llm import OpenAIChatModel
from tests.fakes.loopback import Answer
from tests.fakes.openai_server import API_KEY, CHAT, OpenAIServer, error, slow
from tests.llm.conftest import MODEL, Clock

MESSAGES = (ChatMessage("system", "Answer with JSON."), ChatMessage("user", "2024-01-05 10:00:00"))
RULE = {
    "found": True,
    "time_prefix": "",
    "time_format": "%Y-%m-%d %H:%M:%S",
    "max_timestamp_lookahead": 19,
    "time_zone": "UTC",
}


def _ask(chat: OpenAIChatModel, *, timeout_s: float = 30.0):
    return chat.complete(
        MESSAGES, schema=TimestampAnswer, max_output_tokens=300, timeout_s=timeout_s
    )


def _clocked(
    server: OpenAIServer, clock: Clock, breaker: CircuitBreaker, **options
) -> OpenAIChatModel:
    client = openai.OpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0)
    return OpenAIChatModel(
        client,
        model=MODEL,
        breaker=breaker,
        timeout_s=options.get("timeout_s", 5.0),
        retries=options.get("retries", 2),
        backoff_s=options.get("backoff_s", 0.5),
        sleep=clock.sleep,
        clock=clock,
    )


def test_a_structured_answer_is_asked_as_strict_json_schema(
    server: OpenAIServer, chat: Callable[..., OpenAIChatModel]
) -> None:
    server.answer("TimestampAnswer", RULE)
    answer = _ask(chat())
    assert answer.parsed == TimestampAnswer(**RULE)
    assert answer.mode == "json_schema" and answer.attempts == 1
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0
    [body] = server.chat_bodies()
    assert body["model"] == MODEL and body["max_completion_tokens"] == 300
    spec = body["response_format"]
    assert spec["type"] == "json_schema" and spec["json_schema"]["strict"] is True
    assert spec["json_schema"]["name"] == "TimestampAnswer"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_a_server_without_json_schema_is_asked_for_json_object_with_the_schema(
    chat: Callable[..., OpenAIChatModel],
) -> None:
    with OpenAIServer(json_schema=False).running() as llama:
        llama.answer("TimestampAnswer", RULE, RULE)
        model = chat(OPENAI_BASE_URL=llama.base_url)
        first = _ask(model)
        second = _ask(model)
        kinds = [body["response_format"]["type"] for body in llama.chat_bodies()]
    assert first.parsed == second.parsed == TimestampAnswer(**RULE)
    assert first.mode == second.mode == "json_object"
    # Refused once, then json_object from the start: the adapter remembers.
    assert kinds == ["json_schema", "json_object", "json_object"]
    body = llama.chat_bodies()[-1]
    assert body["response_format"]["schema"]["title"] == "TimestampAnswer"
    assert "time_format" in body["messages"][0]["content"]  # the schema is in the prompt too


def test_a_server_that_refuses_max_completion_tokens_is_asked_with_max_tokens(
    chat: Callable[..., OpenAIChatModel],
) -> None:
    with OpenAIServer(max_completion_tokens=False).running() as older:
        older.answer("TimestampAnswer", RULE, RULE)
        model = chat(OPENAI_BASE_URL=older.base_url)
        first = _ask(model)
        second = _ask(model)
        limits = [
            [key for key in ("max_completion_tokens", "max_tokens") if key in body]
            for body in older.chat_bodies()
        ]
        capped = [body.get("max_tokens") for body in older.chat_bodies()[1:]]
    assert first.parsed == second.parsed == TimestampAnswer(**RULE)
    assert first.attempts == 1  # the refusal is not a failed attempt
    # Refused once, then max_tokens from the start: the adapter remembers.
    assert limits == [["max_completion_tokens"], ["max_tokens"], ["max_tokens"]]
    assert capped == [300, 300]


def test_server_errors_and_rate_limits_are_retried_with_backoff(server: OpenAIServer) -> None:
    clock = Clock()
    breaker = CircuitBreaker(LLM, BreakerPolicy(failures=3, open_seconds=60), clock=clock)
    server.script(
        CHAT,
        error(500),
        Answer.json(
            {"error": {"message": "slow down", "type": "rate_limit"}},
            status=429,
            headers={"retry-after": "7"},
        ),
    )
    server.answer("TimestampAnswer", RULE)
    answer = _ask(_clocked(server, clock, breaker, backoff_s=0.5))
    assert answer.attempts == 3 and answer.parsed.found
    assert len(server.chat_bodies()) == 3
    first, second = clock.sleeps
    assert 0.5 <= first <= 0.75  # exponential backoff with jitter
    assert second >= 7  # Retry-After honoured
    assert breaker.state.failures == 0  # a success closes the count


def test_a_body_that_is_not_json_is_retried_then_fails(server: OpenAIServer) -> None:
    clock = Clock()
    breaker = CircuitBreaker(LLM, BreakerPolicy(failures=5, open_seconds=60), clock=clock)
    server.script(CHAT, *[Answer.raw(b"<html>bad gateway</html>", status=200)] * 3)
    with pytest.raises(ChatError) as caught:
        _ask(_clocked(server, clock, breaker, retries=2))
    assert caught.value.kind == "server" and caught.value.attempts == 3
    assert "not JSON" in str(caught.value)
    assert len(server.chat_bodies()) == 3 and breaker.state.failures == 1


def test_timeouts_are_bounded_by_retries_and_the_time_allowed(
    server: OpenAIServer, chat: Callable[..., OpenAIChatModel]
) -> None:
    server.script(CHAT, slow(3), slow(3), slow(3))
    with pytest.raises(ChatError) as caught:
        _ask(chat(timeout_seconds=0.3, max_retries=1))
    assert caught.value.kind == "timeout" and caught.value.attempts == 2
    assert len(server.chat_bodies()) == 2


@pytest.mark.parametrize(
    "content", [{"found": "maybe"}, "not JSON at all", {"found": True}], ids=str
)
def test_an_answer_that_does_not_fit_the_schema_is_not_retried(
    server: OpenAIServer, chat: Callable[..., OpenAIChatModel], content: object
) -> None:
    server.answer("TimestampAnswer", content)  # type: ignore[arg-type]
    with pytest.raises(ChatError) as caught:
        _ask(chat())
    assert caught.value.kind == "invalid_answer" and "TimestampAnswer" in str(caught.value)
    assert len(server.chat_bodies()) == 1


def test_a_refused_key_is_a_client_error_without_retries(
    server: OpenAIServer, chat: Callable[..., OpenAIChatModel]
) -> None:
    with pytest.raises(ChatError) as caught:
        _ask(chat(OPENAI_API_KEY="sk-wrong"))
    assert caught.value.kind == "client" and "401" in str(caught.value)
    assert len(server.calls("/v1/chat/completions")) == 1


def test_the_circuit_opens_after_consecutive_failures_and_then_lets_a_trial_through(
    server: OpenAIServer,
) -> None:
    clock = Clock()
    breaker = CircuitBreaker(LLM, BreakerPolicy(failures=2, open_seconds=60), clock=clock)
    model = _clocked(server, clock, breaker, retries=0)
    server.script(CHAT, error(500), error(503))
    for _ in range(2):
        with pytest.raises(ChatError, match="server error"):
            _ask(model)
    with pytest.raises(ChatError) as refused:
        _ask(model)
    assert refused.value.kind == "circuit_open"
    assert len(server.chat_bodies()) == 2  # the open circuit sent nothing
    clock.now += 61
    server.answer("TimestampAnswer", RULE)
    assert _ask(model).parsed.found  # the trial call closes the circuit
    assert breaker.state.failures == 0 and breaker.state.open_until is None
    outcome = breaker.outcome()
    assert outcome.succeeded and outcome.trailing_failures == 0
