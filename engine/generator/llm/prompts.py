"""Versioned prompt files: ``prompts/<name>.md``, one per question the planner asks.

A file starts with a header naming the prompt and its version, then a ``# system`` and a
``# user`` section; ``$placeholders`` (:class:`string.Template`) are filled with the redacted,
size-capped material. The version goes into every transcript, so an answer can be traced to
the exact wording that produced it; change the version whenever the wording changes.

    ---
    prompt: field_names
    version: 1
    ---
    # system
    ...
    # user
    ... $fields ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from string import Template

from engine.generator.llm.chat import ChatMessage

_HEADER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n", re.S)
_SECTION = re.compile(r"^# (system|user)\s*$", re.M)


class PromptError(ValueError):
    """A prompt file that does not have the expected shape, or material it does not take."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: Template

    @property
    def id(self) -> str:
        """``name@version``, as transcripts record it."""
        return f"{self.name}@{self.version}"

    def placeholders(self) -> set[str]:
        return set(self.user.get_identifiers())

    def render(self, **material: str) -> tuple[ChatMessage, ...]:
        """The system and user messages; every placeholder must be given, and nothing else."""
        wanted = self.placeholders()
        if set(material) != wanted:
            raise PromptError(
                f"prompt {self.id} takes {sorted(wanted)}, was given {sorted(material)}"
            )
        return (
            ChatMessage("system", self.system),
            ChatMessage("user", self.user.substitute(material)),
        )


def parse_prompt(text: str, *, source: str) -> Prompt:
    header = _HEADER.match(text)
    if header is None:
        raise PromptError(f"{source}: no '---' header with prompt and version")
    meta = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in header.group("meta").splitlines())
    )
    name, version = meta.get("prompt", ""), meta.get("version", "")
    if not name or not version:
        raise PromptError(f"{source}: the header needs 'prompt:' and 'version:'")
    parts = _SECTION.split(text[header.end() :])
    sections = dict(zip(parts[1::2], (part.strip() for part in parts[2::2]), strict=True))
    if set(sections) != {"system", "user"}:
        raise PromptError(f"{source}: needs exactly one '# system' and one '# user' section")
    return Prompt(name, version, sections["system"], Template(sections["user"]))


@lru_cache(maxsize=16)
def load_prompt(name: str) -> Prompt:
    """``prompts/<name>.md``, read once."""
    resource = files(__package__).joinpath("prompts", f"{name}.md")
    if not resource.is_file():
        raise PromptError(f"no prompt file prompts/{name}.md")
    prompt = parse_prompt(resource.read_text(encoding="utf-8"), source=f"prompts/{name}.md")
    if prompt.name != name:
        raise PromptError(f"prompts/{name}.md declares prompt {prompt.name!r}")
    return prompt
