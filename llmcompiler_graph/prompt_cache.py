"""Explicit prompt-cache breakpoints for the providers that need them (Anthropic's models).

OpenAI, Gemini, vLLM and SGLang cache a repeated prompt prefix on their own; Anthropic caches
only up to a content block marked ``{"cache_control": {"type": "ephemeral"}}``, which
``langchain-anthropic`` passes through from a message's content blocks. The planner's and
joiner's prompts are ordered from the most stable part to the least (rules, tools and
examples; the conversation; the question; this turn's rounds), and :func:`mark` puts a
breakpoint at the end of the stable parts it is given (the system prompt, the conversation).

Models are recognised by their ``_llm_type`` or class name, so ``langchain-anthropic`` is
never imported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableBinding

__all__ = ["ANTHROPIC_LLM_TYPES", "CACHE_CONTROL", "mark", "takes_cache_control", "with_breakpoint"]

ANTHROPIC_LLM_TYPES = frozenset(
    {"anthropic-chat", "anthropic-chat-vertexai", "anthropic-bedrock-chat"}
)
"""``_llm_type`` of LangChain's Anthropic chat models (direct, Vertex AI, Bedrock through
``ChatAnthropic``), which take ``cache_control`` on content blocks."""

_ANTHROPIC_CLASSES = frozenset({"ChatAnthropic", "ChatAnthropicVertex"})

CACHE_CONTROL: dict[str, str] = {"type": "ephemeral"}
"""The marker put on the last content block of a stable part (a five-minute cache entry)."""


def takes_cache_control(model: object) -> bool:
    """Tell whether ``model`` (or the model a ``bind_tools`` binding wraps) is Anthropic's."""
    while isinstance(model, RunnableBinding):
        model = model.bound
    try:
        llm_type = getattr(model, "_llm_type", None)
    except Exception:  # a property that fails says nothing about the provider
        llm_type = None
    if isinstance(llm_type, str) and llm_type in ANTHROPIC_LLM_TYPES:
        return True
    return any(cls.__name__ in _ANTHROPIC_CLASSES for cls in type(model).__mro__)


def with_breakpoint(message: BaseMessage) -> BaseMessage:
    """Return a copy of ``message`` whose last content block carries a cache breakpoint.

    Text content becomes one text block; a message with no text (nothing to mark) or whose
    last block cannot carry one is returned unchanged.
    """
    content = message.content
    if isinstance(content, str):
        if not content:
            return message
        blocks: list[Any] = [{"type": "text", "text": content, "cache_control": CACHE_CONTROL}]
        return message.model_copy(update={"content": blocks})
    blocks = list(content)
    last = next((i for i in reversed(range(len(blocks))) if not _empty(blocks[i])), None)
    if last is None:
        return message
    block = blocks[last]
    if isinstance(block, str):
        block = {"type": "text", "text": block}
    if not isinstance(block, dict) or block.get("type") in ("thinking", "redacted_thinking"):
        return message  # Anthropic refuses cache_control on thinking blocks
    blocks[last] = {**block, "cache_control": CACHE_CONTROL}
    return message.model_copy(update={"content": blocks})


def _empty(block: object) -> bool:
    if isinstance(block, str):
        return not block
    return isinstance(block, dict) and block.get("type") == "text" and not block.get("text")


def mark(messages: Sequence[BaseMessage], ends: Iterable[int]) -> list[BaseMessage]:
    """Return ``messages`` with a breakpoint on each message whose index is in ``ends``."""
    wanted = set(ends)
    return [with_breakpoint(m) if i in wanted else m for i, m in enumerate(messages)]
