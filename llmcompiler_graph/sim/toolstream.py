"""How a scripted reply's tool calls stream, token by token, like OpenAI's and vLLM's.

Shared by :class:`~llmcompiler_graph.sim.ScriptedChatModel` (``stream_tool_calls=True``) and
the benchmark's ideal schedule, so both agree on when each call's chunks arrive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmcompiler_graph.sim.tokenizer import count_tokens, tokenize

__all__ = ["ToolCallStream", "tool_call_json", "tool_call_stream"]


def tool_call_json(name: str, args: dict[str, Any]) -> str:
    """Return the text a tool call is billed as (its name and arguments as JSON)."""
    return json.dumps({"name": name, "args": args}, sort_keys=True, default=str)


@dataclass(frozen=True)
class ToolCallStream:
    """How a reply's tool calls stream when ``stream_tool_calls`` is on (token slots, chunks).

    Text tokens come first, one chunk each; then each call: a first chunk with its id and
    name (sent after the call's name-and-punctuation tokens), then one chunk per token of
    its JSON arguments. Slot k of the reply is due at ``ttft + k / rate``.

    Attributes:
        header_slots: Per call, the token slot at which its first chunk is sent.
        header_chunks: Per call, the number (0-based) of its first chunk in the stream.
        arg_tokens: Per call, its JSON arguments split into tokens (one chunk each).
        slots: Output tokens of the reply (the last chunk, with usage, is due at slot - 1).
        chunks: Chunks in the stream, the final usage chunk included.

    """

    header_slots: tuple[int, ...]
    header_chunks: tuple[int, ...]
    arg_tokens: tuple[tuple[str, ...], ...]
    slots: int
    chunks: int


def tool_call_stream(text: str, calls: Sequence[Any]) -> ToolCallStream:
    """Lay out how ``text`` and the tool ``calls`` (dicts with name and args) stream."""
    slot = chunk = count_tokens(text)
    header_slots, header_chunks, arg_tokens = [], [], []
    for call in calls:
        pieces = tuple(tokenize(json.dumps(call["args"])))
        header = max(1, count_tokens(tool_call_json(call["name"], call["args"])) - len(pieces))
        header_slots.append(slot + header - 1)
        header_chunks.append(chunk)
        arg_tokens.append(pieces)
        slot += header + len(pieces)
        chunk += 1 + len(pieces)
    return ToolCallStream(
        tuple(header_slots), tuple(header_chunks), tuple(arg_tokens), slot, chunk + 1
    )
