"""A scriptable JSON-over-HTTP server on loopback: the base of the cloud-service fakes.

A fake registers routes (`METHOD /path` -> handler); each handler receives the recorded request
and returns an `Answer`. Tests can queue answers for a route with `script()` that are served,
in order, before the handler is asked again: an error status, a non-JSON body, a slow answer
(a client timeout), a connection dropped without an answer. Every request is recorded in
`requests`, so a test can check what a real client really sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    """The decoded JSON body (None when there was none or it was not JSON)."""


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    delay: float = 0.0
    """Seconds to wait before answering (longer than a client's timeout = a timeout)."""
    drop: bool = False
    """Close the connection without answering."""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, **options: Any) -> Answer:
        return cls(status=status, body=json.dumps(payload).encode(), **options)

    @classmethod
    def raw(cls, body: bytes, *, status: int = 200, content_type: str = "text/html") -> Answer:
        return cls(status=status, body=body, content_type=content_type)


Handler = Callable[[Recorded, re.Match[str]], Answer]


class LoopbackServer:
    """Routes are regular expressions on the path (without the query string)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self._httpd: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def script(self, pattern: str, *answers: Answer) -> None:
        """Serve `answers`, in order, to the next requests of the route `pattern`."""
        with self._lock:
            self._scripts[pattern].extend(answers)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _find(self, recorded: Recorded) -> tuple[str, Handler, re.Match[str]] | None:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(recorded.path)
            if method == recorded.method and match is not None:
                return pattern.pattern, handler, match
        return None

    def _dispatch(self, recorded: Recorded) -> Answer:
        with self._lock:
            self.requests.append(recorded)
            found = self._find(recorded)
            if found is None:
                return Answer.json({"error": {"message": "no such route"}}, status=404)
            pattern, handler, match = found
            queued = self._scripts.get(pattern)
            if queued:
                return queued.popleft()
        return handler(recorded, match)

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                recorded = Recorded(
                    self.command,
                    self.path.split("?", 1)[0],
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                answer = server._dispatch(recorded)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    return
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a client that gave up (timeout test) breaks the pipe: expected

        httpd = Server(("127.0.0.1", 0), RequestHandler)
        httpd.daemon_threads = True  # a hanging scripted answer must not block shutdown
        self._httpd = httpd
        thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(5)
