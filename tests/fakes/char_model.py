"""A planner that streams its replies one character at a time, recording the ``stop`` it got."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class CharModel(BaseChatModel):
    """Reply with ``replies`` in turn (or ``reply(messages)``), one character per chunk.

    ``refuse_stop`` makes it reject a ``stop`` parameter the way some hosted models do,
    before sending anything.
    """

    replies: list[str] = Field(default_factory=list)
    reply: Callable[[list[BaseMessage]], str] | None = None
    refuse_stop: bool = False
    stops: list[list[str] | None] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "char-model"

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.stops.append(stop)
        if stop and self.refuse_stop:
            raise ValueError("Unsupported parameter: 'stop' is not supported with this model.")
        self.calls.append(list(messages))
        text = self.reply(messages) if self.reply else self.replies[len(self.calls) - 1]
        for char in text:
            yield ChatGenerationChunk(message=AIMessageChunk(content=char))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(c.message.text for c in self._stream(messages, stop, None, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
