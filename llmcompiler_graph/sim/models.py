"""Latency-faithful scripted chat model, its call records and prompt token counting.

:class:`ScriptedChatModel` replays scripted replies (or asks a responder
callable) and streams them token by token with a simulated time to first token
and output rate, so graphs built on it show the same overlap of streaming,
planning and tool execution as with a hosted model, deterministically and
offline. ``langchain_core``'s ``GenericFakeChatModel`` is not used because it
drops scripted tool calls when streaming and has no latency model.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import (
    BaseChatModel,
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr, field_validator, model_validator

from llmcompiler_graph.errors import ScriptExhaustedError
from llmcompiler_graph.sim.cache import CacheHit, PrefixCache, cost_with_cache
from llmcompiler_graph.sim.profiles import PROFILES, LatencyProfile, get_profile
from llmcompiler_graph.sim.replies import ReplyTurn, chunk_schedule, streamed_chunks
from llmcompiler_graph.sim.tokenizer import count_tokens, tokenize
from llmcompiler_graph.sim.toolstream import tool_call_json

__all__ = [
    "CallRecord",
    "Responder",
    "ScriptedChatModel",
    "prompt_tokens",
]


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else message.text


def prompt_tokens(messages: Sequence[BaseMessage], tools: Sequence[Any] = ()) -> int:
    """Count the input tokens of a prompt: message texts, tool calls and tool schemas."""
    total = sum(count_tokens(json.dumps(t, sort_keys=True, default=str)) for t in tools)
    for m in messages:
        total += count_tokens(_text(m))
        if isinstance(m, AIMessage):
            total += sum(count_tokens(tool_call_json(c["name"], c["args"])) for c in m.tool_calls)
    return total


@dataclass(frozen=True)
class CallRecord:
    """Timing of one model call (``time.perf_counter`` seconds), for Gantt charts."""

    index: int
    thread: str
    start: float
    first_token: float
    end: float
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    """Input tokens served from the simulated provider cache (``prompt_cache``)."""
    cache_write_tokens: int = 0
    """Input tokens written to an explicit cache (billed at its write price)."""


Responder = Callable[[list[BaseMessage]], str | AIMessage]
"""Decides a reply from the prompt; safe for concurrent calls if it is pure."""


class ScriptedChatModel(BaseChatModel):
    """Chat model that streams scripted replies with a simulated latency.

    ``responses`` is either a list of replies (``str`` or ``AIMessage``) returned
    in order, or a responder callable that picks a reply from the prompt (use it
    when calls run concurrently). Each call waits ``latency.ttft_s``, then emits
    the reply token by token at ``latency.output_tokens_per_s``; tool calls of a
    scripted ``AIMessage`` come as ``tool_call_chunks`` in the last chunk, which
    also carries ``usage_metadata``. ``profile=`` is accepted as an alias of
    ``latency=`` at construction (``BaseChatModel.profile`` is LangChain's
    capability profile, so the attribute itself is ``latency``).
    """

    responses: list[str | AIMessage] | Responder = Field(exclude=True)
    latency: LatencyProfile = Field(default=PROFILES["instant"], exclude=True)
    calls: list[list[BaseMessage]] = Field(default_factory=list, exclude=True)
    """Every prompt received, in arrival order."""
    events: list[CallRecord] = Field(default_factory=list, exclude=True)
    """Timing of every completed call, in completion order."""
    plans_for: frozenset[str] | None = Field(default=None, exclude=True)
    """The tools this script plans calls to (``None``: whatever its replies say). A graph with
    this model as its planner and none of these tools is refused by ``create_llm_compiler``,
    instead of running plans that call tools the graph does not have."""
    stream_tool_calls: bool = Field(default=False, exclude=True)
    """Stream tool calls as OpenAI and vLLM do, timed like text: each call's id and name in
    its first chunk, then its JSON arguments a token per chunk (see :func:`tool_call_stream`).
    Off: all tool calls come whole in the last chunk."""
    prompt_cache: PrefixCache | None = Field(default=None, exclude=True)
    """A simulated provider prompt cache (share one between the models of one deployment):
    each call's prompt prefix seen before is served from it, reported as ``cache_read`` in
    ``usage_metadata["input_token_details"]``, billed at the cache's price and prefilled in
    a fraction of the time. ``None``: no cache."""
    prefill_s_per_token: float = Field(default=0.0, exclude=True)
    """Prompt-processing time per input token, before the first token (seconds); a token
    served from ``prompt_cache`` takes its rules' ``prefill_share`` of it."""

    # Re-entrant: a stream closed early is finalized in its ``finally`` (which records the
    # call under this lock), and when the generator sits in a reference cycle the garbage
    # collector runs that on whatever thread allocates next, possibly one inside this lock.
    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)
    _cursor: int = PrivateAttr(default=0)

    @model_validator(mode="before")
    @classmethod
    def _profile_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("profile"), LatencyProfile | str):
            data = {**data, "latency": data["profile"]}
            del data["profile"]
        return data

    @field_validator("latency", mode="before")
    @classmethod
    def _latency_by_name(cls, value: Any) -> Any:
        return get_profile(value) if isinstance(value, str) else value

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"latency_profile": self.latency.name}

    def cost_usd(self, usage: UsageMetadata | None = None) -> float:
        """Return the cost of ``usage``, or of all completed calls if omitted.

        Tokens served from (or written to) ``prompt_cache`` are billed at its rules' prices.
        """
        rules = self.prompt_cache.rules if self.prompt_cache is not None else None
        if usage is not None:
            details = usage.get("input_token_details") or {}
            return cost_with_cache(
                self.latency,
                usage["input_tokens"],
                usage["output_tokens"],
                cached_tokens=details.get("cache_read", 0),
                written_tokens=details.get("cache_creation", 0),
                rules=rules,
            )
        with self._lock:
            events = list(self.events)
        return self.events_cost(events)

    def events_cost(self, events: Iterable[CallRecord]) -> float:
        """Return the cost of ``events``, some of this model's completed calls."""
        rules = self.prompt_cache.rules if self.prompt_cache is not None else None
        return sum(
            cost_with_cache(
                self.latency,
                e.input_tokens,
                e.output_tokens,
                cached_tokens=e.cached_tokens,
                written_tokens=e.cache_write_tokens,
                rules=rules,
            )
            for e in events
        )

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tool schemas; they are only used to count input tokens."""
        schemas: list[Any] = []
        for tool in tools:
            try:
                schemas.append(convert_to_openai_tool(tool))
            except Exception:  # unknown tool formats are kept verbatim, never fatal
                schemas.append({"name": getattr(tool, "name", repr(tool))})
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=schemas, **kwargs)

    def _begin(self, messages: list[BaseMessage], stop: list[str] | None, tools: Any) -> ReplyTurn:
        start = time.perf_counter()
        with self._lock:
            index = len(self.calls)
            self.calls.append(list(messages))
            item: str | AIMessage | None = None
            if isinstance(self.responses, list):
                if self._cursor >= len(self.responses):
                    msg = (
                        f"ScriptedChatModel script exhausted: {len(self.responses)} response(s) "
                        f"were scripted and all were consumed; call #{index + 1} has none left."
                    )
                    raise ScriptExhaustedError(msg)
                item = self.responses[self._cursor]
                self._cursor += 1
        if item is None:
            assert not isinstance(self.responses, list)
            item = self.responses(list(messages))
        reply = AIMessage(content=item) if isinstance(item, str) else item
        text = _text(reply)
        for s in stop or ():
            text = text.split(s, 1)[0] if s else text
        chunks, out = [], count_tokens(text)
        for i, call in enumerate(reply.tool_calls):
            out += count_tokens(tool_call_json(call["name"], call["args"]))
            args = json.dumps(call["args"])
            call_id = call.get("id") or f"call_{index}_{i}"
            chunks.append(tool_call_chunk(name=call["name"], args=args, id=call_id, index=i))
        inp = prompt_tokens(messages, tools or ())
        hit, share = CacheHit(inp), 1.0
        if self.prompt_cache is not None:
            hit, share = (
                self.prompt_cache.serve(messages, tools or ()),
                self.prompt_cache.rules.prefill_share,
            )
        streamed = None
        if self.stream_tool_calls and reply.tool_calls:
            streamed, out = streamed_chunks(text, reply, chunks)
        usage = UsageMetadata(input_tokens=inp, output_tokens=out, total_tokens=inp + out)
        if self.prompt_cache is not None:
            usage["input_token_details"] = {
                "cache_read": hit.cached_tokens,
                "cache_creation": hit.written_tokens,
            }
        if streamed is not None:
            last = AIMessageChunk(
                content="", id=reply.id, usage_metadata=usage, chunk_position="last"
            )
            streamed.append((out - 1, last))
        prefill = self.prefill_s_per_token * (inp - hit.cached_tokens * (1.0 - share))
        return ReplyTurn(
            index,
            start,
            tokenize(text),
            chunks,
            usage,
            reply.id,
            streamed=streamed,
            prefill_s=prefill,
            cached_tokens=hit.cached_tokens,
            cache_write_tokens=hit.written_tokens,
        )

    def _finish(self, turn: ReplyTurn, emitted: int) -> None:
        """Record the call, also when the consumer closed the stream early.

        A call cut short is billed for the tokens it streamed (with its tool-call chunks only
        if the last chunk went out), the way a server bills a cancelled stream.
        """
        thread, usage = threading.current_thread().name, turn.usage
        if turn.streamed is not None:
            complete = emitted >= len(turn.streamed)
            sent = turn.streamed[emitted - 1][0] + 1 if emitted else 0
            out = usage["output_tokens"] if complete else sent
        else:
            complete = emitted >= max(len(turn.text_tokens), 1)
            out = (
                usage["output_tokens"]
                if complete
                else count_tokens("".join(turn.text_tokens[:emitted]))
            )
        end, inp = time.perf_counter(), usage["input_tokens"]
        record = CallRecord(
            turn.index,
            thread,
            turn.start,
            turn.first_token,
            end,
            inp,
            out,
            turn.cached_tokens,
            turn.cache_write_tokens,
        )
        with self._lock:
            self.events.append(record)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        turn = self._begin(messages, stop, kwargs.get("tools"))
        emitted = 0
        try:
            for deadline, chunk in chunk_schedule(turn, self.latency):
                if (delay := deadline - time.perf_counter()) > 0:
                    time.sleep(delay)
                turn.first_token = turn.first_token or time.perf_counter()
                if run_manager is not None:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                emitted += 1
                yield chunk
        finally:
            self._finish(turn, emitted)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        turn = self._begin(messages, stop, kwargs.get("tools"))
        emitted = 0
        try:
            for deadline, chunk in chunk_schedule(turn, self.latency):
                if (delay := deadline - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                turn.first_token = turn.first_token or time.perf_counter()
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                emitted += 1
                yield chunk
        finally:
            self._finish(turn, emitted)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Tokens are not reported to callbacks here: LangChain routes calls through
        # ``_stream`` itself whenever a streaming callback handler is attached.
        return generate_from_stream(self._stream(messages, stop, None, **kwargs))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await agenerate_from_stream(self._astream(messages, stop, None, **kwargs))
