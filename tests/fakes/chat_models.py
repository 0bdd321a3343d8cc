"""A chat model whose stream breaks: it sends some chunks, then raises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class BrokenStream(RuntimeError):
    """The failure a :class:`FaultyPlanner` raises mid-stream by default."""


class FaultyPlanner(BaseChatModel):
    """Stream ``chunks`` one by one, then raise ``error_type(error)`` (if ``error`` is set)."""

    chunks: list[str]
    error: str | None = None
    error_type: type[Exception] = BrokenStream
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "faulty-planner"

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.calls.append(list(messages))
        for chunk in self.chunks:
            yield ChatGenerationChunk(message=AIMessageChunk(content=chunk))
        if self.error is not None:
            raise self.error_type(self.error)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(c.message.text for c in self._stream(messages, stop, None, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class ChunkedToolCalls(BaseChatModel):
    """Stream exactly the given ``tool_call_chunks`` groups, one message chunk per group.

    Each group is a list of LangChain ``ToolCallChunk`` dicts; ``bind_tools`` is accepted (and
    ignored), so the graph can use it as a tool-calling planner with any chunking a test picks.
    With ``hold_after_last`` (a ``threading.Event``), the stream sends LangChain's final
    ``chunk_position="last"`` chunk, then waits for the event before it returns, and
    ``released`` records whether the event came.
    """

    groups: list[list[dict[str, Any]]]
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    hold_after_last: Any = None
    released: list[bool] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "chunked-tool-calls"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.calls.append(list(messages))
        for group in self.groups:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=group))
        if self.hold_after_last is not None:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", chunk_position="last"))
            self.released.append(self.hold_after_last.wait(10))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("stream it: the graph always does")
