"""A small OpenAI-protocol server on loopback: ``POST /v1/chat/completions``.

It answers like an OpenAI-compatible server (vLLM, Ollama, llama.cpp): JSON completions, or
server-sent-event chunks when ``stream`` is true, with a usage chunk when the client asks for
``stream_options.include_usage``. Replies come from a responder callable that sees the request's
messages; every request is recorded with the time each chunk was sent.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakes.loopback import LoopbackServer, QuietHandler

Responder = Callable[[list[dict[str, Any]]], str]


@dataclass
class Request:
    """One chat-completions request as the fake saw it."""

    body: dict[str, Any]
    headers: dict[str, str]
    chunk_times: list[float] = field(default_factory=list)  # perf_counter of each SSE chunk
    finished_at: float = 0.0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def text(self, role: str) -> str:
        """Return the text of all messages with this role, joined."""
        return "\n".join(_content(m) for m in self.messages if m.get("role") == role)


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def split_tokens(text: str) -> list[str]:
    """Split text into small pieces (about a word each), keeping every character."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in " \n" or len(current) >= 6:
            pieces.append(current)
            current = ""
    return [*pieces, current] if current else pieces


class FakeOpenAIServer(LoopbackServer):
    """Serve chat completions from ``responder`` on ``127.0.0.1`` at a free port."""

    def __init__(
        self,
        responder: Responder,
        *,
        chunk_delay: Callable[[str, int], float] | None = None,
    ) -> None:
        """Create the server (not started).

        Args:
            responder: Picks the reply text from the request's messages.
            chunk_delay: Seconds to wait before sending a chunk, given the reply and the
                chunk's number; simulates a model generating slowly at chosen points.
        """
        self.responder = responder
        self.chunk_delay = chunk_delay
        self.requests: list[Request] = []
        super().__init__(self._handler())

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                if not self.path.endswith("/chat/completions"):
                    self.send_json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(self.read_body() or b"{}")
                request = Request(body, {k.lower(): v for k, v in self.headers.items()})
                fake._record(request)
                reply = fake.responder(request.messages)
                prompt_tokens = sum(len(_content(m).split()) for m in request.messages)
                pieces = split_tokens(reply)
                usage = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(pieces),
                    "total_tokens": prompt_tokens + len(pieces),
                }
                if body.get("stream"):
                    self._stream(request, reply, pieces, usage)
                else:
                    self.send_json(200, _completion(body, reply, usage))
                request.finished_at = time.perf_counter()

            def _stream(
                self, request: Request, reply: str, pieces: list[str], usage: dict[str, int]
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                body, ident = request.body, f"chatcmpl-{uuid.uuid4().hex[:12]}"
                for number, piece in enumerate(pieces):
                    if fake.chunk_delay is not None and (delay := fake.chunk_delay(reply, number)):
                        time.sleep(delay)  # simulated generation time
                    delta: dict[str, Any] = {"content": piece}
                    if number == 0:
                        delta["role"] = "assistant"
                    self._event(_chunk(body, ident, [{"index": 0, "delta": delta}]))
                    request.chunk_times.append(time.perf_counter())
                stop = {"index": 0, "delta": {}, "finish_reason": "stop"}
                self._event(_chunk(body, ident, [stop]))
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event({**_chunk(body, ident, []), "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, data: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _chunk(body: dict[str, Any], ident: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": choices,
    }


def _completion(body: dict[str, Any], reply: str, usage: dict[str, int]) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage,
    }
