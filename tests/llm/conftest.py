"""The real `openai` client against the scripted loopback server (tests/fakes/openai_server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from storage.breaker import LLM, BreakerPolicy, CircuitBreaker
from tagen.llm import LlmSettings, OpenAIChatModel, connect
from tests.fakes.openai_server import API_KEY, OpenAIServer

MODEL = "test-model"


class Clock:
    """A clock the breaker and the retry loop read, advanced by their sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer().running() as running:
        yield running


def llm_settings(server: OpenAIServer, **changes: Any) -> LlmSettings:
    values: dict[str, Any] = {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": server.base_url,
        "model": MODEL,
        "timeout_seconds": 5.0,
        "max_retries": 2,
        "backoff_seconds": 0.01,
    }
    values.update(changes)
    return LlmSettings(**values)


@pytest.fixture
def chat(server: OpenAIServer) -> Callable[..., OpenAIChatModel]:
    """`chat(**settings)`: a chat model on the loopback server, with a fresh breaker."""

    def build(*, breaker: CircuitBreaker | None = None, **changes: Any) -> OpenAIChatModel:
        settings = llm_settings(server, **changes)
        return connect(
            settings,
            model=MODEL,
            breaker=breaker or CircuitBreaker(LLM, BreakerPolicy(failures=3, open_seconds=60)),
        )

    return build
