"""Anthropic prompt-cache breakpoints: which models get them, and where they go."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph import create_llm_compiler
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


# -- in the graph -------------------------------------------------------------------------


class ScriptedAnthropic(ScriptedChatModel):
    """A scripted model that says it is Anthropic's: the graph marks its prompts."""

    @property
    def _llm_type(self) -> str:
        return "anthropic-chat"


def planner_reply(messages: list[BaseMessage]) -> str | AIMessage:
    system = messages[0].text
    if "calls in your message" in system:
        call = {"name": "search", "args": {"query": "x"}, "id": "c1", "type": "tool_call"}
        return AIMessage("", tool_calls=[call])
    return '1. search("x")\n2. join()<END_OF_PLAN>'


def marks(message: BaseMessage) -> int:
    content = message.content
    return 0 if isinstance(content, str) else sum("cache_control" in b for b in content)


def run_thread(
    model_class: type[ScriptedChatModel], plan_format: str, **settings: Any
) -> tuple[ScriptedChatModel, ScriptedChatModel]:
    @tool
    def search(query: str) -> str:
        """Search."""
        return f"found {query}"

    planner = model_class(responses=planner_reply)
    joiner = model_class(responses=lambda m: "Thought: ok.\nAction: Finish(done)")
    app = create_llm_compiler(
        planner,
        [search],
        joiner_model=joiner,
        checkpointer=InMemorySaver(),
        plan_format=plan_format,
        **settings,
    )
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    for question in ("first question?", "second question?"):
        app.invoke({"messages": [HumanMessage(question)]}, config)
    return planner, joiner


@pytest.mark.parametrize("plan_format", ["text", "tool_calls"])
def test_anthropic_prompts_carry_breakpoints_at_the_system_prompt_and_the_conversation(
    plan_format: str,
) -> None:
    planner, joiner = run_thread(ScriptedAnthropic, plan_format)
    first, second = planner.calls
    assert [marks(m) for m in first] == [1, 0]  # system; no conversation yet; question
    # Question 2: system, question 1, answer 1 (the end of the conversation), question 2.
    assert [marks(m) for m in second] == [1, 0, 1, 0]
    assert second[2].text == "done" and second[0].text == first[0].text
    for prompt in joiner.calls:
        assert [marks(m) for m in prompt] == [1, 0]


@pytest.mark.parametrize("plan_format", ["text", "tool_calls"])
def test_other_providers_and_the_setting_off_leave_the_messages_alone(plan_format: str) -> None:
    for model_class, settings in (
        (ScriptedChatModel, {}),
        (ScriptedAnthropic, {"cache_breakpoints": False}),
    ):
        planner, joiner = run_thread(model_class, plan_format, **settings)
        for prompt in [*planner.calls, *joiner.calls]:
            assert all(isinstance(m.content, str) for m in prompt)
