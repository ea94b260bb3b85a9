"""The one thing the LLM planner needs from a model provider: a typed structured answer.

The engine stays pure: it never imports a client library nor opens a connection. The composition
root hands in a :class:`ChatModel` (tagen wires the ``openai`` client; tests may wire the same
client against a loopback server). A provider failure of any kind (status, timeout, connection,
an answer that is not JSON of the schema, an open circuit) is a :class:`ChatError`, after which
the planner keeps the rules' plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

AnswerT = TypeVar("AnswerT", bound=BaseModel)

Role = Literal["system", "user", "assistant"]
ErrorKind = Literal[
    "circuit_open", "timeout", "connection", "rate_limited", "server", "client", "invalid_answer"
]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    """Tokens one exchange cost, as the provider counted them (estimated when it did not)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatAnswer(Generic[AnswerT]):
    """A validated structured answer; ``mode`` is the response format the server accepted
    (``json_schema``, or ``json_object`` for servers without structured outputs)."""

    parsed: AnswerT
    usage: Usage
    mode: str
    attempts: int = 1


class ChatError(Exception):
    """No usable answer. ``kind`` says why; ``attempts`` how many requests were sent."""

    def __init__(self, message: str, *, kind: ErrorKind, attempts: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


class ChatModel(Protocol):
    """A chat model answering with JSON that validates against a pydantic schema."""

    @property
    def model(self) -> str:
        """The model id the provider is asked for (recorded in transcripts)."""
        ...

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: type[AnswerT],
        max_output_tokens: int,
        timeout_s: float,
    ) -> ChatAnswer[AnswerT]:
        """Ask once (with the provider's bounded retries within ``timeout_s``); raises ChatError."""
        ...
