"""The LLM planner: the rules' plan, then a model's proposals for what the rules left open.

:class:`LlmPlanner` plans exactly as :class:`~engine.generator.planner.RulePlanner` does; its
:meth:`~LlmPlanner.refine` then asks, in order and only where the draft needs it: a timestamp
rule (none found), names for generic fields, extractions for poorly covered event groups, a CIM
mapping (none compliant), and the README's description of the source. Every proposal is proven
in the sandbox (:mod:`engine.generator.llm.proof`) and kept only if it does no harm and improves
its target; when the kept ones together, on the self-check's full event count, do worse than
the rules' draft, they are all dropped. A provider that fails, times out, answers nonsense or is
cut off by its circuit breaker leaves the draft exactly as the rules made it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from engine.cim.models import cim_models
from engine.generator.llm.answers import (
    CimAnswer,
    DescriptionAnswer,
    ExtractionsAnswer,
    FieldNamesAnswer,
    TimestampAnswer,
)
from engine.generator.llm.chat import ChatModel
from engine.generator.llm.material import (
    Material,
    SeenEvent,
    derived_fields,
    fit,
    poor_groups,
    rename_targets,
)
from engine.generator.llm.options import LlmOptions
from engine.generator.llm.prompts import load_prompt
from engine.generator.llm.proof import DraftSandbox, Proposal, Prover
from engine.generator.llm.proposals import (
    CimProposal,
    ExtractionProposal,
    FieldRenameProposal,
    TimestampProposal,
)
from engine.generator.llm.session import Session
from engine.generator.llm.transcript import ProposalVerdict
from engine.generator.model import AnalysisContext
from engine.generator.planner import Refinement, RulePlanner
from engine.generator.repair import Draft

MAX_PROOF_EVENTS = 5_000
"""Events each proof runs the sandbox on (the final proof runs on the self-check's count)."""
KNOWLEDGE_SHARE = 0.2
EXAMPLE_EVENTS = 12
MAX_DESCRIPTION = 1_200
MIN_DESCRIPTION = 20
_MASKED = re.compile(
    r"REDACTED|example\.(?:com|net)|\buser-\d+|\bhost-\d+|<ipv[46]-\d+>|"
    r"\b(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d+|2001:db8:"
)
_MARKUP = re.compile(r"^\s*#|\]\(|```|<[a-z/]|https?://", re.I | re.M)


class LlmPlanner(RulePlanner):
    """Rules first; a model's proven proposals on top (see the module docstring)."""

    name = "llm"

    def __init__(
        self,
        chat: ChatModel,
        *,
        options: LlmOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat = chat
        self._options = options or LlmOptions()
        self._clock = clock

    def refine(
        self, draft: Draft, *, context: AnalysisContext, sandbox: DraftSandbox, check_events: int
    ) -> Refinement:
        session = Session(self._chat, self._options, clock=self._clock)
        prover = Prover(sandbox, draft, max_events=min(MAX_PROOF_EVENTS, check_events))
        ask = _Asker(session, prover, context, self._options)
        ask.timestamps()
        ask.field_names()
        ask.extractions()
        ask.cim()
        about = ask.description()
        refined = prover.current.draft
        transcript = session.transcript
        if refined != draft and prover.current.metrics.events >= prover.max_events:
            # The proofs saw only the first events: the kept proposals together, on as many
            # events as the self-check reads, must do no worse than the rules' draft.
            rules = prover.run(draft, max_events=check_events)
            final = prover.run(refined, max_events=check_events)
            losses = final.metrics.losses(rules.metrics)
            if losses:
                transcript.combined = "; ".join(losses)
                refined, prover.notes[:] = draft, []
        return Refinement(
            draft=refined, about=about, notes=tuple(prover.notes), transcript=transcript
        )


class _Asker:
    """The questions, each built from the current (proven) draft and judged proposal by
    proposal."""

    def __init__(
        self, session: Session, prover: Prover, context: AnalysisContext, options: LlmOptions
    ) -> None:
        self.session = session
        self.prover = prover
        self.context = context
        self.options = options
        self.material = Material(
            raw=options.send_raw,
            events=prover.current.events,
            derived=derived_fields(prover.current.draft.props()),
        )
        self.budget = options.max_prompt_chars
        self.source = self.material.text(
            "; ".join(
                part
                for part in (
                    context.source_system,
                    f"sourcetype {context.sourcetype}",
                    f"format {context.format.kind}",
                    context.description,
                )
                if part
            ),
            500,
        )
        self.knowledge = (
            fit(
                (self.material.text(snippet, 2_000) for snippet in context.knowledge),
                int(self.budget * KNOWLEDGE_SHARE),
                joiner="\n---\n",
            )
            or "(none)"
        )

    @property
    def events(self) -> tuple[SeenEvent, ...]:
        return self.prover.current.events

    def _examples(self, budget: int) -> str:
        shown: list[str] = []
        for event in _spread(self.events, EXAMPLE_EVENTS):
            text = self.material.event(event)
            if text not in shown:
                shown.append(text)
        return fit(shown, budget) or "(none)"

    def _fields(self, budget: int) -> str:
        lines = [
            f"{item.name}: "
            + ", ".join(self.material.value(item.name, value) for value in item.examples)
            for item in self.prover.current.draft.fields.fields
        ]
        return fit(lines, budget) or "(none)"

    def _judge(self, proposals: Sequence[Proposal]) -> None:
        verdicts = []
        for n, proposal in enumerate(proposals):
            if n >= self.options.max_proposals:
                verdicts.append(
                    ProposalVerdict(
                        proposal.kind,
                        proposal.target,
                        proposal.record(),
                        False,
                        f"beyond the {self.options.max_proposals} proposals proven per answer",
                    )
                )
                continue
            verdicts.append(self.prover.judge(proposal))
        self.session.verdicts(verdicts)

    def timestamps(self) -> None:
        plan = self.prover.current.draft.timestamps
        if plan.time_format is not None or plan.automatic:
            return
        answer = self.session.ask(
            "timestamps",
            load_prompt("timestamps"),
            TimestampAnswer,
            source=self.source,
            events=self._examples(self.budget // 2),
            knowledge=self.knowledge,
        )
        if answer is not None:
            self._judge([TimestampProposal(answer)] if answer.found else [])

    def field_names(self) -> None:
        targets = tuple(rename_targets(self.prover.current.draft.fields, self.events))
        if not targets:
            return
        lines = [
            f"{t.id} | {t.field} | "
            + ", ".join(self.material.value(t.field, v) for v in t.values)
            + f" | {self.material.event(t.example, 240)}"
            for t in targets
        ]
        answer = self.session.ask(
            "field_names",
            load_prompt("field_names"),
            FieldNamesAnswer,
            source=self.source,
            fields=fit(lines, self.budget // 2),
            knowledge=self.knowledge,
        )
        if answer is not None:
            self._judge([FieldRenameProposal(rename, targets) for rename in answer.renames])

    def extractions(self) -> None:
        groups = tuple(poor_groups(self.events))
        if not groups:
            return
        blocks = [
            f"{group.id} ({group.size} events):\n"
            + "\n".join(self.material.event(event) for event in group.events)
            for group in groups
        ]
        answer = self.session.ask(
            "extractions",
            load_prompt("extractions"),
            ExtractionsAnswer,
            source=self.source,
            fields=", ".join(sorted(self.prover.current.metrics.fields)) or "(none)",
            groups=fit(blocks, self.budget // 2, joiner="\n\n"),
            knowledge=self.knowledge,
        )
        if answer is not None:
            self._judge(
                [
                    ExtractionProposal(item, groups, n)
                    for n, item in enumerate(answer.extractions, 1)
                ]
            )

    def cim(self) -> None:
        current = self.prover.current
        metrics = current.metrics
        if current.draft.cim is None or (
            metrics.cim_tagged and metrics.cim_compliant == metrics.cim_tagged
        ):
            return
        models = [
            f"{info.model}: {' | '.join('+'.join(group) for group in info.tags)}; "
            f"{' '.join(info.required) or '-'}"
            for info in cim_models()
            if "." not in info.path
        ]
        answer = self.session.ask(
            "cim",
            load_prompt("cim"),
            CimAnswer,
            source=self.source,
            models="\n".join(models),
            fields=self._fields(self.budget // 4),
            events=self._examples(self.budget // 4),
            knowledge=self.knowledge,
        )
        if answer is not None:
            self._judge(
                [CimProposal(mapping, self.context.sourcetype) for mapping in answer.mappings]
            )

    def description(self) -> str:
        names = ", ".join(item.name for item in self.prover.current.draft.fields.fields)
        answer = self.session.ask(
            "description",
            load_prompt("description"),
            DescriptionAnswer,
            source=self.source,
            fields=names[:2_000] or "(none)",
            events=self._examples(self.budget // 3),
        )
        if answer is None:
            return ""
        text = " ".join(answer.description.split())
        reason = _description_problem(text)
        self.session.verdicts(
            [
                ProposalVerdict(
                    "description",
                    "README",
                    answer.model_dump(),
                    reason is None,
                    reason or "plain text of a fitting length, quoting no masked sample data",
                )
            ]
        )
        return text if reason is None else ""


def _description_problem(text: str) -> str | None:
    if not MIN_DESCRIPTION <= len(text) <= MAX_DESCRIPTION:
        return f"{len(text)} characters (wanted {MIN_DESCRIPTION}..{MAX_DESCRIPTION})"
    if _MARKUP.search(text):
        return "it holds markup or links"
    masked = _MASKED.search(text)
    if masked:
        return f"it quotes masked sample data ({masked.group(0)!r})"
    return None


def _spread(events: Sequence[SeenEvent], count: int) -> list[SeenEvent]:
    """``count`` events picked evenly over ``events``."""
    if len(events) <= count:
        return list(events)
    step = len(events) / count
    return [events[int(n * step)] for n in range(count)]
