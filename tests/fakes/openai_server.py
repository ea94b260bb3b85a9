"""An OpenAI-compatible server on loopback that the real `openai` client talks to.

Serves `POST /v1/chat/completions` with structured outputs as the API does: a strict
`json_schema` response format (refused, as OpenAI refuses it, when the schema is not strict:
every object needs `additionalProperties: false` and every property required), or
`json_object` with a `schema` (llama.cpp's form); `json_schema=False` plays a server without
structured outputs (llama.cpp's refusal), `max_completion_tokens=False` one that predates that
parameter (it refuses it and takes `max_tokens`). Answers are scripted per schema name with
`answer()` (a dict is sent as the JSON content, a str as-is, e.g. not JSON, a callable is given the
request's body and returns either); unscripted questions get the smallest instance of their
schema (nothing proposed). `POST /v1/embeddings` answers with
deterministic vectors (float or base64, `dimensions`). Failures are queued per route with
`script()`: `error(429)`, `error(500)`, `Answer.raw(b"<html>")` (not JSON), `slow(seconds)`
(longer than the client's timeout), `Answer(drop=True)` (connection closed).

    with OpenAIServer().running() as server:
        client = OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)

`python -m tests.fakes.openai_server [--script FILE.json]` runs it standalone on a free loopback
port (the JSON maps schema names to lists of answers), e.g. to try `tagen generate --llm` by hand.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import struct
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from storage.vectors import HashingEmbedder
from tests.fakes.loopback import Answer, LoopbackServer, Recorded

API_KEY = "sk-test-loopback"
EMBEDDINGS = r"/v1/embeddings"
CHAT = r"/v1/chat/completions"
DEFAULT_DIMENSIONS = 64
Scripted = dict[str, Any] | str | Callable[[dict[str, Any]], dict[str, Any] | str]


def error(status: int, message: str = "scripted failure", kind: str = "server_error") -> Answer:
    """An answer in the API's error shape (the client raises the matching APIStatusError)."""
    return Answer.json({"error": {"message": message, "type": kind, "code": None}}, status=status)


def slow(seconds: float) -> Answer:
    return Answer.json({}, delay=seconds)


def smallest_instance(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """The least a schema accepts: empty arrays and strings, zero, false."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return smallest_instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return smallest_instance(schema["anyOf"][0], defs)
    kind = schema.get("type")
    if kind == "object":
        return {
            name: smallest_instance(sub, defs) for name, sub in schema.get("properties", {}).items()
        }
    return {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}.get(str(kind))


def strict_problem(schema: dict[str, Any], path: str = "") -> str | None:
    """Why OpenAI would refuse ``schema`` in strict mode (None: it would not)."""
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return f"In context=({path}), 'additionalProperties' is required to be false"
        if sorted(schema.get("required", [])) != sorted(properties):
            return (
                f"In context=({path}), 'required' is required to be supplied and to be an "
                "array including every key in properties"
            )
        for name, sub in properties.items():
            found = strict_problem(sub, f"{path}'{name}'")
            if found:
                return found
    for sub in [schema.get("items") or {}, *schema.get("anyOf", [])]:
        found = strict_problem(sub, path) if sub else None
        if found:
            return found
    for sub in schema.get("$defs", {}).values():
        found = strict_problem(sub, path)
        if found:
            return found
    return None


class OpenAIServer(LoopbackServer):
    def __init__(
        self,
        *,
        dimensions: int = DEFAULT_DIMENSIONS,
        json_schema: bool = True,
        max_completion_tokens: bool = True,
    ) -> None:
        super().__init__()
        self.dimensions = dimensions
        self.json_schema = json_schema
        self.max_completion_tokens = max_completion_tokens
        self._answers: dict[str, deque[Scripted]] = defaultdict(deque)
        self._answers_lock = threading.Lock()
        self.route("POST", EMBEDDINGS, self._embeddings)
        self.route("POST", CHAT, self._chat)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def answer(self, schema: str, *contents: Scripted) -> None:
        """Answer the next questions whose response schema is named ``schema`` with
        ``contents``, in order."""
        with self._answers_lock:
            self._answers[schema].extend(contents)

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of every chat completion request received."""
        return [r.body for r in self.calls("/v1/chat/completions") if isinstance(r.body, dict)]

    def _authorized(self, request: Recorded) -> bool:
        return request.headers.get("authorization") == f"Bearer {API_KEY}"

    def _chat(self, request: Recorded, _: re.Match[str]) -> Answer:
        if not self._authorized(request):
            return error(401, "Incorrect API key provided", "invalid_request_error")
        body: dict[str, Any] = request.body or {}
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(400, "'messages' must be a non-empty array", "invalid_request_error")
        if "max_completion_tokens" in body and not self.max_completion_tokens:
            return error(
                400,
                "Unrecognized request argument supplied: max_completion_tokens",
                "invalid_request_error",
            )
        response_format = body.get("response_format") or {"type": "text"}
        kind = response_format.get("type")
        if kind == "json_schema":
            if not self.json_schema:
                return error(
                    400,
                    'response_format type must be one of "text" or "json_object", but got: '
                    "json_schema",
                    "invalid_request_error",
                )
            spec = response_format.get("json_schema") or {}
            schema, name = spec.get("schema") or {}, str(spec.get("name") or "")
            problem = strict_problem(schema) if spec.get("strict") else None
            if problem:
                return error(
                    400,
                    f"Invalid schema for response_format '{name}': {problem}.",
                    "invalid_request_error",
                )
        elif kind == "json_object":
            schema = response_format.get("schema") or {}
            name = str(schema.get("title") or "")
        else:
            return error(400, "this fake answers structured outputs only", "invalid_request_error")
        with self._answers_lock:
            queued = self._answers.get(name)
            scripted = queued.popleft() if queued else None
        if callable(scripted):
            scripted = scripted(body)
        if scripted is None:
            scripted = smallest_instance(schema)
        content = scripted if isinstance(scripted, str) else json.dumps(scripted)
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
        completion_tokens = len(content) // 4 + 1
        return Answer.json(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    def _embeddings(self, request: Recorded, _: re.Match[str]) -> Answer:
        if not self._authorized(request):
            return error(401, "Incorrect API key provided", "invalid_request_error")
        body: dict[str, Any] = request.body or {}
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return error(400, "'input' must be a string or an array of strings", "invalid_request")
        if any(not text for text in texts):
            return error(400, "'$.input' is invalid: empty string", "invalid_request_error")
        dimensions = int(body.get("dimensions") or self.dimensions)
        vectors = HashingEmbedder(dimensions).embed(texts)  # similar texts, close vectors
        encode = body.get("encoding_format", "float")
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": (
                    base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                    if encode == "base64"
                    else vector
                ),
            }
            for index, vector in enumerate(vectors)
        ]
        tokens = sum(len(text.split()) for text in texts)
        return Answer.json(
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def main() -> None:
    """Serve on loopback until interrupted, printing what a client needs."""
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", help="JSON: schema name -> list of answers")
    parser.add_argument("--no-json-schema", action="store_true", help="play llama.cpp")
    args = parser.parse_args()
    server = OpenAIServer(json_schema=not args.no_json_schema)
    if args.script:
        with open(args.script, encoding="utf-8") as handle:
            for name, answers in json.load(handle).items():
                server.answer(name, *answers)
    with server.running():
        print(f"OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY={API_KEY}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
