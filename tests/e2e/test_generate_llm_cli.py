"""`tagen generate --llm/--no-llm`: the installed command against the loopback OpenAI server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.openai_server import API_KEY, OpenAIServer

SAMPLE = "".join(
    f"2024-05-0{day} 10:00:0{day} action=success app=sshd user=u{day} src=10.0.0.{day} dest=srv\n"
    for day in range(1, 8)
)
ABOUT = "Authentication events of the Acme SSH gateway, one per login attempt."


def _run(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tagen = str(Path(sys.executable).with_name("tagen"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TAGEN_LLM_"))}
    return subprocess.run(
        [tagen, "generate", *map(str, args)],
        capture_output=True,
        text=True,
        env={**clean, "COLUMNS": "200", **env},
        timeout=120,
    )


def _sample(tmp_path: Path) -> Path:
    sample = tmp_path / "auth.log"
    sample.write_text(SAMPLE, encoding="utf-8")
    return sample


def _env(server: OpenAIServer) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": server.base_url,
        "TAGEN_LLM_MODEL": "test-model",
    }


def test_llm_without_a_configured_model_is_a_clear_usage_error(tmp_path: Path) -> None:
    done = _run(_sample(tmp_path), "--out", tmp_path / "out", "--llm", env={})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--llm: the LLM is not configured: set OPENAI_API_KEY and TAGEN_LLM_MODEL" in (
        " ".join(done.stderr.split())
    )
    assert not (tmp_path / "out").exists()
    bad = _run(_sample(tmp_path), "--out", tmp_path / "out", env={"TAGEN_LLM_MAX_RETRIES": "x"})
    assert bad.returncode == 2 and "TAGEN_LLM_MAX_RETRIES" in bad.stderr


def test_llm_asks_the_configured_server_and_prints_the_transcript_summary(
    tmp_path: Path,
) -> None:
    with OpenAIServer().running() as server:
        server.answer("DescriptionAnswer", {"description": ABOUT})
        done = _run(_sample(tmp_path), "--out", tmp_path / "out", "--llm", env=_env(server))
        asked = len(server.chat_bodies())
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"LLM test-model (redacted samples): {asked} questions (0 failed)" in done.stdout
    assert "kept description README" in done.stdout
    readme = next((tmp_path / "out").glob("*/README.md")).read_text(encoding="utf-8")
    assert ABOUT in readme


def test_no_llm_never_asks_and_the_default_asks_when_configured(tmp_path: Path) -> None:
    with OpenAIServer().running() as server:
        rules = _run(
            _sample(tmp_path), "--out", tmp_path / "a", "--no-llm", "--json", env=_env(server)
        )
        assert server.chat_bodies() == []
        default = _run(_sample(tmp_path), "--out", tmp_path / "b", "--json", env=_env(server))
        assert server.chat_bodies()
    assert (
        json.loads(rules.stdout)["planner"] == "rules" and json.loads(rules.stdout)["llm"] is None
    )
    summary = json.loads(default.stdout)
    assert summary["planner"] == "llm" and summary["llm"]["redacted"] is True
    assert (
        summary["llm"]["exchanges"] == len(summary["llm"]["verdicts"])
        or summary["llm"]["exchanges"] >= 1
    )
