"""A small OpenAI-protocol server on loopback: ``POST /v1/chat/completions``.

It answers like an OpenAI-compatible server (vLLM, Ollama, llama.cpp): JSON completions, or
server-sent-event chunks when ``stream`` is true, with a usage chunk when the client asks for
``stream_options.include_usage``. Replies come from a responder callable that sees the request's
messages; every request is recorded with the time each chunk was sent.

A responder may return a :class:`Reply` with tool calls. They stream as OpenAI and vLLM stream
``delta.tool_calls``: the first chunk of a call carries its ``index``, ``id``, ``type`` and
``function.name`` (with empty arguments), later chunks only the ``index`` and a fragment of
``function.arguments``; the last chunk's ``finish_reason`` is ``"tool_calls"``. Arguments are
sent as given (raw text), so a test can send broken JSON.

Like OpenAI, it refuses (HTTP 400, OpenAI's message and error type) a history in which an
assistant message's tool call has no ``tool`` message answering it before the next other
message, or a ``tool`` message answers no open tool call (:func:`history_error`).
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


@dataclass(frozen=True)
class Reply:
    """A reply with text and tool calls, each ``(name, raw JSON arguments)``."""

    content: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()


Responder = Callable[[list[dict[str, Any]]], "str | Reply"]

DANGLING_TOOL_CALLS = (
    "An assistant message with 'tool_calls' must be followed by tool messages responding to "
    "each 'tool_call_id'. The following tool_call_ids did not have response messages:"
)
"""OpenAI's error message for a tool call with no result (the ids follow, comma-separated)."""

ORPHAN_TOOL_MESSAGE = (
    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
    "with 'tool_calls'."
)
"""OpenAI's error message for a tool message that answers no open tool call (sic)."""


def history_error(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the error OpenAI answers a broken tool-call history with, or ``None``."""
    open_ids: list[str] = []
    opened_at = -1
    for position, message in enumerate([*messages, {"role": "end"}]):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in open_ids:
                return _invalid(ORPHAN_TOOL_MESSAGE, position)
            open_ids.remove(message["tool_call_id"])
            continue
        if open_ids:
            return _invalid(f"{DANGLING_TOOL_CALLS} {', '.join(open_ids)}", opened_at)
        calls = (message.get("tool_calls") or []) if role == "assistant" else []
        open_ids, opened_at = [str(c.get("id")) for c in calls], position
    return None


def _invalid(text: str, position: int) -> dict[str, Any]:
    param = f"messages.[{position}].role"
    return {
        "error": {"message": text, "type": "invalid_request_error", "param": param, "code": None}
    }


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
        chunk_delay: Callable[[Any, int], float] | None = None,
    ) -> None:
        """Create the server (not started).

        Args:
            responder: Picks the reply text from the request's messages.
            chunk_delay: Seconds to wait before sending a chunk, given the reply (as the
                responder returned it) and the chunk's number (content and tool-call chunks
                counted together); simulates a model generating slowly at chosen points.
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
                if (error := history_error(request.messages)) is not None:
                    self.send_json(400, error)
                    return
                reply = fake.responder(request.messages)
                prompt_tokens = sum(len(_content(m).split()) for m in request.messages)
                deltas = _deltas(reply)
                usage = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(deltas),
                    "total_tokens": prompt_tokens + len(deltas),
                }
                if body.get("stream"):
                    self._stream(request, reply, deltas, usage)
                else:
                    self.send_json(200, _completion(body, reply, usage))
                request.finished_at = time.perf_counter()

            def _stream(
                self,
                request: Request,
                reply: str | Reply,
                deltas: list[dict[str, Any]],
                usage: dict[str, int],
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                body, ident = request.body, f"chatcmpl-{uuid.uuid4().hex[:12]}"
                for number, delta in enumerate(deltas):
                    if fake.chunk_delay is not None and (delay := fake.chunk_delay(reply, number)):
                        time.sleep(delay)  # simulated generation time
                    if number == 0:
                        delta = {"role": "assistant", **delta}
                    self._event(_chunk(body, ident, [{"index": 0, "delta": delta}]))
                    request.chunk_times.append(time.perf_counter())
                finish = "tool_calls" if isinstance(reply, Reply) and reply.tool_calls else "stop"
                stop = {"index": 0, "delta": {}, "finish_reason": finish}
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


def _call_id(number: int) -> str:
    return f"call_{number}_{uuid.uuid4().hex[:8]}"


def _deltas(reply: str | Reply) -> list[dict[str, Any]]:
    """Return the stream's deltas: text pieces, then each tool call's first chunk and fragments."""
    if isinstance(reply, str):
        return [{"content": piece} for piece in split_tokens(reply)]
    deltas: list[dict[str, Any]] = [{"content": piece} for piece in split_tokens(reply.content)]
    for index, (name, arguments) in enumerate(reply.tool_calls):
        first = {"index": index, "id": _call_id(index), "type": "function"}
        first["function"] = {"name": name, "arguments": ""}
        deltas.append({"tool_calls": [first]})
        for piece in split_tokens(arguments):
            fragment = {"index": index, "function": {"arguments": piece}}
            deltas.append({"tool_calls": [fragment]})
    return deltas


def _completion(body: dict[str, Any], reply: str | Reply, usage: dict[str, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply}
    if isinstance(reply, Reply):
        message["content"] = reply.content or None
        message["tool_calls"] = [
            {
                "id": _call_id(i),
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            for i, (name, arguments) in enumerate(reply.tool_calls)
        ]
    finish = "tool_calls" if isinstance(reply, Reply) and reply.tool_calls else "stop"
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }
