"""What one LLM-assisted generation asked, was answered and did with each answer.

The planner fills a :class:`Transcript`; the lifecycle stores it (a generation session and its
messages) and the CLI prints its summary. Messages are recorded exactly as sent: redacted
unless raw sending was configured (``redacted`` says which).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.generator.llm.chat import ChatMessage, Usage


@dataclass(frozen=True)
class ProposalVerdict:
    """One proposal from an answer and whether the proof kept it (``reason`` says why)."""

    kind: str
    target: str
    proposal: dict[str, Any]
    accepted: bool
    reason: str


@dataclass(frozen=True)
class Exchange:
    """One question: the messages sent, the structured answer (or the error), its cost."""

    task: str
    prompt_version: str
    messages: tuple[ChatMessage, ...]
    answer: dict[str, Any] | None
    error: str | None
    usage: Usage
    latency_ms: int
    mode: str | None = None
    attempts: int = 0
    verdicts: tuple[ProposalVerdict, ...] = ()


@dataclass
class Transcript:
    """A generation session: the model, whether the material was redacted, the exchanges, and
    what stopped the planner early (``stopped``: open circuit, token budget, deadline)."""

    model: str
    redacted: bool
    exchanges: list[Exchange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Questions not asked, each with the reason."""
    stopped: str | None = None
    combined: str | None = None
    """Why the accepted proposals were dropped together (the final proof), if they were."""

    @property
    def usage(self) -> Usage:
        return Usage(
            sum(e.usage.prompt_tokens for e in self.exchanges),
            sum(e.usage.completion_tokens for e in self.exchanges),
        )

    @property
    def latency_ms(self) -> int:
        return sum(e.latency_ms for e in self.exchanges)

    @property
    def verdicts(self) -> list[ProposalVerdict]:
        return [verdict for exchange in self.exchanges for verdict in exchange.verdicts]

    @property
    def accepted(self) -> list[ProposalVerdict]:
        return [v for v in self.verdicts if v.accepted] if self.combined is None else []

    @property
    def failed(self) -> int:
        return sum(1 for exchange in self.exchanges if exchange.error is not None)

    def summary(self) -> dict[str, Any]:
        """Counts for status lines and artifacts (no sample content)."""
        verdicts = self.verdicts
        accepted = self.accepted
        usage = self.usage
        return {
            "model": self.model,
            "redacted": self.redacted,
            "exchanges": len(self.exchanges),
            "failed_exchanges": self.failed,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "latency_ms": self.latency_ms,
            "proposals": len(verdicts),
            "accepted": len(accepted),
            "rejected": len(verdicts) - len(accepted),
            "accepted_by_kind": dict(sorted(Counter(v.kind for v in accepted).items())),
            "skipped": list(self.skipped),
            "stopped": self.stopped,
            "combined": self.combined,
        }
