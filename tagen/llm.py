"""The LLM provider: settings, and the ``openai`` client behind the engine's ChatModel.

The client reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` itself, so any OpenAI-compatible
server works (OpenAI, vLLM, Ollama, llama.cpp). :class:`OpenAIChatModel` asks for pydantic
structured outputs (``chat.completions.parse``: a strict ``json_schema``); a server that refuses
``json_schema`` (llama.cpp's does) is asked again, and from then on, with ``json_object`` and
the schema, and its answer is validated with the same model. The answer's length is capped with
``max_completion_tokens``; a server that predates it (and refuses it) is asked again, and from
then on, with ``max_tokens``. Each request has a timeout;
timeouts, connection errors, 429, 5xx and non-JSON bodies are retried a bounded number of
times with exponential backoff and jitter (``Retry-After`` honoured, capped), all within the
time the planner allows; each outcome goes to the provider's circuit breaker, which refuses
calls while it is open.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, cast

import openai
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.generator.llm.chat import (
    AnswerT,
    ChatAnswer,
    ChatError,
    ChatMessage,
    ErrorKind,
    Usage,
)
from engine.generator.llm.options import LlmOptions
from engine.generator.llm.planner import LlmPlanner
from engine.generator.planner import Planner
from storage.breaker import BreakerPolicy, CircuitBreaker, CircuitOpenError

MAX_BACKOFF_S = 30.0
_SCHEMA_REFUSAL = ("json_schema", "response_format")
_TOKEN_LIMIT = "max_completion_tokens"


class LlmNotConfiguredError(ValueError):
    """``--llm`` without a key or a model."""


class LlmSettings(BaseSettings):
    """The LLM provider's settings (``TAGEN_LLM_*``; the key and base URL are the client's own
    ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``). SystemConfig overrides some at run time in the
    lifecycle (see :mod:`tasks.generation_session`)."""

    model_config = SettingsConfigDict(env_prefix="TAGEN_LLM_", extra="ignore")

    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    model: str | None = Field(default=None, description="model id; unset: no LLM")
    send_raw: bool = Field(default=False, description="send samples unredacted")
    timeout_seconds: float = Field(default=60.0, gt=0, description="one HTTP request")
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    token_budget: int = Field(default=60_000, ge=0, description="tokens per TA request")
    max_output_tokens: int = Field(default=2_000, ge=1)
    max_prompt_chars: int = Field(default=24_000, ge=1_000)
    deadline_seconds: float = Field(default=300.0, gt=0, description="one generation")
    breaker_failures: int = Field(default=3, ge=1)
    breaker_open_seconds: float = Field(default=300.0, ge=0)

    @property
    def configured(self) -> bool:
        """A key and a model: what ``--llm`` and the lifecycle need to ask anything."""
        return self.openai_api_key is not None and bool(self.model)

    def missing(self) -> str | None:
        """What is missing to use the LLM, as a message (None: nothing)."""
        absent = [
            name
            for name, value in (
                ("OPENAI_API_KEY", self.openai_api_key),
                ("TAGEN_LLM_MODEL", self.model),
            )
            if not value
        ]
        if not absent:
            return None
        return f"the LLM is not configured: set {' and '.join(absent)}"

    def options(
        self, *, send_raw: bool | None = None, token_budget: int | None = None
    ) -> LlmOptions:
        return LlmOptions(
            send_raw=self.send_raw if send_raw is None else send_raw,
            token_budget=self.token_budget if token_budget is None else token_budget,
            max_output_tokens=self.max_output_tokens,
            max_prompt_chars=self.max_prompt_chars,
            deadline_s=self.deadline_seconds,
        )

    def breaker_policy(self) -> BreakerPolicy:
        return BreakerPolicy(self.breaker_failures, self.breaker_open_seconds)


@dataclass(frozen=True)
class _Question(Generic[AnswerT]):
    messages: Sequence[ChatMessage]
    schema: type[AnswerT]
    max_output_tokens: int

    def sent(self, *, with_schema: bool = False) -> list[dict[str, str]]:
        """The messages as the API takes them; ``with_schema`` appends the answer's JSON schema
        to the first (for servers that only know ``json_object``)."""
        sent = [{"role": m.role, "content": m.content} for m in self.messages]
        if with_schema:
            shape = json.dumps(self.schema.model_json_schema())
            sent[0]["content"] += f"\n\nJSON schema of the answer:\n{shape}"
        return sent


class _Retry(Exception):
    def __init__(self, message: str, *, kind: ErrorKind, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class OpenAIChatModel:
    """:class:`engine.generator.llm.chat.ChatModel` over an ``openai.OpenAI`` client."""

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        model: str,
        breaker: CircuitBreaker,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._model = model
        self._breaker = breaker
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._clock = clock
        self.mode = "json_schema"
        self.token_limit = _TOKEN_LIMIT

    @property
    def model(self) -> str:
        return self._model

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: type[AnswerT],
        max_output_tokens: int,
        timeout_s: float,
    ) -> ChatAnswer[AnswerT]:
        try:
            self._breaker.check()
        except CircuitOpenError as exc:
            raise ChatError(str(exc), kind="circuit_open") from exc
        question = _Question(messages, schema, max_output_tokens)
        deadline = self._clock() + timeout_s
        attempt = 0
        while True:
            attempt += 1
            left = deadline - self._clock()
            try:
                answer = self._once(question, min(self._timeout_s, left))
            except _Retry as exc:
                delay = self._delay(attempt, exc.retry_after)
                if attempt > self._retries or self._clock() + delay >= deadline:
                    self._breaker.record_failure(f"{exc.kind}: {exc}")
                    raise ChatError(
                        f"{exc} (after {attempt} attempt{'s' if attempt > 1 else ''})",
                        kind=exc.kind,
                        attempts=attempt,
                    ) from exc
                self._sleep(delay)
                continue
            except ChatError as exc:
                exc.attempts = attempt
                self._breaker.record_failure(f"{exc.kind}: {exc}")
                raise
            self._breaker.record_success()
            return replace(answer, attempts=attempt)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = self._backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 2)
        return min(MAX_BACKOFF_S, max(backoff, retry_after or 0.0))

    def _once(self, question: _Question[AnswerT], timeout_s: float) -> ChatAnswer[AnswerT]:
        try:
            try:
                return self._ask(question, timeout_s)
            except openai.BadRequestError as exc:
                if self.token_limit != _TOKEN_LIMIT or _TOKEN_LIMIT not in str(exc):
                    raise
                self.token_limit = "max_tokens"  # a server from before max_completion_tokens
            return self._ask(question, timeout_s)
        except openai.APITimeoutError as exc:
            raise _Retry(f"no answer within {timeout_s:.1f} s", kind="timeout") from exc
        except openai.APIConnectionError as exc:
            raise _Retry(f"connection failed: {exc}", kind="connection") from exc
        except openai.RateLimitError as exc:
            raise _Retry(
                "rate limited (429)", kind="rate_limited", retry_after=_retry_after(exc)
            ) from exc
        except openai.InternalServerError as exc:
            raise _Retry(f"server error ({exc.status_code})", kind="server") from exc
        except openai.APIStatusError as exc:
            raise ChatError(f"refused ({exc.status_code}): {exc.message}", kind="client") from exc
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            raise ChatError(f"answer cut off: {exc}", kind="invalid_answer") from exc
        except ValidationError as exc:
            raise ChatError(
                f"answer does not fit {question.schema.__name__}: {exc.error_count()} error(s), "
                f"first: {exc.errors()[0]['msg']}",
                kind="invalid_answer",
            ) from exc
        except openai.OpenAIError as exc:
            raise ChatError(f"the client failed: {exc}", kind="client") from exc

    def _ask(self, question: _Question[AnswerT], timeout_s: float) -> ChatAnswer[AnswerT]:
        if self.mode == "json_schema":
            try:
                return self._parse(question, timeout_s)
            except openai.BadRequestError as exc:
                if not any(word in str(exc) for word in _SCHEMA_REFUSAL):
                    raise
                self.mode = "json_object"  # this server has no structured outputs
        return self._json_object(question, timeout_s)

    def _limit(self, question: _Question[AnswerT]) -> dict[str, Any]:
        """The answer's token cap under the name this server knows."""
        return {self.token_limit: question.max_output_tokens}

    def _parse(self, question: _Question[AnswerT], timeout_s: float) -> ChatAnswer[AnswerT]:
        raw = self._client.chat.completions.with_raw_response.parse(
            model=self._model,
            messages=cast(Any, question.sent()),
            response_format=question.schema,
            temperature=0,
            timeout=timeout_s,
            **self._limit(question),
        )
        _require_json(raw.headers.get("content-type", ""))
        completion = raw.parse()
        message = completion.choices[0].message
        if message.refusal:
            raise ChatError(f"the model refused: {message.refusal}", kind="invalid_answer")
        if message.parsed is None:
            raise ChatError("the answer holds no content", kind="invalid_answer")
        usage = _usage(completion.usage, question.messages, message.content)
        return ChatAnswer(message.parsed, usage, "json_schema")

    def _json_object(self, question: _Question[AnswerT], timeout_s: float) -> ChatAnswer[AnswerT]:
        shape = question.schema.model_json_schema()
        raw = self._client.chat.completions.with_raw_response.create(
            model=self._model,
            messages=cast(Any, question.sent(with_schema=True)),
            response_format=cast(Any, {"type": "json_object", "schema": shape}),
            temperature=0,
            timeout=timeout_s,
            **self._limit(question),
        )
        _require_json(raw.headers.get("content-type", ""))
        completion = raw.parse()
        content = completion.choices[0].message.content or ""
        if completion.choices[0].finish_reason == "length":
            raise ChatError("answer cut off at the token limit", kind="invalid_answer")
        parsed = question.schema.model_validate_json(content)
        usage = _usage(completion.usage, question.messages, content)
        return ChatAnswer(parsed, usage, "json_object")


def _require_json(content_type: str) -> None:
    """A body that is not JSON (a proxy's error page) is a transient failure."""
    if "json" not in content_type.lower():
        raise _Retry(
            f"the server answered {content_type or 'no content type'}, not JSON", kind="server"
        )


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _usage(usage: Any, messages: Sequence[ChatMessage], content: str | None) -> Usage:
    """The provider's count, or an estimate when it reports none."""
    if usage is not None:
        return Usage(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
    sent = sum(len(m.content) for m in messages)
    return Usage(sent // 4, len(content or "") // 4)


def connect(settings: LlmSettings, *, model: str, breaker: CircuitBreaker) -> OpenAIChatModel:
    """The chat model for ``model`` through the configured endpoint (the client's own
    retries are off: :class:`OpenAIChatModel` retries, within the planner's time)."""
    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=settings.openai_base_url,
        max_retries=0,
        timeout=settings.timeout_seconds,
    )
    return OpenAIChatModel(
        client,
        model=model,
        breaker=breaker,
        timeout_s=settings.timeout_seconds,
        retries=settings.max_retries,
        backoff_s=settings.backoff_seconds,
    )


def llm_planner(
    settings: LlmSettings,
    *,
    model: str,
    breaker: CircuitBreaker,
    send_raw: bool | None = None,
    token_budget: int | None = None,
) -> LlmPlanner:
    """The LLM planner asking ``model`` through the configured endpoint."""
    return LlmPlanner(
        connect(settings, model=model, breaker=breaker),
        options=settings.options(send_raw=send_raw, token_budget=token_budget),
    )


class OpenAIProvider:
    """:class:`tasks.backends.LlmProvider` from :class:`LlmSettings`."""

    def __init__(self, settings: LlmSettings) -> None:
        self._settings = settings

    @property
    def has_key(self) -> bool:
        return self._settings.openai_api_key is not None

    @property
    def model(self) -> str | None:
        return self._settings.model

    @property
    def send_raw(self) -> bool:
        return self._settings.send_raw

    @property
    def token_budget(self) -> int:
        return self._settings.token_budget

    @property
    def breaker_policy(self) -> BreakerPolicy:
        return self._settings.breaker_policy()

    def planner(
        self, *, model: str, send_raw: bool, token_budget: int, breaker: CircuitBreaker
    ) -> Planner:
        return llm_planner(
            self._settings,
            model=model,
            breaker=breaker,
            send_raw=send_raw,
            token_budget=token_budget,
        )
