"""One generation's conversation with the model: budget, deadline, failures, the transcript.

Every question goes through :meth:`Session.ask`, which refuses to send what the token budget,
the deadline or the prompt size cap cannot afford, caps the answer's tokens and the request's
time to what is left, records the exchange (messages as sent, answer, usage, latency) and
turns a provider failure into "no answer". An open circuit stops the session: the remaining
questions are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from engine.generator.llm.chat import AnswerT, ChatError, ChatMessage, ChatModel, Usage
from engine.generator.llm.options import LlmOptions
from engine.generator.llm.prompts import Prompt
from engine.generator.llm.transcript import Exchange, ProposalVerdict, Transcript

CHARS_PER_TOKEN = 4
"""For budgeting before a request (and for servers that report no usage)."""
MIN_OUTPUT_TOKENS = 256
MIN_SECONDS = 1.0


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.content) for m in messages) // CHARS_PER_TOKEN + 4 * len(messages)


class Session:
    def __init__(
        self,
        chat: ChatModel,
        options: LlmOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat = chat
        self._options = options
        self._clock = clock
        self._started = clock()
        self.transcript = Transcript(model=chat.model, redacted=not options.send_raw)

    @property
    def stopped(self) -> bool:
        return self.transcript.stopped is not None

    def skip(self, task: str, reason: str) -> None:
        self.transcript.skipped.append(f"{task}: {reason}")

    def _refusal(self, messages: Sequence[ChatMessage]) -> tuple[str | None, int, float]:
        """(why not to send, output tokens allowed, seconds allowed)."""
        if self.transcript.stopped is not None:
            return self.transcript.stopped, 0, 0.0
        size = sum(len(m.content) for m in messages)
        if size > self._options.max_prompt_chars:
            return (
                f"the question has {size} characters (cap {self._options.max_prompt_chars})",
                0,
                0.0,
            )
        left_s = self._options.deadline_s - (self._clock() - self._started)
        if left_s < MIN_SECONDS:
            return f"deadline of {self._options.deadline_s:g} s reached", 0, 0.0
        used = self.transcript.usage.total_tokens
        wanted = estimate_tokens(messages)
        output = min(self._options.max_output_tokens, self._options.token_budget - used - wanted)
        if output < MIN_OUTPUT_TOKENS:
            return (
                f"token budget: {used} of {self._options.token_budget} used, "
                f"the question needs ~{wanted} + {MIN_OUTPUT_TOKENS}",
                0,
                0.0,
            )
        return None, output, left_s

    def ask(
        self, task: str, prompt: Prompt, schema: type[AnswerT], **material: str
    ) -> AnswerT | None:
        """The validated answer, or None (skipped or failed; the transcript says which)."""
        messages = prompt.render(**material)
        refusal, output, seconds = self._refusal(messages)
        if refusal is not None:
            self.skip(task, refusal)
            return None
        began = self._clock()
        try:
            answer = self._chat.complete(
                messages, schema=schema, max_output_tokens=output, timeout_s=seconds
            )
        except ChatError as exc:
            if exc.kind == "circuit_open":  # nothing was sent
                self.transcript.stopped = f"circuit open: {exc}"
                self.skip(task, self.transcript.stopped)
                return None
            self._record(
                task,
                prompt,
                messages,
                error=f"{exc.kind}: {exc}",
                usage=Usage(estimate_tokens(messages), 0),
                began=began,
                attempts=exc.attempts,
            )
            return None
        self._record(
            task,
            prompt,
            messages,
            answer=answer.parsed.model_dump(),
            usage=answer.usage,
            began=began,
            mode=answer.mode,
            attempts=answer.attempts,
        )
        return answer.parsed

    def _record(
        self,
        task: str,
        prompt: Prompt,
        messages: Sequence[ChatMessage],
        *,
        usage: Usage,
        began: float,
        answer: dict[str, object] | None = None,
        error: str | None = None,
        mode: str | None = None,
        attempts: int = 0,
    ) -> None:
        self.transcript.exchanges.append(
            Exchange(
                task=task,
                prompt_version=prompt.id,
                messages=tuple(messages),
                answer=answer,
                error=error,
                usage=usage,
                latency_ms=round((self._clock() - began) * 1000),
                mode=mode,
                attempts=attempts,
            )
        )

    def verdicts(self, verdicts: Sequence[ProposalVerdict]) -> None:
        """Attach the proof's verdicts to the last exchange."""
        exchanges = self.transcript.exchanges
        exchanges[-1] = replace(exchanges[-1], verdicts=tuple(verdicts))
