"""Versioned prompt files: every one loads, names its version and renders exactly its material."""

from __future__ import annotations

from importlib.resources import files

import pytest

from engine.generator.llm.prompts import PromptError, load_prompt, parse_prompt

NAMES = sorted(
    entry.name.removesuffix(".md")
    for entry in files("engine.generator.llm").joinpath("prompts").iterdir()
    if entry.name.endswith(".md")
)


def test_the_planner_s_five_questions_have_prompt_files() -> None:
    assert NAMES == ["cim", "description", "extractions", "field_names", "timestamps"]


@pytest.mark.parametrize("name", NAMES)
def test_each_prompt_has_a_version_and_renders_its_placeholders(name: str) -> None:
    prompt = load_prompt(name)
    assert prompt.name == name and prompt.version and prompt.id == f"{name}@{prompt.version}"
    material = {key: f"<{key}>" for key in prompt.placeholders()}
    system, user = prompt.render(**material)
    assert (system.role, user.role) == ("system", "user")
    assert "JSON" in system.content  # json_object servers need the word in the messages
    assert all(f"<{key}>" in user.content for key in material) and "$" not in user.content


def test_material_must_match_the_placeholders() -> None:
    prompt = load_prompt("description")
    with pytest.raises(PromptError, match="takes"):
        prompt.render(source="x")
    with pytest.raises(PromptError, match="takes"):
        prompt.render(source="x", fields="y", events="z", extra="nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# system\nx\n# user\ny", "no '---' header"),
        ("---\nprompt: a\n---\n# system\nx\n# user\ny", "needs 'prompt:' and 'version:'"),
        ("---\nprompt: a\nversion: 1\n---\n# system\nx", "exactly one '# system'"),
    ],
)
def test_a_malformed_prompt_file_is_refused_with_its_name(text: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_prompt(text, source="prompts/a.md")
