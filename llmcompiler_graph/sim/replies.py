"""A scripted reply laid out as timed chunks, the way a hosted model streams it.

Holds :class:`ReplyTurn` (one call's reply: text tokens, tool-call chunks, usage),
:func:`streamed_chunks` (a reply whose tool calls stream, OpenAI/vLLM style) and
:func:`chunk_schedule` (when each chunk is due under a latency profile), used by
:class:`~llmcompiler_graph.sim.ScriptedChatModel`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import ToolCallChunk, tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from llmcompiler_graph.sim.profiles import LatencyProfile
from llmcompiler_graph.sim.tokenizer import tokenize
from llmcompiler_graph.sim.toolstream import tool_call_stream

__all__ = ["ReplyTurn", "chunk_schedule", "streamed_chunks"]


@dataclass
class ReplyTurn:
    """One model call's reply, ready to stream, and when its first token went out."""

    index: int
    start: float
    text_tokens: list[str]
    tool_chunks: list[ToolCallChunk]
    usage: UsageMetadata
    message_id: str | None
    first_token: float = 0.0
    streamed: list[tuple[int, AIMessageChunk]] | None = None
    """With ``stream_tool_calls``: every chunk with the token slot it is due at."""
    prefill_s: float = 0.0
    """Prompt-processing time before the time to first token (what the cache did not serve)."""
    cached_tokens: int = 0
    cache_write_tokens: int = 0


def streamed_chunks(
    text: str, reply: AIMessage, whole: list[ToolCallChunk]
) -> tuple[list[tuple[int, AIMessageChunk]], int]:
    """Return the chunks of a reply whose tool calls stream (all but the last) and its slots."""
    layout = tool_call_stream(text, reply.tool_calls)
    chunks = [(k, AIMessageChunk(content=t, id=reply.id)) for k, t in enumerate(tokenize(text))]
    for i, call in enumerate(whole):
        slot = layout.header_slots[i]
        head = tool_call_chunk(name=call["name"], args="", id=call["id"], index=i)
        chunks.append((slot, AIMessageChunk(content="", id=reply.id, tool_call_chunks=[head])))
        for k, piece in enumerate(layout.arg_tokens[i], start=1):
            fragment = tool_call_chunk(name=None, args=piece, id=None, index=i)
            message = AIMessageChunk(content="", id=reply.id, tool_call_chunks=[fragment])
            chunks.append((slot + k, message))
    return chunks, layout.slots


def chunk_schedule(
    turn: ReplyTurn, latency: LatencyProfile
) -> Iterator[tuple[float, ChatGenerationChunk]]:
    """Yield ``(deadline, chunk)``; token k is due at start + prefill + ttft + k / rate."""
    rate, n_out = latency.output_tokens_per_s, turn.usage["output_tokens"]
    step = 1.0 / rate if rate > 0 else 0.0
    base = turn.start + turn.prefill_s + latency.ttft_s
    if turn.streamed is not None:
        for slot, message in turn.streamed:
            yield base + slot * step, ChatGenerationChunk(message=message)
        return
    texts = turn.text_tokens or [""]
    for k, token in enumerate(texts[:-1]):
        yield (
            base + k * step,
            ChatGenerationChunk(message=AIMessageChunk(content=token, id=turn.message_id)),
        )
    last = AIMessageChunk(
        content=texts[-1],
        id=turn.message_id,
        tool_call_chunks=turn.tool_chunks,
        usage_metadata=turn.usage,
        chunk_position="last",
    )
    yield base + max(n_out - 1, 0) * step, ChatGenerationChunk(message=last)
