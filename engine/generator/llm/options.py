"""How much the LLM planner may send and spend for one generation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LlmOptions:
    """Limits of one generation session (tagen builds them from its settings).

    ``send_raw``: send the samples unredacted (opt-in; redacted otherwise). ``token_budget``:
    prompt plus completion tokens the whole session may use. ``max_output_tokens``: the most one
    answer may use. ``max_prompt_chars``: the user message is cut to fit. ``deadline_s``: no new
    question is asked after this many seconds, and a question's time is capped by what is left.
    """

    send_raw: bool = False
    token_budget: int = 60_000
    max_output_tokens: int = 2_000
    max_prompt_chars: int = 24_000
    deadline_s: float = 300.0
    max_proposals: int = 12
    """Proposals of one answer that are proven (the rest are rejected unproven)."""
