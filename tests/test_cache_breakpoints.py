"""Anthropic prompt-cache breakpoints: which models get them, and where they go."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from llmcompiler_graph.prompt_cache import CACHE_CONTROL, mark, takes_cache_control, with_breakpoint
from llmcompiler_graph.sim import ScriptedChatModel


class FakeAnthropic(GenericFakeChatModel):
    """A chat model that says it is Anthropic's, as ``ChatAnthropic`` does."""

    @property
    def _llm_type(self) -> str:
        return "anthropic-chat"


class ChatAnthropic(GenericFakeChatModel):
    """A class named like langchain-anthropic's, whatever its ``_llm_type``."""


class BrokenType(GenericFakeChatModel):
    @property
    def _llm_type(self) -> str:
        raise RuntimeError("no type")


def fake(cls: type[GenericFakeChatModel]) -> Any:
    return cls(messages=iter([]))


def test_anthropic_models_are_recognised_by_type_or_class_and_through_bindings() -> None:
    assert takes_cache_control(fake(FakeAnthropic))
    assert takes_cache_control(fake(ChatAnthropic))
    assert takes_cache_control(fake(FakeAnthropic).bind(stop=["x"]))
    assert not takes_cache_control(fake(GenericFakeChatModel))
    assert not takes_cache_control(ScriptedChatModel(responses=["x"]))
    assert not takes_cache_control(fake(BrokenType))
    assert not takes_cache_control(object())


def test_a_text_message_becomes_one_marked_block() -> None:
    marked = with_breakpoint(SystemMessage("rules"))
    assert marked.content == [{"type": "text", "text": "rules", "cache_control": CACHE_CONTROL}]
    assert marked.text == "rules"


def test_the_last_non_empty_block_is_marked_and_the_rest_kept() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:,"}}
    message = HumanMessage(content=[{"type": "text", "text": "look"}, image, ""])
    marked = with_breakpoint(message)
    assert isinstance(marked.content, list)
    assert marked.content[0] == {"type": "text", "text": "look"}
    assert marked.content[1] == {**image, "cache_control": CACHE_CONTROL}
    assert marked.content[2] == ""
    assert message.content[1] == image  # the original is not changed


def test_nothing_to_mark_leaves_the_message_as_it_is() -> None:
    empty = AIMessage("")
    assert with_breakpoint(empty) is empty
    thinking = AIMessage(content=[{"type": "thinking", "thinking": "hm", "signature": "s"}])
    assert with_breakpoint(thinking) is thinking


def test_mark_marks_only_the_given_ends() -> None:
    messages = [SystemMessage("rules"), HumanMessage("q1"), AIMessage("a1"), HumanMessage("q2")]
    out = mark(messages, [0, 2])
    assert [isinstance(m.content, list) for m in out] == [True, False, True, False]
    assert out[1] is messages[1] and out[3] is messages[3]
